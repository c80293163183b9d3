"""Event source mappings on localcloud send only the records their FilterCriteria match.

Which record a pattern takes is a unit case (tests/unit/localcloud/test_filter_criteria.py);
here a deployed mapping proves it filters with its criteria, and what a filtered record costs.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.testing import App, get_att, ref
from tests.localcloud.apps import bodies
from tests.localcloud.stream_apps import (
    STREAM_CONSUMER,
    filter_criteria,
    kinesis_stream,
    stream_source,
    stream_table,
)

BODY_RECORDER = textwrap.dedent(
    '''
    """Returns the bodies of the batch it was handed."""


    def handler(event, context):
        return {"bodies": [record["body"] for record in event["Records"]]}
    '''
)


# -- SQS event sources -----------------------------------------------------------------------


def _sqs_app(*patterns: dict[str, Any], batch_size: int = 10) -> App:
    """An inbox (maxReceiveCount 1, then its DLQ) consumed by BODY_RECORDER through `patterns`."""
    app = App()
    inbox = app.queue("Inbox", max_receive_count=1)
    consumer = app.function("Consumer", BODY_RECORDER)
    app.add(
        "ConsumerInboxSource",
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": batch_size,
            "EventSourceArn": get_att(inbox),
            "FunctionName": ref(consumer),
            "FilterCriteria": filter_criteria(*patterns),
        },
    )
    return app


def _send(cloud: Any, *bodies_sent: str) -> None:
    queue_url = cloud.outputs("Stack")["InboxUrl"]
    for body in bodies_sent:
        cloud.client("sqs").send_message(QueueUrl=queue_url, MessageBody=body)


def _messages_held(cloud: Any, queue_url: str) -> int:
    """Messages a queue still holds, visible or in flight."""
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(count) for count in attributes.values())


def _batches(cloud: Any) -> list[list[str]]:
    return [invocation.payload["bodies"] for invocation in cloud.invocations]


def test_messages_no_filter_matches_never_reach_the_function_and_leave_the_queue(launch):
    cloud = launch(_sqs_app({"body": {"kind": ["order"]}}))
    outputs = cloud.outputs("Stack")

    _send(cloud, '{"kind": "ping"}', '{"kind": "audit"}', "not json")
    cloud.settle()

    # THEN no batch was sent at all, and the messages are gone: not left (visible or in
    # flight), not dead-lettered
    assert cloud.invocations == []
    assert _messages_held(cloud, outputs["InboxUrl"]) == 0
    assert bodies(cloud, outputs["InboxDlqUrl"]) == []


def test_filtered_messages_do_not_take_places_in_a_batch(launch):
    cloud = launch(_sqs_app({"body": {"keep": [True]}}, batch_size=3))

    _send(cloud, *(json.dumps({"n": n, "keep": n % 3 == 0}) for n in range(12)))
    cloud.settle()

    # THEN the four kept messages fill a batch of three, then one more
    kept = [json.loads(body)["n"] for batch in _batches(cloud) for body in batch]
    assert sorted(kept) == [0, 3, 6, 9]
    assert [len(batch) for batch in _batches(cloud)] == [3, 1]


def test_a_plain_string_body_is_filtered_as_a_string_through_the_api(launch):
    app = App()
    app.queue("Inbox")
    app.function("Consumer", BODY_RECORDER)
    cloud = launch(app)
    outputs = cloud.outputs("Stack")
    queue_arn = cloud.client("sqs").get_queue_attributes(
        QueueUrl=outputs["InboxUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    cloud.client("lambda").create_event_source_mapping(
        FunctionName=outputs["ConsumerName"],
        EventSourceArn=queue_arn,
        FilterCriteria=filter_criteria({"body": [{"prefix": "Result: "}]}),
    )

    _send(cloud, "Result: ok", "Debug: noise", '{"text": "Result: json"}', "Result: done")
    cloud.settle()

    # THEN the plain strings with the prefix arrive; the JSON body is dropped whatever it says
    assert sorted(body for batch in _batches(cloud) for body in batch) == [
        "Result: done",
        "Result: ok",
    ]
    assert _messages_held(cloud, outputs["InboxUrl"]) == 0


def test_criteria_lambda_refuses_fail_create_and_update(launch):
    app = App()
    app.queue("Inbox")
    app.function("Consumer", BODY_RECORDER)
    cloud = launch(app)
    outputs = cloud.outputs("Stack")
    lambda_client = cloud.client("lambda")
    queue_arn = cloud.client("sqs").get_queue_attributes(
        QueueUrl=outputs["InboxUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]

    with pytest.raises(ClientError) as refused:
        lambda_client.create_event_source_mapping(
            FunctionName=outputs["ConsumerName"],
            EventSourceArn=queue_arn,
            FilterCriteria={"Filters": [{"Pattern": "{not json"}]},
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert lambda_client.list_event_source_mappings()["EventSourceMappings"] == []

    mapping = lambda_client.create_event_source_mapping(
        FunctionName=outputs["ConsumerName"], EventSourceArn=queue_arn
    )
    with pytest.raises(ClientError) as refused:
        lambda_client.update_event_source_mapping(
            UUID=mapping["UUID"], FilterCriteria={"Filters": [{"Pattern": "[1]"}]}
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"


# -- stream event sources --------------------------------------------------------------------


def test_kinesis_records_are_filtered_on_their_json_data_and_the_shard_moves_on(launch):
    app = App()
    kinesis_stream(app, "Events")
    app.function("Consumer", STREAM_CONSUMER)
    stream_source(
        app,
        "Consumer",
        get_att("Events"),
        batch_size=2,
        FilterCriteria=filter_criteria({"data": {"level": ["ERROR"]}}),
    )
    cloud = launch(app)
    kinesis = cloud.client("kinesis")
    stream = cloud.outputs("Stack")["EventsName"]

    def put(*texts: str) -> None:
        for text in texts:
            kinesis.put_record(StreamName=stream, Data=text.encode(), PartitionKey="k")

    def error(n: int) -> str:
        return json.dumps({"level": "ERROR", "n": n})

    put(error(1), json.dumps({"level": "INFO", "n": 2}), "ERROR not json", error(3), error(4))
    cloud.settle()
    put(json.dumps({"level": "INFO", "n": 5}), error(6))
    cloud.settle()

    # THEN only the JSON records with level ERROR arrived, in order and in batches of the
    # batch size, each once: the filtered records were passed over, not retried or re-read
    batches = [invocation.payload["seen"] for invocation in cloud.invocations]
    assert batches == [[error(1), error(3)], [error(4)], [error(6)]]
    assert all(invocation.succeeded for invocation in cloud.invocations)


def _table_app(*patterns: dict[str, Any]) -> App:
    app = App()
    stream_table(app, "Orders", view_type="NEW_AND_OLD_IMAGES")
    app.function("Consumer", STREAM_CONSUMER)
    stream_source(
        app,
        "Consumer",
        get_att("Orders", "StreamArn"),
        FilterCriteria=filter_criteria(*patterns),
    )
    return app


def _change_orders(cloud: Any) -> None:
    dynamodb = cloud.client("dynamodb")
    table = cloud.outputs("Stack")["OrdersName"]

    def put(order: str, status: str) -> None:
        item = {"id": {"S": order}, "status": {"S": status}}
        dynamodb.put_item(TableName=table, Item=item)

    put("o1", "open")
    put("o2", "paid")
    put("o1", "paid")
    put("o3", "open")
    dynamodb.delete_item(TableName=table, Key={"id": {"S": "o2"}})


def _seen(cloud: Any) -> list[str]:
    return [data for invocation in cloud.invocations for data in invocation.payload["seen"]]


def test_dynamodb_changes_are_filtered_on_their_new_image(launch):
    cloud = launch(_table_app({"dynamodb": {"NewImage": {"status": {"S": ["paid"]}}}}))

    _change_orders(cloud)
    cloud.settle()

    # THEN the changes that left an order paid arrived (a removal has no new image)
    assert _seen(cloud) == ["INSERT:o2", "MODIFY:o1"]
