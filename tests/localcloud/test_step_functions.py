"""Step Functions on localcloud: executions end where AWS's would, Tasks run the real code."""

from __future__ import annotations

import datetime
import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from localcloud.core.assembly import load_assembly
from localcloud.services.stepfunctions.service import StepFunctions
from localcloud.testing import App, get_att, ref
from tests.localcloud.apps import RECORDER
from tests.localcloud.sfn_apps import (
    FLAKY,
    TOKEN_KEEPER,
    WORKER,
    ended_execution,
    history,
    invocations_of,
    run,
    state_machine,
    states_entered,
    worker_on_endpoint,
)

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


def _single_task_app(task: dict, *, extra_states: dict | None = None) -> App:
    """A state machine whose first state, `Work`, is `task` over the WORKER function."""
    app = App()
    worker = app.function("Worker", WORKER)
    task = json.loads(json.dumps(task).replace('"@worker"', json.dumps(get_att(worker))))
    state_machine(
        app,
        "Machine",
        {"StartAt": "Work", "States": {"Work": {"Type": "Task", **task}, **(extra_states or {})}},
    )
    return app


def _machine_arn(cloud) -> str:
    return cloud.outputs("Stack")["MachineArn"]


# -- Tasks run the function's code ----------------------------------------------------------


def test_lambda_invoke_wraps_the_function_result_as_aws_does(launch):
    cloud = launch(
        _single_task_app(
            {
                "Resource": LAMBDA_INVOKE,
                "Parameters": {"FunctionName": "@worker", "Payload": {"n.$": "$.count"}},
                "End": True,
            }
        )
    )

    execution = run(cloud, _machine_arn(cloud), {"count": 21})

    # THEN the handler's result comes back in Payload, beside StatusCode
    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert output["Payload"] == {"n": 42}
    assert output["StatusCode"] == 200
    assert [invocation.payload for invocation in invocations_of(cloud, "WorkerName")] == [{"n": 42}]


def test_a_function_arn_as_resource_gives_the_bare_result(launch):
    cloud = launch(_single_task_app({"Resource": "@worker", "End": True}))

    execution = run(cloud, _machine_arn(cloud), {"n": 5})

    assert json.loads(execution["output"]) == {"n": 10}
    assert states_entered(cloud, execution["executionArn"]) == ["Work"]


@pytest.mark.parametrize("error_equals", ["ValueError", "States.TaskFailed", "States.ALL"])
def test_a_function_error_is_caught_by_its_error_type(launch, error_equals):
    cloud = launch(
        _single_task_app(
            {
                "Resource": LAMBDA_INVOKE,
                "Parameters": {"FunctionName": "@worker", "Payload.$": "$"},
                "Catch": [{"ErrorEquals": [error_equals], "ResultPath": "$.error", "Next": "Fix"}],
                "End": True,
            },
            extra_states={"Fix": {"Type": "Pass", "End": True}},
        )
    )

    execution = run(cloud, _machine_arn(cloud), {"n": 1, "raise": "ValueError"})

    # THEN the Catch takes the function's error (errorType as Error, its payload as Cause)
    assert execution["status"] == "SUCCEEDED"
    caught = json.loads(execution["output"])["error"]
    assert caught["Error"] == "ValueError"
    assert json.loads(caught["Cause"])["errorMessage"] == "asked to raise ValueError"
    assert states_entered(cloud, execution["executionArn"]) == ["Work", "Fix"]


def test_a_catch_on_another_error_lets_the_execution_fail_with_the_function_error(launch):
    cloud = launch(
        _single_task_app(
            {
                "Resource": "@worker",
                "Catch": [{"ErrorEquals": ["KeyError"], "Next": "Fix"}],
                "End": True,
            },
            extra_states={"Fix": {"Type": "Pass", "End": True}},
        )
    )

    execution = run(cloud, _machine_arn(cloud), {"n": 1, "raise": "ValueError"})

    assert execution["status"] == "FAILED"
    assert execution["error"] == "ValueError"
    assert "Fix" not in states_entered(cloud, execution["executionArn"])


def test_retry_max_attempts_2_invokes_three_times_then_fails_with_the_function_error(launch):
    cloud = launch(
        _single_task_app(
            {
                "Resource": LAMBDA_INVOKE,
                "Parameters": {"FunctionName": "@worker", "Payload.$": "$"},
                "Retry": [
                    {
                        "ErrorEquals": ["ValueError"],
                        "IntervalSeconds": 3600,
                        "BackoffRate": 2,
                        "MaxAttempts": 2,
                        "MaxDelaySeconds": 7200,
                    }
                ],
                "End": True,
            }
        )
    )
    started = time.monotonic()

    execution = run(cloud, _machine_arn(cloud), {"n": 1, "raise": "ValueError"})

    # THEN the first attempt and two retries ran, with no time spent between them...
    assert len(invocations_of(cloud, "WorkerName")) == 3
    assert time.monotonic() - started < 10
    # ...and the execution failed with the function's error
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ValueError"
    assert json.loads(execution["cause"])["errorType"] == "ValueError"


def test_a_task_longer_than_its_timeout_fails_with_states_timeout(launch):
    app = App()
    slow = app.function("Slow", RECORDER, timeout=30)
    state_machine(
        app,
        "Machine",
        {
            "StartAt": "Work",
            "States": {
                "Work": {
                    "Type": "Task",
                    "Resource": get_att(slow),
                    "TimeoutSeconds": 1,
                    "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TooSlow"}],
                    "End": True,
                },
                "TooSlow": {"Type": "Pass", "Result": "timed out", "End": True},
            },
        },
    )
    cloud = launch(app)

    execution = run(cloud, _machine_arn(cloud), {"sleep": 2.5})

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == "timed out"
    assert states_entered(cloud, execution["executionArn"]) == ["Work", "TooSlow"]


@pytest.mark.parametrize("error_equals", ["Lambda.Unknown", "States.TaskFailed"])
def test_a_function_timing_out_fails_its_task_with_lambda_unknown(launch, error_equals):
    app = App()
    slow = app.function("Slow", RECORDER, timeout=1)
    state_machine(
        app,
        "Machine",
        {
            "StartAt": "Work",
            "States": {
                "Work": {
                    "Type": "Task",
                    "Resource": LAMBDA_INVOKE,
                    "Parameters": {"FunctionName": get_att(slow), "Payload.$": "$"},
                    "Catch": [
                        {"ErrorEquals": [error_equals], "ResultPath": "$.error", "Next": "Late"}
                    ],
                    "End": True,
                },
                "Late": {"Type": "Pass", "End": True},
            },
        },
    )
    cloud = launch(app)

    execution = run(cloud, _machine_arn(cloud), {"sleep": 2.5})

    # THEN Step Functions names a function timeout Lambda.Unknown (Lambda gives no error type
    # it could report), with Lambda's payload in the cause
    assert execution["status"] == "SUCCEEDED"
    caught = json.loads(execution["output"])["error"]
    assert caught["Error"] == "Lambda.Unknown"
    assert "Task timed out after 1.00 seconds" in caught["Cause"]
    assert states_entered(cloud, execution["executionArn"]) == ["Work", "Late"]


def test_a_function_arn_that_does_not_exist_fails_with_lambdas_error_code(launch):
    app = App()
    state_machine(
        app,
        "Machine",
        {
            "StartAt": "Work",
            "States": {
                "Work": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:missing",
                    "End": True,
                }
            },
        },
    )
    cloud = launch(app)

    execution = run(cloud, _machine_arn(cloud), {})

    assert execution["status"] == "FAILED"
    assert execution["error"] == "Lambda.ResourceNotFoundException"
    assert "Function not found" in execution["cause"]


# -- a whole workflow ------------------------------------------------------------------------


def _order_workflow() -> App:
    """Validate (retried), then by kind: a batch fans out to a Map and a failing branch."""
    app = App()
    validator = app.function("Validator", FLAKY, environment={"FAILURES": "1"})
    worker = app.function("Worker", WORKER)
    state_machine(
        app,
        "Machine",
        {
            "StartAt": "Validate",
            "States": {
                "Validate": {
                    "Type": "Task",
                    "Resource": LAMBDA_INVOKE,
                    "Parameters": {"FunctionName": get_att(validator), "Payload.$": "$"},
                    "ResultSelector": {"calls.$": "$.Payload.calls"},
                    "ResultPath": "$.validation",
                    "Retry": [{"ErrorEquals": ["ValueError"], "MaxAttempts": 2}],
                    "Next": "Route",
                },
                "Route": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.kind", "StringEquals": "batch", "Next": "Fan"}],
                    "Default": "Single",
                },
                "Single": {"Type": "Pass", "Result": "single", "End": True},
                "Fan": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "Each",
                            "States": {
                                "Each": {
                                    "Type": "Map",
                                    "ItemsPath": "$.items",
                                    "ItemProcessor": {
                                        "ProcessorConfig": {"Mode": "INLINE"},
                                        "StartAt": "Double",
                                        "States": {
                                            "Double": {
                                                "Type": "Task",
                                                "Resource": get_att(worker),
                                                "End": True,
                                            }
                                        },
                                    },
                                    "End": True,
                                }
                            },
                        },
                        {
                            "StartAt": "Audit",
                            "States": {
                                "Audit": {
                                    "Type": "Task",
                                    "Resource": get_att(worker),
                                    "Parameters": {"raise": "RuntimeError"},
                                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Skip"}],
                                    "End": True,
                                },
                                "Skip": {"Type": "Pass", "Result": "audit skipped", "End": True},
                            },
                        },
                    ],
                    "ResultPath": "$.results",
                    "Next": "Done",
                },
                "Done": {"Type": "Succeed"},
            },
        },
    )
    return app


def test_a_workflow_with_retry_choice_parallel_map_and_catch_ends_where_aws_would(launch):
    cloud = launch(_order_workflow())
    items = [{"n": 1}, {"n": 2}, {"n": 3}]

    execution = run(cloud, _machine_arn(cloud), {"kind": "batch", "items": items})

    # THEN the validator succeeded on its retry, the Map doubled each item in order, and the
    # failing audit branch was caught
    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert output["validation"] == {"calls": 2}
    assert output["results"] == [[{"n": 2}, {"n": 4}, {"n": 6}], "audit skipped"]
    entered = states_entered(cloud, execution["executionArn"])
    assert entered[:3] == ["Validate", "Route", "Fan"]
    assert sorted(entered[3:-1]) == sorted(["Each", "Double", "Double", "Double", "Audit", "Skip"])
    assert entered[-1] == "Done"
    assert "Single" not in entered
    assert len(invocations_of(cloud, "ValidatorName")) == 2
    worker_calls = invocations_of(cloud, "WorkerName")
    assert sorted(
        str(invocation.payload) for invocation in worker_calls if invocation.succeeded
    ) == [
        "{'n': 2}",
        "{'n': 4}",
        "{'n': 6}",
    ]
    assert [invocation.error["errorType"] for invocation in worker_calls if invocation.error] == [
        "RuntimeError"
    ]


def test_the_choice_default_is_taken_when_no_rule_matches(launch):
    cloud = launch(_order_workflow())

    execution = run(cloud, _machine_arn(cloud), {"kind": "one", "items": []})

    assert json.loads(execution["output"]) == "single"
    assert states_entered(cloud, execution["executionArn"]) == ["Validate", "Route", "Single"]
    assert invocations_of(cloud, "WorkerName") == []


# -- time --------------------------------------------------------------------------------------


def _in_an_hour() -> str:
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(hours=1)
    return later.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    "wait",
    [{"Seconds": 3600}, {"SecondsPath": "$.seconds"}, {"TimestampPath": "$.at"}],
    ids=["Seconds", "SecondsPath", "TimestampPath"],
)
def test_a_wait_of_an_hour_completes_at_once_with_time_scale_0(launch, wait):
    app = App()
    state_machine(
        app,
        "Machine",
        {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", **wait, "End": True}}},
    )
    cloud = launch(app)
    started = time.monotonic()

    execution = run(cloud, _machine_arn(cloud), {"seconds": 3600, "at": _in_an_hour()})

    assert execution["status"] == "SUCCEEDED"
    assert time.monotonic() - started < 5


def test_a_wait_takes_its_time_multiplied_by_the_time_scale(launch):
    app = App()
    state_machine(
        app,
        "Machine",
        {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 1000, "End": True}}},
    )
    cloud = launch(app)
    cloud.engine.time_scale = 0.001  # 1000 s -> 1 s
    sfn = cloud.client("stepfunctions")

    arn = sfn.start_execution(stateMachineArn=_machine_arn(cloud))["executionArn"]

    # THEN it is still waiting right after the start (the scaled wait lasts 1 s)...
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    # ...and ends on its own, in scaled real time
    deadline = time.monotonic() + 5
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the scaled wait did not end"
        time.sleep(0.05)
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"


def test_settle_takes_a_wait_in_progress_as_elapsed(launch):
    app = App()
    state_machine(
        app,
        "Machine",
        {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}},
    )
    cloud = launch(app)
    cloud.engine.time_scale = 1  # AWS's timing: the wait really is an hour

    execution = run(cloud, _machine_arn(cloud))

    assert execution["status"] == "SUCCEEDED"


# -- task tokens -------------------------------------------------------------------------------


def _token_app() -> App:
    app = App()
    keeper = app.function("Keeper", TOKEN_KEEPER)
    state_machine(
        app,
        "Machine",
        {
            "StartAt": "Approve",
            "States": {
                "Approve": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {
                        "FunctionName": get_att(keeper),
                        "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order"},
                    },
                    "End": True,
                }
            },
        },
    )
    return app


def _waiting_execution(cloud, order: str = "o-1") -> tuple[str, str]:
    """Start an execution of the token app and settle; returns its ARN and its task token."""
    sfn = cloud.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=_machine_arn(cloud), input=json.dumps({"order": order})
    )["executionArn"]
    cloud.settle()
    return arn, invocations_of(cloud, "KeeperName")[-1].payload["keeping"]


def test_wait_for_task_token_resumes_on_send_task_success_with_the_sent_output(launch):
    cloud = launch(_token_app())
    sfn = cloud.client("stepfunctions")

    # WHEN the execution has handed its token to the function, settling ends (the execution
    # waits, idle) and it is still running
    arn, token = _waiting_execution(cloud)
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"

    sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
    cloud.settle()

    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"approved": True}


def test_wait_for_task_token_fails_on_send_task_failure_with_its_error_and_cause(launch):
    cloud = launch(_token_app())
    sfn = cloud.client("stepfunctions")
    arn, token = _waiting_execution(cloud)

    sfn.send_task_failure(taskToken=token, error="Rejected", cause="over budget")
    cloud.settle()

    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "FAILED"
    assert (described["error"], described["cause"]) == ("Rejected", "over budget")


def test_sqs_send_message_wait_for_task_token_resumes_after_heartbeats(launch):
    app = App()
    queue = app.queue("Approvals")
    state_machine(
        app,
        "Machine",
        {
            "StartAt": "Ask",
            "States": {
                "Ask": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    "Parameters": {
                        "QueueUrl": ref(queue),
                        "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.order"},
                    },
                    "HeartbeatSeconds": 600,
                    "ResultPath": "$.answer",
                    "End": True,
                }
            },
        },
    )
    cloud = launch(app)
    sfn = cloud.client("stepfunctions")
    queue_url = cloud.outputs("Stack")["ApprovalsUrl"]

    arn = sfn.start_execution(
        stateMachineArn=_machine_arn(cloud), input=json.dumps({"order": "o-7"})
    )["executionArn"]
    cloud.settle()
    messages = cloud.client("sqs").receive_message(QueueUrl=queue_url)["Messages"]
    body = json.loads(messages[0]["Body"])
    sfn.send_task_heartbeat(taskToken=body["token"])
    cloud.settle()
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"

    sfn.send_task_success(taskToken=body["token"], output='"yes"')
    cloud.settle()

    described = sfn.describe_execution(executionArn=arn)
    assert body["order"] == "o-7"
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"order": "o-7", "answer": "yes"}


def test_settle_waits_for_a_branch_still_working_beside_a_token_wait(launch):
    app = App()
    queue = app.queue("Approvals")
    worker = app.function("Worker", WORKER)
    napper = app.function("Napper", RECORDER)
    steps: dict = {
        "Nap": {
            "Type": "Task",
            "Resource": get_att(napper),
            "Parameters": {"sleep": 0.3},
            "ResultPath": None,
            "Next": "Step0",
        }
    }
    steps.update({f"Step{n}": {"Type": "Pass", "Next": f"Step{n + 1}"} for n in range(100)})
    steps["Step100"] = {"Type": "Task", "Resource": get_att(worker), "End": True}
    ask = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": ref(queue), "MessageBody": {"token.$": "$$.Task.Token"}},
        "End": True,
    }
    state_machine(
        app,
        "Machine",
        {
            "StartAt": "Both",
            "States": {
                "Both": {
                    "Type": "Parallel",
                    "Branches": [
                        {"StartAt": "Ask", "States": {"Ask": ask}},
                        {"StartAt": "Nap", "States": steps},
                    ],
                    "End": True,
                }
            },
        },
    )
    cloud = launch(app)

    # WHEN one branch waits for its token while the other works through its states
    execution = run(cloud, _machine_arn(cloud), {"n": 3})

    # THEN settling ended only once the working branch had run its Task
    assert execution["status"] == "RUNNING"
    assert [invocation.payload for invocation in invocations_of(cloud, "WorkerName")] == [{"n": 6}]


def test_a_task_token_that_no_execution_waits_for_is_refused(launch):
    cloud = launch(_token_app())
    sfn = cloud.client("stepfunctions")
    _, token = _waiting_execution(cloud)
    sfn.send_task_success(taskToken=token, output="{}")
    cloud.settle()

    with pytest.raises(ClientError) as refused:
        sfn.send_task_success(taskToken=token, output="{}")

    assert refused.value.response["Error"]["Code"] in ("InvalidToken", "TaskTimedOut")


def test_a_missed_heartbeat_fails_the_task_with_states_heartbeat_timeout(launch):
    app = App()
    keeper = app.function("Keeper", TOKEN_KEEPER)
    state_machine(
        app,
        "Machine",
        {
            "StartAt": "Approve",
            "States": {
                "Approve": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "HeartbeatSeconds": 1,
                    "Parameters": {
                        "FunctionName": get_att(keeper),
                        "Payload": {"token.$": "$$.Task.Token"},
                    },
                    "Catch": [
                        {
                            "ErrorEquals": ["States.HeartbeatTimeout"],
                            "ResultPath": "$.error",
                            "Next": "Silent",
                        }
                    ],
                    "End": True,
                },
                "Silent": {"Type": "Pass", "End": True},
            },
        },
    )
    cloud = launch(app)
    sfn = cloud.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=_machine_arn(cloud), input="{}")["executionArn"]

    # WHEN no heartbeat comes within HeartbeatSeconds (real time: it bounds a real caller)
    deadline = time.monotonic() + 10
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the heartbeat timeout did not end the task"
        cloud.settle()
        time.sleep(0.1)

    # THEN the task failed with States.HeartbeatTimeout, not States.Timeout
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["error"]["Error"] == "States.HeartbeatTimeout"
    assert states_entered(cloud, arn) == ["Approve", "Silent"]


def _execution_threads() -> list[threading.Thread]:
    """Threads of moto's interpreter still running an execution's program or a Task."""
    return [
        thread
        for thread in threading.enumerate()
        if thread.name.startswith("Thread-") and thread.is_alive()
    ]


def test_stopping_an_execution_waiting_for_its_token_aborts_it_at_once(launch):
    cloud = launch(_token_app())
    sfn = cloud.client("stepfunctions")
    arn, token = _waiting_execution(cloud)

    sfn.stop_execution(executionArn=arn, error="Cancelled", cause="the order was withdrawn")

    # THEN, once StopExecution has answered, the execution is aborted with the error and cause
    # given, its history ends there, and the token is no longer awaited
    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "ABORTED"
    assert (described["error"], described["cause"]) == ("Cancelled", "the order was withdrawn")
    aborted = history(cloud, arn)[-1]
    assert aborted["type"] == "ExecutionAborted"
    assert aborted["executionAbortedEventDetails"] == {
        "error": "Cancelled",
        "cause": "the order was withdrawn",
    }
    with pytest.raises(ClientError):
        sfn.send_task_success(taskToken=token, output="{}")


def test_deleting_a_state_machine_stops_its_running_executions(launch):
    cloud = launch(_token_app())
    _waiting_execution(cloud)
    (execution,) = cloud.engine.service(StepFunctions).running_executions()

    cloud.client("stepfunctions").delete_state_machine(stateMachineArn=_machine_arn(cloud))

    # THEN its execution ends rather than waiting, unseen, for a token no one can send
    deadline = time.monotonic() + 5
    while execution.status == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert execution.status == "ABORTED"


def test_stopping_the_engine_aborts_running_executions_and_ends_their_threads(tmp_path):
    app = _token_app()
    running_before = set(_execution_threads())
    with LocalCloud(app.write(tmp_path / "cdk.out")) as cloud:
        cloud.deploy(app.stack_name)
        arn, _ = _waiting_execution(cloud)
        (execution,) = cloud.engine.service(StepFunctions).running_executions()

    # THEN the waiting execution was aborted (not failed) and none of its threads outlived
    # the engine
    assert execution.status == "ABORTED"
    assert execution.execution_arn == arn
    deadline = time.monotonic() + 5
    while set(_execution_threads()) - running_before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not set(_execution_threads()) - running_before


# -- executions --------------------------------------------------------------------------------


def _pass_app() -> App:
    app = App()
    state_machine(
        app, "Machine", {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
    )
    return app


def test_start_execution_without_a_name_twice_gives_two_executions(launch):
    cloud = launch(_pass_app())
    sfn = cloud.client("stepfunctions")

    first = run(cloud, _machine_arn(cloud), {"n": 1})
    second = run(cloud, _machine_arn(cloud), {"n": 2})

    assert first["executionArn"] != second["executionArn"]
    assert [json.loads(execution["output"]) for execution in (first, second)] == [
        {"n": 1},
        {"n": 2},
    ]
    listed = sfn.list_executions(stateMachineArn=_machine_arn(cloud))["executions"]
    assert sorted(execution["name"] for execution in listed) == sorted(
        [first["name"], second["name"]]
    )


def test_a_name_in_use_by_a_running_execution_with_other_input_is_refused(launch):
    cloud = launch(_token_app())
    sfn = cloud.client("stepfunctions")
    machine = _machine_arn(cloud)
    started = sfn.start_execution(stateMachineArn=machine, name="order-1", input='{"order": "a"}')

    # THEN the same name and input is the same execution, as StartExecution is idempotent...
    again = sfn.start_execution(stateMachineArn=machine, name="order-1", input='{"order": "a"}')
    assert again["executionArn"] == started["executionArn"]
    # ...and other input under that name is refused
    with pytest.raises(ClientError) as refused:
        sfn.start_execution(stateMachineArn=machine, name="order-1", input='{"order": "b"}')
    assert refused.value.response["Error"]["Code"] == "ExecutionAlreadyExists"


def test_a_definition_with_substitutions_from_the_template_runs(launch):
    app = App()
    worker = app.function("Worker", WORKER)
    app.add(
        "MachineRole",
        "AWS::IAM::Role",
        {"AssumeRolePolicyDocument": {"Statement": [], "Version": "2012-10-17"}},
    )
    app.add(
        "Machine",
        "AWS::StepFunctions::StateMachine",
        {
            "RoleArn": get_att("MachineRole"),
            "DefinitionString": json.dumps(
                {
                    "StartAt": "Work",
                    "States": {
                        "Work": {"Type": "Task", "Resource": "${WorkerArn}", "Next": "Label"},
                        "Label": {
                            "Type": "Pass",
                            "Parameters": {"label": "${Label}", "n.$": "$.n"},
                            "End": True,
                        },
                    },
                }
            ),
            "DefinitionSubstitutions": {"WorkerArn": get_att(worker), "Label": "doubled"},
        },
    )
    app.output("MachineArn", ref("Machine"))
    cloud = launch(app)

    execution = run(cloud, _machine_arn(cloud), {"n": 4})

    assert json.loads(execution["output"]) == {"label": "doubled", "n": 8}
    assert len(invocations_of(cloud, "WorkerName")) == 1


def test_a_definition_given_as_an_object_with_logging_and_tracing_is_deployed(launch):
    app = App()
    app.add("MachineRole", "AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": []}})
    app.add("Logs", "AWS::Logs::LogGroup", {})
    definition = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
    app.add(
        "Machine",
        "AWS::StepFunctions::StateMachine",
        {
            "RoleArn": get_att("MachineRole"),
            "Definition": definition,
            "LoggingConfiguration": {
                "Level": "ALL",
                "IncludeExecutionData": True,
                "Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": get_att("Logs")}}],
            },
            "TracingConfiguration": {"Enabled": True},
        },
    )
    app.output("MachineArn", ref("Machine"))
    app.output("MachineName", get_att("Machine", "Name"))
    cloud = launch(app)

    described = cloud.client("stepfunctions").describe_state_machine(
        stateMachineArn=_machine_arn(cloud)
    )

    assert described["name"] == cloud.outputs("Stack")["MachineName"]
    assert json.loads(described["definition"]) == definition
    assert described["loggingConfiguration"]["level"] == "ALL"
    assert described["loggingConfiguration"]["destinations"][0]["cloudWatchLogsLogGroup"][
        "logGroupArn"
    ].startswith("arn:aws:logs:")
    assert described["tracingConfiguration"] == {"enabled": True}
    assert run(cloud, _machine_arn(cloud), {"n": 1})["status"] == "SUCCEEDED"


def test_the_history_records_the_states_and_the_task_invocation(launch):
    cloud = launch(_single_task_app({"Resource": "@worker", "End": True}))

    execution = run(cloud, _machine_arn(cloud), {"n": 3})

    types = [event["type"] for event in history(cloud, execution["executionArn"])]
    assert types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]


# -- localcloud up ---------------------------------------------------------------------------


def test_an_execution_started_against_the_endpoint_runs_its_task_and_wait():
    environment = {"Variables": {"AWS_REGION": "eu-west-1"}}
    with worker_on_endpoint(Environment=environment) as (server, client, role, function):
        sfn = client("stepfunctions")
        machine = sfn.create_state_machine(
            name="double-then-wait",
            roleArn=role,
            definition=json.dumps(
                {
                    "StartAt": "Work",
                    "States": {
                        "Work": {"Type": "Task", "Resource": function, "Next": "Hold"},
                        "Hold": {"Type": "Wait", "Seconds": 3600, "End": True},
                    },
                }
            ),
        )["stateMachineArn"]

        arn = sfn.start_execution(stateMachineArn=machine, input='{"n": 4}')["executionArn"]

        described = ended_execution(sfn, arn)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == {"n": 8}
        assert [invocation.function for invocation in server.engine.invocations] == ["worker"]


def test_stopping_an_execution_in_a_wait_aborts_it_before_stop_execution_answers(launch):
    app = App()
    state_machine(
        app,
        "Machine",
        {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}},
    )
    cloud = launch(app)
    cloud.engine.time_scale = 1.0  # the wait takes its hour, unless the stop ends it
    sfn = cloud.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=_machine_arn(cloud))["executionArn"]
    # GIVEN the execution is in its Wait state (its own thread gets there, the test watches)
    deadline = time.monotonic() + 5
    while "WaitStateEntered" not in [event["type"] for event in history(cloud, arn)]:
        assert time.monotonic() < deadline, "the execution never entered its Wait state"
        time.sleep(0.01)

    sfn.stop_execution(executionArn=arn)

    # THEN it is aborted when StopExecution answers, with no error or cause (none were given)
    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "ABORTED"
    assert "error" not in described
    assert "cause" not in described
    assert [event["type"] for event in history(cloud, arn)][-1] == "ExecutionAborted"


def test_a_redeployed_definition_updates_the_state_machine_in_place(launch, tmp_path):
    def greeting_app(greeting: str) -> App:
        app = App()
        state_machine(
            app,
            "Machine",
            {
                "StartAt": "Greet",
                "States": {"Greet": {"Type": "Pass", "Result": greeting, "End": True}},
            },
        )
        return app

    cloud = launch(greeting_app("hello"))
    arn = cloud.outputs("Stack")["MachineArn"]
    assert json.loads(run(cloud, arn)["output"]) == "hello"

    cloud.stacks = load_assembly(greeting_app("bonjour").write(tmp_path / "v2"))
    cloud.deploy("Stack")

    # THEN the machine keeps its ARN (CloudFormation updates it) and runs the new definition
    assert cloud.outputs("Stack")["MachineArn"] == arn
    assert json.loads(run(cloud, arn)["output"]) == "bonjour"
