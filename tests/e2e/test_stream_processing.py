"""Stream processing end to end on localcloud: every record is aggregated or in the on-failure
queue with its reason, a transient failure heals on Lambda's retry, each key stays in order."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodb.exceptions import ConditionalCheckFailed
from moto.dynamodb.models import DynamoDBBackend

from localcloud import LocalCloud
from stream_processing import contract
from tests.synth import CloudAssembly

STACK = "StreamProcessing"


@pytest.fixture(scope="module")
def cloud(dev_assembly: CloudAssembly) -> Iterator[LocalCloud]:
    """The StreamProcessing stack alone, deployed once for this module's tests."""
    with LocalCloud(dev_assembly.outdir) as cloud:
        cloud.deploy(STACK)
        yield cloud


@pytest.fixture
def outputs(cloud: LocalCloud) -> dict[str, str]:
    return cloud.outputs(STACK)


@pytest.fixture
def aggregator_events(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every event the aggregator is invoked with during the test, in order."""
    events: list[dict] = []
    invoke = cloud.engine.invoke

    def recording_invoke(function: Any, event: Any, **kwargs: Any) -> Any:
        if function.function_name == cloud.outputs(STACK)[contract.OUTPUT_AGGREGATOR_FUNCTION_NAME]:
            events.append(json.loads(json.dumps(event)))
        return invoke(function, event, **kwargs)

    monkeypatch.setattr(cloud.engine, "invoke", recording_invoke)
    return events


def _put(cloud: LocalCloud, outputs: dict[str, str], readings: list[dict]) -> dict:
    invocation = cloud.invoke(
        outputs[contract.OUTPUT_PRODUCER_FUNCTION_NAME], {"readings": readings}
    )
    assert invocation.succeeded, invocation.error
    return invocation.payload


def _aggregated(cloud: LocalCloud, outputs: dict[str, str], prefix: str) -> dict[str, dict]:
    """This test's aggregates (keys starting with `prefix`): key -> totals over its windows."""
    totals: dict[str, dict] = {}
    items = cloud.client("dynamodb").scan(
        TableName=outputs[contract.OUTPUT_AGGREGATES_TABLE_NAME], ConsistentRead=True
    )["Items"]
    for item in items:
        key = item["key"]["S"]
        if key.startswith(prefix):
            total = totals.setdefault(key, {"count": 0, "sum": 0.0, "max": float("-inf")})
            total["count"] += int(item["count"]["N"])
            total["sum"] += float(item["sum"]["N"])
            total["max"] = max(total["max"], float(item["max"]["N"]))
    return totals


def _on_failure_messages(cloud: LocalCloud, outputs: dict[str, str]) -> list[dict]:
    sqs = cloud.client("sqs")
    url = outputs[contract.OUTPUT_ON_FAILURE_QUEUE_URL]
    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_a_transient_failure_at_the_window_s_end_heals_on_retry_and_nothing_is_lost(
    cloud: LocalCloud, outputs: dict[str, str], monkeypatch: pytest.MonkeyPatch
):
    # GIVEN the aggregates table refuses the first write: another writer got there between
    # the aggregator's read and its write (a conditional put that fails)
    put_item = DynamoDBBackend.put_item
    refusals = {"left": 1}

    def put_item_refused_once(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        if refusals["left"]:
            refusals["left"] -= 1
            raise ConditionalCheckFailed()
        return put_item(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "put_item", put_item_refused_once)
    readings = [{"key": f"transient-{n % 3}", "value": n} for n in range(30)]
    # AND a record that is not a reading reaches the stream beside them
    cloud.client("kinesis").put_record(
        StreamName=outputs[contract.OUTPUT_STREAM_NAME],
        Data=b"\xff not json",
        PartitionKey="transient-junk",
    )
    before = len(cloud.invocations)

    assert _put(cloud, outputs, readings)["put_count"] == 30
    cloud.settle()

    # THEN the final invocation failed once and Lambda's retry wrote every reading, once
    aggregator = outputs[contract.OUTPUT_AGGREGATOR_FUNCTION_NAME]
    runs = [i for i in cloud.invocations[before:] if i.function == aggregator]
    failed = [i for i in runs if not i.succeeded]
    assert [i.error["errorType"] for i in failed] == ["ConcurrentWriteError"]
    assert runs[-1].succeeded
    assert refusals["left"] == 0
    assert _aggregated(cloud, outputs, "transient-") == {
        f"transient-{k}": {
            "count": 10,
            "sum": float(sum(range(k, 30, 3))),
            "max": float(max(range(k, 30, 3))),
        }
        for k in range(3)
    }
    # AND the malformed record is in the on-failure queue with its reason; nothing else is
    (rejected,) = _on_failure_messages(cloud, outputs)
    assert rejected["kind"] == contract.REJECTED_RECORD_KIND
    assert rejected["partitionKey"] == "transient-junk"
    assert rejected["reason"].startswith("not a reading: (input): Invalid JSON")
    assert base64.b64decode(rejected["data"]) == b"\xff not json"


def test_each_key_s_records_reach_the_aggregator_in_the_order_they_were_put(
    cloud: LocalCloud, outputs: dict[str, str], aggregator_events: list[dict]
):
    # GIVEN two producer calls interleaving eight keys, each key's values counting up
    keys = [f"ordered-{n}" for n in range(8)]
    for call in range(2):
        _put(
            cloud,
            outputs,
            [{"key": key, "value": call * 100 + step} for step in range(5) for key in keys],
        )

    cloud.settle()

    # THEN across the lanes (parallelization factor 2) each key's readings arrived in order
    seen: dict[str, list[int]] = {key: [] for key in keys}
    lanes_used = set()
    for event in aggregator_events:
        keys_in_batch = set()
        for record in event["Records"]:
            reading = json.loads(base64.b64decode(record["kinesis"]["data"]))
            seen[reading["key"]].append(int(reading["value"]))
            keys_in_batch.add(reading["key"])
        if keys_in_batch:
            lanes_used.add(frozenset(keys_in_batch))
    expected = [call * 100 + step for call in range(2) for step in range(5)]
    assert seen == dict.fromkeys(keys, expected)
    assert len(lanes_used) >= 2  # the keys really were spread over concurrent lanes
    assert {
        key: total["count"] for key, total in _aggregated(cloud, outputs, "ordered-").items()
    } == dict.fromkeys(keys, 10)
