"""Step Functions state machines executed on moto's engine, Tasks through the runner.

moto holds an interpreter of the Amazon States Language (its `parser` backend) that runs each
execution in background threads, but its API answers from that backend only when moto's
config asks for it, and its CloudFormation creates state machines in the other, non-executing
backend. While the engine runs, localcloud:

- answers the Step Functions API from the executing backend, and creates
  `AWS::StepFunctions::StateMachine` there from the template (`DefinitionString` or
  `Definition`, `DefinitionSubstitutions`, logging and tracing configuration);
- lets a Task's Lambda invocation (`lambda:invoke` or a plain function ARN) reach the engine,
  so the function's real code runs and its `errorType` is the error a Retry or Catch matches;
- scales every Wait state and Retry interval by `engine.time_scale` (0: no time at all), and
  ends the waits in progress when the engine settles (a Task's `TimeoutSeconds` and
  `HeartbeatSeconds` stay real time: they bound real code and real callers);
- names a Lambda failure as Step Functions does: the function's `errorType`, or
  `Lambda.Unknown` when Lambda gives none (a timeout, a crash), and `Lambda.<code>` when the
  Invoke call itself fails (an unknown function: `Lambda.ResourceNotFoundException`); a missed
  heartbeat is `States.HeartbeatTimeout`;
- names an execution started without a name with a fresh UUID, passes the cause of a
  `SendTaskFailure` on to the execution, and describes an execution's output as JSON text;
- ends a stopped execution at once, even one waiting for a task token, keeping the error and
  cause `StopExecution` gave; deleting a state machine stops its running executions.
- evaluates the JSONata query language and variables (`jsonata.py`).

`settle()` waits for every running execution to end or to wait for a task token: a token wait
is idle (only `SendTaskSuccess`, `SendTaskFailure` or a timeout ends it), not pending work.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError
from moto.core.models import botocore_stubber
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser import models as parser_models
from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import (
    MaxAttemptsOutcome,
)
from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
from moto.stepfunctions.parser.asl.component.common.retry.retrier_outcome import RetrierOutcome
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
    resource_eval_s3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
    distributed_iteration_component,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_callback,
    state_task_service_lambda,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
    StateTaskLambda,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackEndpoint,
    HeartbeatTimeoutError,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.backend import execution as parser_execution
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from localcloud.core.cloudformation import OwnedResource
from localcloud.core.engine import EngineError, active_engine
from localcloud.core.hooks import Hook
from localcloud.core.service import DeliveryError, Message, Service
from localcloud.rules.map_runs import EXCEEDED_CAUSE, exceeds_tolerated_failures
from localcloud.services.stepfunctions.execution_logs import ExecutionLogs
from localcloud.services.stepfunctions.jsonata import HOOKS as JSONATA_HOOKS

# How long an execution that looks idle must stay unchanged before settle takes it as idle:
# a Parallel branch passing from one state to the next is briefly neither in a Task nor done.
_QUIET_SECONDS = 0.01
# How long one delivery round waits for busy executions to move on before it reports them.
_ROUND_WAIT_SECONDS = 0.05
# A pause re-checks, at least this often, that its execution is still running.
_PAUSE_CHECK_SECONDS = 0.1
# How long the engine's stop waits for the executions it stopped to end their threads; a Task
# running a function's code ends when the code returns or its timeout stops it.
_STOP_WAIT_SECONDS = 5.0
# How long StopExecution waits for its execution to be aborted before it answers.
_STOP_REPLY_WAIT_SECONDS = 1.0
# Step Functions' error for a Lambda failure that carries no error type (a timeout, a crash).
LAMBDA_UNKNOWN = "Lambda.Unknown"
# A timed-out invocation's errorType: Step Functions reports a function timeout as
# Lambda.Unknown.
_LAMBDA_TIMEOUT_TYPE = "Sandbox.Timedout"


class StateMachine(OwnedResource):
    """`AWS::StepFunctions::StateMachine`, created in moto's executing backend."""

    resource_type = "AWS::StepFunctions::StateMachine"
    attributes = ("Arn", "Name", "StateMachineRevisionId")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> StateMachine:
        props = cloudformation_json["Properties"]
        name = props.get("StateMachineName") or resource_name
        backend = stepfunctions_parser_backends[account_id][region_name]
        machine = backend.create_state_machine(
            name=name,
            definition=definition_from_properties(props),
            roleArn=props["RoleArn"],
            tags=[{"key": tag["Key"], "value": tag["Value"]} for tag in props.get("Tags") or []],
            loggingConfiguration=_api_shape(props.get("LoggingConfiguration")),
            tracingConfiguration=_api_shape(props.get("TracingConfiguration")),
            sm_type=props.get("StateMachineType", "STANDARD"),
        )
        return cls(machine.arn, props, region_name, account_id)

    @property
    def name(self) -> str:
        return self.physical_id.rsplit(":", 1)[1]

    def update_in_place(self, properties: dict[str, Any]) -> bool:
        if (properties.get("StateMachineName") or self.name) != self.name:
            return False
        # Same name: CloudFormation updates the machine in place; running executions keep
        # the definition they started with.
        backend = stepfunctions_parser_backends[self.account][self.region]
        backend.update_state_machine(
            self.physical_id,
            definition=definition_from_properties(properties),
            role_arn=properties["RoleArn"],
            logging_configuration=_api_shape(properties.get("LoggingConfiguration")),
            tracing_configuration=_api_shape(properties.get("TracingConfiguration")),
        )
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Arn":
            return self.physical_id
        if attribute_name == "Name":
            return self.name
        if attribute_name == "StateMachineRevisionId":
            return self.physical_id
        return super().get_cfn_attribute(attribute_name)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = stepfunctions_parser_backends[account_id][region_name]
        backend.delete_state_machine(self.physical_id)


def definition_from_properties(props: dict[str, Any]) -> str:
    """The ASL text of a state machine's properties, with its substitutions made."""
    if "DefinitionS3Location" in props:
        raise EngineError(
            "a state machine definition in S3 (DefinitionS3Location) is not supported"
        )
    definition = props.get("DefinitionString")
    if definition is None:
        definition = json.dumps(props.get("Definition") or {})
    for key, value in (props.get("DefinitionSubstitutions") or {}).items():
        text = value if isinstance(value, str) else json.dumps(value)
        definition = definition.replace("${" + key + "}", text)
    return definition


def _api_shape(value: Any) -> Any:
    """CloudFormation's PascalCase keys as the Step Functions API's camelCase ones."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _api_shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_api_shape(item) for item in value]
    return value


_EXPRESS_LIMIT_SECONDS = 300.0


class StepFunctions(Service):
    """Runs executions on moto's interpreter with the engine's time (see the module)."""

    NAME = "stepfunctions"
    DELIVERS = ("states",)

    MODELS = (StateMachine,)

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        # Waits in progress end early when the engine settles or stops: each waits on this
        # clock until its time has passed or the generation has changed.
        self._clock = threading.Condition()
        self._generation = 0
        # Per execution (its callback pool, which all its frames share): Tasks and pauses
        # in progress.
        self._tasks: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._pauses: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._counts_lock = threading.Lock()

    # -- delivery ---------------------------------------------------------------------------

    def deliver(self, arn: str, message: Message) -> None:
        """Start an execution with the message as its input, under a name of its own."""
        self._start(_backend_of(arn), arn, message.body)

    def run_synchronously(self, arn: str, execution_input: str) -> dict[str, Any]:
        """What `StartSyncExecution` answers (`status`, `output`, `error`, `cause`): an execution
        started now, waited for until it ends (its waits pass on the engine's time). For a
        caller that needs an Express workflow's result, such as a pipe's enrichment."""
        backend = _backend_of(arn)
        execution = self._start(backend, arn, execution_input)
        # An Express execution lasts at most five minutes, scaled by the engine's time; where
        # every wait is taken as elapsed (time scale 0), the five minutes only guard against
        # an execution that never ends.
        scale = self.engine.time_scale or 1.0
        deadline = time.monotonic() + _EXPRESS_LIMIT_SECONDS * scale
        while execution.status == "RUNNING":
            if time.monotonic() >= deadline:
                return {
                    "status": "TIMED_OUT",
                    "output": None,
                    "error": "States.Timeout",
                    "cause": "The execution ran past an Express workflow's five minutes",
                }
            time.sleep(0.001)
        return {
            "status": execution.status,
            "output": execution.output,
            "error": execution.error,
            "cause": execution.cause,
        }

    @staticmethod
    def _start(backend: Any, arn: str, execution_input: str) -> Any:
        try:
            return backend.start_execution(
                arn, name=str(uuid.uuid4()), execution_input=execution_input
            )
        except Exception as error:
            raise DeliveryError("INVALID_PARAMETER", str(error)) from error

    def pump(self, *, fast_forward: bool) -> int:
        """Executions run in their own threads; settling waits until each is idle or done."""
        if not fast_forward:
            return 0
        self._end_pauses()
        deadline = time.monotonic() + _ROUND_WAIT_SECONDS
        while True:
            busy = self._busy_executions()
            if not busy or time.monotonic() >= deadline:
                return len(busy)
            time.sleep(0.001)

    def running_executions(self) -> list[Any]:
        executions = []
        for account in list(stepfunctions_parser_backends.values()):
            for backend in list(account.values()):
                for machine in list(backend.state_machines):
                    executions.extend(
                        execution
                        for execution in list(machine.executions)
                        if execution.status == "RUNNING"
                    )
        return executions

    def _busy_executions(self) -> list[Any]:
        """Running executions that are not idle: idle is when every Task in progress waits
        for its token, and nothing moves for a moment."""
        first = [(execution, self._snapshot(execution)) for execution in self.running_executions()]
        busy = [execution for execution, snapshot in first if snapshot is None]
        looking_idle = [(execution, snapshot) for execution, snapshot in first if snapshot]
        if looking_idle:
            time.sleep(_QUIET_SECONDS)
            busy.extend(
                execution
                for execution, snapshot in looking_idle
                if execution.status == "RUNNING" and self._snapshot(execution) != snapshot
            )
        return busy

    def _snapshot(self, execution: Any) -> tuple[int, int] | None:
        worker = execution.exec_worker
        env = worker.env if worker is not None else None
        if env is None:
            return None
        pool = env.callback_pool_manager
        awaiting = sum(
            1
            for endpoint in list(pool._pool.values())
            if getattr(endpoint, "localcloud_awaiting", False)
        )
        with self._counts_lock:
            tasks, pauses = self._tasks.get(pool, 0), self._pauses.get(pool, 0)
        if not awaiting or tasks != awaiting or pauses:
            return None
        return awaiting, len(env.event_manager.get_event_history())

    # -- time --------------------------------------------------------------------------------

    def pause(self, env: Any, seconds: float) -> None:
        """Wait `seconds` scaled by the engine's time, ending early on settle or stop."""
        deadline = time.monotonic() + max(0.0, seconds) * self.engine.time_scale
        with self._counting(self._pauses, env), self._clock:
            generation = self._generation
            while env.is_running() and generation == self._generation:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._clock.wait(min(remaining, _PAUSE_CHECK_SECONDS))

    def wake_pauses(self) -> None:
        """Have each pause re-check its execution now (a stopped one ends its pause)."""
        with self._clock:
            self._clock.notify_all()

    def _end_pauses(self) -> None:
        with self._clock:
            self._generation += 1
            self._clock.notify_all()

    @contextlib.contextmanager
    def task_in_progress(self, env: Any) -> Iterator[None]:
        with self._counting(self._tasks, env):
            yield

    @contextlib.contextmanager
    def _counting(self, counts: weakref.WeakKeyDictionary, env: Any) -> Iterator[None]:
        pool = env.callback_pool_manager
        with self._counts_lock:
            counts[pool] = counts.get(pool, 0) + 1
        try:
            yield
        finally:
            with self._counts_lock:
                counts[pool] -= 1

    def stop(self) -> None:
        # Executions still running (waiting for a token, say) are stopped, so that no thread
        # of theirs outlives the engine.
        stopped = self.running_executions()
        for execution in stopped:
            with contextlib.suppress(Exception):
                execution.stop(stop_date=_now(), error=None, cause=None)
        self._end_pauses()
        deadline = time.monotonic() + _STOP_WAIT_SECONDS
        while any(execution.status == "RUNNING" for execution in stopped):
            if time.monotonic() >= deadline:
                break
            time.sleep(0.01)


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


def _running_service() -> StepFunctions | None:
    # moto's threads may outlive the engine by a moment; they then run as moto would.
    try:
        return active_engine().service(StepFunctions)
    except EngineError:
        return None


# -- moto hooks ---------------------------------------------------------------------------


def _executing_backend(original):
    # moto answers the Step Functions API from its executing backend only when its config says
    # so; while the engine runs, it always does.
    def get_backend(account: str, region: str) -> Any:
        return stepfunctions_parser_backends[account][region]

    return get_backend


def _execution_named_when_unnamed(original):
    # moto names an unnamed execution `None`, so a second unnamed start finds the first one
    # (returned if running with the same input, else ExecutionAlreadyExists). Step Functions
    # gives each a UUID.
    def start_execution(
        self, state_machine_arn, name=None, execution_input=None, trace_header=None
    ):
        if name:
            self._validate_name(name)
        return original(
            self,
            state_machine_arn,
            name or str(uuid.uuid4()),
            "{}" if execution_input is None else execution_input,
            trace_header,
        )

    return start_execution


def _task_failure_keeps_cause(original):
    # moto's API handler drops SendTaskFailure's `cause`; the execution's error output (and a
    # Catch's `Cause`) carries it on Step Functions.
    def send_task_failure(self):
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"),
            error=self._get_param("error"),
            cause=self._get_param("cause"),
        )
        return sfn_responses.EmptyResult()

    return send_task_failure


def _output_as_compact_json(original):
    # moto writes an execution's output with json.dumps, and passes a string result through
    # unquoted; Step Functions gives the output as compact JSON text whatever its type.
    def describe_execution(self):
        described = original(self)
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        if "output" in described.result:
            described.result["output"] = json.dumps(execution.output, separators=(",", ":"))
        return described

    return describe_execution


def _stop_ends_token_waits(original):
    # moto marks a stopped execution's program as stopped, but a Task waiting for its token
    # never looks: the execution would stay RUNNING until a token or a timeout came. Step
    # Functions aborts it at once, and describes it with StopExecution's error and cause.
    def stop(self, stop_date, error, cause):
        running = self.exec_status == "RUNNING"
        original(self, stop_date, error, cause)
        if not running:
            return
        self.error, self.cause = error, cause
        env = getattr(self.exec_worker, "env", None)
        if env is not None:
            for endpoint in list(env.callback_pool_manager._pool.values()):
                endpoint.interrupt_all()
        service = _running_service()
        if service is not None:
            service.wake_pauses()

    return stop


def _stopped_stays_stopped(original):
    # A Task woken by the stop fails (its token wait times out, say), and moto would turn the
    # stopped program into a failed or timed-out one: on Step Functions it stays aborted.
    def set_outcome(self, *args, **kwargs):
        if isinstance(self._program_state, ProgramStopped):
            return None
        return original(self, *args, **kwargs)

    return set_outcome


def _stop_execution_keeps_error_and_cause(original):
    # moto's API handler stops with an empty error and cause whatever the request said.
    def stop_execution(self):
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        if execution.status == "RUNNING":
            execution.stop(
                stop_date=_now(), error=self._get_param("error"), cause=self._get_param("cause")
            )
            # Step Functions answers once the execution is aborted; moto's thread reflects it
            # a moment later (at once, unless a function's code is running).
            deadline = time.monotonic() + _STOP_REPLY_WAIT_SECONDS
            while execution.status == "RUNNING" and time.monotonic() < deadline:
                time.sleep(0.005)
        return sfn_responses.ActionResult({"stopDate": execution.stop_date or _now()})

    return stop_execution


def _deleting_a_machine_stops_its_executions(original):
    # moto forgets a deleted machine and its executions, whose threads then run on unseen (a
    # token wait forever). Step Functions terminates a deleted machine's executions.
    def delete_state_machine(self, arn: str) -> None:
        machine = next((m for m in self.state_machines if m.arn == arn), None)
        original(self, arn)
        for execution in list(machine.executions) if machine is not None else []:
            if execution.status == "RUNNING":
                with contextlib.suppress(Exception):
                    execution.stop(stop_date=_now(), error=None, cause=None)

    return delete_state_machine


def _lambda_failures_named_as_step_functions_does(original):
    # moto names a function error without an errorType "Exception", keeps a timeout's
    # "Sandbox.Timedout", and names every failed Invoke call of a plain function ARN Task
    # "Exception". Step Functions reports the first two as Lambda.Unknown (matched by
    # Lambda.Unknown, States.TaskFailed or States.ALL) and the last as Lambda.<error code>.
    def _from_error(self, env, ex):
        failure = original(self, env, ex)
        renamed = _step_functions_lambda_error(ex)
        if renamed is None or not failure.event_details:
            return failure
        error, cause = renamed
        failure.error_name = CustomErrorName(error)
        details = next(iter(failure.event_details.values()))
        details["error"], details["cause"] = error, cause
        return failure

    return _from_error


def _heartbeat_timeout_named_as_such(original):
    # moto's heartbeat timeout is a TimeoutError, which it reports as States.Timeout; Step
    # Functions reports a missed heartbeat as States.HeartbeatTimeout.
    def _from_error(self, env, ex):
        failure = original(self, env, ex)
        if isinstance(ex, HeartbeatTimeoutError) and failure.event_details:
            name = StatesErrorName(typ=StatesErrorNameType.StatesHeartbeatTimeout)
            failure.error_name = name
            next(iter(failure.event_details.values()))["error"] = name.error_name
        return failure

    return _from_error


def _step_functions_lambda_error(ex: Exception) -> tuple[str, str] | None:
    """Step Functions' error and cause for a failed Lambda Task, when moto's differ."""
    if isinstance(ex, lambda_eval_utils.LambdaFunctionErrorException):
        try:
            error_type = json.loads(ex.payload).get("errorType")
        except (ValueError, AttributeError):
            error_type = None
        if error_type and error_type != _LAMBDA_TIMEOUT_TYPE:
            return None
        return LAMBDA_UNKNOWN, (
            "The cause could not be determined because Lambda did not return an error type. "
            f"Returned payload: {ex.payload}"
        )
    if isinstance(ex, ClientError):
        return state_task_service_lambda.StateTaskServiceLambda._error_cause_from_client_error(ex)
    return None


def _wait_on_engine_time(original):
    def _wait_interval(self, env, wait_seconds):
        service = _running_service()
        if service is None:
            return original(self, env, wait_seconds)
        return service.pause(env, wait_seconds)

    return _wait_interval


def _retry_interval_on_engine_time(original):
    # moto's retrier sleeps its interval with time.sleep; this is the same evaluation with the
    # interval taken on the engine's time.
    def _eval_body(self, env):
        service = _running_service()
        if service is None:
            return original(self, env)
        self.error_equals.eval(env)
        if not env.stack.pop():
            env.stack.append(RetrierOutcome.Skipped)
            return None
        self.max_attempts.eval(env=env)
        if env.stack.pop() == MaxAttemptsOutcome.EXHAUSTED:
            env.stack.append(RetrierOutcome.Failed)
            return None
        self.interval_seconds.eval(env=env)
        self.backoff_rate.eval(env=env)
        self.max_delay_seconds.eval(env=env)
        self.jitter_strategy.eval(env=env)
        service.pause(env, env.stack.pop())
        env.stack.append(RetrierOutcome.Executed)
        return None

    return _eval_body


def _task_counted(original):
    # settle() tells a Task in progress from one only waiting for its token by counting both.
    def _evaluate_with_timeout(self, env):
        service = _running_service()
        if service is None or not isinstance(self, StateTask):
            return original(self, env)
        with service.task_in_progress(env):
            return original(self, env)

    return _evaluate_with_timeout


def _token_wait_marked(original):
    def _eval_wait_for_task_token(
        self, env, timeout_seconds, callback_endpoint, heartbeat_endpoint
    ):
        callback_endpoint.localcloud_awaiting = True
        try:
            return original(self, env, timeout_seconds, callback_endpoint, heartbeat_endpoint)
        finally:
            callback_endpoint.localcloud_awaiting = False

    return _eval_wait_for_task_token


def _notify_ends_token_wait(original):
    # The execution is busy again from the moment SendTaskSuccess/Failure returns, before its
    # thread wakes: settle() must not take it as idle in between.
    def notify(self, outcome):
        self.localcloud_awaiting = False
        return original(self, outcome)

    return notify


def _lambda_client_reused(original):
    # moto builds a new boto3 client for every Lambda Task, which costs more than the warm
    # invocation itself; one client per region and endpoint serves every Task (boto3 clients
    # are safe to share between threads).
    clients: dict[tuple[str, str, bool, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service, botocore_stubber.enabled, boto_client.moto_server_port())
        with lock:
            if key not in clients:
                clients[key] = original(region, service, state_credentials)
            return clients[key]

    return boto_client_for


def _item_reader_lists_every_page(_original):
    # A Distributed Map's S3 ItemReader (listObjectsV2) iterates over every object under the
    # prefix, none at all included: moto read one page (1,000 keys) and failed an empty
    # prefix with KeyError('Contents') where Step Functions runs the Map over no items.
    def _handle_list_objects_v2(env, resource_runtime_part, state_credentials) -> None:
        s3 = resource_eval_s3.ResourceEvalS3._get_s3_client(
            resource_runtime_part=resource_runtime_part, state_credentials=state_credentials
        )
        parameters = env.stack.pop()
        contents: list[dict[str, Any]] = []
        for page in s3.get_paginator("list_objects_v2").paginate(**parameters):
            contents += page.get("Contents", [])
        env.stack.append(contents)

    return staticmethod(_handle_list_objects_v2)


def _map_run_fails_past_its_tolerated_failures(original):
    # moto gives a failed item of a Distributed Map a null result and carries on; Step
    # Functions fails the map run once failed items exceed ToleratedFailureCount or
    # ToleratedFailurePercentage (both 0 unless set), which a Catch on the Map then handles.
    def _map_run(self, env, eval_input) -> None:
        original(self, env, eval_input)
        counter = eval_input.map_run_record.item_counter
        results = env.stack[-1]
        if exceeds_tolerated_failures(
            failed=counter.failed.get() + counter.timed_out.get(),
            total=len(results),
            tolerated_count=eval_input.tolerated_failure_count,
            tolerated_percentage=eval_input.tolerated_failure_percentage,
        ):
            env.stack.pop()
            error = StatesErrorNameType.StatesExceedToleratedFailureThreshold
            raise FailureEventException(
                failure_event=FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=error),
                    event_type=HistoryEventType.MapRunFailed,
                    event_details=EventDetails(
                        executionFailedEventDetails=ExecutionFailedEventDetails(
                            error=error.to_name(), cause=EXCEEDED_CAUSE
                        )
                    ),
                )
            )

    return _map_run


def _execution_logs_written(original):
    # moto starts every execution without a logging session: the machine's log group stayed
    # empty whatever its LoggingConfiguration said (see `execution_logs`).
    def __init__(self, *args, **kwargs):  # noqa: N807 - wraps __init__
        original(self, *args, **kwargs)
        service = _running_service()
        if service is None or self._cloud_watch_logging_session is not None:
            return
        self._cloud_watch_logging_session = ExecutionLogs.for_execution(
            service.engine,
            self.exec_arn,
            self.state_machine.name,
            getattr(self.state_machine, "loggingConfiguration", None),
        )

    return __init__


def _server_port_of_engine(original):
    # A Task calls AWS through a boto3 client; outside the in-process mock moto points it at
    # its own server's default port, and localcloud's endpoint is the engine's.
    def moto_server_port() -> str:
        service = _running_service()
        endpoint = service.engine.endpoint_url if service is not None else None
        port = urlsplit(endpoint).port if endpoint else None
        return str(port) if port else original()

    return moto_server_port


StepFunctions.HOOKS = (
    Hook(
        distributed_iteration_component.DistributedIterationComponent,
        "_map_run",
        _map_run_fails_past_its_tolerated_failures,
        why="A Distributed Map run fails once its failed items exceed what it tolerates",
        parameters=("self", "env", "eval_input"),
    ),
    Hook(
        resource_eval_s3.ResourceEvalS3,
        "_handle_list_objects_v2",
        _item_reader_lists_every_page,
        why="A Distributed Map's S3 ItemReader reads every page, and an empty prefix is no items",
        parameters=("env", "resource_runtime_part", "state_credentials"),
        replaces=True,
    ),
    Hook(
        parser_execution.Execution,
        "__init__",
        _execution_logs_written,
        why="An execution logs its history to the machine's log group",
        parameters=(
            "self",
            "name",
            "sm_type",
            "role_arn",
            "exec_arn",
            "account_id",
            "region_name",
            "state_machine",
            "start_date",
            "cloud_watch_logging_session",
            "activity_store",
            "input_data",
            "trace_header",
        ),
    ),
    Hook(
        sfn_responses,
        "get_backend",
        _executing_backend,
        why="Step Functions executes definitions while the engine runs",
        parameters=("account", "region"),
        replaces=True,
    ),
    Hook(
        sfn_responses.StepFunctionResponse,
        "send_task_failure",
        _task_failure_keeps_cause,
        why="SendTaskFailure's cause reaches the error output",
        parameters=("self",),
        replaces=True,
    ),
    Hook(
        sfn_responses.StepFunctionResponse,
        "describe_execution",
        _output_as_compact_json,
        why="An execution's output is compact JSON text",
        parameters=("self",),
    ),
    Hook(
        sfn_responses.StepFunctionResponse,
        "stop_execution",
        _stop_execution_keeps_error_and_cause,
        why="StopExecution's error and cause describe the execution",
        parameters=("self",),
        replaces=True,
    ),
    Hook(
        parser_execution.Execution,
        "stop",
        _stop_ends_token_waits,
        why="StopExecution aborts an execution waiting for a token",
        parameters=("self", "stop_date", "error", "cause"),
    ),
    Hook(
        Environment,
        "set_error",
        _stopped_stays_stopped,
        why="A stopped execution stays aborted, not failed or timed out",
        parameters=("self", "error"),
    ),
    Hook(
        Environment,
        "set_timed_out",
        _stopped_stays_stopped,
        why="A stopped execution stays aborted, not failed or timed out",
        parameters=("self",),
    ),
    Hook(
        parser_models.StepFunctionsParserBackend,
        "delete_state_machine",
        _deleting_a_machine_stops_its_executions,
        why="Step Functions ends a deleted machine's executions",
        parameters=("self", "arn"),
    ),
    Hook(
        state_task_service_lambda.StateTaskServiceLambda,
        "_from_error",
        _lambda_failures_named_as_step_functions_does,
        why="Lambda failures get the error names Step Functions uses",
        parameters=("self", "env", "ex"),
    ),
    Hook(
        StateTaskLambda,
        "_from_error",
        _lambda_failures_named_as_step_functions_does,
        why="Lambda failures get the error names Step Functions uses",
        parameters=("self", "env", "ex"),
    ),
    Hook(
        StateTask,
        "_from_error",
        _heartbeat_timeout_named_as_such,
        why="A missed heartbeat is States.HeartbeatTimeout",
        parameters=("self", "env", "ex"),
    ),
    Hook(
        parser_models.StepFunctionsParserBackend,
        "start_execution",
        _execution_named_when_unnamed,
        why="An execution started without a name gets a UUID",
        parameters=("self", "state_machine_arn", "name", "execution_input", "trace_header"),
    ),
    Hook(
        WaitFunction,
        "_wait_interval",
        _wait_on_engine_time,
        why="Wait states pass on the engine's scaled time",
        parameters=("self", "env", "wait_seconds"),
    ),
    Hook(
        RetrierDecl,
        "_eval_body",
        _retry_interval_on_engine_time,
        why="Retry intervals pass on the engine's scaled time",
        parameters=("self", "env"),
    ),
    Hook(
        ExecutionState,
        "_evaluate_with_timeout",
        _task_counted,
        why="Settle() counts Tasks in progress",
        parameters=("self", "env"),
    ),
    Hook(
        state_task_service_callback.StateTaskServiceCallback,
        "_eval_wait_for_task_token",
        _token_wait_marked,
        why="Settle() tells a token wait from a running Task",
        parameters=("self", "env", "timeout_seconds", "callback_endpoint", "heartbeat_endpoint"),
    ),
    Hook(
        CallbackEndpoint,
        "notify",
        _notify_ends_token_wait,
        why="A token's answer ends its wait before settle() looks",
        parameters=("self", "outcome"),
    ),
    Hook(
        boto_client,
        "moto_server_port",
        _server_port_of_engine,
        why="Tasks call localcloud's endpoint, not moto's default port",
        parameters=(),
    ),
    Hook(
        lambda_eval_utils,
        "boto_client_for",
        _lambda_client_reused,
        why="One Lambda client serves every Task, not one per invocation",
        parameters=("region", "service", "state_credentials"),
    ),
    *JSONATA_HOOKS,
)


def _backend_of(arn: str) -> Any:
    """The backend the Step Functions API answers from for state machine `arn` (the executing
    one, when it runs); `DeliveryError` when no such machine exists."""
    region, account = arn.split(":")[3:5]
    backend = sfn_responses.get_backend(account, region)
    try:
        backend.describe_state_machine(arn)
    except Exception as error:
        raise DeliveryError("NO_RESOURCE", f"State machine not found: {arn}") from error
    return backend
