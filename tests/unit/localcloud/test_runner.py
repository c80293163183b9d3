"""The in-process Lambda runner: per-function module state, environment, context, errors."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from localcloud.core.runner import FunctionRunner, LocalFunction

HANDLER_SOURCE = textwrap.dedent(
    '''
    """A handler that remembers its calls in a module global."""
    import os

    CALLS = []

    def handler(event, context):
        CALLS.append(event)
        print(f"call {len(CALLS)} of {context.function_name}")
        if event.get("fail"):
            raise ValueError("asked to fail")
        return {
            "calls": len(CALLS),
            "colour": os.environ["COLOUR"],
            "caller_secret": os.environ.get("CALLER_SECRET"),
            "region": os.environ["AWS_REGION"],
            "function_name": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            "remaining_ms": context.get_remaining_time_in_millis(),
            "arn": context.invoked_function_arn,
        }
    '''
)


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    package = tmp_path / "service"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text(HANDLER_SOURCE)
    return tmp_path


def _function(code_dir: Path, name: str, colour: str) -> LocalFunction:
    return LocalFunction(
        name=name,
        handler="service.app.handler",
        code_dir=code_dir,
        environment={"COLOUR": colour},
        timeout_seconds=5,
    )


def test_two_functions_from_one_file_do_not_share_module_state(code_dir: Path):
    runner = FunctionRunner()
    blue, red = _function(code_dir, "blue", "blue"), _function(code_dir, "red", "red")

    first_blue = runner.invoke(blue, {}, trigger="test")
    first_red = runner.invoke(red, {}, trigger="test")
    second_blue = runner.invoke(blue, {}, trigger="test")

    assert [first_blue.payload["calls"], first_red.payload["calls"]] == [1, 1]
    assert second_blue.payload["calls"] == 2
    assert (first_blue.cold_start, first_red.cold_start, second_blue.cold_start) == (
        True,
        True,
        False,
    )


def test_handler_sees_its_environment_and_a_real_context(code_dir: Path):
    invocation = FunctionRunner().invoke(_function(code_dir, "blue", "blue"), {}, trigger="t")

    assert invocation.payload["colour"] == "blue"
    assert invocation.payload["region"] == "eu-west-1"
    assert invocation.payload["function_name"] == "blue"
    assert 0 < invocation.payload["remaining_ms"] <= 5000
    assert invocation.payload["arn"] == "arn:aws:lambda:eu-west-1:123456789012:function:blue"


def test_environment_and_modules_are_restored_after_the_invocation(code_dir: Path):
    FunctionRunner().invoke(_function(code_dir, "blue", "blue"), {}, trigger="test")

    assert "COLOUR" not in os.environ
    assert os.environ.get("AWS_LAMBDA_FUNCTION_NAME") is None
    assert not any(name == "service" or name.startswith("service.") for name in sys.modules)


CHANGED = ("HOST_KEPT", "HOST_REMOVED", "LEFT_BY_HANDLER", "COLOUR")


def test_variables_the_handler_changes_are_put_back_in_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    (tmp_path / "changes_environ.py").write_text(
        textwrap.dedent(
            """
            import os

            def handler(event, context):
                os.environ["HOST_KEPT"] = "changed by the handler"
                del os.environ["HOST_REMOVED"]
                os.environ["LEFT_BY_HANDLER"] = "left"
                return os.environ["COLOUR"]
            """
        )
    )
    monkeypatch.setenv("HOST_KEPT", "host value")
    monkeypatch.setenv("HOST_REMOVED", "host value too")
    function = LocalFunction(
        name="changes-environ",
        handler="changes_environ.handler",
        code_dir=tmp_path,
        environment={"COLOUR": "green"},
    )

    invocation = FunctionRunner().invoke(function, {}, trigger="test")
    # A child process reads the process's own environment, not `os.environ`.
    seen_by_a_child = subprocess.run(
        [sys.executable, "-c", f"import os; print([os.environ.get(k) for k in {CHANGED!r}])"],
        capture_output=True,
        text=True,
        check=True,
        env=None,
    ).stdout.strip()

    assert invocation.payload == "green"
    assert [os.environ.get(key) for key in CHANGED] == ["host value", "host value too", None, None]
    assert seen_by_a_child == str(["host value", "host value too", None, None])


def test_a_raising_handler_returns_lambdas_error_shape_and_its_output(code_dir: Path):
    invocation = FunctionRunner().invoke(
        _function(code_dir, "blue", "blue"), {"fail": True}, trigger="test"
    )

    assert not invocation.succeeded
    assert invocation.error["errorType"] == "ValueError"
    assert invocation.error["errorMessage"] == "asked to fail"
    assert invocation.error["stackTrace"]
    assert "call 1 of blue\n" in invocation.logs
    assert invocation.logs.startswith(f"START RequestId: {invocation.request_id}")
    assert f"REPORT RequestId: {invocation.request_id}" in invocation.logs


SLOW_HANDLER = textwrap.dedent(
    """
    import time

    STARTS = []

    def handler(event, context):
        STARTS.append(event)
        time.sleep(event.get("sleep", 0))
        return {"starts": len(STARTS)}
    """
)


def test_a_handler_past_its_timeout_gets_lambdas_timeout_error_and_a_fresh_sandbox(
    tmp_path: Path,
):
    (tmp_path / "slow.py").write_text(SLOW_HANDLER)
    function = LocalFunction(
        name="slow", handler="slow.handler", code_dir=tmp_path, environment={}, timeout_seconds=0.3
    )
    runner = FunctionRunner()

    timed_out = runner.invoke(function, {"sleep": 2}, trigger="test")
    after = runner.invoke(function, {}, trigger="test")

    assert timed_out.error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 0.30 seconds" in timed_out.error["errorMessage"]
    assert timed_out.duration_ms < 1500
    # Lambda's report says so, and its timeout line follows it in the log
    *_, report, timeout_line = timed_out.log_events
    assert report.startswith(f"REPORT RequestId: {timed_out.request_id}")
    assert report.endswith("Status: timeout")
    assert timeout_line.endswith(f"{timed_out.request_id} Task timed out after 0.30 seconds")
    # The timed-out sandbox is gone: module state starts again with a cold start.
    assert after.cold_start
    assert after.payload == {"starts": 1}


THREAD_HANDLER = textwrap.dedent(
    """
    import contextvars
    import threading

    SEEN = contextvars.ContextVar("seen", default=None)

    def handler(event, context):
        event["threads"].append(threading.current_thread())
        before = SEEN.get()
        SEEN.set(context.aws_request_id)
        return {"context_var": before}
    """
)


def test_an_environment_runs_its_invocations_on_one_thread_until_it_is_reset(tmp_path: Path):
    (tmp_path / "threads.py").write_text(THREAD_HANDLER)
    function = LocalFunction(
        name="threads", handler="threads.handler", code_dir=tmp_path, environment={}
    )
    runner = FunctionRunner()
    threads: list[threading.Thread] = []

    first, second = (runner.invoke(function, {"threads": threads}, trigger="t") for _ in range(2))
    function.reset()  # what a timeout or a code update does to the environment
    runner.invoke(function, {"threads": threads}, trigger="test")
    runner.close()

    # A warm invocation reuses the environment's thread, a new environment gets its own.
    assert threads[0] is threads[1]
    assert threads[2] is not threads[0]
    # Each invocation starts from an empty context, as on a thread of its own.
    assert [first.payload["context_var"], second.payload["context_var"]] == [None, None]


LOGGING_HANDLER = textwrap.dedent(
    """
    import logging
    import sys

    # As Powertools' Logger does: a handler on the stdout of the moment, once per logger name.
    logger = logging.getLogger("orders-service")
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler(sys.stdout))
        logger.setLevel(logging.INFO)

    def handler(event, context):
        logger.info("served %s", event["n"])
        return {}
    """
)


def test_a_logger_a_function_configures_is_its_own_in_every_deployment(tmp_path: Path):
    (tmp_path / "logs_once.py").write_text(LOGGING_HANDLER)

    def deployed() -> LocalFunction:
        return LocalFunction(
            name="orders", handler="logs_once.handler", code_dir=tmp_path, environment={}
        )

    # GIVEN the same code deployed twice (two stacks, or a redeploy onto a fresh cloud)
    first = FunctionRunner().invoke(deployed(), {"n": 1}, trigger="test")
    second = FunctionRunner().invoke(deployed(), {"n": 2}, trigger="test")

    # THEN each invocation's log has its own line, and the host's logger was left alone
    assert "served 1" in first.logs
    assert "served 2" in second.logs
    assert logging.getLogger("orders-service").handlers == []


EXITING_HANDLER = textwrap.dedent(
    """
    import sys

    STARTS = []

    def handler(event, context):
        STARTS.append(1)
        if event.get("exit"):
            sys.exit(3)
        return {"starts": len(STARTS)}
    """
)


def test_a_handler_that_exits_gets_lambdas_exit_error_and_a_fresh_environment(tmp_path: Path):
    (tmp_path / "exits.py").write_text(EXITING_HANDLER)
    function = LocalFunction(
        name="exits", handler="exits.handler", code_dir=tmp_path, environment={}
    )
    runner = FunctionRunner()

    exited = runner.invoke(function, {"exit": True}, trigger="test")
    after = runner.invoke(function, {}, trigger="test")

    assert exited.error["errorType"] == "Runtime.ExitError"
    assert exited.error["errorMessage"].endswith("Runtime exited with error: exit status 3")
    # The runtime process is gone with its module state: the next invocation starts anew.
    assert after.cold_start
    assert after.payload == {"starts": 1}


CALLER_HANDLER = textwrap.dedent(
    """
    import os

    def handler(event, context):
        inner = event["runner"].invoke(event["callee"], {}, trigger="nested")
        return {
            "inner": inner.payload,
            "my_colour": os.environ["COLOUR"],
            "my_secret": os.environ["CALLER_SECRET"],
        }
    """
)


def test_a_function_invoked_from_a_handler_runs_nested_with_its_own_environment(
    code_dir: Path, tmp_path: Path
):
    caller_dir = tmp_path / "caller"
    caller_dir.mkdir()
    (caller_dir / "caller.py").write_text(CALLER_HANDLER)
    runner = FunctionRunner()
    caller = LocalFunction(
        name="caller",
        handler="caller.handler",
        code_dir=caller_dir,
        environment={"COLOUR": "red", "CALLER_SECRET": "s3cret"},
    )
    callee = _function(code_dir, "blue", "blue")

    invocation = runner.invoke(caller, {"runner": runner, "callee": callee}, trigger="test")

    assert invocation.payload["my_colour"] == "red"
    assert invocation.payload["inner"]["colour"] == "blue"
    # The callee sees none of its caller's own variables; the caller has them back after.
    assert invocation.payload["inner"]["caller_secret"] is None
    assert invocation.payload["my_secret"] == "s3cret"


@pytest.mark.parametrize(
    ("handler", "source", "error_type", "message"),
    [
        ("missing.handler", None, "Runtime.ImportModuleError", "Unable to import module 'missing'"),
        ("broken.handler", "def handler(:\n", "Runtime.UserCodeSyntaxError", "Syntax error in"),
        ("plain.nothing", "X = 1\n", "Runtime.HandlerNotFound", "Handler 'nothing' missing"),
        ("nodot", None, "Runtime.MalformedHandlerName", "Bad handler 'nodot'"),
    ],
)
def test_a_handler_that_cannot_be_loaded_fails_with_lambdas_runtime_error(
    tmp_path: Path, handler: str, source: str | None, error_type: str, message: str
):
    if source is not None:
        (tmp_path / f"{handler.split('.')[0]}.py").write_text(source)
    function = LocalFunction(name="f", handler=handler, code_dir=tmp_path, environment={})

    invocation = FunctionRunner().invoke(function, {}, trigger="test")

    assert invocation.error["errorType"] == error_type
    assert invocation.error["errorMessage"].startswith(message)
    assert f"[ERROR] {error_type}: {message}" in invocation.logs


@pytest.mark.parametrize(
    ("raised", "first_line"),
    [
        ('RuntimeError("bad value:")', "[ERROR] RuntimeError: bad value:"),
        ("RuntimeError()", "[ERROR] RuntimeError"),
    ],
)
def test_the_logged_error_record_starts_with_the_type_and_the_whole_message(
    tmp_path: Path, raised: str, first_line: str
):
    (tmp_path / "failing.py").write_text(f"def handler(event, context):\n    raise {raised}\n")
    function = LocalFunction(name="f", handler="failing.handler", code_dir=tmp_path, environment={})

    invocation = FunctionRunner().invoke(function, {}, trigger="test")

    [record] = [event for event in invocation.log_events if event.startswith("[ERROR]")]
    assert record.split("\n")[0] == first_line


def test_only_a_cold_starts_report_gives_its_init_duration(code_dir: Path):
    runner, function = FunctionRunner(), _function(code_dir, "blue", "blue")

    cold = runner.invoke(function, {}, trigger="test")
    warm = runner.invoke(function, {}, trigger="test")

    [cold_report] = [event for event in cold.log_events if event.startswith("REPORT")]
    [warm_report] = [event for event in warm.log_events if event.startswith("REPORT")]
    assert "\tInit Duration: " in cold_report
    assert cold_report.endswith(" ms")
    assert "Init Duration" not in warm_report


WAITING_CALLER_HANDLER = textwrap.dedent(
    """
    import time

    def handler(event, context):
        started = time.monotonic()
        inner = event["runner"].invoke(
            event["callee"], {}, trigger="nested", caller_wait_seconds=event["wait"]
        )
        return {"gave_up": inner.caller_gave_up, "error": inner.error,
                "waited": time.monotonic() - started}
    """
)
SLEEPER_HANDLER = "import time\ndef handler(event, context):\n    time.sleep(1.5)\n    return 1\n"


def test_a_nested_invocation_ends_when_its_caller_stops_waiting(tmp_path: Path):
    for name, source in (("waiting", WAITING_CALLER_HANDLER), ("sleeper", SLEEPER_HANDLER)):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.py").write_text(source)
    runner = FunctionRunner()
    caller = LocalFunction(
        name="waiting", handler="waiting.handler", code_dir=tmp_path / "waiting", environment={}
    )
    sleeper = LocalFunction(
        name="sleeper",
        handler="sleeper.handler",
        code_dir=tmp_path / "sleeper",
        environment={},
        timeout_seconds=5,
    )

    answer = runner.invoke(caller, {"runner": runner, "callee": sleeper, "wait": 0.1}, trigger="t")

    # THEN the caller had its answer at its wait (0.1 s), not at the callee's 1.5 s
    assert answer.payload["gave_up"] is True
    assert answer.payload["error"]["errorType"] == "Localcloud.CallerStoppedWaiting"
    assert answer.payload["waited"] < 0.5
    # and the stopped environment starts cold next time, as after a timeout
    assert sleeper._handler is None
