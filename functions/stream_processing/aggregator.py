"""Aggregator handler: folds Kinesis records into a tumbling window's state and, at the end of
the window, writes each key's aggregate once and publishes the alerts due."""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor
from aws_lambda_powertools.utilities.batch import EventType as BatchEventType
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from stream_processing import adapters, logic
from stream_processing.errors import MalformedRecordError
from stream_processing.models import Reading, RejectedRecord, Window, WindowState
from stream_processing.settings import aggregator_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# Some invocations end with no metric (a final invocation that fails before writing, a
# batch that raises); Powertools would warn on each of them.
warnings.filterwarnings("ignore", "No application metrics to publish")
processor = BatchProcessor(event_type=BatchEventType.KinesisDataStreams)


@tracer.capture_method
def record_handler(record: KinesisStreamRecord) -> Reading | RejectedRecord:
    """One record's reading; a record that is not one is reported and counted, never retried.

    Raising (the on-failure queue cannot be reached) fails this record and those after it.
    """
    try:
        return logic.read_reading(record.kinesis.data)
    except MalformedRecordError as error:
        rejected = RejectedRecord(
            reason=str(error),
            shard_id=record.event_id.split(":", 1)[0],
            sequence_number=record.kinesis.sequence_number,
            partition_key=record.kinesis.partition_key,
            data=record.kinesis.data,
            event_source_arn=record.event_source_arn,
        )
        adapters.rejected_records(aggregator_settings().rejected_records_queue_url).send(rejected)
        metrics.add_metric(name="MalformedRecords", unit=MetricUnit.Count, value=1)
        logger.warning(
            "malformed record reported to the on-failure queue",
            extra={"sequence_number": rejected.sequence_number, "reason": rejected.reason},
        )
        return rejected


def fold_batch(state: WindowState, outcomes: list[tuple[Any, ...]], shard_id: str) -> WindowState:
    """`state` with the batch's records folded in, up to the first one that failed.

    Lambda checkpoints before the lowest failed sequence number and hands the records from it
    on again, with the state returned now: folding a record past it would count it twice.
    """
    for status, result, raw_record in outcomes:
        if status != "success":
            break
        if isinstance(result, RejectedRecord):
            state = logic.fold_rejected(state)
            continue
        part = logic.part_id(shard_id, raw_record["kinesis"]["sequenceNumber"])
        state = logic.fold_reading(state, result, part=part)
    return state


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Kinesis batch with tumbling-window fields in; `{"state": ..., "batchItemFailures": ...}`.

    A final invocation (`isFinalInvokeForWindow`) writes the window; if that fails it raises,
    and Lambda retries it with the same state (writing is idempotent).
    """
    settings = aggregator_settings()
    window = Window.of_event(event)
    state = WindowState.from_json(event.get("state"))
    records = event.get("Records") or []
    failures: list[dict[str, str]] = []
    if records:
        with processor(records=records, handler=record_handler, lambda_context=context):
            outcomes = processor.process()
        failures = list(processor.response()["batchItemFailures"])
        state = fold_batch(state, outcomes, window.shard_id)
        metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(records))
    if window.final and not failures:
        written = logic.write_window(
            window,
            state,
            store=adapters.aggregates_table(settings.aggregates_table_name),
            publish=adapters.alert_topic(settings.alert_topic_arn).publish,
            threshold=settings.alert_threshold,
        )
        metrics.add_metric(name="AggregatesWritten", unit=MetricUnit.Count, value=written.written)
        metrics.add_metric(name="ReplayedAggregates", unit=MetricUnit.Count, value=written.replayed)
        metrics.add_metric(name="AlertsPublished", unit=MetricUnit.Count, value=len(written.alerts))
        logger.info(
            "window written",
            extra={
                "window": {"start": window.start, "end": window.end},
                "shard_id": window.shard_id,
                "keys": len(state.aggregates),
                "written": written.written,
                "replayed": written.replayed,
                "alerts": len(written.alerts),
                "rejected_records": state.rejected,
                "terminated_early": window.terminated_early,
            },
        )
        state = WindowState()
    return {"state": state.to_json(), "batchItemFailures": failures}
