"""Typed failures of the pub-sub pattern: what the publisher rejects and what a consumer fails."""

from __future__ import annotations

from pub_sub.models import PublishSummary


class PubSubError(Exception):
    """Base of every failure this pattern raises on purpose."""


class InvalidPublishRequestError(PubSubError):
    """The publisher's input is not a list of valid order events; nothing was published."""


class PublishBatchRefusedError(PubSubError):
    """SNS refused a whole PublishBatch call, after botocore's retries; `code` says why."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class PublishFailedError(PubSubError):
    """Publishing stopped part-way; the message says which events are on the topic.

    `summary` holds what was published (and rejected) before the refusal.
    """

    def __init__(self, message: str, *, summary: PublishSummary) -> None:
        super().__init__(message)
        self.summary = summary


class PoisonMessageError(PubSubError):
    """A record that will fail on every delivery: it ends in the subscriber's DLQ."""


class MalformedMessageError(PoisonMessageError):
    """The SQS body is neither an SNS notification envelope nor a raw JSON message."""


class InvalidOrderEventError(PoisonMessageError):
    """The message is JSON but not a valid order event."""


class UnexpectedEventError(PoisonMessageError):
    """The subscriber has no effect for this event: its filter policy should have dropped it."""


class InvalidSettingError(PubSubError):
    """A setting the stack defines holds a value this code does not know."""
