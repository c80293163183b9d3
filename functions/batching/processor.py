"""Processor handler: a large SQS batch in, usage records bulk-written, failures reported.

Powertools' `process_partial_response` hands a record handler one record at a time, which
would mean one DynamoDB write per record; this handler takes the whole batch at once
(validate all, one BatchGetItem per 100 keys, one BatchWriteItem per 25 records) and builds
the same `{"batchItemFailures": [...]}` response itself.
"""

from __future__ import annotations

import random
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from batching import adapters, logic
from batching.models import QueuedRecord, RecordFailure
from batching.settings import processor_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def queued_records(event: dict[str, Any]) -> list[QueuedRecord]:
    return [
        QueuedRecord(
            message_id=record.message_id,
            body=record.body,
            receive_count=int(record.attributes.approximate_receive_count),
            group_id=record.attributes.message_group_id,
            message_attributes=record.raw_event.get("messageAttributes") or {},
        )
        for record in SQSEvent(event).records
    ]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS batch in, `{"batchItemFailures": [...]}` out (ReportBatchItemFailures is on).

    A record that fails (invalid, conflicting, or not written) is reported failed and SQS
    retries it; on its last receive it is sent to the DLQ with `failure_kind` and
    `failure_reason` attributes instead, and deleted from the queue.
    """
    settings = processor_settings()
    records = queued_records(event)
    table = adapters.usage_table(settings.usage_table_name)
    report = logic.process_batch(
        records,
        fetch_fingerprints=table.fingerprints,
        write_batch=table.write,
        backoff=settings.backoff,
        sleep=time.sleep,
        random=random.random,
    )
    by_id = {record.message_id: record for record in records}
    last_chance: list[tuple[QueuedRecord, RecordFailure]] = []
    retried: list[str] = []
    for failure in report.failures:
        record = by_id[failure.message_id]
        if logic.dead_letter_now(record, max_receive_count=settings.max_receive_count):
            last_chance.append((record, failure))
        else:
            retried.append(failure.message_id)
        logger.warning(
            "record failed",
            extra={
                "message_id": failure.message_id,
                "failure_kind": failure.kind.value,
                "failure_reason": failure.reason,
                "receive_count": record.receive_count,
            },
        )
    unsent = (
        adapters.dead_letter_queue(settings.dead_letter_queue_url).send(last_chance)
        if last_chance
        else set()
    )
    retried += sorted(unsent)

    for name, value in (
        ("RecordsReceived", len(records)),
        ("RecordsWritten", len(report.written)),
        ("DuplicatesSkipped", len(report.duplicates)),
        ("RecordsFailed", len(report.failures)),
        ("RecordsDeadLettered", len(last_chance) - len(unsent)),
        ("BatchWriteCalls", report.write_calls),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info(
        "batch processed",
        extra={
            "received": len(records),
            "written": len(report.written),
            "duplicates": len(report.duplicates),
            "failed": len(report.failures),
            "dead_lettered": len(last_chance) - len(unsent),
            "batch_write_calls": report.write_calls,
        },
    )
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in retried]}
