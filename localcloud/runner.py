"""Runs a Lambda function's real handler in this process, as the Lambda runtime would.

Each function gets its own module state: the packages of its code directory are imported
afresh for it (a cold start on first use) and swapped out of `sys.modules` between invocations,
so two functions built from the same file never share globals. The handler runs with the
function's environment from the template plus what Lambda itself sets.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO


@dataclass
class LocalFunction:
    """A deployed function: its name, handler, code folder and environment."""

    name: str
    handler: str
    code_dir: Path
    environment: dict[str, str]
    timeout_seconds: int = 3
    memory_mb: int = 128
    region: str = "eu-west-1"
    account_id: str = "123456789012"
    _modules: dict[str, ModuleType] = field(default_factory=dict, repr=False)
    _handler: Any = field(default=None, repr=False)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.name}"

    @property
    def packages(self) -> set[str]:
        """Top-level module names the code folder provides (what must stay per function)."""
        names = set()
        for entry in self.code_dir.iterdir():
            if entry.is_dir() and (entry / "__init__.py").is_file():
                names.add(entry.name)
            elif entry.suffix == ".py":
                names.add(entry.stem)
        return names


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

    @property
    def succeeded(self) -> bool:
        return self.error is None


@dataclass
class LambdaContext:
    """The context object Lambda passes to a Python handler."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    deadline: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


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


class FunctionRunner:
    """Invokes `LocalFunction`s in-process; one invocation at a time."""

    def __init__(self, *, credentials: dict[str, str] | None = None) -> None:
        self.credentials = credentials or {}
        self._output = _InvocationOutput(sys.stdout)

    def invoke(self, function: LocalFunction, event: Any, *, trigger: str) -> Invocation:
        log = io.StringIO()
        cold_start = function._handler is None
        context = LambdaContext(
            function_name=function.name,
            memory_limit_in_mb=function.memory_mb,
            invoked_function_arn=function.arn,
            deadline=time.monotonic() + function.timeout_seconds,
        )
        started = time.perf_counter()
        payload, error = None, None
        with self._function_scope(function, log):
            try:
                if cold_start:
                    function._handler = _load_handler(function.handler)
                payload = function._handler(event, context)
            except Exception as exc:  # the function failed: report it in Lambda's error shape
                error = {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }
        return Invocation(
            function=function.name,
            trigger=trigger,
            cold_start=cold_start,
            duration_ms=(time.perf_counter() - started) * 1000,
            payload=payload,
            error=error,
            logs=log.getvalue(),
        )

    @contextlib.contextmanager
    def _function_scope(self, function: LocalFunction, log: io.StringIO) -> Iterator[None]:
        packages = function.packages
        others = _take_modules(packages)
        sys.modules.update(function._modules)
        sys.path.insert(0, str(function.code_dir))
        saved_environ = dict(os.environ)
        os.environ.update(self._lambda_environment(function))
        # Writes outside an invocation (a logger created at import keeps this stream) go to
        # whatever stdout was when the latest invocation began.
        saved_stdout, sys.stdout = sys.stdout, self._output
        self._output.fallback = saved_stdout
        self._output.target = log
        try:
            yield
        finally:
            self._output.target = None
            sys.stdout = saved_stdout
            os.environ.clear()
            os.environ.update(saved_environ)
            sys.path.remove(str(function.code_dir))
            function._modules = _take_modules(packages)
            sys.modules.update(others)

    def _lambda_environment(self, function: LocalFunction) -> dict[str, str]:
        """The function's own variables plus those the Lambda runtime sets."""
        return {
            **self.credentials,
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "LAMBDA_TASK_ROOT": str(function.code_dir),
            "_HANDLER": function.handler,
            **function.environment,
        }


def _take_modules(packages: set[str]) -> dict[str, ModuleType]:
    """Remove and return the loaded modules that belong to `packages`."""
    names = [name for name in sys.modules if name.split(".", 1)[0] in packages]
    return {name: sys.modules.pop(name) for name in names}


def _load_handler(handler: str) -> Any:
    module_name, _, attribute = handler.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, attribute)
