"""Outbox publisher: the enrichment of the pipe from the event store's stream to the event bus.
It turns each stored event (DynamoDB JSON, in the schema it was written in) into the
integration event other services read: plain JSON, in the current schema."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_sourcing import logic
from event_sourcing.projector import event_of_record

logger = Logger()
tracer = Tracer()


def integration_event(raw_record: dict[str, Any]) -> dict[str, Any]:
    """The integration event for one stream record: an id consumers deduplicate on (the
    account and version, the same however often the pipe delivers it), the event upcast."""
    event = logic.upcast(event_of_record(raw_record))
    return {"event_id": f"{event.account_id}:{event.version}", **event.to_json()}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: list[dict[str, Any]], context: LambdaContext) -> list[dict[str, Any]]:
    """The pipe's batch of stream records in, one integration event per record out, in order.

    Raising fails the batch: the pipe retries it, bisects it, and after its last retry sends
    it to the pipe's dead-letter queue; no record is dropped here.
    """
    published = [integration_event(record) for record in event]
    logger.info("integration events", extra={"event_ids": [e["event_id"] for e in published]})
    return published
