"""The event-sourcing scenario: commands on an account through the ledger API, its state now
and in the past, the projection and the integration events the store's stream fed, a rebuild."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from demo import trace
from demo.cloud import Cloud
from event_sourcing import contract
from infra import registry

STACK = registry.pattern("event_sourcing").stack_name
#: Deposits after the opening: enough to pass the default snapshot interval (25).
DEPOSITS = 30


@dataclass(frozen=True)
class Outcome:
    statuses: dict[str, int]
    state: dict
    events_stored: int
    integration_events: int
    projection_equals_state: bool
    rebuild_equals_projection: bool
    dead_letters: int
    invocations: int

    @property
    def processed(self) -> int:
        return self.events_stored

    @property
    def in_dead_letter_queues(self) -> int:
        return self.dead_letters


def run(cloud: Cloud) -> Outcome:
    """Drive the deployed EventSourcing stack through its API URL output."""
    trace.heading("Event sourcing: commands -> event store -> projection, outbox -> event bus")
    outputs = cloud.outputs(STACK)
    api_url = outputs[contract.OUTPUT_API_URL].rstrip("/")
    first_invocation = len(cloud.invocations)
    statuses: dict[str, int] = {}

    def call(label: str, method: str, path: str, body: dict | None = None, **query: str):
        suffix = "?" + urlencode(query) if query else ""
        response = cloud.http(
            method,
            f"{api_url}{path}{suffix}",
            body=json.dumps(body) if body is not None else None,
            headers={"content-type": "application/json"},
        )
        if label:
            statuses[label] = response.status
            sent = f" {trace.short(body, 90)}" if body else ""
            trace.step(f"{label}: {method} {path}{suffix}{sent}")
            trace.line(f"-> {response.status} {trace.short(response.body)}")
        return response.json() if response.body else None

    commands = "/accounts/alice/commands"
    call(
        "open with 100.00",
        "POST",
        commands,
        {
            "type": "open",
            "command_id": "alice-open",
            "owner": "Alice",
            "initial_deposit_cents": 10000,
        },
    )
    withdraw = {"type": "withdraw", "command_id": "alice-w1", "amount_cents": 2500}
    call("withdraw 25.00", "POST", commands, withdraw)
    call("the same withdrawal again (a retry)", "POST", commands, withdraw)
    call(
        "withdraw 500.00 (more than the balance)",
        "POST",
        commands,
        {"type": "withdraw", "command_id": "alice-w2", "amount_cents": 50000},
    )
    call(
        "deposit against version 1 (stale)",
        "POST",
        commands,
        {"type": "deposit", "command_id": "alice-d0", "amount_cents": 100, "expected_version": 1},
    )
    call(
        "a command that is not one",
        "POST",
        commands,
        {"type": "deposit", "command_id": "alice-d?", "amount_cents": -5},
    )
    trace.step(f"{DEPOSITS} deposits of 1.00")
    for n in range(DEPOSITS):
        call(
            "",
            "POST",
            commands,
            {"type": "deposit", "command_id": f"alice-d{n}", "amount_cents": 100},
        )
    state = call("current state (snapshot + events)", "GET", "/accounts/alice")
    call("state as of version 2", "GET", "/accounts/alice", version="2")
    call("history, first page of 3", "GET", "/accounts/alice/events", limit="3")
    call("an account with no events", "GET", "/accounts/nobody")

    cloud.settle()
    dynamodb = cloud.client("dynamodb")
    projection = dynamodb.get_item(
        TableName=outputs[contract.OUTPUT_PROJECTION_TABLE_NAME],
        Key={"account_id": {"S": "alice"}},
        ConsistentRead=True,
    )["Item"]
    trace.step("The projection the stream fed")
    trace.line(trace.short({key: next(iter(value.values())) for key, value in projection.items()}))
    projection_equals_state = (
        int(projection["version"]["N"]),
        int(projection["balance_cents"]["N"]),
    ) == (state["version"], state["balance_cents"])

    sqs = cloud.client("sqs")
    published = []
    url = outputs[contract.OUTPUT_INTEGRATION_EVENTS_QUEUE_URL]
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            published.append(json.loads(message["Body"])["detail"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    trace.step(f"Integration events on the bus: {len(published)}")
    for event in published[:3]:
        trace.line(trace.short(event))

    rebuild = cloud.invoke(outputs[contract.OUTPUT_REBUILDER_FUNCTION_NAME], {})
    trace.step(f"Rebuild by replay: {trace.short(rebuild.payload)}")
    rebuilt = dynamodb.get_item(
        TableName=outputs[contract.OUTPUT_REBUILD_TABLE_NAME],
        Key={"account_id": {"S": "alice"}},
        ConsistentRead=True,
    )["Item"]

    events_stored = state["version"]
    dead_letters = sum(
        int(
            sqs.get_queue_attributes(
                QueueUrl=outputs[name], AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
        )
        for name in (
            contract.OUTPUT_PROJECTOR_ON_FAILURE_QUEUE_URL,
            contract.OUTPUT_OUTBOX_DEAD_LETTER_QUEUE_URL,
        )
    )
    invocations = cloud.invocations[first_invocation:]
    trace.step("Invocations")
    trace.invocations(invocations)
    return Outcome(
        statuses=statuses,
        state={
            key: state[key]
            for key in ("version", "balance_cents", "snapshot_version", "events_read")
        },
        events_stored=events_stored,
        integration_events=len(published),
        projection_equals_state=projection_equals_state,
        rebuild_equals_projection=rebuilt == projection,
        dead_letters=dead_letters,
        invocations=len(invocations),
    )
