"""Step Functions' JSONata query language and variables run on localcloud as on AWS."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from localcloud import LocalCloud
from localcloud.testing import App, get_att
from tests.localcloud.cdk_apps import JSONATA_STACK, synth_jsonata_machine
from tests.localcloud.sfn_apps import (
    WORKER,
    ended_execution,
    history,
    invocations_of,
    run,
    state_machine,
    worker_on_endpoint,
)

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


def _order_machine(worker_arn: object) -> dict:
    """Totals an order, has the function double the total, and sizes the result."""
    outcome = {
        "order": "{% $orderId %}",
        "items": "{% $itemCount %}",
        "note": "{% $note %}",
        "total": "{% $doubled %}",
    }
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "Total",
        "States": {
            "Total": {
                "Type": "Pass",
                "Assign": {
                    "orderId": "{% $states.input.order.id %}",
                    "itemCount": "{% $count($states.input.order.items) %}",
                    "note": "{% $states.input.note %}",
                },
                "Output": {"total": "{% $sum($states.input.order.items.price) %}"},
                "Next": "Double",
            },
            "Double": {
                "Type": "Task",
                "Resource": LAMBDA_INVOKE,
                "Arguments": {
                    "FunctionName": worker_arn,
                    "Payload": {"n": "{% $states.input.total %}"},
                },
                "Assign": {"doubled": "{% $states.result.Payload.n %}"},
                "Output": "{% $states.result.Payload %}",
                "Next": "Size",
            },
            "Size": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $doubled >= 100 %}", "Next": "Large"}],
                "Default": "Small",
            },
            "Large": {"Type": "Pass", "Output": {**outcome, "size": "large"}, "End": True},
            "Small": {"Type": "Pass", "Output": {**outcome, "size": "small"}, "End": True},
        },
    }


def _order(*prices: int) -> dict:
    return {
        "order": {"id": "o-7", "items": [{"price": price} for price in prices]},
        "note": 'say "hi"\\ to C:\\orders\nthen ship',
    }


@pytest.fixture
def order_cloud(launch):
    app = App()
    worker = app.function("Worker", WORKER)
    state_machine(app, "Machine", _order_machine(get_att(worker)))
    return launch(app)


@pytest.mark.parametrize(("prices", "size"), [((20, 30, 5), "large"), ((10, 5), "small")])
def test_a_jsonata_machine_with_arguments_assign_output_condition_and_a_lambda_task_runs(
    order_cloud, prices, size
):
    execution = run(order_cloud, order_cloud.outputs("Stack")["MachineArn"], _order(*prices))

    # THEN the function got the total the Arguments computed and doubled it...
    total = sum(prices)
    assert [call.payload for call in invocations_of(order_cloud, "WorkerName")] == [
        {"n": total * 2}
    ]
    # ...and the last state read the variables the earlier ones assigned, on the branch the
    # Condition chose
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {
        "order": "o-7",
        "items": len(prices),
        "note": _order()["note"],
        "total": total * 2,
        "size": size,
    }


def test_a_jsonpath_machine_assigns_variables_that_later_states_read(launch):
    app = App()
    worker = app.function("Worker", WORKER)
    state_machine(
        app,
        "Machine",
        {
            "StartAt": "Remember",
            "States": {
                "Remember": {
                    "Type": "Pass",
                    "Assign": {"customer.$": "$.customer", "factor": 3},
                    "Next": "Double",
                },
                "Double": {
                    "Type": "Task",
                    "Resource": LAMBDA_INVOKE,
                    "Parameters": {"FunctionName": get_att(worker), "Payload": {"n.$": "$.n"}},
                    "ResultSelector": {"n.$": "$.Payload.n"},
                    "Next": "Label",
                },
                "Label": {
                    "Type": "Pass",
                    "Parameters": {"customer.$": "$customer", "factor.$": "$factor", "n.$": "$.n"},
                    "End": True,
                },
            },
        },
    )
    cloud = launch(app)

    execution = run(cloud, cloud.outputs("Stack")["MachineArn"], {"customer": "c-1", "n": 4})

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"customer": "c-1", "factor": 3, "n": 8}
    assert len(invocations_of(cloud, "WorkerName")) == 1


def _failing_expression_app(*, catch: bool) -> App:
    app = App()
    fail = {
        "Type": "Pass",
        "Output": {"total": "{% $states.input.price + $states.input.currency %}"},
        "End": True,
    }
    states = {"Price": fail}
    if catch:
        # A Pass state has no Catch: the failing expression sits in a Task's Arguments.
        worker = app.function("Worker", WORKER)
        states = {
            "Price": {
                "Type": "Task",
                "Resource": LAMBDA_INVOKE,
                "Arguments": {"FunctionName": get_att(worker), "Payload": fail["Output"]},
                "Catch": [
                    {
                        "ErrorEquals": ["States.QueryEvaluationError"],
                        "Output": {"caught": "{% $states.errorOutput.Error %}"},
                        "Next": "Handled",
                    }
                ],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        }
    definition = {"QueryLanguage": "JSONata", "StartAt": "Price", "States": states}
    state_machine(app, "Machine", definition)
    return app


def test_an_expression_that_cannot_be_evaluated_fails_with_states_query_evaluation_error(launch):
    cloud = launch(_failing_expression_app(catch=False))

    execution = run(cloud, cloud.outputs("Stack")["MachineArn"], {"price": 3, "currency": "EUR"})

    assert execution["status"] == "FAILED"
    assert execution["error"] == "States.QueryEvaluationError"
    assert "T2002" in execution["cause"]
    assert "must evaluate to a number" in execution["cause"]
    events = [event["type"] for event in history(cloud, execution["executionArn"])]
    assert "EvaluationFailed" in events
    assert events[-1] == "ExecutionFailed"


def test_a_catch_matches_states_query_evaluation_error_before_the_task_runs(launch):
    cloud = launch(_failing_expression_app(catch=True))

    execution = run(cloud, cloud.outputs("Stack")["MachineArn"], {"price": 3, "currency": "EUR"})

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"caught": "States.QueryEvaluationError"}
    assert invocations_of(cloud, "WorkerName") == []


# -- localcloud up ---------------------------------------------------------------------------


def test_a_jsonata_machine_created_and_started_through_the_endpoint_succeeds():
    with worker_on_endpoint() as (server, client, role, function):
        sfn = client("stepfunctions")
        machine = sfn.create_state_machine(
            name="orders", roleArn=role, definition=json.dumps(_order_machine(function))
        )["stateMachineArn"]

        arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(_order(40, 20)))[
            "executionArn"
        ]

        described = ended_execution(sfn, arn)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == {
            "order": "o-7",
            "items": 2,
            "note": _order()["note"],
            "total": 120,
            "size": "large",
        }
        assert [call.payload for call in server.engine.invocations] == [{"n": 120}]


# -- CDK's JSONata constructs ----------------------------------------------------------------


@pytest.mark.skipif(shutil.which("node") is None, reason="CDK synth needs node")
def test_a_machine_built_with_cdks_jsonata_constructs_runs(tmp_path: Path):
    with LocalCloud(synth_jsonata_machine(tmp_path / "cdk.out")) as cloud:
        cloud.deploy(JSONATA_STACK)

        machine_arn = cloud.outputs(JSONATA_STACK)["MachineArn"]
        execution = run(cloud, machine_arn, {"customer": "c-9", "n": 4})

        assert execution["status"] == "SUCCEEDED"
        assert json.loads(execution["output"]) == {"customer": "c-9", "n": 10}
        assert [call.payload for call in cloud.invocations] == [{"n": 10}]
