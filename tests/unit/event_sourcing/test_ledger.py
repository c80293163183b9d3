"""The ledger's pure rules: commands decided against state, events folded, snapshots due,
timestamps in order, command fingerprints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from event_sourcing import logic
from event_sourcing.errors import RuleViolatedError
from event_sourcing.models import (
    Account,
    CloseAccount,
    Deposit,
    EventType,
    OpenAccount,
    Status,
    Withdraw,
)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _run(*commands, interval: int = 25) -> tuple[Account, list]:
    account, snapshot_version, events = Account(account_id="acc-1"), 0, []
    for command in commands:
        plan = logic.plan_append(
            account, command, snapshot_version=snapshot_version, snapshot_interval=interval, now=NOW
        )
        events.extend(plan.events)
        account = plan.state
        if plan.snapshot is not None:
            snapshot_version = plan.snapshot.version
    return account, events


def _open(**fields) -> OpenAccount:
    return OpenAccount(type="open", command_id="c-open", owner="Ada", **fields)


def test_opening_with_an_initial_deposit_appends_two_events_and_the_state_follows():
    account, events = _run(_open(initial_deposit_cents=500))

    assert [(e.version, e.type) for e in events] == [
        (1, EventType.ACCOUNT_OPENED),
        (2, EventType.MONEY_DEPOSITED),
    ]
    assert (account.status, account.balance_cents, account.currency, account.version) == (
        Status.OPEN,
        500,
        "EUR",
        2,
    )


@pytest.mark.parametrize(
    ("commands", "rule"),
    [
        ((Deposit(type="deposit", command_id="d", amount_cents=1),), "is not opened"),
        ((_open(), _open()), "is already opened"),
        (
            (
                _open(initial_deposit_cents=10),
                Withdraw(type="withdraw", command_id="w", amount_cents=11),
            ),
            "balance 10 is less than the 11",
        ),
        (
            (_open(initial_deposit_cents=10), CloseAccount(type="close", command_id="x")),
            "only an empty",
        ),
        (
            (
                _open(),
                CloseAccount(type="close", command_id="x"),
                Deposit(type="deposit", command_id="d", amount_cents=1),
            ),
            "is closed",
        ),
    ],
)
def test_a_command_that_would_break_an_invariant_is_refused_naming_the_rule(commands, rule):
    *allowed, refused = commands
    account, _ = _run(*allowed)

    with pytest.raises(RuleViolatedError, match=rule) as refusal:
        logic.decide(account, refused)
    assert refusal.value.current_version == account.version


def test_withdrawing_the_whole_balance_is_allowed_and_leaves_zero():
    account, _ = _run(
        _open(initial_deposit_cents=10), Withdraw(type="withdraw", command_id="w", amount_cents=10)
    )

    assert account.balance_cents == 0


def test_a_snapshot_is_due_once_the_last_one_is_interval_events_behind():
    assert not logic.snapshot_due(new_version=4, snapshot_version=0, interval=5)
    assert logic.snapshot_due(new_version=5, snapshot_version=0, interval=5)
    # A command of two events can jump past the multiple: still due, then counted from there.
    assert logic.snapshot_due(new_version=6, snapshot_version=0, interval=5)
    assert not logic.snapshot_due(new_version=10, snapshot_version=6, interval=5)


def test_an_event_is_never_recorded_before_the_account_s_last_one():
    later = logic.timestamp(NOW + timedelta(seconds=5))
    account = Account(account_id="a", version=1, status=Status.OPEN, updated_at=later)

    # A writer whose clock is behind still records in order.
    assert logic.recorded_at(account, NOW) == later
    assert logic.recorded_at(account, NOW + timedelta(seconds=9)) > later


def test_applying_an_event_out_of_order_is_refused():
    _, events = _run(_open(initial_deposit_cents=5))

    with pytest.raises(ValueError, match="event 2 of acc-1 applied to version 0"):
        logic.apply(Account(account_id="acc-1"), events[1])


def test_a_command_s_fingerprint_ignores_its_id_and_expected_version_but_not_its_content():
    first = Deposit(type="deposit", command_id="a", amount_cents=5)
    retried = Deposit(type="deposit", command_id="b", amount_cents=5, expected_version=3)
    other = Deposit(type="deposit", command_id="a", amount_cents=6)

    assert logic.fingerprint("acc", first) == logic.fingerprint("acc", retried)
    assert logic.fingerprint("acc", first) != logic.fingerprint("acc", other)
    assert logic.fingerprint("acc", first) != logic.fingerprint("other", first)


def test_the_projection_skips_what_it_holds_and_fetches_what_it_missed():
    account, events = _run(
        _open(initial_deposit_cents=5), Deposit(type="deposit", command_id="d", amount_cents=7)
    )
    fetched: list[tuple[int, int]] = []

    def missing(first: int, last: int) -> list:
        fetched.append((first, last))
        return events[first - 1 : last]

    # GIVEN a read model at version 1 and event 3 arriving before event 2
    at_one = logic.fold(Account(account_id="acc-1"), events[:1])
    projected = logic.project(at_one, events[2], missing)

    assert projected == account
    assert fetched == [(2, 2)]
    # AND the same events delivered again change nothing
    assert logic.project(account, events[1], missing) is None
    assert logic.project(account, events[2], missing) is None
