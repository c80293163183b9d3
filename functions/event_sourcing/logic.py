"""The account ledger's rules, pure (no boto3): commands decided against the current state,
events folded into state, upcasting of older event schemas, snapshots every N events, and what
one command appends."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from event_sourcing.errors import RuleViolatedError, UnknownEventTypeError
from event_sourcing.models import (
    Account,
    AppendPlan,
    CloseAccount,
    CommandRecord,
    Deposit,
    EventType,
    NewEvent,
    OpenAccount,
    Status,
    StoredEvent,
    Withdraw,
)

#: The schema version each event type is written in today. Stored events of older versions are
#: upcast on read (`upcast`), so the fold only ever sees these.
CURRENT_SCHEMA: dict[str, int] = {
    EventType.ACCOUNT_OPENED: 2,
    EventType.MONEY_DEPOSITED: 2,
    EventType.MONEY_WITHDRAWN: 1,
    EventType.ACCOUNT_CLOSED: 1,
}

#: The currency of every account opened before AccountOpened carried one (schema 1).
SCHEMA_1_CURRENCY = "EUR"

_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _opened_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # Schema 1 had no currency: the ledger was euro-only then.
    return {**data, "currency": SCHEMA_1_CURRENCY}


def _deposited_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # Schema 1 held the amount as a decimal string of currency units ("12.50"); schema 2 holds
    # whole cents, so that no float ever touches a balance.
    cents = Decimal(data["amount"]) * 100
    if cents != cents.to_integral_value():
        raise UnknownEventTypeError(f"MoneyDeposited v1 amount {data['amount']!r} has sub-cents")
    rest = {key: value for key, value in data.items() if key != "amount"}
    return {**rest, "amount_cents": int(cents)}


#: (type, schema version) -> the function that lifts its data one schema version up.
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {
    (EventType.ACCOUNT_OPENED, 1): _opened_v1_to_v2,
    (EventType.MONEY_DEPOSITED, 1): _deposited_v1_to_v2,
}


def upcast(event: StoredEvent) -> StoredEvent:
    """`event` with its data lifted, one schema version at a time, to the current schema.

    Raises `UnknownEventTypeError` for a type this code does not know or a schema newer than
    it writes (older code reading newer events must stop, not guess).
    """
    current = CURRENT_SCHEMA.get(event.type)
    if current is None or event.schema_version > current or event.schema_version < 1:
        raise UnknownEventTypeError(
            f"cannot read {event.type} schema {event.schema_version} (this code writes "
            f"{current if current is not None else 'no such type'})"
        )
    data, version = event.data, event.schema_version
    while version < current:
        data = UPCASTERS[(event.type, version)](data)
        version += 1
    if version == event.schema_version:
        return event
    return StoredEvent(
        account_id=event.account_id,
        version=event.version,
        type=event.type,
        schema_version=version,
        data=data,
        recorded_at=event.recorded_at,
        command_id=event.command_id,
    )


def apply(account: Account, event: StoredEvent) -> Account:
    """The state after `event` (upcast first). Events are facts: applying never refuses one,
    but one out of order is a bug in the store's reader, and raises `ValueError`."""
    if event.version != account.version + 1:
        raise ValueError(
            f"event {event.version} of {event.account_id} applied to version {account.version}"
        )
    event = upcast(event)
    data = event.data
    changes: dict[str, Any] = {}
    match event.type:
        case EventType.ACCOUNT_OPENED:
            changes = {"status": Status.OPEN, "owner": data["owner"], "currency": data["currency"]}
        case EventType.MONEY_DEPOSITED:
            changes = {"balance_cents": account.balance_cents + int(data["amount_cents"])}
        case EventType.MONEY_WITHDRAWN:
            changes = {"balance_cents": account.balance_cents - int(data["amount_cents"])}
        case EventType.ACCOUNT_CLOSED:
            changes = {"status": Status.CLOSED}
    return Account(
        **{
            **account.__dict__,
            **changes,
            "version": event.version,
            "updated_at": event.recorded_at,
        }
    )


def fold(account: Account, events: Iterable[StoredEvent]) -> Account:
    """`account` with `events` applied in order."""
    for event in events:
        account = apply(account, event)
    return account


Command = OpenAccount | Deposit | Withdraw | CloseAccount


def decide(account: Account, command: Command) -> list[NewEvent]:
    """The events `command` produces against `account`, or `RuleViolatedError` naming the rule.

    The invariants: an account is opened once; money moves only while it is open; the
    balance never goes below zero; an account closes only when empty.
    """

    def refuse(message: str) -> RuleViolatedError:
        return RuleViolatedError(
            f"account {account.account_id!r}: {message}", current_version=account.version
        )

    if isinstance(command, OpenAccount):
        if account.status is not Status.NEW:
            raise refuse("is already opened")
        events = [
            NewEvent(
                type=EventType.ACCOUNT_OPENED,
                data={"owner": command.owner, "currency": command.currency},
            )
        ]
        if command.initial_deposit_cents:
            events.append(
                NewEvent(
                    type=EventType.MONEY_DEPOSITED,
                    data={"amount_cents": command.initial_deposit_cents},
                )
            )
        return events
    if account.status is Status.NEW:
        raise refuse("is not opened")
    if account.status is Status.CLOSED:
        raise refuse("is closed")
    if isinstance(command, Deposit):
        return [
            NewEvent(type=EventType.MONEY_DEPOSITED, data={"amount_cents": command.amount_cents})
        ]
    if isinstance(command, Withdraw):
        if command.amount_cents > account.balance_cents:
            raise refuse(
                f"balance {account.balance_cents} is less than the {command.amount_cents} "
                "asked for (the balance never goes below zero)"
            )
        return [
            NewEvent(type=EventType.MONEY_WITHDRAWN, data={"amount_cents": command.amount_cents})
        ]
    if account.balance_cents != 0:
        raise refuse(f"holds {account.balance_cents}: only an empty account closes")
    return [NewEvent(type=EventType.ACCOUNT_CLOSED, data={})]


def timestamp(moment: datetime) -> str:
    """`moment` as the store writes times: UTC, microseconds, `Z`; these sort as text."""
    # isoformat pads the year to four digits, which strftime's %Y does not everywhere.
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    return datetime.strptime(text, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def recorded_at(account: Account, now: datetime) -> str:
    """When a new event of `account` is recorded: now, but never before its last event, so an
    account's events are in time order whatever the clocks of the functions that wrote them
    (a state "as of a time" is then a prefix of its history)."""
    stamp = timestamp(now)
    return max(stamp, account.updated_at) if account.updated_at else stamp


def fingerprint(account_id: str, command: Command) -> str:
    """What identifies a command's content, to tell a retry from a reused command id."""
    fields = command.model_dump(mode="json", exclude={"command_id", "expected_version"})
    canonical = json.dumps({"account_id": account_id, **fields}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def snapshot_due(*, new_version: int, snapshot_version: int, interval: int) -> bool:
    """Whether the state at `new_version` must be snapshotted: the last snapshot is `interval`
    or more events behind it. So a load never reads `interval` or more events past its
    snapshot: at most `interval - 1`."""
    return new_version - snapshot_version >= interval


def plan_append(
    account: Account,
    command: Command,
    *,
    snapshot_version: int,
    snapshot_interval: int,
    now: datetime,
) -> AppendPlan:
    """What `command` writes against `account` (loaded from the snapshot at
    `snapshot_version`): its events, numbered on from the account's version, the new state,
    its command record and the snapshot when one is due. Raises `RuleViolatedError`."""
    decided = decide(account, command)
    at = recorded_at(account, now)
    events = tuple(
        StoredEvent(
            account_id=account.account_id,
            version=account.version + offset,
            type=event.type,
            schema_version=CURRENT_SCHEMA[event.type],
            data=event.data,
            recorded_at=at,
            command_id=command.command_id,
        )
        for offset, event in enumerate(decided, start=1)
    )
    state = fold(account, events)
    due = snapshot_due(
        new_version=state.version, snapshot_version=snapshot_version, interval=snapshot_interval
    )
    return AppendPlan(
        account_id=account.account_id,
        expected_version=account.version,
        events=events,
        state=state,
        command=CommandRecord(
            command_id=command.command_id,
            account_id=account.account_id,
            fingerprint=fingerprint(account.account_id, command),
            versions=tuple(event.version for event in events),
            events=tuple(event.to_json() for event in events),
        ),
        snapshot=state if due else None,
    )


def project(
    current: Account, event: StoredEvent, missing: Callable[[int, int], list[StoredEvent]]
) -> Account | None:
    """The read model after `event`, or None when it already holds it (a redelivery).

    Records of one account normally arrive in order; when some are missing before `event`
    (an earlier record given up, or a reordering), `missing(first, last)` reads those
    versions from the store, so the read model is always the fold of a prefix of the history.
    """
    if event.version <= current.version:
        return None
    gap = (
        missing(current.version + 1, event.version - 1)
        if event.version > current.version + 1
        else []
    )
    return fold(current, [*gap, event])
