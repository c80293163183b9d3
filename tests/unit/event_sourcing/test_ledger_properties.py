"""For any sequence of commands: the state folded from all events, the state from the latest
snapshot plus the events after it, and the projection fed the events as a stream may deliver
them (again, or out of order) are one and the same; the balance never goes below zero."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_sourcing import logic
from event_sourcing.errors import RuleViolatedError
from event_sourcing.models import Account, CloseAccount, Deposit, OpenAccount, Withdraw

START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

#: Deterministic and bounded: the same examples on every run, no deadline to flake on.
LEDGER_PROFILE = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_amounts = st.integers(min_value=1, max_value=1_000)
command_spec = st.one_of(
    st.tuples(st.just("open"), st.integers(min_value=0, max_value=1_000)),
    st.tuples(st.just("deposit"), _amounts),
    st.tuples(st.just("withdraw"), _amounts),
    st.tuples(st.just("close"), st.just(0)),
)
command_specs = st.lists(command_spec, max_size=40)


def build(kind: str, amount: int, n: int):
    command_id = f"cmd-{n}"
    if kind == "open":
        return OpenAccount(
            type="open", command_id=command_id, owner="Ada", initial_deposit_cents=amount
        )
    if kind == "deposit":
        return Deposit(type="deposit", command_id=command_id, amount_cents=amount)
    if kind == "withdraw":
        return Withdraw(type="withdraw", command_id=command_id, amount_cents=amount)
    return CloseAccount(type="close", command_id=command_id)


@LEDGER_PROFILE
@given(
    specs=command_specs,
    interval=st.integers(min_value=1, max_value=6),
    deliveries=st.lists(st.integers(min_value=0, max_value=200), max_size=30),
)
def test_events_snapshot_plus_events_and_projection_agree(specs, interval, deliveries):
    # GIVEN the commands applied one by one, as the API applies them
    account, snapshots, events = Account(account_id="acc"), [], []
    for n, (kind, amount) in enumerate(specs):
        snapshot_version = snapshots[-1].version if snapshots else 0
        try:
            plan = logic.plan_append(
                account,
                build(kind, amount, n),
                snapshot_version=snapshot_version,
                snapshot_interval=interval,
                now=START + timedelta(seconds=n),
            )
        except RuleViolatedError:
            continue
        events.extend(plan.events)
        account = plan.state
        assert account.balance_cents >= 0
        if plan.snapshot is not None:
            snapshots.append(plan.snapshot)

    # THEN the state from all events is the state the commands left
    from_events = logic.fold(Account(account_id="acc"), events)
    assert from_events == account
    # AND every snapshot plus the events after it gives it too; a load reads fewer than
    # `interval` events past the latest snapshot
    for snapshot in snapshots:
        assert logic.fold(snapshot, events[snapshot.version :]) == account
    latest = snapshots[-1].version if snapshots else 0
    assert len(events) - latest < interval

    # AND the projection reaches it whatever the stream does: each event delivered in order,
    # plus extra deliveries of arbitrary events (redeliveries, or events arriving early)
    stream = list(events)
    for position, pick in enumerate(deliveries):
        if events:
            stream.insert(min(position * 2, len(stream)), events[pick % len(events)])
    projected = Account(account_id="acc")
    for event in stream:
        projected = (
            logic.project(projected, event, lambda first, last: events[first - 1 : last])
            or projected
        )
    assert projected == account
