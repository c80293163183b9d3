"""The moto hooks that keep localcloud fast under load (SQS, DynamoDB, the requests answered in
process, the serializing of answers) answer as moto does."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY
from moto.core.request import Request as MotoRequest
from moto.core.serialize import AttributePicker, XFormedAttributePicker

from localcloud.core.engine import Engine
from localcloud.core.hooks import InstalledHooks

REGION = "eu-west-1"


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws(), Engine(region=REGION, code_root=tmp_path, time_scale=0.0) as running:
        yield running


def _queue(name: str = "work") -> tuple[object, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    return sqs, sqs.create_queue(QueueName=name)["QueueUrl"]


def _depth(sqs, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def test_a_received_message_is_deleted_by_its_handle_and_only_it(engine: Engine):
    sqs, url = _queue()
    for n in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=30)
    first, second = received["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])

    assert _depth(sqs, url) == (3, 1)
    rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
    assert sorted(message["Body"] for message in rest["Messages"]) == ["m2", "m3", "m4"]
    assert [first["Body"], second["Body"]] == ["m0", "m1"]


def test_an_earlier_handle_still_deletes_and_a_deleted_one_is_accepted_again(engine: Engine):
    sqs, url = _queue()
    sqs.send_message(QueueUrl=url, MessageBody="again")
    old = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=old["ReceiptHandle"], VisibilityTimeout=0
    )
    new = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]
    assert new["ReceiptHandle"] != old["ReceiptHandle"]

    sqs.delete_message(QueueUrl=url, ReceiptHandle=old["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=new["ReceiptHandle"])

    assert _depth(sqs, url) == (0, 0)


def test_an_unknown_handle_is_refused(engine: Engine):
    sqs, url = _queue()
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)

    with pytest.raises(ClientError) as refused:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")

    assert refused.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    assert _depth(sqs, url) == (0, 1)


def test_received_attributes_are_filtered_without_changing_the_queued_message(engine: Engine):
    sqs, url = _queue()
    attributes = {
        "kind": {"DataType": "String", "StringValue": "order"},
        "other": {"DataType": "String", "StringValue": "x"},
    }
    sqs.send_message(QueueUrl=url, MessageBody="m", MessageAttributes=attributes)
    first = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["kind"], VisibilityTimeout=0)
    second = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])

    assert set(first["Messages"][0]["MessageAttributes"]) == {"kind"}
    assert set(second["Messages"][0]["MessageAttributes"]) == {"kind", "other"}


def _table(name: str, *keys: str):
    """An on-demand DynamoDB table keyed by `keys` (hash, then range), all strings; its client."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": key, "KeyType": "RANGE" if position else "HASH"}
            for position, key in enumerate(keys)
        ],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in keys],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


def test_a_cancelled_transaction_leaves_every_item_as_it_was(engine: Engine):
    dynamodb = _table("ledger", "pk", "sk")
    kept = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    dynamodb.put_item(TableName="ledger", Item={**kept, "count": {"N": "1"}})
    guard = {"pk": {"S": "z"}, "sk": {"S": "1"}}
    dynamodb.put_item(TableName="ledger", Item=guard)

    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "ledger",
                        "Key": kept,
                        "UpdateExpression": "ADD #c :one",
                        "ExpressionAttributeNames": {"#c": "count"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": "ledger", "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "ledger",
                        "Key": guard,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    items = dynamodb.scan(TableName="ledger")["Items"]
    assert sorted(items, key=lambda item: item["pk"]["S"]) == [
        {**kept, "count": {"N": "1"}},
        guard,
    ]


def test_a_committed_transaction_writes_every_item(engine: Engine):
    dynamodb = _table("ledger", "pk")

    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "ledger", "Item": {"pk": {"S": key}}}} for key in ("a", "b")
        ]
    )

    assert sorted(item["pk"]["S"] for item in dynamodb.scan(TableName="ledger")["Items"]) == [
        "a",
        "b",
    ]


def test_a_delivered_batch_is_deleted_at_once_and_only_it(engine: Engine):
    from moto.sqs.exceptions import ReceiptHandleIsInvalid
    from moto.sqs.models import sqs_backends

    from localcloud.services.sqs.index import delete_received

    sqs, url = _queue()
    for n in range(6):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=4, VisibilityTimeout=30)
    handles = [message["ReceiptHandle"] for message in received["Messages"]]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handles[0])  # deleted before the batch
    queue = sqs_backends["123456789012"][REGION].get_queue("work")
    listed = queue._messages

    delete_received(queue, handles[:3])

    # m3 was received and not deleted: in flight; m4 and m5 were never received.
    assert _depth(sqs, url) == (2, 1)
    assert sorted(message.body for message in queue._messages) == ["m3", "m4", "m5"]
    # Taken out in place: no copy of a list as long as the queue per delete (or per batch).
    assert queue._messages is listed
    with pytest.raises(ReceiptHandleIsInvalid):
        delete_received(queue, ["not-a-handle"])


def test_moto_keeps_no_record_of_messages_and_items_only_of_s3_objects(engine: Engine):
    from moto.dynamodb.models.dynamo_type import Item
    from moto.s3.models import FakeKey
    from moto.sqs.models import Message

    tracked_before = (len(Message.instances_tracked), len(Item.instances_tracked))
    keys_before = len(FakeKey.instances_tracked)
    sqs, url = _queue()
    for n in range(20):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    for message in received:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    dynamodb = _table("items", "id")
    for n in range(20):
        dynamodb.put_item(TableName="items", Item={"id": {"S": f"i{n}"}})
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="kept", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="kept", Key="object", Body=b"content")

    # The work was done...
    assert _depth(sqs, url) == (10, 0)
    assert dynamodb.scan(TableName="items")["Count"] == 20
    # ...and moto's dashboard lists hold none of it, except S3's objects, whose temporary
    # files moto's reset closes through that list.
    assert (len(Message.instances_tracked), len(Item.instances_tracked)) == tracked_before
    assert len(FakeKey.instances_tracked) == keys_before + 1


def _authorizations_sent_by(client) -> list[str]:
    seen: list[str] = []

    def capture(request, **_):
        seen.append(request.headers["Authorization"].decode())

    client.meta.events.register("before-send", capture)
    return seen


def test_a_request_moto_answers_here_is_not_signed_and_still_names_its_account(engine: Engine):
    from localcloud.core.engine import UNCHECKED_SIGNATURE

    sts = boto3.client("sts", region_name=REGION)
    sqs, url = _queue()
    headers = _authorizations_sent_by(sqs)
    signed = _authorizations_sent_by(sts)

    sqs.send_message(QueueUrl=url, MessageBody="unsigned")
    identity = sts.get_caller_identity()

    # The headers botocore's signer gives, with the credential scope moto reads...
    [authorization] = headers
    assert re.match(
        r"AWS4-HMAC-SHA256 Credential=\w+/\d{8}/eu-west-1/sqs/aws4_request, SignedHeaders=\S+, ",
        authorization,
    )
    assert authorization.endswith(f"Signature={UNCHECKED_SIGNATURE}")
    assert signed[0].endswith(f"Signature={UNCHECKED_SIGNATURE}")
    # ...so moto answers as it would a signed request.
    assert _depth(sqs, url) == (1, 0)
    assert identity["Account"] == "123456789012"


class _CapturedError(Exception):
    """Stops a client's call once its request is made, before anything is sent."""


def _requests_made_by_clients() -> list:
    """botocore's requests for calls of several protocols (JSON, query, REST with XML), with a
    percent-encoded path, a query string, user metadata with an underscore and a stream body."""
    made: list = []

    def capture(request, **_):
        body = request.body
        streamed = hasattr(body, "read")
        made.append((request, body.read() if streamed else body, streamed))
        raise _CapturedError

    session = boto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
    )
    calls = [
        ("dynamodb", "put_item", {"TableName": "t", "Item": {"id": {"S": "ü"}}}),
        ("sqs", "send_message", {"QueueUrl": "https://sqs/q", "MessageBody": "naïve"}),
        ("sns", "publish", {"TopicArn": f"arn:aws:sns:{REGION}:123456789012:t", "Message": "m"}),
        (
            "s3",
            "put_object",
            {
                "Bucket": "b",
                "Key": "folder/ünï code+plus%.txt",
                "Body": io.BytesIO(b"streamed body"),
                "Metadata": {"my_key": "v", "Other-Key": "w"},
            },
        ),
        ("s3", "list_objects_v2", {"Bucket": "b", "Prefix": "a b/", "MaxKeys": 5}),
        ("lambda", "invoke", {"FunctionName": "f", "Qualifier": "live", "Payload": b"{}"}),
    ]
    for service, operation, parameters in calls:
        client = session.client(service)
        client.meta.events.register_first("before-send", capture)
        with pytest.raises(_CapturedError):
            getattr(client, operation)(**parameters)
    return made


def _as_moto_reads_it(request) -> tuple:
    return (
        request.method,
        request.url,
        request.raw_url,
        request.raw_path,
        request.path,
        request.query_string,
        request.args.to_dict(flat=False),
        sorted(request.headers.items()),
        request.get_data(),
        request.content_type,
        request.content_length,
        request.host,
        request.scheme,
        request.environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY],
    )


def test_a_request_answered_in_process_reads_as_werkzeugs_builder_makes_it():
    from localcloud.core.engine import _requests_built_from_their_parts

    built_here = _requests_built_from_their_parts(None).__get__(None, MotoRequest)
    made = _requests_made_by_clients()

    for request, body, streamed in made:
        # A stream is read by each build: each gets its own.
        parts = [
            (request.method, request.url, request.headers, io.BytesIO(body) if streamed else body)
            for _ in range(2)
        ]
        assert _as_moto_reads_it(built_here(*parts[0])) == _as_moto_reads_it(
            MotoRequest.from_primitives(*parts[1])
        ), request.url
    assert len(made) == 6
    assert any(streamed for _, _, streamed in made)


def _reads_of_several_services() -> list[tuple[str, Callable[[], dict]]]:
    """Resources of services whose answers moto serializes from dicts and from its models
    (JSON, query and REST protocols, members renamed by the model), and reads of them."""
    dynamodb = _table("kinds", "pk")
    item = {
        "pk": {"S": "p"},
        "n": {"N": "1.5"},
        "b": {"B": b"\x00\x01"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"x"]},
        "m": {"M": {"l": {"L": [{"S": "v"}, {"NULL": True}, {"BOOL": False}]}}},
    }
    dynamodb.put_item(TableName="kinds", Item=item)
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="named", Attributes={"DelaySeconds": "1"})["QueueUrl"]
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="named", Attributes={"DisplayName": "Named"})["TopicArn"]
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName="reader",
        AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}',
        Tags=[{"Key": "team", "Value": "core"}],
    )["Role"]["Arn"]
    lambda_client = boto3.client("lambda", region_name=REGION)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    lambda_client.create_function(
        FunctionName="reader",
        Runtime="python3.13",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zipped.getvalue()},
        Environment={"Variables": {"COLOUR": "blue"}},
    )
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName="named",
        TemplateBody=json.dumps(
            {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"O": {"Value": "v"}}}
        ),
    )
    return [
        ("GetItem", lambda: dynamodb.get_item(TableName="kinds", Key={"pk": {"S": "p"}})),
        ("DescribeTable", lambda: dynamodb.describe_table(TableName="kinds")),
        ("Scan", lambda: dynamodb.scan(TableName="kinds")),
        (
            "GetQueueAttributes",
            lambda: sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"]),
        ),
        ("ListQueues", sqs.list_queues),
        ("GetTopicAttributes", lambda: sns.get_topic_attributes(TopicArn=topic)),
        ("ListTopics", sns.list_topics),
        ("GetRole", lambda: iam.get_role(RoleName="reader")),
        ("ListRoles", iam.list_roles),
        ("GetFunction", lambda: lambda_client.get_function(FunctionName="reader")),
        ("ListFunctions", lambda_client.list_functions),
        ("DescribeStacks", lambda: cloudformation.describe_stacks(StackName="named")),
        ("ListStackResources", lambda: cloudformation.list_stack_resources(StackName="named")),
    ]


def _without_request_metadata(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key != "ResponseMetadata"}


def test_an_answer_read_with_its_members_names_remembered_is_motos_own(
    monkeypatch: pytest.MonkeyPatch,
):
    from localcloud.core.engine import HOOKS

    [remembered] = [hook for hook in HOOKS if hook.owner is AttributePicker]
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        for operation, read in _reads_of_several_services():
            as_moto_answers = _without_request_metadata(read())
            installed = InstalledHooks((remembered,))
            try:
                # Twice: the second answer is read with the names the first worked out.
                first, second = (_without_request_metadata(read()) for _ in range(2))
            finally:
                installed.remove()

            assert first == as_moto_answers, operation
            assert second == as_moto_answers, operation


class Widget:
    """A model whose members moto finds by the class-name prefix (`WidgetId` as `id`)."""

    def __init__(self) -> None:
        self.id = "widget's id"
        self.name = "widget's name"


class Gadget:
    """A model that names its members itself."""

    class Meta:
        serialization_aliases: ClassVar = {"WidgetId": "gadget_key", "Name": "label"}

    def __init__(self) -> None:
        self.gadget_key = "gadget's key"
        self.label = "gadget's label"
        self.name = "gadget's name"


class Configured:
    """A model each of whose objects names its members (a `Meta` of its own)."""

    def __init__(self, name_from: str) -> None:
        self.Meta = type("Meta", (), {"serialization_aliases": {"Name": name_from}})
        self.first = "first"
        self.second = "second"


def test_a_members_names_are_remembered_per_shape_and_per_class_of_object():
    from moto.core.model import ShapeResolver

    from localcloud.core.engine import _aliases_found_once

    resolver = ShapeResolver(
        {
            "Widget": {
                "type": "structure",
                "members": {"WidgetId": {"shape": "Text"}, "Name": {"shape": "Text"}},
            },
            "Renamed": {
                "type": "structure",
                "members": {
                    "WidgetId": {"shape": "Text", "locationName": "widgetKey"},
                    "Name": {"shape": "Text", "locationName": "title"},
                },
            },
            "Text": {"type": "string"},
        }
    )
    members = [
        member
        for parent in ("Widget", "Renamed")
        for member in _members_of(resolver.get_shape_by_name(parent))
    ]
    objects = [
        Widget(),
        Gadget(),
        {"WidgetId": "dict's WidgetId", "widgetKey": "dict's widgetKey", "title": "dict's title"},
        {"widget_id": "snake", "name": "snake name"},
        Configured(name_from="first"),
        Configured(name_from="second"),
    ]
    remembering = _aliases_found_once(AttributePicker.__call__)
    picker = XFormedAttributePicker()

    asked = [(key, shape, obj) for _ in range(2) for key, shape in members for obj in objects]
    found = [remembering(picker, _context(key, shape, obj)) for key, shape, obj in asked]
    expected = [picker(_context(key, shape, obj)) for key, shape, obj in asked]

    assert found == expected
    # The matrix tells them apart: the same member reads differently by shape and by class.
    assert len(set(expected)) >= 10


def _members_of(parent) -> Iterator:
    for key, member in parent.members.items():
        member.parent = parent  # as moto's serializer sets it before reading the member
        yield key, member


def _context(key, shape, obj):
    from moto.core.serialize import AttributePickerContext

    return AttributePickerContext(obj=obj, key=key, shape=shape, key_path="Result")
