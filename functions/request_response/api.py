"""Lambda handler of the items API: routes HTTP API requests to the item logic and store."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from shared import openapi as shared_openapi
from shared.routes import JSON_MEDIA_TYPE

from request_response import idempotency, logic
from request_response.adapters import item_store
from request_response.errors import (
    BodyTooLargeError,
    CreatedItemDeletedError,
    IdempotencyKeyReusedError,
    InvalidPageTokenError,
    ItemNotFoundError,
    ItemsError,
    MalformedBodyError,
    RequestInProgressError,
    StorageUnavailableError,
    UnsupportedMediaTypeError,
    VersionConflictError,
)
from request_response.models import ErrorBody, Item, ItemCreate, ItemPage, ItemUpdate

API_TITLE = "Items API"
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "Request-response pattern: a small items resource served by one Lambda function behind "
    "an API Gateway HTTP API, stored in DynamoDB. Request bodies are JSON, sent with "
    "`Content-Type: application/json` (any letter case, any parameters); anything else is 415. "
    "Errors are JSON `{message, errors?}`."
)

#: Domain error -> HTTP status. The one place where the API decides what each failure means.
ERROR_STATUS: dict[type[ItemsError], HTTPStatus] = {
    ItemNotFoundError: HTTPStatus.NOT_FOUND,
    VersionConflictError: HTTPStatus.CONFLICT,
    RequestInProgressError: HTTPStatus.CONFLICT,
    CreatedItemDeletedError: HTTPStatus.CONFLICT,
    # The IETF Idempotency-Key draft suggests 422 for a key reused with another payload; here
    # 422 always means "this request is invalid whatever the state", which a schema-valid body
    # is not: the same request with a new key succeeds. A conflict with state is 409.
    IdempotencyKeyReusedError: HTTPStatus.CONFLICT,
    InvalidPageTokenError: HTTPStatus.BAD_REQUEST,
    MalformedBodyError: HTTPStatus.BAD_REQUEST,
    BodyTooLargeError: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    UnsupportedMediaTypeError: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    StorageUnavailableError: HTTPStatus.SERVICE_UNAVAILABLE,
}

#: RFC 9110's names for the statuses the API documents; `HTTPStatus.phrase` changed between
#: Python releases, and the committed OpenAPI document must not depend on the interpreter.
_STATUS_DESCRIPTIONS = {
    HTTPStatus.BAD_REQUEST: "Bad Request",
    HTTPStatus.NOT_FOUND: "Not Found",
    HTTPStatus.CONFLICT: "Conflict",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "Content Too Large",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "Unsupported Media Type",
    HTTPStatus.UNPROCESSABLE_ENTITY: "Unprocessable Content",
    HTTPStatus.TOO_MANY_REQUESTS: "Too Many Requests (the API stage's throttle)",
    HTTPStatus.SERVICE_UNAVAILABLE: "Service Unavailable",
}

#: Methods whose routes take a JSON body. Their content type and raw body are checked before
#: routing; other methods' bodies are never read, so they are not checked either.
_BODY_METHODS = frozenset({"POST", "PUT"})

#: Statuses every route can answer whatever the request: API Gateway's throttle, and DynamoDB
#: still throttled after the SDK's retries.
_ANY_ROUTE = (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE)
#: Statuses of a request body that is not what the API reads, on every route that takes one.
_BODY_ERRORS = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    HTTPStatus.UNPROCESSABLE_ENTITY,
)

_RESPONSE_HEADERS: dict[HTTPStatus, dict[str, Any]] = {
    HTTPStatus.SERVICE_UNAVAILABLE: {
        "Retry-After": {
            "description": "Seconds to wait before retrying; sent when the item store is busy "
            "(API Gateway's own 503 for a timed-out function has none)",
            "schema": {"type": "integer"},
        }
    }
}

_IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"  # visible ASCII: what fits in a header unquoted

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)


def _error_response(
    status: HTTPStatus,
    message: str,
    errors: list[dict[str, str]] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> Response:
    body = ErrorBody.model_validate({"message": message, "errors": errors})
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        headers = {**(headers or {}), "Retry-After": "1"}
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json", exclude_none=True),
        headers=headers,
    )


def _raw_error(status: HTTPStatus, message: str) -> dict[str, Any]:
    """An error in the HTTP API's response format, for failures before the resolver runs."""
    response = _error_response(status, message)
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(response.body),
        "isBase64Encoded": False,
    }


def _error_responses(*statuses: HTTPStatus) -> dict[int, dict[str, Any]]:
    """OpenAPI `responses` entries for the error statuses a route can answer: `statuses` plus
    the ones every route can (`_ANY_ROUTE`)."""
    responses: dict[int, dict[str, Any]] = {}
    for status in sorted({*statuses, *_ANY_ROUTE}):
        response: dict[str, Any] = {
            "description": _STATUS_DESCRIPTIONS[status],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
        if status in _RESPONSE_HEADERS:
            response["headers"] = _RESPONSE_HEADERS[status]
        responses[int(status)] = response
    return responses


def _json_response(description: str, model: type[Any]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {content_types.APPLICATION_JSON: {"model": model}},
    }


@app.exception_handler(ItemsError)
def _handle_domain_error(error: ItemsError) -> Response:
    status = ERROR_STATUS.get(type(error), HTTPStatus.BAD_REQUEST)
    return _error_response(status, error.message)


@app.exception_handler(RequestValidationError)
def _handle_validation_error(error: RequestValidationError) -> Response:
    problems = [
        {
            "location": _validation_location(problem),
            "message": _validation_message(problem),
            "type": problem["type"],
        }
        for problem in error.errors()
    ]
    if any(problem["type"] == "json_invalid" for problem in problems):
        return _error_response(HTTPStatus.BAD_REQUEST, "request body is not valid JSON", problems)
    return _error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "request validation failed", problems)


def _validation_location(problem: dict[str, Any]) -> str:
    # A JSON syntax error's loc ends with a character offset, which belongs in the message.
    parts = problem["loc"][:1] if problem["type"] == "json_invalid" else problem["loc"]
    return ".".join(str(part) for part in parts)


def _validation_message(problem: dict[str, Any]) -> str:
    # pydantic's messages name the rule ("String should have at most 100 characters");
    # `input` is never echoed, so a client's data does not travel into responses or logs.
    if problem["type"] == "json_invalid":
        reason = problem.get("ctx", {}).get("error", "invalid JSON")
        return f"{reason} at position {problem['loc'][-1]}"
    return str(problem.get("msg", problem["type"]))


@app.not_found
def _handle_not_found(_error: NotFoundError) -> Response:
    allowed = logic.allowed_methods(app.current_event.path)
    if not allowed:
        return _error_response(HTTPStatus.NOT_FOUND, "no such route")
    return _error_response(
        HTTPStatus.METHOD_NOT_ALLOWED,
        f"this path answers only {', '.join(allowed)}",
        headers={"Allow": ", ".join(allowed)},
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _caller() -> str | None:
    """The authenticated caller, once a JWT authorizer is in front; None while the API is open."""
    return app.current_event.request_context.authorizer.jwt_claim.get("sub")


def _create(payload: dict[str, Any]) -> dict[str, Any]:
    item = logic.new_item(ItemCreate.model_validate(payload), item_id=str(uuid.uuid4()), now=_now())
    item_store().put_new(item)
    metrics.add_metric(name="ItemCreated", unit=MetricUnit.Count, value=1)
    return item.model_dump(mode="json")


def _ensure_still_exists(item_id: str) -> None:
    """Raise `CreatedItemDeletedError` if the item a replayed create made was deleted since."""
    try:
        item_store().get(item_id)
    except ItemNotFoundError as error:
        raise CreatedItemDeletedError(item_id) from error


@app.post(
    "/items",
    summary="Create an item",
    description="Send an `Idempotency-Key` to make retries safe: a retry with the same key "
    "and body returns the first answer (with `Idempotent-Replayed: true`) and writes nothing; "
    "if the item it created has been deleted since, the retry is 409.",
    responses={
        201: {
            **_json_response("Created (or, with `Idempotent-Replayed`, created before)", Item),
            "headers": {
                "Location": {
                    "description": "The new item's path, `/items/{id}`",
                    "required": True,
                    "schema": {"type": "string"},
                },
                "Idempotent-Replayed": {
                    "description": "`true` when the answer is the one saved for this "
                    "`Idempotency-Key`; absent on a fresh create",
                    "schema": {"type": "string", "enum": ["true"]},
                },
            },
        },
        **_error_responses(HTTPStatus.CONFLICT, *_BODY_ERRORS),
    },
)
def create_item(
    draft: ItemCreate,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="idempotency-key",
            min_length=1,
            max_length=255,
            pattern=_IDEMPOTENCY_KEY_PATTERN,
            description="Client-chosen unique key (e.g. a UUID) that makes retries safe",
        ),
    ] = None,
) -> Response[Item]:
    payload = draft.model_dump(mode="json")
    replayed = False
    if idempotency_key is None:
        item = _create(payload)
    else:
        item, replayed = idempotency.create_once(
            key=idempotency_key,
            caller=_caller(),
            payload=payload,
            create=_create,
            lambda_context=app.lambda_context,
        )
    if replayed:
        # A saved answer must not send the client to an item that is gone: replaying it
        # would say "created" and point at a 404.
        _ensure_still_exists(item["id"])
    headers = {"Location": f"/items/{item['id']}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type=content_types.APPLICATION_JSON,
        body=item,
        headers=headers,
    )


@app.get(
    "/items",
    summary="List items, one page at a time",
    description="Items come in table order, not creation order. Follow `next_token` until it "
    "is null to see every item once.",
    responses={
        200: _json_response("One page of items", ItemPage),
        **_error_responses(HTTPStatus.UNPROCESSABLE_ENTITY),
    },
)
def list_items(
    limit: Annotated[
        int, Query(ge=1, le=logic.MAX_PAGE_SIZE, description="Page size")
    ] = logic.DEFAULT_PAGE_SIZE,
    next_token: Annotated[
        str | None,
        Query(
            pattern=logic.PAGE_TOKEN_PATTERN,
            description="`next_token` of the previous page: 22 characters of URL-safe base64",
        ),
    ] = None,
) -> ItemPage:
    start_key = logic.decode_page_token(next_token) if next_token is not None else None
    items, last_key = item_store().list_page(limit=limit, start_key=start_key)
    return ItemPage(items=items, next_token=logic.encode_page_token(last_key) if last_key else None)


def _existing_id(item_id: str) -> str:
    # Ids are UUIDs we generated: anything else cannot exist, and is not worth a read.
    if not logic.is_item_id(item_id):
        raise ItemNotFoundError(item_id)
    return item_id


@app.get(
    "/items/<id>",
    summary="Get an item",
    responses={
        200: _json_response("The item", Item),
        **_error_responses(HTTPStatus.NOT_FOUND),
    },
)
def get_item(id: str) -> Item:  # the API calls the path parameter `id`
    return item_store().get(_existing_id(id))


@app.put(
    "/items/<id>",
    summary="Replace an item's fields",
    description="Send the full new state and the `version` you read. A stale version gets "
    "409 and changes nothing: read the item again, reapply your change, and retry.",
    responses={
        200: _json_response("The item as replaced, at its new version", Item),
        **_error_responses(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT, *_BODY_ERRORS),
    },
)
def replace_item(id: str, update: ItemUpdate) -> Item:
    change = logic.plan_update(_existing_id(id), update, now=_now())
    item = item_store().replace(change)
    metrics.add_metric(name="ItemUpdated", unit=MetricUnit.Count, value=1)
    return item


@app.delete(
    "/items/<id>",
    summary="Delete an item",
    # An empty `content`: a 204 has no body (without it the document would give it one).
    responses={
        204: {"description": "Deleted", "content": {}},
        **_error_responses(HTTPStatus.NOT_FOUND),
    },
)
def delete_item(id: str) -> Response[None]:
    item_store().delete(_existing_id(id))
    metrics.add_metric(name="ItemDeleted", unit=MetricUnit.Count, value=1)
    return Response(status_code=HTTPStatus.NO_CONTENT)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of this API, as served and as committed under docs/."""
    return shared_openapi.openapi_document(
        app, title=API_TITLE, version=API_VERSION, description=API_DESCRIPTION
    )


@app.get("/openapi.json", summary="This API's OpenAPI document", include_in_schema=False)
def get_openapi() -> dict[str, Any]:
    return openapi_document()


def _checked_body_event(event: dict[str, Any]) -> dict[str, Any]:
    """`event` once its body passed the checks done before any parsing, with its content type
    normalized; raises `UnsupportedMediaTypeError`, `BodyTooLargeError` or `MalformedBodyError`.
    """
    sent = event.get("headers") or {}
    content_type = next(
        (value for name, value in sent.items() if name.lower() == "content-type"), None
    )
    logic.check_json_content_type(content_type)
    # A huge or undecodable body costs no parsing.
    logic.check_raw_body(event.get("body"), is_base64_encoded=event.get("isBase64Encoded", False))
    # Powertools picks its body parser by a case-sensitive prefix of the header, and guesses
    # JSON when there is none; the media type is decided above, so it gets the canonical name.
    headers = {name: value for name, value in sent.items() if name.lower() != "content-type"}
    headers["content-type"] = JSON_MEDIA_TYPE
    return {**event, "headers": headers}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    method = event.get("requestContext", {}).get("http", {}).get("method", "").upper()
    # Only a route that takes a body has its body checked; another method reaching a path
    # (answered 405) or an unknown path (404) is not judged by a body it will not read.
    if method in _BODY_METHODS and method in logic.allowed_methods(event.get("rawPath", "")):
        try:
            event = _checked_body_event(event)
        except ItemsError as error:
            return _raw_error(ERROR_STATUS[type(error)], error.message)
    try:
        return app.resolve(event, context)
    finally:
        # Reads emit no metric, and flushing an empty set only logs a warning.
        if metrics.metric_set:
            metrics.flush_metrics()
