"""Orchestration template: the saga's state machine (JSONata, bounded Map, jittered retries,
compensations, a task token with a deadline), the durable function, the starters, the alarms."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

from infra.config import AppConfig, OrchestrationConfig, Stage
from infra.constructs import AlarmTopic
from infra.patterns.orchestration import Orchestration
from orchestration import contract
from tests.synth import CloudAssembly, resources_of_type

STACK = "Orchestration"
STATEFUL_LOGICAL_IDS = {
    "OrchestrationTableAF0A4E3B",
    "OrchestrationEventsDeadLetterQueue9387309D",
}


def _definition(template: dict[str, Any]) -> dict[str, Any]:
    """The state machine's definition, its CloudFormation references as `<ref>`."""
    [machine] = resources_of_type(template, "AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else "<ref>" for part in parts))


def test_stateful_logical_ids_are_stable(dev_assembly: CloudAssembly):
    # Renaming one of these replaces the resource (losing orders, stock or dead letters).
    resources = dev_assembly.templates[STACK]["Resources"]
    stateful = {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] in {"AWS::SQS::Queue", "AWS::DynamoDB::Table"}
    }
    assert stateful == STATEFUL_LOGICAL_IDS


def test_the_state_machine_is_standard_jsonata_logged_and_traced(orchestration: Template):
    orchestration.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "STANDARD",
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": {
                "Level": "ALL",
                "IncludeExecutionData": False,
                "Destinations": [Match.object_like({})],
            },
        },
    )


def test_the_saga_reserves_each_line_in_a_bounded_map_then_charges_ships_and_notifies(
    dev_assembly: CloudAssembly,
):
    definition = _definition(dev_assembly.templates[STACK])
    states = definition["States"]

    assert definition["QueryLanguage"] == "JSONata"
    assert definition["StartAt"] == "Validate"
    assert states["Validate"]["Assign"]["order"] == "{% $states.result.Payload.order %}"
    reserve = states["ReserveStock"]
    assert reserve["Type"] == "Map"
    assert reserve["Items"] == "{% $order.lines %}"
    assert reserve["MaxConcurrency"] == 5  # orchestration.max_concurrency's default
    assert reserve["Next"] == "CheckReservations"
    assert [choice["Next"] for choice in states["CheckReservations"]["Choices"]] == [
        "StockShort",
        "RequestApproval",
    ]
    assert states["CheckReservations"]["Default"] == "ChargePayment"
    assert states["ChargePayment"]["Next"] == "ShipAndNotify"
    branches = states["ShipAndNotify"]["Branches"]
    assert [branch["StartAt"] for branch in branches] == ["Ship", "Notify"]
    assert states["Complete"]["Next"] == "OrderCompleted"


def test_a_line_s_failure_is_its_iteration_s_answer_so_every_line_ends_before_a_release(
    dev_assembly: CloudAssembly,
):
    line = _definition(dev_assembly.templates[STACK])["States"]["ReserveStock"]["ItemProcessor"]
    [catch] = line["States"]["ReserveLine"]["Catch"]

    assert catch == {"ErrorEquals": ["States.ALL"], "Next": "LineNotReserved"}
    assert line["States"]["LineNotReserved"]["Output"]["failed"] is True


def test_every_failure_but_a_business_one_is_retried_with_full_jitter(
    dev_assembly: CloudAssembly,
):
    states = _definition(dev_assembly.templates[STACK])["States"]
    forward = [
        states["ReserveStock"]["ItemProcessor"]["States"]["ReserveLine"],
        states["ChargePayment"],
        *(branch["States"][branch["StartAt"]] for branch in states["ShipAndNotify"]["Branches"]),
    ]

    for state in forward:
        # After Lambda's own service errors: a business failure is never retried (the first
        # retrier naming it decides), anything else is, with backoff and full jitter.
        assert state["Retry"][1:] == [
            {
                "ErrorEquals": [reason.value for reason in contract.FailureReason],
                "MaxAttempts": 0,
            },
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": 1,
                "MaxAttempts": 3,  # orchestration.retry_max_attempts' default, 4, in all
                "BackoffRate": 2,
                "JitterStrategy": "FULL",
            },
        ]


def test_every_failure_after_a_reservation_is_compensated_in_reverse_then_fails(
    dev_assembly: CloudAssembly,
):
    states = _definition(dev_assembly.templates[STACK])["States"]
    caught = {"Assign": {"failure": "{% $states.errorOutput %}"}, "ErrorEquals": ["States.ALL"]}

    assert states["ReserveStock"]["Catch"] == [{**caught, "Next": "ReleaseStock"}]
    assert states["RequestApproval"]["Catch"] == [{**caught, "Next": "ReleaseStock"}]
    assert states["ChargePayment"]["Catch"] == [{**caught, "Next": "RefundPayment"}]
    assert states["ShipAndNotify"]["Catch"] == [{**caught, "Next": "RefundPayment"}]
    assert states["StockShort"]["Next"] == "ReleaseStock"
    assert states["RefundPayment"]["Next"] == "ReleaseStock"
    assert states["ReleaseStock"]["Next"] == "RecordFailure"
    assert states["RecordFailure"]["Next"] == "OrderFailed"
    assert states["OrderFailed"] == {
        "Type": "Fail",
        "Error": "{% $failureReason %}",
        "Cause": "{% $failureCause %}",
    }
    # A compensation must finish: it is retried on any error.
    for name in ("RefundPayment", "ReleaseStock", "RecordFailure"):
        assert any(rule["ErrorEquals"] == ["States.ALL"] for rule in states[name]["Retry"])


def test_the_approval_waits_for_its_task_token_until_its_deadline(dev_assembly: CloudAssembly):
    approval = _definition(dev_assembly.templates[STACK])["States"]["RequestApproval"]

    assert approval["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert approval["TimeoutSeconds"] == 86_400
    assert approval["Arguments"]["Payload"]["task_token"] == "{% $states.context.Task.Token %}"


def test_the_durable_function_is_durable_for_the_approval_s_deadline_and_an_hour(
    orchestration: Template,
):
    orchestration.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": contract.DURABLE_HANDLER,
            "DurableConfig": {"ExecutionTimeout": 86_400 + 3600, "RetentionPeriodInDays": 14},
            "Environment": {
                "Variables": Match.object_like(
                    {
                        contract.ENV_APPROVAL_THRESHOLD_CENTS: "50000",
                        contract.ENV_APPROVAL_TIMEOUT_SECONDS: "86400",
                        contract.ENV_MAX_CONCURRENCY: "5",
                        contract.ENV_RETRY_MAX_ATTEMPTS: "4",
                    }
                )
            },
        },
    )


def test_the_durable_function_may_checkpoint_only_its_own_executions(dev_assembly: CloudAssembly):
    policies = resources_of_type(dev_assembly.templates[STACK], "AWS::IAM::Policy")
    [checkpoints] = [
        policy
        for logical_id, policy in policies.items()
        if logical_id.startswith("OrchestrationDurableCheckpoints")
    ]
    [statement] = checkpoints["Properties"]["PolicyDocument"]["Statement"]
    durable_arn = {"Fn::GetAtt": ["OrchestrationDurableFunction7BFC4116", "Arn"]}

    assert statement["Action"] == [
        "lambda:CheckpointDurableExecution",
        "lambda:GetDurableExecutionState",
    ]
    assert statement["Resource"] == [durable_arn, {"Fn::Join": ["", [durable_arn, ":*"]]}]
    [role] = checkpoints["Properties"]["Roles"]
    assert role["Ref"].startswith("OrchestrationDurableRole")


def test_the_api_starts_both_workflows_and_answers_their_approvals(dev_assembly: CloudAssembly):
    policies = resources_of_type(dev_assembly.templates[STACK], "AWS::IAM::Policy")
    api_statements = [
        statement
        for logical_id, policy in policies.items()
        if logical_id.startswith("OrchestrationApiRole")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {
        action
        for statement in api_statements
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }

    assert {
        "states:StartExecution",
        "states:SendTaskSuccess",
        "states:SendTaskFailure",
        "lambda:InvokeFunction",
        "lambda:SendDurableExecutionCallbackSuccess",
        "lambda:SendDurableExecutionCallbackFailure",
    } <= actions


def test_order_placed_events_reach_the_starter_with_retries_and_a_dead_letter_queue(
    orchestration: Template,
):
    orchestration.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": [contract.EVENT_SOURCE],
                "detail-type": [contract.EVENT_DETAIL_TYPE],
            },
            "EventBusName": {"Ref": Match.string_like_regexp("^OrchestrationBus")},
            "Targets": [
                Match.object_like(
                    {
                        "DeadLetterConfig": {
                            "Arn": {
                                "Fn::GetAtt": ["OrchestrationEventsDeadLetterQueue9387309D", "Arn"]
                            }
                        },
                        "RetryPolicy": {
                            "MaximumRetryAttempts": 8,
                            "MaximumEventAgeInSeconds": 21600,
                        },
                    }
                )
            ],
        },
    )
    orchestration.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {
                "OnFailure": {
                    "Destination": {
                        "Fn::GetAtt": ["OrchestrationEventsDeadLetterQueue9387309D", "Arn"]
                    }
                }
            },
        },
    )


def test_failed_timed_out_and_throttled_executions_raise_alarms_on_both_workflows(
    dev_assembly: CloudAssembly,
):
    alarms = resources_of_type(dev_assembly.templates[STACK], "AWS::CloudWatch::Alarm").values()
    watched = {
        (alarm["Properties"]["Namespace"], alarm["Properties"]["MetricName"])
        for alarm in alarms
        if "Namespace" in alarm["Properties"]
    }

    assert {
        ("AWS/States", "ExecutionsFailed"),
        ("AWS/States", "ExecutionsTimedOut"),
        ("AWS/States", "ExecutionThrottled"),
        ("AWS/Lambda", "DurableExecutionFailed"),
        ("AWS/Lambda", "DurableExecutionTimedOut"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/ApiGateway", "5xx"),
    } <= watched


def test_the_orchestration_context_object_sets_the_saga_s_threshold_deadline_and_map():
    from aws_cdk import App, Stack

    app = App()
    stack = Stack(app, "Custom")
    config = AppConfig(
        stage=Stage.DEV,
        orchestration=OrchestrationConfig(
            approval_threshold_cents=1000,
            approval_timeout_seconds=600,
            max_concurrency=2,
            retry_max_attempts=6,
        ),
    )
    Orchestration(
        stack, "Orchestration", config=config, alarms=AlarmTopic(stack, "A", config=config)
    )
    template = Template.from_stack(stack).to_json()

    states = _definition(template)["States"]
    assert states["ReserveStock"]["MaxConcurrency"] == 2
    assert states["RequestApproval"]["TimeoutSeconds"] == 600
    assert states["ChargePayment"]["Retry"][-1]["MaxAttempts"] == 5
    durable = next(
        function["Properties"]
        for function in resources_of_type(template, "AWS::Lambda::Function").values()
        if function["Properties"].get("Handler") == contract.DURABLE_HANDLER
    )
    assert durable["DurableConfig"]["ExecutionTimeout"] == 600 + 3600
    assert durable["Environment"]["Variables"][contract.ENV_APPROVAL_THRESHOLD_CENTS] == "1000"
