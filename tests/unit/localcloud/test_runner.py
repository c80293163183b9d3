"""The in-process Lambda runner: per-function module state, environment, context, errors."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from localcloud.runner import FunctionRunner, LocalFunction

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


def test_a_raising_handler_returns_lambdas_error_shape_and_its_output(code_dir: Path):
    invocation = FunctionRunner().invoke(
        _function(code_dir, "blue", "blue"), {"fail": True}, trigger="test"
    )

    assert not invocation.succeeded
    assert invocation.error["errorType"] == "ValueError"
    assert invocation.error["errorMessage"] == "asked to fail"
    assert invocation.error["stackTrace"]
    assert invocation.logs == "call 1 of blue\n"
