"""The API gateway pattern's data: requests the services take, and what they store."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

ItemId = Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")]


class CatalogItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    item_id: ItemId
    name: str
    category: str
    unit_price: Decimal


class OrderRequest(BaseModel):
    """POST /orders' body; the gateway's model holds it to the same rules first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: ItemId
    quantity: Annotated[int, Field(ge=1, le=100)]


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    customer: str
    item_id: str
    quantity: int
    total: Decimal

    def to_response(self) -> dict[str, object]:
        return {**self.model_dump(mode="json"), "total": str(self.total)}


class Feedback(BaseModel):
    """One message the feedback route's mapping template put on the queue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feedback_id: Annotated[str, Field(min_length=1)]
    customer: Annotated[str, Field(min_length=1)]
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=1000)] = ""
    received_at_ms: int
