"""How a service serves a request and calls its peers.

Serving: the request's hop is checked (no cycle, no deeper than the limit), its correlation id
and trace header go into every log line, and a refusal is answered, not raised.

Calling: the peer is found in Cloud Map (cached for a TTL), and the call is guarded by the
peer's circuit (Powertools' circuit breaker, its state in DynamoDB, shared by every caller of
the peer). Inside the circuit, each attempt waits at most the call timeout cut to the caller's
remaining time; only retryable failures are retried, after a backoff with jitter, while time
is left. A call that still fails, or a circuit that is open, gives the peer's fallback answer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.circuit_breaker import (
    CircuitBreakerConfig,
    CircuitInfo,
    CircuitState,
    CircuitTransition,
    circuit_breaker,
)
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError
from shared.batches import Backoff
from shared.validation import describe_validation_error

from peer_to_peer import adapters, logic
from peer_to_peer.contract import (
    CALL_GRAPH,
    CIRCUIT_OPENED_METRIC,
    PEER_FALLBACK_METRIC,
    ErrorType,
    FallbackReason,
    Service,
    circuit_name,
)
from peer_to_peer.errors import (
    BudgetExhaustedError,
    CallCycleError,
    CallDepthExceededError,
    InvalidRequestError,
    PeerFailedError,
    PeerUnavailableError,
    RequestRefusedError,
    UnknownSkuError,
)
from peer_to_peer.models import Degradation, Hop, PeerAnswer, PeerRequest
from peer_to_peer.settings import CallerSettings, caller_settings, service_settings

#: A peer's refusal is raised again by its caller as the same refusal: it travels up the path.
_REFUSALS: dict[str, type[RequestRefusedError]] = {
    ErrorType.INVALID_REQUEST: InvalidRequestError,
    ErrorType.UNKNOWN_SKU: UnknownSkuError,
    ErrorType.CALL_CYCLE: CallCycleError,
    ErrorType.CALL_DEPTH: CallDepthExceededError,
}


@dataclass(frozen=True)
class _ShortCircuited:
    """What the open circuit's callback answers: the peer was not called."""

    circuit: CircuitInfo


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class PeerCaller:
    """Calls this service's peers for one request (see the module docstring).

    `degraded` collects the peers whose fallback stands in the answer.
    """

    service: Service
    settings: CallerSettings
    hop: Hop
    deadline_epoch_ms: int
    logger: Logger
    metrics: Metrics
    backoff: Backoff = logic.PEER_CALL_BACKOFF
    now_ms: Callable[[], int] = _now_ms
    sleep: Callable[[float], None] = time.sleep
    degraded: list[Degradation] = field(default_factory=list)

    def call(self, peer: Service, request: PeerRequest) -> dict[str, Any]:
        """`peer`'s result for `request`, or its fallback (recorded in `degraded`); a peer's
        refusal is raised as the same refusal."""
        if peer not in self.settings.peers:
            raise ValueError(f"{self.service} does not call {peer}")
        guarded = circuit_breaker(
            name=circuit_name(peer),
            persistence_store=adapters.breaker_store(self.settings.breaker_table_name),
            on_circuit_open=self._short_circuit,
            on_transition=self._on_transition,
            config=CircuitBreakerConfig(
                failure_threshold=self.settings.failure_threshold,
                recovery_timeout=self.settings.cool_down_seconds,
                # One successful probe after the cool-down closes the circuit.
                success_threshold=1,
                # Only a peer's failures count; a refusal is an answer.
                handled_exceptions=PeerUnavailableError,
            ),
        )(self._call_with_retries)
        try:
            answer = guarded(peer=peer, request=request)
        except PeerUnavailableError as error:
            self.logger.warning("peer call failed", extra={"peer": peer, "detail": str(error)})
            return self._fallback(peer, FallbackReason.PEER_FAILED)
        if isinstance(answer, _ShortCircuited):
            return self._fallback(peer, FallbackReason.CIRCUIT_OPEN)
        return answer

    def _call_with_retries(self, *, peer: Service, request: PeerRequest) -> dict[str, Any]:
        function_arn = self._discover(peer)
        for attempt in range(1, self.backoff.max_attempts + 1):
            now = self.now_ms()
            budget = logic.attempt_budget_ms(
                call_timeout_ms=self.settings.call_timeout_ms,
                now_epoch_ms=now,
                deadline_epoch_ms=self.deadline_epoch_ms,
            )
            if not budget:
                raise BudgetExhaustedError(peer, f"no time left for attempt {attempt}")
            # The peer learns when this attempt stops waiting for it, and works no longer.
            hop = self.hop.model_copy(update={"deadline_epoch_ms": now + budget})
            payload = {
                **request.model_dump(mode="json", exclude={"hop"}),
                "hop": hop.model_dump(mode="json"),
            }
            try:
                answer = adapters.invoke_peer(peer, function_arn, payload, budget)
            except PeerUnavailableError as error:
                if not error.retryable or attempt == self.backoff.max_attempts:
                    raise
                delay = self.backoff.delay(attempt - 1)
                self.logger.info(
                    "retrying peer call",
                    extra={"peer": peer, "attempt": attempt, "delay_ms": round(delay * 1000)},
                )
                self.sleep(delay)
                continue
            return self._result_of(peer, answer)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _discover(self, peer: Service) -> str:
        try:
            arn = adapters.directory(self.settings.namespace_name).get(
                peer.value, max_age=self.settings.discovery_ttl_seconds
            )
        except GetParameterError as error:
            raise PeerFailedError(peer, f"not found in Cloud Map: {error}") from error
        return str(arn)

    @staticmethod
    def _result_of(peer: Service, answer: Any) -> dict[str, Any]:
        try:
            parsed = PeerAnswer.model_validate(answer)
        except ValidationError as error:
            raise PeerFailedError(peer, "answered something that is not an answer") from error
        if parsed.ok:
            return parsed.result or {}
        error = parsed.error or {}
        refusal = _REFUSALS.get(error.get("type", ""), InvalidRequestError)
        raise refusal(f"{peer}: {error.get('message', '')}")

    def _short_circuit(self, *, peer: Service, request: PeerRequest, circuit: CircuitInfo):
        return _ShortCircuited(circuit)

    def _fallback(self, peer: Service, reason: FallbackReason) -> dict[str, Any]:
        self.degraded.append(logic.degradation(peer, reason))
        self.metrics.add_metric(name=PEER_FALLBACK_METRIC, unit=MetricUnit.Count, value=1)
        self.logger.warning("answering with a fallback", extra={"peer": peer, "reason": reason})
        return logic.fallback_result(peer)

    def _on_transition(self, transition: CircuitTransition) -> None:
        self.logger.warning(
            "circuit changed state",
            extra={
                "circuit": transition.circuit_name,
                "from": str(transition.from_state),
                "to": str(transition.to_state),
            },
        )
        if transition.to_state == CircuitState.OPEN:
            self.metrics.add_metric(name=CIRCUIT_OPENED_METRIC, unit=MetricUnit.Count, value=1)


Work = Callable[[PeerRequest, "PeerCaller | None"], dict[str, Any]]


def serve(
    event: Any, context: LambdaContext, *, logger: Logger, metrics: Metrics, work: Work
) -> dict[str, Any]:
    """Serve one request with `work` and answer in `PeerAnswer`'s shape (see the module
    docstring). An error `work` raises that is not a refusal fails the invocation: the caller
    counts it against this service's circuit."""
    settings = service_settings()
    raw_hop = event.get("hop") if isinstance(event, dict) else None
    correlation_id = (
        raw_hop.get("correlation_id") if isinstance(raw_hop, dict) else None
    ) or context.aws_request_id
    logger.set_correlation_id(correlation_id)

    def answer(**fields: Any) -> dict[str, Any]:
        return PeerAnswer(
            service=settings.service.value, correlation_id=correlation_id, **fields
        ).model_dump(mode="json")

    try:
        request = PeerRequest.model_validate(event)
    except ValidationError as error:
        return answer(
            ok=False,
            error={"type": ErrorType.INVALID_REQUEST, "message": describe_validation_error(error)},
        )
    hop = request.hop
    # Lambda sets the trace header per invocation; without one (X-Ray off) the caller's goes on.
    trace_header = os.environ.get("_X_AMZN_TRACE_ID") or (hop.trace_header if hop else None)
    logger.append_keys(
        call_path=list(hop.call_path) if hop else [],
        caller_trace_header=hop.trace_header if hop else None,
    )
    try:
        logic.check_hop(settings.service, hop, settings.max_call_depth)
        caller = None
        if CALL_GRAPH[settings.service]:
            peers_settings = caller_settings()
            deadline = logic.deadline_ms(
                now_epoch_ms=_now_ms(),
                remaining_ms=context.get_remaining_time_in_millis(),
                hop=hop,
            )
            caller = PeerCaller(
                service=settings.service,
                settings=peers_settings,
                hop=logic.outgoing_hop(
                    service=settings.service,
                    incoming=hop,
                    correlation_id=correlation_id,
                    trace_header=trace_header,
                    deadline_epoch_ms=deadline,
                ),
                deadline_epoch_ms=deadline,
                logger=logger,
                metrics=metrics,
            )
        result = work(request, caller)
    except RequestRefusedError as refusal:
        logger.info("request refused", extra={"type": refusal.error_type, "reason": str(refusal)})
        return answer(ok=False, error={"type": refusal.error_type, "message": str(refusal)})
    degraded = tuple(caller.degraded) if caller else ()
    logger.info(
        "request served",
        extra={"sku": request.sku, "degraded": [entry.peer for entry in degraded]},
    )
    return answer(ok=True, result=result, degraded=degraded)
