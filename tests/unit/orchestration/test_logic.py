"""The orchestration rules that need no AWS: order checks, the approval rule, the sandbox
providers' answers, what an execution's error means, and the retry delays."""

from __future__ import annotations

import json

import pytest
from shared.batches import Backoff

from orchestration import errors, logic
from orchestration.contract import TRANSIENT_ERROR, FailureReason, SandboxCard, Workflow
from orchestration.errors import InvalidOrderError
from orchestration.models import ShippingAddress
from tests.samples import load_event


def _order(**changes):
    return {**load_event("orchestration", "order.json"), **changes}


def test_an_order_s_total_is_the_sum_of_its_lines():
    assert logic.parse_order(_order()).total_cents == 2 * 1250 + 3 * 300


def test_orders_over_the_threshold_need_an_approval_and_orders_at_it_do_not():
    order = logic.parse_order(_order())

    assert logic.needs_approval(order, threshold_cents=order.total_cents - 1)
    assert not logic.needs_approval(order, threshold_cents=order.total_cents)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lines": []}, "lines: List should have at least 1 item"),
        (
            {"lines": [{"sku": "BOOK-1", "quantity": "2", "unit_price_cents": 1}]},
            "lines[0].quantity: Input should be a valid integer",
        ),
        # It names the Step Functions execution and the durable execution.
        ({"order_id": "order 1"}, "order_id: String should match pattern"),
        ({"workflow": "cron"}, "workflow: Input should be 'step-functions' or 'durable-function'"),
    ],
)
def test_an_order_the_saga_cannot_run_is_refused_saying_where(changes, message):
    with pytest.raises(InvalidOrderError, match="invalid order: ") as refused:
        logic.parse_place_order(_order(**changes))

    assert message in refused.value.message


def test_a_placement_names_its_workflow_and_the_step_functions_one_by_default():
    assert logic.parse_place_order(_order()).workflow is Workflow.STEP_FUNCTIONS
    placed = logic.parse_place_order(_order(workflow="durable-function"))
    assert placed.workflow is Workflow.DURABLE_FUNCTION
    assert "workflow" not in placed.order().model_dump()


def test_the_same_order_on_the_same_workflow_has_the_same_fingerprint_and_nothing_else_does():
    order = logic.parse_order(_order())
    other = logic.parse_order(_order(customer_id="customer-43"))

    assert logic.fingerprint(order, "step-functions") == logic.fingerprint(order, "step-functions")
    assert logic.fingerprint(order, "step-functions") != logic.fingerprint(
        order, "durable-function"
    )
    assert logic.fingerprint(order, "step-functions") != logic.fingerprint(other, "step-functions")


@pytest.mark.parametrize(
    ("token", "answers"),
    [
        (SandboxCard.APPROVED, ["charged", "charged"]),
        (SandboxCard.DECLINED, ["declined", "declined"]),
        (SandboxCard.UNAVAILABLE_ONCE, ["unavailable", "charged"]),
        (SandboxCard.LOST_RESPONSE_ONCE, ["charged-answer-lost", "charged"]),
    ],
)
def test_the_sandbox_provider_answers_each_attempt_as_its_token_says(token, answers):
    assert [logic.sandbox_charge(token, attempt) for attempt in (1, 2)] == answers


def test_the_sandbox_carrier_delivers_to_the_countries_it_serves_only():
    address = load_event("orchestration", "order.json")["shipping_address"]

    assert logic.carrier_accepts(ShippingAddress(**address))
    assert not logic.carrier_accepts(ShippingAddress(**{**address, "country": "AQ"}))


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("OutOfStock", FailureReason.OUT_OF_STOCK),
        ("orchestration.errors.PaymentDeclined", FailureReason.PAYMENT_DECLINED),
        ("ShipmentRefused", FailureReason.SHIPMENT_REFUSED),
        ("ApprovalRejected", FailureReason.APPROVAL_REJECTED),
        ("States.Timeout", FailureReason.APPROVAL_TIMED_OUT),
        (TRANSIENT_ERROR, FailureReason.PARTICIPANT_UNAVAILABLE),
        ("Lambda.Unknown", FailureReason.PARTICIPANT_UNAVAILABLE),
        (None, FailureReason.PARTICIPANT_UNAVAILABLE),
    ],
)
def test_an_execution_s_error_names_the_order_s_failure_reason(error, reason):
    assert logic.failure_reason(error) is reason


def test_a_lambda_error_s_cause_is_its_message_and_a_plain_cause_stays_as_it_is():
    lambda_cause = json.dumps({"errorMessage": "PEN-7: 3 asked", "errorType": "OutOfStock"})

    assert logic.failure_cause(lambda_cause) == "PEN-7: 3 asked"
    assert logic.failure_cause("rejected by the approver") == "rejected by the approver"
    assert logic.failure_cause(None) == "no cause given"
    assert len(logic.failure_cause("x" * 5000)) == logic.MAX_CAUSE_LENGTH


def test_each_business_failure_is_named_as_its_reason_so_a_catch_can_match_it():
    for reason, failure in errors.FAILURES.items():
        assert failure.__name__ == reason.value
    assert set(errors.FAILURES) == set(FailureReason)
    assert errors.TransientStepError.__name__ == TRANSIENT_ERROR
    assert logic.is_transient(f"orchestration.errors.{TRANSIENT_ERROR}")
    assert logic.is_transient("RuntimeError")  # not a business answer: worth a retry
    assert not logic.is_transient("orchestration.errors.OutOfStock")
    assert not logic.is_transient("orchestration.errors.ParticipantUnavailable")


def test_retry_delays_are_whole_seconds_with_full_jitter_and_the_same_on_every_replay():
    backoff = Backoff(max_attempts=5, base_seconds=1, cap_seconds=60)

    delays = list(logic.retry_delays(backoff, seed="order-1:charge payment"))

    assert len(delays) == backoff.max_attempts - 1
    assert all(1 <= delay <= 2**retry for retry, delay in enumerate(delays))
    assert delays == list(logic.retry_delays(backoff, seed="order-1:charge payment"))
    spread = {tuple(logic.retry_delays(backoff, seed=f"order-{n}:charge")) for n in range(20)}
    assert len(spread) > 1
