"""The ETL data shapes: each source's record as it arrives, the one schema rows are loaded in,
and what each step reports."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from etl.contract import QuarantineReason, SourceFormat

OrderId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
CustomerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]


# --- the sources ---------------------------------------------------------------------------


#: The warehouse export's header, in order. Extra columns are refused: a renamed column would
#: otherwise load as a missing one.
CSV_COLUMNS = (
    "order_id",
    "customer_id",
    "country",
    "total",
    "currency",
    "weight",
    "weight_unit",
    "status",
    "ordered_at",
    "updated_at",
)


class ShopCustomer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str


class ShopAddress(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    country: str


class ShopAmount(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    #: A decimal string ("19.99"): floats would round money.
    value: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    currency: str


class ShopOrder(BaseModel):
    """One line of the web shop's feed (JSON Lines), as that system writes it: camelCase,
    nested objects, weights in grams, times in epoch milliseconds (UTC)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    id: str
    customer: ShopCustomer
    ship_to: ShopAddress = Field(alias="shipTo")
    amount: ShopAmount
    weight_grams: Annotated[float, Field(alias="weightGrams", ge=0, allow_inf_nan=False)]
    state: str
    created_at: Annotated[int, Field(alias="createdAt", strict=True)]
    updated_at: Annotated[int, Field(alias="updatedAt", strict=True)]


# --- the one schema ------------------------------------------------------------------------


class Order(BaseModel):
    """One row of the orders table, whichever source it came from.

    Times are UTC, the country is ISO 3166-1 alpha-2, the currency ISO 4217, the weight in
    kilograms (three decimals), the status one of `ORDER_STATUSES`; `source_*` say which file
    and line the row was read from (its lineage).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: OrderId
    customer_id: CustomerId
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    total: Annotated[Decimal, Field(ge=0, le=Decimal("1000000000"), decimal_places=2)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    weight_kg: Annotated[Decimal, Field(ge=0, le=Decimal("100000"), decimal_places=3)]
    status: str
    ordered_at: datetime.datetime
    updated_at: datetime.datetime
    source_format: SourceFormat
    source_key: str
    source_line: int

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# --- what the steps compute (plain values, no validation) -----------------------------------


@dataclass(frozen=True, kw_only=True)
class QuarantinedRow:
    """A row that is not in the table, where it came from, and why."""

    source_key: str
    #: The row's line number in its file (1-based; a CSV header is line 1).
    line: int
    kind: QuarantineReason
    reason: str
    #: The row as it arrived (text; bytes that are not UTF-8 as escapes).
    raw: str

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "source_key": self.source_key,
            "line": self.line,
            "reason_kind": self.kind.value,
            "reason": self.reason,
            "raw": self.raw,
        }


@dataclass(frozen=True, kw_only=True)
class FileResult:
    """One source file, read: its valid rows and its quarantined ones (together: every row)."""

    source_key: str
    orders: list[Order] = field(default_factory=list)
    quarantined: list[QuarantinedRow] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return len(self.orders) + len(self.quarantined)


@dataclass(frozen=True, kw_only=True)
class Merge:
    """A run's valid rows reduced to one per natural key, and the rows that lost."""

    winners: list[Order]
    superseded: list[QuarantinedRow]


# --- the steps' input, as the state machine sends it ----------------------------------------

RunId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


class TransformRequest(BaseModel):
    """One item of the Distributed Map: the run and one landed file's key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: RunId
    key: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class FileSummary(BaseModel):
    """What the transform of one file reports (the Map's result for that file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_key: str
    #: Where its valid rows were staged (None when it had none).
    staged_key: str | None
    #: Where its quarantined rows were written (None when it had none).
    quarantine_key: str | None
    rows_in: Annotated[int, Field(ge=0)]
    rows_valid: Annotated[int, Field(ge=0)]
    rows_quarantined: Annotated[int, Field(ge=0)]
    #: The file was gone when read: another run took it after this run listed it.
    taken_by_another_run: bool = False


class LoadRequest(BaseModel):
    """The load step's input: the run and every file's summary from the Map."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: RunId
    files: Annotated[list[FileSummary], Field(max_length=100_000)]
