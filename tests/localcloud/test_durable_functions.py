"""Lambda durable functions on localcloud: executions checkpoint, replay and wait as on AWS.

One app (durable functions shaped like CDK's, `durable_apps`) is deployed once for the module;
each test runs its own executions, told apart by the `run` in their input.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from localcloud import LocalCloud
from localcloud.testing import App, get_att, ref
from tests.localcloud.durable_apps import (
    APPROVAL,
    BATCH_TOTAL,
    CALLING_A_PEER,
    CRASHING,
    DOUBLER,
    FAILING,
    ORDERS,
    RETRYING,
    durable_function,
    events_of,
    payload,
)
from tests.localcloud.sfn_apps import run, state_machine

WAIT_SECONDS = 600
CALLBACK_TIMEOUT_SECONDS = 300


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    app = App()
    ledger = app.table("Ledger")
    environment = {"TABLE_NAME": ref(ledger)}
    durable_function(
        app, "Orders", ORDERS, environment={**environment, "WAIT_SECONDS": str(WAIT_SECONDS)}
    )
    # Its execution times out (an hour) during its wait (two hours).
    durable_function(
        app,
        "Slow",
        ORDERS,
        environment={**environment, "WAIT_SECONDS": "7200"},
        execution_timeout=3600,
        retention_days=30,
    )
    durable_function(
        app,
        "Approval",
        APPROVAL,
        environment={**environment, "CALLBACK_TIMEOUT_SECONDS": str(CALLBACK_TIMEOUT_SECONDS)},
    )
    durable_function(app, "Crashing", CRASHING, environment=environment)
    durable_function(app, "Retrying", RETRYING, environment=environment)
    durable_function(app, "Failing", FAILING, environment=environment)
    peer = app.function("Peer", DOUBLER)
    durable_function(app, "Asking", CALLING_A_PEER, environment={**environment, "PEER": ref(peer)})
    # A state machine whose task runs the Orders function, through its alias.
    state_machine(
        app,
        "Fulfilment",
        {
            "StartAt": "Order",
            "States": {
                "Order": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": ref("OrdersAliaslive"), "Payload.$": "$"},
                    "OutputPath": "$.Payload",
                    "End": True,
                }
            },
        },
    )
    # A queue whose batches run executions of the Totals function, through its alias.
    durable_function(app, "Totals", BATCH_TOTAL, environment=environment)
    queue = app.queue("Amounts")
    app.add(
        "AmountsSource",
        "AWS::Lambda::EventSourceMapping",
        {"BatchSize": 10, "EventSourceArn": get_att(queue), "FunctionName": ref("TotalsAliaslive")},
    )
    # A topic whose messages start executions of the Failing function, through its alias.
    topic = app.topic("Declines")
    app.add(
        "DeclinesSubscription",
        "AWS::SNS::Subscription",
        {"Endpoint": ref("FailingAliaslive"), "Protocol": "lambda", "TopicArn": ref(topic)},
    )
    with LocalCloud(app.write(tmp_path_factory.mktemp("durable") / "cdk.out")) as running:
        running.deploy(app.stack_name)
        yield running


@pytest.fixture
def outputs(cloud: LocalCloud) -> dict[str, str]:
    return cloud.outputs("Stack")


@pytest.fixture
def lambda_(cloud: LocalCloud):
    return cloud.client("lambda")


def _event(**fields) -> dict:
    return {"run": uuid.uuid4().hex, **fields}


def _runs(cloud: LocalCloud, outputs: dict[str, str], event: dict, step: str) -> int:
    item = cloud.client("dynamodb").get_item(
        TableName=outputs["LedgerName"], Key={"id": {"S": f"{event['run']}/{step}"}}
    )
    return int(item.get("Item", {}).get("runs", {}).get("N", 0))


def _start(lambda_, function_arn: str, event: dict, **invoke) -> str:
    """Start an execution with an Event invoke; its ARN."""
    response = lambda_.invoke(
        FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(event), **invoke
    )
    assert response["StatusCode"] == 202
    return response["ResponseMetadata"]["HTTPHeaders"]["x-amz-durable-execution-arn"]


def _history(lambda_, arn: str) -> list[dict]:
    return lambda_.get_durable_execution_history(
        DurableExecutionArn=arn, IncludeExecutionData=True
    )["Events"]


def _callback_id(lambda_, arn: str) -> str:
    (started,) = events_of({"Events": _history(lambda_, arn)}, "CallbackStarted")
    return started["CallbackStartedDetails"]["CallbackId"]


# -- deploy and invoke ---------------------------------------------------------------------


def test_the_template_s_durable_config_is_the_function_s(lambda_, outputs):
    orders = lambda_.get_function_configuration(FunctionName=outputs["OrdersName"])
    slow = lambda_.get_function_configuration(FunctionName=outputs["SlowName"])

    # THEN Lambda's default retention fills what the template leaves out
    assert orders["DurableConfig"] == {"ExecutionTimeout": 3600, "RetentionPeriodInDays": 14}
    assert slow["DurableConfig"] == {"ExecutionTimeout": 3600, "RetentionPeriodInDays": 30}


def test_a_synchronous_invoke_answers_with_the_execution_s_result(cloud, lambda_, outputs):
    event = _event(order="o-1", amount=30)

    response = lambda_.invoke(FunctionName=outputs["OrdersAliasArn"], Payload=json.dumps(event))

    # THEN the caller gets what the handler returned after its wait, and where it ran
    assert "FunctionError" not in response
    assert payload(response) == {"order": "o-1", "reservation": "reservation-o-1", "charged": 30}
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-executed-version"] == "1"
    function_name = outputs["OrdersName"]
    assert headers["x-amz-durable-execution-arn"].startswith(
        f"arn:aws:lambda:eu-west-1:123456789012:function:{function_name}:1/durable-execution/"
    )


def test_an_unqualified_invoke_of_a_durable_function_is_refused(lambda_, outputs):
    name = f"unqualified-{uuid.uuid4().hex[:8]}"

    with pytest.raises(ClientError) as refused:
        lambda_.invoke(
            FunctionName=outputs["OrdersName"],
            Payload=json.dumps(_event()),
            DurableExecutionName=name,
        )

    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    listed = lambda_.list_durable_executions_by_function(
        FunctionName=outputs["OrdersName"], DurableExecutionName=name
    )
    assert listed["DurableExecutions"] == []


def test_latest_is_a_qualifier_too(lambda_, outputs):
    response = lambda_.invoke(
        FunctionName=outputs["OrdersLatestArn"], Payload=json.dumps(_event(order="o-6", amount=2))
    )

    assert payload(response)["charged"] == 2
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-executed-version"] == "$LATEST"


def test_a_message_to_a_subscribed_alias_starts_an_execution(cloud, lambda_, outputs):
    message = json.dumps(_event(reason="no funds"))

    cloud.client("sns").publish(TopicArn=outputs["DeclinesArn"], Message=message)
    cloud.settle()

    # THEN SNS's event is an execution's input (this handler wants a reason, and fails)
    executions = lambda_.list_durable_executions_by_function(FunctionName=outputs["FailingName"])[
        "DurableExecutions"
    ]
    described = [
        lambda_.get_durable_execution(DurableExecutionArn=e["DurableExecutionArn"])
        for e in executions
    ]
    inputs = [json.loads(d["InputPayload"]) for d in described]
    from_sns = [
        (execution, input_["Records"][0]["Sns"]["Message"])
        for execution, input_ in zip(described, inputs, strict=True)
        if "Records" in input_
    ]
    assert [(execution["Status"], sent) for execution, sent in from_sns] == [("FAILED", message)]


def test_a_state_machine_task_runs_a_durable_execution_to_its_result(cloud, outputs):
    event = _event(order="o-8", amount=11)

    execution = run(cloud, outputs["FulfilmentArn"], event)

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["charged"] == 11
    assert _runs(cloud, outputs, event, "reserve") == 1


def test_a_queue_s_batch_runs_a_durable_execution_and_is_done_when_it_is(cloud, lambda_, outputs):
    run_id = uuid.uuid4().hex
    sqs = cloud.client("sqs")
    for amount in (5, 6):
        sqs.send_message(
            QueueUrl=outputs["AmountsUrl"],
            MessageBody=json.dumps({"run": run_id, "amount": amount}),
        )

    cloud.settle()

    # THEN one execution added up the batch, and the batch left the queue
    assert _runs(cloud, outputs, {"run": run_id}, "total") == 2
    executions = lambda_.list_durable_executions_by_function(
        FunctionName=outputs["TotalsName"], Statuses=["SUCCEEDED"]
    )["DurableExecutions"]
    results = [
        json.loads(
            lambda_.get_durable_execution(DurableExecutionArn=e["DurableExecutionArn"])["Result"]
        )
        for e in executions
    ]
    assert results == [{"total": 11}]
    attributes = sqs.get_queue_attributes(
        QueueUrl=outputs["AmountsUrl"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"


# -- checkpoints and replay ----------------------------------------------------------------


def test_a_replay_takes_completed_steps_from_their_checkpoints(cloud, lambda_, outputs):
    event = _event(order="o-2", amount=12)

    arn = _start(lambda_, outputs["OrdersAliasArn"], event)
    cloud.settle()

    # THEN the handler ran twice (before and after its wait), each step's side effect once
    described = lambda_.get_durable_execution(DurableExecutionArn=arn)
    assert described["Status"] == "SUCCEEDED"
    assert json.loads(described["Result"])["charged"] == 12
    assert _runs(cloud, outputs, event, "reserve") == 1
    assert _runs(cloud, outputs, event, "charge") == 1
    history = _history(lambda_, arn)
    assert [e["EventType"] for e in history] == [
        "ExecutionStarted",
        "StepStarted",
        "StepSucceeded",
        "WaitStarted",
        "InvocationCompleted",
        "WaitSucceeded",
        "StepStarted",
        "StepSucceeded",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]
    assert [e["Name"] for e in events_of({"Events": history}, "StepSucceeded")] == [
        "reserve",
        "charge",
    ]


def test_a_crashed_invocation_is_retried_and_resumes_from_its_checkpoints(cloud, lambda_, outputs):
    event = _event(amount=7)

    response = lambda_.invoke(FunctionName=outputs["CrashingAliasArn"], Payload=json.dumps(event))

    # THEN the second invocation replayed the charge and went on to the receipt
    assert payload(response) == {"charged": 7, "receipt": "receipt-7"}
    assert _runs(cloud, outputs, event, "charge") == 1
    assert _runs(cloud, outputs, event, "crash") == 1
    assert _runs(cloud, outputs, event, "receipt") == 1
    invocations = [i for i in cloud.invocations if i.function == outputs["CrashingName"]]
    assert [i.error["errorType"] if i.error else None for i in invocations[-2:]] == [
        "Runtime.ExitError",
        None,
    ]


def test_a_step_invoking_another_function_synchronously_gets_its_answer(cloud, lambda_, outputs):
    # The SDK runs the user function on a thread of its own: the invoke it makes runs nested in
    # the durable invocation, as a handler's own would, rather than waiting for it to end.
    event = _event(n=21)

    response = lambda_.invoke(FunctionName=outputs["AskingAliasArn"], Payload=json.dumps(event))

    assert payload(response) == {"doubled": 42}
    assert _runs(cloud, outputs, event, "ask-peer") == 1


def test_a_failed_step_is_retried_after_its_backoff(cloud, lambda_, outputs):
    event = _event()

    arn = _start(lambda_, outputs["RetryingAliasArn"], event)
    cloud.settle()

    assert json.loads(lambda_.get_durable_execution(DurableExecutionArn=arn)["Result"]) == {
        "succeeded_on": 3
    }
    assert _runs(cloud, outputs, event, "flaky") == 3
    # THEN each retry waited its backoff (600 s, then 1200 s) on the execution's clock
    history = _history(lambda_, arn)
    failed = events_of({"Events": history}, "StepFailed")
    started = events_of({"Events": history}, "StepStarted")
    gaps = [
        (later["EventTimestamp"] - failure["EventTimestamp"]).total_seconds()
        for failure, later in zip(failed, started[1:], strict=False)
    ]
    assert [round(gap, -1) for gap in gaps] == [600, 1200]


def test_a_failed_execution_answers_with_the_handler_s_error(lambda_, outputs):
    event = _event(reason="card expired")

    response = lambda_.invoke(FunctionName=outputs["FailingAliasArn"], Payload=json.dumps(event))

    assert response["FunctionError"] == "Unhandled"
    error = payload(response)
    assert error["errorMessage"] == "card expired"
    assert error["errorType"].endswith("PaymentDeclined")
    arn = response["ResponseMetadata"]["HTTPHeaders"]["x-amz-durable-execution-arn"]
    assert lambda_.get_durable_execution(DurableExecutionArn=arn)["Status"] == "FAILED"


# -- time ------------------------------------------------------------------------------------


def test_a_wait_lasts_its_duration_on_the_scaled_clock(cloud, lambda_, outputs):
    event = _event(order="o-3", amount=1)
    cloud.engine.time_scale = 0.01
    try:
        arn = _start(lambda_, outputs["OrdersAliasArn"], event)
        cloud.engine.pump(fast_forward=False)  # the first invocation, up to the wait
        # WHEN 590 s of the wait's 600 pass (5.9 s at this scale)
        cloud.engine.clock.advance(5.9)
        cloud.engine.pump(fast_forward=False)
        waiting = lambda_.get_durable_execution(DurableExecutionArn=arn)["Status"]
        # ... and then the rest of it
        cloud.engine.clock.advance(0.2)
        for _ in range(3):
            cloud.engine.pump(fast_forward=False)
    finally:
        cloud.engine.time_scale = 0.0

    assert waiting == "RUNNING"
    assert _runs(cloud, outputs, event, "charge") == 1
    assert lambda_.get_durable_execution(DurableExecutionArn=arn)["Status"] == "SUCCEEDED"


def test_an_execution_past_its_execution_timeout_times_out(cloud, lambda_, outputs):
    event = _event(order="o-4", amount=5)

    arn = _start(lambda_, outputs["SlowAliasArn"], event)
    cloud.settle()

    described = lambda_.get_durable_execution(DurableExecutionArn=arn)
    assert described["Status"] == "TIMED_OUT"
    # THEN it ended an hour after it started, before its two-hour wait was over
    elapsed = described["EndTimestamp"] - described["StartTimestamp"]
    assert round(elapsed.total_seconds()) == 3600
    assert _runs(cloud, outputs, event, "charge") == 0
    assert events_of({"Events": _history(lambda_, arn)}, "ExecutionTimedOut")


# -- callbacks -------------------------------------------------------------------------------


def test_a_callback_s_success_resumes_the_execution_with_its_result(cloud, lambda_, outputs):
    event = _event()
    arn = _start(lambda_, outputs["ApprovalAliasArn"], event)
    cloud.settle()
    assert lambda_.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"
    callback_id = _callback_id(lambda_, arn)

    lambda_.send_durable_execution_callback_heartbeat(CallbackId=callback_id)
    lambda_.send_durable_execution_callback_success(CallbackId=callback_id, Result=b'"yes"')
    cloud.settle()

    described = lambda_.get_durable_execution(DurableExecutionArn=arn)
    assert described["Status"] == "SUCCEEDED"
    assert json.loads(described["Result"]) == {"approved": True, "answer": '"yes"'}
    assert _runs(cloud, outputs, event, "ask") == 1
    assert events_of({"Events": _history(lambda_, arn)}, "CallbackSucceeded")


def test_a_callback_s_failure_fails_the_waiting_operation(cloud, lambda_, outputs):
    arn = _start(lambda_, outputs["ApprovalAliasArn"], _event())
    cloud.settle()

    lambda_.send_durable_execution_callback_failure(
        CallbackId=_callback_id(lambda_, arn),
        Error={"ErrorType": "Rejected", "ErrorMessage": "not today"},
    )
    cloud.settle()

    result = json.loads(lambda_.get_durable_execution(DurableExecutionArn=arn)["Result"])
    assert result["approved"] is False
    assert result["error"] == "CallbackExternalError"
    assert "not today" in result["message"]


def test_a_callback_not_answered_in_time_times_out(cloud, lambda_, outputs):
    arn = _start(lambda_, outputs["ApprovalAliasArn"], _event())
    cloud.settle()
    callback_id = _callback_id(lambda_, arn)

    # WHEN settling: the execution only waits for its callback, which settling never times out
    cloud.settle()
    still = lambda_.get_durable_execution(DurableExecutionArn=arn)["Status"]
    # ... until its timeout passes on the clock
    cloud.engine.clock.advance(CALLBACK_TIMEOUT_SECONDS + 1)
    cloud.settle()

    assert still == "RUNNING"
    result = json.loads(lambda_.get_durable_execution(DurableExecutionArn=arn)["Result"])
    assert result == {
        "approved": False,
        "error": "CallbackTimeoutError",
        "message": result["message"],
    }
    assert events_of({"Events": _history(lambda_, arn)}, "CallbackTimedOut")
    with pytest.raises(ClientError) as late:
        lambda_.send_durable_execution_callback_success(CallbackId=callback_id, Result=b"{}")
    assert late.value.response["Error"]["Code"] == "CallbackTimeoutException"


def test_a_synchronous_invoke_waiting_for_a_callback_stops_at_the_read_timeout(
    cloud, lambda_, outputs
):
    # In-process nothing can answer the callback while the caller waits: it gets its read
    # timeout, and the execution runs on.
    with pytest.raises(ReadTimeoutError):
        lambda_.invoke(FunctionName=outputs["ApprovalAliasArn"], Payload=json.dumps(_event()))

    running = lambda_.list_durable_executions_by_function(
        FunctionName=outputs["ApprovalName"], Statuses=["RUNNING"]
    )["DurableExecutions"]
    assert running


# -- the control plane -----------------------------------------------------------------------


def test_executions_are_listed_and_described_by_function(cloud, lambda_, outputs):
    name = f"listed-{uuid.uuid4().hex[:8]}"
    event = _event()
    arn = _start(lambda_, outputs["ApprovalAliasArn"], event, DurableExecutionName=name)
    cloud.settle()

    listed = lambda_.list_durable_executions_by_function(
        FunctionName=outputs["ApprovalName"], DurableExecutionName=name
    )["DurableExecutions"]
    described = lambda_.get_durable_execution(DurableExecutionArn=arn)

    assert [(e["DurableExecutionArn"], e["Status"]) for e in listed] == [(arn, "RUNNING")]
    assert described["DurableExecutionName"] == name
    assert described["FunctionArn"].endswith(f"function:{outputs['ApprovalName']}:1")
    assert json.loads(described["InputPayload"]) == event
    assert "EndTimestamp" not in described
    succeeded = lambda_.list_durable_executions_by_function(
        FunctionName=outputs["ApprovalName"], Statuses=["SUCCEEDED"], DurableExecutionName=name
    )["DurableExecutions"]
    assert succeeded == []


def test_executions_are_listed_newest_first_and_page_by_page(cloud, lambda_, outputs):
    started_after = cloud.engine.service("lambda").durable_executions().clock.now()
    oldest = _start(lambda_, outputs["FailingAliasArn"], _event(reason="first"))
    cloud.engine.clock.advance(1)
    newest = _start(lambda_, outputs["FailingAliasArn"], _event(reason="second"))

    def listed(**options) -> dict:
        return lambda_.list_durable_executions_by_function(
            FunctionName=outputs["FailingName"], StartedAfter=started_after, **options
        )

    first_page = listed(MaxItems=1)
    assert [e["DurableExecutionArn"] for e in listed()["DurableExecutions"]] == [newest, oldest]
    assert [e["DurableExecutionArn"] for e in listed(ReverseOrder=True)["DurableExecutions"]] == [
        oldest,
        newest,
    ]
    assert [e["DurableExecutionArn"] for e in first_page["DurableExecutions"]] == [newest]
    second_page = listed(MaxItems=1, Marker=first_page["NextMarker"])
    assert [e["DurableExecutionArn"] for e in second_page["DurableExecutions"]] == [oldest]
    assert "NextMarker" not in second_page


def test_a_stopped_execution_ends_as_stopped(cloud, lambda_, outputs):
    arn = _start(lambda_, outputs["ApprovalAliasArn"], _event())
    cloud.settle()
    callback_id = _callback_id(lambda_, arn)

    stopped = lambda_.stop_durable_execution(
        DurableExecutionArn=arn, Error={"ErrorType": "Cancelled", "ErrorMessage": "by ops"}
    )
    cloud.settle()

    described = lambda_.get_durable_execution(DurableExecutionArn=arn)
    assert described["Status"] == "STOPPED"
    assert described["EndTimestamp"] == stopped["StopTimestamp"]
    assert events_of({"Events": _history(lambda_, arn)}, "ExecutionStopped")
    # THEN its callback can no longer be answered
    with pytest.raises(ClientError) as late:
        lambda_.send_durable_execution_callback_success(CallbackId=callback_id, Result=b"{}")
    assert late.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_an_unknown_execution_is_not_found(lambda_, outputs):
    function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{outputs['OrdersName']}"
    unknown = f"{function_arn}:1/durable-execution/nope/0"

    with pytest.raises(ClientError) as missing:
        lambda_.get_durable_execution(DurableExecutionArn=unknown)

    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


# -- idempotent starts -----------------------------------------------------------------------


def test_an_execution_name_starts_one_execution_for_the_same_input(cloud, lambda_, outputs):
    name = f"order-{uuid.uuid4().hex[:8]}"
    event = _event(order="o-5", amount=3)

    first = _start(lambda_, outputs["OrdersAliasArn"], event, DurableExecutionName=name)
    again = _start(lambda_, outputs["OrdersAliasArn"], event, DurableExecutionName=name)
    cloud.settle()
    answered = lambda_.invoke(
        FunctionName=outputs["OrdersAliasArn"],
        Payload=json.dumps(event),
        DurableExecutionName=name,
    )

    # THEN the same execution each time: its steps ran once, and a later invoke gets its result
    assert again == first
    assert payload(answered)["charged"] == 3
    assert _runs(cloud, outputs, event, "reserve") == 1
    with pytest.raises(ClientError) as conflict:
        _start(lambda_, outputs["OrdersAliasArn"], _event(), DurableExecutionName=name)
    assert conflict.value.response["Error"]["Code"] == "DurableExecutionAlreadyStartedException"


# -- the Lambda API --------------------------------------------------------------------------

DOUBLING = """
from aws_durable_execution_sdk_python import durable_execution


@durable_execution
def handler(event, context):
    return {"n": context.step(lambda _: event["n"] * 2, name="double")}
"""


def test_create_function_s_durable_config_makes_a_durable_function(cloud, lambda_):
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("doubling.py", DOUBLING)
    role = cloud.client("iam").create_role(
        RoleName=f"doubling-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    name = f"doubling-{uuid.uuid4().hex[:8]}"
    lambda_.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler="doubling.handler",
        Code={"ZipFile": code.getvalue()},
        DurableConfig={"ExecutionTimeout": 900},
    )
    lambda_.update_function_configuration(
        FunctionName=name, DurableConfig={"ExecutionTimeout": 600, "RetentionPeriodInDays": 3}
    )

    response = lambda_.invoke(FunctionName=name, Qualifier="$LATEST", Payload='{"n": 4}')

    assert payload(response) == {"n": 8}
    assert lambda_.get_function_configuration(FunctionName=name)["DurableConfig"] == {
        "ExecutionTimeout": 600,
        "RetentionPeriodInDays": 3,
    }
    with pytest.raises(ClientError) as unqualified:
        lambda_.invoke(FunctionName=name, Payload='{"n": 4}')
    assert unqualified.value.response["Error"]["Code"] == "InvalidParameterValueException"
