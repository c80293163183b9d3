"""The orchestration data shapes: the order a saga runs (validated with pydantic), the API's
requests and answers, and the plain values the participants return."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from orchestration.contract import FailureReason, OrderStatus, Workflow

#: An order id names the Step Functions execution and the durable execution, so it keeps to
#: what both accept (letters, digits, `-` and `_`, at most 64).
OrderId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,31}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]

#: Lines per order: a Map iteration each, and one transaction per line.
MAX_LINES = 25


def _whole_float_as_int(value: Any) -> Any:
    # JSON Schema counts 3.0 as an integer and JSON parsers hand it over as a float; strict
    # mode would refuse it. Only whole floats become int: 1.5, "3" and true still fail.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: An integer as JSON Schema defines one: `3` or `3.0`, never `3.5`, `"3"` or `true`.
JsonInteger = Annotated[int, BeforeValidator(_whole_float_as_int)]


class OrderLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Sku = Field(examples=["BOOK-1"])
    quantity: JsonInteger = Field(ge=1, le=1000, strict=True, examples=[2])
    unit_price_cents: JsonInteger = Field(ge=0, le=10_000_000, strict=True, examples=[1250])


class ShippingAddress(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Text
    line1: Text
    city: Text
    postcode: Annotated[str, StringConstraints(min_length=1, max_length=16)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        description="ISO 3166-1 alpha-2", examples=["IE"]
    )


class Order(BaseModel):
    """An order as a client places it; the saga's input in both workflows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: OrderId = Field(
        description="The client's id: placing the same order twice starts one saga"
    )
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    lines: list[OrderLine] = Field(min_length=1, max_length=MAX_LINES)
    payment_token: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    shipping_address: ShippingAddress

    @property
    def total_cents(self) -> int:
        return sum(line.quantity * line.unit_price_cents for line in self.lines)


class PlaceOrder(Order):
    """Body of `POST /orders` and detail of an `OrderPlaced` event: an order and its workflow."""

    workflow: Workflow = Field(
        default=Workflow.STEP_FUNCTIONS,
        description="Which implementation runs the saga",
    )

    def order(self) -> Order:
        return Order.model_validate(self.model_dump(exclude={"workflow"}))


class ApprovalDecision(BaseModel):
    """Body of `POST /orders/{order_id}/approval`."""

    model_config = ConfigDict(extra="forbid")

    approved: bool = Field(strict=True)
    comment: Annotated[str, StringConstraints(max_length=500)] | None = None


class OrderView(BaseModel):
    """An order's state, as `GET /orders/{order_id}` and `POST /orders` answer."""

    order_id: str
    workflow: Workflow
    status: OrderStatus
    total_cents: int
    execution_id: str | None = Field(
        default=None,
        description="The Step Functions execution ARN or the durable execution ARN",
    )
    failure_reason: FailureReason | None = None
    failure_cause: str | None = None
    compensations: list[str] = Field(
        default_factory=list, description="What was undone, in order: `refund`, `release:SKU`"
    )


class ErrorBody(BaseModel):
    message: str
    errors: list[dict[str, Any]] | None = None
