"""Catalog service handler: the items for sale (GET /catalog/items), behind the gateway."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from api_gateway import logic
from api_gateway.contract import Backend
from api_gateway.http import cors_headers

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()
app.use(middlewares=[cors_headers])


@app.get("/catalog/items")
@tracer.capture_method
def list_items() -> dict[str, Any]:
    category = app.current_event.get_query_string_value("category")
    items = logic.list_catalog(category)
    return {
        "backend": Backend.CATALOG.value,
        "items": [item.model_dump(mode="json") for item in items],
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
