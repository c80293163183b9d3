"""Fixtures for the pub-sub unit tests: order events and SQS records from events/pub_sub/."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

from pub_sub.models import OrderEvent
from tests.samples import load_event


@pytest.fixture
def sample_event() -> Callable[[str], dict[str, Any]]:
    """Load a sample event from events/pub_sub/ (a fresh copy each call, free to tweak)."""

    return functools.partial(load_event, "pub_sub")


@pytest.fixture
def order_payload(sample_event: Callable[[str], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """`order_payload(**overrides)`: the first event of publish_orders.json, as a dict.

    An override of None removes the field.
    """

    def make(**overrides: Any) -> dict[str, Any]:
        payload = sample_event("publish_orders.json")["events"][0]
        for name, value in overrides.items():
            if value is None:
                payload.pop(name, None)
            else:
                payload[name] = value
        return payload

    return make


@pytest.fixture
def order_event(order_payload: Callable[..., dict[str, Any]]) -> Callable[..., OrderEvent]:
    """`order_event(**overrides)`: a validated `OrderEvent` built from `order_payload`."""

    def make(**overrides: Any) -> OrderEvent:
        return OrderEvent.model_validate(order_payload(**overrides))

    return make
