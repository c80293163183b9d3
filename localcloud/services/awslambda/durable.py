"""Lambda durable functions: executions that checkpoint their steps and replay, run locally.

A function whose template gives it a `DurableConfig` is durable: an Invoke through a qualified
ARN (a version, an alias or `$LATEST`) starts a durable execution instead of one invocation.
The execution is run by the durable execution testing SDK's executor, which is what the
Lambda service does for it: the executor keeps the execution and its operations (steps, waits,
callbacks, child contexts) in its store, answers the handler's `CheckpointDurableExecution`
and `GetDurableExecutionState` calls with its checkpoint processor, re-invokes the handler
when a wait ends, a step's retry is due or a callback is answered (the handler replays the
checkpointed operations and goes on from where it stopped), retries an invocation that
crashed, and ends the execution when the handler answers SUCCEEDED or FAILED, when
`ExecutionTimeout` passes (TIMED_OUT) or when it is stopped. localcloud supplies what the
executor needs from around it, on the engine's terms:

- its invoker runs the handler through the engine's runner, with the durable event;
- its clock and scheduler are the engine's clock (`_DurableClock`) and delivery rounds
  (`_DurableTimers`): timers fire when due on the (scaled) clock, and settling takes every
  wait and retry delay as elapsed, moving the execution's clock on, but fires an execution's
  or a callback's timeout only when it comes before a wait (`rules.durable_executions`);
- the Lambda API's durable-execution operations, answered from moto's Lambda endpoint
  (`HOOKS`): checkpoints and state, callbacks, and the control plane (get, list, history,
  stop).
"""

from __future__ import annotations

import asyncio
import datetime
import heapq
import inspect
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from aws_durable_execution_sdk_python import state as sdk_state
from aws_durable_execution_sdk_python.execution import (
    DurableExecutionInvocationInput,
    InitialExecutionState,
    InvocationStatus,
)
from aws_durable_execution_sdk_python.lambda_service import (
    ErrorObject,
    LambdaClient,
    OperationStatus,
    OperationUpdate,
)
from aws_durable_execution_sdk_python_testing import exceptions as testing_errors
from aws_durable_execution_sdk_python_testing.checkpoint.processor import (
    DEFAULT_MAX_INVOCATION_PAGE_BYTES,
    CheckpointProcessor,
)
from aws_durable_execution_sdk_python_testing.execution import (
    Execution,
    OperationPaginatorState,
)
from aws_durable_execution_sdk_python_testing.executor import Executor
from aws_durable_execution_sdk_python_testing.invoker import InvokeResponse
from aws_durable_execution_sdk_python_testing.model import StartDurableExecutionInput
from aws_durable_execution_sdk_python_testing.stores.memory import InMemoryExecutionStore
from aws_durable_execution_sdk_python_testing.token import CallbackToken
from aws_durable_execution_sdk_python_testing.worker.registry import ExecutionRegistry
from moto.awslambda import models as lambda_models
from moto.awslambda import responses as lambda_responses
from moto.awslambda import urls as lambda_urls
from moto.awslambda.exceptions import LambdaClientError
from moto.core.responses import ActionResult

from localcloud.core.clock import Clock
from localcloud.core.engine import active_engine
from localcloud.core.hooks import Hook
from localcloud.core.runner import Invocation
from localcloud.core.service import Core
from localcloud.rules import durable_executions as rules

logger = logging.getLogger("localcloud")

#: How many executions `ListDurableExecutionsByFunction` answers by default.
LIST_PAGE_SIZE = 100
#: Lambda's default for `DurableConfig.RetentionPeriodInDays`.
DEFAULT_RETENTION_DAYS = 14
#: What a synchronous invoke answers when its execution is still running at the end of its wait.
STILL_RUNNING = {
    "errorType": "Sandbox.Timedout",
    "errorMessage": "the durable execution is still running",
}
# How often a caller running an execution's timers on scaled real time looks for due ones.
_DRIVING_INTERVAL_SECONDS = 0.01
#: How long a synchronous Invoke waits for its execution: Lambda's 15 minutes. Not scaled: the
#: handler's own running time is not, and a caller's read timeout usually ends it first.
SYNCHRONOUS_WAIT_SECONDS = 900


# -- Lambda's errors for the durable-execution API ---------------------------------------------


class ResourceNotFoundError(LambdaClientError):
    code = 404

    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


class InvalidParameterValueError(LambdaClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterValueException", message)


class AlreadyStartedError(LambdaClientError):
    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("DurableExecutionAlreadyStartedException", message)


class CallbackTimedOutError(LambdaClientError):
    def __init__(self, message: str) -> None:
        super().__init__("CallbackTimeoutException", message)


# -- the executor's clock and scheduler, on the engine's --------------------------------------


class _DurableClock:
    """The executor's clock: the engine's, moved on when a timer fires before it is due.

    When settling takes a wait as elapsed, or a scaled timer fires early in AWS's time, the
    execution's time reaches the timer's due time, so the executor sees the wait over (it
    compares its operations' timestamps with `now()`).
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._ahead = 0.0
        self._lock = threading.Lock()

    def epoch(self) -> float:
        return self._clock.time() + self._ahead

    def now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.epoch(), datetime.UTC)

    def arm(self, wake: datetime.datetime) -> float:
        """Seconds of AWS's time until `wake` (the scheduler scales them)."""
        return max(wake.timestamp() - self.epoch(), 0.0)

    def reach(self, epoch: float) -> None:
        with self._lock:
            self._ahead = max(self._ahead, epoch - self._clock.time())


class _CompletionEvent:
    """The executor's completion event (set when an execution ends), on a thread event."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._exception: Exception | None = None

    def set(self) -> None:
        self._event.set()

    def set_exception(self, exception: Exception) -> None:
        self._exception = exception
        self._event.set()

    def wait(self, timeout: float | None = None, *, clear_on_set: bool = True) -> bool:
        done = self._event.wait(timeout)
        if done and self._exception is not None:
            raise self._exception
        return done

    def is_set(self) -> bool:
        return self._event.is_set()

    def remove(self) -> None:
        return None


@dataclass(order=True)
class _Timer:
    due_epoch: float
    sequence: int
    due_monotonic: float = field(compare=False)
    moves_forward: bool = field(compare=False)
    run: Callable[[], Any] = field(compare=False)
    future: Future = field(compare=False)
    completion_event: _CompletionEvent | None = field(compare=False)


class _DurableTimers:
    """The executor's scheduler: its work runs in the engine's delivery rounds (`run_due`).

    The executor schedules coroutines (an invocation, a wait or a retry coming due) and plain
    functions (an execution's or a callback's timeout); the first move an execution forward,
    the second only end it (see `rules.durable_executions.fast_forward_horizon`).
    """

    def __init__(self, engine_clock: Clock, clock: _DurableClock) -> None:
        self._engine_clock = engine_clock
        self._clock = clock
        self._timers: list[_Timer] = []
        self._sequence = itertools.count()
        self._lock = threading.Lock()

    def call_later(
        self,
        func: Callable[[], Any],
        delay: float = 0,
        count: int | None = 1,
        completion_event: _CompletionEvent | None = None,
    ) -> Future:
        future: Future = Future()
        timer = _Timer(
            due_epoch=self._clock.epoch() + delay,
            sequence=next(self._sequence),
            due_monotonic=self._engine_clock.due(delay),
            moves_forward=inspect.iscoroutinefunction(func),
            run=func,
            future=future,
            completion_event=completion_event,
        )
        with self._lock:
            heapq.heappush(self._timers, timer)
        return future

    def create_event(self) -> _CompletionEvent:
        return _CompletionEvent()

    def run_due(self, *, fast_forward: bool) -> int:
        """Run the timers due now (with `fast_forward`, up to the horizon); a round runs only
        the timers set before it, so one that sets another leaves it to the next round."""
        with self._lock:
            self._timers = [timer for timer in self._timers if not timer.future.cancelled()]
            heapq.heapify(self._timers)
            queued_before = next(self._sequence)
            horizon = (
                rules.fast_forward_horizon(
                    (timer.due_epoch, timer.moves_forward) for timer in self._timers
                )
                if fast_forward
                else None
            )
        done = 0
        while True:
            with self._lock:
                timer = self._next_due(queued_before, horizon)
                if timer is None:
                    return done
            if not timer.future.set_running_or_notify_cancel():
                continue
            self._clock.reach(timer.due_epoch)
            self._fire(timer)
            done += 1

    def _next_due(self, queued_before: int, horizon: float | None) -> _Timer | None:
        # Timers set during this round (sequence after `queued_before`) wait for the next;
        # the earliest of the others fires when the clock or the horizon has reached it.
        waiting = []
        chosen = None
        while self._timers:
            timer = heapq.heappop(self._timers)
            if timer.future.cancelled():
                continue
            if timer.sequence > queued_before:
                waiting.append(timer)
                continue
            due = (
                timer.due_epoch <= self._clock.epoch()
                or (horizon is not None and timer.due_epoch <= horizon)
                # Scaled real time: with a time scale of 0 (in-process) every wait would be
                # over at once, timeouts included, so only a clock moved on ends those.
                or (
                    self._engine_clock.time_scale > 0
                    and timer.due_monotonic <= self._engine_clock.monotonic()
                )
            )
            if due:
                chosen = timer
            else:
                waiting.append(timer)
            break
        for timer in waiting:
            heapq.heappush(self._timers, timer)
        return chosen

    @staticmethod
    def _fire(timer: _Timer) -> None:
        try:
            if inspect.iscoroutinefunction(timer.run):
                result = asyncio.run(timer.run())
            else:
                result = timer.run()
        except Exception as error:
            logger.exception("durable execution timer failed")
            if timer.completion_event is not None:
                timer.completion_event.set_exception(error)
            timer.future.set_exception(error)
            return
        timer.future.set_result(result)


# -- the executor's invoker: the engine's runner ------------------------------------------


class _FunctionRuntimeError(Exception):
    """An invocation the handler did not answer (it crashed, exited or timed out): the
    executor retries it."""


class _EngineInvoker:
    """Invokes a durable function's handler through the engine, with the durable event."""

    def __init__(self, engine: Core) -> None:
        self.engine = engine

    def create_invocation_input(self, execution: Execution) -> DurableExecutionInvocationInput:
        paginator = OperationPaginatorState.pin(execution)
        operations, next_marker = paginator.page(None, DEFAULT_MAX_INVOCATION_PAGE_BYTES)
        return DurableExecutionInvocationInput(
            durable_execution_arn=execution.durable_execution_arn,
            checkpoint_token=execution.get_new_checkpoint_token(),
            initial_execution_state=InitialExecutionState(
                operations=operations, next_marker=next_marker or ""
            ),
            updated_operation_ids=list(execution.updated_operation_ids),
        )

    def invoke(
        self,
        function_name: str,
        input: DurableExecutionInvocationInput,
        endpoint_url: str | None = None,
        tenant_id: str | None = None,
        account_id: str | None = None,
        region_name: str | None = None,
    ) -> InvokeResponse:
        name, _, qualifier = function_name.partition(":")
        try:
            function = lambda_models.lambda_backends[self.engine.account_id][
                self.engine.region
            ].get_function(name, qualifier or None)
        except lambda_models.UnknownFunctionException as error:
            raise testing_errors.ResourceNotFoundException(str(error)) from error
        self._sdk_client_reaches_this_engine(function.region)
        invocation = self.engine.invoke(function, input.to_json_dict(), trigger="durable execution")
        if invocation.error is not None:
            raise _FunctionRuntimeError(
                f"{invocation.error.get('errorType')}: {invocation.error.get('errorMessage')}"
            )
        return InvokeResponse.from_output(invocation.payload, invocation.request_id)

    def _sdk_client_reaches_this_engine(self, region: str) -> None:
        # The SDK keeps its Lambda client for the process, where Lambda keeps one per
        # execution environment: one made for another engine (another endpoint or region) is
        # dropped, and the handler makes its own.
        cached = LambdaClient._cached_boto_client
        if cached is None:
            return
        endpoint = self.engine.endpoint_url or f"https://lambda.{region}.amazonaws.com"
        if (cached.meta.endpoint_url, cached.meta.region_name) != (endpoint, region):
            LambdaClient._cached_boto_client = None

    def update_endpoint(self, endpoint_url: str, region_name: str) -> None:
        return None

    def inherit_endpoint(self, child_execution_arn: str, parent_execution_arn: str) -> None:
        return None


class _LocalExecutor(Executor):
    """The testing SDK's executor, naming executions as Lambda does (their ARN under the
    function's, with the version that runs, the execution's name and its id)."""

    def _create_execution(
        self,
        input: StartDurableExecutionInput,
        parent_execution_arn: str | None = None,
    ) -> Execution:
        function_arn = (
            f"arn:aws:lambda:{self.region}:{input.account_id}:function:{input.function_name}"
        )
        invocation_id = input.invocation_id or str(uuid.uuid4())
        execution = Execution(
            durable_execution_arn=rules.execution_arn(
                function_arn, input.function_qualifier, input.execution_name, invocation_id
            ),
            start_input=input,
            operations=[],
        )
        execution.region = self.region
        execution.parent_execution_arn = parent_execution_arn
        execution.start(now=self._clock.now())
        self._store.save(execution)
        return execution


# -- the engine's durable executions ------------------------------------------------------


@dataclass(frozen=True)
class Started:
    """What an Invoke of a durable function started (or found, for a name used before)."""

    arn: str
    version: str
    existing: bool


class DurableExecutions:
    """Every durable execution of one engine, on one executor (see the module docstring)."""

    def __init__(self, engine: Core) -> None:
        self.engine = engine
        self.clock = _DurableClock(engine.clock)
        self.timers = _DurableTimers(engine.clock, self.clock)
        self.store = InMemoryExecutionStore()
        self.registry = ExecutionRegistry(self.store, self.timers)  # type: ignore[arg-type]
        processor = CheckpointProcessor(self.store, self.timers, clock=self.clock)  # type: ignore[arg-type]
        self.executor = _LocalExecutor(
            store=self.store,
            scheduler=self.timers,  # type: ignore[arg-type]
            invoker=_EngineInvoker(engine),
            checkpoint_processor=processor,
            registry=self.registry,
            clock=self.clock,
            region=engine.region,
        )
        processor.add_execution_observer(self.executor)
        processor.set_chained_invoke_preflight(self.executor.preflight_chained_invoke)
        self._start_lock = threading.Lock()

    def stop(self) -> None:
        self.executor.shutdown()
        self.registry.shutdown()

    def run_due(self, *, fast_forward: bool) -> int:
        return self.timers.run_due(fast_forward=fast_forward)

    # -- starting -------------------------------------------------------------------------

    def start(self, function: Any, payload: str, name: str | None) -> Started:
        """Start an execution of `function` (moto's function at the invoked version) with
        `payload`, or find the one already started under `name` with the same payload."""
        if name is not None and not rules.EXECUTION_NAME_PATTERN.fullmatch(name):
            raise InvalidParameterValueError(
                f"1 validation error detected: Value '{name}' at 'durableExecutionName' failed "
                "to satisfy constraint: Member must satisfy regular expression pattern: "
                f"{rules.EXECUTION_NAME_PATTERN.pattern}"
            )
        config = durable_config(function) or {}
        version = str(function.version)
        with self._start_lock:
            existing = self._named(function.function_name, name) if name else None
            decision = rules.start_decision(
                existing.start_input.input if existing else None,
                exists=existing is not None,
                requested_input=payload,
            )
            if decision is rules.StartDecision.CONFLICT:
                raise AlreadyStartedError(
                    f"Durable execution with name {name} already exists with a different input"
                )
            if existing is not None:
                return Started(existing.durable_execution_arn, version, existing=True)
            start = StartDurableExecutionInput(
                account_id=function.account_id,
                function_name=function.function_name,
                function_qualifier=version,
                execution_name=name or rules.new_execution_name(),
                execution_timeout_seconds=int(config.get("ExecutionTimeout", 0)),
                execution_retention_period_days=int(
                    config.get("RetentionPeriodInDays", DEFAULT_RETENTION_DAYS)
                ),
                invocation_id=str(uuid.uuid4()),
                input=payload,
            )
            arn = self.executor.start_execution(start).execution_arn
        assert arn is not None
        return Started(arn, version, existing=False)

    def _named(self, function_name: str, name: str) -> Execution | None:
        for execution in self.store.list_all():
            start = execution.start_input
            if start.function_name == function_name and start.execution_name == name:
                return execution
        return None

    def execution(self, arn: str) -> Execution:
        try:
            return self.store.load(arn)
        except KeyError as error:
            raise ResourceNotFoundError(f"Durable execution not found: {arn}") from error

    def wait(self, arn: str, *, drive: bool) -> bool:
        """Wait for an execution to end, as a synchronous Invoke does; False when it cannot
        end without something else happening first (a callback) or Lambda's wait is over.

        `drive`: the caller runs the execution's timers itself, because nothing else would
        while it waits: in-process, where nothing delivers in the background (each wait is
        then taken as elapsed), or on the delivery thread itself (an event source's poller).
        """
        if not drive:
            try:
                return self.executor.wait_until_complete(arn, timeout=SYNCHRONOUS_WAIT_SECONDS)
            except testing_errors.ResourceNotFoundException:
                # No completion event to wait on (the executor has one only for executions it
                # launched): the stored execution says whether it ended.
                return self.execution(arn).is_complete
        background = self.engine.delivering_in_background
        deadline = time.monotonic() + SYNCHRONOUS_WAIT_SECONDS
        while not self.execution(arn).is_complete:
            if self.run_due(fast_forward=not background):
                continue
            # In the background, the wait ends with Lambda's, or when localcloud stops.
            if not self.engine.delivering_in_background or time.monotonic() > deadline:
                return False
            time.sleep(_DRIVING_INTERVAL_SECONDS)
        return True

    def run_to_end(self, function: Any, event: Any, *, trigger: str) -> Invocation:
        """One synchronous invoke of a durable function by localcloud itself (an event
        source's poller, on the delivery thread): its execution's result, as an invocation."""
        started = self.start(function, json.dumps(event), None)
        if self.wait(started.arn, drive=True):
            answer, error = self.outcome(started.arn)
        else:
            answer, error = b"null", dict(STILL_RUNNING)
        return Invocation(
            function=function.function_name,
            trigger=trigger,
            cold_start=False,
            duration_ms=0.0,
            payload=None if error else json.loads(answer),
            error=error,
            request_id=started.arn.rsplit("/", 1)[1],
        )

    def outcome(self, arn: str) -> tuple[bytes, dict[str, Any] | None]:
        """An ended execution's answer to a synchronous Invoke: its result, or its error in
        Lambda's shape."""
        execution = self.execution(arn)
        result = execution.result
        if result is not None and result.status is InvocationStatus.SUCCEEDED:
            return (result.result or "null").encode(), None
        error = (result.error if result is not None else None) or ErrorObject(
            message=None, type=None, data=None, stack_trace=None
        )
        record = {
            "errorType": error.type or execution.current_status().value,
            "errorMessage": error.message or "",
        }
        if error.stack_trace:
            record["stackTrace"] = error.stack_trace
        return json.dumps(record).encode(), record

    # -- the API ----------------------------------------------------------------------------

    def checkpoint(self, params: dict[str, Any]) -> dict[str, Any]:
        updates = [OperationUpdate.from_dict(update) for update in params.get("Updates") or []]
        response = self._call(
            self.executor.checkpoint_execution,
            params["DurableExecutionArn"],
            params["CheckpointToken"],
            updates,
            params.get("ClientToken"),
        )
        return response.to_dict()

    def state(self, params: dict[str, Any]) -> dict[str, Any]:
        response = self._call(
            self.executor.get_execution_state,
            params["DurableExecutionArn"],
            params.get("CheckpointToken"),
            params.get("Marker") or None,
            params.get("MaxItems"),
        )
        return response.to_dict()

    def describe(self, arn: str) -> dict[str, Any]:
        self.execution(arn)
        described = self._call(self.executor.get_execution_details, arn).to_dict()
        config = self._durable_config_of(arn)
        if config:
            described["DurableConfig"] = config
        return described

    def history(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["DurableExecutionArn"]
        self.execution(arn)
        response = self._call(
            self.executor.get_execution_history,
            arn,
            bool(params.get("IncludeExecutionData")),
            bool(params.get("ReverseOrder")),
            params.get("Marker") or None,
            params.get("MaxItems"),
        )
        return response.to_dict()

    def list_by_function(self, function: Any, params: dict[str, Any]) -> dict[str, Any]:
        statuses = params.get("Statuses") or []
        summaries = []
        # Newest first; `ReverseOrder` lists the oldest first.
        for execution in sorted(
            self.store.list_all(),
            key=lambda execution: execution.get_operation_execution_started().start_timestamp,
            reverse=not params.get("ReverseOrder"),
        ):
            start = execution.start_input
            if start.function_name != function.function_name:
                continue
            if params.get("Qualifier") and start.function_qualifier != str(function.version):
                continue
            if params.get("DurableExecutionName") not in (None, start.execution_name):
                continue
            status = execution.current_status().value
            if statuses and status not in statuses:
                continue
            operation = execution.get_operation_execution_started()
            started_after, started_before = params.get("StartedAfter"), params.get("StartedBefore")
            if started_after and operation.start_timestamp < _utc(started_after):
                continue
            if started_before and operation.start_timestamp > _utc(started_before):
                continue
            summary = {
                "DurableExecutionArn": execution.durable_execution_arn,
                "DurableExecutionName": start.execution_name,
                "FunctionArn": execution.function_arn(self.engine.region),
                "Status": status,
                "StartTimestamp": operation.start_timestamp,
            }
            if operation.end_timestamp is not None:
                summary["EndTimestamp"] = operation.end_timestamp
            summaries.append(summary)
        offset = int(params.get("Marker") or 0)
        limit = int(params.get("MaxItems") or LIST_PAGE_SIZE)
        page = summaries[offset : offset + limit]
        answer: dict[str, Any] = {"DurableExecutions": page}
        if offset + limit < len(summaries):
            answer["NextMarker"] = str(offset + limit)
        return answer

    def stop_execution(self, arn: str, error: dict[str, Any] | None) -> dict[str, Any]:
        self.execution(arn)
        stop_error = ErrorObject.from_dict(error) if error else None
        return self._call(self.executor.stop_execution, arn, stop_error).to_dict()

    def callback_succeeded(self, callback_id: str, result: bytes | None) -> None:
        self._callback_operation(callback_id)
        self._call(self.executor.send_callback_success, callback_id, result)

    def callback_failed(self, callback_id: str, error: dict[str, Any] | None) -> None:
        self._callback_operation(callback_id)
        callback_error = ErrorObject.from_dict(error) if error else None
        self._call(self.executor.send_callback_failure, callback_id, callback_error)

    def callback_heartbeat(self, callback_id: str) -> None:
        self._callback_operation(callback_id)
        self._call(self.executor.send_callback_heartbeat, callback_id)

    def _callback_operation(self, callback_id: str) -> Any:
        """The callback's operation, while it waits; Lambda's error otherwise."""
        try:
            token = CallbackToken.from_str(callback_id)
            execution = self.store.load(token.execution_arn)
            _, operation = execution.find_callback_operation(callback_id)
        except Exception as error:
            raise ResourceNotFoundError(f"Callback not found: {callback_id}") from error
        if operation.status is OperationStatus.TIMED_OUT:
            raise CallbackTimedOutError(f"Callback {callback_id} has timed out")
        if operation.status is not OperationStatus.STARTED or execution.is_complete:
            raise ResourceNotFoundError(f"Callback {callback_id} is not waiting")
        return operation

    def _durable_config_of(self, arn: str) -> dict[str, Any] | None:
        start = self.execution(arn).start_input
        config = {"ExecutionTimeout": start.execution_timeout_seconds}
        config["RetentionPeriodInDays"] = start.execution_retention_period_days
        return config

    @staticmethod
    def _call(method: Callable[..., Any], *args: Any) -> Any:
        """Call the executor, answering its errors as Lambda's."""
        try:
            return method(*args)
        except testing_errors.ResourceNotFoundException as error:
            raise ResourceNotFoundError(str(error)) from error
        except testing_errors.InvalidParameterValueException as error:
            raise InvalidParameterValueError(str(error)) from error


def _utc(moment: datetime.datetime) -> datetime.datetime:
    """A timestamp from a request (moto parses it without a zone: it is UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def durable_config(function: Any) -> dict[str, Any] | None:
    """The function's `DurableConfig`, if it is a durable function."""
    return getattr(function, "localcloud_durable_config", None)


# -- the Lambda API's durable-execution operations, on moto's Lambda endpoint ----------------


def _durable_executions() -> DurableExecutions:
    return active_engine().service("lambda").durable_executions()  # type: ignore[attr-defined]


def _params(response: Any) -> dict[str, Any]:
    # moto's Lambda responses read their parameters by hand; these operations take them as
    # botocore's model describes them (path, query string, headers and body).
    response._get_action()
    response.parse_parameters(response.normalized_request)
    return response.params


def _answering(operation: Callable[[dict[str, Any]], Any]):
    def wrap(_missing):
        def answer(self):
            return ActionResult(operation(_params(self)))

        answer.__name__ = operation.__name__
        return answer

    return wrap


def checkpoint_durable_execution(params: dict[str, Any]) -> dict[str, Any]:
    return _durable_executions().checkpoint(params)


def get_durable_execution_state(params: dict[str, Any]) -> dict[str, Any]:
    return _durable_executions().state(params)


def get_durable_execution(params: dict[str, Any]) -> dict[str, Any]:
    return _durable_executions().describe(params["DurableExecutionArn"])


def get_durable_execution_history(params: dict[str, Any]) -> dict[str, Any]:
    return _durable_executions().history(params)


def list_durable_executions_by_function(params: dict[str, Any]) -> dict[str, Any]:
    engine = active_engine()
    try:
        function = engine.function(params["FunctionName"])
        if params.get("Qualifier"):
            function = lambda_models.lambda_backends[engine.account_id][engine.region].get_function(
                function.function_name, params["Qualifier"]
            )
    except lambda_models.UnknownFunctionException as error:
        raise ResourceNotFoundError(f"Function not found: {params['FunctionName']}") from error
    return _durable_executions().list_by_function(function, params)


def stop_durable_execution(params: dict[str, Any]) -> dict[str, Any]:
    return _durable_executions().stop_execution(params["DurableExecutionArn"], params.get("Error"))


def send_durable_execution_callback_success(params: dict[str, Any]) -> dict[str, Any]:
    _durable_executions().callback_succeeded(params["CallbackId"], params.get("Result"))
    return {}


def send_durable_execution_callback_failure(params: dict[str, Any]) -> dict[str, Any]:
    _durable_executions().callback_failed(params["CallbackId"], params.get("Error"))
    return {}


def send_durable_execution_callback_heartbeat(params: dict[str, Any]) -> dict[str, Any]:
    _durable_executions().callback_heartbeat(params["CallbackId"])
    return {}


#: The paths of the durable-execution operations (moto's Lambda routes none of them). An
#: execution's ARN and a callback's id may hold "/": the SDKs send it encoded, and moto's server
#: matches the decoded path, so a pattern takes the rest of the path; which operation it is,
#: moto tells from botocore's model, on the encoded path.
DURABLE_PATHS = (
    r"{0}/(?P<api_version>[^/]+)/durable-executions/(?P<arn>.+)$",
    r"{0}/(?P<api_version>[^/]+)/durable-execution-callbacks/(?P<callback_id>.+)$",
    r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[^/]+)/durable-executions$",
)


def _durable_paths_routed(original):
    return {**original, **dict.fromkeys(DURABLE_PATHS, lambda_responses.LambdaResponse.dispatch)}


_OPERATIONS = (
    checkpoint_durable_execution,
    get_durable_execution_state,
    get_durable_execution,
    get_durable_execution_history,
    list_durable_executions_by_function,
    stop_durable_execution,
    send_durable_execution_callback_success,
    send_durable_execution_callback_failure,
    send_durable_execution_callback_heartbeat,
)

#: How often the SDK's checkpoint thread looks for the end of its invocation, locally.
SDK_STOP_POLL_SECONDS = 0.01


def _sdk_invocations_end_promptly(original: float) -> float:
    # Each invocation waits for the SDK's checkpoint thread, which notices the end of the
    # invocation only when it next looks: a tenth of a second per invocation, on AWS as here,
    # and no more than waiting locally.
    return min(original, SDK_STOP_POLL_SECONDS)


HOOKS: tuple[Hook, ...] = (
    Hook(
        sdk_state,
        "_STOP_SIGNAL_POLL_SECONDS",
        _sdk_invocations_end_promptly,
        why="A durable invocation ends soon after its handler: the SDK's checkpoint thread, "
        "which the invocation waits for, looks for its stop signal every 10 ms, not 100 ms",
        parameters=None,
    ),
    Hook(
        lambda_urls,
        "url_paths",
        _durable_paths_routed,
        why="moto's Lambda endpoint routes the durable-execution operations' paths",
        parameters=None,
    ),
    *(
        Hook(
            lambda_responses.LambdaResponse,
            operation.__name__,
            _answering(operation),
            why=f"{operation.__name__}: Lambda's durable-execution API, which moto lacks",
            parameters=None,
            adds=True,
        )
        for operation in _OPERATIONS
    ),
)
