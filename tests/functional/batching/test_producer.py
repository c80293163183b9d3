"""Functional tests of the producer on moto, and of both functions as Lambda's poller runs them."""

from __future__ import annotations

import json

import pytest

from batching import producer, writer
from batching.errors import InvalidProduceRequestError


def test_items_are_enqueued_with_their_tenant_as_message_group(
    batching, sample_event, lambda_context, receive_all
):
    response = producer.handler(sample_event("produce_items.json"), lambda_context)

    assert response == {
        "enqueued_count": 4,
        "failed_count": 0,
        "failed": [],
        "send_message_batch_calls": 1,
    }
    messages = receive_all(batching.queue_url)
    assert sorted(
        (json.loads(m["Body"])["item_id"][-2:], m["Attributes"]["MessageGroupId"]) for m in messages
    ) == [("01", "acme"), ("02", "acme"), ("03", "globex"), ("04", "initech")]


def test_a_request_with_an_item_without_tenant_enqueues_nothing(
    batching, sample_event, lambda_context, receive_all
):
    with pytest.raises(InvalidProduceRequestError, match=r"items\[1\]\.tenant_id: Field required"):
        producer.handler(sample_event("produce_items_invalid.json"), lambda_context)

    assert receive_all(batching.queue_url) == []


def test_produced_items_reach_the_table_through_one_large_batch(
    batching, lambda_context, items_in_table, throttle, receive_all
):
    # GIVEN 60 items of three tenants enqueued by the producer (six SendMessageBatch calls)
    items = [
        {
            "item_id": f"item-{n:03d}",
            "tenant_id": f"tenant-{n % 3}",
            "metric": "api_calls",
            "quantity": n,
            "recorded_at": "2026-12-01T09:00:00Z",
        }
        for n in range(60)
    ]
    assert producer.handler({"items": items}, lambda_context)["send_message_batch_calls"] == 6
    counting = throttle(count=0, calls=0)

    # WHEN Lambda's poller hands the writer the queue as one batch (batch size above 60)
    messages = receive_all(batching.queue_url)
    assert len(messages) == 60
    event = {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": batching.queue_arn,
                "awsRegion": "eu-west-1",
            }
            for m in messages
        ]
    }
    response = writer.handler(event, lambda_context)

    # THEN all 60 are written with three BatchWriteItem calls (25 + 25 + 10)
    assert response == {"batchItemFailures": []}
    assert len(items_in_table()) == 60
    assert counting.batch_write_calls == 3
