"""Lambda handler of the ledger API: commands in (validated, decided against the current state,
appended atomically), state and history out (from snapshots plus events)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from shared import openapi as shared_openapi
from shared.routes import JSON_MEDIA_TYPE, RouteTable, is_json_media_type

from event_sourcing import logic
from event_sourcing.adapters import CommandAlreadyAppliedError, EventStore, event_store
from event_sourcing.contract import ROUTES
from event_sourcing.errors import (
    AccountNotFoundError,
    CommandIdReusedError,
    LedgerError,
    MalformedBodyError,
    RuleViolatedError,
    VersionConflictError,
)
from event_sourcing.models import (
    ACCOUNT_ID_PATTERN,
    AccountBody,
    Command,
    CommandRecord,
    CommandResult,
    ErrorBody,
    EventBody,
    EventPage,
    Loaded,
    Status,
    StoredEvent,
)
from event_sourcing.settings import store_settings

API_TITLE = "Accounts ledger API"
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "Event sourcing pattern: commands on accounts (open, deposit, withdraw, close) are decided "
    "against the account's current state and appended as events, atomically and with "
    "optimistic concurrency; state is read from the latest snapshot plus the events after it, "
    "now or as of a version or a time. Bodies are JSON (`Content-Type: application/json`). "
    "Errors are JSON `{message, current_version?, errors?}`."
)

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25
#: A command is a few hundred bytes; anything much larger is not one.
MAX_BODY_BYTES = 8 * 1024

#: Domain error -> HTTP status: the one place the API decides what each failure means.
ERROR_STATUS: dict[type[LedgerError], HTTPStatus] = {
    AccountNotFoundError: HTTPStatus.NOT_FOUND,
    VersionConflictError: HTTPStatus.CONFLICT,
    RuleViolatedError: HTTPStatus.CONFLICT,
    CommandIdReusedError: HTTPStatus.CONFLICT,
    MalformedBodyError: HTTPStatus.BAD_REQUEST,
}

#: RFC 9110's names for the statuses the API documents (not `HTTPStatus.phrase`, which changed
#: between Python releases).
_STATUS_DESCRIPTIONS = {
    HTTPStatus.BAD_REQUEST: "Bad Request",
    HTTPStatus.NOT_FOUND: "Not Found",
    HTTPStatus.CONFLICT: "Conflict: the account moved on (`current_version`), an invariant "
    "would break, or the command id was used for another command",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "Content Too Large",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "Unsupported Media Type",
    HTTPStatus.UNPROCESSABLE_ENTITY: "Unprocessable Content",
    HTTPStatus.TOO_MANY_REQUESTS: "Too Many Requests (the API stage's throttle)",
}
_ANY_ROUTE = (HTTPStatus.TOO_MANY_REQUESTS,)
_BODY_ERRORS = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    HTTPStatus.UNPROCESSABLE_ENTITY,
)

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)

AccountId = Annotated[str, Path(pattern=ACCOUNT_ID_PATTERN, description="The account's id")]


def _error_response(
    status: HTTPStatus,
    message: str,
    *,
    current_version: int | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = ErrorBody(message=message, current_version=current_version, errors=errors)
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json", exclude_none=True),
        headers=headers,
    )


def _raw_error(status: HTTPStatus, message: str) -> dict[str, Any]:
    """An error in the HTTP API's response format, for failures before the resolver runs."""
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps({"message": message}),
        "isBase64Encoded": False,
    }


def _error_responses(*statuses: HTTPStatus) -> dict[int, dict[str, Any]]:
    return {
        int(status): {
            "description": _STATUS_DESCRIPTIONS[status],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
        for status in sorted({*statuses, *_ANY_ROUTE})
    }


def _json_response(description: str, model: type[Any]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {content_types.APPLICATION_JSON: {"model": model}},
    }


@app.exception_handler(LedgerError)
def _handle_domain_error(error: LedgerError) -> Response:
    current = getattr(error, "current_version", None)
    if isinstance(error, VersionConflictError):
        current = error.current
    return _error_response(
        ERROR_STATUS.get(type(error), HTTPStatus.BAD_REQUEST),
        error.message,
        current_version=current,
    )


@app.exception_handler(RequestValidationError)
def _handle_validation_error(error: RequestValidationError) -> Response:
    problems = [
        {
            "location": ".".join(
                str(part)
                for part in (
                    problem["loc"][:1] if problem["type"] == "json_invalid" else problem["loc"]
                )
            ),
            "message": str(problem.get("msg", problem["type"])),
            "type": problem["type"],
        }
        for problem in error.errors()
    ]
    if any(problem["type"] == "json_invalid" for problem in problems):
        return _error_response(
            HTTPStatus.BAD_REQUEST, "request body is not valid JSON", errors=problems
        )
    return _error_response(
        HTTPStatus.UNPROCESSABLE_ENTITY, "request validation failed", errors=problems
    )


#: The methods the API serves on a path (sorted, for an `Allow` header); empty if none.
allowed_methods = RouteTable(ROUTES).allowed_methods


@app.not_found
def _handle_not_found(_error: NotFoundError) -> Response:
    allowed = allowed_methods(app.current_event.path)
    if not allowed:
        return _error_response(HTTPStatus.NOT_FOUND, "no such route")
    return _error_response(
        HTTPStatus.METHOD_NOT_ALLOWED,
        f"this path answers only {', '.join(allowed)}",
        headers={"Allow": ", ".join(allowed)},
    )


def _store() -> EventStore:
    settings = store_settings()
    return event_store(settings.events_table_name, settings.snapshots_table_name)


def _event_body(raw: dict[str, Any]) -> EventBody:
    return EventBody.model_validate(raw)


def _replay(record: CommandRecord, account_id: str, fingerprint: str) -> CommandResult:
    """The first answer to a command sent again; a command id reused for another command is
    refused rather than answered with what the other one did."""
    if record.account_id != account_id or record.fingerprint != fingerprint:
        raise CommandIdReusedError(record.command_id)
    return CommandResult(
        account_id=account_id,
        version=record.versions[-1],
        events=[
            _event_body(logic.upcast(StoredEvent(**event)).to_json()) for event in record.events
        ],
        replayed=True,
    )


@app.post(
    "/accounts/<id>/commands",
    summary="Send a command to an account",
    description="`open` (creates the account), `deposit`, `withdraw`, `close`. Each command "
    "carries a client-chosen `command_id`: sending it again changes nothing and answers "
    "`replayed: true` with what it did. A command that would break an invariant (a balance "
    "below zero, money moving on an account that is not open, closing a non-empty account) "
    "is 409; so is one that lost a race with another command (`current_version` says where "
    "the account is now: read it, decide again, send again).",
    responses={
        200: _json_response("Applied (or, with `replayed`, applied before)", CommandResult),
        **_error_responses(HTTPStatus.CONFLICT, *_BODY_ERRORS),
    },
)
def send_command(id: AccountId, command: Annotated[Command, Body()]) -> CommandResult:
    store = _store()
    fingerprint = logic.fingerprint(id, command)
    record = store.command_record(command.command_id)
    if record is not None:
        return _replay(record, id, fingerprint)
    loaded = store.load(id)
    account = loaded.account
    if command.expected_version is not None and command.expected_version != account.version:
        raise VersionConflictError(id, expected=command.expected_version, current=account.version)
    plan = logic.plan_append(
        account,
        command,
        snapshot_version=loaded.snapshot_version,
        snapshot_interval=store_settings().snapshot_interval,
        now=datetime.now(UTC),
    )
    try:
        store.append(plan)
    except CommandAlreadyAppliedError as applied:
        return _replay(applied.record, id, fingerprint)
    except VersionConflictError:
        metrics.add_metric(name="VersionConflicts", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name="EventsAppended", unit=MetricUnit.Count, value=len(plan.events))
    if plan.snapshot is not None:
        metrics.add_metric(name="SnapshotsWritten", unit=MetricUnit.Count, value=1)
    return CommandResult(
        account_id=id,
        version=plan.state.version,
        events=[_event_body(event.to_json()) for event in plan.events],
        replayed=False,
    )


def _account_body(loaded: Loaded) -> AccountBody:
    account = loaded.account
    return AccountBody(
        account_id=account.account_id,
        version=account.version,
        status=account.status.value,  # type: ignore[arg-type]
        owner=account.owner,
        currency=account.currency,
        balance_cents=account.balance_cents,
        updated_at=account.updated_at,
        snapshot_version=loaded.snapshot_version,
        events_read=loaded.events_read,
    )


@app.get(
    "/accounts/<id>",
    summary="An account's state, now or as of a version or a time",
    description="Loaded from the latest snapshot at or before the point asked for, plus the "
    "events after it (`snapshot_version`, `events_read`). With both `version` and `as_of`, "
    "the earlier of the two; with neither, the current state.",
    responses={
        200: _json_response("The account's state", AccountBody),
        **_error_responses(HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY),
    },
)
def get_account(
    id: AccountId,
    version: Annotated[
        int | None, Query(ge=1, le=2**53, description="The state right after this version")
    ] = None,
    as_of: Annotated[
        datetime | None,
        Query(description="The state at this time (ISO 8601; without an offset, UTC)"),
    ] = None,
) -> AccountBody:
    at_time = None
    if as_of is not None:
        try:
            at_time = logic.timestamp(as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC))
        except OverflowError:
            # Within a day of year 1 or 9999, where the offset leaves the calendar: before
            # every event, or after all of them.
            at_time = "" if as_of.year == 1 else None
    loaded = _store().load(id, at_version=version, at_time=at_time)
    if loaded.account.status is Status.NEW:
        detail = f" at or before version {version}" if version else ""
        detail = f" at or before {as_of}" if as_of else detail
        raise AccountNotFoundError(id, detail=detail)
    if as_of is None and version is not None and loaded.account.version < version:
        raise AccountNotFoundError(
            id, detail=f" at version {version} (it is at {loaded.account.version})"
        )
    return _account_body(loaded)


@app.get(
    "/accounts/<id>/events",
    summary="An account's history, oldest first, one page at a time",
    responses={
        200: _json_response("One page of events, each in its current schema", EventPage),
        **_error_responses(HTTPStatus.UNPROCESSABLE_ENTITY),
    },
)
def get_events(
    id: AccountId,
    after_version: Annotated[
        int, Query(ge=0, le=2**53, description="Events after this version (0: from the first)")
    ] = 0,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size")
    ] = DEFAULT_PAGE_SIZE,
) -> EventPage:
    events, next_after = _store().history(id, after_version=after_version, limit=limit)
    return EventPage(
        events=[_event_body(logic.upcast(event).to_json()) for event in events],
        next_after_version=next_after,
    )


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of this API, as served."""
    return shared_openapi.openapi_document(
        app, title=API_TITLE, version=API_VERSION, description=API_DESCRIPTION
    )


@app.get("/openapi.json", summary="This API's OpenAPI document", include_in_schema=False)
def get_openapi() -> dict[str, Any]:
    return openapi_document()


def _checked_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """`event` with its content type normalized, or the error response for a body that is not
    JSON of a sensible size (checked before any parsing)."""
    sent = event.get("headers") or {}
    content_type = next((v for k, v in sent.items() if k.lower() == "content-type"), None)
    if not is_json_media_type(content_type):
        return _raw_error(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON, with the header Content-Type: application/json",
        )
    body = event.get("body") or ""
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
    if size > MAX_BODY_BYTES:
        return _raw_error(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"request body is {size} bytes; the limit is {MAX_BODY_BYTES} bytes",
        )
    if event.get("isBase64Encoded") and body:
        # API Gateway base64-encodes a body that is not valid UTF-8 text: not JSON, then.
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return _raw_error(HTTPStatus.BAD_REQUEST, "request body is not UTF-8 text")
    headers = {k: v for k, v in sent.items() if k.lower() != "content-type"}
    headers["content-type"] = JSON_MEDIA_TYPE
    return {**event, "headers": headers, "body": body, "isBase64Encoded": False}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    method = event.get("requestContext", {}).get("http", {}).get("method", "").upper()
    if method == "POST" and "POST" in allowed_methods(event.get("rawPath", "")):
        checked = _checked_body(event)
        if checked is None or "statusCode" in checked:
            return checked  # type: ignore[return-value]
        event = checked
    try:
        return app.resolve(event, context)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
