"""Orders service handler: creates orders (POST /orders) and reads them back, per customer.

The gateway already verified the caller's token and scopes and validated the request; the
customer is the token's subject, which the authorizer passed as `principalId`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from api_gateway import adapters, logic
from api_gateway.contract import IDEMPOTENCY_KEY_HEADER, Backend
from api_gateway.errors import OrderError, OrderNotFoundError
from api_gateway.http import cors_headers
from api_gateway.settings import orders_table_name

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()
app.use(middlewares=[cors_headers])


def _customer() -> str:
    return str(app.current_event.request_context.authorizer.principal_id)


def _answer(status: int, body: dict[str, Any]) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"backend": Backend.ORDERS.value, **body},
    )


@app.post("/orders")
@tracer.capture_method
def create_order() -> Response:
    request = logic.parse_order_request(app.current_event.json_body)
    key = app.current_event.headers.get(IDEMPOTENCY_KEY_HEADER) or ""
    order = logic.new_order(request, customer=_customer(), idempotency_key=key)
    existing = adapters.orders_table(orders_table_name()).put_new(order)
    if existing is not None:
        return _answer(200, logic.replayed_order(order, existing).to_response())
    metrics.add_metric(name="OrdersCreated", unit=MetricUnit.Count, value=1)
    return _answer(201, order.to_response())


@app.get("/orders/<order_id>")
@tracer.capture_method
def get_order(order_id: str) -> Response:
    order = adapters.orders_table(orders_table_name()).get(order_id)
    if order is None or order.customer != _customer():
        raise OrderNotFoundError(f"no order {order_id}")
    return _answer(200, order.to_response())


@app.exception_handler(OrderError)
def _order_error(error: OrderError) -> Response:
    return _answer(error.status, {"message": str(error)})


@app.exception_handler(ValidationError)
def _invalid_order(error: ValidationError) -> Response:
    # Only a client bypassing the gateway's model reaches this: the service keeps its own rules.
    errors = [{"field": ".".join(map(str, e["loc"])), "error": e["msg"]} for e in error.errors()]
    return _answer(400, {"message": "invalid order", "errors": errors})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
