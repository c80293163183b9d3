"""Functional tests of the writer on moto: SQS batches in, items in the table or in the DLQ."""

from __future__ import annotations

from decimal import Decimal

import boto3

from batching import writer
from batching.contract import (
    FAILURE_KIND_ATTRIBUTE,
    FAILURE_REASON_ATTRIBUTE,
    SOURCE_MESSAGE_ID_ATTRIBUTE,
)

BAD_QUANTITY_ID = "4a8d0e7c-2b5f-4c6b-9e99-5d6c7b8a9f05"
NOT_JSON_ID = "5b9e1f8d-3c6a-4d7c-8faa-6e7d8c9b0a06"


def test_a_batch_is_written_in_one_call(
    batching, sample_event, lambda_context, items_in_table, throttle
):
    counting = throttle(count=0, calls=0)

    response = writer.handler(sample_event("sqs_items.json"), lambda_context)

    assert response == {"batchItemFailures": []}
    items = items_in_table()
    assert [(item["pk"], item["sk"]) for item in items] == [
        ("TENANT#acme", "ITEM#ac1f0b1e-5d3a-4c2e-9a41-000000000001"),
        ("TENANT#acme", "ITEM#ac1f0b1e-5d3a-4c2e-9a41-000000000002"),
        ("TENANT#globex", "ITEM#b7e2c4d9-1f6a-4b8e-8c53-000000000003"),
        ("TENANT#initech", "ITEM#c3d9e8f7-2a1b-4c6d-9e0f-000000000004"),
    ]
    assert items[1]["quantity"] == Decimal("3.5")
    assert counting.batch_write_calls == 1


def test_invalid_items_are_retried_and_dead_lettered_with_their_reason_on_the_last_receive(
    batching, sample_event, lambda_context, items_in_table, receive_all
):
    # GIVEN two valid items, one with a negative quantity (first receive), and a body that is
    # not JSON on its fifth receive (maxReceiveCount 5: its last)
    event = sample_event("sqs_items_malformed.json")

    response = writer.handler(event, lambda_context)

    # THEN the valid items are written; the negative one is reported for SQS to retry...
    assert response == {"batchItemFailures": [{"itemIdentifier": BAD_QUANTITY_ID}]}
    assert {item["tenant_id"] for item in items_in_table()} == {"acme", "globex"}
    assert len(items_in_table()) == 2
    # ...and the one on its last receive is in the DLQ with its reason, its body untouched
    [dead_letter] = receive_all(batching.dlq_url)
    assert dead_letter["Body"] == "usage: acme api_calls 12"
    attributes = {
        name: value["StringValue"] for name, value in dead_letter["MessageAttributes"].items()
    }
    assert attributes[FAILURE_KIND_ATTRIBUTE] == "validation"
    assert attributes[FAILURE_REASON_ATTRIBUTE].startswith(
        "not a valid item: (input): Invalid JSON"
    )
    assert attributes[SOURCE_MESSAGE_ID_ATTRIBUTE] == NOT_JSON_ID


def test_items_left_unprocessed_once_are_written_by_the_retry(
    batching, sample_event, lambda_context, items_in_table, throttle
):
    # GIVEN DynamoDB throttles the first call: two of the four puts come back unprocessed
    throttled = throttle(count=2)

    response = writer.handler(sample_event("sqs_items.json"), lambda_context)

    # THEN the writer sent those two again, and every item is in the table
    assert response == {"batchItemFailures": []}
    assert throttled.batch_write_calls == 2
    assert len(items_in_table()) == 4


def test_items_still_unprocessed_after_every_retry_go_back_to_sqs(
    batching, sample_event, lambda_context, items_in_table, throttle
):
    # GIVEN DynamoDB leaves one put unprocessed on every call (4 attempts)
    throttled = throttle(count=1, calls=10)
    event = sample_event("sqs_items.json")

    response = writer.handler(event, lambda_context)

    # THEN the last item's record is reported failed (SQS retries it); the rest are written
    assert throttled.batch_write_calls == 4
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][3]["messageId"]}]}
    assert len(items_in_table()) == 3


def test_a_replayed_batch_leaves_one_identical_item_per_input(
    batching, sample_event, lambda_context, items_in_table
):
    # GIVEN a batch was written
    event = sample_event("sqs_items.json")
    writer.handler(event, lambda_context)
    first = items_in_table()

    # WHEN SQS delivers the same messages again, and one item also comes twice in one batch
    for record in event["Records"]:
        record["attributes"]["ApproximateReceiveCount"] = "2"
    event["Records"].append({**event["Records"][0], "messageId": "a-producer-retry"})
    response = writer.handler(event, lambda_context)

    # THEN nothing failed and the table holds exactly what it held
    assert response == {"batchItemFailures": []}
    assert items_in_table() == first


def test_an_item_the_dlq_cannot_take_stays_with_sqs(
    batching, sample_event, lambda_context, receive_all
):
    # GIVEN the DLQ is gone, and a malformed batch whose not-JSON record is on its last receive
    boto3.client("sqs").delete_queue(QueueUrl=batching.dlq_url)

    response = writer.handler(sample_event("sqs_items_malformed.json"), lambda_context)

    # THEN the record is reported failed, so SQS's own redrive keeps it rather than lose it
    assert {failure["itemIdentifier"] for failure in response["batchItemFailures"]} == {
        BAD_QUANTITY_ID,
        NOT_JSON_ID,
    }
