"""The peer-to-peer scenario: an order line priced through the call graph, refusals (an unknown
product, a cycle), then pricing broken by a bad deploy: its circuit opens after the threshold
and a burst of calls short-circuits to the fallback instead of reaching it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from demo import trace
from demo.cloud import Cloud
from infra import registry
from peer_to_peer.contract import (
    ENV_DATA_TABLE_NAME,
    ENV_FAILURE_THRESHOLD,
    OUTPUT_BREAKER_TABLE_NAME,
    Service,
    circuit_name,
    output_function_name,
    output_table_name,
)

STACK = registry.pattern("peer_to_peer").stack_name
#: Catalog calls made while pricing is broken: the first ones fail and open the circuit, the
#: rest short-circuit to the fallback without reaching pricing.
FAILURE_BURST = 10


@dataclass(frozen=True)
class Outcome:
    #: What checkout answered for each request (`ok` answers' status, else the error type).
    answers: dict[str, str]
    #: The services invoked for the first order line, in the order they answered.
    call_graph: list[str]
    #: Catalog calls during the burst, and how many of them reached pricing.
    burst_calls: int
    pricing_calls_in_burst: int
    #: The circuit's state in DynamoDB after the burst.
    circuit_after_burst: str
    #: How each burst call's pricing part was answered (reason -> count).
    fallbacks: dict[str, int]
    invocations: int
    processed: int

    @property
    def calls_saved_by_the_open_circuit(self) -> int:
        return self.burst_calls - self.pricing_calls_in_burst

    @property
    def in_dead_letter_queues(self) -> int:
        return 0  # synchronous calls: the caller gets every failure, nothing is queued


def run(cloud: Cloud) -> Outcome:
    """Drive the deployed PeerToPeer stack through the names its outputs give."""
    trace.heading("Peer to peer: checkout -> catalog, pricing, stock (Lambda invokes, Cloud Map)")
    outputs = cloud.outputs(STACK)
    first_invocation = len(cloud.invocations)
    dynamodb, lambda_ = cloud.client("dynamodb"), cloud.client("lambda")
    functions = {service: outputs[output_function_name(service)] for service in Service}
    sku = f"demo-{uuid.uuid4().hex[:8]}"
    _close_circuits(dynamodb, outputs[OUTPUT_BREAKER_TABLE_NAME])

    trace.step(f"Put product {sku} in the catalog, pricing and stock tables (each service's own)")
    for service, attribute in (
        (Service.CATALOG, {"name": {"S": "Blue widget"}}),
        (Service.PRICING, {"unit_price": {"N": "250"}}),
        (Service.STOCK, {"available": {"N": "5"}}),
    ):
        dynamodb.put_item(
            TableName=outputs[output_table_name(service)], Item={"pk": {"S": sku}, **attribute}
        )

    trace.step(
        "Ask pricing, stock, then catalog (which calls both) on their own: each is a function "
        "of its own, and their cold starts are out of the way of checkout's time budget"
    )
    for service in (Service.PRICING, Service.STOCK, Service.CATALOG):
        answer = cloud.invoke(functions[service], {"sku": sku}).payload or {}
        trace.line(f"{service.value} -> {trace.short(answer.get('result'), 160)}")

    answers: dict[str, str] = {}

    def checkout(key: str, label: str, event: dict[str, Any]) -> dict[str, Any]:
        trace.step(label)
        answer = cloud.invoke(functions[Service.CHECKOUT], event).payload or {}
        trace.line(f"-> {trace.short(answer, 220)}")
        answers[key] = (answer.get("result") or {}).get("status") or (
            answer.get("error") or {}
        ).get("type", "?")
        return answer

    before = len(cloud.invocations)
    checkout(
        "2 units",
        "Checkout 2 units (correlation id order-1): it calls catalog (which calls pricing and "
        "stock), pricing and stock",
        {"sku": sku, "quantity": 2, "hop": {"correlation_id": "order-1"}},
    )
    names = {name: service.value for service, name in functions.items()}
    call_graph = [names.get(record.function, "?") for record in cloud.invocations[before:]]
    trace.line(f"answered in this order: {' , '.join(call_graph)}")
    checkout("9 units", "Checkout 9 units: stock has 5", {"sku": sku, "quantity": 9})
    checkout(
        "unknown product",
        "Checkout a product no one knows",
        {"sku": f"{sku}-unknown", "quantity": 1},
    )
    checkout(
        "cycle",
        "A request that already went through checkout comes back to it (a cycle)",
        {"sku": sku, "hop": {"correlation_id": "loop-1", "call_path": ["checkout", "catalog"]}},
    )

    threshold = lambda_.get_function_configuration(FunctionName=functions[Service.CATALOG])[
        "Environment"
    ]["Variables"][ENV_FAILURE_THRESHOLD]
    trace.step(
        f"A bad deploy breaks pricing (its table name is wrong); {FAILURE_BURST} catalog calls: "
        f"after {threshold} failures pricing's circuit opens and the rest short-circuit"
    )
    healthy = _environment(lambda_, functions[Service.PRICING])
    _set_environment(
        lambda_, functions[Service.PRICING], {**healthy, ENV_DATA_TABLE_NAME: "no-such-table"}
    )
    smoke = cloud.invoke(functions[Service.PRICING], {"sku": sku})
    trace.line(f"a smoke test of the new deploy fails: {(smoke.error or {}).get('errorType')}")
    fallbacks: dict[str, int] = {}
    before = len(cloud.invocations)
    try:
        for _ in range(FAILURE_BURST):
            answer = cloud.invoke(functions[Service.CATALOG], {"sku": sku}).payload or {}
            for degraded in answer.get("degraded", []):
                fallbacks[degraded["reason"]] = fallbacks.get(degraded["reason"], 0) + 1
        pricing_calls = sum(
            1
            for record in cloud.invocations[before:]
            if record.function == functions[Service.PRICING]
        )
        circuit = dynamodb.get_item(
            TableName=outputs[OUTPUT_BREAKER_TABLE_NAME],
            Key={"id": {"S": circuit_name(Service.PRICING)}},
        ).get("Item", {})
    finally:
        trace.step("Pricing is deployed again as it was")
        _set_environment(lambda_, functions[Service.PRICING], healthy)
        cloud.invoke(functions[Service.PRICING], {"sku": sku})
    state = circuit.get("state", {}).get("S", "CLOSED")
    trace.line(
        f"pricing reached {pricing_calls} times in {FAILURE_BURST} calls; fallbacks {fallbacks}; "
        f"circuit {state} in DynamoDB"
    )
    trace.line(
        "after its cool-down the circuit lets one probe through, and a success closes it "
        "(tests/e2e/test_peer_to_peer.py shows it on localcloud's clock); each caller may act "
        "on a view of the circuit up to 5 s old (the breaker's local cache)"
    )
    _close_circuits(dynamodb, outputs[OUTPUT_BREAKER_TABLE_NAME])

    invocations = cloud.invocations[first_invocation:]
    trace.step("Invocations")
    trace.invocations(invocations)
    return Outcome(
        answers=answers,
        call_graph=call_graph,
        burst_calls=FAILURE_BURST,
        pricing_calls_in_burst=pricing_calls,
        circuit_after_burst=state,
        fallbacks=fallbacks,
        invocations=len(invocations),
        processed=3 + len(answers) + FAILURE_BURST + 2,
    )


def _environment(lambda_: Any, function_name: str) -> dict[str, str]:
    return lambda_.get_function_configuration(FunctionName=function_name)["Environment"][
        "Variables"
    ]


def _set_environment(lambda_: Any, function_name: str, variables: dict[str, str]) -> None:
    lambda_.update_function_configuration(
        FunctionName=function_name, Environment={"Variables": variables}
    )


def _close_circuits(dynamodb: Any, table: str) -> None:
    """Close every circuit by deleting its item (what an operator does once a peer is fixed):
    a run on a used endpoint starts with closed circuits, and leaves them closed."""
    for item in dynamodb.scan(TableName=table).get("Items", []):
        dynamodb.delete_item(TableName=table, Key={"id": item["id"]})
