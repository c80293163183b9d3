"""Durable functions for localcloud's tests: templates shaped like CDK's, and their handlers.

    app = App()
    ledger = app.table("Ledger")
    alias = durable_function(app, "Orders", ORDERS, environment={"TABLE_NAME": ref(ledger)})
    cloud = launch(app)
    arn = cloud.outputs("Stack")["OrdersAliasArn"]

`durable_function` writes what `aws_lambda.Function(durable_config=DurableConfig(...))` and
`function.add_alias("live")` synthesize (aws-cdk-lib 2.275): the function's `DurableConfig`, its
role with `AWSLambdaBasicDurableExecutionRolePolicy`, an `AWS::Lambda::Version` and an
`AWS::Lambda::Alias` naming it, whose ARN is how the function is invoked (Lambda runs a durable
function only through a qualified ARN).

Every step counts its runs in the ledger table (`runs` under `<the event's run>/<step>`), so a
test sees a step's side effect happen once however many times the handler replays.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from localcloud.testing import App, get_att, ref

LEDGER_COUNTER = textwrap.dedent(
    """
    import functools
    import os

    import boto3


    @functools.cache
    def table():
        return boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


    def count(event, name):
        table().update_item(
            Key={"id": f"{event['run']}/{name}"},
            UpdateExpression="ADD runs :one",
            ExpressionAttributeValues={":one": 1},
        )


    def counted(event, name):
        return "Item" in table().get_item(Key={"id": f"{event['run']}/{name}"})
    """
)

ORDERS = textwrap.dedent(
    '''
    """Reserves, waits WAIT_SECONDS, then charges: two steps around a durable wait."""
    import os

    from aws_durable_execution_sdk_python import DurableContext, durable_execution
    from aws_durable_execution_sdk_python.config import Duration

    from ledger import count


    def reserve(event):
        count(event, "reserve")
        return f"reservation-{event['order']}"


    def charge(event):
        count(event, "charge")
        return event["amount"]


    @durable_execution
    def handler(event, context: DurableContext):
        reservation = context.step(lambda _: reserve(event), name="reserve")
        context.wait(Duration.from_seconds(int(os.environ["WAIT_SECONDS"])), name="cool-off")
        charged = context.step(lambda _: charge(event), name="charge")
        return {"order": event["order"], "reservation": reservation, "charged": charged}
    '''
)

APPROVAL = textwrap.dedent(
    '''
    """Asks for an approval through a callback and answers with what came back (or why not)."""
    import os

    from aws_durable_execution_sdk_python import (
        CallbackError,
        DurableContext,
        durable_execution,
    )
    from aws_durable_execution_sdk_python.config import CallbackConfig, Duration

    from ledger import count


    @durable_execution
    def handler(event, context: DurableContext):
        callback = context.create_callback(
            name="approval",
            config=CallbackConfig(
                timeout=Duration.from_seconds(int(os.environ["CALLBACK_TIMEOUT_SECONDS"]))
            ),
        )
        context.step(lambda _: count(event, "ask"), name="ask")
        try:
            answer = callback.result()
        except CallbackError as error:
            return {"approved": False, "error": type(error).__name__, "message": str(error)}
        return {"approved": True, "answer": answer}
    '''
)

CRASHING = textwrap.dedent(
    '''
    """Charges in a step, then its environment dies once (the process exits) before the
    receipt step: Lambda retries the invocation, which replays the charge from its checkpoint."""
    import sys

    from aws_durable_execution_sdk_python import DurableContext, durable_execution

    from ledger import count, counted


    def charge(event):
        count(event, "charge")
        return event["amount"]


    def receipt(event, charged):
        count(event, "receipt")
        return f"receipt-{charged}"


    @durable_execution
    def handler(event, context: DurableContext):
        charged = context.step(lambda _: charge(event), name="charge")
        if not counted(event, "crash"):
            count(event, "crash")
            sys.exit(1)
        return {"charged": charged, "receipt": context.step(lambda _: receipt(event, charged))}
    '''
)

RETRYING = textwrap.dedent(
    '''
    """A step that fails its first two attempts: the SDK's retry strategy backs it off."""
    from aws_durable_execution_sdk_python import DurableContext, durable_execution
    from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
    from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy

    from ledger import count

    RETRY = create_retry_strategy(
        RetryStrategyConfig(
            max_attempts=5,
            initial_delay=Duration.from_seconds(600),
            max_delay=Duration.from_hours(1),
            jitter_strategy=JitterStrategy.NONE,
        )
    )


    @durable_execution
    def handler(event, context: DurableContext):
        def flaky(step_context):
            count(event, "flaky")
            if step_context.attempt < 3:
                raise RuntimeError(f"attempt {step_context.attempt} fails")
            return step_context.attempt

        return {"succeeded_on": context.step(flaky, name="flaky", config=StepConfig(RETRY))}
    '''
)

FAILING = textwrap.dedent(
    '''
    """Fails the execution with the error its input names."""
    from aws_durable_execution_sdk_python import DurableContext, durable_execution


    class PaymentDeclined(Exception):
        pass


    @durable_execution
    def handler(event, context: DurableContext):
        raise PaymentDeclined(event["reason"])
    '''
)


CALLING_A_PEER = textwrap.dedent(
    '''
    """Asks another function (PEER) for an answer, synchronously, from inside a step."""
    import json
    import os

    import boto3
    from aws_durable_execution_sdk_python import DurableContext, durable_execution

    from ledger import count


    @durable_execution
    def handler(event, context: DurableContext):
        def ask_peer(_):
            count(event, "ask-peer")
            answer = boto3.client("lambda").invoke(
                FunctionName=os.environ["PEER"], Payload=json.dumps({"n": event["n"]})
            )
            return json.loads(answer["Payload"].read())

        return context.step(ask_peer, name="ask-peer")
    '''
)

DOUBLER = textwrap.dedent(
    """
    def handler(event, context):
        return {"doubled": event["n"] * 2}
    """
)


BATCH_TOTAL = textwrap.dedent(
    '''
    """Adds up the amounts of an SQS batch, in a step."""
    import json

    from aws_durable_execution_sdk_python import DurableContext, durable_execution

    from ledger import count


    @durable_execution
    def handler(event, context: DurableContext):
        bodies = [json.loads(record["body"]) for record in event["Records"]]

        def total(_):
            for body in bodies:
                count(body, "total")
            return sum(body["amount"] for body in bodies)

        return {"total": context.step(total, name="total")}
    '''
)


def durable_function(
    app: App,
    logical_id: str,
    source: str,
    *,
    environment: dict[str, Any] | None = None,
    execution_timeout: int = 3600,
    retention_days: int | None = None,
    timeout: int = 30,
) -> str:
    """A durable function running `source`, and its alias `live` (see the module docstring);
    returns the alias's logical id. Outputs: `<id>Name`, `<id>AliasArn`, `<id>LatestArn`."""
    app.modules.setdefault("ledger", LEDGER_COUNTER)
    function = app.function(logical_id, source, environment=environment, timeout=timeout)
    durable_config: dict[str, Any] = {"ExecutionTimeout": execution_timeout}
    if retention_days is not None:
        durable_config["RetentionPeriodInDays"] = retention_days
    app.resources[function]["Properties"]["DurableConfig"] = durable_config
    app.resources[f"{function}Role"]["Properties"]["ManagedPolicyArns"] = [
        {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    ref("AWS::Partition"),
                    ":iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy",
                ],
            ]
        }
    ]
    version = app.add(
        f"{function}CurrentVersion", "AWS::Lambda::Version", {"FunctionName": ref(function)}
    )
    alias = app.add(
        f"{function}Aliaslive",
        "AWS::Lambda::Alias",
        {
            "FunctionName": ref(function),
            "FunctionVersion": get_att(version, "Version"),
            "Name": "live",
        },
    )
    app.output(f"{logical_id}AliasArn", ref(alias))
    app.output(f"{logical_id}LatestArn", {"Fn::Join": ["", [get_att(function), ":$LATEST"]]})
    return alias


def payload(response: dict[str, Any]) -> Any:
    """The JSON an Invoke answered with."""
    return json.loads(response["Payload"].read())


def events_of(history: dict[str, Any], *types: str) -> list[dict[str, Any]]:
    """The history's events of these types, in order."""
    return [event for event in history["Events"] if event["EventType"] in types]
