"""Pure rules of the items API: body guard, page tokens, new items and version changes (no I/O)."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.routes import RouteTable, is_json_media_type

from request_response.contract import ROUTES
from request_response.errors import (
    BodyTooLargeError,
    InvalidPageTokenError,
    ItemNotFoundError,
    MalformedBodyError,
    UnsupportedMediaTypeError,
    VersionConflictError,
)
from request_response.models import Item, ItemCreate, ItemUpdate

#: Largest request body accepted, in bytes after base64 decoding. An item is well under 2 KiB;
#: the limit keeps a client from making the function parse (and pay for) megabytes.
MAX_BODY_BYTES = 16 * 1024

#: A page token is the 16 bytes of the last item's UUID in unpadded URL-safe base64: 22
#: characters, the last of which carries only 2 bits (so it is one of `A`, `Q`, `g`, `w`). Every
#: string of this form decodes to a UUID, so the pattern is the whole rule: what the OpenAPI
#: document allows, the API accepts.
PAGE_TOKEN_LENGTH = 22
PAGE_TOKEN_PATTERN = r"^[A-Za-z0-9_-]{21}[AQgw]$"  # noqa: S105 (a page token, not a secret)
_PAGE_TOKEN = re.compile(PAGE_TOKEN_PATTERN)


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


def check_json_content_type(content_type: str | None) -> None:
    """Accept only a JSON body: `application/json`, in any letter case, with any parameters
    (`; charset=utf-8`). Raises `UnsupportedMediaTypeError` for any other value, an empty one
    or none at all: a body whose type is not declared is not guessed at.
    """
    if not is_json_media_type(content_type):
        raise UnsupportedMediaTypeError


def encode_page_token(last_evaluated_key: dict[str, Any]) -> str:
    """The opaque `next_token` for DynamoDB's `LastEvaluatedKey` (`{"id": <uuid>}`)."""
    raw = uuid.UUID(last_evaluated_key["id"]).bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str) -> dict[str, str]:
    """The `ExclusiveStartKey` a token stands for; raises `InvalidPageTokenError` for anything
    that does not match `PAGE_TOKEN_PATTERN`.

    The token is not signed: its only content is an item id, which a client can read anyway,
    so a forged token can do no more than start the listing elsewhere.
    """
    if not _PAGE_TOKEN.fullmatch(token):
        raise InvalidPageTokenError(f"a token is {PAGE_TOKEN_LENGTH} characters of URL-safe base64")
    raw = base64.urlsafe_b64decode(token + "==")
    return {"id": str(uuid.UUID(bytes=raw))}


#: The methods the API serves on a path (sorted, for an `Allow` header); empty if none.
allowed_methods = RouteTable(ROUTES).allowed_methods


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
