"""Typed failures of the orchestration pattern.

A participant's business failure is an exception named exactly as its `FailureReason`: Lambda
reports the class name as the error type, which is what a Step Functions Catch matches and what
the durable function's step failure carries, so the name is the contract (no message is ever
matched). Both sagas retry every other failure, `TransientStepError` (a participant's own
"try again") among them.
"""

from __future__ import annotations

from orchestration.contract import FailureReason


class OrchestrationError(Exception):
    """Base of every failure this pattern raises on purpose; its message is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidOrderError(OrchestrationError):
    """The order is not one the saga can run (HTTP 422, or the event's dead-letter queue)."""


class OrderConflictError(OrchestrationError):
    """The order id is taken by a different order, or by the other workflow (HTTP 409)."""


class OrderNotFoundError(OrchestrationError):
    """No order has this id (HTTP 404)."""


class UnsupportedMediaTypeError(OrchestrationError):
    """A request body that is not declared as JSON (HTTP 415)."""

    def __init__(self) -> None:
        super().__init__("send the body as JSON with Content-Type: application/json")


class MalformedBodyError(OrchestrationError):
    """A request body that cannot be read as JSON text (HTTP 400)."""


class BodyTooLargeError(OrchestrationError):
    """A request body over the API's limit (HTTP 413)."""


class NoPendingApprovalError(OrchestrationError):
    """The order is not waiting for an approval: never asked, decided, or timed out (409)."""


class SagaFailure(OrchestrationError):  # noqa: N818 - the base of the names below
    """A business failure: not retried; the saga compensates and fails with `reason`."""

    reason: FailureReason


# The class names below are Step Functions error names (see the module docstring): a subclass
# of `SagaFailure` is named by its reason, with no `Error` suffix.
class OutOfStock(SagaFailure):
    reason = FailureReason.OUT_OF_STOCK


class PaymentDeclined(SagaFailure):
    reason = FailureReason.PAYMENT_DECLINED


class ShipmentRefused(SagaFailure):
    reason = FailureReason.SHIPMENT_REFUSED


class ApprovalRejected(SagaFailure):
    reason = FailureReason.APPROVAL_REJECTED


class ApprovalTimedOut(SagaFailure):
    reason = FailureReason.APPROVAL_TIMED_OUT


class ParticipantUnavailable(SagaFailure):
    reason = FailureReason.PARTICIPANT_UNAVAILABLE


class TransientStepError(OrchestrationError):
    """Worth retrying with backoff: the same call may succeed in a moment."""


#: Every business failure by its reason, to raise the one an execution ended with.
FAILURES: dict[FailureReason, type[SagaFailure]] = {
    failure.reason: failure
    for failure in (
        OutOfStock,
        PaymentDeclined,
        ShipmentRefused,
        ApprovalRejected,
        ApprovalTimedOut,
        ParticipantUnavailable,
    )
}
