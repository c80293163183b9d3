"""Lambda handler of the orders API: places orders on either workflow, shows an order's state,
and takes an approver's decision."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from shared import openapi as shared_openapi
from shared.routes import JSON_MEDIA_TYPE

from orchestration import adapters, logic, orders
from orchestration.errors import (
    BodyTooLargeError,
    InvalidOrderError,
    MalformedBodyError,
    NoPendingApprovalError,
    OrchestrationError,
    OrderConflictError,
    OrderNotFoundError,
    UnsupportedMediaTypeError,
)
from orchestration.models import ApprovalDecision, ErrorBody, OrderView, PlaceOrder

API_TITLE = "Orders API"
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "Orchestration pattern: place an order and one saga fulfils it, on Step Functions or on a "
    "Lambda durable function (`workflow`); follow it with GET; an order over the approval "
    "threshold waits for a decision. Errors are JSON `{message, errors?}`."
)

#: Domain error -> HTTP status: the one place where the API decides what each failure means.
ERROR_STATUS: dict[type[OrchestrationError], HTTPStatus] = {
    InvalidOrderError: HTTPStatus.UNPROCESSABLE_ENTITY,
    OrderConflictError: HTTPStatus.CONFLICT,
    OrderNotFoundError: HTTPStatus.NOT_FOUND,
    NoPendingApprovalError: HTTPStatus.CONFLICT,
    UnsupportedMediaTypeError: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    MalformedBodyError: HTTPStatus.BAD_REQUEST,
    BodyTooLargeError: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
}
#: Statuses of a request body the API does not read, on every route that takes one.
_BODY_ERRORS = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    HTTPStatus.UNPROCESSABLE_ENTITY,
)
#: Methods whose routes take a JSON body: its type and raw bytes are checked before routing.
_BODY_METHODS = frozenset({"POST"})

_ORDER_ID = Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The order's id")

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)


def _error(
    status: HTTPStatus,
    message: str,
    errors: list[dict[str, Any]] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> Response:
    body = ErrorBody(message=message, errors=errors)
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json", exclude_none=True),
        headers=headers,
    )


def _errors(*statuses: HTTPStatus) -> dict[int, dict[str, Any]]:
    return {
        int(status): {
            "description": status.phrase,
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
        for status in statuses
    }


def _view(record: adapters.OrderRecord) -> OrderView:
    return OrderView(
        order_id=record.order_id,
        workflow=record.workflow,
        status=record.status,
        total_cents=record.total_cents,
        execution_id=record.execution_id,
        failure_reason=record.failure_reason,
        failure_cause=record.failure_cause,
        compensations=list(record.compensations),
    )


@app.exception_handler(OrchestrationError)
def _domain_error(error: OrchestrationError) -> Response:
    return _error(ERROR_STATUS.get(type(error), HTTPStatus.BAD_REQUEST), error.message)


@app.exception_handler(RequestValidationError)
def _validation_error(error: RequestValidationError) -> Response:
    problems = [
        {
            "location": ".".join(str(part) for part in problem["loc"]),
            "message": str(problem.get("msg", problem["type"])),
            "type": problem["type"],
        }
        for problem in error.errors()
    ]
    if any(problem["type"] == "json_invalid" for problem in problems):
        return _error(HTTPStatus.BAD_REQUEST, "request body is not valid JSON", problems)
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, "request validation failed", problems)


@app.not_found
def _not_found(_error_: NotFoundError) -> Response:
    allowed = logic.allowed_methods(app.current_event.path)
    if not allowed:
        return _error(HTTPStatus.NOT_FOUND, "no such route")
    return _error(
        HTTPStatus.METHOD_NOT_ALLOWED,
        f"this path answers only {', '.join(allowed)}",
        headers={"Allow": ", ".join(allowed)},
    )


@app.post(
    "/orders",
    summary="Place an order",
    description="Starts the order's saga on the chosen workflow and answers at once (202). "
    "Placing the same order again (same `order_id` and content) starts nothing new and "
    "answers with its current state; another order under a taken `order_id` is 409.",
    responses={
        202: {
            "description": "The saga runs (or ran) for this order",
            "content": {content_types.APPLICATION_JSON: {"model": OrderView}},
        },
        **_errors(HTTPStatus.CONFLICT, *_BODY_ERRORS),
    },
)
def place_order(request: PlaceOrder) -> Response[OrderView]:
    record = orders.place(request)
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=_view(record).model_dump(mode="json"),
        headers={"Location": f"/orders/{record.order_id}"},
    )


@app.get(
    "/orders/<order_id>",
    summary="Get an order's state",
    responses={
        200: {
            "description": "The order",
            "content": {content_types.APPLICATION_JSON: {"model": OrderView}},
        },
        **_errors(HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY),
    },
)
def get_order(order_id: Annotated[str, _ORDER_ID]) -> OrderView:
    return _view(orders.order(order_id))


@app.post(
    "/orders/<order_id>/approval",
    summary="Approve or reject an order waiting for approval",
    description="An order over the approval threshold waits for one decision until its "
    "deadline; a decision for an order that waits for none (never asked, decided already, "
    "or past its deadline) is 409.",
    responses={
        202: {
            "description": "The decision reached the saga",
            "content": {content_types.APPLICATION_JSON: {"model": OrderView}},
        },
        **_errors(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT, *_BODY_ERRORS),
    },
)
def decide(order_id: Annotated[str, _ORDER_ID], decision: ApprovalDecision) -> Response[OrderView]:
    record = orders.decide(order_id, decision)
    metrics.add_metric(
        name="OrdersApproved" if decision.approved else "OrdersRejected",
        unit=MetricUnit.Count,
        value=1,
    )
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=_view(record).model_dump(mode="json"),
    )


def openapi_document() -> dict[str, Any]:
    """This API's OpenAPI document, as served at `/openapi.json`."""
    return shared_openapi.openapi_document(
        app, title=API_TITLE, version=API_VERSION, description=API_DESCRIPTION
    )


@app.get("/openapi.json", summary="This API's OpenAPI document", include_in_schema=False)
def get_openapi() -> dict[str, Any]:
    return openapi_document()


def _raw_error(error: OrchestrationError) -> dict[str, Any]:
    """An error in the HTTP API's response format, for a body refused before routing."""
    return {
        "statusCode": int(ERROR_STATUS[type(error)]),
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": ErrorBody(message=error.message).model_dump_json(exclude_none=True),
        "isBase64Encoded": False,
    }


def _checked_body_event(event: dict[str, Any]) -> dict[str, Any]:
    """`event` once its body's type and bytes passed, its content type in the canonical form
    Powertools' parser looks for; raises `UnsupportedMediaTypeError`, `BodyTooLargeError` or
    `MalformedBodyError`."""
    sent = event.get("headers") or {}
    content_type = next((v for name, v in sent.items() if name.lower() == "content-type"), None)
    logic.check_json_content_type(content_type)
    logic.check_raw_body(event.get("body"), is_base64_encoded=event.get("isBase64Encoded", False))
    headers = {name: value for name, value in sent.items() if name.lower() != "content-type"}
    return {**event, "headers": {**headers, "content-type": JSON_MEDIA_TYPE}}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    method = event.get("requestContext", {}).get("http", {}).get("method", "").upper()
    # Only a route that reads a body has it checked; a method a path does not serve (405) or
    # an unknown path (404) is not judged by a body it will not read.
    if method in _BODY_METHODS and method in logic.allowed_methods(event.get("rawPath", "")):
        try:
            event = _checked_body_event(event)
        except (UnsupportedMediaTypeError, BodyTooLargeError, MalformedBodyError) as error:
            return _raw_error(error)
    try:
        return app.resolve(event, context)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
