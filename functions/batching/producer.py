"""Producer handler: enqueues a list of items, ten per SendMessageBatch, grouped by tenant."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from batching import adapters, logic
from batching.contract import ITEMS_NOT_ENQUEUED_METRIC
from batching.errors import InvalidProduceRequestError
from batching.settings import producer_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Direct-invoke input `{"items": [...]}`; returns how many were enqueued and which not.

    Only the tenant of each item is checked here (it becomes the message's `MessageGroupId`);
    the writer validates the rest, as it must for any producer. Input without a valid tenant
    on every item raises `InvalidProduceRequestError` before anything is sent. Entries SQS
    failed on its side are sent again with backoff; those still failed are in `failed` (the
    invoke succeeds, so the caller learns which to send again).
    """
    try:
        messages = logic.parse_produce_request(event)
    except InvalidProduceRequestError:
        metrics.add_metric(name="RequestsRejected", unit=MetricUnit.Count, value=1)
        raise
    settings = producer_settings()
    queue = adapters.queue(settings.queue_url)
    summary = logic.send_all(messages, queue.send_batch, sleep=time.sleep, backoff=settings.backoff)
    metrics.add_metric(name="ItemsEnqueued", unit=MetricUnit.Count, value=summary.enqueued)
    # Entry-level failures do not fail the invoke: this metric is where they show.
    metrics.add_metric(
        name=ITEMS_NOT_ENQUEUED_METRIC, unit=MetricUnit.Count, value=len(summary.failed)
    )
    if summary.failed:
        logger.error("some items were not enqueued", extra={"failed": summary.failed})
    return summary.to_response()
