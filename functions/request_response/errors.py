"""Domain errors of the items API; `api.py` maps each type to an HTTP status."""

from __future__ import annotations


class ItemsError(Exception):
    """Base of every error a client can cause; its message is safe to show to the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ItemNotFoundError(ItemsError):
    """No item has this id (or it was deleted)."""

    def __init__(self, item_id: str) -> None:
        super().__init__(f"item {item_id!r} does not exist")
        self.item_id = item_id


class VersionConflictError(ItemsError):
    """The client wrote against a version that is no longer the stored one."""

    def __init__(self, item_id: str, *, expected: int, current: int) -> None:
        super().__init__(
            f"item {item_id!r} is at version {current}, not {expected}: "
            "read it again, reapply your change and send the current version"
        )
        self.item_id = item_id
        self.expected = expected
        self.current = current


class InvalidPageTokenError(ItemsError):
    """`next_token` is not a token this API issued."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"next_token is invalid: {reason}; start again without next_token")


class BodyTooLargeError(ItemsError):
    """The raw request body is larger than the API accepts."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"request body is {size} bytes; the limit is {limit} bytes")
        self.size = size
        self.limit = limit


class MalformedBodyError(ItemsError):
    """The body cannot be decoded (bad base64, not UTF-8, not JSON)."""


class UnsupportedMediaTypeError(ItemsError):
    """A request that carries a body did not declare it as JSON."""

    def __init__(self) -> None:
        super().__init__("send the body as JSON, with the header Content-Type: application/json")


class IdempotencyKeyReusedError(ItemsError):
    """An `Idempotency-Key` already used for a different request body."""

    def __init__(self) -> None:
        super().__init__(
            "Idempotency-Key was already used with a different request body: "
            "use a new key for a new request"
        )


class RequestInProgressError(ItemsError):
    """A request with the same `Idempotency-Key` is still being processed."""

    def __init__(self) -> None:
        super().__init__(
            "a request with this Idempotency-Key is still in progress: retry in a moment"
        )


class CreatedItemDeletedError(ItemsError):
    """The item an `Idempotency-Key` created has been deleted since, so its create cannot be
    replayed truthfully."""

    def __init__(self, item_id: str) -> None:
        super().__init__(
            f"the item this Idempotency-Key created, {item_id!r}, has been deleted since: "
            "use a new key to create another item"
        )
        self.item_id = item_id


class StorageUnavailableError(ItemsError):
    """DynamoDB throttled or failed after the SDK's own retries; the client may retry."""

    def __init__(self) -> None:
        super().__init__("the item store is busy or unavailable: retry with backoff")
