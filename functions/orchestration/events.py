"""Event starter: an `OrderPlaced` event on the stack's bus places its order, as the API does.

EventBridge invokes this function asynchronously: an order that cannot be placed (invalid, or
another order under a taken id) fails the invocation, and after Lambda's retries the event goes
to the on-failure queue with the error, so nothing is dropped. A duplicated event starts nothing.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from orchestration import logic, orders

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """An EventBridge event whose detail is an order (with its `workflow`) in; its record out."""
    request = logic.parse_place_order(EventBridgeEvent(event).detail)
    record = orders.place(request)
    logger.info(
        "order placed from an event",
        extra={"order_id": record.order_id, "execution_id": record.execution_id},
    )
    return {"order_id": record.order_id, "status": record.status.value}
