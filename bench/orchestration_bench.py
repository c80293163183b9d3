"""Benchmark of the orchestration pattern: the same saga on Step Functions and on a Lambda
durable function, side by side on localcloud.

It prints figures and asserts nothing about time; the only check is that every saga it timed
completed. For each workflow, the same orders (two lines each, placed through the API):

- wall time per saga, placed to completed (median and 95th percentile), on in-process
  localcloud (a laptop's moto, not AWS: compare the two, not the absolute numbers);
- what each saga is billed by: Step Functions' state transitions (every state entered), and
  the durable execution's operations (steps, waits, callbacks and contexts it started);
- Lambda invocations per saga (the steps function's tasks; the durable function's
  invocations, one per replay) and history events per saga.

From the repository root: `.venv/bin/python -m bench.orchestration_bench [--sagas N]`; `make
bench` runs it too (`--sagas`, 0 to skip).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud import LocalCloud
from orchestration import contract
from orchestration.contract import SandboxCard, Workflow

STACK = "Orchestration"
#: Operations of a durable execution that count as billed operations.
DURABLE_OPERATION_EVENTS = ("StepStarted", "WaitStarted", "CallbackStarted", "ContextStarted")


@dataclass(frozen=True)
class SagaFigures:
    workflow: Workflow
    sagas: int
    median_ms: float
    p95_ms: float
    billed_per_saga: float
    invocations_per_saga: float
    history_events_per_saga: float

    @property
    def billed_unit(self) -> str:
        if self.workflow is Workflow.STEP_FUNCTIONS:
            return "state transitions"
        return "durable operations"


@contextmanager
def deployed_stack() -> Iterator[LocalCloud]:
    """The app synthesized into a temporary folder, its Orchestration stack on localcloud."""
    from infra.application import build_app  # loads the CDK: only when the bench runs

    with tempfile.TemporaryDirectory(prefix="orchestration-bench-") as outdir:
        build_app(outdir=outdir).synth()
        with LocalCloud(Path(outdir)) as cloud:
            cloud.deploy(STACK)
            yield cloud


def _order(workflow: Workflow, number: int, sku_a: str, sku_b: str) -> dict[str, Any]:
    return {
        "order_id": f"bench-{workflow.value}-{number}",
        "customer_id": "customer-1",
        "lines": [
            {"sku": sku_a, "quantity": 1, "unit_price_cents": 1250},
            {"sku": sku_b, "quantity": 1, "unit_price_cents": 800},
        ],
        "payment_token": SandboxCard.APPROVED.value,
        "shipping_address": {
            "name": "Ada Lovelace",
            "line1": "12 Marsh Road",
            "city": "Dublin",
            "postcode": "D02 X285",
            "country": "IE",
        },
        "workflow": workflow.value,
    }


def run_sagas(cloud: LocalCloud, workflow: Workflow, sagas: int) -> SagaFigures:
    """Place `sagas` orders one after the other on `workflow`, each run to its end."""
    outputs = cloud.outputs(STACK)
    api = outputs[contract.OUTPUT_API_URL].rstrip("/")
    table = outputs[contract.OUTPUT_TABLE_NAME]
    dynamodb = cloud.client("dynamodb")
    skus = [f"BENCH-{workflow.name[:3]}-{line}" for line in "AB"]
    for sku in skus:
        key = {name: {"S": value} for name, value in contract.stock_key(sku).items()}
        dynamodb.put_item(
            TableName=table, Item={**key, "sku": {"S": sku}, "available": {"N": str(sagas)}}
        )
    durations: list[float] = []
    billed = invocations = events = 0
    for number in range(sagas):
        order = _order(workflow, number, *skus)
        started = time.perf_counter()
        placed = cloud.http(
            "POST",
            f"{api}/orders",
            body=json.dumps(order),
            headers={"content-type": "application/json"},
        )
        cloud.settle()
        durations.append((time.perf_counter() - started) * 1000)
        record = json.loads(
            cloud.http("GET", f"{api}/orders/{order['order_id']}").content or placed.content
        )
        if record["status"] != contract.OrderStatus.COMPLETED.value:
            raise RuntimeError(f"saga {order['order_id']} ended {record['status']}: {record}")
        history = _history(cloud, workflow, record["execution_id"])
        events += len(history)
        billed += _billed(workflow, history)
        invocations += _invocations(workflow, history)
    return SagaFigures(
        workflow=workflow,
        sagas=sagas,
        median_ms=statistics.median(durations),
        p95_ms=statistics.quantiles(durations, n=20)[-1] if sagas >= 2 else durations[0],
        billed_per_saga=billed / sagas,
        invocations_per_saga=invocations / sagas,
        history_events_per_saga=events / sagas,
    )


def _history(cloud: LocalCloud, workflow: Workflow, execution_arn: str) -> list[dict[str, Any]]:
    if workflow is Workflow.STEP_FUNCTIONS:
        return cloud.client("stepfunctions").get_execution_history(
            executionArn=execution_arn, maxResults=1000
        )["events"]
    return cloud.client("lambda").get_durable_execution_history(DurableExecutionArn=execution_arn)[
        "Events"
    ]


def _billed(workflow: Workflow, history: list[dict[str, Any]]) -> int:
    if workflow is Workflow.STEP_FUNCTIONS:
        return sum(1 for event in history if event["type"].endswith("StateEntered"))
    return sum(1 for event in history if event["EventType"] in DURABLE_OPERATION_EVENTS)


def _invocations(workflow: Workflow, history: list[dict[str, Any]]) -> int:
    """Lambda invocations the saga made, from its own history: the tasks the state machine
    scheduled, or the invocations the durable execution took (one per replay)."""
    if workflow is Workflow.STEP_FUNCTIONS:
        return sum(1 for event in history if event["type"] == "TaskScheduled")
    return sum(1 for event in history if event["EventType"] == "InvocationCompleted")


def run(sagas: int) -> list[SagaFigures]:
    """Both workflows' figures for `sagas` orders each."""
    logging.getLogger("moto").setLevel(logging.ERROR)
    logging.getLogger("aws_durable_execution_sdk_python").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")
    with deployed_stack() as cloud:
        # One saga each first: the cold starts are the same for both and not what is compared.
        for workflow in Workflow:
            run_sagas(cloud, workflow, 1)
        return [run_sagas(cloud, workflow, sagas) for workflow in Workflow]


def rows(figures: list[SagaFigures]) -> list[tuple[str, str]]:
    """Figures as (measure, value) rows, for `bench.localcloud_bench`'s summary."""
    table = []
    for saga in figures:
        name = saga.workflow.value
        table += [
            (
                f"saga on {name}: wall time",
                f"{saga.median_ms:.0f} ms median, p95 {saga.p95_ms:.0f}",
            ),
            (f"saga on {name}: {saga.billed_unit}", f"{saga.billed_per_saga:.1f} per saga"),
            (f"saga on {name}: invocations", f"{saga.invocations_per_saga:.1f} per saga"),
            (f"saga on {name}: history events", f"{saga.history_events_per_saga:.1f} per saga"),
        ]
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sagas", type=int, default=20, help="orders per workflow")
    args = parser.parse_args(argv)
    for measure, value in rows(run(args.sagas)):
        print(f"{measure:<52} {value}")


if __name__ == "__main__":
    main()
