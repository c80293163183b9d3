"""On moto, for any command sequence: the state folded from every stored event, the state
loaded from the latest snapshot plus the events after it, and the projection the projector
builds from the table's own stream are equal."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_sourcing import adapters, logic, projector
from event_sourcing.errors import RuleViolatedError
from tests.functional.event_sourcing.conftest import SNAPSHOT_INTERVAL, Ledger
from tests.unit.event_sourcing.test_ledger_properties import build, command_spec

_examples = itertools.count()


@settings(
    max_examples=5,
    derandomize=True,
    deadline=None,
    database=None,
    # One moto per test; each example writes its own account, so examples do not meet.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(command_spec, max_size=10))
def test_stored_events_snapshot_plus_events_and_the_projection_agree(
    ledger: Ledger, lambda_context: Any, specs
):
    account_id = f"acc-{next(_examples)}"
    store = ledger.store
    for n, (kind, amount) in enumerate(specs):
        loaded = store.load(account_id)
        try:
            plan = logic.plan_append(
                loaded.account,
                build(kind, amount, n).model_copy(update={"command_id": f"{account_id}-{n}"}),
                snapshot_version=loaded.snapshot_version,
                snapshot_interval=SNAPSHOT_INTERVAL,
                now=datetime.now(UTC),
            )
        except RuleViolatedError:
            continue
        store.append(plan)

    from_events = store.load(account_id, use_snapshots=False)
    from_snapshot = store.load(account_id)
    records = ledger.stream_records(account_id)
    # Lambda never sends an empty batch: no event, no invocation.
    response = (
        projector.handler({"Records": records}, lambda_context)
        if records
        else {"batchItemFailures": []}
    )
    projected = adapters.read_model(ledger.projection_table).get(account_id)

    assert response == {"batchItemFailures": []}
    assert from_snapshot.account == from_events.account == projected
    assert from_snapshot.events_read < SNAPSHOT_INTERVAL
    assert from_events.account.balance_cents >= 0
