"""Typed failures of the batching pattern: what the producer rejects and what an item fails."""

from __future__ import annotations

from batching.contract import FailureKind


class BatchingError(Exception):
    """Base of every failure this pattern raises on purpose."""


class InvalidProduceRequestError(BatchingError):
    """The producer's input is not `{"items": [...]}` of objects with a tenant; nothing was sent."""


class SendBatchRefusedError(BatchingError):
    """SQS refused a whole SendMessageBatch call, after botocore's retries; `code` says why."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class ItemFailedError(BatchingError):
    """One item did not reach the table; `kind` and the message are its dead-letter reason."""

    kind: FailureKind


class InvalidItemError(ItemFailedError):
    """The message body is not a valid item (not JSON, or a field breaks a rule)."""

    kind = FailureKind.VALIDATION


class ItemNotWrittenError(ItemFailedError):
    """DynamoDB did not write the item: unprocessed after every retry, or the call failed."""

    kind = FailureKind.PERSISTENCE
