"""Runs a Lambda function's real handler in this process, as the Lambda runtime would.

Each function gets its own module state: the packages of its code directory are imported
afresh for it (a cold start on first use) and swapped out of `sys.modules` between invocations,
so two functions built from the same file never share globals. The handler runs with the
function's environment from its configuration plus what Lambda itself sets, under its
timeout: a handler still running at its deadline ends the invocation with Lambda's timeout
error, and the function's next invocation is a cold start, as after Lambda resets a sandbox.

Logs are written as Lambda writes them: each line the handler prints is one log event, an
unhandled error is one event of its own (Lambda's `[ERROR] Type: message` record with the
traceback, or its JSON record for a function whose log format is JSON), and the platform's
START/END/REPORT lines frame each invocation. A traceback shows the handler's frames only, as
Lambda hides its runtime's. All invocations an execution environment serves (from its cold
start to its reset) share one log stream, named after the environment.

The process has one `os.environ`, one `sys.modules` and one stdout, so the runner runs one
invocation at a time; a function invoked from inside another's handler (in the same thread)
runs nested, as a synchronous Lambda-to-Lambda call does.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import functools
import hashlib
import importlib
import io
import json
import logging
import os
import queue
import sys
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

# How long a timed-out handler's thread is given to stop before the runner moves on.
_TIMEOUT_GRACE_SECONDS = 0.5
# The runner's own frames sit under the handler's in a traceback: Lambda shows none of its
# runtime's frames, so none of localcloud's are shown either.
_LOCALCLOUD_DIR = Path(__file__).resolve().parents[1]
# Lambda's Python runtime indents the frames of an error record with no-break spaces.
_ERROR_INDENT = "\u00a0"
# Lambda's log levels, lowest first (LoggingConfig's ApplicationLogLevel and SystemLogLevel).
_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
# Python's level names (Powertools' Logger writes them) for Lambda's.
_LEVEL_ALIASES = {"WARNING": "WARN", "CRITICAL": "FATAL"}


@dataclass
class LocalFunction:
    """A deployed function: its name, handler, code folder and environment."""

    name: str
    handler: str
    code_dir: Path
    environment: dict[str, str]
    timeout_seconds: float = 3
    memory_mb: int = 128
    region: str = "eu-west-1"
    account_id: str = "123456789012"
    log_group: str = ""
    # LoggingConfig: "Text" or "JSON", and the levels Lambda filters by in JSON format.
    log_format: str = "Text"
    application_log_level: str = "INFO"
    system_log_level: str = "INFO"
    _modules: dict[str, ModuleType] = field(default_factory=dict, repr=False)
    # Its own registry of `logging` loggers: a logger a handler configures (Powertools' Logger
    # adds its handler, on the stdout of the moment, once per logger name) is its own, as in
    # the process of its own that Lambda gives it.
    _loggers: dict[str, Any] = field(default_factory=dict, repr=False)
    _handler: Any = field(default=None, repr=False)
    # The execution environment serving warm invocations: its log stream, named at its start.
    _log_stream: str = field(default="", repr=False)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.name}"

    @property
    def log_group_name(self) -> str:
        return self.log_group or f"/aws/lambda/{self.name}"

    @functools.cached_property
    def packages(self) -> set[str]:
        """Top-level module names the code folder provides (what must stay per function)."""
        names = set()
        for entry in self.code_dir.iterdir():
            if entry.is_dir() and (entry / "__init__.py").is_file():
                names.add(entry.name)
            elif entry.suffix == ".py":
                names.add(entry.stem)
        return names

    @property
    def json_logs(self) -> bool:
        return self.log_format.upper() == "JSON"

    def reset(self) -> None:
        """Forget the loaded handler and modules: the next invocation is a cold start."""
        self._handler = None
        self._modules = {}
        self._loggers = {}
        self._log_stream = ""

    def log_stream_of_environment(self) -> str:
        """The log stream of the environment serving the function, opened by a cold start.

        Lambda names it after the day the environment started and the environment's id.
        """
        if not self._log_stream:
            day = time.strftime("%Y/%m/%d", time.gmtime())
            self._log_stream = f"{day}/[$LATEST]{uuid.uuid4().hex}"
        return self._log_stream


@dataclass(frozen=True)
class Invocation:
    """One run of a function: what triggered it, how long it took, and how it ended."""

    function: str
    trigger: str
    cold_start: bool
    duration_ms: float
    payload: Any = None
    error: dict[str, Any] | None = None
    logs: str = ""
    request_id: str = ""
    # The log events as Lambda sends them to the log group (a multi-line error is one), and
    # the stream of the execution environment that ran the invocation.
    log_events: tuple[str, ...] = ()
    log_stream: str = ""
    #: The caller stopped waiting (its read timeout passed) before the function answered.
    caller_gave_up: bool = False

    @property
    def succeeded(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "trigger": self.trigger,
            "cold_start": self.cold_start,
            "duration_ms": self.duration_ms,
            "payload": self.payload,
            "error": self.error,
            "logs": self.logs,
            "request_id": self.request_id,
            "log_events": list(self.log_events),
            "log_stream": self.log_stream,
            "caller_gave_up": self.caller_gave_up,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Invocation:
        return cls(**{**data, "log_events": tuple(data.get("log_events", ()))})


@dataclass
class LambdaContext:
    """The context object Lambda passes to a Python handler."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    deadline: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class RunnerBusyError(RuntimeError):
    """Another invocation held the runner for longer than this function's timeout."""


class _LambdaTimeout(BaseException):
    """Raised inside a handler's thread once its invocation has timed out."""


class _EnvironmentThread:
    """The thread that runs one execution environment's handler, kept between invocations.

    Lambda runs an environment's invocations one after the other in one runtime process; so
    does this thread, and a warm invocation does not pay for starting a thread (about a tenth
    of a warm invoke through the endpoint). Each invocation runs in an empty `contextvars`
    context, as in a new thread. After a timeout the thread is retired (`retire`): it stops
    once its handler does, and the environment's next invocation gets a new one.
    """

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[tuple[Any, threading.Event] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                job = self._jobs.get()
                if job is None:
                    return
                run, done = job
                try:
                    contextvars.Context().run(run)
                finally:
                    done.set()
            except _LambdaTimeout:
                # Raised a moment too late, after the handler it was meant for returned: this
                # thread is being retired and has nothing left to stop.
                continue

    def run(self, job: Any, timeout: float) -> bool:
        """Run `job` here; False when it is still running after `timeout` seconds."""
        done = threading.Event()
        self._jobs.put((job, done))
        return done.wait(timeout)

    def stop_job(self, grace: float) -> None:
        """Raise `_LambdaTimeout` in the running job, give it `grace` seconds, and retire."""
        _stop_thread(self.thread)
        self.retire()
        self.thread.join(grace)

    def retire(self) -> None:
        """Stop once the current job, if any, is over."""
        self._jobs.put(None)


class _InvocationLog(io.TextIOBase):
    """An invocation's log events: one per line written, one per record the runtime adds.

    With a `minimum_level` (a JSON log format), a line the handler writes as a JSON object
    whose `level` is below it is left out, as Lambda filters application logs.
    """

    def __init__(self, minimum_level: str | None = None) -> None:
        self.events: list[str] = []
        self._partial = ""
        self._minimum = _level_index(minimum_level) if minimum_level else None

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        self.events.extend(line for line in lines if self._kept(line))
        return len(text)

    def record(self, message: str) -> None:
        """Add one event that stays whole, whatever lines it holds (an error record)."""
        self.end_line()
        self.events.append(message)

    def end_line(self) -> None:
        if self._partial and self._kept(self._partial):
            self.events.append(self._partial)
        self._partial = ""

    def _kept(self, line: str) -> bool:
        if self._minimum is None or not line.startswith("{"):
            return True
        try:
            level = json.loads(line).get("level")
        except (ValueError, AttributeError):
            return True
        if not isinstance(level, str):
            return True
        name = _LEVEL_ALIASES.get(level.upper(), level.upper())
        return name not in _LOG_LEVELS or _LOG_LEVELS.index(name) >= self._minimum

    def text(self) -> str:
        return "".join(f"{event}\n" for event in self.events)


class _InvocationOutput(io.TextIOBase):
    """Stands in for stdout: writes made during an invocation go to that invocation's log."""

    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback
        self.target: TextIO | _InvocationLog | None = None

    def write(self, text: str) -> int:
        return (self.target or self.fallback).write(text)

    def flush(self) -> None:
        stream = self.target or self.fallback
        if not stream.closed:
            stream.flush()


class CodeStore:
    """Unpacks deployment packages (zip bytes) into folders, once per distinct package."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def unpack(self, code_zip: bytes) -> Path:
        digest = hashlib.sha256(code_zip).hexdigest()
        target = self.root / digest[:16]
        if not target.is_dir():
            partial = self.root / f"{digest[:16]}.partial-{uuid.uuid4().hex[:6]}"
            with zipfile.ZipFile(io.BytesIO(code_zip)) as archive:
                archive.extractall(partial)
            partial.rename(target)
        return target


class FunctionRunner:
    """Invokes `LocalFunction`s in-process, one at a time (see the module docstring)."""

    def __init__(self, *, credentials: dict[str, str] | None = None) -> None:
        self.credentials = credentials or {}
        self.endpoint_url: str | None = None
        self._output = _InvocationOutput(sys.stdout)
        self._lock = threading.Lock()
        self._handler_threads: set[int] = set()
        # Threads handlers started (`adopt`), with the chain of the invocation that started
        # each: they count as its handler's only while that invocation runs.
        self._adopted: dict[int, str | None] = {}
        # The thread of each function's execution environment, by function ARN.
        self._environment_threads: dict[str, _EnvironmentThread] = {}
        # Names the invocation holding the lock and every invocation nested in it.
        self._chain: str | None = None
        # The environment of each function scope entered, innermost last.
        self._environments: list[dict[str, str]] = []

    def runs_handler_on_current_thread(self) -> bool:
        """Whether the calling thread runs a handler, or a thread a running handler started."""
        ident = threading.get_ident()
        if ident in self._handler_threads:
            return True
        return self._chain is not None and self._adopted.get(ident) == self._chain

    def adopt(self, thread: threading.Thread) -> None:
        """Make `thread` (not yet started; the calling handler starts it) part of the calling
        handler's invocation while it runs: an invoke it makes runs nested, as one its handler
        makes, instead of waiting for the runner the handler holds. Threads a handler starts
        do its work (the durable execution SDK runs the whole user function in one); a thread
        that outlives the invocation (a pool's) is then a thread like any other."""
        run = thread.run
        chain = self._chain

        def run_in_the_handler_s_invocation() -> None:
            ident = threading.get_ident()
            self._adopted[ident] = chain
            try:
                run()
            finally:
                self._adopted.pop(ident, None)

        thread.run = run_in_the_handler_s_invocation  # type: ignore[method-assign]

    def chain_of_current_thread(self) -> str | None:
        """The running chain's token when the calling thread runs a handler, else None.

        A handler's request that comes back to localcloud over HTTP (a synchronous Lambda
        invoke under `localcloud up`) carries it, so the callee runs nested in its caller's
        chain rather than waiting for the lock its caller holds.
        """
        return self._chain if self.runs_handler_on_current_thread() else None

    def invoke(
        self,
        function: LocalFunction,
        event: Any,
        *,
        trigger: str,
        request_id: str | None = None,
        chain: str | None = None,
        caller_wait_seconds: float | None = None,
    ) -> Invocation:
        """Run one invocation; `request_id` is the one Lambda gave the event (async), if any;
        `chain` the token of the invocation whose handler asked for this one, if any.

        `caller_wait_seconds`: how long a synchronous caller waits for the answer (its SDK
        client's read timeout). Past it, the caller gets its read timeout while the function
        is still running; on AWS the function runs on to its own timeout, but this process
        runs one invocation at a time (one `sys.modules`, one `os.environ`), so the runner
        stops it there, as at a timeout, and marks the invocation `caller_gave_up`.
        """
        nested = self.runs_handler_on_current_thread() or (
            chain is not None and chain == self._chain
        )
        if not nested:
            if not self._lock.acquire(timeout=max(function.timeout_seconds, 1)):
                raise RunnerBusyError(
                    f"{function.name} waited {function.timeout_seconds} s for another invocation"
                )
            self._chain = uuid.uuid4().hex
        try:
            return self._invoke(
                function, event, trigger, request_id, nested=nested, wait=caller_wait_seconds
            )
        finally:
            if not nested:
                self._chain = None
                self._lock.release()

    def close(self) -> None:
        """Retire every execution environment's thread (each stops once it is idle)."""
        for environment_thread in self._environment_threads.values():
            environment_thread.retire()
        self._environment_threads.clear()

    def _run_handler(
        self,
        function: LocalFunction,
        run: Any,
        nested: bool,
        cold_start: bool,
        limit: float,
        grace: float = _TIMEOUT_GRACE_SECONDS,
    ) -> bool:
        """Run `run` for at most `limit` seconds (the function's timeout, or less if its caller
        waits less); False when it was stopped, after giving it `grace` seconds to stop.

        An invocation nested in another's handler gets a thread of its own: the environment's
        thread may be the one waiting for it (a function that invokes itself).
        """
        if nested:
            worker = threading.Thread(target=run, name=f"lambda:{function.name}", daemon=True)
            worker.start()
            worker.join(limit)
            if not worker.is_alive():
                return True
            _stop_thread(worker)
            worker.join(grace)
            return False
        environment_thread = self._environment_threads.get(function.arn)
        if cold_start or environment_thread is None:
            if environment_thread is not None:
                environment_thread.retire()
            environment_thread = _EnvironmentThread(f"lambda:{function.name}")
            self._environment_threads[function.arn] = environment_thread
        if environment_thread.run(run, limit):
            return True
        del self._environment_threads[function.arn]
        environment_thread.stop_job(grace)
        return False

    def _invoke(
        self,
        function: LocalFunction,
        event: Any,
        trigger: str,
        request_id: str | None,
        *,
        nested: bool,
        wait: float | None = None,
    ) -> Invocation:
        log = _InvocationLog(function.application_log_level if function.json_logs else None)
        cold_start = function._handler is None
        if cold_start:
            function.reset()
        context = LambdaContext(
            function_name=function.name,
            memory_limit_in_mb=function.memory_mb,
            invoked_function_arn=function.arn,
            deadline=time.monotonic() + function.timeout_seconds,
            log_group_name=function.log_group_name,
            log_stream_name=function.log_stream_of_environment(),
        )
        if request_id is not None:
            context.aws_request_id = request_id
        request_id = context.aws_request_id
        outcome: dict[str, Any] = {}
        # A cold start's init (importing the handler's module), which Lambda reports apart
        # from the invocation's duration.
        init_ms: list[float] = []

        def run() -> None:
            self._handler_threads.add(threading.get_ident())
            try:
                if function._handler is None:
                    init_started = time.perf_counter()
                    try:
                        function._handler = _load_handler(function.handler)
                    finally:
                        init_ms.append((time.perf_counter() - init_started) * 1000)
                outcome["payload"] = function._handler(event, context)
            except _LambdaTimeout:
                pass
            except _InitError as error:
                outcome["error"] = _error_result(error.error_type, error.message, [], request_id)
            except SystemExit as exc:
                # Lambda's runtime process ends with the handler: its error, and a fresh
                # environment for the next invocation (below).
                outcome["exited"] = True
                outcome["error"] = _error_result(
                    "Runtime.ExitError",
                    f"RequestId: {request_id} Error: Runtime exited with error: "
                    f"exit status {exc.code if isinstance(exc.code, int) else 1}",
                    [],
                    request_id,
                )
            except Exception as exc:  # the function failed: report it in Lambda's error shape
                outcome["error"] = _error_result(
                    type(exc).__name__, str(exc), _handler_frames(exc), request_id
                )
            finally:
                self._handler_threads.discard(threading.get_ident())

        started = time.perf_counter()
        with self._function_scope(function, log):
            self._platform_record(
                function,
                log,
                f"START RequestId: {request_id} Version: $LATEST",
                "platform.start",
                {"requestId": request_id, "version": "$LATEST"},
            )
            caller_gives_up_first = wait is not None and wait < function.timeout_seconds
            limit = wait if caller_gives_up_first else function.timeout_seconds
            # A caller past its read timeout has its answer (the timeout) at once: the stopped
            # handler ends at its next Python instruction, whenever what it waits on returns.
            stopped = not self._run_handler(
                function,
                run,
                nested,
                cold_start,
                limit,
                grace=0 if caller_gives_up_first else _TIMEOUT_GRACE_SECONDS,
            )
            timed_out = stopped and not caller_gives_up_first
            caller_gave_up = stopped and caller_gives_up_first
            duration_ms = (time.perf_counter() - started) * 1000 - sum(init_ms)
            log.end_line()
            if "error" in outcome:
                log.record(_error_record(outcome["error"], json_format=function.json_logs))
            self._platform_record(
                function,
                log,
                f"END RequestId: {request_id}",
                "platform.runtimeDone",
                {"requestId": request_id, "status": _status(outcome, timed_out)},
            )
            report = (
                f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
                f"Billed Duration: {max(1, round(duration_ms))} ms\t"
                f"Memory Size: {function.memory_mb} MB"
            )
            metrics: dict[str, Any] = {
                "durationMs": round(duration_ms, 2),
                "billedDurationMs": max(1, round(duration_ms)),
                "memorySizeMB": function.memory_mb,
            }
            if init_ms:
                report += f"\tInit Duration: {init_ms[0]:.2f} ms"
                metrics["initDurationMs"] = round(init_ms[0], 2)
            self._platform_record(
                function,
                log,
                f"{report}\tStatus: timeout" if timed_out else report,
                "platform.report",
                {
                    "requestId": request_id,
                    "metrics": metrics,
                    "status": _status(outcome, timed_out),
                },
            )
        if caller_gave_up:
            outcome = {
                "error": {
                    "errorMessage": f"RequestId: {request_id} Error: the caller stopped waiting "
                    f"after {wait:.2f} seconds (its read timeout); localcloud stopped the "
                    "function there",
                    "errorType": "Localcloud.CallerStoppedWaiting",
                }
            }
        if timed_out:
            outcome = {
                "error": {
                    "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
                    f"{function.timeout_seconds:.2f} seconds",
                    "errorType": "Sandbox.Timedout",
                }
            }
            # Lambda's own line, after the report, as it appears in the log group.
            log.record(
                f"{_timestamp()} {request_id} Task timed out after "
                f"{function.timeout_seconds:.2f} seconds"
            )
        log_stream = function.log_stream_of_environment()
        if stopped or outcome.get("exited"):
            # The environment is reset: the next invocation starts a new one, in a new stream.
            function.reset()
        return Invocation(
            function=function.name,
            trigger=trigger,
            cold_start=cold_start,
            duration_ms=duration_ms,
            payload=outcome.get("payload"),
            error=outcome.get("error"),
            logs=log.text(),
            request_id=request_id,
            log_events=tuple(log.events),
            log_stream=log_stream,
            caller_gave_up=caller_gave_up,
        )

    @staticmethod
    def _platform_record(
        function: LocalFunction,
        log: _InvocationLog,
        text: str,
        record_type: str,
        record: dict[str, Any],
    ) -> None:
        """A line of Lambda's platform (INFO level): text, or JSON for a JSON log format,
        left out when the function's system log level is above INFO."""
        if not function.json_logs:
            log.record(text)
        elif _LOG_LEVELS.index("INFO") >= _level_index(function.system_log_level):
            log.record(json.dumps({"time": _timestamp(), "type": record_type, "record": record}))

    @contextlib.contextmanager
    def _function_scope(self, function: LocalFunction, log: _InvocationLog) -> Iterator[None]:
        packages = function.packages
        # A package's submodules are only loaded with the package itself: when no top-level
        # name is loaded, nothing of another function's or of the host's is in the way.
        others = _take_modules(packages) if any(name in sys.modules for name in packages) else {}
        sys.modules.update(function._modules)
        modules_loaded = len(sys.modules)
        sys.path.insert(0, str(function.code_dir))
        saved_environ = _environ_snapshot()
        environment = self._lambda_environment(function)
        # A nested invocation sees its own variables, not those of the function calling it.
        for key in self._environments[-1] if self._environments else ():
            if key not in environment:
                os.environ.pop(key, None)
        os.environ.update(environment)
        self._environments.append(environment)
        # Writes outside an invocation (a logger created at import keeps this stream) go to
        # whatever stdout was when the outermost invocation began.
        saved_stdout, sys.stdout = sys.stdout, self._output
        if saved_stdout is not self._output:
            self._output.fallback = saved_stdout
        saved_target, self._output.target = self._output.target, log
        manager = logging.Logger.manager
        saved_loggers, manager.loggerDict = manager.loggerDict, function._loggers
        try:
            yield
        finally:
            manager.loggerDict = saved_loggers
            self._output.target = saved_target
            sys.stdout = saved_stdout
            self._environments.pop()
            _restore_environ(saved_environ)
            sys.path.remove(str(function.code_dir))
            if len(sys.modules) == modules_loaded and function._modules:
                # A warm invocation that imported nothing new: its modules are the known ones.
                function._modules = {
                    name: sys.modules.pop(name) for name in function._modules if name in sys.modules
                }
            else:
                function._modules = _take_modules(packages)
            sys.modules.update(others)

    def _lambda_environment(self, function: LocalFunction) -> dict[str, str]:
        """The function's own variables plus those the Lambda runtime sets."""
        endpoint = {"AWS_ENDPOINT_URL": self.endpoint_url} if self.endpoint_url else {}
        # What Lambda sets for a JSON log format (Powertools' Logger takes its level from it).
        log_format = (
            {
                "AWS_LAMBDA_LOG_FORMAT": "JSON",
                "AWS_LAMBDA_LOG_LEVEL": function.application_log_level.upper(),
            }
            if function.json_logs
            else {}
        )
        return {
            **self.credentials,
            **endpoint,
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout_seconds),
            "AWS_LAMBDA_LOG_GROUP_NAME": function.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": function.log_stream_of_environment(),
            **log_format,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "LAMBDA_TASK_ROOT": str(function.code_dir),
            "_HANDLER": function.handler,
            # No X-Ray daemon runs locally: the SDK would only warn about missing segments.
            "AWS_XRAY_SDK_ENABLED": "false",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
            **function.environment,
        }


# `os.environ` decodes every name and value it hands out; its encoded store (`_data`, what it
# keeps in step with the process environment) is copied and compared without that, a third
# of an invocation's cost of setting and restoring the function's variables.
def _environ_snapshot() -> dict:
    """`os.environ` as it is now, to give `_restore_environ`."""
    return os.environ._data.copy()  # type: ignore[attr-defined]


def _restore_environ(saved: dict) -> None:
    """Put `os.environ` back as it was at `saved`, touching only the variables that differ."""
    encoded = os.environ._data  # type: ignore[attr-defined]
    for key in [key for key in encoded if key not in saved]:
        os.unsetenv(key)
        del encoded[key]
    for key, value in saved.items():
        if encoded.get(key) != value:
            os.putenv(key, value)
            encoded[key] = value


def _stop_thread(thread: threading.Thread) -> None:
    """Raise `_LambdaTimeout` in `thread` at its next Python instruction."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(_LambdaTimeout)
    )


def _take_modules(packages: set[str]) -> dict[str, ModuleType]:
    """Remove and return the loaded modules that belong to `packages`."""
    prefixes = tuple(f"{package}." for package in packages)
    names = [name for name in sys.modules if name in packages or name.startswith(prefixes)]
    return {name: sys.modules.pop(name) for name in names}


class _InitError(Exception):
    """The handler cannot be loaded, as Lambda's runtime reports it (`Runtime.*` types)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def _load_handler(handler: str) -> Any:
    module_name, _, attribute = handler.rpartition(".")
    if not module_name:
        raise _InitError(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise _InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        ) from error
    except SyntaxError as error:
        raise _InitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}"
        ) from error
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise _InitError(
            "Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'"
        ) from None


def _handler_frames(error: BaseException) -> list[str]:
    """The traceback's frames from the first that is not localcloud's, as Lambda's runtime
    drops its own bootstrap frames (`traceback.format_list` entries, as in `stackTrace`)."""
    frames = traceback.extract_tb(error.__traceback__)
    first = next(
        (index for index, frame in enumerate(frames) if not _is_localcloud(frame.filename)),
        len(frames),
    )
    return traceback.format_list(frames[first:])


def _is_localcloud(filename: str) -> bool:
    return Path(filename).resolve().is_relative_to(_LOCALCLOUD_DIR)


def _error_result(
    error_type: str, message: str, stack_trace: list[str], request_id: str
) -> dict[str, Any]:
    """The error Lambda returns for an unhandled exception (the Invoke payload)."""
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace,
    }


def _error_record(error: dict[str, Any], *, json_format: bool) -> str:
    """The log event Lambda's Python runtime writes for an unhandled error."""
    if json_format:
        return json.dumps({"timestamp": _timestamp(seconds_only=True), "level": "ERROR", **error})
    description = f"[ERROR] {error['errorType']}"
    if error["errorMessage"]:
        description += f": {error['errorMessage']}"
    lines = [description, "Traceback (most recent call last):"]
    for entry in error["stackTrace"]:
        for line in entry.splitlines():
            stripped = line.lstrip(" ")
            lines.append(_ERROR_INDENT * (len(line) - len(stripped)) + stripped)
    return "\n".join(lines)


def _status(outcome: dict[str, Any], timed_out: bool) -> str:
    if timed_out:
        return "timeout"
    return "error" if "error" in outcome else "success"


def _level_index(level: str) -> int:
    name = (level or "INFO").upper()
    return _LOG_LEVELS.index(name) if name in _LOG_LEVELS else _LOG_LEVELS.index("INFO")


def _timestamp(*, seconds_only: bool = False) -> str:
    now = time.time()
    if seconds_only:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
