"""Request and response models of the items API; they also shape its OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 1000
QUANTITY_MAX = 1_000_000

_TIMESTAMP = TypeAdapter(datetime)


def _whole_float_as_int(value: Any) -> Any:
    # JSON Schema counts 192.0 as an integer, and JSON parsers hand it over as a float; strict
    # mode would refuse it. Only floats with no fraction become int: 1.5, "3" and true still fail.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: An integer as JSON Schema defines one: `3` or `3.0`, never `3.5`, `"3"` or `true`.
JsonInteger = Annotated[int, BeforeValidator(_whole_float_as_int)]


def timestamp_text(moment: datetime) -> str:
    """`moment` as the API writes timestamps (ISO 8601, UTC as `Z`), in the table and in JSON."""
    return _TIMESTAMP.dump_python(moment, mode="json")


class ItemFields(BaseModel):
    """The fields a client sets; shared by create and replace."""

    # strict: "5" is not a quantity and 5 is not a name; a client bug should surface as a 422.
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH, examples=["Blue widget"])
    description: str | None = Field(
        default=None, max_length=DESCRIPTION_MAX_LENGTH, examples=["A widget, but blue"]
    )
    quantity: JsonInteger = Field(ge=0, le=QUANTITY_MAX, examples=[3])


class ItemCreate(ItemFields):
    """Body of `POST /items`."""


class ItemUpdate(ItemFields):
    """Body of `PUT /items/{id}`: the full new state plus the version it was based on."""

    version: JsonInteger = Field(
        ge=1, description="The version the client read; the write fails with 409 if it moved on"
    )


class Item(BaseModel):
    """An item as stored and returned."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Server-generated UUID")
    name: str
    description: str | None = None
    quantity: int
    version: int = Field(description="Starts at 1; each successful PUT adds 1")
    created_at: datetime
    updated_at: datetime


class ItemPage(BaseModel):
    """One page of `GET /items`."""

    items: list[Item]
    next_token: str | None = Field(
        description="Pass as `next_token` to get the next page; null on the last page"
    )


class ErrorDetail(BaseModel):
    """One problem with the request: where it is and what is wrong."""

    location: str = Field(examples=["body.quantity"])
    message: str = Field(examples=["Input should be greater than or equal to 0"])
    type: str = Field(examples=["greater_than_equal"])


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer has this shape."""

    message: str
    errors: list[ErrorDetail] | None = None
