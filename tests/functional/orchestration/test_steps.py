"""The steps function on moto, driven with the inputs the state machine's tasks send."""

from __future__ import annotations

import pytest

from orchestration import steps
from orchestration.contract import FailureReason, OrderStatus, Step
from orchestration.errors import InvalidOrderError, OutOfStock
from tests.functional.orchestration.conftest import APPROVAL_THRESHOLD_CENTS


def _run(lambda_context, **payload):
    return steps.handler(payload, lambda_context)


def test_validate_records_the_order_and_says_whether_it_needs_an_approval(
    saga, order, lambda_context
):
    small = _run(lambda_context, step=Step.VALIDATE.value, order=order("small"))
    large_order = order("large", lines=[{"sku": "BOOK-1", "quantity": 9, "unit_price_cents": 2000}])
    large = _run(lambda_context, step=Step.VALIDATE.value, order=large_order)

    assert (small["total_cents"], small["needs_approval"]) == (3400, False)
    assert large["total_cents"] > APPROVAL_THRESHOLD_CENTS
    assert large["needs_approval"] is True
    assert saga.table.order("small").status is OrderStatus.RUNNING


def test_a_reservation_short_of_stock_fails_with_the_error_the_machine_catches(
    saga, sample_event, lambda_context
):
    event = sample_event("step_reserve_line.json")
    event["line"]["quantity"] = 11

    # Lambda reports the exception's class name as the error type: what the Catch matches.
    with pytest.raises(OutOfStock) as failure:
        steps.handler(event, lambda_context)

    assert type(failure.value).__name__ == FailureReason.OUT_OF_STOCK.value
    assert saga.stock()["BOOK-1"] == 10


def test_the_approval_task_keeps_its_token_and_shows_the_order_awaiting_approval(
    saga, order, sample_event, lambda_context
):
    _run(lambda_context, step=Step.VALIDATE.value, order=order("order-1001"))
    event = sample_event("step_request_approval.json")

    assert steps.handler(event, lambda_context) == {"waiting": True}

    assert saga.table.approval("order-1001")["token"] == event["task_token"]
    assert saga.table.approval("order-1001")["status"] == "WAITING"
    assert saga.table.order("order-1001").status is OrderStatus.AWAITING_APPROVAL


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("OutOfStock", FailureReason.OUT_OF_STOCK),
        ("ApprovalRejected", FailureReason.APPROVAL_REJECTED),
        # The approval task's deadline passing.
        ("States.Timeout", FailureReason.APPROVAL_TIMED_OUT),
        # Retries exhausted on a transient failure, or a crash no retry absorbed.
        ("TransientStepError", FailureReason.PARTICIPANT_UNAVAILABLE),
        ("Lambda.Unknown", FailureReason.PARTICIPANT_UNAVAILABLE),
    ],
)
def test_the_failure_is_recorded_with_the_reason_its_error_means(
    saga, order, sample_event, lambda_context, error, reason
):
    _run(lambda_context, step=Step.VALIDATE.value, order=order("order-1001"))
    event = {**sample_event("step_record_failure.json"), "error": error}

    answer = steps.handler(event, lambda_context)

    record = saga.table.order("order-1001")
    assert answer["reason"] == reason.value
    assert (record.status, record.failure_reason) == (OrderStatus.FAILED, reason)
    assert record.failure_cause == "PEN-7: 3 unit(s) asked for, 1 in stock"


def test_a_task_input_without_what_its_step_needs_is_refused_by_name(saga, lambda_context):
    with pytest.raises(InvalidOrderError, match="'reserve-line' step needs 'line'"):
        _run(lambda_context, step=Step.RESERVE_LINE.value, order_id="o-1")
    with pytest.raises(InvalidOrderError, match="unknown step 'teleport'"):
        _run(lambda_context, step="teleport")
