"""Unit tests of each subscriber's pure effect: the ledger updates it makes per event type."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from pub_sub.contract import EventType, SubscriberName
from pub_sub.errors import InvalidOrderEventError, UnexpectedEventError
from pub_sub.logic import EFFECTS, effects_for
from pub_sub.models import LedgerUpdate, OrderEvent

AUDIT = {
    "last_event_id": "3f1c2a9e-7b4d-4e21-9c55-0d8f6a1b2c01",
    "updated_at": "2026-11-27T09:00:00+00:00",
}


def test_fulfilment_reserves_stock_for_a_placed_order(order_event: Callable[..., OrderEvent]):
    updates = effects_for(SubscriberName.FULFILMENT, order_event())

    assert updates == (
        LedgerUpdate(
            pk="ORDER#ORD-1001",
            sk=SubscriberName.FULFILMENT,
            add={"reservations": 1},
            set={
                "status": "stock_reserved",
                "amount": Decimal("42.5"),
                "currency": "EUR",
                "last_event_type": EventType.ORDER_PLACED,
                **AUDIT,
            },
        ),
    )


def test_fulfilment_releases_stock_for_a_cancelled_order(order_event: Callable[..., OrderEvent]):
    updates = effects_for(
        SubscriberName.FULFILMENT, order_event(event_type=EventType.ORDER_CANCELLED)
    )

    assert updates == (
        LedgerUpdate(
            pk="ORDER#ORD-1001",
            sk=SubscriberName.FULFILMENT,
            add={"releases": 1},
            set={"status": "stock_released", "last_event_type": EventType.ORDER_CANCELLED, **AUDIT},
        ),
    )


@pytest.mark.parametrize(
    ("event_type", "text"),
    [
        (EventType.ORDER_SHIPPED, "Your order ORD-1001 has shipped."),
        (EventType.ORDER_CANCELLED, "Your order ORD-1001 was cancelled."),
    ],
)
def test_notifications_records_a_notice_to_the_customer(
    order_event: Callable[..., OrderEvent], event_type: str, text: str
):
    updates = effects_for(SubscriberName.NOTIFICATIONS, order_event(event_type=event_type))

    assert updates == (
        LedgerUpdate(
            pk="ORDER#ORD-1001",
            sk=SubscriberName.NOTIFICATIONS,
            add={"notifications_sent": 1},
            set={
                "recipient": "CUST-17",
                "last_message": text,
                "last_event_type": event_type,
                **AUDIT,
            },
        ),
    )


def test_notifications_cannot_address_an_order_without_customer(
    order_event: Callable[..., OrderEvent],
):
    event = order_event(event_type=EventType.ORDER_SHIPPED, customer_id=None)

    with pytest.raises(InvalidOrderEventError, match="need a customer_id"):
        effects_for(SubscriberName.NOTIFICATIONS, event)


def test_fraud_review_opens_a_review_and_counts_it_for_the_day(
    order_event: Callable[..., OrderEvent],
):
    updates = effects_for(SubscriberName.FRAUD_REVIEW, order_event(amount=1250))

    assert updates == (
        LedgerUpdate(
            pk="ORDER#ORD-1001",
            sk=SubscriberName.FRAUD_REVIEW,
            add={"reviews_requested": 1},
            set={
                "status": "pending_review",
                "amount": Decimal(1250),
                "currency": "EUR",
                "customer_id": "CUST-17",
                "last_event_type": EventType.ORDER_PLACED,
                **AUDIT,
            },
        ),
        LedgerUpdate(
            pk="FRAUD_REVIEW#2026-11-27",
            sk="TOTAL#EUR",
            add={"reviews": 1, "amount_under_review": Decimal(1250)},
        ),
    )


@pytest.mark.parametrize(
    ("subscriber", "event_type"),
    [
        (SubscriberName.FULFILMENT, EventType.ORDER_SHIPPED),
        (SubscriberName.NOTIFICATIONS, EventType.ORDER_PLACED),
        (SubscriberName.FRAUD_REVIEW, EventType.ORDER_SHIPPED),
        (SubscriberName.FRAUD_REVIEW, EventType.ORDER_CANCELLED),
    ],
)
def test_an_event_the_filter_should_have_dropped_is_an_error(
    order_event: Callable[..., OrderEvent], subscriber: SubscriberName, event_type: str
):
    with pytest.raises(UnexpectedEventError, match=f"{subscriber.value} has no effect for"):
        effects_for(subscriber, order_event(event_type=event_type))


def test_every_subscriber_has_an_effect_and_every_event_type_a_subscriber():
    assert set(EFFECTS) == set(SubscriberName)
    assert {event_type for effects in EFFECTS.values() for event_type in effects} == set(EventType)
