"""Unit tests of unwrapping an SQS body into an order event, for both SNS delivery modes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from pub_sub.contract import EventType
from pub_sub.errors import InvalidOrderEventError, MalformedMessageError, PoisonMessageError
from pub_sub.logic import parse_order_event, unwrap_message


def test_envelope_and_raw_bodies_unwrap_to_the_same_message(
    sample_event: Callable[[str], dict[str, Any]],
):
    # GIVEN the same event delivered in an SNS envelope (fraud_review) and raw (notifications)
    enveloped = sample_event("sqs_fraud_review_envelope.json")["Records"][0]["body"]
    cancelled_raw = sample_event("sqs_notifications_raw.json")["Records"][1]["body"]
    cancelled_enveloped = sample_event("sqs_fulfilment_envelope.json")["Records"][2]["body"]

    # WHEN each is unwrapped
    # THEN the envelope gives its Message, and raw delivery gives the body itself
    assert json.loads(unwrap_message(enveloped))["order_id"] == "ORD-1002"
    assert unwrap_message(cancelled_raw) == cancelled_raw
    assert unwrap_message(cancelled_enveloped) == cancelled_raw


def test_an_enveloped_record_parses_to_its_order_event(
    sample_event: Callable[[str], dict[str, Any]],
):
    body = sample_event("sqs_fulfilment_envelope.json")["Records"][0]["body"]

    event = parse_order_event(body)

    assert event.event_type is EventType.ORDER_PLACED
    assert event.order_id == "ORD-1001"
    assert str(event.event_id) == "3f1c2a9e-7b4d-4e21-9c55-0d8f6a1b2c01"


def test_a_raw_record_parses_to_its_order_event(sample_event: Callable[[str], dict[str, Any]]):
    body = sample_event("sqs_notifications_raw.json")["Records"][0]["body"]

    event = parse_order_event(body)

    assert event.event_type is EventType.ORDER_SHIPPED
    assert event.order_id == "ORD-0998"


def test_the_sample_poison_body_is_malformed(sample_event: Callable[[str], dict[str, Any]]):
    body = sample_event("sqs_fulfilment_poison.json")["Records"][1]["body"]

    with pytest.raises(MalformedMessageError, match="not JSON"):
        parse_order_event(body)


@pytest.mark.parametrize(
    ("body", "error", "expected"),
    [
        ("", MalformedMessageError, "not JSON"),
        ("[1, 2]", MalformedMessageError, "JSON list, not an object"),
        ('"order"', MalformedMessageError, "JSON str, not an object"),
        ('{"Type": "Notification", "Message": {"a": 1}}', MalformedMessageError, "no string"),
        ('{"Type": "Notification"}', MalformedMessageError, "no string Message"),
        ('{"Type": "Notification", "Message": "not json"}', InvalidOrderEventError, "not an order"),
        ('{"order_id": "ORD-1"}', InvalidOrderEventError, "event_id: Field required"),
    ],
)
def test_bodies_without_an_order_event_are_poison(
    body: str, error: type[PoisonMessageError], expected: str
):
    with pytest.raises(error, match=expected) as caught:
        parse_order_event(body)
    assert isinstance(caught.value, PoisonMessageError)


def test_an_enveloped_invalid_event_names_the_field(
    sample_event: Callable[[str], dict[str, Any]],
):
    # GIVEN an SNS envelope whose message has a negative amount
    envelope = json.loads(sample_event("sqs_fulfilment_envelope.json")["Records"][0]["body"])
    message = json.loads(envelope["Message"])
    envelope["Message"] = json.dumps({**message, "amount": -1})

    # WHEN it is parsed THEN the error names the field
    with pytest.raises(InvalidOrderEventError, match=r"amount: Input should be greater than"):
        parse_order_event(json.dumps(envelope))
