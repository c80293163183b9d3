"""Functional tests of the publisher: the handler against a moto topic with the real filters."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from shared.settings import MissingSettingError

from pub_sub import adapters, publisher
from pub_sub.contract import ENV_TOPIC_ARN, EventType, SubscriberName
from pub_sub.errors import InvalidPublishRequestError, PublishFailedError


@pytest.fixture
def publish_calls() -> list[int]:
    """The number of entries of every PublishBatch call the publisher's real client makes."""
    calls: list[int] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(len(params["PublishBatchRequestEntries"]))

    adapters.sns_client().meta.events.register("provide-client-params.sns.PublishBatch", record)
    return calls


def test_25_events_fan_out_to_each_subscriber_by_its_filter(
    pub_sub, as_publisher, orders, receive_all, publish_calls
):
    # GIVEN 25 events cycling placed (42.5), placed (1250), shipped, cancelled: 13 placed,
    # 6 of them for 1250, 6 shipped, 6 cancelled
    events = orders(25)

    # WHEN the publisher is invoked with them
    response = publisher.handler({"events": events}, as_publisher)

    # THEN all were published, ten per PublishBatch call, each with its message id
    assert publish_calls == [10, 10, 5]
    assert response["published_count"] == 25
    assert response["failed_count"] == 0
    assert response["failed"] == []
    assert set(response["message_ids"]) == {event["event_id"] for event in events}
    # AND each subscriber received exactly its filtered share
    received = {name: receive_all(inbox.url) for name, inbox in pub_sub.inboxes.items()}
    assert {name: len(messages) for name, messages in received.items()} == {
        SubscriberName.FULFILMENT: 13 + 6,  # placed + cancelled
        SubscriberName.NOTIFICATIONS: 6 + 6,  # shipped + cancelled
        SubscriberName.FRAUD_REVIEW: 6,  # placed with amount >= 1000
    }


def test_fulfilment_gets_envelopes_and_notifications_gets_raw_messages(
    pub_sub, as_publisher, orders, receive_all
):
    # GIVEN one cancelled order, which both fulfilment and notifications subscribe to
    [event] = orders(1, event_type=EventType.ORDER_CANCELLED)

    # WHEN it is published
    response = publisher.handler({"events": [event]}, as_publisher)

    # THEN fulfilment's body is an SNS envelope carrying the message and its attribute
    [enveloped] = receive_all(pub_sub.inboxes[SubscriberName.FULFILMENT].url)
    envelope = json.loads(enveloped["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == response["message_ids"][event["event_id"]]
    assert json.loads(envelope["Message"])["event_id"] == event["event_id"]
    assert envelope["MessageAttributes"]["event_type"] == {
        "Type": "String",
        "Value": EventType.ORDER_CANCELLED,
    }
    # AND notifications' body is the message itself, the attribute an SQS message attribute
    [raw] = receive_all(pub_sub.inboxes[SubscriberName.NOTIFICATIONS].url)
    assert json.loads(raw["Body"]) == json.loads(envelope["Message"])
    assert raw["MessageAttributes"]["event_type"] == {
        "StringValue": EventType.ORDER_CANCELLED,
        "DataType": "String",
    }


def test_fraud_review_filters_on_the_amount_in_the_body(pub_sub, as_publisher, orders, receive_all):
    # GIVEN placed orders on both sides of the 1000 threshold
    events = orders(4, event_type=EventType.ORDER_PLACED)
    for event, amount in zip(events, [999.99, 1000, 1000.01, 5], strict=True):
        event["amount"] = amount

    # WHEN they are published
    publisher.handler({"events": events}, as_publisher)

    # THEN only those of 1000 or more reach fraud_review
    bodies = [
        json.loads(m["Body"]) for m in receive_all(pub_sub.inboxes[SubscriberName.FRAUD_REVIEW].url)
    ]
    amounts = sorted(json.loads(body["Message"])["amount"] for body in bodies)
    assert amounts == [1000, 1000.01]


def test_an_invalid_event_fails_the_invoke_and_publishes_nothing(
    pub_sub, as_publisher, sample_event, receive_all, publish_calls
):
    # GIVEN the sample request whose second event has a negative amount
    request = sample_event("publish_orders_invalid.json")

    # WHEN the publisher is invoked THEN it raises a typed error naming the event and field
    with pytest.raises(InvalidPublishRequestError, match=r"events\[1\]\.amount"):
        publisher.handler(request, as_publisher)

    # AND nothing reached the topic, so no queue holds a message
    assert publish_calls == []
    assert all(not receive_all(inbox.url) for inbox in pub_sub.inboxes.values())


@pytest.mark.parametrize("request_payload", [{"events": []}, {"events": "ORD-1"}, ["ORD-1"]])
def test_input_that_is_not_a_list_of_events_is_rejected(
    pub_sub, as_publisher, receive_all, request_payload
):
    with pytest.raises(InvalidPublishRequestError, match="invalid publish request"):
        publisher.handler(request_payload, as_publisher)

    assert all(not receive_all(inbox.url) for inbox in pub_sub.inboxes.values())


class DroppingClient:
    """The real (moto) SNS client, except that SNS "fails" the entries with the given ids."""

    def __init__(self, client: Any, failing_ids: set[str]) -> None:
        self._client = client
        self._failing_ids = failing_ids

    def publish_batch(self, *, TopicArn: str, PublishBatchRequestEntries: list[dict]) -> dict:  # noqa: N803
        kept = [e for e in PublishBatchRequestEntries if e["Id"] not in self._failing_ids]
        response = self._client.publish_batch(TopicArn=TopicArn, PublishBatchRequestEntries=kept)
        response["Failed"] = [
            {"Id": e["Id"], "Code": "InternalError", "Message": "retry", "SenderFault": False}
            for e in PublishBatchRequestEntries
            if e["Id"] in self._failing_ids
        ]
        return response


def test_entries_sns_fails_are_returned_with_their_code(
    pub_sub, as_publisher, orders, receive_all, monkeypatch
):
    # GIVEN SNS fails two entries of the second batch of 12 placed orders (PublishBatch may
    # partially fail)
    events = orders(12, event_type=EventType.ORDER_PLACED, amount=10)
    real_client = adapters.sns_client()
    dropping = DroppingClient(real_client, failing_ids={"event-10", "event-3"})
    monkeypatch.setattr(adapters, "sns_client", lambda: dropping)

    # WHEN the publisher is invoked
    response = publisher.handler({"events": events}, as_publisher)

    # THEN the invoke succeeds, and the summary names exactly the events not published
    assert response["published_count"] == 10
    assert [(f["index"], f["event_id"], f["code"]) for f in response["failed"]] == [
        (3, events[3]["event_id"], "InternalError"),
        (10, events[10]["event_id"], "InternalError"),
    ]
    assert events[3]["event_id"] not in response["message_ids"]
    # AND the subscribers got only the published ones
    assert len(receive_all(pub_sub.inboxes[SubscriberName.FULFILMENT].url)) == 10


def test_a_refused_publish_batch_raises_and_says_what_was_not_published(
    pub_sub, as_publisher, orders
):
    # GIVEN the topic no longer exists, so SNS refuses every PublishBatch call
    boto3.client("sns").delete_topic(TopicArn=pub_sub.topic_arn)

    # WHEN the publisher is invoked THEN a typed error says which events are not published
    with pytest.raises(PublishFailedError, match=r"events\[0\.\.9\] \(NotFound.*events\[0:\]"):
        publisher.handler({"events": orders(12)}, as_publisher)


def test_a_request_of_a_hundred_events_is_the_largest_accepted(
    pub_sub, as_publisher, orders, publish_calls
):
    response = publisher.handler({"events": orders(100)}, as_publisher)

    assert response["published_count"] == 100
    assert publish_calls == [10] * 10


@pytest.mark.filterwarnings("ignore:No application metrics")
def test_publisher_needs_its_topic_arn(
    pub_sub, as_publisher, orders, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv(ENV_TOPIC_ARN)

    with pytest.raises(MissingSettingError, match=ENV_TOPIC_ARN):
        publisher.handler({"events": orders(1)}, as_publisher)


def test_sample_request_publishes_each_event_once(
    pub_sub, as_publisher, sample_event: Callable[[str], dict[str, Any]], receive_all
):
    response = publisher.handler(sample_event("publish_orders.json"), as_publisher)

    assert response["published_count"] == 4
    counts = {name: len(receive_all(inbox.url)) for name, inbox in pub_sub.inboxes.items()}
    assert counts == {
        SubscriberName.FULFILMENT: 3,
        SubscriberName.NOTIFICATIONS: 2,
        SubscriberName.FRAUD_REVIEW: 1,
    }
