"""The request-response scenario: drive the items API through its HTTP routes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from demo import trace
from demo.cloud import Cloud
from infra import registry
from request_response.contract import OUTPUT_API_URL, OUTPUT_ITEMS_TABLE_NAME

STACK = registry.pattern("request_response").stack_name


@dataclass(frozen=True)
class Outcome:
    statuses: dict[str, int]
    items_in_table: int
    invocations: int

    @property
    def processed(self) -> int:
        return len(self.statuses)

    @property
    def in_dead_letter_queues(self) -> int:
        return 0  # a synchronous API has no DLQ: the caller gets the error


def run(cloud: Cloud) -> Outcome:
    """Drive the deployed RequestResponse stack through the URL its API URL output gives."""
    trace.heading("Request-response: HTTP API -> Lambda -> DynamoDB")
    outputs = cloud.outputs(STACK)
    api_url = outputs[OUTPUT_API_URL].rstrip("/")
    first_invocation = len(cloud.invocations)
    statuses: dict[str, int] = {}

    def call(label: str, method: str, path: str, **kwargs) -> dict | None:
        query = "?" + urlencode(kwargs["query"]) if kwargs.get("query") else ""
        response = cloud.http(
            method,
            f"{api_url}{path}{query}",
            body=kwargs.get("body"),
            headers={"content-type": "application/json", **kwargs.get("headers", {})},
        )
        statuses[label] = response.status
        sent = f" {trace.short(kwargs['body'], 80)}" if kwargs.get("body") else ""
        trace.step(f"{label}: {method} {path}{trace.short(query, 60)}{sent}")
        trace.line(f"-> {response.status} {trace.short(response.body)}")
        return response.json() if response.body else None

    created = call(
        "create",
        "POST",
        "/items",
        body=json.dumps({"name": "Blue widget", "quantity": 3}),
        headers={"content-type": "application/json", "idempotency-key": "order-42"},
    )
    item_id = created["id"]
    call(
        "retried create (same Idempotency-Key)",
        "POST",
        "/items",
        body=json.dumps({"name": "Blue widget", "quantity": 3}),
        headers={"content-type": "application/json", "idempotency-key": "order-42"},
    )
    call("second item", "POST", "/items", body=json.dumps({"name": "Red widget", "quantity": 1}))
    call("read", "GET", f"/items/{item_id}")
    call(
        "update at version 1",
        "PUT",
        f"/items/{item_id}",
        body=json.dumps({"name": "Blue widget", "quantity": 5, "version": 1}),
    )
    call(
        "stale update at version 1",
        "PUT",
        f"/items/{item_id}",
        body=json.dumps({"name": "Blue widget", "quantity": 9, "version": 1}),
    )
    page = call("list, page 1", "GET", "/items", query={"limit": "1"})
    call("list, page 2", "GET", "/items", query={"limit": "1", "next_token": page["next_token"]})
    call("malformed JSON", "POST", "/items", body='{"name": "oops"')
    call("wrong type", "POST", "/items", body=json.dumps({"name": "Widget", "quantity": "3"}))
    call("unknown field", "POST", "/items", body=json.dumps({"name": "W", "quantity": 1, "x": 1}))
    call("body over the limit", "POST", "/items", body=json.dumps({"name": "W" * 20_000}))
    call(
        "form-encoded body",
        "POST",
        "/items",
        body="name=W&quantity=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    call("bad pagination token", "GET", "/items", query={"next_token": "not-a-token"})
    call("unknown id", "GET", "/items/00000000-0000-0000-0000-000000000000")
    call("delete", "DELETE", f"/items/{item_id}")
    call("route the API does not have", "GET", "/orders")

    table = outputs[OUTPUT_ITEMS_TABLE_NAME]
    items = cloud.client("dynamodb").scan(TableName=table)["Items"]
    # One reading of the record: the invocations listed are the invocations counted.
    invocations = cloud.invocations[first_invocation:]
    trace.step("Invocations")
    trace.invocations(invocations)
    trace.step(f"Items left in the table: {len(items)} (two created, one deleted)")
    for item in items:
        trace.line(trace.short({key: next(iter(value.values())) for key, value in item.items()}))
    return Outcome(
        statuses=statuses,
        items_in_table=len(items),
        invocations=len(invocations),
    )
