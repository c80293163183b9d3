"""The stream-processing scenario: put keyed readings (and two malformed records) on the stream,
follow them into per-window aggregates and an alert, then replay the stream from the run's first
window."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from demo import trace
from demo.cloud import Cloud
from infra import registry
from stream_processing.contract import (
    AGGREGATE_PK_PREFIX,
    OUTPUT_AGGREGATES_TABLE_NAME,
    OUTPUT_AGGREGATOR_FUNCTION_NAME,
    OUTPUT_ALERTS_QUEUE_URL,
    OUTPUT_ON_FAILURE_QUEUE_URL,
    OUTPUT_PRODUCER_FUNCTION_NAME,
    OUTPUT_STREAM_NAME,
    REJECTED_RECORD_KIND,
)

STACK = registry.pattern("stream_processing").stack_name

#: Twenty keys spread over the shard's lanes (the parallelization factor), four readings each:
#: every lane gets records, and no lane more than one batch (100) of them.
KEYS = 20
READINGS_PER_KEY = 4
#: One key's reading crosses the stack's alert threshold (100); no other reading reaches it.
HOT_VALUE = 150
#: The stack's tumbling window.
WINDOW_SECONDS = 60
#: Records that are not readings: not JSON, and a reading whose value is not a number.
MALFORMED = (b"temperature=21.5", b'{"key": "sensor", "value": "warm"}')


@dataclass(frozen=True)
class Outcome:
    readings_put: int
    put_records_calls: int
    readings_aggregated: int
    keys_aggregated: int
    alerts: int
    rejected_with_reasons: dict[str, str]
    readings_aggregated_after_replay: int
    alerts_after_replay: int
    retry_answered_with_the_first_summary: bool
    invocations: int

    @property
    def processed(self) -> int:
        return self.readings_aggregated

    @property
    def in_dead_letter_queues(self) -> int:
        return len(self.rejected_with_reasons)


def _readings(run_tag: str) -> list[dict[str, Any]]:
    readings = [
        {"key": f"sensor-{run_tag}-{n:02d}", "value": 20 + n + step / 4}
        for step in range(READINGS_PER_KEY)
        for n in range(KEYS)
    ]
    readings[-1]["value"] = HOT_VALUE
    return readings


def run(cloud: Cloud) -> Outcome:
    """Drive the deployed StreamProcessing stack through the names its outputs give."""
    trace.heading("Stream processing: producer -> Kinesis -> windowed aggregator -> DynamoDB")
    outputs = cloud.outputs(STACK)
    first_invocation = len(cloud.invocations)
    run_tag = uuid.uuid4().hex[:8]
    readings = _readings(run_tag)
    kinesis = cloud.client("kinesis")
    sqs = cloud.client("sqs")
    stream_name = outputs[OUTPUT_STREAM_NAME]
    on_failure_before = _depth(sqs, outputs[OUTPUT_ON_FAILURE_QUEUE_URL])

    _away_from_a_window_boundary()
    # Windows are whole minutes: this run's readings all fall in windows from this one on.
    first_window_start = time.time() // WINDOW_SECONDS * WINDOW_SECONDS
    with cloud.delivery_held():
        request = {"request_id": f"demo-{run_tag}", "readings": readings}
        producer = outputs[OUTPUT_PRODUCER_FUNCTION_NAME]
        trace.step(f"Invoke the producer with {len(readings)} readings of {KEYS} keys")
        put = cloud.invoke(producer, request)
        trace.line(f"-> {trace.short(put.payload or put.error, 200)}")

        trace.step("The caller retries the same request (same request_id): nothing is put again")
        retried = cloud.invoke(producer, request)
        trace.line(f"-> {trace.short(retried.payload or retried.error, 200)}")

        trace.step(f"{len(MALFORMED)} malformed records reach the stream past the producer")
        kinesis.put_records(
            StreamName=stream_name,
            Records=[
                {"Data": data, "PartitionKey": f"sensor-{run_tag}-malformed-{n}"}
                for n, data in enumerate(MALFORMED)
            ],
        )
        for data in MALFORMED:
            trace.line(data.decode())

        trace.step("The event source delivers each lane's batches, then each window's final call")
        cloud.settle()

    table = outputs[OUTPUT_AGGREGATES_TABLE_NAME]
    items = _items(cloud, table, run_tag)
    trace.step(f"Aggregates table: {len(items)} item(s) of this run (one per key and window)")
    for item in items[:5]:
        trace.line(trace.short(item))
    if len(items) > 5:
        trace.line(f"... and {len(items) - 5} more")

    alerts = _take_alerts(sqs, outputs[OUTPUT_ALERTS_QUEUE_URL], run_tag)
    trace.step(f"Alerts: {len(alerts)}")
    for alert in alerts:
        trace.line(trace.short(alert))

    rejected = _rejected(sqs, outputs[OUTPUT_ON_FAILURE_QUEUE_URL], run_tag)
    trace.step(
        f"On-failure queue: {_depth(sqs, outputs[OUTPUT_ON_FAILURE_QUEUE_URL]) - on_failure_before}"
        " message(s) of this run"
    )
    for key, reason in rejected.items():
        trace.line(f"{key}: {reason}")

    trace.step("Replay: a new event source mapping reads the stream again from this run's window")
    replay_uuid = _replay(cloud, outputs, first_window_start)
    try:
        cloud.settle()
    finally:
        _end_replay(cloud, outputs, replay_uuid)
    items_after_replay = _items(cloud, table, run_tag)
    alerts_after_replay = _take_alerts(sqs, outputs[OUTPUT_ALERTS_QUEUE_URL], run_tag)
    trace.line(
        f"readings aggregated: {_count(items)} before, {_count(items_after_replay)} after; "
        f"new alerts: {len(alerts_after_replay)}"
    )

    invocations = cloud.invocations[first_invocation:]
    trace.step("Invocations")
    trace.invocations(invocations)
    summary = put.payload if put.succeeded else {}
    return Outcome(
        readings_put=summary.get("put_count", 0),
        put_records_calls=summary.get("put_records_calls", 0),
        readings_aggregated=_count(items),
        keys_aggregated=len({item["key"] for item in items}),
        alerts=len(alerts),
        rejected_with_reasons=rejected,
        readings_aggregated_after_replay=_count(items_after_replay),
        alerts_after_replay=len(alerts_after_replay),
        retry_answered_with_the_first_summary=retried.succeeded and retried.payload == put.payload,
        invocations=len(invocations),
    )


def _away_from_a_window_boundary() -> None:
    # Windows are whole minutes of arrival time: readings put a moment before a minute ends
    # would be split over two windows, and the scenario's invocations would not be the same
    # on every run. Waiting (one run in thirty, under two seconds) keeps them in one.
    to_boundary = 60 - time.time() % 60
    if to_boundary < 2:
        time.sleep(to_boundary + 0.1)


def _items(cloud: Cloud, table: str, run_tag: str) -> list[dict[str, Any]]:
    prefix = f"{AGGREGATE_PK_PREFIX}sensor-{run_tag}-"
    items = []
    for page in (
        cloud.client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=table, ConsistentRead=True)
    ):
        for item in page["Items"]:
            if item["pk"]["S"].startswith(prefix):
                items.append(
                    {
                        "key": item["key"]["S"],
                        "window": item["window_start"]["S"],
                        **{name: float(item[name]["N"]) for name in ("count", "sum", "min", "max")},
                        "alerted": item["alerted"]["BOOL"],
                    }
                )
    return sorted(items, key=lambda item: (item["key"], item["window"]))


def _count(items: list[dict[str, Any]]) -> int:
    return int(sum(item["count"] for item in items))


def _messages(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message visible in the queue (each stays invisible for its visibility timeout)."""
    messages = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        messages.extend(batch)
    return messages


def _take_alerts(sqs: Any, queue_url: str, run_tag: str) -> list[dict[str, Any]]:
    """This run's alerts, deleted from the alerts queue once read."""
    alerts = []
    for message in _messages(sqs, queue_url):
        alert = json.loads(message["Body"])
        if alert["key"].startswith(f"sensor-{run_tag}-"):
            alerts.append(alert)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return alerts


def _rejected(sqs: Any, queue_url: str, run_tag: str) -> dict[str, str]:
    """This run's rejected records in the on-failure queue: partition key -> reason."""
    rejected = {}
    for message in _messages(sqs, queue_url):
        body = json.loads(message["Body"])
        if body.get("kind") == REJECTED_RECORD_KIND and body["partitionKey"].startswith(
            f"sensor-{run_tag}-"
        ):
            rejected[body["partitionKey"].removeprefix(f"sensor-{run_tag}-")] = body["reason"]
    return dict(sorted(rejected.items()))


def _replay(cloud: Cloud, outputs: dict[str, str], from_window_start: float) -> str:
    """Pause the stack's mapping and start another like it at the start of a window: the
    stream again from there (at a window boundary, so its windows are recomputed whole)."""
    aws_lambda = cloud.client("lambda")
    function = outputs[OUTPUT_AGGREGATOR_FUNCTION_NAME]
    (mapping,) = aws_lambda.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    aws_lambda.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    settings = {
        name: mapping[name]
        for name in (
            "BatchSize",
            "ParallelizationFactor",
            "BisectBatchOnFunctionError",
            "MaximumRetryAttempts",
            "MaximumRecordAgeInSeconds",
            "TumblingWindowInSeconds",
            "FunctionResponseTypes",
            "DestinationConfig",
        )
        if name in mapping
    }
    replay = aws_lambda.create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=mapping["EventSourceArn"],
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=from_window_start,
        **settings,
    )
    trace.line(f"mapping {mapping['UUID']} disabled; replay mapping {replay['UUID']} created")
    return replay["UUID"]


def _end_replay(cloud: Cloud, outputs: dict[str, str], replay_uuid: str) -> None:
    aws_lambda = cloud.client("lambda")
    aws_lambda.delete_event_source_mapping(UUID=replay_uuid)
    for mapping in aws_lambda.list_event_source_mappings(
        FunctionName=outputs[OUTPUT_AGGREGATOR_FUNCTION_NAME]
    )["EventSourceMappings"]:
        aws_lambda.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)


def _depth(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )
