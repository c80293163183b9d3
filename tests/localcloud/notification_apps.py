"""Template builders for S3 notifications and EventBridge rules, shaped as CDK synthesizes them.

`bucket_notifications` writes what `Bucket.add_event_notification` does: a
`Custom::S3BucketNotifications` resource whose ServiceToken is CDK's inline
"BucketNotificationsHandler" function, with the configuration in the S3 API's shape.
`rule` writes an `AWS::Events::Rule` as `events.Rule` with `add_target` does.
"""

from __future__ import annotations

import textwrap
from typing import Any

from localcloud.testing import App, get_att, ref

S3_CONSUMER = textwrap.dedent(
    '''
    """Records each S3 record's decoded key in TABLE_NAME; FAIL=always makes every run raise."""
    import os
    from urllib.parse import unquote_plus

    import boto3


    def handler(event, context):
        if os.environ.get("FAIL") == "always":
            raise RuntimeError("cannot process this object")
        table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
        for record in event["Records"]:
            table.put_item(
                Item={
                    "id": unquote_plus(record["s3"]["object"]["key"]),
                    "encoded": record["s3"]["object"]["key"],
                    "eventName": record["eventName"],
                }
            )
    '''
)

# The handler CDK writes inline for Custom::S3BucketNotifications; localcloud owns that
# resource type, so the function exists but is never run.
_NOTIFICATIONS_HANDLER = "def handler(event, context):\n    raise NotImplementedError\n"


def bucket(app: App, logical_id: str, properties: dict[str, Any] | None = None) -> str:
    app.output(f"{logical_id}Name", ref(logical_id))
    return app.add(logical_id, "AWS::S3::Bucket", properties or {})


def key_filter(*, prefix: str | None = None, suffix: str | None = None) -> dict[str, Any]:
    """A `Filter` of the S3 API's shape (suffix first, as CDK writes it)."""
    rules = [{"Name": "suffix", "Value": suffix}] if suffix else []
    rules += [{"Name": "prefix", "Value": prefix}] if prefix else []
    return {"Key": {"FilterRules": rules}}


def bucket_notifications(
    app: App,
    bucket_id: str,
    *,
    queues: list[tuple[str, list[str], dict[str, Any] | None]] = (),
    topics: list[tuple[str, list[str], dict[str, Any] | None]] = (),
    functions: list[tuple[str, list[str], dict[str, Any] | None]] = (),
    event_bridge: bool = False,
    managed: bool = True,
) -> str:
    """CDK's notifications resource: each destination as (logical id, events, filter or None).

    `event_bridge` sends every event to the default event bus too (`eventBridgeEnabled`);
    `managed=False` is what CDK writes for a bucket it imports.
    """
    handler_role = app.role("BucketNotificationsHandlerRole")
    handler = app.add(
        "BucketNotificationsHandler",
        "AWS::Lambda::Function",
        {
            "Description": 'AWS CloudFormation handler for "Custom::S3BucketNotifications"',
            "Code": {"ZipFile": _NOTIFICATIONS_HANDLER},
            "Handler": "index.handler",
            "Role": get_att(handler_role),
            "Runtime": "python3.11",
            "Timeout": 300,
        },
    )

    def entries(destinations, arn_key: str, arn_of) -> list[dict[str, Any]]:
        listed = []
        for logical_id, events, filter_ in destinations:
            entry: dict[str, Any] = {"Events": events, arn_key: arn_of(logical_id)}
            if filter_:
                entry["Filter"] = filter_
            listed.append(entry)
        return listed

    configuration: dict[str, Any] = {}
    if functions:
        configuration["LambdaFunctionConfigurations"] = entries(
            functions, "LambdaFunctionArn", get_att
        )
    if queues:
        configuration["QueueConfigurations"] = entries(queues, "QueueArn", get_att)
    if topics:
        configuration["TopicConfigurations"] = entries(topics, "TopicArn", ref)
    if event_bridge:
        configuration["EventBridgeConfiguration"] = {}
    return app.add(
        f"{bucket_id}Notifications",
        "Custom::S3BucketNotifications",
        {
            "ServiceToken": get_att(handler),
            "BucketName": ref(bucket_id),
            "NotificationConfiguration": configuration,
            "Managed": managed,
            "SkipDestinationValidation": False,
        },
    )


def fifo_queue(app: App, logical_id: str, *, content_based_deduplication: bool = True) -> str:
    app.output(f"{logical_id}Url", ref(logical_id))
    return app.add(
        logical_id,
        "AWS::SQS::Queue",
        {
            # moto generates FIFO queue names without the .fifo suffix CloudFormation adds.
            "QueueName": f"Stack-{logical_id}.fifo",
            "FifoQueue": True,
            "ContentBasedDeduplication": content_based_deduplication,
        },
    )


def event_bus(app: App, logical_id: str) -> str:
    app.output(f"{logical_id}Name", ref(logical_id))
    return app.add(logical_id, "AWS::Events::EventBus", {"Name": f"Stack{logical_id}"})


def state_machine(app: App, logical_id: str) -> str:
    """A one-state (Pass) state machine, as CDK writes it."""
    role = app.role(f"{logical_id}Role", "states.amazonaws.com")
    app.output(f"{logical_id}Arn", ref(logical_id))
    return app.add(
        logical_id,
        "AWS::StepFunctions::StateMachine",
        {
            "DefinitionString": '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}',
            "RoleArn": get_att(role),
        },
    )


def target(
    logical_id: str,
    number: int = 0,
    *,
    arn: Any | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """A rule target for a resource (its `Arn` attribute unless `arn` is given)."""
    return {
        "Arn": arn if arn is not None else get_att(logical_id),
        "Id": f"Target{number}",
        **settings,
    }


def rule(
    app: App,
    logical_id: str,
    targets: list[dict[str, Any]],
    *,
    event_pattern: dict[str, Any] | None = None,
    schedule: str | None = None,
    bus: str | None = None,
) -> str:
    properties: dict[str, Any] = {"State": "ENABLED", "Targets": targets}
    if event_pattern is not None:
        properties["EventPattern"] = event_pattern
    if schedule is not None:
        properties["ScheduleExpression"] = schedule
    if bus is not None:
        properties["EventBusName"] = ref(bus)
    app.output(f"{logical_id}Arn", get_att(logical_id))
    app.output(f"{logical_id}Name", ref(logical_id))
    return app.add(logical_id, "AWS::Events::Rule", properties)
