"""Schema evolution: events stored in an older schema are read in the current one."""

from __future__ import annotations

import pytest

from event_sourcing import logic
from event_sourcing.errors import UnknownEventTypeError
from event_sourcing.models import Account, Status, StoredEvent


def _event(version: int, type_: str, schema: int, data: dict) -> StoredEvent:
    return StoredEvent(
        account_id="old-1",
        version=version,
        type=type_,
        schema_version=schema,
        data=data,
        recorded_at=f"2024-01-0{version}T00:00:00.000000Z",
        command_id=f"legacy-{version}",
    )


#: What the ledger wrote before currencies and cents: AccountOpened v1 without a currency,
#: MoneyDeposited v1 with a decimal string of units.
STORED_V1 = [
    _event(1, "AccountOpened", 1, {"owner": "Grace"}),
    _event(2, "MoneyDeposited", 1, {"amount": "12.50"}),
    _event(3, "MoneyWithdrawn", 1, {"amount_cents": 250}),
]


def test_v1_events_are_upcast_to_the_current_schema_on_read():
    opened, deposited, withdrawn = (logic.upcast(event) for event in STORED_V1)

    assert (opened.schema_version, opened.data) == (2, {"owner": "Grace", "currency": "EUR"})
    assert (deposited.schema_version, deposited.data) == (2, {"amount_cents": 1250})
    assert withdrawn is STORED_V1[2]  # already current: untouched


def test_a_history_of_v1_events_folds_to_the_state_it_meant():
    account = logic.fold(Account(account_id="old-1"), STORED_V1)

    assert (account.status, account.currency, account.balance_cents, account.version) == (
        Status.OPEN,
        "EUR",
        1000,
        3,
    )


@pytest.mark.parametrize(
    "event",
    [
        _event(1, "AccountFrozen", 1, {}),  # a type this code does not know
        _event(1, "MoneyDeposited", 3, {"amount_cents": 1}),  # written by newer code
        _event(1, "MoneyDeposited", 1, {"amount": "0.125"}),  # sub-cent: not a v1 amount
    ],
)
def test_an_event_this_code_cannot_read_stops_the_read_rather_than_being_guessed(event):
    with pytest.raises(UnknownEventTypeError):
        logic.upcast(event)
