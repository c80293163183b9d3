"""State machines for localcloud's Step Functions tests: templates shaped like CDK's, and handlers.

    app = App()
    worker = app.function("Worker", WORKER)
    machine = state_machine(app, "Machine", {"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": get_att(worker), "End": True}}})
    cloud = launch(app)
    execution = run(cloud, cloud.outputs("Stack")["MachineArn"], {"n": 1})

`state_machine` writes the definition as CDK does: a `DefinitionString` built with `Fn::Join`
around the ARNs it references (or `${...}` placeholders with `DefinitionSubstitutions`).
"""

from __future__ import annotations

import contextlib
import io
import json
import textwrap
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3

from localcloud.testing import App, get_att, ref

WORKER = textwrap.dedent(
    '''
    """Doubles `n`; raises the error class named in `raise` (a builtin) while `n` is below
    `until` (or always, without `until`)."""
    import builtins


    def handler(event, context):
        n = event.get("n", 0)
        error = event.get("raise")
        if error and n < event.get("until", float("inf")):
            raise getattr(builtins, error)(f"asked to raise {error}")
        return {"n": n * 2}
    '''
)

TOKEN_KEEPER = textwrap.dedent(
    '''
    """Hands back the task token it was given (its caller waits for that token)."""


    def handler(event, context):
        return {"keeping": event["token"]}
    '''
)

FLAKY = textwrap.dedent(
    '''
    """Fails the first FAILURES invocations of this (warm) function with ValueError."""
    import os

    calls = 0


    def handler(event, context):
        global calls
        calls += 1
        if calls <= int(os.environ["FAILURES"]):
            raise ValueError(f"call {calls} fails")
        return {"calls": calls, **event}
    '''
)


def state_machine(
    app: App,
    logical_id: str,
    definition: dict[str, Any],
    *,
    substitutions: dict[str, Any] | None = None,
) -> str:
    """A state machine as CDK writes it, its role, and an output `<logical_id>Arn`.

    `definition` may hold intrinsics (`get_att(...)`, `ref(...)`) as values: they become parts
    of the `Fn::Join` that builds `DefinitionString`.
    """
    role = app.role(f"{logical_id}Role", "states.amazonaws.com")
    properties: dict[str, Any] = {
        "RoleArn": get_att(role),
        "DefinitionString": _joined(definition),
        "LoggingConfiguration": {"Level": "OFF", "IncludeExecutionData": False},
        "TracingConfiguration": {"Enabled": False},
    }
    if substitutions is not None:
        properties["DefinitionSubstitutions"] = substitutions
    app.output(f"{logical_id}Arn", ref(logical_id))
    return app.add(logical_id, "AWS::StepFunctions::StateMachine", properties)


def _joined(definition: dict[str, Any]) -> Any:
    """`definition` as JSON text, or as the `Fn::Join` CDK writes when it holds intrinsics."""
    intrinsics: dict[str, Any] = {}

    def placeholder(value: Any) -> Any:
        if (
            isinstance(value, dict)
            and len(value) == 1
            and next(iter(value)) in ("Ref", "Fn::GetAtt")
        ):
            key = f"@@{uuid.uuid4().hex}@@"
            intrinsics[key] = value
            return key
        if isinstance(value, dict):
            return {name: placeholder(item) for name, item in value.items()}
        if isinstance(value, list):
            return [placeholder(item) for item in value]
        return value

    text = json.dumps(placeholder(definition))
    if not intrinsics:
        return text
    parts: list[Any] = []
    for key, intrinsic in intrinsics.items():
        before, text = text.split(key, 1)
        parts.extend([before, intrinsic])
    parts.append(text)
    return {"Fn::Join": ["", parts]}


# -- reading outcomes ----------------------------------------------------------------------


def run(cloud: Any, machine_arn: str, execution_input: Any = None, **start: Any) -> dict:
    """Start an execution, settle, and describe it."""
    sfn = cloud.client("stepfunctions")
    if execution_input is not None:
        start["input"] = json.dumps(execution_input)
    arn = sfn.start_execution(stateMachineArn=machine_arn, **start)["executionArn"]
    cloud.settle()
    return sfn.describe_execution(executionArn=arn)


def history(cloud: Any, execution_arn: str) -> list[dict[str, Any]]:
    return cloud.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]


def states_entered(cloud: Any, execution_arn: str) -> list[str]:
    """The names of the states the execution entered, in order."""
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in history(cloud, execution_arn)
        if "stateEnteredEventDetails" in event
    ]


def invocations_of(cloud: Any, function_output: str) -> list[Any]:
    name = cloud.outputs("Stack")[function_output]
    return [invocation for invocation in cloud.invocations if invocation.function == name]


@contextlib.contextmanager
def worker_on_endpoint(
    **function_settings: Any,
) -> Iterator[tuple[Any, Callable[[str], Any], str, str]]:
    """`localcloud up` with the `WORKER` function created through its API, as a user would:
    yields the server, a boto3 client factory for its endpoint, the role's and the function's
    ARNs."""
    from localcloud.server import LocalCloudServer

    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("worker.py", WORKER)
    with LocalCloudServer(port=0, region="eu-west-1", time_scale=0) as server:

        def client(service: str) -> Any:
            return boto3.client(
                service,
                endpoint_url=server.endpoint_url,
                region_name="eu-west-1",
                aws_access_key_id="localcloud",
                aws_secret_access_key="localcloud",
            )

        role = client("iam").create_role(
            RoleName="worker", AssumeRolePolicyDocument=json.dumps({"Statement": []})
        )["Role"]["Arn"]
        function = client("lambda").create_function(
            FunctionName="worker",
            Runtime="python3.13",
            Role=role,
            Handler="worker.handler",
            Code={"ZipFile": code.getvalue()},
            **function_settings,
        )["FunctionArn"]
        yield server, client, role, function


def ended_execution(sfn: Any, arn: str, *, timeout_seconds: float = 30) -> dict[str, Any]:
    """The execution's description once it has left RUNNING (it runs on the server's thread)."""
    deadline = time.monotonic() + timeout_seconds
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.05)
    return described
