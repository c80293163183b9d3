"""The durable function's saga, run by the durable execution SDK's own test runner over moto:
each scenario ends in its status with exactly its compensations, seen in the table (stock,
payment, shipment, the order's record) and in the execution's operations."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_durable_execution_sdk_python.execution import InvocationStatus
from aws_durable_execution_sdk_python.lambda_service import ErrorObject
from aws_durable_execution_sdk_python_testing.executor import Executor
from aws_durable_execution_sdk_python_testing.runner import (
    DurableFunctionTestResult,
    DurableFunctionTestRunner,
)
from shared.cache import reset_caches

from orchestration import contract, durable
from orchestration.contract import FailureReason, OrderStatus
from tests.functional.orchestration.conftest import STOCK

#: Longest a scenario may take on the runner (its waits are skipped, a callback's are not).
RUN_TIMEOUT_SECONDS = 30
#: An order above the test threshold (10,000 cents): 9 x 2,000.
LARGE_LINES = [{"sku": "BOOK-1", "quantity": 9, "unit_price_cents": 2000}]


#: How often the runner looks for a callback (its default, a second, would be most of a test).
POLL_SECONDS = 0.02


def _operations(result: DurableFunctionTestResult) -> list[tuple[str, str]]:
    """(name, status) of the saga's own operations, in the order they ran."""
    return [(operation.name, operation.status.value) for operation in result.operations]


def _nested(result: DurableFunctionTestResult) -> dict[str, str]:
    """name -> status of the operations inside the map and the parallel branches."""
    top = {operation.name for operation in result.operations}
    return {
        operation.name: operation.status.value
        for operation in result.get_all_operations()
        if operation.name not in top
        and not operation.name.startswith(("map-item", "parallel-branch"))
    }


def _runner(handler: Callable[..., Any] = durable.handler) -> DurableFunctionTestRunner:
    return DurableFunctionTestRunner(handler=handler, poll_interval=POLL_SECONDS)


def _run(order: dict[str, Any]) -> DurableFunctionTestResult:
    with _runner() as runner:
        return runner.run(input=json.dumps(order), execution_timeout=RUN_TIMEOUT_SECONDS)


def _error_type(result: DurableFunctionTestResult) -> str:
    return result.error.type.rsplit(".", 1)[-1]


def test_the_happy_path_reserves_charges_ships_notifies_and_completes(saga, order):
    result = _run(order("o-1"))

    assert result.status is InvocationStatus.SUCCEEDED
    assert json.loads(result.result) == {
        "order_id": "o-1",
        "status": "COMPLETED",
        "tracking_number": "TRK-o-1",
    }
    assert _operations(result) == [
        ("validate", "SUCCEEDED"),
        ("reserve-stock", "SUCCEEDED"),
        ("charge payment", "SUCCEEDED"),
        ("ship-and-notify", "SUCCEEDED"),
        ("complete", "SUCCEEDED"),
    ]
    assert _nested(result) == {
        "reserve BOOK-1": "SUCCEEDED",
        "reserve PEN-7": "SUCCEEDED",
        "ship": "SUCCEEDED",
        "notify": "SUCCEEDED",
    }
    assert saga.stock() == {"BOOK-1": STOCK["BOOK-1"] - 2, "PEN-7": STOCK["PEN-7"] - 3}
    assert saga.table.payment("o-1")["status"] == "CHARGED"
    assert saga.table.shipment("o-1")["tracking_number"] == "TRK-o-1"
    assert saga.table.notification("o-1")["customer_id"] == "customer-42"
    record = saga.table.order("o-1")
    assert (record.status, record.compensations) == (OrderStatus.COMPLETED, ())


def test_out_of_stock_releases_the_lines_reserved_and_charges_nothing(saga, order):
    lines = [
        {"sku": "BOOK-1", "quantity": 2, "unit_price_cents": 1250},
        {"sku": "PEN-7", "quantity": 50, "unit_price_cents": 300},
    ]

    result = _run(order("o-1", lines=lines))

    assert result.status is InvocationStatus.FAILED
    assert _error_type(result) == FailureReason.OUT_OF_STOCK.value
    assert _operations(result) == [
        ("validate", "SUCCEEDED"),
        ("reserve-stock", "SUCCEEDED"),
        ("release stock", "SUCCEEDED"),
        ("record failure", "SUCCEEDED"),
    ]
    assert _nested(result) == {"reserve BOOK-1": "SUCCEEDED", "reserve PEN-7": "FAILED"}
    assert saga.stock() == STOCK
    assert saga.table.payment("o-1") is None
    record = saga.table.order("o-1")
    assert (record.status, record.failure_reason) == (
        OrderStatus.FAILED,
        FailureReason.OUT_OF_STOCK,
    )
    assert record.compensations == ("release:BOOK-1",)


def test_a_declined_payment_releases_every_line_in_reverse_and_refunds_nothing(saga, order):
    result = _run(order("o-1", payment_token=contract.SandboxCard.DECLINED.value))

    assert result.status is InvocationStatus.FAILED
    assert _error_type(result) == FailureReason.PAYMENT_DECLINED.value
    assert saga.stock() == STOCK
    assert saga.table.payment("o-1")["status"] == "DECLINED"
    assert saga.table.order("o-1").compensations == ("release:PEN-7", "release:BOOK-1")


def test_a_refused_shipment_refunds_the_payment_then_releases_the_stock(saga, order):
    result = _run(order("o-1", country="AQ"))

    assert result.status is InvocationStatus.FAILED
    assert _error_type(result) == FailureReason.SHIPMENT_REFUSED.value
    assert [name for name, _ in _operations(result)][-3:] == [
        "refund payment",
        "release stock",
        "record failure",
    ]
    assert saga.stock() == STOCK
    assert saga.table.payment("o-1")["status"] == "REFUNDED"
    assert saga.table.shipment("o-1") is None
    assert saga.table.order("o-1").compensations == ("refund", "release:PEN-7", "release:BOOK-1")


def test_a_transient_failure_is_retried_after_a_durable_wait_and_charges_once(saga, order):
    result = _run(order("o-1", payment_token=contract.SandboxCard.UNAVAILABLE_ONCE.value))

    assert result.status is InvocationStatus.SUCCEEDED
    operations = _operations(result)
    assert operations[2:5] == [
        ("charge payment", "FAILED"),
        ("charge payment backoff 1", "SUCCEEDED"),
        ("charge payment (attempt 2)", "SUCCEEDED"),
    ]
    assert type(result.get_wait("charge payment backoff 1")).__name__ == "WaitOperation"
    payment = saga.table.payment("o-1")
    assert (payment["status"], payment["attempts"]) == ("CHARGED", 2)


def test_a_charge_whose_answer_was_lost_is_retried_and_charged_once(saga, order):
    result = _run(order("o-1", payment_token=contract.SandboxCard.LOST_RESPONSE_ONCE.value))

    assert result.status is InvocationStatus.SUCCEEDED
    payment = saga.table.payment("o-1")
    assert (payment["status"], payment["attempts"]) == ("CHARGED", 2)
    assert saga.table.order("o-1").compensations == ()


@pytest.fixture
def approval_needed(saga) -> Callable[[int], None]:
    """`approval_needed(timeout_seconds)`: orders over the threshold wait that long."""

    def configure(timeout_seconds: int = 3600) -> None:
        import os

        os.environ[contract.ENV_APPROVAL_TIMEOUT_SECONDS] = str(timeout_seconds)
        reset_caches()

    return configure


def _until_approval_asked(runner: DurableFunctionTestRunner, order: dict[str, Any]) -> tuple:
    arn = runner.run_async(input=json.dumps(order), execution_timeout=RUN_TIMEOUT_SECONDS)
    return arn, runner.wait_for_callback(arn, timeout=RUN_TIMEOUT_SECONDS)


def test_an_order_over_the_threshold_waits_for_its_approval_then_completes(
    saga, order, approval_needed
):
    approval_needed()
    with _runner() as runner:
        arn, callback_id = _until_approval_asked(runner, order("o-1", lines=LARGE_LINES))
        # The approver finds the callback id where the saga kept it, for the order.
        waiting = saga.table.approval("o-1")
        assert (waiting["token"], waiting["status"]) == (callback_id, "WAITING")
        assert saga.table.order("o-1").status is OrderStatus.AWAITING_APPROVAL
        assert saga.table.payment("o-1") is None
        runner.send_callback_success(callback_id, json.dumps({"approved": True}).encode())
        result = runner.wait_for_result(arn, timeout=RUN_TIMEOUT_SECONDS)

    assert result.status is InvocationStatus.SUCCEEDED
    assert saga.table.payment("o-1")["status"] == "CHARGED"
    assert saga.table.order("o-1").status is OrderStatus.COMPLETED


def test_a_rejected_approval_releases_the_stock_and_fails_the_order(saga, order, approval_needed):
    approval_needed()
    with _runner() as runner:
        arn, callback_id = _until_approval_asked(runner, order("o-1", lines=LARGE_LINES))
        runner.send_callback_failure(
            callback_id,
            ErrorObject(message="too large", type="ApprovalRejected", data=None, stack_trace=None),
        )
        result = runner.wait_for_result(arn, timeout=RUN_TIMEOUT_SECONDS)

    assert _error_type(result) == FailureReason.APPROVAL_REJECTED.value
    assert saga.stock() == STOCK
    record = saga.table.order("o-1")
    assert (record.failure_reason, record.failure_cause) == (
        FailureReason.APPROVAL_REJECTED,
        "too large",
    )
    assert record.compensations == ("release:BOOK-1",)


def test_an_approval_not_given_in_time_rejects_the_order(saga, order, approval_needed):
    approval_needed(timeout_seconds=1)

    result = _run(order("o-1", lines=LARGE_LINES))

    assert result.status is InvocationStatus.FAILED
    assert _error_type(result) == FailureReason.APPROVAL_TIMED_OUT.value
    assert saga.stock() == STOCK
    assert saga.table.payment("o-1") is None
    record = saga.table.order("o-1")
    assert (record.failure_reason, record.compensations) == (
        FailureReason.APPROVAL_TIMED_OUT,
        ("release:BOOK-1",),
    )


def test_an_invocation_that_crashes_mid_saga_resumes_from_its_checkpoints(
    saga, order, approval_needed, monkeypatch
):
    # GIVEN the first invocation's execution environment dies as it ends (after it reserved
    # the stock and asked for the approval); Lambda invokes the execution again, at once here
    monkeypatch.setattr(Executor, "RETRY_BACKOFF_SECONDS", 0)
    approval_needed()
    invocations: list[str] = []

    def dies_once(event: Any, context: Any) -> Any:
        answer = durable.handler(event, context)
        invocations.append(answer["Status"])
        if len(invocations) == 1:
            raise RuntimeError("the execution environment ran out of memory")
        return answer

    with _runner(dies_once) as runner:
        arn, callback_id = _until_approval_asked(runner, order("o-1", lines=LARGE_LINES))
        runner.send_callback_success(callback_id, json.dumps({"approved": True}).encode())
        result = runner.wait_for_result(arn, timeout=RUN_TIMEOUT_SECONDS)

    # THEN the replays took every completed step from its checkpoint: the stock was reserved
    # once and the approval asked once, and the saga completed
    assert result.status is InvocationStatus.SUCCEEDED
    assert invocations[0] == "PENDING"
    assert len(invocations) >= 3
    assert saga.stock()["BOOK-1"] == STOCK["BOOK-1"] - 9
    assert saga.table.approval("o-1")["token"] == callback_id
    assert saga.table.payment("o-1")["attempts"] == 1
