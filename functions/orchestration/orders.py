"""Placing orders and deciding approvals: what the API and the event starter share.

A placement writes the order's record first (once per order id), then starts its workflow with
the order id as the execution's name, which both engines treat as one execution however often
it is started: a client's retry, a duplicated event, or both at once start one saga.
"""

from __future__ import annotations

from dataclasses import replace

from botocore.exceptions import ClientError

from orchestration import adapters, logic
from orchestration.contract import Workflow
from orchestration.errors import NoPendingApprovalError
from orchestration.models import ApprovalDecision, PlaceOrder
from orchestration.settings import starter_settings

#: What the engines answer when the token or callback an approval would resume is gone (its
#: deadline passed, or the execution ended): the approval window is closed.
_CLOSED_WINDOW_ERRORS = frozenset(
    {
        "TaskTimedOut",
        "TaskDoesNotExist",
        "InvalidToken",
        "CallbackTimeoutException",
        "ResourceNotFoundException",
    }
)


def place(request: PlaceOrder) -> adapters.OrderRecord:
    """Record the order and start its saga; the same order placed again changes nothing.

    Raises `OrderConflictError` for another order under a taken id.
    """
    settings = starter_settings()
    table = adapters.saga_table(settings.table_name)
    order = request.order()
    record = table.record_order(
        order,
        workflow=request.workflow,
        fingerprint=logic.fingerprint(order, request.workflow.value),
    )
    if record.execution_id:
        return record
    # First placement, or one whose start failed after the record was written: start it.
    engines = adapters.engines()
    if request.workflow is Workflow.STEP_FUNCTIONS:
        execution = engines.start_state_machine(settings.state_machine_arn, order)
    else:
        execution = engines.start_durable_function(settings.durable_function_arn, order)
    table.set_execution(order.order_id, execution)
    return replace(record, execution_id=execution)


def order(order_id: str) -> adapters.OrderRecord:
    return adapters.saga_table(starter_settings().table_name).order(order_id)


def decide(order_id: str, decision: ApprovalDecision) -> adapters.OrderRecord:
    """Send an approver's decision to the saga waiting for it, once.

    Raises `OrderNotFoundError`, or `NoPendingApprovalError` when the order waits for no
    decision (never asked, decided already, or past its deadline).
    """
    table = adapters.saga_table(starter_settings().table_name)
    table.order(order_id)
    workflow, token = table.decide_approval(order_id, approved=decision.approved)
    engines = adapters.engines()
    answer = {"approved": decision.approved, "comment": decision.comment}
    cause = decision.comment or "rejected by the approver"
    try:
        match workflow, decision.approved:
            case Workflow.STEP_FUNCTIONS, True:
                engines.approve_task(token, answer)
            case Workflow.STEP_FUNCTIONS, False:
                engines.reject_task(token, cause)
            case Workflow.DURABLE_FUNCTION, True:
                engines.approve_callback(token, answer)
            case Workflow.DURABLE_FUNCTION, False:
                engines.reject_callback(token, cause)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _CLOSED_WINDOW_ERRORS:
            raise NoPendingApprovalError(
                f"order {order_id!r} is no longer waiting: its approval window closed"
            ) from None
        raise
    if decision.approved:
        table.resume_after_approval(order_id)
    return table.order(order_id)
