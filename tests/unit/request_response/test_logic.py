"""Pure rules of the request-response pattern: body guard, page tokens, versions, new items."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import pytest

from request_response.errors import (
    BodyTooLargeError,
    InvalidPageTokenError,
    ItemNotFoundError,
    MalformedBodyError,
    VersionConflictError,
)
from request_response.logic import (
    MAX_BODY_BYTES,
    PAGE_TOKEN_LENGTH,
    PAGE_TOKEN_PATTERN,
    check_raw_body,
    decode_page_token,
    encode_page_token,
    is_item_id,
    new_item,
    plan_update,
    rejected_write_error,
)
from request_response.models import ItemCreate, ItemUpdate

ITEM_ID = "0b7c7e4e-5d0f-4a57-9a52-7f2f6c1d2e3a"
NOW = datetime(2026, 11, 27, 9, 51, 49, tzinfo=UTC)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# --- body guard --------------------------------------------------------------------------


@pytest.mark.parametrize("body", [None, "", "{}", "x" * MAX_BODY_BYTES])
def test_bodies_up_to_the_limit_pass(body):
    # GIVEN a body at most MAX_BODY_BYTES long WHEN it is checked THEN nothing is raised
    check_raw_body(body, is_base64_encoded=False)


def test_body_over_the_limit_raises_with_its_size():
    # GIVEN one byte too many WHEN it is checked
    with pytest.raises(BodyTooLargeError) as raised:
        check_raw_body("x" * (MAX_BODY_BYTES + 1), is_base64_encoded=False)

    # THEN the error carries the size and the limit
    assert raised.value.size == MAX_BODY_BYTES + 1
    assert raised.value.limit == MAX_BODY_BYTES


def test_body_size_counts_utf8_bytes_not_characters():
    # GIVEN few characters but many bytes ("é" is two bytes in UTF-8)
    body = "é" * (MAX_BODY_BYTES // 2 + 1)

    # WHEN checked THEN it is too large
    with pytest.raises(BodyTooLargeError):
        check_raw_body(body, is_base64_encoded=False)


@pytest.mark.parametrize("size", [MAX_BODY_BYTES - 1, MAX_BODY_BYTES])
def test_base64_body_at_the_limit_passes(size):
    # GIVEN a base64 body whose decoded size is within the limit (all padding cases)
    check_raw_body(_b64(b"x" * size), is_base64_encoded=True)


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, MAX_BODY_BYTES + 2, MAX_BODY_BYTES + 3])
def test_base64_body_is_measured_decoded(size):
    # GIVEN a base64 body whose decoded size is over the limit
    with pytest.raises(BodyTooLargeError) as raised:
        check_raw_body(_b64(b"x" * size), is_base64_encoded=True)

    # THEN the size reported is the decoded size
    assert raised.value.size == size


def test_huge_base64_body_is_rejected_without_decoding():
    # GIVEN several MB of characters that are not even valid base64
    body = "!" * (6 * 1024 * 1024)

    # WHEN checked THEN it is "too large", not "malformed": its length settled it
    with pytest.raises(BodyTooLargeError):
        check_raw_body(body, is_base64_encoded=True)


@pytest.mark.parametrize("body", ['{"name": "x"}', "abc", "YWJj!==="])
def test_body_flagged_base64_that_is_not_raises_malformed(body):
    with pytest.raises(MalformedBodyError, match="base64"):
        check_raw_body(body, is_base64_encoded=True)


def test_base64_body_that_is_not_utf8_raises_malformed():
    with pytest.raises(MalformedBodyError, match="UTF-8"):
        check_raw_body(_b64(b"\xff\xfe\x00"), is_base64_encoded=True)


# --- page tokens -------------------------------------------------------------------------


def test_page_token_round_trips():
    # GIVEN DynamoDB's LastEvaluatedKey WHEN encoded and decoded THEN it is unchanged
    key = {"id": ITEM_ID}
    token = encode_page_token(key)
    assert decode_page_token(token) == key


def test_page_token_is_url_safe_opaque_and_of_the_documented_form():
    token = encode_page_token({"id": ITEM_ID})
    # THEN it needs no escaping in a query string, does not show the id, and is what the
    # OpenAPI document allows
    assert re.fullmatch(PAGE_TOKEN_PATTERN, token)
    assert len(token) == PAGE_TOKEN_LENGTH
    assert ITEM_ID not in token


@pytest.mark.parametrize(
    "token",
    [
        "",
        "%%%",
        "A" * (PAGE_TOKEN_LENGTH - 1),
        "A" * (PAGE_TOKEN_LENGTH + 1),
        "A" * (PAGE_TOKEN_LENGTH - 1) + "B",  # bits past the 16 bytes of a UUID
        encode_page_token({"id": ITEM_ID}) + "=",
        base64.urlsafe_b64encode(json.dumps({"id": ITEM_ID}).encode()).decode(),
    ],
)
def test_tokens_not_of_the_documented_form_are_rejected(token):
    with pytest.raises(InvalidPageTokenError) as raised:
        decode_page_token(token)
    assert raised.value.message.startswith("next_token is invalid")


@pytest.mark.parametrize("last", "AQgw")
@pytest.mark.parametrize("body", ["A" * 21, "_" * 21, "-" * 21, "aZ09_-" * 3 + "xyz"])
def test_every_token_the_pattern_allows_decodes_to_an_item_key(body, last):
    # GIVEN any string of the documented form (what a schema-driven client may send)
    token = body + last
    assert re.fullmatch(PAGE_TOKEN_PATTERN, token)

    # WHEN it is decoded THEN it is the key of some item id, and encodes back to itself
    key = decode_page_token(token)
    assert set(key) == {"id"}
    assert is_item_id(key["id"])
    assert encode_page_token(key) == token


# --- ids, new items and versions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (ITEM_ID, True),
        (ITEM_ID.upper(), False),
        ("{" + ITEM_ID + "}", False),
        (ITEM_ID.replace("-", ""), False),
        ("", False),
        ("x" * 3000, False),
    ],
)
def test_item_ids_are_canonical_uuids(value, expected):
    assert is_item_id(value) is expected


def test_new_item_starts_at_version_1_with_both_timestamps_now():
    # GIVEN a valid draft
    draft = ItemCreate(name="Blue widget", quantity=3)

    # WHEN it becomes an item
    item = new_item(draft, item_id=ITEM_ID, now=NOW)

    # THEN it carries the draft's fields, version 1, and created == updated
    assert item.id == ITEM_ID
    assert (item.name, item.description, item.quantity) == ("Blue widget", None, 3)
    assert item.version == 1
    assert item.created_at == item.updated_at == NOW


def test_plan_update_expects_the_client_version_and_writes_the_next():
    # GIVEN a client that read version 4
    update = ItemUpdate(name="n", description="d", quantity=2, version=4)

    # WHEN the change is planned
    change = plan_update(ITEM_ID, update, now=NOW)

    # THEN the write is conditioned on 4 and produces 5
    assert change.expected_version == 4
    assert change.new_version == 5
    assert (change.item_id, change.name, change.description, change.quantity) == (
        ITEM_ID,
        "n",
        "d",
        2,
    )
    assert change.updated_at == NOW


def test_rejected_write_on_a_missing_item_is_not_found():
    error = rejected_write_error(ITEM_ID, stored_version=None, expected_version=1)
    assert isinstance(error, ItemNotFoundError)
    assert error.item_id == ITEM_ID


def test_rejected_write_on_another_version_is_a_conflict():
    # GIVEN the store holds version 3 and the client wrote against 2
    error = rejected_write_error(ITEM_ID, stored_version=3, expected_version=2)

    # THEN it is a conflict that tells the client the current version
    assert isinstance(error, VersionConflictError)
    assert (error.expected, error.current) == (2, 3)
    assert "version 3" in error.message
