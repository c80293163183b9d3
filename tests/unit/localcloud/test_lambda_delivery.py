"""Which SQS messages go back to the queue after an invocation (localcloud.delivery)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from localcloud.core.runner import Invocation
from localcloud.rules.lambda_delivery import SqsSourceSettings, failed_message_ids, sqs_record

BATCH = {"m1", "m2", "m3"}
REPORTING = SqsSourceSettings(reports_batch_item_failures=True)


def _ended(payload=None, error=None) -> Invocation:
    return Invocation("f", "SQS q", False, 1.0, payload=payload, error=error)


@pytest.mark.parametrize("settings", [REPORTING, SqsSourceSettings()])
def test_a_failed_invocation_returns_the_whole_batch(settings):
    failed = _ended(error={"errorType": "Sandbox.Timedout"})
    assert failed_message_ids(failed, settings, BATCH) == BATCH


@pytest.mark.parametrize(
    "payload", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}]
)
def test_an_empty_response_means_the_whole_batch_succeeded(payload):
    assert failed_message_ids(_ended(payload), REPORTING, BATCH) == set()


def test_reported_failures_return_only_those_messages():
    payload = {"batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]}
    assert failed_message_ids(_ended(payload), REPORTING, BATCH) == {"m2", "m3"}


@pytest.mark.parametrize(
    "failure",
    [
        {"itemIdentifier": "not-in-batch"},
        {"itemIdentifier": ""},
        {"itemIdentifier": None},
        {},
        "m1",
    ],
)
def test_a_malformed_failure_report_returns_the_whole_batch(failure):
    payload = {"batchItemFailures": [{"itemIdentifier": "m1"}, failure]}
    assert failed_message_ids(_ended(payload), REPORTING, BATCH) == BATCH


@pytest.mark.parametrize("payload", [["m1"], "m1", {"batchItemFailures": "m1"}])
def test_a_response_of_the_wrong_shape_returns_the_whole_batch(payload):
    assert failed_message_ids(_ended(payload), REPORTING, BATCH) == BATCH


def test_failures_are_ignored_when_the_mapping_does_not_report_them():
    payload = {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert failed_message_ids(_ended(payload), SqsSourceSettings(), BATCH) == set()


def test_an_sqs_record_carries_each_message_attribute_as_lambda_sends_it():
    # moto keeps a binary attribute's value decoded, as bytes
    message = SimpleNamespace(
        id="m1",
        receipt_handle="handle",
        body="body",
        body_md5="md5",
        approximate_receive_count=1,
        sent_timestamp=1,
        sender_id="sender",
        approximate_first_receive_timestamp=2,
        group_id=None,
        message_attributes={
            "colour": {"DataType": "String", "StringValue": "blue"},
            "count": {"DataType": "Number", "StringValue": "5"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )

    record = sqs_record(message, "arn:aws:sqs:eu-west-1:123456789012:q", "eu-west-1")

    # THEN each attribute holds only the value it has; a binary one is base64 text
    empty_lists = {"stringListValues": [], "binaryListValues": []}
    assert record["messageAttributes"] == {
        "colour": {"stringValue": "blue", **empty_lists, "dataType": "String"},
        "count": {"stringValue": "5", **empty_lists, "dataType": "Number"},
        "blob": {"binaryValue": "AAE=", **empty_lists, "dataType": "Binary"},
    }


@pytest.mark.parametrize(
    ("sequence_number", "deduplication_id", "expected"),
    [
        # A fair queue: a standard queue whose producer set a message group.
        (None, None, {"MessageGroupId": "tenant-a"}),
        (
            "18870000000000000001",
            "dedup-1",
            {
                "MessageGroupId": "tenant-a",
                "SequenceNumber": "18870000000000000001",
                "MessageDeduplicationId": "dedup-1",
            },
        ),
    ],
    ids=["fair queue", "fifo queue"],
)
def test_an_sqs_record_names_its_message_group_and_only_a_fifo_one_its_sequence(
    sequence_number, deduplication_id, expected
):
    message = SimpleNamespace(
        id="m1",
        receipt_handle="handle",
        body="body",
        body_md5="md5",
        approximate_receive_count=1,
        sent_timestamp=1,
        sender_id="sender",
        approximate_first_receive_timestamp=2,
        group_id="tenant-a",
        sequence_number=sequence_number,
        deduplication_id=deduplication_id,
        message_attributes={},
    )

    record = sqs_record(message, "arn:aws:sqs:eu-west-1:123456789012:q", "eu-west-1")

    group_attributes = {
        name: value
        for name, value in record["attributes"].items()
        if name in {"MessageGroupId", "SequenceNumber", "MessageDeduplicationId"}
    }
    assert group_attributes == expected
