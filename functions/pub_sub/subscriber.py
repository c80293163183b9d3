"""Subscriber handler: one module for every subscriber, applying its effect once per event."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch import EventType as BatchEventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext
from shared import aws
from shared.cache import cached

from pub_sub import adapters, logic
from pub_sub.errors import PoisonMessageError
from pub_sub.models import LedgerUpdate, OrderEvent
from pub_sub.settings import subscriber_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=BatchEventType.SQS)

#: How long an applied event is remembered. It outlasts SQS's redeliveries of one message
#: (five receives, three-minute visibility timeout) and a caller re-invoking the publisher
#: with the same events the same day; a duplicate arriving later would be applied again.
IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60

idempotency_config = IdempotencyConfig(
    event_key_jmespath="event_id",
    # A different event reusing an event_id is rejected (IdempotencyValidationError), not
    # silently taken for a duplicate.
    payload_validation_jmespath="[event_type, order_id, amount, currency]",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=IDEMPOTENCY_WINDOW_SECONDS,
)


def apply_updates(updates: Sequence[LedgerUpdate], *, event: OrderEvent) -> dict[str, Any]:
    """Write `event`'s ledger updates; run only through `apply_updates_once()`."""
    settings = subscriber_settings()
    adapters.ledger(settings.ledger_table_name).apply(updates)
    metrics.add_metric(name="EffectsApplied", unit=MetricUnit.Count, value=1)
    logger.info(
        "effect applied",
        extra={"event_id": str(event.event_id), "event_type": event.event_type.value},
    )
    return {"event_id": str(event.event_id), "updates": len(updates)}


@cached
def apply_updates_once() -> Callable[..., dict[str, Any]]:
    """`apply_updates` keyed on the event's `event_id` in the idempotency table.

    Built on first use because the persistence layer needs a client and the table name from
    the environment. Keys carry the function name (Lambda's AWS_LAMBDA_FUNCTION_NAME), so the
    three subscribers can share one table and each still applies its own effect once.
    """
    store = aws.idempotency_store(subscriber_settings().idempotency_table_name)
    return idempotent_function(
        apply_updates,
        data_keyword_argument="event",
        persistence_store=store,
        config=idempotency_config,
    )


@tracer.capture_method
def record_handler(record: SQSRecord) -> dict[str, Any]:
    """Unwrap, validate and apply one SQS record; raising fails only this record."""
    try:
        event = logic.parse_order_event(record.body)
        updates = logic.effects_for(subscriber_settings().subscriber, event)
    except PoisonMessageError:
        metrics.add_metric(name="PoisonMessages", unit=MetricUnit.Count, value=1)
        logger.exception(
            "poison message: it will reach the DLQ after its last receive",
            extra={
                "message_id": record.message_id,
                "receive_count": record.attributes.approximate_receive_count,
            },
        )
        raise
    return apply_updates_once()(updates=updates, event=event)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS batch in, `{"batchItemFailures": [...]}` out (ReportBatchItemFailures is on).

    When every record fails the processor raises instead, so the invoke counts as an error
    and Lambda backs off polling: that is an outage (table, permissions), not one bad message.
    """
    idempotency_config.register_lambda_context(context)
    # Beside EffectsApplied, this shows how many deliveries were duplicates or failed.
    metrics.add_metric(
        name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", []))
    )
    logger.append_keys(subscriber=subscriber_settings().subscriber.value)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
