"""EventSourcing template: the event store and its stream, the projection's filtered source,
the outbox pipe with its DLQ, least privilege, stable ids of stateful resources."""

from __future__ import annotations

import json
from typing import Any

from tests.synth import CloudAssembly, resources_of_type

STACK = "EventSourcing"
EVENTS_TABLE = "EventSourcingEventsTable073B6D03"
SNAPSHOTS_TABLE = "EventSourcingSnapshotsTable2AD5E115"
PROJECTION_TABLE = "EventSourcingProjectionTableC6BF3930"
REBUILD_TABLE = "EventSourcingRebuildTable88A1BFE7"
ON_FAILURE_QUEUE = "EventSourcingProjectionOnFailureQueueDF6758E3"
OUTBOX_DLQ = "EventSourcingOutboxDeadLetterQueue42A8DBFC"
BUS = "EventSourcingBus0D8103A7"
PIPE = "EventSourcingOutboxPipeF9CA59F8"
STATEFUL_LOGICAL_IDS = {
    EVENTS_TABLE,
    SNAPSHOTS_TABLE,
    PROJECTION_TABLE,
    REBUILD_TABLE,
    ON_FAILURE_QUEUE,
    OUTBOX_DLQ,
    BUS,
    "EventSourcingIntegrationEventsQueueD0CD421E",
    "EventSourcingIntegrationEventsDeadLetterQueue08B33DD5",
}
NEW_EVENTS_ONLY = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["event"]}}}}


def _resources(dev_assembly: CloudAssembly) -> dict[str, dict[str, Any]]:
    return dev_assembly.templates[STACK]["Resources"]


def _policy_statements(resources: dict[str, dict[str, Any]], role_prefix: str) -> list[dict]:
    return [
        statement
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::IAM::Policy" and logical_id.startswith(role_prefix)
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_stateful_logical_ids_are_stable(dev_assembly: CloudAssembly):
    # Renaming one of these replaces the resource: the event store is the system of record.
    stateful = {
        logical_id
        for logical_id, resource in _resources(dev_assembly).items()
        if resource["Type"] in {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Events::EventBus"}
    }
    assert stateful == STATEFUL_LOGICAL_IDS


def test_the_event_store_is_keyed_by_account_and_numeric_version_and_streams_new_images(
    dev_assembly: CloudAssembly,
):
    properties = _resources(dev_assembly)[EVENTS_TABLE]["Properties"]
    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {"AttributeName": "sk", "AttributeType": "N"} in properties["AttributeDefinitions"]
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}


def test_the_projector_reads_only_new_events_with_bisect_retries_and_an_on_failure_queue(
    dev_assembly: CloudAssembly,
):
    (mapping,) = resources_of_type(
        dev_assembly.templates[STACK], "AWS::Lambda::EventSourceMapping"
    ).values()
    properties = mapping["Properties"]
    assert properties["EventSourceArn"] == {"Fn::GetAtt": [EVENTS_TABLE, "StreamArn"]}
    assert json.loads(properties["FilterCriteria"]["Filters"][0]["Pattern"]) == NEW_EVENTS_ONLY
    assert properties["BisectBatchOnFunctionError"] is True
    assert properties["MaximumRetryAttempts"] == 3
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [ON_FAILURE_QUEUE, "Arn"]}}
    }


def test_the_outbox_pipe_filters_enriches_dead_letters_and_targets_the_bus(
    dev_assembly: CloudAssembly,
):
    properties = _resources(dev_assembly)[PIPE]["Properties"]
    assert properties["Source"] == {"Fn::GetAtt": [EVENTS_TABLE, "StreamArn"]}
    assert properties["Target"] == {"Fn::GetAtt": [BUS, "Arn"]}
    assert properties["Enrichment"]["Fn::GetAtt"][0].startswith("EventSourcingPublisherFunction")
    source = properties["SourceParameters"]
    assert json.loads(source["FilterCriteria"]["Filters"][0]["Pattern"]) == NEW_EVENTS_ONLY
    stream = source["DynamoDBStreamParameters"]
    assert stream["OnPartialBatchItemFailure"] == "AUTOMATIC_BISECT"
    assert stream["MaximumRetryAttempts"] == 3
    assert stream["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [OUTBOX_DLQ, "Arn"]}}
    assert properties["TargetParameters"]["EventBridgeEventBusParameters"] == {
        "Source": "serverless-patterns.accounts",
        "DetailType": "AccountEvent",
    }


def test_the_pipe_role_reads_the_stream_invokes_the_publisher_and_puts_to_its_bus_only(
    dev_assembly: CloudAssembly,
):
    statements = _policy_statements(_resources(dev_assembly), "EventSourcingOutboxPipeRole")
    actions = {
        action
        for statement in statements
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert "events:PutEvents" in actions
    assert "lambda:InvokeFunction" in actions
    assert not any(action.startswith("dynamodb:PutItem") for action in actions)
    (put_events,) = [s for s in statements if s["Action"] == "events:PutEvents"]
    assert put_events["Resource"] == {"Fn::GetAtt": [BUS, "Arn"]}


def test_the_api_appends_to_the_store_and_never_touches_the_read_models(
    dev_assembly: CloudAssembly,
):
    resources = _resources(dev_assembly)
    api = json.dumps(_policy_statements(resources, "EventSourcingApiRole"))
    assert EVENTS_TABLE in api
    assert SNAPSHOTS_TABLE in api
    assert PROJECTION_TABLE not in api
    assert REBUILD_TABLE not in api
    rebuilder = json.dumps(_policy_statements(resources, "EventSourcingRebuilderRole"))
    assert REBUILD_TABLE in rebuilder
    assert PROJECTION_TABLE not in rebuilder


def test_the_snapshot_interval_reaches_the_api_from_the_context(dev_assembly: CloudAssembly):
    (api,) = [
        resource
        for logical_id, resource in _resources(dev_assembly).items()
        if resource["Type"] == "AWS::Lambda::Function"
        and logical_id.startswith("EventSourcingApiFunction")
    ]
    assert api["Properties"]["Environment"]["Variables"]["SNAPSHOT_INTERVAL"] == "25"
