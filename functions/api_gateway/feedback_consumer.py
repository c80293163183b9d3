"""Feedback consumer handler: stores the feedback the API put on the queue (storage-first).

No function runs on the request path: API Gateway's mapping template wrote the message and
answered 202; this consumer processes it later, with partial batch responses, and a message
that keeps failing lands in the queue's DLQ.
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
from api_gateway.settings import feedback_table_name

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    feedback = logic.parse_feedback_message(record.body)
    stored = adapters.feedback_table(feedback_table_name()).put_once(feedback)
    if stored:
        metrics.add_metric(name="FeedbackStored", unit=MetricUnit.Count, value=1)
    logger.info("feedback processed", extra={"feedback_id": feedback.feedback_id, "new": stored})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
