"""Steps handler: runs one participant for one Step Functions task (the payload's `step`).

The state machine holds the saga (order, retries, compensations, the approval's wait); this
function only does the step it is asked for. A business failure is raised as its typed error,
whose class name is what the machine's Catch matches.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from orchestration import adapters, logic, participants
from orchestration.contract import Step, Workflow
from orchestration.errors import InvalidOrderError, SagaFailure
from orchestration.models import OrderLine
from orchestration.settings import steps_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def _field(event: dict[str, Any], name: str) -> Any:
    if name not in event:
        raise InvalidOrderError(f"the {event.get('step')!r} step needs {name!r} in its input")
    return event[name]


def run_step(event: dict[str, Any]) -> Any:
    """The answer of the participant `event["step"]` names."""
    settings = steps_settings()
    table = adapters.saga_table(settings.table_name)
    try:
        step = Step(event.get("step"))
    except ValueError:
        raise InvalidOrderError(f"unknown step {event.get('step')!r}") from None
    match step:
        case Step.VALIDATE:
            return participants.validate(
                table,
                _field(event, "order"),
                workflow=Workflow.STEP_FUNCTIONS,
                threshold_cents=settings.approval_threshold_cents,
            )
        case Step.RESERVE_LINE:
            line = OrderLine.model_validate(_field(event, "line"))
            return participants.reserve_line(
                table, _field(event, "order_id"), int(_field(event, "line_number")), line
            )
        case Step.RELEASE_STOCK:
            order = logic.parse_order(_field(event, "order"))
            return {"released": participants.release_stock(table, order)}
        case Step.REQUEST_APPROVAL:
            participants.request_approval(
                table,
                _field(event, "order_id"),
                workflow=Workflow.STEP_FUNCTIONS,
                token=_field(event, "task_token"),
            )
            return {"waiting": True}
        case Step.CHARGE_PAYMENT:
            return participants.charge_payment(table, logic.parse_order(_field(event, "order")))
        case Step.REFUND_PAYMENT:
            return {"refunded": participants.refund_payment(table, _field(event, "order_id"))}
        case Step.SHIP:
            return participants.ship(table, logic.parse_order(_field(event, "order")))
        case Step.NOTIFY:
            return participants.notify(table, logic.parse_order(_field(event, "order")))
        case Step.COMPLETE:
            return participants.complete(table, _field(event, "order_id"))
        case Step.RECORD_FAILURE:
            return participants.record_failure(
                table,
                _field(event, "order_id"),
                reason=logic.failure_reason(event.get("error")),
                cause=logic.failure_cause(event.get("cause")),
            )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    """One task's input in, the participant's answer out; failures raised by type."""
    logger.append_keys(order_id=event.get("order_id") or (event.get("order") or {}).get("order_id"))
    try:
        return run_step(event)
    except SagaFailure as failure:
        metrics.add_metric(name="BusinessFailures", unit=MetricUnit.Count, value=1)
        logger.warning("step failed", extra={"step": event.get("step"), "reason": failure.reason})
        raise
