"""Validation rules of the request-response models (what becomes a 422)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from request_response.models import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    QUANTITY_MAX,
    ErrorBody,
    Item,
    ItemCreate,
    ItemUpdate,
    timestamp_text,
)


def _error_types(error: ValidationError) -> set[tuple[str, str]]:
    return {(".".join(str(part) for part in e["loc"]), e["type"]) for e in error.errors()}


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "x", "quantity": 0},
        {"name": "x" * NAME_MAX_LENGTH, "quantity": QUANTITY_MAX},
        {"name": "x", "quantity": 1, "description": "d" * DESCRIPTION_MAX_LENGTH},
        {"name": "x", "quantity": 1, "description": None},
        {"name": "x", "quantity": 192.0},  # JSON Schema's integer: a number with no fraction
    ],
)
def test_valid_create_bodies(fields):
    assert ItemCreate.model_validate(fields).name == fields["name"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"quantity": 1}, {("name", "missing")}),
        ({"name": "", "quantity": 1}, {("name", "string_too_short")}),
        ({"name": "x" * (NAME_MAX_LENGTH + 1), "quantity": 1}, {("name", "string_too_long")}),
        ({"name": 5, "quantity": 1}, {("name", "string_type")}),
        ({"name": "x", "quantity": -1}, {("quantity", "greater_than_equal")}),
        ({"name": "x", "quantity": QUANTITY_MAX + 1}, {("quantity", "less_than_equal")}),
        ({"name": "x", "quantity": "1"}, {("quantity", "int_type")}),
        ({"name": "x", "quantity": True}, {("quantity", "int_type")}),
        ({"name": "x", "quantity": 1.5}, {("quantity", "int_type")}),
        ({"name": "x", "quantity": float("inf")}, {("quantity", "int_type")}),
        ({"name": "x", "quantity": float("nan")}, {("quantity", "int_type")}),
        ({"name": "x", "quantity": 1e300}, {("quantity", "less_than_equal")}),
        (
            {"name": "x", "quantity": 1, "description": "d" * (DESCRIPTION_MAX_LENGTH + 1)},
            {("description", "string_too_long")},
        ),
        ({"name": "x", "quantity": 1, "colour": "blue"}, {("colour", "extra_forbidden")}),
    ],
)
def test_invalid_create_bodies_name_field_and_rule(fields, expected):
    with pytest.raises(ValidationError) as raised:
        ItemCreate.model_validate(fields)
    assert _error_types(raised.value) == expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [(0, {("version", "greater_than_equal")}), ("2", {("version", "int_type")})],
)
def test_update_needs_a_positive_integer_version(version, expected):
    with pytest.raises(ValidationError) as raised:
        ItemUpdate.model_validate({"name": "x", "quantity": 1, "version": version})
    assert _error_types(raised.value) == expected


def test_update_without_version_is_refused():
    with pytest.raises(ValidationError) as raised:
        ItemUpdate.model_validate({"name": "x", "quantity": 1})
    assert _error_types(raised.value) == {("version", "missing")}


def test_item_reads_dynamodb_numbers_and_timestamps():
    # GIVEN an item as the DynamoDB resource API returns it (numbers as Decimal)
    from decimal import Decimal

    raw = {
        "id": "0b7c7e4e-5d0f-4a57-9a52-7f2f6c1d2e3a",
        "name": "x",
        "quantity": Decimal(3),
        "version": Decimal(2),
        "created_at": "2026-11-27T09:51:49Z",
        "updated_at": "2026-11-27T09:51:50.5Z",
    }

    # WHEN it is validated THEN it has ints and aware datetimes
    item = Item.model_validate(raw)
    assert (item.quantity, item.version) == (3, 2)
    assert item.created_at == datetime(2026, 11, 27, 9, 51, 49, tzinfo=UTC)


def test_timestamps_are_written_in_utc_with_z():
    assert timestamp_text(datetime(2026, 11, 27, 9, 51, 49, tzinfo=UTC)) == "2026-11-27T09:51:49Z"


def test_error_body_leaves_out_errors_when_there_are_none():
    body = ErrorBody(message="item 'x' does not exist")
    assert body.model_dump(exclude_none=True) == {"message": "item 'x' does not exist"}
