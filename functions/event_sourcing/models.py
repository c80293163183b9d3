"""The account ledger's data: the aggregate's state and its stored events (plain dataclasses the
pure logic folds), and the API's request and response models (pydantic, which also shape its
OpenAPI document)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

ACCOUNT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
COMMAND_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
OWNER_MAX_LENGTH = 100
#: One command moves at most this many cents (a million units); balances stay within int64.
AMOUNT_MAX_CENTS = 100_000_000


class Status(StrEnum):
    """Where an account is in its life."""

    NEW = "new"  # no event yet: what a load starts from
    OPEN = "open"
    CLOSED = "closed"


class EventType(StrEnum):
    ACCOUNT_OPENED = "AccountOpened"
    MONEY_DEPOSITED = "MoneyDeposited"
    MONEY_WITHDRAWN = "MoneyWithdrawn"
    ACCOUNT_CLOSED = "AccountClosed"


@dataclass(frozen=True, kw_only=True)
class Account:
    """An account's state as of `version` (0: no event yet)."""

    account_id: str
    version: int = 0
    status: Status = Status.NEW
    owner: str | None = None
    currency: str | None = None
    balance_cents: int = 0
    #: `recorded_at` of the event at `version`: a new event is never recorded before it.
    updated_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "version": self.version,
            "status": self.status.value,
            "owner": self.owner,
            "currency": self.currency,
            "balance_cents": self.balance_cents,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Account:
        return cls(
            account_id=str(raw["account_id"]),
            version=int(raw["version"]),
            status=Status(raw["status"]),
            owner=raw.get("owner"),
            currency=raw.get("currency"),
            balance_cents=int(raw["balance_cents"]),
            updated_at=raw.get("updated_at"),
        )


@dataclass(frozen=True, kw_only=True)
class NewEvent:
    """What a command decided happened, before it has a version."""

    type: EventType
    data: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class StoredEvent:
    """An event as the store keeps it: the `version` it brought its account to, the schema
    version its `data` was written in, when, and by which command."""

    account_id: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    recorded_at: str
    command_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "version": self.version,
            "type": self.type,
            "schema_version": self.schema_version,
            "data": self.data,
            "recorded_at": self.recorded_at,
            "command_id": self.command_id,
        }


@dataclass(frozen=True, kw_only=True)
class Loaded:
    """An account's state, and what loading it read: the snapshot it started from (its
    version, 0 for none) and the events read after it."""

    account: Account
    snapshot_version: int = 0
    events_read: int = 0


@dataclass(frozen=True, kw_only=True)
class CommandRecord:
    """What a command did, kept so that the same command sent again changes nothing and gets
    the same answer."""

    command_id: str
    account_id: str
    fingerprint: str
    versions: tuple[int, ...]
    events: tuple[dict[str, Any], ...] = field(default=())


@dataclass(frozen=True, kw_only=True)
class AppendPlan:
    """Everything one command writes, in one transaction: its events (versions
    `expected_version + 1` on), the account's new head, its command record, and a snapshot of
    the new state when one is due."""

    account_id: str
    expected_version: int
    events: tuple[StoredEvent, ...]
    state: Account
    command: CommandRecord
    snapshot: Account | None


# --- The API's models ---------------------------------------------------------------------


def _whole_float_as_int(value: Any) -> Any:
    # JSON Schema counts 25.0 as an integer and JSON parsers hand it over as a float, which
    # strict mode would refuse; only floats with no fraction become int ("25", 2.5 still fail).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_WHOLE_FLOAT = BeforeValidator(_whole_float_as_int)
#: Integers as JSON Schema defines them: `3` or `3.0`, never `3.5`, `"3"` or `true`. The
#: bounds sit inside, on the integer, so the document states them as minimum and maximum.
Cents = Annotated[int, Field(ge=1, le=AMOUNT_MAX_CENTS), _WHOLE_FLOAT]
Version = Annotated[int, Field(ge=0, le=2**53), _WHOLE_FLOAT]
InitialCents = Annotated[int, Field(ge=0, le=AMOUNT_MAX_CENTS), _WHOLE_FLOAT]


class _CommandBase(BaseModel):
    # strict: "5" is not an amount; a client bug should surface as a 422.
    model_config = ConfigDict(extra="forbid", strict=True)

    command_id: str = Field(
        pattern=COMMAND_ID_PATTERN,
        description="Chosen by the client, unique per command: sending the same command again "
        "with it changes nothing and answers as the first time",
        examples=["cmd-0001"],
    )
    expected_version: Version | None = Field(
        default=None,
        description="The account version the client decided on; 409 if it moved on. Without "
        "it, the version the server read (a command racing another still gets 409)",
    )


class OpenAccount(_CommandBase):
    type: Literal["open"]
    owner: str = Field(min_length=1, max_length=OWNER_MAX_LENGTH, examples=["Ada Lovelace"])
    currency: str = Field(default="EUR", pattern=CURRENCY_PATTERN)
    initial_deposit_cents: InitialCents = 0


class Deposit(_CommandBase):
    type: Literal["deposit"]
    amount_cents: Cents


class Withdraw(_CommandBase):
    type: Literal["withdraw"]
    amount_cents: Cents


class CloseAccount(_CommandBase):
    type: Literal["close"]


Command = Annotated[OpenAccount | Deposit | Withdraw | CloseAccount, Field(discriminator="type")]


class EventBody(BaseModel):
    """One event of an account's history, in its current schema."""

    account_id: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    recorded_at: str
    command_id: str


class CommandResult(BaseModel):
    """What a command appended, and the account's version after it."""

    account_id: str
    version: int
    events: list[EventBody]
    replayed: bool = Field(description="true when this command id was already applied")


class AccountBody(BaseModel):
    """An account's state at a version."""

    account_id: str
    version: int
    status: Literal["open", "closed"]
    owner: str | None
    currency: str | None
    balance_cents: int
    updated_at: str | None
    snapshot_version: int = Field(description="The snapshot the state was loaded from (0: none)")
    events_read: int = Field(description="Events read after that snapshot")


class EventPage(BaseModel):
    """One page of an account's history, oldest first."""

    events: list[EventBody]
    next_after_version: int | None = Field(
        description="Pass as `after_version` for the next page; null on the last page"
    )


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer has this shape."""

    message: str
    current_version: int | None = Field(
        default=None, description="On 409: the account's version now"
    )
    errors: list[dict[str, str]] | None = None


class RebuildRequest(BaseModel):
    """What the rebuilder is invoked with: which segment of a parallel scan of the store to
    replay (one invocation per segment, `total_segments` of them, replay a large store in
    parallel); `{}` replays it all in one invocation."""

    model_config = ConfigDict(extra="forbid", strict=True)

    segment: int = Field(default=0, ge=0)
    total_segments: int = Field(default=1, ge=1, le=1_000_000)
