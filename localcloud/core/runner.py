"""Runs a Lambda function's real handler in this process, as the Lambda runtime would.

Each function gets its own module state: the packages of its code directory are imported
afresh for it (a cold start on first use) and swapped out of `sys.modules` between invocations,
so two functions built from the same file never share globals. The handler runs with the
function's environment from its configuration plus what Lambda itself sets, under its
timeout: a handler still running at its deadline ends the invocation with Lambda's timeout
error, and the function's next invocation is a cold start, as after Lambda resets a sandbox.

The process has one `os.environ`, one `sys.modules` and one stdout, so the runner runs one
invocation at a time; a function invoked from inside another's handler (in the same thread)
runs nested, as a synchronous Lambda-to-Lambda call does.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import importlib
import io
import os
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
    _modules: dict[str, ModuleType] = field(default_factory=dict, repr=False)
    _handler: Any = field(default=None, repr=False)

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

    def reset(self) -> None:
        """Forget the loaded handler and modules: the next invocation is a cold start."""
        self._handler = None
        self._modules = {}


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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Invocation:
        return cls(**data)


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

    @property
    def log_stream_name(self) -> str:
        return f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class RunnerBusyError(RuntimeError):
    """Another invocation held the runner for longer than this function's timeout."""


class _LambdaTimeout(BaseException):
    """Raised inside a handler's thread once its invocation has timed out."""


class _InvocationOutput(io.TextIOBase):
    """Stands in for stdout: writes made during an invocation go to that invocation's log."""

    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback
        self.target: io.StringIO | None = None

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
        # Names the invocation holding the lock and every invocation nested in it.
        self._chain: str | None = None
        # The environment of each function scope entered, innermost last.
        self._environments: list[dict[str, str]] = []

    def chain_of_current_thread(self) -> str | None:
        """The running chain's token when the calling thread runs a handler, else None.

        A handler's request that comes back to localcloud over HTTP (a synchronous Lambda
        invoke under `localcloud up`) carries it, so the callee runs nested in its caller's
        chain rather than waiting for the lock its caller holds.
        """
        return self._chain if threading.get_ident() in self._handler_threads else None

    def invoke(
        self,
        function: LocalFunction,
        event: Any,
        *,
        trigger: str,
        request_id: str | None = None,
        chain: str | None = None,
    ) -> Invocation:
        """Run one invocation; `request_id` is the one Lambda gave the event (async), if any;
        `chain` the token of the invocation whose handler asked for this one, if any."""
        nested = threading.get_ident() in self._handler_threads or (
            chain is not None and chain == self._chain
        )
        if not nested:
            if not self._lock.acquire(timeout=max(function.timeout_seconds, 1)):
                raise RunnerBusyError(
                    f"{function.name} waited {function.timeout_seconds} s for another invocation"
                )
            self._chain = uuid.uuid4().hex
        try:
            return self._invoke(function, event, trigger, request_id)
        finally:
            if not nested:
                self._chain = None
                self._lock.release()

    def _invoke(
        self, function: LocalFunction, event: Any, trigger: str, request_id: str | None
    ) -> Invocation:
        log = io.StringIO()
        cold_start = function._handler is None
        context = LambdaContext(
            function_name=function.name,
            memory_limit_in_mb=function.memory_mb,
            invoked_function_arn=function.arn,
            deadline=time.monotonic() + function.timeout_seconds,
            log_group_name=function.log_group_name,
        )
        if request_id is not None:
            context.aws_request_id = request_id
        request_id = context.aws_request_id
        outcome: dict[str, Any] = {}

        def run() -> None:
            self._handler_threads.add(threading.get_ident())
            try:
                if function._handler is None:
                    function._handler = _load_handler(function.handler)
                outcome["payload"] = function._handler(event, context)
            except _LambdaTimeout:
                pass
            except Exception as exc:  # the function failed: report it in Lambda's error shape
                outcome["error"] = {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "requestId": request_id,
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }
            finally:
                self._handler_threads.discard(threading.get_ident())

        started = time.perf_counter()
        timed_out = False
        with self._function_scope(function, log):
            log.write(f"START RequestId: {request_id} Version: $LATEST\n")
            worker = threading.Thread(target=run, name=f"lambda:{function.name}", daemon=True)
            worker.start()
            worker.join(function.timeout_seconds)
            if worker.is_alive():
                timed_out = True
                _stop_thread(worker)
                worker.join(_TIMEOUT_GRACE_SECONDS)
            duration_ms = (time.perf_counter() - started) * 1000
            log.write(f"END RequestId: {request_id}\n")
            log.write(
                f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
                f"Billed Duration: {max(1, round(duration_ms))} ms\t"
                f"Memory Size: {function.memory_mb} MB\n"
            )
        if timed_out:
            function.reset()
            outcome = {
                "error": {
                    "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
                    f"{function.timeout_seconds:.2f} seconds",
                    "errorType": "Sandbox.Timedout",
                }
            }
        return Invocation(
            function=function.name,
            trigger=trigger,
            cold_start=cold_start,
            duration_ms=duration_ms,
            payload=outcome.get("payload"),
            error=outcome.get("error"),
            logs=log.getvalue(),
            request_id=request_id,
        )

    @contextlib.contextmanager
    def _function_scope(self, function: LocalFunction, log: io.StringIO) -> Iterator[None]:
        packages = function.packages
        # A package's submodules are only loaded with the package itself: when no top-level
        # name is loaded, nothing of another function's or of the host's is in the way.
        others = _take_modules(packages) if any(name in sys.modules for name in packages) else {}
        sys.modules.update(function._modules)
        modules_loaded = len(sys.modules)
        sys.path.insert(0, str(function.code_dir))
        saved_environ = dict(os.environ)
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
        try:
            yield
        finally:
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
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "LAMBDA_TASK_ROOT": str(function.code_dir),
            "_HANDLER": function.handler,
            # No X-Ray daemon runs locally: the SDK would only warn about missing segments.
            "AWS_XRAY_SDK_ENABLED": "false",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
            **function.environment,
        }


def _restore_environ(saved: dict[str, str]) -> None:
    """Put `os.environ` back as it was, touching only the variables that differ."""
    for key in [key for key in os.environ if key not in saved]:
        del os.environ[key]
    for key, value in saved.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


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


def _load_handler(handler: str) -> Any:
    module_name, _, attribute = handler.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, attribute)
