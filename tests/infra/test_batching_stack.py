"""Batching template: large batches with a window, partial failures, redrive, least privilege."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from batching import contract
from tests.synth import CloudAssembly, resources_of_type

STATEFUL_LOGICAL_IDS = {
    "BatchingItemsTable41FA2E31",
    "BatchingInboxQueueC21FFC70",
    "BatchingInboxDeadLetterQueue99AE580F",
}


def test_stateful_logical_ids_are_stable(dev_assembly: CloudAssembly):
    # Renaming one of these replaces the resource (losing its messages or items) on deploy.
    resources = dev_assembly.templates["Batching"]["Resources"]
    stateful = {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] in {"AWS::SQS::Queue", "AWS::DynamoDB::Table"}
    }
    assert stateful == STATEFUL_LOGICAL_IDS


def test_the_writer_takes_large_batches_gathered_in_a_window_with_partial_failures(
    batching: Template,
):
    batching.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 500,
            "MaximumBatchingWindowInSeconds": 5,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "EventSourceArn": {"Fn::GetAtt": ["BatchingInboxQueueC21FFC70", "Arn"]},
            "FunctionName": {"Ref": Match.string_like_regexp("^BatchingWriterFunction")},
            # On-demand pollers unless the context asks for provisioned ones.
            "ProvisionedPollerConfig": Match.absent(),
        },
    )


def test_the_queue_outlasts_a_batch_and_redrives_after_five_receives(dev_assembly: CloudAssembly):
    queue = dev_assembly.templates["Batching"]["Resources"]["BatchingInboxQueueC21FFC70"]
    # Six times the writer's 60 s timeout, plus the 5 s window, as AWS advises.
    assert queue["Properties"]["VisibilityTimeout"] == 365
    assert queue["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["BatchingInboxDeadLetterQueue99AE580F", "Arn"]},
        "maxReceiveCount": 5,
    }


def test_the_writer_knows_the_redrive_policy_it_dead_letters_before(batching: Template):
    batching.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": contract.WRITER_HANDLER,
            "Environment": {
                "Variables": Match.object_like(
                    {
                        contract.ENV_ITEMS_TABLE_NAME: {"Ref": "BatchingItemsTable41FA2E31"},
                        contract.ENV_DEAD_LETTER_QUEUE_URL: {
                            "Ref": "BatchingInboxDeadLetterQueue99AE580F"
                        },
                        contract.ENV_MAX_RECEIVE_COUNT: "5",
                        contract.ENV_WRITE_MAX_ATTEMPTS: "5",
                        contract.ENV_WRITE_BASE_DELAY_MS: "50",
                    }
                )
            },
        },
    )


def _statements(dev_assembly: CloudAssembly, role_prefix: str) -> list[dict]:
    (policy,) = (
        p
        for logical_id, p in resources_of_type(
            dev_assembly.templates["Batching"], "AWS::IAM::Policy"
        ).items()
        if logical_id.startswith(role_prefix)
    )
    return policy["Properties"]["PolicyDocument"]["Statement"]


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def test_the_writer_may_only_batch_write_the_table_and_send_to_its_dlq(
    dev_assembly: CloudAssembly,
):
    statements = _statements(dev_assembly, "BatchingWriterRole")
    by_service = {
        action.split(":")[0]: statement
        for statement in statements
        for action in _actions(statement)
        if not action.startswith(("logs:", "xray:"))
    }
    dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in _actions(s))]
    assert [_actions(s) for s in dynamodb] == [["dynamodb:BatchWriteItem"]]
    assert dynamodb[0]["Resource"] == {"Fn::GetAtt": ["BatchingItemsTable41FA2E31", "Arn"]}
    sends = [s for s in statements if "sqs:SendMessage" in _actions(s)]
    assert [s["Resource"] for s in sends] == [
        {"Fn::GetAtt": ["BatchingInboxDeadLetterQueue99AE580F", "Arn"]}
    ]
    assert set(by_service) == {"sqs", "dynamodb"}


def test_the_producer_may_only_send_to_the_work_queue(dev_assembly: CloudAssembly):
    statements = _statements(dev_assembly, "BatchingProducerRole")
    services = {action.split(":")[0] for s in statements for action in _actions(s)}
    assert services == {"logs", "xray", "sqs"}
    (send,) = (s for s in statements if "sqs:SendMessage" in _actions(s))
    assert send["Resource"] == {"Fn::GetAtt": ["BatchingInboxQueueC21FFC70", "Arn"]}


def test_items_the_producer_could_not_enqueue_raise_an_alarm(batching: Template):
    batching.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": contract.ITEMS_NOT_ENQUEUED_METRIC,
            "Dimensions": [{"Name": "service", "Value": contract.PRODUCER_SERVICE_NAME}],
            "Threshold": 1,
        },
    )
