"""The pub-sub data shapes: order events (validated with pydantic) and the values logic computes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_serializer,
)

from pub_sub.contract import EventType

#: Short identifiers keep ten events far below PublishBatch's 256 KiB aggregate payload limit.
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
#: SNS numeric filters compare values up to 1e9 with five digits after the point: an amount
#: outside that range or precision could be misrouted by the fraud_review filter.
Amount = Annotated[Decimal, Field(ge=0, le=Decimal(10**9), decimal_places=5, allow_inf_nan=False)]


class OrderEvent(BaseModel):
    """One order event: the message body of a topic notification.

    `event_id` is required and is the idempotency key every subscriber deduplicates on. The
    caller supplies it: an id generated here would be new on a retried invoke, and the
    republished duplicates would then slip past the subscribers' idempotency.

    Unknown fields are ignored (tolerant reader), so a publisher can add a field before every
    subscriber knows it.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: uuid.UUID
    event_type: EventType
    order_id: Identifier
    amount: Amount
    currency: CurrencyCode
    occurred_at: AwareDatetime
    customer_id: Identifier | None = None

    @field_serializer("amount", when_used="json")
    def _amount_as_json_number(self, amount: Decimal) -> int | float:
        # The fraud_review subscription filters on `amount` in the message body with a numeric
        # filter, which only matches a JSON number (pydantic writes a Decimal as a string).
        return int(amount) if amount == amount.to_integral_value() else float(amount)

    def to_message(self) -> str:
        """The JSON message body published to the topic (`amount` a number at the top level)."""
        return self.model_dump_json(exclude_none=True)


class PublishRequest(BaseModel):
    """The publisher's direct-invoke input: `{"events": [...]}`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    events: Annotated[list[OrderEvent], Field(min_length=1, max_length=100)]


# --- what the publisher and subscribers compute (plain values, no validation) ---------------


@dataclass(frozen=True, kw_only=True)
class PublishEntry:
    """One event ready to publish; `entry_id` is unique within the request, and so per batch."""

    entry_id: str
    index: int
    event: OrderEvent


@dataclass(frozen=True, kw_only=True)
class EntryFailure:
    """A PublishBatch entry that SNS did not accept (its `Failed` list)."""

    entry_id: str
    code: str
    message: str
    sender_fault: bool


@dataclass(frozen=True, kw_only=True)
class BatchOutcome:
    """What one PublishBatch call returned: entry id -> SNS message id, and the failures."""

    message_ids: Mapping[str, str]
    failures: Sequence[EntryFailure] = ()


@dataclass(frozen=True, kw_only=True)
class FailedEvent:
    index: int
    event_id: str
    code: str
    message: str
    sender_fault: bool


@dataclass(frozen=True, kw_only=True)
class PublishSummary:
    """The publisher's answer: which events are on the topic and which are not."""

    message_ids: Mapping[str, str] = field(default_factory=dict)
    failed: Sequence[FailedEvent] = ()

    def to_response(self) -> dict[str, Any]:
        return {
            "published_count": len(self.message_ids),
            "failed_count": len(self.failed),
            "message_ids": dict(self.message_ids),
            "failed": [
                {
                    "index": failure.index,
                    "event_id": failure.event_id,
                    "code": failure.code,
                    "message": failure.message,
                    "sender_fault": failure.sender_fault,
                }
                for failure in self.failed
            ],
        }


@dataclass(frozen=True, kw_only=True)
class LedgerUpdate:
    """One ledger item change: counters to ADD to and attributes to SET, in one write.

    ADD is deliberately not idempotent: applying an update twice counts twice, so only the
    idempotency layer stands between a redelivered message and a double effect.
    """

    pk: str
    sk: str
    add: Mapping[str, int | Decimal] = field(default_factory=dict)
    set: Mapping[str, str | int | Decimal] = field(default_factory=dict)
