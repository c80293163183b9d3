"""Durable function handler: the order saga as a Lambda durable function.

The same saga as the state machine, written as code: each participant runs in a checkpointed
step, the lines are reserved by a durable map (bounded concurrency), shipping and notifying run
in parallel, an order over the threshold waits for an approver's callback with a deadline, and
a transient failure is retried after a durable wait. On a business failure the handler undoes
what was done, in reverse (refund, then release), records the failure and fails with it.

A re-invocation replays from the checkpoints: a step that completed is not run again, and the
one that was running when an invocation ended runs again, which every participant allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_durable_execution_sdk_python.config import (
    CompletionConfig,
    Duration,
    MapConfig,
    StepConfig,
    WaitForCallbackConfig,
)
from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.exceptions import (
    CallbackError,
    CallbackTimeoutError,
    StepError,
)
from aws_durable_execution_sdk_python.execution import durable_execution
from aws_durable_execution_sdk_python.retries import RetryPresets
from aws_lambda_powertools import Logger, Tracer

from orchestration import adapters, logic, participants
from orchestration.contract import FailureReason, Workflow
from orchestration.errors import (
    FAILURES,
    ApprovalRejected,
    ApprovalTimedOut,
    ParticipantUnavailable,
    SagaFailure,
)
from orchestration.models import Order, OrderLine
from orchestration.settings import DurableSettings, durable_settings

logger = Logger()
tracer = Tracer()

T = TypeVar("T")

#: The SDK's default retries every error six times, business failures included; here a step
#: runs once per attempt and `Saga.step` decides: every failure but a business one is retried.
ONE_ATTEMPT = StepConfig(retry_strategy=RetryPresets.none())


def _failure(error_type: str | None, message: str | None) -> SagaFailure:
    """The business failure a failed operation carried (by its error type's name)."""
    reason = logic.failure_reason(error_type)
    return FAILURES[reason](message or reason.value)


class Saga:
    """One order's saga inside one durable execution."""

    def __init__(self, order: Order, settings: DurableSettings) -> None:
        self.order = order
        self.settings = settings
        self.table = adapters.saga_table(settings.table_name)

    def step(self, context: DurableContext, name: str, action: Callable[[], T]) -> T:
        """Run `action` as a checkpointed step; a failure that is not a business one is retried
        after a durable wait (full jitter), and a business failure is raised as its
        `SagaFailure`.

        Each delay is a wait operation: nothing runs (or is billed) while it lasts, and the
        execution's history shows each attempt and each wait.
        """
        delays = logic.retry_delays(self.settings.backoff, seed=f"{self.order.order_id}:{name}")
        attempt = 1
        while True:
            label = name if attempt == 1 else f"{name} (attempt {attempt})"
            try:
                return context.step(lambda _: action(), name=label, config=ONE_ATTEMPT)
            except StepError as error:
                if not logic.is_transient(error.error_type):
                    raise _failure(error.error_type, error.message) from None
                delay = next(delays, None)
                if delay is None:
                    raise ParticipantUnavailable(
                        f"{name} still failing after {attempt} attempts: {error.message}"
                    ) from None
                context.wait(Duration.from_seconds(delay), name=f"{name} backoff {attempt}")
                attempt += 1

    def reserve_stock(self, context: DurableContext) -> None:
        def reserve(child: DurableContext, line: OrderLine, number: int, _lines: Any) -> Any:
            return self.step(
                child,
                f"reserve {line.sku}",
                lambda: participants.reserve_line(self.table, self.order.order_id, number, line),
            )

        # Every line runs to its end, failed or not: a map that stopped at the first failure
        # could leave a reservation in flight that the release below would miss.
        batch = context.map(
            self.order.lines,
            reserve,
            name="reserve-stock",
            config=MapConfig(
                max_concurrency=self.settings.max_concurrency,
                completion_config=CompletionConfig.all_completed(),
            ),
        )
        errors = batch.get_errors()
        if errors:
            first = errors[0]
            raise _failure(first.type if first else None, first.message if first else None)

    def await_approval(self, context: DurableContext) -> None:
        def submit(callback_id: str, _context: Any) -> None:
            participants.request_approval(
                self.table,
                self.order.order_id,
                workflow=Workflow.DURABLE_FUNCTION,
                token=callback_id,
            )

        try:
            context.wait_for_callback(
                submit,
                name="approval",
                config=WaitForCallbackConfig(
                    timeout=Duration.from_seconds(self.settings.approval_timeout_seconds),
                    retry_strategy=RetryPresets.none(),
                ),
            )
        except CallbackTimeoutError:
            raise ApprovalTimedOut(
                f"no decision within {self.settings.approval_timeout_seconds} s"
            ) from None
        except CallbackError as error:
            raise ApprovalRejected(error.message or "the approver rejected the order") from None

    def ship_and_notify(self, context: DurableContext) -> dict[str, Any]:
        batch = context.parallel(
            [
                lambda branch: self.step(
                    branch, "ship", lambda: participants.ship(self.table, self.order)
                ),
                lambda branch: self.step(
                    branch, "notify", lambda: participants.notify(self.table, self.order)
                ),
            ],
            name="ship-and-notify",
        )
        errors = batch.get_errors()
        if errors:
            first = errors[0]
            raise _failure(first.type if first else None, first.message if first else None)
        shipment, _notification = batch.get_results()
        return shipment

    def run(self, context: DurableContext) -> dict[str, Any]:
        order_id = self.order.order_id
        checked = self.step(
            context,
            "validate",
            lambda: participants.validate(
                self.table,
                self.order.model_dump(mode="json"),
                workflow=Workflow.DURABLE_FUNCTION,
                threshold_cents=self.settings.approval_threshold_cents,
            ),
        )
        charging = False
        try:
            self.reserve_stock(context)
            if checked["needs_approval"]:
                self.await_approval(context)
            charging = True
            self.step(
                context,
                "charge payment",
                lambda: participants.charge_payment(self.table, self.order),
            )
            shipment = self.ship_and_notify(context)
        except SagaFailure as failure:
            self.compensate(context, failure, refund=charging)
            raise
        self.step(context, "complete", lambda: participants.complete(self.table, order_id))
        return {"order_id": order_id, "status": "COMPLETED", **shipment}

    def compensate(self, context: DurableContext, failure: SagaFailure, *, refund: bool) -> None:
        """Undo in reverse: the payment (once a charge was attempted), then the stock."""
        if refund:
            self.step(
                context,
                "refund payment",
                lambda: participants.refund_payment(self.table, self.order.order_id),
            )
        self.step(
            context,
            "release stock",
            lambda: participants.release_stock(self.table, self.order),
        )
        self.step(
            context,
            "record failure",
            lambda: participants.record_failure(
                self.table,
                self.order.order_id,
                reason=FailureReason(failure.reason),
                cause=failure.message,
            ),
        )


@durable_execution
def saga(event: Any, context: DurableContext) -> dict[str, Any]:
    """The durable execution: an order in (the `Order` shape), its outcome out."""
    order = logic.parse_order(event)
    return Saga(order, durable_settings()).run(context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: Any, context: Any) -> Any:
    return saga(event, context)
