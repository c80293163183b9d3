"""Every stack keeps the project's secure defaults: checked on each synthesized template."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from infra import registry
from infra.constructs import POWERTOOLS_VERSION
from tests.synth import CloudAssembly, resources_of_type

STACK_NAMES = [pattern.stack_name for pattern in registry.deployable()]
#: Actions without resource-level permissions, the only ones allowed on a "*" resource: X-Ray's;
#: the log delivery a state machine's execution logs need (Step Functions' documented policy
#: for logging to CloudWatch Logs), which CDK grants to a machine's role; and DynamoDB's
#: ListStreams, which a table-stream reader needs (its GetRecords and GetShardIterator are on
#: the one stream).
ACTIONS_WITHOUT_RESOURCES = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "dynamodb:ListStreams",
}
#: Actions without resource-level permissions that a condition must then narrow: Cloud Map's
#: DiscoverInstances, to one namespace and the services a caller calls.
CONDITIONED_ACTIONS_WITHOUT_RESOURCES = {
    "servicediscovery:DiscoverInstances": {
        "servicediscovery:NamespaceName",
        "servicediscovery:ServiceName",
    }
}


def _as_list(value):
    return value if isinstance(value, list) else [value]


@pytest.fixture(params=STACK_NAMES)
def template(request: pytest.FixtureRequest, dev_assembly: CloudAssembly) -> dict:
    return dev_assembly.templates[request.param]


def test_every_function_runs_python_313_on_arm64_with_tracing_and_json_logs(template: dict):
    functions = resources_of_type(template, "AWS::Lambda::Function")
    assert functions, "each stack deploys at least one function"
    log_groups = resources_of_type(template, "AWS::Logs::LogGroup")
    for logical_id, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.13", logical_id
        assert props["Architectures"] == ["arm64"], logical_id
        assert props["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert props["LoggingConfig"]["LogFormat"] == "JSON", logical_id
        assert props["LoggingConfig"]["LogGroup"]["Ref"] in log_groups, logical_id
        assert props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"], logical_id


def test_every_function_uses_the_public_powertools_layer_of_the_pinned_release(template: dict):
    parameters = template["Parameters"]
    own_layers = resources_of_type(template, "AWS::Lambda::LayerVersion")
    for logical_id, function in resources_of_type(template, "AWS::Lambda::Function").items():
        # Powertools' layer, and besides it only layers the stack builds itself (the ETL's
        # pyiceberg and pyarrow), never another public one.
        layers = function["Properties"]["Layers"]
        (layer,) = [layer for layer in layers if layer["Ref"] not in own_layers]
        parameter = parameters[layer["Ref"]]
        assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>", logical_id
        assert parameter["Default"] == (
            f"/aws/service/powertools/python/arm64/python3.13/{POWERTOOLS_VERSION}"
        ), logical_id


def test_powertools_layer_and_local_dependency_are_the_same_release():
    pyproject = tomllib.loads(Path("pyproject.toml").read_text())
    pins = [dep for dep in pyproject["dependency-groups"]["functions"] if "powertools" in dep]
    assert pins == [f"aws-lambda-powertools[tracer,jwt]=={POWERTOOLS_VERSION}"]


def test_every_function_has_its_own_role_without_managed_policies(template: dict):
    functions = resources_of_type(template, "AWS::Lambda::Function")
    roles = [function["Properties"]["Role"]["Fn::GetAtt"][0] for function in functions.values()]
    assert len(set(roles)) == len(roles), "functions must not share a role"
    for logical_id, role in resources_of_type(template, "AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], logical_id


def test_no_statement_grants_a_wildcard_resource_except_xray(template: dict):
    for logical_id, policy in resources_of_type(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "*" in _as_list(statement["Resource"]):
                actions = set(_as_list(statement["Action"]))
                if actions <= set(CONDITIONED_ACTIONS_WITHOUT_RESOURCES):
                    narrowed = set(statement.get("Condition", {}).get("StringEquals", {}))
                    for action in actions:
                        assert CONDITIONED_ACTIONS_WITHOUT_RESOURCES[action] <= narrowed, (
                            logical_id,
                            statement,
                        )
                    continue
                assert actions <= ACTIONS_WITHOUT_RESOURCES, (
                    logical_id,
                    statement,
                )


def test_every_function_has_an_errors_alarm(template: dict):
    alarmed = {
        dim["Value"]["Ref"]
        for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "Errors"
        for dim in alarm["Properties"]["Dimensions"]
        if dim["Name"] == "FunctionName"
    }
    assert alarmed == set(resources_of_type(template, "AWS::Lambda::Function"))


def test_every_alarm_notifies_the_stacks_alarm_topic(template: dict):
    topics = resources_of_type(template, "AWS::SNS::Topic")
    alarm_topics = [logical_id for logical_id in topics if logical_id.startswith("AlarmsTopic")]
    assert len(alarm_topics) == 1
    for logical_id, alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").items():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": alarm_topics[0]}], logical_id
        assert props["TreatMissingData"] == "notBreaching", logical_id


def test_every_log_group_has_explicit_retention(template: dict):
    for logical_id, log_group in resources_of_type(template, "AWS::Logs::LogGroup").items():
        assert log_group["Properties"]["RetentionInDays"] == 7, logical_id


def _dead_letter_queue_ids(template: dict) -> set[str]:
    """Logical ids of the queues some other queue's redrive policy targets, of the queues an
    event source mapping or an asynchronous invocation sends what it gives up on (its
    on-failure destination), of the queues an EventBridge target sends what it could not
    deliver to, and of the dead-letter queues of EventBridge Pipes' stream sources."""
    redrive_targets = {
        queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for queue in resources_of_type(template, "AWS::SQS::Queue").values()
        if "RedrivePolicy" in queue["Properties"]
    }
    on_failure_destinations = {
        destination["Fn::GetAtt"][0]
        for mapping in resources_of_type(template, "AWS::Lambda::EventSourceMapping").values()
        if (
            destination := mapping["Properties"]
            .get("DestinationConfig", {})
            .get("OnFailure", {})
            .get("Destination")
        )
    }
    async_failure_destinations = {
        destination["Fn::GetAtt"][0]
        for config in resources_of_type(template, "AWS::Lambda::EventInvokeConfig").values()
        if (
            destination := config["Properties"]
            .get("DestinationConfig", {})
            .get("OnFailure", {})
            .get("Destination")
        )
    }
    rule_dead_letter_queues = {
        target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        for rule in resources_of_type(template, "AWS::Events::Rule").values()
        for target in rule["Properties"].get("Targets", [])
        if "DeadLetterConfig" in target
    }
    pipe_dead_letter_queues = {
        arn["Fn::GetAtt"][0]
        for pipe in resources_of_type(template, "AWS::Pipes::Pipe").values()
        for source in pipe["Properties"].get("SourceParameters", {}).values()
        if isinstance(source, dict) and (arn := source.get("DeadLetterConfig", {}).get("Arn"))
    }
    return (
        redrive_targets
        | on_failure_destinations
        | async_failure_destinations
        | rule_dead_letter_queues
        | pipe_dead_letter_queues
    )


def test_every_queue_is_encrypted_and_has_a_dlq_or_is_one(template: dict):
    queues = resources_of_type(template, "AWS::SQS::Queue")
    dead_letter_queues = _dead_letter_queue_ids(template)
    for logical_id, queue in queues.items():
        props = queue["Properties"]
        assert props["SqsManagedSseEnabled"] is True, logical_id
        assert "RedrivePolicy" in props or logical_id in dead_letter_queues, logical_id


def test_every_dead_letter_queue_raises_an_alarm(template: dict):
    watched = {
        dim["Value"]["Fn::GetAtt"][0]
        for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        for dim in alarm["Properties"]["Dimensions"]
    }
    assert watched == _dead_letter_queue_ids(template)


def _denies_insecure_transport(policy_document: dict) -> bool:
    return any(
        statement["Effect"] == "Deny"
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for statement in policy_document["Statement"]
    )


def test_every_queue_and_topic_accepts_only_tls(template: dict):
    protected: set[str] = set()
    for policy in resources_of_type(template, "AWS::SQS::QueuePolicy").values():
        if _denies_insecure_transport(policy["Properties"]["PolicyDocument"]):
            protected |= {queue["Ref"] for queue in policy["Properties"]["Queues"]}
    for policy in resources_of_type(template, "AWS::SNS::TopicPolicy").values():
        if _denies_insecure_transport(policy["Properties"]["PolicyDocument"]):
            protected |= {topic["Ref"] for topic in policy["Properties"]["Topics"]}
    expected = set(resources_of_type(template, "AWS::SQS::Queue")) | set(
        resources_of_type(template, "AWS::SNS::Topic")
    )
    assert protected == expected


def test_every_topic_is_encrypted_with_a_rotated_customer_key(template: dict):
    keys = resources_of_type(template, "AWS::KMS::Key")
    for logical_id, topic in resources_of_type(template, "AWS::SNS::Topic").items():
        key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
        assert keys[key_id]["Properties"]["EnableKeyRotation"] is True, logical_id


def test_every_sqs_event_source_reports_batch_item_failures(template: dict):
    for logical_id, mapping in resources_of_type(
        template, "AWS::Lambda::EventSourceMapping"
    ).items():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"], (
            logical_id
        )


def test_every_table_is_on_demand_encrypted_and_recoverable(template: dict):
    for logical_id, table in resources_of_type(template, "AWS::DynamoDB::Table").items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", logical_id
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, (
            logical_id
        )
        assert props["SSESpecification"] == {"SSEEnabled": True}, logical_id
        # dev: deleted with the stack, and not protected, so `cdk destroy` leaves nothing.
        assert table["DeletionPolicy"] == "Delete", logical_id
        assert props.get("DeletionProtectionEnabled", False) is False, logical_id


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_prod_keeps_stateful_resources_and_logs_for_a_year(
    prod_assembly: CloudAssembly, stack_name: str
):
    template = prod_assembly.templates[stack_name]
    for logical_id, table in resources_of_type(template, "AWS::DynamoDB::Table").items():
        assert table["DeletionPolicy"] == "Retain", logical_id
        assert table["Properties"]["DeletionProtectionEnabled"] is True, logical_id
    for logical_id, queue in resources_of_type(template, "AWS::SQS::Queue").items():
        assert queue["DeletionPolicy"] == "Retain", logical_id
    for logical_id, log_group in resources_of_type(template, "AWS::Logs::LogGroup").items():
        assert log_group["Properties"]["RetentionInDays"] == 365, logical_id
        assert log_group["DeletionPolicy"] == "Retain", logical_id


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_each_function_asset_holds_only_its_pattern_and_the_shared_code(
    dev_assembly: CloudAssembly, stack_name: str
):
    template = dev_assembly.templates[stack_name]
    assets = json.loads((dev_assembly.outdir / f"{stack_name}.assets.json").read_text())["files"]
    for logical_id, function in resources_of_type(template, "AWS::Lambda::Function").items():
        pattern = function["Properties"]["Handler"].split(".")[0]
        asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
        asset_dir = dev_assembly.outdir / assets[asset_hash]["source"]["path"]
        assert {entry.name for entry in asset_dir.iterdir()} == {pattern, "shared"}, logical_id
        assert not list(asset_dir.rglob("__pycache__")), logical_id
