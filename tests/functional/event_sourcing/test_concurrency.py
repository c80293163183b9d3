"""Concurrent writers on one account: exactly one wins each version, the others get 409 with
the version they lost to and write nothing; after they decide again, no event is lost and the
balance never went below zero."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from event_sourcing import logic
from event_sourcing.errors import RuleViolatedError, VersionConflictError
from event_sourcing.models import Account, OpenAccount, Withdraw
from tests.functional.event_sourcing.conftest import Ledger

WRITERS = 8


@pytest.fixture(autouse=True)
def atomic_requests():
    """DynamoDB applies each request atomically; moto's backend does not (two threads'
    transactions interleave in it, and a cancelled one's rollback can undo the other's
    write). localcloud's DynamoDB hooks give moto DynamoDB's atomicity, as they do when an
    engine runs."""
    from localcloud.core.hooks import InstalledHooks
    from localcloud.services.dynamodb.service import TransactionalTables

    hooks = InstalledHooks(TransactionalTables.HOOKS)
    yield
    hooks.remove()


def _plan(ledger: Ledger, loaded, command):
    return logic.plan_append(
        loaded.account,
        command,
        snapshot_version=loaded.snapshot_version,
        snapshot_interval=5,
        now=datetime.now(UTC),
    )


def test_writers_racing_on_one_version_exactly_one_wins_the_others_get_its_version(
    ledger: Ledger,
):
    # GIVEN an account at version 2 holding 500
    store = ledger.store
    store.append(
        _plan(
            ledger,
            store.load("acc-1"),
            OpenAccount(type="open", command_id="open", owner="Ada", initial_deposit_cents=500),
        )
    )
    # AND eight writers that all read it at version 2 before any of them writes
    loaded = [store.load("acc-1") for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    outcomes: dict[int, object] = {}

    def write(n: int) -> None:
        plan = _plan(
            ledger, loaded[n], Withdraw(type="withdraw", command_id=f"w-{n}", amount_cents=100)
        )
        start.wait()
        try:
            store.append(plan)
            outcomes[n] = "won"
        except VersionConflictError as conflict:
            outcomes[n] = conflict

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # THEN exactly one wrote version 3; each other was told the account is at 3
    assert [outcome for outcome in outcomes.values() if outcome == "won"] == ["won"]
    conflicts = [o for o in outcomes.values() if isinstance(o, VersionConflictError)]
    assert len(conflicts) == WRITERS - 1
    assert {(c.expected, c.current) for c in conflicts} == {(2, 3)}
    assert sorted(item["sk"] for item in ledger.items("event")) == [1, 2, 3]
    assert len(ledger.items("command")) == 2


def test_writers_that_decide_again_after_409_lose_nothing_and_never_overdraw(ledger: Ledger):
    # GIVEN an account holding 500 and eight writers each withdrawing 100, concurrently
    store = ledger.store
    store.append(
        _plan(
            ledger,
            store.load("acc-1"),
            OpenAccount(type="open", command_id="open", owner="Ada", initial_deposit_cents=500),
        )
    )
    start = threading.Barrier(WRITERS)
    results: dict[int, str] = {}

    def write(n: int) -> None:
        command = Withdraw(type="withdraw", command_id=f"w-{n}", amount_cents=100)
        start.wait()
        for _attempt in range(WRITERS * 4):  # what a client does on 409: read, decide again
            try:
                store.append(_plan(ledger, store.load("acc-1"), command))
            except VersionConflictError:
                continue
            except RuleViolatedError:
                results[n] = "refused"
                return
            results[n] = "applied"
            return
        results[n] = "still conflicting"

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # THEN five withdrawals were applied and three refused by the invariant
    assert sorted(results.values()) == ["applied"] * 5 + ["refused"] * 3
    # AND the store holds one event per version, none lost or overwritten, each applied
    # withdrawal's event there once
    events = sorted(ledger.items("event"), key=lambda item: item["sk"])
    assert [item["sk"] for item in events] == list(range(1, 8))
    applied = {f"w-{n}" for n, result in results.items() if result == "applied"}
    assert sorted(item["command_id"] for item in events[2:]) == sorted(applied)
    # AND the balance went down to zero, never below, in every state of the history
    account = Account(account_id="acc-1")
    for event in store.events_between("acc-1", 1):
        account = logic.apply(account, event)
        assert account.balance_cents >= 0
    assert account.balance_cents == 0
    assert store.load("acc-1").account == account
