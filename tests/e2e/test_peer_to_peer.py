"""Peer to peer end to end on localcloud: the call graph answers, a failing peer's circuit
opens for every caller and closes after a probe, a slow peer never makes its caller late, a
cycle is refused.

The circuit breaker reads the time with `datetime.now()`; `breaker_clock` points its modules at
localcloud's clock, so a test moves past the cool-down with `cloud.engine.clock.advance(...)`
instead of waiting for it.
"""

from __future__ import annotations

import datetime
import io
import json
import time
import types
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.circuit_breaker import base as breaker_base
from aws_lambda_powertools.utilities.circuit_breaker.persistence import base as store_base
from aws_lambda_powertools.utilities.circuit_breaker.persistence import dynamodb as store_dynamodb
from moto.awslambda.models import lambda_backends

from infra.config import PeerToPeerConfig
from localcloud import LocalCloud
from peer_to_peer.contract import (
    ENV_DATA_TABLE_NAME,
    OUTPUT_BREAKER_TABLE_NAME,
    ErrorType,
    Service,
    circuit_name,
    output_function_name,
    output_table_name,
)
from tests.synth import CloudAssembly

STACK = "PeerToPeer"
SETTINGS = PeerToPeerConfig()  # what the dev assembly deploys
SKU = "A1"


@pytest.fixture(scope="module")
def cloud(dev_assembly: CloudAssembly) -> Iterator[LocalCloud]:
    """The PeerToPeer stack alone, deployed once for this module's tests, with one product."""
    with LocalCloud(dev_assembly.outdir) as cloud:
        cloud.deploy(STACK)
        outputs = cloud.outputs(STACK)
        dynamodb = cloud.client("dynamodb")
        for service, attribute in (
            (Service.CATALOG, {"name": {"S": "Blue widget"}}),
            (Service.PRICING, {"unit_price": {"N": "250"}}),
            (Service.STOCK, {"available": {"N": "5"}}),
        ):
            dynamodb.put_item(
                TableName=outputs[output_table_name(service)],
                Item={"pk": {"S": SKU}, **attribute},
            )
        # Each function's first (cold) start outside any caller's time budget: a cold start
        # under a loaded machine can outlast a 2 s call timeout, which is not what a test asks.
        for service in (Service.PRICING, Service.STOCK, Service.CATALOG, Service.CHECKOUT):
            warm_up = {"sku": SKU, "hop": {"correlation_id": "warm-up", "call_path": [service]}}
            cloud.invoke(outputs[output_function_name(service)], warm_up)
        yield cloud


@pytest.fixture
def outputs(cloud: LocalCloud) -> dict[str, str]:
    return cloud.outputs(STACK)


@pytest.fixture
def breaker_clock(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> Any:
    """localcloud's clock, which the circuit breaker reads; each test starts with no circuit
    state (no item, no environment's count), as after the breaker's TTL and a new deploy."""

    class ClockDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:  # type: ignore[override]
            return datetime.datetime.fromtimestamp(cloud.engine.clock.time(), tz)

    clock_module = types.SimpleNamespace(datetime=ClockDatetime)
    for module in (breaker_base, store_base, store_dynamodb):
        monkeypatch.setattr(module, "dt", clock_module)
    for counters in (
        breaker_base._LOCAL_FAILURES,
        breaker_base._LOCAL_SUCCESSES,
        breaker_base._LAST_OBSERVED_STATE,
    ):
        counters.clear()
    outputs = cloud.outputs(STACK)
    dynamodb = cloud.client("dynamodb")
    table = outputs[OUTPUT_BREAKER_TABLE_NAME]
    for item in dynamodb.scan(TableName=table)["Items"]:
        dynamodb.delete_item(TableName=table, Key={"id": item["id"]})
    # Past every environment's cached circuit state (5 s) and the discovery TTL.
    cloud.engine.clock.advance(SETTINGS.discovery_ttl_seconds + 1)
    return cloud.engine.clock


def _ask(cloud: LocalCloud, outputs: dict[str, str], service: Service, **event: Any) -> Any:
    invocation = cloud.invoke(outputs[output_function_name(service)], {"sku": SKU, **event})
    assert invocation.succeeded, invocation.error
    return invocation.payload


def _invoked(cloud: LocalCloud, outputs: dict[str, str], since: int) -> list[str]:
    """The services invoked since invocation number `since`, in order."""
    by_name = {outputs[output_function_name(service)]: service.value for service in Service}
    return [by_name[invocation.function] for invocation in cloud.invocations[since:]]


def _circuit(cloud: LocalCloud, outputs: dict[str, str], peer: Service) -> dict[str, str]:
    item = (
        cloud.client("dynamodb")
        .get_item(
            TableName=outputs[OUTPUT_BREAKER_TABLE_NAME], Key={"id": {"S": circuit_name(peer)}}
        )
        .get("Item", {})
    )
    return {name: next(iter(value.values())) for name, value in item.items()}


def _set_environment(cloud: LocalCloud, function_name: str, **changes: str) -> dict[str, str]:
    """Redeploy a function's configuration with `changes`; returns the variables it had.

    The new configuration's first (cold) start is made here, as a smoke test after a deploy
    would, so that no caller's time budget pays for it (on a loaded machine it can outlast
    the 2 s call timeout, and the call would be retried)."""
    lambda_ = cloud.client("lambda")
    before = lambda_.get_function_configuration(FunctionName=function_name)["Environment"][
        "Variables"
    ]
    lambda_.update_function_configuration(
        FunctionName=function_name, Environment={"Variables": {**before, **changes}}
    )
    cloud.invoke(function_name, {"sku": SKU})
    return before


def test_checkout_calls_its_peers_and_every_hop_carries_the_correlation_id(
    cloud: LocalCloud, outputs: dict[str, str], breaker_clock: Any
):
    since = len(cloud.invocations)
    hop = {"correlation_id": "order-7", "trace_header": "Root=1-5759e988-bd862e3fe1be46a994272793"}

    answer = _ask(cloud, outputs, Service.CHECKOUT, quantity=2, hop=hop)

    assert answer == {
        "ok": True,
        "service": "checkout",
        "correlation_id": "order-7",
        "result": {
            "sku": SKU,
            "name": "Blue widget",
            "quantity": 2,
            "total": 500,
            "status": "confirmed",
        },
        "error": None,
        "degraded": [],
    }
    # Who called whom: checkout -> catalog -> (pricing, stock), then checkout -> pricing, stock
    assert _invoked(cloud, outputs, since) == [
        "pricing",
        "stock",
        "catalog",
        "pricing",
        "stock",
        "checkout",
    ]
    served = [
        json.loads(line)
        for invocation in cloud.invocations[since:]
        for line in invocation.log_events
        if '"request served"' in line
    ]
    assert {record["correlation_id"] for record in served} == {"order-7"}
    assert {record["caller_trace_header"] for record in served} == {hop["trace_header"]}
    paths = sorted(tuple(record["call_path"]) for record in served)
    assert paths == [
        (),
        ("checkout",),
        ("checkout",),
        ("checkout",),
        ("checkout", "catalog"),
        ("checkout", "catalog"),
    ]


def test_a_failing_peer_opens_its_circuit_then_calls_short_circuit_to_the_fallback(
    cloud: LocalCloud, outputs: dict[str, str], breaker_clock: Any
):
    pricing = outputs[output_function_name(Service.PRICING)]
    # GIVEN pricing broken by a bad deploy (its table does not exist)
    healthy = _set_environment(cloud, pricing, **{ENV_DATA_TABLE_NAME: "no-such-table"})
    try:
        since = len(cloud.invocations)
        failed = [_ask(cloud, outputs, Service.CATALOG) for _ in range(SETTINGS.failure_threshold)]
        opened = _circuit(cloud, outputs, Service.PRICING)
        after_open = len(cloud.invocations)
        short_circuited = _ask(cloud, outputs, Service.CATALOG)
        invoked_for_it = _invoked(cloud, outputs, after_open)
    finally:
        _set_environment(cloud, pricing, **healthy)

    # THEN each failed call answered with pricing's fallback; a handler error is not retried
    assert [answer["degraded"] for answer in failed] == [
        [{"peer": "pricing", "reason": "peer_failed"}]
    ] * SETTINGS.failure_threshold
    assert [answer["result"]["unit_price"] for answer in failed] == [None] * 3
    assert _invoked(cloud, outputs, since)[: after_open - since].count("pricing") == 3
    # the circuit opened in DynamoDB after the threshold
    assert opened["state"] == "OPEN"
    assert opened["failure_count"] == str(SETTINGS.failure_threshold)
    # and the next call did not reach pricing: the fallback answered at once
    assert short_circuited["degraded"] == [{"peer": "pricing", "reason": "circuit_open"}]
    assert invoked_for_it == ["stock", "catalog"]


def test_an_open_circuit_is_shared_by_every_caller_until_a_probe_after_the_cool_down_closes_it(
    cloud: LocalCloud, outputs: dict[str, str], breaker_clock: Any
):
    pricing = outputs[output_function_name(Service.PRICING)]
    # GIVEN catalog opened pricing's circuit; checkout has never called pricing since
    healthy = _set_environment(cloud, pricing, **{ENV_DATA_TABLE_NAME: "no-such-table"})
    try:
        for _ in range(SETTINGS.failure_threshold):
            _ask(cloud, outputs, Service.CATALOG)
    finally:
        _set_environment(cloud, pricing, **healthy)
    assert _circuit(cloud, outputs, Service.PRICING)["state"] == "OPEN"
    breaker_base._LOCAL_FAILURES.clear()  # no environment holds a count: only the item tells

    # WHEN checkout (a second caller) asks, pricing healthy again but the cool-down not over
    breaker_clock.advance(SETTINGS.cool_down_seconds - 10)
    since = len(cloud.invocations)
    shared = _ask(cloud, outputs, Service.CHECKOUT, quantity=1)
    # THEN checkout (and catalog under it) short-circuit pricing: the circuit is the item's
    assert "pricing" not in _invoked(cloud, outputs, since)
    assert shared["degraded"] == [{"peer": "pricing", "reason": "circuit_open"}]
    assert shared["result"]["status"] == "pending"
    assert shared["result"]["total"] is None

    # WHEN the cool-down has passed: one probe reaches pricing, succeeds and closes the circuit
    breaker_clock.advance(10)
    since = len(cloud.invocations)
    probe = _ask(cloud, outputs, Service.CATALOG)
    assert probe["degraded"] == []
    assert probe["result"]["unit_price"] == 250
    assert _invoked(cloud, outputs, since).count("pricing") == 1
    assert _circuit(cloud, outputs, Service.PRICING)["state"] == "CLOSED"


def test_a_cycle_and_a_path_too_deep_are_refused_before_any_peer_is_called(
    cloud: LocalCloud, outputs: dict[str, str], breaker_clock: Any
):
    since = len(cloud.invocations)
    cycle = _ask(
        cloud,
        outputs,
        Service.CATALOG,
        hop={"correlation_id": "loop-1", "call_path": ["checkout", "catalog", "pricing"]},
    )
    too_deep = _ask(
        cloud,
        outputs,
        Service.CATALOG,
        hop={"correlation_id": "deep-1", "call_path": ["edge", "checkout", "basket", "offers"]},
    )

    assert cycle["ok"] is False
    assert cycle["error"]["type"] == ErrorType.CALL_CYCLE
    assert "checkout -> catalog -> pricing" in cycle["error"]["message"]
    assert too_deep["error"]["type"] == ErrorType.CALL_DEPTH
    assert _invoked(cloud, outputs, since) == ["catalog", "catalog"]


@pytest.fixture
def slow_stock(cloud: LocalCloud, outputs: dict[str, str]) -> Iterator[float]:
    """Stock redeployed as a version that takes 2 s to answer; the real one afterwards."""
    name = outputs[output_function_name(Service.STOCK)]
    model = lambda_backends[cloud.engine.account_id][cloud.engine.region].get_function(name)
    code, handler = model.code_bytes, model.handler
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr(
            "slow.py", "import time\ndef handler(event, context):\n    time.sleep(2)\n"
        )
    lambda_ = cloud.client("lambda")
    lambda_.update_function_code(FunctionName=name, ZipFile=archive.getvalue())
    lambda_.update_function_configuration(FunctionName=name, Handler="slow.handler")
    yield 2.0
    lambda_.update_function_code(FunctionName=name, ZipFile=code)
    lambda_.update_function_configuration(FunctionName=name, Handler=handler)


def test_a_slow_peer_never_makes_its_caller_exceed_its_own_deadline(
    cloud: LocalCloud, outputs: dict[str, str], breaker_clock: Any, slow_stock: float
):
    # GIVEN catalog's caller waits 0.6 s for it (the hop's deadline), stock takes 2 s
    deadline_ms = int(time.time() * 1000) + 600
    since = len(cloud.invocations)
    started = time.monotonic()
    answer = _ask(
        cloud,
        outputs,
        Service.CATALOG,
        hop={
            "correlation_id": "slow-1",
            "call_path": ["checkout"],
            "deadline_epoch_ms": deadline_ms,
        },
    )
    waited = time.monotonic() - started

    # THEN catalog answered before the deadline, with stock's fallback
    assert waited < 0.6
    assert answer["ok"] is True
    assert answer["result"]["in_stock"] is None
    assert answer["degraded"] == [{"peer": "stock", "reason": "peer_failed"}], answer
    # and stock's attempt was cut to what was left, not its 2 s
    stock_calls = [
        invocation
        for invocation in cloud.invocations[since:]
        if invocation.function == outputs[output_function_name(Service.STOCK)]
    ]
    assert stock_calls
    assert all(invocation.caller_gave_up for invocation in stock_calls)
