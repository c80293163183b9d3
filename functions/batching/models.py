"""The batching data shapes: items (validated with pydantic) and the values logic computes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from batching.contract import FailureKind, item_key

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64)]
#: A tenant is each message's `MessageGroupId`, which SQS limits to 128 characters of
#: letters, digits and punctuation; a narrower rule here keeps keys readable.
TenantId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Quantity = Annotated[Decimal, Field(ge=0, le=Decimal(10**12), allow_inf_nan=False)]


class Item(BaseModel):
    """One item, as producers enqueue it (the SQS message body) and the writer stores it.

    `item_id` is the caller's: it is the item's key in the table, so delivering an item twice
    writes the same key twice and leaves one item. Unknown fields are ignored.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    item_id: Identifier
    tenant_id: TenantId
    metric: Identifier
    quantity: Quantity
    recorded_at: AwareDatetime

    @property
    def key(self) -> dict[str, str]:
        return item_key(self.tenant_id, self.item_id)

    def to_attributes(self) -> dict[str, Any]:
        """The table item: the key plus the item's own fields, nothing that differs between
        deliveries, so a replay writes exactly what is already there."""
        return {
            **self.key,
            "item_id": self.item_id,
            "tenant_id": self.tenant_id,
            "metric": self.metric,
            "quantity": self.quantity,
            "recorded_at": self.recorded_at.isoformat(),
        }


class Enqueueable(BaseModel):
    """What the producer checks of an item before it sends it: an object with a tenant.

    The tenant becomes the message's `MessageGroupId` (SQS fair queues); everything else is
    the writer's to validate, as it is for items other producers send straight to the queue.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    tenant_id: TenantId


class ProduceRequest(BaseModel):
    """The producer's direct-invoke input: `{"items": [...]}`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    items: Annotated[list[Enqueueable], Field(min_length=1, max_length=1000)]


# --- what the functions compute (plain values, no validation) -------------------------------


@dataclass(frozen=True, kw_only=True)
class OutgoingMessage:
    """One message ready for SendMessageBatch; `entry_id` is unique per call."""

    entry_id: str
    index: int
    body: str
    group_id: str


@dataclass(frozen=True, kw_only=True)
class SendFailure:
    """A SendMessageBatch entry SQS did not accept (its `Failed` list)."""

    entry_id: str
    code: str
    message: str
    sender_fault: bool


@dataclass(frozen=True, kw_only=True)
class ProduceSummary:
    """The producer's answer: how many items are on the queue and which are not."""

    enqueued: int = 0
    failed: Sequence[dict[str, Any]] = ()
    send_calls: int = 0

    def to_response(self) -> dict[str, Any]:
        return {
            "enqueued_count": self.enqueued,
            "failed_count": len(self.failed),
            "failed": list(self.failed),
            "send_message_batch_calls": self.send_calls,
        }


@dataclass(frozen=True, kw_only=True)
class ReceivedItem:
    """One SQS record of the writer's batch, parsed or not."""

    message_id: str
    body: str
    receive_count: int
    item: Item | None = None
    #: Why the body is not an item (when `item` is None).
    invalid_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class ItemFailure:
    """A record whose item is not in the table, and why."""

    message_id: str
    kind: FailureKind
    reason: str


@dataclass(frozen=True, kw_only=True)
class WriteReport:
    """What one bulk write did: the keys written, the keys left unwritten and why."""

    written: int = 0
    calls: int = 0
    retries: int = 0
    #: Key (as `(pk, sk)`) -> reason, for items DynamoDB did not write.
    unwritten: Mapping[tuple[str, str], str] = field(default_factory=dict)
