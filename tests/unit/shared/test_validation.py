"""One way to refuse a handler's input: every problem, located, in one message."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field
from shared.validation import parse_request


class _Line(BaseModel):
    sku: str
    quantity: int = Field(ge=1)


class _Order(BaseModel):
    lines: list[_Line] = Field(min_length=1)


class _InvalidOrderError(ValueError):
    pass


def _parse(payload: object) -> _Order:
    return parse_request(
        _Order, payload, error=_InvalidOrderError, request="order", shape='{"lines": [...]}'
    )


def test_a_valid_payload_is_the_model():
    assert _parse({"lines": [{"sku": "a", "quantity": 2}]}) == _Order(
        lines=[_Line(sku="a", quantity=2)]
    )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([1, 2], 'invalid order: expected a JSON object {"lines": [...]}, got list'),
        (
            {"lines": [{"sku": "a", "quantity": 0}, {"quantity": 1}]},
            "invalid order: lines[0].quantity: Input should be greater than or equal to 1; "
            "lines[1].sku: Field required",
        ),
        ({}, "invalid order: lines: Field required"),
    ],
    ids=["not an object", "every problem located", "missing field"],
)
def test_an_invalid_payload_raises_the_callers_error_naming_every_problem(payload, message):
    with pytest.raises(_InvalidOrderError) as refused:
        _parse(payload)

    assert str(refused.value) == message
