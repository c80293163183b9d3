"""Typed failures of the peer-to-peer pattern: refusals a service answers with, and failures
of a peer call (the ones that count against the peer's circuit)."""

from __future__ import annotations

from peer_to_peer.contract import ErrorType


class PeerToPeerError(Exception):
    """Base of every failure this pattern raises on purpose."""


class RequestRefusedError(PeerToPeerError):
    """A request this service answers with an error and does not serve; not a failure of the
    service itself, so it never counts against its circuit."""

    error_type: ErrorType = ErrorType.INVALID_REQUEST


class InvalidRequestError(RequestRefusedError):
    error_type = ErrorType.INVALID_REQUEST


class UnknownSkuError(RequestRefusedError):
    error_type = ErrorType.UNKNOWN_SKU


class CallCycleError(RequestRefusedError):
    """The request already passed through this service: serving it would loop."""

    error_type = ErrorType.CALL_CYCLE


class CallDepthExceededError(RequestRefusedError):
    """The request has made as many hops as the call-depth limit allows."""

    error_type = ErrorType.CALL_DEPTH


class PeerUnavailableError(PeerToPeerError):
    """A peer call failed: it counts against the peer's circuit. `retryable` says whether the
    same call may succeed if sent again (a timeout, a throttle), not whether it is a bug."""

    retryable = False

    def __init__(self, peer: str, detail: str) -> None:
        super().__init__(f"{peer}: {detail}")
        self.peer = peer
        self.detail = detail


class PeerTimeoutError(PeerUnavailableError):
    """The peer did not answer within the call's time budget."""

    retryable = True


class PeerThrottledError(PeerUnavailableError):
    """Lambda refused the invoke for now (throttling, a service error)."""

    retryable = True


class PeerFailedError(PeerUnavailableError):
    """The peer's handler raised (Lambda's `FunctionError`), or the peer cannot be reached at
    all (not found, access denied, not registered in Cloud Map)."""


class BudgetExhaustedError(PeerTimeoutError):
    """Too little of the caller's time is left for another attempt."""

    retryable = False


class InvalidSettingError(PeerToPeerError):
    """A setting the stack defines holds a value this code cannot use."""
