"""The join constructs on tiny stacks: each one's defaults, its overrides, and a clean cdk-nag."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Duration, Validations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Capture, Match
from cdk_nag import AwsSolutionsChecks

from infra.config import AppConfig
from infra.constructs import (
    DeadLetterQueue,
    EncryptedTopic,
    QueueSubscription,
    QueueToFunction,
    StageLogGroup,
    StreamToFunction,
    Table,
    TableStreamToFunction,
    TopicToQueues,
)
from tests.infra.tiny_stack import DEV, PROD, Tiny


def _logical_id(tiny: Tiny, construct: Any) -> str:
    return tiny.stack.get_logical_id(construct.node.default_child)


# --- EncryptedTopic, StageLogGroup, DeadLetterQueue ----------------------------------------


def test_encrypted_topic_gets_its_own_rotated_key_beside_it_and_refuses_plain_http():
    tiny = Tiny()
    topic = EncryptedTopic(tiny.stack, "Events", config=DEV, key_description="Encrypts events")
    template = tiny.template()

    key_id = _logical_id(tiny, topic.key)
    assert key_id.startswith("EventsKey")
    template.has_resource(
        "AWS::KMS::Key",
        {
            "Properties": Match.object_like(
                {"Description": "Encrypts events", "EnableKeyRotation": True}
            ),
            "DeletionPolicy": "Delete",
        },
    )
    template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    )
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
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
            }
        },
    )


def test_encrypted_topic_uses_a_key_it_is_given_and_keeps_prod_keys():
    tiny = Tiny(PROD)
    key = kms.Key(tiny.stack, "SharedKey", enable_key_rotation=True)
    topic = EncryptedTopic(tiny.stack, "Events", config=PROD, key=key)
    template = tiny.template()

    assert topic.key is key
    template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [_logical_id(tiny, key), "Arn"]}}
    )
    # The alarm topic's own key and the given one: no key was made for the topic.
    assert set(template.find_resources("AWS::KMS::Key")) == {
        _logical_id(tiny, key),
        _logical_id(tiny, tiny.alarms.key),
    }


@pytest.mark.parametrize(("config", "days", "policy"), [(DEV, 7, "Delete"), (PROD, 365, "Retain")])
def test_stage_log_group_keeps_logs_for_the_stage(config: AppConfig, days: int, policy: str):
    tiny = Tiny(config)
    StageLogGroup(tiny.stack, "Logs", config=config)

    tiny.template().has_resource(
        "AWS::Logs::LogGroup",
        {"Properties": {"RetentionInDays": days}, "DeletionPolicy": policy},
    )


def test_stage_log_group_retention_can_be_overridden():
    tiny = Tiny()
    StageLogGroup(tiny.stack, "Logs", config=DEV, retention=logs.RetentionDays.ONE_MONTH)

    tiny.template().has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


def test_dead_letter_queue_is_encrypted_tls_only_and_kept_14_days():
    tiny = Tiny()
    DeadLetterQueue(tiny.stack, "Failures", config=DEV)
    template = tiny.template()

    template.has_resource_properties(
        "AWS::SQS::Queue", {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 1209600}
    )
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                    )
                ]
            }
        },
    )


# --- QueueToFunction ----------------------------------------------------------------------


def test_queue_to_function_defaults():
    tiny = Tiny()
    join = QueueToFunction(
        tiny.stack, "Inbox", config=DEV, alarms=tiny.alarms, function=tiny.function(timeout=20)
    )
    template = tiny.template()
    queue_id, dlq_id = _logical_id(tiny, join.queue), _logical_id(tiny, join.dead_letter_queue)

    # Six times the function's 20 s timeout.
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "VisibilityTimeout": 120,
            "SqsManagedSseEnabled": True,
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                "maxReceiveCount": 5,
            },
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [queue_id, "Arn"]},
            "FunctionName": {"Ref": _logical_id(tiny, join.function)},
            "BatchSize": 10,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "MaximumBatchingWindowInSeconds": Match.absent(),
            "ScalingConfig": Match.absent(),
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}],
            "Threshold": 1,
            "AlarmActions": [{"Ref": _logical_id(tiny, tiny.alarms.topic)}],
        },
    )


def test_queue_to_function_overrides_and_the_window_lengthens_the_visibility_timeout():
    tiny = Tiny()
    QueueToFunction(
        tiny.stack,
        "Inbox",
        config=DEV,
        alarms=tiny.alarms,
        function=tiny.function(timeout=20),
        batch_size=50,
        max_batching_window=Duration.seconds(5),
        max_receive_count=3,
        max_concurrency=4,
    )
    template = tiny.template()

    template.has_resource_properties(
        "AWS::SQS::Queue",
        {"VisibilityTimeout": 125, "RedrivePolicy": Match.object_like({"maxReceiveCount": 3})},
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 50,
            "MaximumBatchingWindowInSeconds": 5,
            "ScalingConfig": {"MaximumConcurrency": 4},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )


def test_queue_to_function_keeps_provisioned_pollers_ready_when_asked():
    # Provisioned mode replaces MaximumConcurrency: Lambda (and CDK) refuse both at once.
    tiny = Tiny()
    QueueToFunction(
        tiny.stack,
        "Inbox",
        config=DEV,
        alarms=tiny.alarms,
        function=tiny.function(),
        batch_size=1000,
        max_batching_window=Duration.seconds(5),
        provisioned_pollers=(2, 20),
    )

    tiny.template().has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 1000,
            "ProvisionedPollerConfig": {"MinimumPollers": 2, "MaximumPollers": 20},
            "ScalingConfig": Match.absent(),
        },
    )


def test_queue_to_function_lets_the_function_consume_only_its_queue():
    tiny = Tiny()
    join = QueueToFunction(
        tiny.stack, "Inbox", config=DEV, alarms=tiny.alarms, function=tiny.function()
    )
    statements = Capture()
    tiny.template().has_resource_properties(
        "AWS::IAM::Policy", {"PolicyDocument": {"Statement": statements}}
    )
    sqs_resources = [
        statement["Resource"]
        for statement in statements.as_array()
        if any(action.startswith("sqs:") for action in statement["Action"])
    ]
    assert sqs_resources == [{"Fn::GetAtt": [_logical_id(tiny, join.queue), "Arn"]}]


# --- TopicToQueues ------------------------------------------------------------------------


def test_topic_to_queues_subscribes_each_queue_with_its_filter_and_delivery():
    tiny = Tiny()
    topic = EncryptedTopic(tiny.stack, "Events", config=DEV)
    everything = DeadLetterQueue(tiny.stack, "Everything", config=DEV)
    placed = DeadLetterQueue(tiny.stack, "Placed", config=DEV)
    large = DeadLetterQueue(tiny.stack, "Large", config=DEV)
    undeliverable = DeadLetterQueue(tiny.stack, "Undeliverable", config=DEV)
    join = TopicToQueues(
        tiny.stack,
        "FanOut",
        topic=topic,
        queues={
            "everything": QueueSubscription(queue=everything, dead_letter_queue=undeliverable),
            "placed": QueueSubscription(
                queue=placed,
                attribute_filter={
                    "event_type": sns.SubscriptionFilter.string_filter(allowlist=["placed"])
                },
                raw_message_delivery=True,
            ),
            "large": QueueSubscription(
                queue=large,
                body_filter={
                    "amount": sns.FilterOrPolicy.filter(
                        sns.SubscriptionFilter.numeric_filter(greater_than=100)
                    )
                },
            ),
        },
    )
    template = tiny.template()

    def subscription(queue: Any) -> dict[str, Any]:
        (found,) = [
            resource["Properties"]
            for resource in template.find_resources("AWS::SNS::Subscription").values()
            if resource["Properties"]["Endpoint"]
            == {"Fn::GetAtt": [_logical_id(tiny, queue), "Arn"]}
        ]
        return found

    assert set(join.subscriptions) == {"everything", "placed", "large"}
    assert "FilterPolicy" not in subscription(everything)
    assert subscription(everything)["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [_logical_id(tiny, undeliverable), "Arn"]}
    }
    assert subscription(placed)["FilterPolicy"] == {"event_type": ["placed"]}
    assert subscription(placed)["RawMessageDelivery"] is True
    assert subscription(large)["FilterPolicyScope"] == "MessageBody"
    assert subscription(large)["FilterPolicy"] == {"amount": [{"numeric": [">", 100]}]}
    # Only the topic may send to a queue.
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": _logical_id(tiny, placed)}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "sqs:SendMessage",
                                "Principal": {"Service": "sns.amazonaws.com"},
                                "Condition": {
                                    "ArnEquals": {
                                        "aws:SourceArn": {"Ref": _logical_id(tiny, topic)}
                                    }
                                },
                            }
                        )
                    ]
                )
            },
        },
    )


def test_a_queue_subscription_filters_on_attributes_or_the_body_not_both():
    tiny = Tiny()
    with pytest.raises(ValueError, match="not both"):
        QueueSubscription(
            queue=DeadLetterQueue(tiny.stack, "Queue", config=DEV),
            attribute_filter={"a": sns.SubscriptionFilter.exists_filter()},
            body_filter={"b": sns.FilterOrPolicy.filter(sns.SubscriptionFilter.exists_filter())},
        )


# --- StreamToFunction and TableStreamToFunction ------------------------------------------

STREAM_DEFAULTS = {
    "StartingPosition": "TRIM_HORIZON",
    "BatchSize": 100,
    "BisectBatchOnFunctionError": True,
    "MaximumRetryAttempts": 3,
    "MaximumRecordAgeInSeconds": 3600,
    "ParallelizationFactor": 1,
    "FunctionResponseTypes": ["ReportBatchItemFailures"],
    "TumblingWindowInSeconds": Match.absent(),
    "MaximumBatchingWindowInSeconds": Match.absent(),
}


def _stream_join(tiny: Tiny, kind: str, **options: Any) -> StreamToFunction | TableStreamToFunction:
    if kind == "kinesis":
        return StreamToFunction(
            tiny.stack,
            "Readings",
            config=DEV,
            alarms=tiny.alarms,
            stream=tiny.kinesis_stream(),
            function=tiny.function(),
            **options,
        )
    return TableStreamToFunction(
        tiny.stack,
        "Changes",
        config=DEV,
        alarms=tiny.alarms,
        table=tiny.streamed_table(),
        function=tiny.function(),
        **options,
    )


def _source_arn(tiny: Tiny, join: Any) -> dict[str, Any]:
    if isinstance(join, StreamToFunction):
        return {"Fn::GetAtt": [_logical_id(tiny, join.stream), "Arn"]}
    return {"Fn::GetAtt": [_logical_id(tiny, join.table), "StreamArn"]}


@pytest.mark.parametrize("kind", ["kinesis", "table"])
def test_stream_join_defaults(kind: str):
    tiny = Tiny()
    join = _stream_join(tiny, kind)
    template = tiny.template()
    dlq_id = _logical_id(tiny, join.dead_letter_queue)

    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            **STREAM_DEFAULTS,
            "EventSourceArn": _source_arn(tiny, join),
            "FunctionName": {"Ref": _logical_id(tiny, join.function)},
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [dlq_id, "Arn"]}}},
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue", {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 1209600}
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}],
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "IteratorAge",
            "Namespace": "AWS/Lambda",
            "Statistic": "Maximum",
            "Threshold": 60_000,
            "Dimensions": [
                {"Name": "FunctionName", "Value": {"Ref": _logical_id(tiny, join.function)}}
            ],
        },
    )


@pytest.mark.parametrize("kind", ["kinesis", "table"])
def test_stream_join_overrides(kind: str):
    tiny = Tiny()
    _stream_join(
        tiny,
        kind,
        starting_position=lambda_.StartingPosition.LATEST,
        batch_size=500,
        max_batching_window=Duration.seconds(2),
        retry_attempts=10,
        max_record_age=Duration.minutes(5),
        parallelization_factor=4,
        tumbling_window=Duration.minutes(1),
        iterator_age_alarm_threshold=Duration.minutes(5),
    )
    template = tiny.template()

    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "StartingPosition": "LATEST",
            "BatchSize": 500,
            "MaximumBatchingWindowInSeconds": 2,
            "MaximumRetryAttempts": 10,
            "MaximumRecordAgeInSeconds": 300,
            "ParallelizationFactor": 4,
            "TumblingWindowInSeconds": 60,
            "BisectBatchOnFunctionError": True,
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "IteratorAge", "Threshold": 300_000}
    )


def test_stream_join_lets_the_function_read_the_stream_and_send_only_to_its_failure_queue():
    tiny = Tiny()
    join = _stream_join(tiny, "kinesis")
    statements = Capture()
    tiny.template().has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": statements}},
    )
    by_service: dict[str, list[Any]] = {}
    for statement in statements.as_array():
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        for action in actions:
            by_service.setdefault(action.split(":")[0], []).append(statement["Resource"])
    assert by_service["kinesis"]
    assert all(resource == _source_arn(tiny, join) for resource in by_service["kinesis"])
    failure_queue = {"Fn::GetAtt": [_logical_id(tiny, join.dead_letter_queue), "Arn"]}
    assert by_service["sqs"]
    assert all(resource == failure_queue for resource in by_service["sqs"])


def test_stream_join_with_enhanced_fan_out_reads_through_its_own_stream_consumer():
    tiny = Tiny()
    stream = tiny.kinesis_stream()
    join = StreamToFunction(
        tiny.stack,
        "Readings",
        config=DEV,
        alarms=tiny.alarms,
        stream=stream,
        function=tiny.function(),
        enhanced_fan_out=True,
    )
    template = tiny.template()

    assert join.consumer is not None
    consumer_id = tiny.stack.get_logical_id(join.consumer.node.default_child)
    template.has_resource_properties(
        "AWS::Kinesis::StreamConsumer",
        {"StreamARN": {"Fn::GetAtt": [_logical_id(tiny, stream), "Arn"]}},
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [consumer_id, "ConsumerARN"]},
            "BisectBatchOnFunctionError": True,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )
    # Without it, the join reads the stream itself and has no consumer
    assert _stream_join(Tiny(), "kinesis").consumer is None


def test_table_stream_join_needs_a_table_with_a_stream():
    tiny = Tiny()
    table = Table(tiny.stack, "NoStream", config=DEV).table
    with pytest.raises(ValueError, match="has no stream"):
        TableStreamToFunction(
            tiny.stack,
            "Changes",
            config=DEV,
            alarms=tiny.alarms,
            table=table,
            function=tiny.function(),
        )


# --- cdk-nag ------------------------------------------------------------------------------


def test_every_join_passes_cdk_nag(tmp_path):
    # A finding makes synth() raise, as for the app's own stacks.
    app = App(outdir=str(tmp_path))
    tiny = Tiny(app=app)
    topic = EncryptedTopic(tiny.stack, "Orders", config=DEV)
    inbox = QueueToFunction(
        tiny.stack, "Inbox", config=DEV, alarms=tiny.alarms, function=tiny.function("Consumer")
    )
    TopicToQueues(
        tiny.stack, "FanOut", topic=topic, queues={"inbox": QueueSubscription(queue=inbox.queue)}
    )
    StreamToFunction(
        tiny.stack,
        "Readings",
        config=DEV,
        alarms=tiny.alarms,
        stream=tiny.kinesis_stream(),
        function=tiny.function("Reader"),
        enhanced_fan_out=True,
    )
    TableStreamToFunction(
        tiny.stack,
        "Changes",
        config=DEV,
        alarms=tiny.alarms,
        table=tiny.streamed_table(),
        function=tiny.function("Projector"),
    )
    StageLogGroup(tiny.stack, "Logs", config=DEV)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    assembly = app.synth()

    assert assembly.get_stack_by_name("Tiny").template["Resources"]
