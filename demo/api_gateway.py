"""The API gateway scenario: the gateway refuses what it must (401, 403, 400, 429) before any
backend runs, routes the rest to the catalog and orders services, and queues feedback straight
into SQS for its consumer."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from api_gateway.contract import (
    API_KEY_SECURITY_SCHEME,
    AUTHORIZER_NAME,
    IDEMPOTENCY_KEY_HEADER,
    OUTPUT_API_URL,
    OUTPUT_FEEDBACK_DEAD_LETTER_QUEUE_URL,
    OUTPUT_FEEDBACK_TABLE_NAME,
    OUTPUT_JWKS_PARAMETER_NAME,
    Scope,
    Tier,
    output_api_key_id,
)
from demo import trace
from demo.cloud import Cloud
from demo.token_issuer import TokenIssuer
from infra import registry

STACK = registry.pattern("api_gateway").stack_name
#: Requests sent at once with one basic-tier key: more than its burst of 10.
BURST = 20


@dataclass(frozen=True)
class Outcome:
    #: label -> HTTP status of each request of the scenario (the burst apart).
    statuses: dict[str, int]
    #: Backend invocations caused by the requests the gateway refused (must be none).
    backend_calls_for_refused: int
    feedback_stored: bool
    #: How many of the burst's requests were throttled (429): at least one.
    throttled: int
    invocations: int
    processed: int
    in_dead_letter_queues: int


def trust_new_issuer(cloud: Cloud, outputs: dict[str, str]) -> TokenIssuer:
    """A token issuer whose public key set the deployed API now trusts."""
    issuer = TokenIssuer()
    cloud.client("ssm").put_parameter(
        Name=outputs[OUTPUT_JWKS_PARAMETER_NAME],
        Value=json.dumps(issuer.key_set()),
        Overwrite=True,
    )
    return issuer


def api_key_value(cloud: Cloud, outputs: dict[str, str], tier: Tier) -> str:
    """The value of the deployed API's key of `tier` (API Gateway generated it)."""
    return cloud.client("apigateway").get_api_key(
        apiKey=outputs[output_api_key_id(tier)], includeValue=True
    )["value"]


def client_credentials(cloud: Cloud) -> dict[str, str]:
    """A client of every route: the premium key and a bearer token granting every scope, by
    the names of the security schemes in the API's exported OpenAPI document."""
    outputs = cloud.outputs(STACK)
    issuer = trust_new_issuer(cloud, outputs)
    return {
        API_KEY_SECURITY_SCHEME: api_key_value(cloud, outputs, Tier.PREMIUM),
        AUTHORIZER_NAME: issuer.bearer("contract-client", [scope.value for scope in Scope]),
    }


def run(cloud: Cloud) -> Outcome:
    """Drive the deployed ApiGateway stack through the URL and names its outputs give."""
    trace.heading("API gateway: REST API -> catalog and orders services, feedback -> SQS")
    outputs = cloud.outputs(STACK)
    first_invocation = len(cloud.invocations)
    run_tag = uuid.uuid4().hex[:8]
    url = outputs[OUTPUT_API_URL]

    trace.step("A token issuer for this run: its public key set goes in the stack's parameter")
    issuer = trust_new_issuer(cloud, outputs)
    api_key = api_key_value(cloud, outputs, Tier.BASIC)
    everything = issuer.bearer(f"customer-{run_tag}", [scope.value for scope in Scope])
    statuses: dict[str, int] = {}

    def call(
        label: str,
        method: str,
        path: str,
        *,
        token: str | None = everything,
        body: Any = None,
        headers: dict[str, str] | None = None,
        quiet: bool = False,
    ) -> Any:
        sent = {"Content-Type": "application/json", "x-api-key": api_key, **(headers or {})}
        if token is not None:
            sent["Authorization"] = token
        text = None if body is None else body if isinstance(body, str) else json.dumps(body)
        response = cloud.http(method, url + path, body=text, headers=sent)
        if not quiet:
            trace.step(f"{label}: {method} /{path}{' ' + trace.short(text, 80) if text else ''}")
            trace.line(f"-> {response.status} {trace.short(response.body)}")
            statuses[label] = response.status
        return response

    def backend_calls(since: int) -> int:
        names = ("Catalog", "Orders", "FeedbackConsumer")
        return sum(
            1 for record in cloud.invocations[since:] if any(n in record.function for n in names)
        )

    before_refusals = len(cloud.invocations)
    call("No token", "GET", "catalog/items", token=None)
    call(
        "A token with orders:read only",
        "GET",
        "catalog/items",
        token=issuer.bearer(f"reader-{run_tag}", [Scope.ORDERS_READ]),
    )
    call(
        "An order of 0 items",
        "POST",
        "orders",
        body={"item_id": "blue-widget", "quantity": 0},
        headers={IDEMPOTENCY_KEY_HEADER: f"{run_tag}-0"},
    )
    refused_calls = backend_calls(before_refusals)
    trace.line(f"backend invocations for these refusals: {refused_calls}")

    call("The catalog", "GET", "catalog/items")
    order = {"item_id": "red-widget", "quantity": 2}
    key = {IDEMPOTENCY_KEY_HEADER: f"{run_tag}-1"}
    created = call("An order", "POST", "orders", body=order, headers=key)
    call("The same order again (a client retry)", "POST", "orders", body=order, headers=key)
    order_id = created.json().get("order_id", "missing")
    call("The order read back", "GET", f"orders/{order_id}")

    accepted = call(
        "Feedback (storage-first: no function on the request path)",
        "POST",
        "feedback",
        body={"rating": 5, "comment": f"Quick delivery ({run_tag})"},
    )
    trace.step("Lambda delivers the feedback queue to its consumer")
    cloud.settle()
    feedback_id = accepted.json().get("feedback_id", "missing")
    stored = cloud.client("dynamodb").get_item(
        TableName=outputs[OUTPUT_FEEDBACK_TABLE_NAME], Key={"feedback_id": {"S": feedback_id}}
    )
    trace.line(f"stored: {trace.short(stored.get('Item'))}")

    trace.step(f"{BURST} requests at once on the basic tier (burst 10, 5 per second)")
    burst = [
        call("burst", "POST", "orders", body="{}", headers=key, quiet=True).status
        for _ in range(BURST)
    ]
    throttled = burst.count(429)
    trace.line(f"-> {burst.count(400)} x 400 (validated, no backend), {throttled} x 429")

    trace.step("Invocations")
    records = cloud.invocations[first_invocation:]
    trace.invocations(records)
    dead_letters = cloud.client("sqs").get_queue_attributes(
        QueueUrl=outputs[OUTPUT_FEEDBACK_DEAD_LETTER_QUEUE_URL],
        AttributeNames=["ApproximateNumberOfMessages"],
    )["Attributes"]["ApproximateNumberOfMessages"]
    return Outcome(
        statuses=statuses,
        backend_calls_for_refused=refused_calls,
        feedback_stored="Item" in stored,
        throttled=throttled,
        invocations=len(records),
        # Requests a backend served: the catalog, three orders calls, the stored feedback.
        processed=backend_calls(first_invocation),
        in_dead_letter_queues=int(dead_letters),
    )
