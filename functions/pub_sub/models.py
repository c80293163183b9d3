"""The order events the publisher sends and every subscriber receives, validated with pydantic."""

from __future__ import annotations

import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_serializer,
)


class EventType(StrEnum):
    """The event types on the topic; the subscriptions' filter policies select on these."""

    ORDER_PLACED = "order_placed"
    ORDER_SHIPPED = "order_shipped"
    ORDER_CANCELLED = "order_cancelled"


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


class SubscriberName(StrEnum):
    """The subscribers the stack defines; a consumer reads its own from SUBSCRIBER_NAME."""

    FULFILMENT = "fulfilment"
    NOTIFICATIONS = "notifications"
    FRAUD_REVIEW = "fraud_review"
