"""The aggregator on moto: window state, malformed records reported, each window written once."""

from __future__ import annotations

import copy
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError

from stream_processing import aggregator, contract
from tests.functional.stream_processing.conftest import drain


def _items(table_name: str) -> dict[str, dict]:
    items = boto3.client("dynamodb").scan(TableName=table_name, ConsistentRead=True)["Items"]
    return {
        item["key"]["S"]: {
            "count": int(item["count"]["N"]),
            "sum": Decimal(item["sum"]["N"]),
            "min": Decimal(item["min"]["N"]),
            "max": Decimal(item["max"]["N"]),
            "alerted": item["alerted"]["BOOL"],
        }
        for item in items
    }


def test_a_batch_folds_its_readings_into_the_state_and_reports_the_malformed_one(
    stream_processing, lambda_context, sample_event
):
    batch = sample_event("kinesis_window_batch.json")

    response = aggregator.handler(batch, lambda_context)

    # THEN the state is the sample final invocation's, and nothing failed
    assert response == {
        "state": sample_event("kinesis_window_final.json")["state"],
        "batchItemFailures": [],
    }
    # AND the malformed record is in the on-failure queue with its reason
    malformed = batch["Records"][3]
    assert drain(stream_processing.on_failure_queue_url) == [
        {
            "kind": contract.REJECTED_RECORD_KIND,
            "reason": "not a reading: value: Input should be a valid decimal",
            "shardId": "shardId-000000000000",
            "sequenceNumber": malformed["kinesis"]["sequenceNumber"],
            "partitionKey": "sensor-3",
            "data": malformed["kinesis"]["data"],
            "eventSourceARN": malformed["eventSourceARN"],
        }
    ]
    assert _items(stream_processing.table_name) == {}  # nothing is written before the window ends


def test_a_record_that_cannot_be_reported_fails_with_those_after_it_out_of_the_state(
    stream_processing, lambda_context, sample_event, monkeypatch
):
    # GIVEN the on-failure queue cannot be reached
    monkeypatch.setenv(
        contract.ENV_REJECTED_RECORDS_QUEUE_URL,
        "https://sqs.eu-west-1.amazonaws.com/123456789012/gone",
    )
    batch = sample_event("kinesis_window_batch.json")

    response = aggregator.handler(batch, lambda_context)

    # THEN the malformed record is reported failed, so Lambda checkpoints before it and hands
    # it on again with this state, which holds only the three records before it
    records = batch["Records"]
    assert response["batchItemFailures"] == [
        {"itemIdentifier": records[3]["kinesis"]["sequenceNumber"]}
    ]
    aggregates = response["state"]["aggregates"]
    assert {key: value["count"] for key, value in aggregates.items()} == {
        "sensor-1": 2,
        "sensor-2": 1,
    }


def test_the_final_invocation_writes_each_key_once_and_alerts_once(
    stream_processing, lambda_context, sample_event
):
    final = sample_event("kinesis_window_final.json")

    response = aggregator.handler(final, lambda_context)
    replayed = aggregator.handler(copy.deepcopy(final), lambda_context)

    assert (
        response
        == replayed
        == {"state": {"aggregates": {}, "rejected": 0}, "batchItemFailures": []}
    )
    # THEN each key's window is in the table once, though the final invocation ran twice
    assert _items(stream_processing.table_name) == {
        "sensor-1": {
            "count": 2,
            "sum": Decimal("44.5"),
            "min": Decimal("21.5"),
            "max": 23,
            "alerted": False,
        },
        "sensor-2": {
            "count": 2,
            "sum": Decimal("229.25"),
            "min": Decimal("98.25"),
            "max": 131,
            "alerted": True,
        },
    }
    # AND sensor-2, whose maximum reached the threshold, raised one alert
    assert drain(stream_processing.alerts_queue_url) == [
        {
            "alert_id": "sensor-2@2026-12-09T09:00:00Z",
            "key": "sensor-2",
            "window": {"start": "2026-12-09T09:00:00Z", "end": "2026-12-09T09:01:00Z"},
            "max": "131",
            "threshold": "100",
            "count": 2,
        }
    ]


def test_a_final_invocation_that_cannot_write_raises_so_lambda_retries_it(
    stream_processing, lambda_context, sample_event, monkeypatch
):
    monkeypatch.setenv(contract.ENV_AGGREGATES_TABLE_NAME, "no-such-table")

    with pytest.raises(ClientError) as raised:
        aggregator.handler(sample_event("kinesis_window_final.json"), lambda_context)

    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert drain(stream_processing.alerts_queue_url) == []
