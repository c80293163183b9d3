"""The ledger API on moto: commands appended atomically, 409s with the current version,
idempotent command ids, state now and as of a version or a time, history in pages."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from event_sourcing import adapters
from event_sourcing.models import StoredEvent
from tests.functional.event_sourcing.conftest import SNAPSHOT_INTERVAL, Call, Ledger, command


def _open(call: Call, account_id: str = "acc-1", deposit: int = 1000) -> Any:
    return command(
        account_id,
        call,
        type="open",
        command_id=f"open-{account_id}",
        owner="Ada",
        initial_deposit_cents=deposit,
    )


def test_a_command_appends_its_events_its_head_and_its_record_together(call: Call, ledger: Ledger):
    result = _open(call)

    assert result.status == 200
    assert result.body["version"] == 2
    assert [event["type"] for event in result.body["events"]] == ["AccountOpened", "MoneyDeposited"]
    assert sorted(item["sk"] for item in ledger.items("event")) == [1, 2]
    (head,) = ledger.items("head")
    assert (head["pk"], head["version"]) == ("acc-1", 2)
    (record,) = ledger.items("command")
    assert (record["account_id"], record["versions"]) == ("acc-1", [1, 2])


def test_a_stale_expected_version_is_409_with_the_current_version_and_writes_nothing(
    call: Call, ledger: Ledger
):
    _open(call)

    stale = command(
        "acc-1", call, type="deposit", command_id="d-1", amount_cents=5, expected_version=1
    )

    assert stale.status == 409
    assert stale.body["current_version"] == 2
    assert len(ledger.items("event")) == 2
    assert len(ledger.items("command")) == 1


def test_a_command_breaking_an_invariant_is_409_naming_the_rule_and_writes_nothing(
    call: Call, ledger: Ledger
):
    _open(call, deposit=100)

    overdraft = command("acc-1", call, type="withdraw", command_id="w-1", amount_cents=101)

    assert overdraft.status == 409
    assert "balance 100 is less than the 101" in overdraft.body["message"]
    assert overdraft.body["current_version"] == 2
    assert len(ledger.items("event")) == 2


def test_a_command_sent_again_changes_nothing_and_answers_as_the_first_time(
    call: Call, ledger: Ledger
):
    _open(call, deposit=100)
    first = command("acc-1", call, type="withdraw", command_id="w-1", amount_cents=60)

    # The retry would now be refused by the invariant (40 left): it is answered, not decided.
    again = command("acc-1", call, type="withdraw", command_id="w-1", amount_cents=60)

    assert again.status == 200
    assert again.body == {**first.body, "replayed": True}
    assert call("GET", "/accounts/acc-1").body["balance_cents"] == 40
    assert len(ledger.items("event")) == 3


def test_a_command_id_reused_for_another_command_is_409(call: Call):
    _open(call)
    command("acc-1", call, type="deposit", command_id="d-1", amount_cents=5)

    reused = command("acc-1", call, type="deposit", command_id="d-1", amount_cents=6)

    assert reused.status == 409
    assert "already used for a different command" in reused.body["message"]


@pytest.mark.parametrize(
    ("body", "status", "location"),
    [
        (
            {"type": "deposit", "command_id": "x", "amount_cents": "5"},
            422,
            "body.deposit.amount_cents",
        ),
        (
            {"type": "deposit", "command_id": "x", "amount_cents": 0},
            422,
            "body.deposit.amount_cents",
        ),
        ({"type": "transfer", "command_id": "x"}, 422, "body"),
        ({"type": "open", "command_id": "bad id!", "owner": "A"}, 422, "body.open.command_id"),
        ('{"type": "open"', 400, "body"),
    ],
)
def test_a_request_that_is_not_a_command_is_refused_saying_what_is_wrong(
    call: Call, ledger: Ledger, body, status: int, location: str
):
    refused = call("POST", "/accounts/acc-1/commands", body=body)

    assert refused.status == status
    assert location in {error["location"] for error in refused.body["errors"]}
    assert ledger.items("event") == []


def test_a_body_that_is_not_json_is_415(call: Call):
    refused = call(
        "POST", "/accounts/acc-1/commands", body="type=open", headers={"content-type": "text/plain"}
    )

    assert refused.status == 415


def test_an_account_without_events_is_404(call: Call):
    assert call("GET", "/accounts/nobody").status == 404


def test_state_loads_from_the_latest_snapshot_reading_fewer_than_n_events(call: Call):
    _open(call, deposit=1)  # versions 1, 2
    for n in range(10):  # versions 3 to 12
        command("acc-1", call, type="deposit", command_id=f"d-{n}", amount_cents=1)

    state = call("GET", "/accounts/acc-1").body

    assert (state["version"], state["balance_cents"]) == (12, 11)
    # Snapshots at 5 and 10 (every SNAPSHOT_INTERVAL events): the load read 11 and 12 only.
    assert state["snapshot_version"] == 10
    assert state["events_read"] == 2 < SNAPSHOT_INTERVAL


def test_state_as_of_a_version_and_as_of_a_time(call: Call):
    _open(call, deposit=100)
    middle = command("acc-1", call, type="withdraw", command_id="w-1", amount_cents=30)
    for n in range(5):
        command("acc-1", call, type="deposit", command_id=f"d-{n}", amount_cents=10)

    at_three = call("GET", "/accounts/acc-1", query={"version": "3"}).body
    at_time = call(
        "GET", "/accounts/acc-1", query={"as_of": middle.body["events"][0]["recorded_at"]}
    ).body

    assert (at_three["version"], at_three["balance_cents"]) == (3, 70)
    assert (at_time["version"], at_time["balance_cents"]) == (3, 70)
    assert call("GET", "/accounts/acc-1", query={"version": "99"}).status == 404
    assert call("GET", "/accounts/acc-1", query={"as_of": "2000-01-01T00:00:00Z"}).status == 404


def test_the_history_comes_in_pages_oldest_first(call: Call):
    _open(call)
    for n in range(3):
        command("acc-1", call, type="deposit", command_id=f"d-{n}", amount_cents=1)
    versions, after = [], 0
    while after is not None:
        page = call(
            "GET", "/accounts/acc-1/events", query={"after_version": str(after), "limit": "2"}
        ).body
        versions += [event["version"] for event in page["events"]]
        after = page["next_after_version"]

    assert versions == [1, 2, 3, 4, 5]


def test_a_method_a_path_does_not_serve_is_405_with_allow(call: Call):
    refused = call("DELETE", "/accounts/acc-1")

    assert refused.status == 405
    assert refused.headers["allow"] == "GET"


def test_a_body_that_is_not_utf8_text_is_400(call: Call, ledger: Ledger):
    # API Gateway hands such a body over base64-encoded
    refused = call(
        "POST",
        "/accounts/acc-1/commands",
        body="NP//SA==",
        headers={"content-type": "application/json"},
        base64_body=True,
    )

    assert refused.status == 400
    assert refused.body["message"] == "request body is not UTF-8 text"


def test_events_stored_in_schema_1_are_read_upcast_and_new_ones_follow_them(
    call: Call, ledger: Ledger
):
    # GIVEN an account written by the ledger's first release: AccountOpened without a
    # currency, MoneyDeposited as a decimal string of units
    for item in (
        {"pk": "old-1", "sk": 0, "kind": "head", "version": 2},
        *(
            adapters.event_item(event)
            for event in (
                _v1("old-1", 1, "AccountOpened", {"owner": "Grace"}),
                _v1("old-1", 2, "MoneyDeposited", {"amount": "12.50"}),
            )
        ),
    ):
        boto3.client("dynamodb").put_item(
            TableName=ledger.events_table, Item=adapters.to_attributes(item)
        )

    # WHEN it is read, and a command decided against it
    state = call("GET", "/accounts/old-1").body
    withdrawn = command("old-1", call, type="withdraw", command_id="w-old", amount_cents=250)
    history = call("GET", "/accounts/old-1/events").body["events"]

    # THEN the old events read as the current schema, and the new event follows them
    assert (state["currency"], state["balance_cents"], state["version"]) == ("EUR", 1250, 2)
    assert withdrawn.status == 200
    assert withdrawn.body["version"] == 3
    assert [(e["type"], e["schema_version"], e["data"]) for e in history] == [
        ("AccountOpened", 2, {"owner": "Grace", "currency": "EUR"}),
        ("MoneyDeposited", 2, {"amount_cents": 1250}),
        ("MoneyWithdrawn", 1, {"amount_cents": 250}),
    ]
    # AND the stored items are untouched: events are never rewritten
    assert {item["sk"]: item["schema_version"] for item in ledger.items("event")} == {
        1: 1,
        2: 1,
        3: 1,
    }


def _v1(account_id: str, version: int, type_: str, data: dict) -> StoredEvent:
    return StoredEvent(
        account_id=account_id,
        version=version,
        type=type_,
        schema_version=1,
        data=data,
        recorded_at=f"2024-01-0{version}T00:00:00.000000Z",
        command_id=f"legacy-{version}",
    )
