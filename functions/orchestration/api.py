"""Lambda handler of the orders API: places orders on either workflow, shows an order's state,
and takes an approver's decision."""

from __future__ import annotations

import json
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

from orchestration import adapters, orders
from orchestration.errors import (
    InvalidOrderError,
    NoPendingApprovalError,
    OrchestrationError,
    OrderConflictError,
    OrderNotFoundError,
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
}

_ORDER_ID = Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The order's id")

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)


def _error(
    status: HTTPStatus, message: str, errors: list[dict[str, Any]] | None = None
) -> Response:
    body = ErrorBody(message=message, errors=errors)
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json", exclude_none=True),
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
    return _error(HTTPStatus.NOT_FOUND, "no such route")


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
        **_errors(HTTPStatus.CONFLICT, HTTPStatus.UNPROCESSABLE_ENTITY),
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
        **_errors(HTTPStatus.NOT_FOUND),
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
        **_errors(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT, HTTPStatus.UNPROCESSABLE_ENTITY),
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


_POWERTOOLS_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def openapi_document() -> dict[str, Any]:
    """This API's OpenAPI document, as served at `/openapi.json`."""
    document = json.loads(
        app.get_openapi_json_schema(
            title=API_TITLE, version=API_VERSION, description=API_DESCRIPTION
        )
    )
    # Powertools documents a 422 of its own shape on every operation; this API answers with
    # an `ErrorBody`, as each route declares.
    generic_422 = {"$ref": "#/components/schemas/HTTPValidationError"}
    for operations in document["paths"].values():
        for operation in operations.values():
            content = operation["responses"].get("422", {}).get("content", {})
            if content.get(content_types.APPLICATION_JSON, {}).get("schema") == generic_422:
                del operation["responses"]["422"]
    for name in _POWERTOOLS_ERROR_SCHEMAS:
        document["components"]["schemas"].pop(name, None)
    return document


@app.get("/openapi.json", summary="This API's OpenAPI document", include_in_schema=False)
def get_openapi() -> dict[str, Any]:
    return openapi_document()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return app.resolve(event, context)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
