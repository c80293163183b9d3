"""The order saga end to end on localcloud, on both workflows: orders placed through the API and
the event bus run the deployed state machine and the deployed durable function, whose steps run
the real code; each scenario ends in its status with exactly its compensations, in the table and
in the execution's history.

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
from orchestration.contract import FailureReason, OrderStatus, SandboxCard, Step, Workflow
from tests.samples import load_event
from tests.synth import CloudAssembly

STACK = "Orchestration"
SFN, DURABLE = Workflow.STEP_FUNCTIONS, Workflow.DURABLE_FUNCTION
WORKFLOWS = (SFN, DURABLE)
#: Units of each scenario's SKU in stock before it runs.
IN_STOCK = 5
#: The default approval deadline (context `orchestration.approval_timeout_seconds`).
APPROVAL_TIMEOUT_SECONDS = 86_400
#: Longest an execution may take to end once its deadline is a second (real time).
DEADLINE_WAIT_SECONDS = 10

#: Step Functions' compensation states, and the durable function's compensation steps.
COMPENSATIONS = {
    SFN: ("RefundPayment", "ReleaseStock", "RecordFailure", "OrderFailed"),
    DURABLE: ("refund payment", "release stock", "record failure"),
}


@dataclasses.dataclass
class Scenario:
    """One order: how it is placed and, once the saga ran, what it left behind."""

    workflow: Workflow
    order: dict[str, Any]
    record: dict[str, Any] = dataclasses.field(default_factory=dict)
    status: str = ""
    error: str | None = None
    #: Step Functions: the states entered; durable function: the steps started, in order.
    ran: list[str] = dataclasses.field(default_factory=list)
    #: The errors of the failed tasks or steps, in order.
    failures: list[str] = dataclasses.field(default_factory=list)
    stock: dict[str, int] = dataclasses.field(default_factory=dict)
    payment: dict[str, Any] | None = None
    #: The error its worker was made to die with, once (the crash scenarios).
    crashed_with: str | None = None

    @property
    def compensations_ran(self) -> list[str]:
        return [name for name in self.ran if name in COMPENSATIONS[self.workflow]]


def _sku(workflow: Workflow, name: str, line: str = "A") -> str:
    return f"{'S' if workflow is SFN else 'D'}{name.upper()}-{line}"


def _in_stock_before(sku: str) -> int:
    # The out-of-stock orders' second line asks for more than its SKU has.
    return 1 if sku.endswith("OOS-B") else IN_STOCK


def _order(
    workflow: Workflow, name: str, *, quantity: int = 2, price: int = 1000, **changes: Any
) -> dict[str, Any]:
    order = load_event("orchestration", "order.json")
    order.update(
        order_id=f"{'sfn' if workflow is SFN else 'dur'}-{name}",
        lines=[{"sku": _sku(workflow, name), "quantity": quantity, "unit_price_cents": price}],
        workflow=workflow.value,
        **changes,
    )
    return order


def _api_orders(workflow: Workflow) -> dict[str, dict[str, Any]]:
    """The orders placed through the API, by scenario."""
    out_of_stock = _order(workflow, "oos")
    out_of_stock["lines"] = [
        {"sku": _sku(workflow, "oos", "A"), "quantity": 2, "unit_price_cents": 1000},
        {"sku": _sku(workflow, "oos", "B"), "quantity": IN_STOCK + 1, "unit_price_cents": 1000},
    ]
    return {
        "happy": _order(workflow, "happy"),
        "out-of-stock": out_of_stock,
        "declined": _order(workflow, "declined", payment_token=SandboxCard.DECLINED.value),
        # The payment provider is unavailable on the first attempt (a transient failure,
        # retried), then the worker dies: the steps function right after the retried charge,
        # the durable function's invocation as it suspends for the retry's backoff.
        "crash": _order(workflow, "crash", payment_token=SandboxCard.UNAVAILABLE_ONCE.value),
        # Over the approval threshold (50,000 cents by default): 5 x 20,000.
        "approved": _order(workflow, "approved", quantity=5, price=20_000),
        "rejected": _order(workflow, "rejected", quantity=5, price=20_000),
    }


def _refused(workflow: Workflow) -> dict[str, Any]:
    order = _order(workflow, "ship")
    order["shipping_address"] = {**order["shipping_address"], "country": "AQ"}
    return order


API_ORDERS = {workflow: _api_orders(workflow) for workflow in WORKFLOWS}
#: Placed as OrderPlaced events (each twice), not through the API.
EVENT_ORDERS = {workflow: _refused(workflow) for workflow in WORKFLOWS}
TIMEOUT_ORDERS = {
    workflow: _order(workflow, "timeout", quantity=5, price=20_000) for workflow in WORKFLOWS
}


def _skus(order: dict[str, Any]) -> list[str]:
    return [line["sku"] for line in order["lines"]]


def _crash_once(cloud: LocalCloud, outputs: dict[str, str]) -> dict[str, str]:
    """Each workflow's worker dies once, mid-saga, after its work and before its answer;
    returns order id -> the error it died with:

    - the steps function times out right after it charged `sfn-crash`'s card, on the retry
      after the provider was unavailable (Step Functions names that Lambda.Unknown);
    - the durable function's first invocation of `dur-crash` is killed as it suspends for the
      charge's retry (Lambda invokes the execution again, which replays its checkpoints).
    """
    invoke = cloud.engine.invoke
    steps, durable = (
        outputs[contract.OUTPUT_STEPS_FUNCTION_NAME],
        outputs[contract.OUTPUT_DURABLE_FUNCTION_NAME],
    )
    crashed: dict[str, str] = {}

    def crashes(function: Any, event: Any) -> str | None:
        if not isinstance(event, dict):
            return None
        if function.function_name == steps and event.get("step") == Step.CHARGE_PAYMENT.value:
            order_id = event["order"]["order_id"]
            return order_id if order_id == API_ORDERS[SFN]["crash"]["order_id"] else None
        crash_id = API_ORDERS[DURABLE]["crash"]["order_id"]
        if function.function_name == durable and f"/{crash_id}/" in event.get(
            "DurableExecutionArn", ""
        ):
            return crash_id
        return None

    def dying_invoke(function: Any, event: Any, **kwargs: Any) -> Any:
        invocation = invoke(function, event, **kwargs)
        victim = crashes(function, event)
        if victim is None or victim in crashed or invocation.error:
            return invocation
        crashed[victim] = (
            "Sandbox.Timedout" if function.function_name == steps else ("Runtime.ExitError")
        )
        return dataclasses.replace(
            invocation,
            payload=None,
            error={"errorType": crashed[victim], "errorMessage": "the worker died"},
        )

    cloud.engine.invoke = dying_invoke  # type: ignore[method-assign]
    return crashed


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


def _approval_deadline_of_one_second(cloud: LocalCloud, machine_arn: str) -> None:
    """The deployed machine with the approval's deadline at one second, as context
    `orchestration.approval_timeout_seconds` would set it: a task's timeout is real time."""
    sfn = cloud.client("stepfunctions")
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=machine_arn)["definition"])
    definition["States"]["RequestApproval"]["TimeoutSeconds"] = 1
    sfn.update_state_machine(stateMachineArn=machine_arn, definition=json.dumps(definition))


def _ended_execution(cloud: LocalCloud, run: Scenario) -> None:
    """The run's status, error, steps and failures from its workflow's own history."""
    arn = run.record["execution_id"]
    deadline = time.monotonic() + DEADLINE_WAIT_SECONDS
    if run.workflow is SFN:
        sfn = cloud.client("stepfunctions")
        while (execution := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline, f"{arn} is still running"
            time.sleep(0.05)
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        run.status, run.error = execution["status"], execution.get("error")
        run.ran = [
            event["stateEnteredEventDetails"]["name"]
            for event in events
            if "stateEnteredEventDetails" in event
        ]
        run.failures = [
            event["taskFailedEventDetails"]["error"]
            for event in events
            if event["type"] == "TaskFailed"
        ] + ["States.Timeout" for event in events if event["type"] == "TaskTimedOut"]
        return
    lambda_ = cloud.client("lambda")
    execution = lambda_.get_durable_execution(DurableExecutionArn=arn)
    events = lambda_.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    run.status = execution["Status"]
    run.error = (execution.get("Error") or {}).get("ErrorType", "").rsplit(".", 1)[-1] or None
    run.ran = [event["Name"] for event in events if event["EventType"] == "StepStarted"]
    run.failures = [
        event["EventType"]
        for event in events
        if event["EventType"] in ("StepFailed", "CallbackFailed", "CallbackTimedOut")
    ]


@pytest.fixture(scope="module")
def scenarios(cloud: LocalCloud, outputs: dict[str, str]) -> dict[tuple[Workflow, str], Scenario]:
    table = outputs[contract.OUTPUT_TABLE_NAME]
    dynamodb = cloud.client("dynamodb")
    runs = {
        (workflow, name): Scenario(workflow, order)
        for workflow in WORKFLOWS
        for name, order in {
            **API_ORDERS[workflow],
            "shipping-refused": EVENT_ORDERS[workflow],
            "timeout": TIMEOUT_ORDERS[workflow],
        }.items()
    }
    for run in runs.values():
        for sku in _skus(run.order):
            item = {**contract.stock_key(sku), "sku": sku}
            dynamodb.put_item(
                TableName=table,
                Item={name: {"S": value} for name, value in item.items()}
                | {"available": {"N": str(_in_stock_before(sku))}},
            )
    crashed = _crash_once(cloud, outputs)
    try:
        for workflow in WORKFLOWS:
            for name, order in API_ORDERS[workflow].items():
                answer = _post(cloud, outputs, "/orders", order)
                assert answer.status == 202, (workflow, name, answer.content)
            # The same order placed again, by the API and as events: one saga still.
            assert _post(cloud, outputs, "/orders", API_ORDERS[workflow]["happy"]).status == 202
            _put_order_event(cloud, outputs, EVENT_ORDERS[workflow])
            _put_order_event(cloud, outputs, EVENT_ORDERS[workflow])
        cloud.settle()
        for workflow in WORKFLOWS:
            for name, approved in (("approved", True), ("rejected", False)):
                path = f"/orders/{API_ORDERS[workflow][name]['order_id']}/approval"
                answer = _post(cloud, outputs, path, {"approved": approved, "comment": "checked"})
                assert answer.status == 202, (workflow, name, answer.content)
        cloud.settle()
        # The approvals nobody gives: the state machine's deadline is real time (a second,
        # here); the durable callback's is on localcloud's clock, moved past it.
        _approval_deadline_of_one_second(cloud, outputs[contract.OUTPUT_STATE_MACHINE_ARN])
        for workflow in WORKFLOWS:
            assert _post(cloud, outputs, "/orders", TIMEOUT_ORDERS[workflow]).status == 202
        cloud.settle()
        cloud.engine.clock.advance(APPROVAL_TIMEOUT_SECONDS + 1)
        cloud.settle()
    finally:
        del cloud.engine.invoke  # the engine's own method again

    api = outputs[contract.OUTPUT_API_URL].rstrip("/")
    for run in runs.values():
        order_id = run.order["order_id"]
        run.crashed_with = crashed.get(order_id)
        answer = cloud.http("GET", f"{api}/orders/{order_id}")
        assert answer.status == 200, answer.content
        run.record = json.loads(answer.content)
        _ended_execution(cloud, run)
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
            else {name: next(iter(value.values())) for name, value in payment.items()}
        )
    return runs


def _key(key: dict[str, str]) -> dict[str, dict[str, str]]:
    return {name: {"S": value} for name, value in key.items()}


COMPLETING = ["happy", "crash", "approved"]


@pytest.mark.parametrize("workflow", WORKFLOWS)
@pytest.mark.parametrize("name", COMPLETING)
def test_a_saga_that_completes_takes_its_stock_charges_once_and_compensates_nothing(
    scenarios, workflow, name
):
    run = scenarios[workflow, name]

    assert run.status == "SUCCEEDED"
    assert run.record["status"] == OrderStatus.COMPLETED.value
    assert run.record["compensations"] == []
    assert run.compensations_ran == []
    assert run.stock == {line["sku"]: IN_STOCK - line["quantity"] for line in run.order["lines"]}
    assert run.payment["status"] == "CHARGED"
    total = sum(line["quantity"] * line["unit_price_cents"] for line in run.order["lines"])
    assert run.payment["amount_cents"] == str(total)


def test_the_state_machine_s_happy_path_runs_every_state_once_in_order(scenarios):
    ran = scenarios[SFN, "happy"].ran

    assert ran[:6] == [
        "Validate",
        "ReserveStock",
        "ReserveLine",
        "CheckReservations",
        "ChargePayment",
        "ShipAndNotify",
    ]
    # The Parallel's branches start in either order.
    assert sorted(ran[6:8]) == ["Notify", "Ship"]
    assert ran[8:] == ["Complete", "OrderCompleted"]
    assert scenarios[SFN, "happy"].failures == []


def test_the_durable_function_s_happy_path_runs_every_step_once_in_order(scenarios):
    ran = scenarios[DURABLE, "happy"].ran

    assert ran[:3] == ["validate", f"reserve {_sku(DURABLE, 'happy')}", "charge payment"]
    assert sorted(ran[3:5]) == ["notify", "ship"]
    assert ran[5:] == ["complete"]
    assert scenarios[DURABLE, "happy"].failures == []


FAILING = [
    # The first line was reserved, the second was short: only the first is released.
    ("out-of-stock", FailureReason.OUT_OF_STOCK, ["release:{sku}"], None),
    ("declined", FailureReason.PAYMENT_DECLINED, ["release:{sku}"], "DECLINED"),
    ("shipping-refused", FailureReason.SHIPMENT_REFUSED, ["refund", "release:{sku}"], "REFUNDED"),
    ("rejected", FailureReason.APPROVAL_REJECTED, ["release:{sku}"], None),
    ("timeout", FailureReason.APPROVAL_TIMED_OUT, ["release:{sku}"], None),
]


@pytest.mark.parametrize("workflow", WORKFLOWS)
@pytest.mark.parametrize(("name", "reason", "compensations", "payment"), FAILING)
def test_a_failed_saga_undoes_exactly_what_it_did_in_reverse_and_fails_with_its_reason(
    scenarios, workflow, name, reason, compensations, payment
):
    run = scenarios[workflow, name]
    first_sku = _skus(run.order)[0]

    assert run.status == "FAILED"
    assert run.error == reason.value
    assert run.record["status"] == OrderStatus.FAILED.value
    assert run.record["failure_reason"] == reason.value
    assert run.record["compensations"] == [entry.format(sku=first_sku) for entry in compensations]
    # Every unit is back in stock, not one more.
    assert run.stock == {sku: _in_stock_before(sku) for sku in _skus(run.order)}
    assert (run.payment or {}).get("status") == payment
    # Each compensation ran once, the refund (once a charge was tried) before the release.
    charged = payment is not None
    assert run.compensations_ran == [
        name
        for name in COMPENSATIONS[workflow]
        if charged or name not in ("RefundPayment", "refund payment")
    ]


def test_a_step_functions_worker_crash_after_the_charge_is_retried_without_charging_again(
    scenarios,
):
    run = scenarios[SFN, "crash"]

    # THEN the provider's unavailability was retried, then the crash after the charge; the
    # third attempt found the charge made
    assert run.crashed_with == "Sandbox.Timedout"
    assert run.failures == [contract.TRANSIENT_ERROR, "Lambda.Unknown"]
    assert run.ran.count("ChargePayment") == 1
    assert (run.payment["status"], run.payment["attempts"]) == ("CHARGED", "3")


def test_a_durable_invocation_crash_resumes_from_the_checkpoints(scenarios):
    run = scenarios[DURABLE, "crash"]

    # THEN the crashed invocation's steps were not run again: one reservation and one failed
    # charge before the crash, the retried charge (after its durable wait) after it
    assert run.crashed_with == "Runtime.ExitError"
    assert run.ran[:4] == [
        "validate",
        f"reserve {_sku(DURABLE, 'crash')}",
        "charge payment",
        "charge payment (attempt 2)",
    ]
    assert sorted(run.ran[4:6]) == ["notify", "ship"]
    assert run.ran[6:] == ["complete"]
    assert run.stock == {_sku(DURABLE, "crash"): IN_STOCK - 2}
    assert (run.payment["status"], run.payment["attempts"]) == ("CHARGED", "2")


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_an_order_over_the_threshold_waits_for_a_decision_and_its_deadline_rejects(
    scenarios, workflow
):
    approval = "RequestApproval" if workflow is SFN else "approval submitter"
    for name in ("approved", "rejected", "timeout"):
        assert approval in scenarios[workflow, name].ran
    timed_out = scenarios[workflow, "timeout"]
    assert timed_out.failures[-1:] == (
        ["States.Timeout"] if workflow is SFN else ["CallbackTimedOut"]
    )
    assert "ChargePayment" not in timed_out.ran
    assert "charge payment" not in timed_out.ran


def test_each_order_placed_twice_or_by_event_runs_one_saga(cloud, outputs, scenarios):
    executions = cloud.client("stepfunctions").list_executions(
        stateMachineArn=outputs[contract.OUTPUT_STATE_MACHINE_ARN]
    )["executions"]
    durable = cloud.client("lambda").list_durable_executions_by_function(
        FunctionName=outputs[contract.OUTPUT_DURABLE_FUNCTION_NAME]
    )["DurableExecutions"]

    assert sorted(execution["name"] for execution in executions) == sorted(
        run.order["order_id"] for run in scenarios.values() if run.workflow is SFN
    )
    assert sorted(execution["DurableExecutionName"] for execution in durable) == sorted(
        run.order["order_id"] for run in scenarios.values() if run.workflow is DURABLE
    )
