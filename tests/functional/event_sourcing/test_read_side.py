"""The read side on moto: the projector fed the store's own stream (in order, again, with
gaps), the rebuild by replay equal to the live projection, and the outbox publisher."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from shared.cache import reset_caches

from event_sourcing import adapters, contract, projector, publisher, rebuilder
from event_sourcing.errors import InvalidCommandError
from tests.functional.event_sourcing.conftest import Call, Ledger, command
from tests.samples import load_event


def _project(records: list[dict[str, Any]], lambda_context: Any) -> dict[str, Any]:
    return projector.handler({"Records": records}, lambda_context)


def _history(call: Call) -> None:
    """Two accounts with a few commands each, one of them refused."""
    for account_id, deposit in (("acc-1", 100), ("acc-2", 5)):
        command(
            account_id,
            call,
            type="open",
            command_id=f"o-{account_id}",
            owner="Ada",
            initial_deposit_cents=deposit,
        )
    command("acc-1", call, type="withdraw", command_id="w-1", amount_cents=40)
    command("acc-2", call, type="withdraw", command_id="w-2", amount_cents=50)  # refused: 409
    command("acc-2", call, type="deposit", command_id="d-2", amount_cents=7)
    command("acc-1", call, type="withdraw", command_id="w-3", amount_cents=60)
    command("acc-1", call, type="close", command_id="c-1")


def _state(call: Call, account_id: str) -> dict[str, Any]:
    body = call("GET", f"/accounts/{account_id}").body
    return {key: body[key] for key in ("account_id", "version", "status", "balance_cents")}


def _read_model(ledger: Ledger, table: str) -> dict[str, dict[str, Any]]:
    return {
        account_id: {
            "account_id": account_id,
            "version": account.version,
            "status": account.status.value,
            "balance_cents": account.balance_cents,
        }
        for account_id, account in adapters.read_model(table).all().items()
    }


def test_the_projection_of_the_store_s_stream_equals_the_state_loaded_from_the_store(
    call: Call, ledger: Ledger, lambda_context: Any
):
    _history(call)

    response = _project(ledger.stream_records(), lambda_context)

    assert response == {"batchItemFailures": []}
    assert _read_model(ledger, ledger.projection_table) == {
        account_id: _state(call, account_id) for account_id in ("acc-1", "acc-2")
    }


def test_redelivered_and_out_of_order_records_leave_the_projection_as_in_order_delivery(
    call: Call, ledger: Ledger, lambda_context: Any
):
    _history(call)
    records = ledger.stream_records("acc-1")
    expected = _state(call, "acc-1")

    # WHEN the last record arrives first, then everything, then everything again
    _project(records[-1:], lambda_context)
    _project(records, lambda_context)
    response = _project(records, lambda_context)

    # THEN the read model holds the account's state once, as of its last event
    assert response == {"batchItemFailures": []}
    assert _read_model(ledger, ledger.projection_table) == {"acc-1": expected}


def test_a_record_the_projector_cannot_read_fails_alone_and_the_rest_are_projected(
    call: Call, ledger: Ledger, lambda_context: Any
):
    command("acc-1", call, type="open", command_id="o-1", owner="Ada", initial_deposit_cents=3)
    good = ledger.stream_records("acc-1")
    unreadable = copy.deepcopy(load_event("event_sourcing", "stream_batch.json")["Records"][0])
    unreadable["dynamodb"]["NewImage"]["type"] = {"S": "AccountFrozen"}
    unreadable["dynamodb"]["NewImage"]["pk"] = {"S": "acc-9"}

    response = _project([*good, unreadable], lambda_context)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": unreadable["dynamodb"]["SequenceNumber"]}]
    }
    assert set(_read_model(ledger, ledger.projection_table)) == {"acc-1"}


def test_a_rebuild_replays_the_whole_store_into_a_projection_equal_to_the_live_one(
    call: Call, ledger: Ledger, lambda_context: Any, monkeypatch
):
    # GIVEN the live projection, kept by the projector from the stream
    _history(call)
    _project(ledger.stream_records(), lambda_context)
    live = _read_model(ledger, ledger.projection_table)

    # WHEN the rebuilder replays the store into the empty rebuild table, in two segments
    # (the rebuilder's stack points its PROJECTION_TABLE_NAME at the rebuild table)
    monkeypatch.setenv(contract.ENV_PROJECTION_TABLE_NAME, ledger.rebuild_table)
    reset_caches()
    replayed = [
        rebuilder.handler({"segment": segment, "total_segments": 2}, lambda_context)
        for segment in range(2)
    ]

    # THEN every account and event was replayed once, and the two projections are equal
    assert sum(r["accounts"] for r in replayed) == 2
    assert sum(r["events"] for r in replayed) == len(ledger.items("event"))
    assert _read_model(ledger, ledger.rebuild_table) == live


def test_a_rebuild_request_that_is_not_one_is_refused_saying_why(ledger: Ledger, lambda_context):
    with pytest.raises(InvalidCommandError, match=r"total_segments: Input should be"):
        rebuilder.handler({"total_segments": "2"}, lambda_context)
    with pytest.raises(InvalidCommandError, match="segment 3 is not below total_segments 2"):
        rebuilder.handler({"segment": 3, "total_segments": 2}, lambda_context)


def test_the_publisher_turns_stored_events_into_integration_events_in_the_current_schema(
    lambda_context: Any,
):
    batch = load_event("event_sourcing", "pipe_enrichment_batch.json")

    published = publisher.handler(batch, lambda_context)

    assert [(e["event_id"], e["type"], e["schema_version"], e["data"]) for e in published] == [
        ("acc-7f3a:3", "MoneyWithdrawn", 1, {"amount_cents": 2500}),
        # stored in schema 1 ("12.50" units), published in schema 2 (cents)
        ("acc-7f3a:4", "MoneyDeposited", 2, {"amount_cents": 1250}),
    ]
