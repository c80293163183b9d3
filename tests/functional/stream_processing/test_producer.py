"""The producer on moto: readings validated, put 500 per call, each key on one shard in order."""

from __future__ import annotations

import json

import pytest

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
