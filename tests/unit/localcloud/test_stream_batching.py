"""Lambda's stream event source rules without a stream: settings, lanes, windows and where a
failed batch failed."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from localcloud.rules.stream_batching import (
    ALL_FAILED,
    StreamRecord,
    StreamSourceSettings,
    failure_record,
    first_failed_index,
    lane_of,
    window_of,
)


@dataclass
class _Ended:
    payload: Any = None
    error: dict[str, Any] | None = None


def _records(*sequence_numbers: str) -> list[StreamRecord]:
    return [
        StreamRecord(
            position=n,
            sequence_number=number,
            partition_key="k",
            arrival=1_000.0 + n,
            event_record={},
            size=10,
        )
        for n, number in enumerate(sequence_numbers)
    ]


def _mapping(**overrides: Any) -> SimpleNamespace:
    fields = {
        "batch_size": None,
        "max_batch_window": None,
        "parallelization_factor": None,
        "max_retry_attempts": None,
        "max_record_age": None,
        "bisect_on_error": None,
        "function_response_types": None,
        "tumbling_window": None,
        "destination_config": None,
    }
    return SimpleNamespace(**{**fields, **overrides})


def test_a_mapping_without_settings_gets_lambdas_stream_defaults() -> None:
    settings = StreamSourceSettings.of(_mapping())

    assert settings == StreamSourceSettings()
    assert settings.batch_size == 100
    assert settings.maximum_retry_attempts == -1  # until the records expire


def test_template_strings_are_read_as_the_types_lambda_means() -> None:
    settings = StreamSourceSettings.of(
        _mapping(
            bisect_on_error="true",
            max_retry_attempts="2",
            function_response_types=["ReportBatchItemFailures"],
            destination_config={"OnFailure": {"Destination": "arn:aws:sqs:eu-west-1:1:dlq"}},
        )
    )

    assert settings.bisect_on_function_error is True
    assert settings.maximum_retry_attempts == 2
    assert settings.reports_batch_item_failures is True
    assert settings.on_failure_destination == "arn:aws:sqs:eu-west-1:1:dlq"


def test_a_partition_key_always_goes_to_the_same_lane() -> None:
    lanes = {key: lane_of(key, 4) for key in (f"sensor-{n}" for n in range(50))}

    assert {lane_of(key, 4) for key in lanes} <= {0, 1, 2, 3}
    assert all(lane_of(key, 4) == lane for key, lane in lanes.items())
    assert len(set(lanes.values())) > 1, "keys spread over the lanes"
    assert lane_of("anything", 1) == 0


def test_windows_align_to_the_epoch() -> None:
    [record] = _records("1")
    record.arrival = 125.5

    assert window_of(record, 60) == (120.0, 180.0)


@pytest.mark.parametrize(
    ("ended", "expected"),
    [
        (_Ended(payload={"batchItemFailures": []}), None),
        (_Ended(payload=None), None),
        (_Ended(payload={"batchItemFailures": [{"itemIdentifier": "3"}]}), 1),
        (
            _Ended(
                payload={"batchItemFailures": [{"itemIdentifier": "5"}, {"itemIdentifier": "3"}]}
            ),
            1,
        ),
        (_Ended(payload={"batchItemFailures": [{"itemIdentifier": "unknown"}]}), ALL_FAILED),
        (_Ended(payload={"batchItemFailures": [{}]}), ALL_FAILED),
        (_Ended(error={"errorType": "Boom"}), ALL_FAILED),
    ],
    ids=["empty", "null", "one", "lowest-of-two", "unknown-id", "missing-id", "error"],
)
def test_a_partial_batch_response_checkpoints_before_the_lowest_failure(ended, expected) -> None:
    settings = StreamSourceSettings(reports_batch_item_failures=True)

    assert first_failed_index(ended, _records("1", "3", "5"), settings) == expected


def test_without_partial_batch_responses_only_an_error_fails_the_batch() -> None:
    records = _records("1", "2")
    reported = _Ended(payload={"batchItemFailures": [{"itemIdentifier": "2"}]})

    assert first_failed_index(reported, records, StreamSourceSettings()) is None
    assert first_failed_index(_Ended(error={}), records, StreamSourceSettings()) == ALL_FAILED


def test_a_window_response_without_state_fails_the_batch() -> None:
    settings = StreamSourceSettings(tumbling_window_seconds=60)

    assert first_failed_index(_Ended(payload={}), _records("1"), settings) == ALL_FAILED
    assert first_failed_index(_Ended(payload={"state": {}}), _records("1"), settings) is None


def test_the_failure_record_names_the_batch_as_lambda_does() -> None:
    record = failure_record(
        condition="RetryAttemptsExhausted",
        function_arn="arn:aws:lambda:eu-west-1:1:function:f",
        request_id="r-1",
        invoke_count=3,
        last_invocation=_Ended(error={"errorType": "Boom"}),
        batch_info_key="KinesisBatchInfo",
        shard_id="shardId-000000000000",
        stream_arn="arn:aws:kinesis:eu-west-1:1:stream/s",
        records=_records("1", "2"),
    )

    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["KinesisBatchInfo"]["startSequenceNumber"] == "1"
    assert record["KinesisBatchInfo"]["endSequenceNumber"] == "2"
    assert record["KinesisBatchInfo"]["batchSize"] == 2
