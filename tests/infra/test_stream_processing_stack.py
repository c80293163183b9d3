"""StreamProcessing template: the stream, the windowed source, least privilege, alarms, ids."""

from __future__ import annotations

from typing import Any

from stream_processing import contract
from tests.synth import CloudAssembly, resources_of_type

STACK = "StreamProcessing"
STREAM = "StreamProcessingStream5D834664"
TABLE = "StreamProcessingAggregatesTable4091FE76"
IDEMPOTENCY_TABLE = "StreamProcessingIdempotencyTableA867DD0E"
ON_FAILURE_QUEUE = "StreamProcessingSourceOnFailureQueueFB582D67"
ALERT_TOPIC = "StreamProcessingAlertTopic952D52FE"
STATEFUL_LOGICAL_IDS = {
    STREAM,
    TABLE,
    IDEMPOTENCY_TABLE,
    ALERT_TOPIC,
    ON_FAILURE_QUEUE,
    "StreamProcessingAlertsQueue57E848D8",
    "StreamProcessingAlertsDeadLetterQueueAE9600EA",
}


def _resources(dev_assembly: CloudAssembly) -> dict[str, dict[str, Any]]:
    return dev_assembly.templates[STACK]["Resources"]


def test_stateful_logical_ids_are_stable(dev_assembly: CloudAssembly):
    # Renaming one of these replaces the resource (losing its records, items or messages).
    stateful = {
        logical_id
        for logical_id, resource in _resources(dev_assembly).items()
        if resource["Type"] in {"AWS::Kinesis::Stream", "AWS::SQS::Queue", "AWS::DynamoDB::Table"}
        or (resource["Type"] == "AWS::SNS::Topic" and not logical_id.startswith("Alarms"))
    }
    assert stateful == STATEFUL_LOGICAL_IDS


def test_the_stream_is_on_demand_encrypted_and_keeps_a_day(dev_assembly: CloudAssembly):
    properties = _resources(dev_assembly)[STREAM]["Properties"]
    assert properties["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert properties["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}
    assert properties["RetentionPeriodHours"] == 24
    assert "ShardCount" not in properties


def test_the_aggregator_reads_in_tumbling_windows_with_every_safety_net(
    dev_assembly: CloudAssembly,
):
    (mapping,) = resources_of_type(
        dev_assembly.templates[STACK], "AWS::Lambda::EventSourceMapping"
    ).values()
    properties = mapping["Properties"]
    assert properties["EventSourceArn"] == {"Fn::GetAtt": [STREAM, "Arn"]}
    assert {
        name: properties[name]
        for name in (
            "TumblingWindowInSeconds",
            "ParallelizationFactor",
            "BisectBatchOnFunctionError",
            "FunctionResponseTypes",
            "MaximumRetryAttempts",
            "MaximumRecordAgeInSeconds",
            "BatchSize",
            "StartingPosition",
        )
    } == {
        "TumblingWindowInSeconds": 60,
        "ParallelizationFactor": 2,  # stream_processing.parallelization_factor's default
        "BisectBatchOnFunctionError": True,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "MaximumRetryAttempts": 5,
        "MaximumRecordAgeInSeconds": 3600,
        "BatchSize": 100,
        "StartingPosition": "TRIM_HORIZON",
    }
    assert properties["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [ON_FAILURE_QUEUE, "Arn"]}}
    }


def _function(dev_assembly: CloudAssembly, handler: str) -> dict[str, Any]:
    (function,) = (
        resource
        for resource in resources_of_type(
            dev_assembly.templates[STACK], "AWS::Lambda::Function"
        ).values()
        if resource["Properties"]["Handler"] == handler
    )
    return function


def test_the_functions_get_the_names_they_use_through_their_environment(
    dev_assembly: CloudAssembly,
):
    producer = _function(dev_assembly, contract.PRODUCER_HANDLER)
    aggregator = _function(dev_assembly, contract.AGGREGATOR_HANDLER)
    producer_variables = producer["Properties"]["Environment"]["Variables"]
    assert producer_variables[contract.ENV_STREAM_NAME] == {"Ref": STREAM}
    assert producer_variables[contract.ENV_IDEMPOTENCY_TABLE_NAME] == {"Ref": IDEMPOTENCY_TABLE}
    variables = aggregator["Properties"]["Environment"]["Variables"]
    assert variables[contract.ENV_AGGREGATES_TABLE_NAME] == {"Ref": TABLE}
    assert variables[contract.ENV_ALERT_TOPIC_ARN] == {"Ref": ALERT_TOPIC}
    assert variables[contract.ENV_REJECTED_RECORDS_QUEUE_URL] == {"Ref": ON_FAILURE_QUEUE}
    assert variables[contract.ENV_ALERT_THRESHOLD] == "100"


def _actions_by_resource(dev_assembly: CloudAssembly, role_prefix: str) -> dict[str, set[str]]:
    """Each resource a role's policy names (its logical id, or '*') -> the actions on it."""
    (policy,) = (
        resource
        for logical_id, resource in resources_of_type(
            dev_assembly.templates[STACK], "AWS::IAM::Policy"
        ).items()
        if logical_id.startswith(role_prefix)
    )
    granted: dict[str, set[str]] = {}
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        resources = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        for resource in resources:
            name = resource if isinstance(resource, str) else _logical_id_in(resource)
            granted.setdefault(name, set()).update(actions)
    return granted


def _logical_id_in(value: Any) -> str:
    if "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    if "Ref" in value:
        return value["Ref"]
    return _logical_id_in(value["Fn::Join"][1][1]) if "Fn::Join" in value else str(value)


def test_the_producer_may_only_write_the_stream_and_its_idempotency_records(
    dev_assembly: CloudAssembly,
):
    granted = _actions_by_resource(dev_assembly, "StreamProcessingProducerRole")
    stream_actions = granted.pop(STREAM)
    assert "kinesis:PutRecords" in stream_actions
    assert not any(
        action.startswith(("kinesis:Get", "kinesis:SubscribeToShard")) for action in stream_actions
    )
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"} <= granted.pop(
        IDEMPOTENCY_TABLE
    )
    # What remains is its own log group and X-Ray
    assert all(key.startswith(("StreamProcessingProducerLogGroup", "*")) for key in granted)


def test_the_aggregator_may_read_the_stream_write_its_table_alert_and_report_failures(
    dev_assembly: CloudAssembly,
):
    granted = _actions_by_resource(dev_assembly, "StreamProcessingAggregatorRole")
    assert "kinesis:GetRecords" in granted[STREAM]
    assert not any(action.startswith("kinesis:Put") for action in granted[STREAM])
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"} <= granted[TABLE]
    assert "sns:Publish" in granted[ALERT_TOPIC]
    assert "sqs:SendMessage" in granted[ON_FAILURE_QUEUE]
    assert set(granted) <= {
        STREAM,
        TABLE,
        ALERT_TOPIC,
        ON_FAILURE_QUEUE,
        "StreamProcessingAlertTopicKeyD0799997",
        "StreamProcessingAggregatorLogGroup7471B4E4",
        "*",
    }


def test_iterator_age_the_on_failure_queue_and_readings_not_put_raise_alarms(
    dev_assembly: CloudAssembly,
):
    alarms = resources_of_type(dev_assembly.templates[STACK], "AWS::CloudWatch::Alarm")
    by_metric = {}
    for alarm in alarms.values():
        properties = alarm["Properties"]
        by_metric.setdefault(properties["MetricName"], []).append(properties)
        assert properties["AlarmActions"] == [{"Ref": "AlarmsTopic3A2DFEBA"}]
    (iterator_age,) = by_metric["IteratorAge"]
    assert (iterator_age["Statistic"], iterator_age["Threshold"]) == ("Maximum", 60_000)
    depth = by_metric["ApproximateNumberOfMessagesVisible"]
    assert {"Name": "QueueName", "Value": {"Fn::GetAtt": [ON_FAILURE_QUEUE, "QueueName"]}} in [
        dimension for alarm in depth for dimension in alarm["Dimensions"]
    ]
    (not_put,) = by_metric[contract.READINGS_NOT_PUT_METRIC]
    assert not_put["Dimensions"] == [{"Name": "service", "Value": contract.PRODUCER_SERVICE_NAME}]


def test_the_alerts_queue_takes_the_alert_topic_s_messages_raw(dev_assembly: CloudAssembly):
    (subscription,) = resources_of_type(
        dev_assembly.templates[STACK], "AWS::SNS::Subscription"
    ).values()
    assert subscription["Properties"]["TopicArn"] == {"Ref": ALERT_TOPIC}
    assert subscription["Properties"]["RawMessageDelivery"] is True
