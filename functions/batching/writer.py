"""Writer handler: a large SQS batch in, its valid items written 25 per BatchWriteItem call."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from shared.batches import chunks

from batching import adapters, logic
from batching.contract import ITEMS_DEAD_LETTERED_METRIC
from batching.errors import SendBatchRefusedError
from batching.models import ItemFailure
from batching.settings import writer_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()

#: UnprocessedItems are retried only while more than this is left of the invocation: the
#: rest is kept to dead-letter and answer, so a throttled table never times the batch out
#: (a timeout would send every record back, written ones included).
RESERVED_FOR_ANSWERING_MS = 5_000


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS batch in, `{"batchItemFailures": [...]}` out (ReportBatchItemFailures is on).

    Powertools' `BatchProcessor` handles one record at a time; this handler needs the whole
    batch at once to write it 25 items per call, so it builds the same partial response
    itself: every record whose item is not in the table is listed (and retried by SQS),
    except those on their last receive, which it sends to the DLQ with their reason.
    """
    settings = writer_settings()
    received = [
        logic.parse_record(
            record.message_id, record.body, int(record.attributes.approximate_receive_count)
        )
        for record in SQSEvent(event).records
    ]
    metrics.add_metric(name="ItemsReceived", unit=MetricUnit.Count, value=len(received))
    report = logic.write_all(
        logic.items_to_write(received),
        adapters.items_table(settings.items_table_name).batch_write,
        sleep=time.sleep,
        backoff=settings.backoff,
        may_retry=lambda: context.get_remaining_time_in_millis() > RESERVED_FOR_ANSWERING_MS,
    )
    metrics.add_metric(name="ItemsWritten", unit=MetricUnit.Count, value=report.written)
    metrics.add_metric(name="BatchWriteCalls", unit=MetricUnit.Count, value=report.calls)
    metrics.add_metric(name="UnprocessedItemsRetries", unit=MetricUnit.Count, value=report.retries)

    failures = logic.item_failures(received, report)
    last, retry = logic.on_last_receive(failures, received, settings.max_receive_count)
    dead_lettered = _dead_letter(last, {record.message_id: record.body for record in received})
    metrics.add_metric(
        name=ITEMS_DEAD_LETTERED_METRIC, unit=MetricUnit.Count, value=len(dead_lettered)
    )
    for failure in retry:
        logger.warning("item not written: SQS retries it", extra=_fields(failure))
    return {
        "batchItemFailures": [
            {"itemIdentifier": failure.message_id}
            for failure in failures
            if failure.message_id not in dead_lettered
        ]
    }


def _dead_letter(failures: list[ItemFailure], bodies: dict[str, str]) -> set[str]:
    """Send the failures to the DLQ with their reasons; the ids sent. A failure that could
    not be sent stays in `batchItemFailures`, and SQS's redrive moves it without a reason."""
    if not failures:
        return set()
    dlq = adapters.queue(writer_settings().dead_letter_queue_url)
    sent: set[str] = set()
    for batch in chunks(failures, logic.MAX_MESSAGES_PER_SEND_BATCH):
        try:
            sent |= dlq.dead_letter(batch, bodies)
        except SendBatchRefusedError:
            logger.exception("could not dead-letter items: SQS's redrive will move them")
    for failure in failures:
        if failure.message_id in sent:
            logger.error("item dead-lettered on its last receive", extra=_fields(failure))
    return sent


def _fields(failure: ItemFailure) -> dict[str, str]:
    return {"message_id": failure.message_id, "kind": failure.kind, "reason": failure.reason}
