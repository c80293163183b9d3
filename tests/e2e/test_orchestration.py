"""The order saga on Step Functions, end to end on localcloud: orders placed through the API and
the event bus run the deployed state machine, whose steps run the real code; each scenario ends
in its status with exactly its compensations, in the table and in the execution's history.

The stack is deployed once; every scenario's order is placed at once (each on its own SKUs), and
the module's tests read what happened.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud import LocalCloud
from orchestration import contract
from orchestration.contract import FailureReason, OrderStatus, SandboxCard, Step
from tests.samples import load_event
from tests.synth import CloudAssembly

STACK = "Orchestration"
#: Units of each scenario's SKU in stock before it runs.
IN_STOCK = 5
#: Longest an execution may take to end once its deadline is a second (real time).
DEADLINE_WAIT_SECONDS = 10


@dataclasses.dataclass
class Scenario:
    """One order: how it is placed and, once the saga ran, what it left behind."""

    order: dict[str, Any]
    record: dict[str, Any] = dataclasses.field(default_factory=dict)
    execution: dict[str, Any] = dataclasses.field(default_factory=dict)
    history: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    stock: dict[str, int] = dataclasses.field(default_factory=dict)
    payment: dict[str, Any] | None = None

    @property
    def states_entered(self) -> list[str]:
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in self.history
            if "stateEnteredEventDetails" in event
        ]

    def task_failures(self) -> list[str]:
        return [
            event["taskFailedEventDetails"]["error"]
            for event in self.history
            if event["type"] == "TaskFailed"
        ]


def _order(name: str, *, quantity: int = 2, price: int = 1000, **changes: Any) -> dict[str, Any]:
    order = load_event("orchestration", "order.json")
    order.update(
        order_id=f"sfn-{name}",
        lines=[{"sku": f"{name.upper()}-A", "quantity": quantity, "unit_price_cents": price}],
        workflow=contract.Workflow.STEP_FUNCTIONS.value,
        **changes,
    )
    return order


#: The orders placed through the API, by scenario.
API_ORDERS = {
    "happy": _order("happy"),
    "out-of-stock": {
        **_order("oos"),
        "lines": [
            {"sku": "OOS-A", "quantity": 2, "unit_price_cents": 1000},
            {"sku": "OOS-B", "quantity": IN_STOCK + 1, "unit_price_cents": 1000},
        ],
    },
    "declined": _order("declined", payment_token=SandboxCard.DECLINED.value),
    "shipping-refused": {
        **_order("ship"),
        "shipping_address": {**_order("ship")["shipping_address"], "country": "AQ"},
    },
    "transient": _order("transient", payment_token=SandboxCard.UNAVAILABLE_ONCE.value),
    "crash": _order("crash"),
    # Over the approval threshold (50,000 cents by default): 5 x 20,000.
    "approved": _order("approved", quantity=5, price=20_000),
    "rejected": _order("rejected", quantity=5, price=20_000),
}
EVENT_ORDER = _order("event")
TIMEOUT_ORDER = _order("timeout", quantity=5, price=20_000)


def _skus(order: dict[str, Any]) -> list[str]:
    return [line["sku"] for line in order["lines"]]


def _in_stock_before(sku: str) -> int:
    # The out-of-stock order's second line asks for more than this SKU has.
    return 1 if sku == "OOS-B" else IN_STOCK


def _crash_once_after_the_charge(cloud: LocalCloud, steps_function: str) -> None:
    """The steps function's execution environment dies once, right after it charged the
    `crash` order's card and before it answered: Step Functions sees Lambda.Unknown."""
    invoke = cloud.engine.invoke
    crashed: list[str] = []

    def dying_invoke(function: Any, event: Any, **kwargs: Any) -> Any:
        invocation = invoke(function, event, **kwargs)
        if (
            function.function_name == steps_function
            and isinstance(event, dict)
            and event.get("step") == Step.CHARGE_PAYMENT.value
            and event["order"]["order_id"] == API_ORDERS["crash"]["order_id"]
            and not crashed
        ):
            crashed.append(invocation.request_id)
            return dataclasses.replace(
                invocation,
                payload=None,
                error={"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out"},
            )
        return invocation

    cloud.engine.invoke = dying_invoke  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def cloud(dev_assembly: CloudAssembly) -> Iterator[LocalCloud]:
    with LocalCloud(dev_assembly.outdir) as cloud:
        cloud.deploy(STACK)
        yield cloud


@pytest.fixture(scope="module")
def outputs(cloud: LocalCloud) -> dict[str, str]:
    return cloud.outputs(STACK)


def _post(cloud: LocalCloud, outputs: dict[str, str], path: str, body: Any) -> Any:
    return cloud.http(
        "POST",
        outputs[contract.OUTPUT_API_URL].rstrip("/") + path,
        body=json.dumps(body),
        headers={"content-type": "application/json"},
    )


def _put_order_event(cloud: LocalCloud, outputs: dict[str, str], order: dict[str, Any]) -> None:
    answer = cloud.client("events").put_events(
        Entries=[
            {
                "EventBusName": outputs[contract.OUTPUT_EVENT_BUS_NAME],
                "Source": contract.EVENT_SOURCE,
                "DetailType": contract.EVENT_DETAIL_TYPE,
                "Detail": json.dumps(order),
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0


def _ended(cloud: LocalCloud, execution_arn: str) -> dict[str, Any]:
    sfn = cloud.client("stepfunctions")
    deadline = time.monotonic() + DEADLINE_WAIT_SECONDS
    while (execution := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{execution_arn} is still running"
        time.sleep(0.05)
    return execution


def _approval_deadline_of_one_second(cloud: LocalCloud, machine_arn: str) -> None:
    """The deployed machine with the approval's deadline at one second, as context
    `orchestration.approval_timeout_seconds` would set it: a task's timeout is real time."""
    sfn = cloud.client("stepfunctions")
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=machine_arn)["definition"])
    definition["States"]["RequestApproval"]["TimeoutSeconds"] = 1
    sfn.update_state_machine(stateMachineArn=machine_arn, definition=json.dumps(definition))


@pytest.fixture(scope="module")
def scenarios(cloud: LocalCloud, outputs: dict[str, str]) -> dict[str, Scenario]:
    table = outputs[contract.OUTPUT_TABLE_NAME]
    dynamodb = cloud.client("dynamodb")
    runs = {name: Scenario(order) for name, order in API_ORDERS.items()}
    runs["event"] = Scenario(EVENT_ORDER)
    runs["timeout"] = Scenario(TIMEOUT_ORDER)
    for run in runs.values():
        for sku in _skus(run.order):
            dynamodb.put_item(
                TableName=table,
                Item={
                    **{key: {"S": value} for key, value in contract.stock_key(sku).items()},
                    "sku": {"S": sku},
                    "available": {"N": str(_in_stock_before(sku))},
                },
            )
    _crash_once_after_the_charge(cloud, outputs[contract.OUTPUT_STEPS_FUNCTION_NAME])
    try:
        for name, order in API_ORDERS.items():
            answer = _post(cloud, outputs, "/orders", order)
            assert answer.status == 202, (name, answer.content)
        # The same order placed again, by the API and as an event: one saga still.
        assert _post(cloud, outputs, "/orders", API_ORDERS["happy"]).status == 202
        _put_order_event(cloud, outputs, EVENT_ORDER)
        _put_order_event(cloud, outputs, EVENT_ORDER)
        cloud.settle()
        for name, approved in (("approved", True), ("rejected", False)):
            path = f"/orders/{API_ORDERS[name]['order_id']}/approval"
            answer = _post(cloud, outputs, path, {"approved": approved, "comment": "checked"})
            assert answer.status == 202, (name, answer.content)
        cloud.settle()
        _approval_deadline_of_one_second(cloud, outputs[contract.OUTPUT_STATE_MACHINE_ARN])
        assert _post(cloud, outputs, "/orders", TIMEOUT_ORDER).status == 202
        cloud.settle()
    finally:
        del cloud.engine.invoke  # back to the engine's own method

    sfn = cloud.client("stepfunctions")
    for run in runs.values():
        order_id = run.order["order_id"]
        answer = cloud.http(
            "GET", f"{outputs[contract.OUTPUT_API_URL].rstrip('/')}/orders/{order_id}"
        )
        assert answer.status == 200, answer.content
        run.record = json.loads(answer.content)
        run.execution = _ended(cloud, run.record["execution_id"])
        run.history = sfn.get_execution_history(
            executionArn=run.record["execution_id"], maxResults=1000
        )["events"]
        run.stock = {
            sku: int(
                dynamodb.get_item(TableName=table, Key=_key(contract.stock_key(sku)))["Item"][
                    "available"
                ]["N"]
            )
            for sku in _skus(run.order)
        }
        payment = dynamodb.get_item(
            TableName=table, Key=_key(contract.order_key(order_id, contract.PAYMENT_SORT_KEY))
        ).get("Item")
        run.payment = (
            None
            if payment is None
            else {name: next(iter(v.values())) for name, v in payment.items()}
        )
    return runs


def _key(key: dict[str, str]) -> dict[str, dict[str, str]]:
    return {name: {"S": value} for name, value in key.items()}


COMPENSATION_STATES = ("RefundPayment", "ReleaseStock", "RecordFailure", "OrderFailed")


@pytest.mark.parametrize("name", ["happy", "transient", "crash", "approved", "event"])
def test_a_saga_that_completes_charges_once_and_compensates_nothing(scenarios, name):
    run = scenarios[name]

    assert run.execution["status"] == "SUCCEEDED"
    assert run.record["status"] == OrderStatus.COMPLETED.value
    assert run.record["compensations"] == []
    assert not set(COMPENSATION_STATES) & set(run.states_entered)
    assert run.stock == {line["sku"]: IN_STOCK - line["quantity"] for line in run.order["lines"]}
    assert run.payment["status"] == "CHARGED"
    assert run.payment["amount_cents"] == str(
        sum(line["quantity"] * line["unit_price_cents"] for line in run.order["lines"])
    )


def test_the_happy_path_runs_every_step_once_in_order(scenarios):
    run = scenarios["happy"]

    entered = run.states_entered
    assert entered[:6] == [
        "Validate",
        "ReserveStock",
        "ReserveLine",
        "CheckReservations",
        "ChargePayment",
        "ShipAndNotify",
    ]
    # The Parallel's branches start in either order.
    assert sorted(entered[6:8]) == ["Notify", "Ship"]
    assert entered[8:] == ["Complete", "OrderCompleted"]
    assert run.task_failures() == []
    assert run.payment["attempts"] == "1"


@pytest.mark.parametrize(
    ("name", "reason", "compensations", "charged"),
    [
        # The first line was reserved, the second was short: only the first is released.
        ("out-of-stock", FailureReason.OUT_OF_STOCK, ["release:OOS-A"], None),
        ("declined", FailureReason.PAYMENT_DECLINED, ["release:DECLINED-A"], "DECLINED"),
        (
            "shipping-refused",
            FailureReason.SHIPMENT_REFUSED,
            ["refund", "release:SHIP-A"],
            "REFUNDED",
        ),
        ("rejected", FailureReason.APPROVAL_REJECTED, ["release:REJECTED-A"], None),
        ("timeout", FailureReason.APPROVAL_TIMED_OUT, ["release:TIMEOUT-A"], None),
    ],
)
def test_a_failed_saga_undoes_exactly_what_it_did_in_reverse_and_fails_with_its_reason(
    scenarios, name, reason, compensations, charged
):
    run = scenarios[name]

    assert run.execution["status"] == "FAILED"
    assert run.execution["error"] == reason.value
    assert run.record["status"] == OrderStatus.FAILED.value
    assert run.record["failure_reason"] == reason.value
    assert run.record["compensations"] == compensations
    # Every unit is back in stock, not one more.
    assert run.stock == {sku: _in_stock_before(sku) for sku in _skus(run.order)}
    assert (run.payment or {}).get("status") == charged
    # Each compensation state ran once, refund before release.
    entered = run.states_entered
    assert [state for state in entered if state in COMPENSATION_STATES] == [
        *(["RefundPayment"] if "ChargePayment" in entered else []),
        "ReleaseStock",
        "RecordFailure",
        "OrderFailed",
    ]
    assert "Complete" not in entered


def test_the_transient_failure_is_retried_and_the_crashed_charge_is_not_made_twice(scenarios):
    transient, crash = scenarios["transient"], scenarios["crash"]

    assert transient.task_failures() == [contract.TRANSIENT_ERROR]
    assert transient.payment["attempts"] == "2"
    # The steps function died after charging; the retry found the charge and made none.
    assert crash.task_failures() == ["Lambda.Unknown"]
    assert crash.payment["attempts"] == "2"
    assert crash.payment["status"] == "CHARGED"


def test_the_approval_waits_for_a_decision_and_its_deadline_rejects(scenarios):
    for name in ("approved", "rejected", "timeout"):
        assert "RequestApproval" in scenarios[name].states_entered
    assert scenarios["timeout"].task_failures()[-1:] == ["States.Timeout"] or any(
        event["type"] == "TaskTimedOut" for event in scenarios["timeout"].history
    )
    assert "ChargePayment" not in scenarios["timeout"].states_entered


def test_an_order_placed_twice_and_by_event_runs_one_saga_each(cloud, outputs, scenarios):
    executions = cloud.client("stepfunctions").list_executions(
        stateMachineArn=outputs[contract.OUTPUT_STATE_MACHINE_ARN]
    )["executions"]
    names = [execution["name"] for execution in executions]

    assert sorted(names) == sorted(run.order["order_id"] for run in scenarios.values())
    assert scenarios["event"].record["workflow"] == contract.Workflow.STEP_FUNCTIONS.value
