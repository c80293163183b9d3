"""Feedback consumer handler: stores the feedback the API put on the queue (storage-first).

No function runs on the request path: API Gateway's mapping template wrote the message and
answered 202; this consumer processes it later, with partial batch responses. A message that is
not feedback, or that fails on its last receive, is put on the DLQ by the consumer with its
reason (SQS's own redrive stays the safety net, for a crashed invocation).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from api_gateway import adapters, logic
from api_gateway.settings import consumer_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def store(record: SQSRecord) -> None:
    feedback = logic.parse_feedback_message(record.body)
    stored = adapters.feedback_table(consumer_settings().feedback_table_name).put_once(feedback)
    if stored:
        metrics.add_metric(name="FeedbackStored", unit=MetricUnit.Count, value=1)
    logger.info("feedback processed", extra={"feedback_id": feedback.feedback_id, "new": stored})


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    """Store the feedback; a failure is retried by SQS, or dead-lettered here with its reason."""
    settings = consumer_settings()
    try:
        store(record)
    except Exception as error:
        receive_count = int(record.attributes.approximate_receive_count or 1)
        if not logic.dead_letter_now(
            error, receive_count=receive_count, max_receive_count=settings.max_receive_count
        ):
            raise
        # Sent before the source message is deleted: if this send fails, the error below
        # leaves the message on the queue, and SQS's redrive still catches it.
        adapters.dead_letter(
            settings.dead_letter_queue_url,
            body=record.body,
            reason=f"{type(error).__name__}: {error}",
            source_message_id=record.message_id,
        )
        metrics.add_metric(name="FeedbackDeadLettered", unit=MetricUnit.Count, value=1)
        logger.warning(
            "feedback dead-lettered", extra={"message_id": record.message_id, "reason": str(error)}
        )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
