"""ETL template: the data bucket's defaults, the JSONata state machine with its Distributed Map,
retries and failure path, the two triggers, the layer, and least privilege."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from etl import contract
from infra.constructs.dependency_layer import LAMBDA_UNZIPPED_LIMIT_BYTES, build_layer
from infra.patterns.etl import LAYER_GROUP
from tests.synth import CloudAssembly, resources_of_type

STATEFUL_LOGICAL_IDS = {
    "EtlDataBucketAC3F5967",
    "EtlDataAccessLogs551C127F",
    "EtlDatabase7BA0B1AC",
    "EtlTriggerDeadLetterQueueFE8B6F81",
}


@pytest.fixture(scope="module")
def etl(dev_assembly: CloudAssembly) -> Template:
    return dev_assembly.template("Etl")


def _resources(dev_assembly: CloudAssembly) -> dict[str, Any]:
    return dev_assembly.templates["Etl"]["Resources"]


def _definition(dev_assembly: CloudAssembly) -> dict[str, Any]:
    (machine,) = resources_of_type(
        dev_assembly.templates["Etl"], "AWS::StepFunctions::StateMachine"
    ).values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else "ARN" for part in parts))


def test_stateful_logical_ids_are_stable(dev_assembly: CloudAssembly):
    # Renaming one of these replaces the resource (losing the table's files or the catalog).
    stateful = {
        logical_id
        for logical_id, resource in _resources(dev_assembly).items()
        if resource["Type"] in {"AWS::S3::Bucket", "AWS::Glue::Database", "AWS::SQS::Queue"}
    }
    assert stateful == STATEFUL_LOGICAL_IDS


def test_the_data_bucket_is_private_encrypted_tls_only_logged_and_tells_eventbridge(etl: Template):
    etl.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LoggingConfiguration": {"DestinationBucketName": {"Ref": "EtlDataAccessLogs551C127F"}},
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [Match.object_like({"Prefix": "quarantine/", "ExpirationInDays": 30})]
                )
            },
        },
    )
    for bucket in ("EtlDataBucketAC3F5967", "EtlDataAccessLogs551C127F"):
        etl.has_resource_properties(
            "AWS::S3::BucketPolicy",
            {
                "Bucket": {"Ref": bucket},
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                },
            },
        )


def test_a_run_transforms_each_landed_file_in_a_distributed_map_then_loads(
    dev_assembly: CloudAssembly,
):
    definition = _definition(dev_assembly)
    assert definition["QueryLanguage"] == "JSONata"
    assert definition["StartAt"] == "Start run"
    start = definition["States"]["Start run"]
    assert "$states.input.detail.object.key" in start["Assign"]["prefix"]
    assert f"'{contract.LANDING_PREFIX}'" in start["Assign"]["prefix"]
    each = definition["States"][start["Next"]]
    assert each["Type"] == "Map"
    assert each["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }
    assert each["ItemReader"]["Resource"].endswith(":states:::s3:listObjectsV2")
    assert each["ItemReader"]["Arguments"]["Prefix"] == "{% $prefix %}"
    # the run id travels in each item: child executions cannot read the parent's variables
    assert each["ItemSelector"]["run_id"] == "{% $runId %}"
    assert each["MaxConcurrency"] == 10
    transform = each["ItemProcessor"]["States"]["Transform file"]
    (retry,) = transform["Retry"]
    assert "SourceUnavailableError" in retry["ErrorEquals"]
    assert (retry["MaxAttempts"], retry["BackoffRate"], retry["JitterStrategy"]) == (3, 2, "FULL")
    load = definition["States"][each["Next"]]
    (load_retry,) = load["Retry"]
    assert {"CommitConflictError", "SourceUnavailableError"} <= set(load_retry["ErrorEquals"])
    # the failure path: both steps caught, the run failing with its own error and the cause
    for state in (each, load):
        assert state["Catch"] == [{"ErrorEquals": ["States.ALL"], "Next": "Run failed"}]
    assert definition["States"]["Run failed"]["Type"] == "Fail"
    assert definition["States"]["Run failed"]["Error"] == "EtlRunFailed"


def test_the_state_machine_logs_everything_traces_and_times_out(etl: Template):
    etl.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "LoggingConfiguration": {"Level": "ALL", "IncludeExecutionData": True},
            "TracingConfiguration": {"Enabled": True},
        },
    )


def test_runs_start_on_each_landed_file_and_on_the_schedule_with_a_dead_letter_queue(
    etl: Template,
):
    target = Match.object_like(
        {
            "Arn": {"Ref": "EtlRunsCD504ADE"},
            "DeadLetterConfig": {
                "Arn": {"Fn::GetAtt": ["EtlTriggerDeadLetterQueueFE8B6F81", "Arn"]}
            },
            "RetryPolicy": {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 7200},
        }
    )
    etl.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": [{"Ref": "EtlDataBucketAC3F5967"}]},
                    "object": {"key": [{"prefix": contract.LANDING_PREFIX}]},
                },
            },
            "Targets": [target],
        },
    )
    etl.has_resource_properties(
        "AWS::Events::Rule", {"ScheduleExpression": "rate(1 hour)", "Targets": [target]}
    )


def test_failed_timed_out_and_aborted_runs_raise_alarms(etl: Template):
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
        etl.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "MetricName": metric,
                "Namespace": "AWS/States",
                "Dimensions": [{"Name": "StateMachineArn", "Value": {"Ref": "EtlRunsCD504ADE"}}],
            },
        )


def test_only_the_load_function_gets_the_pyiceberg_layer_which_fits_lambda(
    dev_assembly: CloudAssembly,
):
    functions = resources_of_type(dev_assembly.templates["Etl"], "AWS::Lambda::Function")
    own_layers = resources_of_type(dev_assembly.templates["Etl"], "AWS::Lambda::LayerVersion")
    layers = {
        function["Properties"]["Handler"]: [
            layer for layer in function["Properties"]["Layers"] if layer["Ref"] in own_layers
        ]
        for function in functions.values()
    }
    assert layers == {
        contract.LOAD_HANDLER: [{"Ref": "EtlDependenciesLayer17D4B7BB"}],
        contract.TRANSFORM_HANDLER: [],
    }
    built = build_layer(LAYER_GROUP)  # from the cache the synth filled: no download
    assert built.unzipped_bytes < LAMBDA_UNZIPPED_LIMIT_BYTES


def _statements(dev_assembly: CloudAssembly, handler: str) -> list[dict[str, Any]]:
    resources = _resources(dev_assembly)
    (function,) = (
        r
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == handler
    )
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def _object_grants(statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Action -> the bucket prefixes it is granted on."""
    grants: dict[str, set[str]] = {}
    for statement in statements:
        resources = statement["Resource"]
        for resource in resources if isinstance(resources, list) else [resources]:
            if isinstance(resource, dict) and "Fn::Join" in resource:
                suffix = resource["Fn::Join"][1][-1]
                actions = statement["Action"]
                for action in actions if isinstance(actions, list) else [actions]:
                    if action.startswith("s3:"):
                        grants.setdefault(action, set()).add(suffix)
    return grants


def test_the_transform_reads_landed_files_and_writes_only_staging_and_quarantine(
    dev_assembly: CloudAssembly,
):
    assert _object_grants(_statements(dev_assembly, contract.TRANSFORM_HANDLER)) == {
        "s3:GetObject": {"/landing/*"},
        "s3:PutObject": {"/staging/*", "/quarantine/*"},
    }


def test_the_load_writes_the_warehouse_and_only_its_glue_table(dev_assembly: CloudAssembly):
    statements = _statements(dev_assembly, contract.LOAD_HANDLER)
    assert _object_grants(statements) == {
        "s3:GetObject": {"/staging/*", "/landing/*", "/warehouse/*"},
        "s3:PutObject": {"/quarantine/*", "/archive/*", "/warehouse/*"},
        "s3:DeleteObject": {"/landing/*", "/warehouse/*"},
    }
    (glue,) = [s for s in statements if "glue:UpdateTable" in s["Action"]]
    assert sorted(glue["Action"]) == [
        "glue:CreateTable",
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:UpdateTable",
    ]
    table_arn = "".join(
        part if isinstance(part, str) else "" for part in glue["Resource"][2]["Fn::Join"][1]
    )
    assert table_arn.endswith(":table/etl_lake/orders")


def test_the_landing_rule_takes_s3_s_object_created_event_for_landed_files_only(
    dev_assembly: CloudAssembly,
):
    from localcloud.rules.event_patterns import pattern_matches
    from tests.samples import load_event

    (rule,) = [
        r
        for r in resources_of_type(dev_assembly.templates["Etl"], "AWS::Events::Rule").values()
        if "EventPattern" in r["Properties"]
    ]
    pattern = json.loads(json.dumps(rule["Properties"]["EventPattern"]))
    event = load_event("etl", "s3_object_created.json")
    # the bucket's generated name stands where the template refers to the bucket
    pattern["detail"]["bucket"]["name"] = [event["detail"]["bucket"]["name"]]

    assert pattern_matches(pattern, event)
    archived = {**event, "detail": {**event["detail"], "object": {"key": "archive/run/a.csv"}}}
    assert not pattern_matches(pattern, archived)
    assert not pattern_matches(pattern, {**event, "detail-type": "Object Deleted"})
    assert not pattern_matches(pattern, load_event("etl", "scheduled_event.json"))
