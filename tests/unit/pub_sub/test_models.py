"""Unit tests of the order event model: what the publisher accepts and what it publishes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from pub_sub.contract import EventType
from pub_sub.models import OrderEvent


def test_sample_events_are_valid_order_events(sample_event: Callable[[str], dict[str, Any]]):
    # GIVEN the publisher's sample input
    payloads = sample_event("publish_orders.json")["events"]

    # WHEN each event is validated
    events = [OrderEvent.model_validate(payload) for payload in payloads]

    # THEN every field is typed
    assert [event.event_type for event in events] == [
        EventType.ORDER_PLACED,
        EventType.ORDER_PLACED,
        EventType.ORDER_SHIPPED,
        EventType.ORDER_CANCELLED,
    ]
    assert events[0].event_id == uuid.UUID("3f1c2a9e-7b4d-4e21-9c55-0d8f6a1b2c01")
    assert events[0].amount == Decimal("42.5")
    assert events[0].occurred_at.utcoffset() is not None


def test_customer_id_is_optional(order_event: Callable[..., OrderEvent]):
    assert order_event(customer_id=None).customer_id is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"event_id": None}, "event_id"),
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"event_type": "order_refunded"}, "event_type"),
        ({"order_id": ""}, "order_id"),
        ({"order_id": "x" * 65}, "order_id"),
        ({"amount": -0.01}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"amount": 1e10}, "amount"),
        ({"amount": 1.123456}, "amount"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-11-27T09:00:00"}, "occurred_at"),
    ],
)
def test_invalid_fields_are_rejected_by_name(
    order_payload: Callable[..., dict[str, Any]], overrides: dict[str, Any], field: str
):
    # GIVEN an event with one bad field
    payload = order_payload(**overrides)

    # WHEN it is validated THEN the error names that field
    with pytest.raises(ValidationError) as caught:
        OrderEvent.model_validate(payload)
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]


def test_unknown_fields_are_ignored(order_payload: Callable[..., dict[str, Any]]):
    # A tolerant reader: a field a newer publisher adds must not poison older subscribers.
    event = OrderEvent.model_validate(order_payload(channel="web"))

    assert "channel" not in event.model_dump()


@pytest.mark.parametrize(("amount", "expected"), [(1250, 1250), (42.5, 42.5), ("19.99", 19.99)])
def test_message_has_amount_as_a_top_level_json_number(
    order_event: Callable[..., OrderEvent], amount: Any, expected: float
):
    # GIVEN an event (the fraud_review filter matches `amount` numerically in the body)
    event = order_event(amount=amount)

    # WHEN it is rendered as the topic message
    message = json.loads(event.to_message())

    # THEN amount is a JSON number, and the message validates back to the same event
    assert message["amount"] == expected
    assert isinstance(message["amount"], int | float)
    assert OrderEvent.model_validate_json(event.to_message()) == event


def test_message_omits_an_absent_customer_id(order_event: Callable[..., OrderEvent]):
    message = json.loads(order_event(customer_id=None).to_message())

    assert "customer_id" not in message
    assert message["event_id"] == "3f1c2a9e-7b4d-4e21-9c55-0d8f6a1b2c01"
