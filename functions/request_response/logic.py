"""Pure rules of the items API: body guard, page tokens, new items and version changes (no I/O)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from request_response.errors import (
    BodyTooLargeError,
    InvalidPageTokenError,
    ItemNotFoundError,
    MalformedBodyError,
    VersionConflictError,
)
from request_response.models import Item, ItemCreate, ItemUpdate

#: Largest request body accepted, in bytes after base64 decoding. An item is well under 2 KiB;
#: the limit keeps a client from making the function parse (and pay for) megabytes.
MAX_BODY_BYTES = 16 * 1024

#: Upper bound on a page token's length: a token only ever holds one UUID key.
MAX_PAGE_TOKEN_LENGTH = 200
#: Tokens are unpadded URL-safe base64; anything else was not issued here. Checked before
#: decoding because base64's tolerance of stray padding differs between Python versions.
_PAGE_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def check_raw_body(body: str | None, *, is_base64_encoded: bool) -> None:
    """Reject a body over `MAX_BODY_BYTES` or one that cannot be decoded, before any parsing.

    Raises `BodyTooLargeError` or `MalformedBodyError`.
    """
    if not body:
        return
    if not is_base64_encoded:
        size = len(body.encode("utf-8"))
        if size > MAX_BODY_BYTES:
            raise BodyTooLargeError(size, MAX_BODY_BYTES)
        return
    # Size from the encoded length first, so an oversized body is never decoded.
    estimated = len(body) * 3 // 4 - body[-2:].count("=")
    if estimated > MAX_BODY_BYTES:
        raise BodyTooLargeError(estimated, MAX_BODY_BYTES)
    try:
        base64.b64decode(body, validate=True).decode("utf-8")
    except binascii.Error as error:
        raise MalformedBodyError("request body is marked base64-encoded but is not") from error
    except UnicodeDecodeError as error:
        raise MalformedBodyError("request body is not UTF-8 text") from error


def encode_page_token(last_evaluated_key: dict[str, Any]) -> str:
    """An opaque `next_token` for DynamoDB's `LastEvaluatedKey` (URL-safe base64 of JSON)."""
    raw = json.dumps(last_evaluated_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str) -> dict[str, str]:
    """The `ExclusiveStartKey` a token stands for; raises `InvalidPageTokenError` for anything else.

    The token is not signed: its only content is an item id, which a client can read anyway,
    so a forged well-formed token can do no more than start the listing elsewhere. What is
    checked is that it decodes canonically to exactly `{"id": "<uuid>"}`.
    """
    if len(token) > MAX_PAGE_TOKEN_LENGTH:
        raise InvalidPageTokenError("too long")
    if not _PAGE_TOKEN_ALPHABET.fullmatch(token):
        raise InvalidPageTokenError("not a token issued by this API")
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        key = json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise InvalidPageTokenError("not a token issued by this API") from error
    if not isinstance(key, dict) or set(key) != {"id"} or not isinstance(key["id"], str):
        raise InvalidPageTokenError("does not hold an item key")
    if not is_item_id(key["id"]):
        raise InvalidPageTokenError("does not hold an item id")
    if encode_page_token(key) != token:
        raise InvalidPageTokenError("not in the form this API issues")
    return key


def is_item_id(value: str) -> bool:
    """Whether `value` could be an id this API generated (a canonical UUID string)."""
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def new_item(draft: ItemCreate, *, item_id: str, now: datetime) -> Item:
    """The first version of an item created from `draft`."""
    return Item(id=item_id, **draft.model_dump(), version=1, created_at=now, updated_at=now)


@dataclass(frozen=True)
class ItemChange:
    """A full replacement of an item's client fields, valid only against `expected_version`."""

    item_id: str
    name: str
    description: str | None
    quantity: int
    expected_version: int
    new_version: int
    updated_at: datetime


def plan_update(item_id: str, update: ItemUpdate, *, now: datetime) -> ItemChange:
    """The change a `PUT` asks for: the version the client read, plus one."""
    return ItemChange(
        item_id=item_id,
        name=update.name,
        description=update.description,
        quantity=update.quantity,
        expected_version=update.version,
        new_version=update.version + 1,
        updated_at=now,
    )


def rejected_write_error(
    item_id: str, *, stored_version: int | None, expected_version: int
) -> ItemNotFoundError | VersionConflictError:
    """Why a write conditioned on `expected_version` was refused.

    No stored item means it never existed or was deleted (404); otherwise someone else wrote
    a newer version first (409), and the client must read it again before retrying.
    """
    if stored_version is None:
        return ItemNotFoundError(item_id)
    return VersionConflictError(item_id, expected=expected_version, current=stored_version)
