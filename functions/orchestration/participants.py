"""The saga's participants: what each step does and what undoes it, the same for both workflows.

Step Functions calls them through the steps function (`steps.py`), one task each; the durable
function calls them inside its steps (`durable.py`). Each is safe to run again: a retried or
replayed step finds its work done and changes nothing, and each undo changes only what was done.
"""

from __future__ import annotations

from typing import Any

from orchestration import adapters, logic
from orchestration.contract import FailureReason, OrderStatus, Workflow
from orchestration.errors import PaymentDeclined, ShipmentRefused, TransientStepError
from orchestration.models import Order, OrderLine


def validate(
    table: adapters.SagaTable, payload: Any, *, workflow: Workflow, threshold_cents: int
) -> dict[str, Any]:
    """The order the saga runs, its total, and whether it needs an approval.

    The order's record is written here too (the starters wrote it already, unless the
    execution was started on the engine directly): every later step updates that record.
    """
    order = logic.parse_order(payload)
    table.record_order(
        order, workflow=workflow, fingerprint=logic.fingerprint(order, workflow.value)
    )
    return {
        "order": order.model_dump(mode="json"),
        "total_cents": order.total_cents,
        "needs_approval": logic.needs_approval(order, threshold_cents),
    }


def reserve_line(
    table: adapters.SagaTable, order_id: str, line_number: int, line: OrderLine
) -> dict[str, Any]:
    """Reserve the units of the order's line `line_number` (from 0); raises `OutOfStock`."""
    newly = table.reserve(order_id, line_number, line)
    return {"sku": line.sku, "quantity": line.quantity, "reserved_now": newly}


def release_stock(table: adapters.SagaTable, order: Order) -> list[str]:
    """Release every line this order holds, last line first; the SKUs released now.

    Every line is tried: after a failed Map some lines were reserved and some were not, and
    releasing a line never reserved (or released already) changes nothing.
    """
    lines = list(enumerate(order.lines))
    return [
        line.sku
        for number, line in reversed(lines)
        if table.release(order.order_id, number, line.sku)
    ]


def request_approval(
    table: adapters.SagaTable, order_id: str, *, workflow: Workflow, token: str
) -> None:
    """Keep the token an approver's decision resumes the saga with."""
    table.await_approval(order_id, workflow=workflow, token=token)


def charge_payment(table: adapters.SagaTable, order: Order) -> dict[str, Any]:
    """Charge the order's total with the sandbox provider, at most once per order.

    Raises `PaymentDeclined`, or `TransientStepError` when the provider is unavailable or its
    answer was lost; the retry finds a charge made by a lost attempt and does not charge again.
    """
    attempts, status = table.count_charge_attempt(order.order_id, order.total_cents)
    if status == adapters.DECLINED:
        raise PaymentDeclined(f"the card was declined for order {order.order_id}")
    if status is not None:
        # Charged (or even refunded) by an earlier attempt: a retry never charges twice.
        return {"status": status, "amount_cents": order.total_cents, "attempts": attempts}
    match logic.sandbox_charge(order.payment_token, attempts):
        case logic.ChargeAnswer.DECLINED:
            table.settle_charge(order.order_id, adapters.DECLINED)
            raise PaymentDeclined(f"the card was declined for order {order.order_id}")
        case logic.ChargeAnswer.UNAVAILABLE:
            raise TransientStepError("the payment provider is unavailable; nothing was charged")
        case logic.ChargeAnswer.CHARGED_ANSWER_LOST:
            table.settle_charge(order.order_id, adapters.CHARGED)
            raise TransientStepError("the payment provider's answer was lost")
    table.settle_charge(order.order_id, adapters.CHARGED)
    return {"status": adapters.CHARGED, "amount_cents": order.total_cents, "attempts": attempts}


def refund_payment(table: adapters.SagaTable, order_id: str) -> bool:
    """Refund the order's charge, if there is one not refunded yet."""
    return table.refund(order_id)


def ship(table: adapters.SagaTable, order: Order) -> dict[str, Any]:
    """Book the shipment with the sandbox carrier; raises `ShipmentRefused`."""
    address = order.shipping_address
    if not logic.carrier_accepts(address):
        raise ShipmentRefused(f"the carrier does not deliver to {address.country}")
    tracking = logic.tracking_number(order.order_id)
    table.record_shipment(order.order_id, tracking, address.country)
    return {"tracking_number": tracking}


def notify(table: adapters.SagaTable, order: Order) -> dict[str, Any]:
    """Tell the customer the order is on its way (kept in the notification ledger)."""
    message = f"Order {order.order_id} is confirmed: {len(order.lines)} line(s) on their way."
    table.record_notification(order.order_id, order.customer_id, message)
    return {"customer_id": order.customer_id}


def complete(table: adapters.SagaTable, order_id: str) -> dict[str, Any]:
    table.set_status(order_id, OrderStatus.COMPLETED)
    return {"order_id": order_id, "status": OrderStatus.COMPLETED.value}


def record_failure(
    table: adapters.SagaTable, order_id: str, *, reason: FailureReason, cause: str
) -> dict[str, Any]:
    """Mark the order failed with its reason, after its compensations ran."""
    table.set_status(order_id, OrderStatus.FAILED, failure_reason=reason, failure_cause=cause)
    return {"order_id": order_id, "reason": reason.value, "cause": cause}
