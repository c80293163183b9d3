"""The producer on moto: readings validated, put 500 per call, each key on one shard in order."""

from __future__ import annotations

import copy
import json

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyValidationError,
)

from stream_processing import producer
from stream_processing.errors import InvalidPutRequestError
from tests.functional.stream_processing.conftest import stream_records


def test_readings_are_put_500_per_call_each_key_on_one_shard_in_order(
    stream_processing, lambda_context
):
    # GIVEN 505 readings of 5 keys, each key's values counting up
    readings = [{"key": f"sensor-{n % 5}", "value": n} for n in range(505)]

    response = producer.handler({"readings": readings}, lambda_context)

    assert response == {"put_count": 505, "put_records_calls": 2, "failed_count": 0, "failed": []}
    # THEN every key's readings sit on one shard, in the order they were put
    by_key: dict[str, list[tuple[str, int]]] = {}
    for shard_id, records in stream_records(stream_processing.stream_name).items():
        for record in records:
            reading = json.loads(record["Data"])
            assert record["PartitionKey"] == reading["key"]
            by_key.setdefault(reading["key"], []).append((shard_id, reading["value"]))
    assert sorted(by_key) == [f"sensor-{n}" for n in range(5)]
    for key, placed in by_key.items():
        assert len({shard for shard, _ in placed}) == 1, key
        values = [value for _, value in placed]
        assert values == sorted(values) == list(range(int(key[-1]), 505, 5))


def test_an_invalid_request_puts_nothing(stream_processing, lambda_context, sample_event):
    before = stream_records(stream_processing.stream_name)

    with pytest.raises(InvalidPutRequestError):
        producer.handler(sample_event("put_readings_invalid.json"), lambda_context)

    assert stream_records(stream_processing.stream_name) == before


def _count(stream_name: str) -> int:
    return sum(len(records) for records in stream_records(stream_name).values())


def test_a_request_sent_again_with_its_request_id_is_answered_and_not_put_again(
    stream_processing, lambda_context
):
    request = {"request_id": "batch-0042", "readings": [{"key": "sensor-1", "value": 1.5}] * 3}
    before = _count(stream_processing.stream_name)
    first = producer.handler(request, lambda_context)

    # WHEN the caller retries (a timeout on its side) with the same request
    again = producer.handler(copy.deepcopy(request), lambda_context)

    # THEN it gets the first answer, and the stream holds the readings once
    assert again == first
    assert first == {"put_count": 3, "put_records_calls": 1, "failed_count": 0, "failed": []}
    assert _count(stream_processing.stream_name) == before + 3
    # AND another request reusing the id is refused, not taken for a retry
    with pytest.raises(IdempotencyValidationError):
        producer.handler({**request, "readings": [{"key": "sensor-1", "value": 2}]}, lambda_context)
    assert _count(stream_processing.stream_name) == before + 3


def test_requests_without_an_id_are_put_each_time(stream_processing, lambda_context):
    request = {"readings": [{"key": "sensor-9", "value": 7}]}

    producer.handler(request, lambda_context)
    producer.handler(request, lambda_context)

    data = [
        json.loads(record["Data"])
        for records in stream_records(stream_processing.stream_name).values()
        for record in records
    ]
    assert [reading for reading in data if reading["key"] == "sensor-9"] == [
        {"key": "sensor-9", "value": 7}
    ] * 2
