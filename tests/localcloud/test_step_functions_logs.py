"""Step Functions execution logs on localcloud: a machine's LoggingConfiguration sends its
executions' history events, at its level, to its log group."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcloud.testing import App, get_att, ref
from tests.localcloud.sfn_apps import run

PASS_THEN_CHOICE = {
    "StartAt": "Echo",
    "States": {
        "Echo": {"Type": "Pass", "Next": "Check"},
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Refuse"}],
            "Default": "Done",
        },
        "Refuse": {"Type": "Fail", "Error": "Refused", "Cause": "asked to fail"},
        "Done": {"Type": "Succeed"},
    },
}


def _logged_machine(level: str, *, include_execution_data: bool) -> App:
    app = App()
    app.add("MachineRole", "AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": []}})
    app.add("MachineLogs", "AWS::Logs::LogGroup", {"LogGroupName": "/shop/machine"})
    app.add(
        "Machine",
        "AWS::StepFunctions::StateMachine",
        {
            "RoleArn": get_att("MachineRole"),
            "Definition": PASS_THEN_CHOICE,
            "LoggingConfiguration": {
                "Level": level,
                "IncludeExecutionData": include_execution_data,
                "Destinations": [
                    {"CloudWatchLogsLogGroup": {"LogGroupArn": get_att("MachineLogs")}}
                ],
            },
        },
    )
    app.output("MachineArn", ref("Machine"))
    return app


def _records(cloud: Any) -> list[dict[str, Any]]:
    events = cloud.client("logs").filter_log_events(logGroupName="/shop/machine")["events"]
    return [json.loads(event["message"]) for event in events]


def test_level_all_logs_every_history_event_of_an_execution(launch):
    cloud = launch(_logged_machine("ALL", include_execution_data=False))

    execution = run(cloud, cloud.outputs("Stack")["MachineArn"], {"fail": False})

    records = _records(cloud)
    assert [record["type"] for record in records] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    assert {record["execution_arn"] for record in records} == {execution["executionArn"]}
    assert all(record["event_timestamp"].isdigit() for record in records)
    # Without IncludeExecutionData, no input or output is logged
    assert not any("input" in record.get("details", {}) for record in records)
    assert not any("output" in record.get("details", {}) for record in records)


@pytest.mark.parametrize(
    ("level", "logged"),
    [("ERROR", ["FailStateEntered", "ExecutionFailed"]), ("FATAL", ["ExecutionFailed"])],
)
def test_level_error_or_fatal_logs_only_the_failure(launch, level, logged):
    cloud = launch(_logged_machine(level, include_execution_data=True))
    machine = cloud.outputs("Stack")["MachineArn"]

    run(cloud, machine, {"fail": False})
    run(cloud, machine, {"fail": True})

    records = _records(cloud)
    assert [record["type"] for record in records] == logged
    assert records[-1]["details"] == {"error": "Refused", "cause": "asked to fail"}
