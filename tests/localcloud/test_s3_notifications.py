"""S3 event notifications on localcloud: filters, event types, S3's record, async functions."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from moto.s3.models import s3_backends

from localcloud.testing import App, get_att, ref
from tests.localcloud.apps import drain
from tests.localcloud.notification_apps import (
    S3_CONSUMER,
    bucket,
    bucket_notifications,
    key_filter,
    rule,
    target,
)


def _messages(cloud, queue_url: str) -> list[dict]:
    return [json.loads(message["Body"]) for message in drain(cloud, queue_url)]


def _put(cloud, key: str, body: bytes = b"a,b\n") -> None:
    cloud.client("s3").put_object(Bucket=cloud.outputs("Stack")["UploadsName"], Key=key, Body=body)


def _queue_app(events: list[str], filter_: dict | None = None, **bucket_properties) -> App:
    app = App()
    uploads = bucket(app, "Uploads", bucket_properties or None)
    inbox = app.queue("Inbox")
    bucket_notifications(app, uploads, queues=[(inbox, events, filter_)])
    return app


def test_a_queue_gets_the_test_event_then_only_keys_matching_prefix_and_suffix(launch):
    cloud = launch(
        _queue_app(["s3:ObjectCreated:*"], key_filter(prefix="incoming/", suffix=".csv"))
    )
    outputs = cloud.outputs("Stack")

    _put(cloud, "incoming/orders.csv")
    _put(cloud, "incoming/orders.txt")
    _put(cloud, "archive/orders.csv")

    # THEN S3's test event came first, when the configuration was put, then one record
    test_event, notification = _messages(cloud, outputs["InboxUrl"])
    assert test_event["Event"] == "s3:TestEvent"
    assert test_event["Bucket"] == outputs["UploadsName"]
    assert {"Service", "Time", "RequestId", "HostId"} <= test_event.keys()
    (record,) = notification["Records"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "incoming/orders.csv"


def test_a_record_has_the_fields_s3_sends(launch):
    cloud = launch(_queue_app(["s3:ObjectCreated:Put"]))
    outputs = cloud.outputs("Stack")

    _put(cloud, "report.csv", b"12345")

    _, notification = _messages(cloud, outputs["InboxUrl"])
    (record,) = notification["Records"]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == cloud.region
    assert record["eventTime"].endswith("Z")
    assert record["userIdentity"]["principalId"]
    assert record["requestParameters"]["sourceIPAddress"]
    assert {"x-amz-request-id", "x-amz-id-2"} <= record["responseElements"].keys()
    s3 = record["s3"]
    assert s3["s3SchemaVersion"] == "1.0"
    assert s3["configurationId"]
    assert s3["bucket"]["name"] == outputs["UploadsName"]
    assert s3["bucket"]["arn"] == f"arn:aws:s3:::{outputs['UploadsName']}"
    assert s3["bucket"]["ownerIdentity"]["principalId"]
    assert s3["object"]["size"] == 5
    assert s3["object"]["eTag"] == "827ccb0eea8a706c4c34a16891f84e7b"  # MD5 of the body
    assert s3["object"]["sequencer"]
    assert "versionId" not in s3["object"]  # the bucket is not versioned


def test_event_types_select_put_copy_and_multipart_uploads(launch):
    cloud = launch(
        _queue_app(["s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload"])
    )
    outputs = cloud.outputs("Stack")
    s3, name = cloud.client("s3"), outputs["UploadsName"]

    _put(cloud, "original.csv")
    s3.copy_object(Bucket=name, Key="copy.csv", CopySource={"Bucket": name, "Key": "original.csv"})
    upload = s3.create_multipart_upload(Bucket=name, Key="big.csv")
    part = s3.upload_part(
        Bucket=name, Key="big.csv", UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 10
    )
    s3.complete_multipart_upload(
        Bucket=name,
        Key="big.csv",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )

    # THEN the Put was not selected; the copy and the completed upload were
    records = [m["Records"][0] for m in _messages(cloud, outputs["InboxUrl"]) if "Records" in m]
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records] == [
        ("ObjectCreated:Copy", "copy.csv"),
        ("ObjectCreated:CompleteMultipartUpload", "big.csv"),
    ]


def test_removing_an_object_sends_a_removal_record_without_size_or_etag(launch):
    cloud = launch(_queue_app(["s3:ObjectRemoved:*"]))
    outputs = cloud.outputs("Stack")

    _put(cloud, "old.csv")
    cloud.client("s3").delete_object(Bucket=outputs["UploadsName"], Key="old.csv")

    _, notification = _messages(cloud, outputs["InboxUrl"])
    (record,) = notification["Records"]
    assert record["eventName"] == "ObjectRemoved:Delete"
    assert record["s3"]["object"]["key"] == "old.csv"
    assert "size" not in record["s3"]["object"]
    assert "eTag" not in record["s3"]["object"]
    assert record["s3"]["object"]["sequencer"]


def test_deleting_from_a_versioned_bucket_reports_the_delete_marker(launch):
    cloud = launch(_queue_app(["s3:ObjectRemoved:*"]))
    outputs = cloud.outputs("Stack")
    cloud.client("s3").put_bucket_versioning(
        Bucket=outputs["UploadsName"], VersioningConfiguration={"Status": "Enabled"}
    )

    _put(cloud, "kept.csv")
    deleted = cloud.client("s3").delete_object(Bucket=outputs["UploadsName"], Key="kept.csv")

    _, notification = _messages(cloud, outputs["InboxUrl"])
    (record,) = notification["Records"]
    assert record["eventName"] == "ObjectRemoved:DeleteMarkerCreated"
    assert record["s3"]["object"]["versionId"] == deleted["VersionId"]


def test_a_topic_gets_the_records_with_s3s_subject(launch):
    app = App()
    uploads = bucket(app, "Uploads")
    topic = app.topic("Uploaded")
    app.subscription("UploadedToInbox", topic, queue=app.queue("Inbox"))
    bucket_notifications(app, uploads, topics=[(topic, ["s3:ObjectCreated:*"], None)])
    cloud = launch(app)
    outputs = cloud.outputs("Stack")

    _put(cloud, "photo.jpg")

    # THEN the subscriber got the test event, then the record, each in SNS's envelope
    test_event, notification = _messages(cloud, outputs["InboxUrl"])
    assert test_event["Subject"] == "Amazon S3 Notification"
    assert json.loads(test_event["Message"])["Event"] == "s3:TestEvent"
    assert notification["Subject"] == "Amazon S3 Notification"
    (record,) = json.loads(notification["Message"])["Records"]
    assert record["s3"]["object"]["key"] == "photo.jpg"


def _function_app(*, fail: bool = False) -> App:
    app = App()
    uploads = bucket(app, "Uploads")
    table = app.table("Objects")
    environment = {"TABLE_NAME": ref(table)}
    if fail:
        environment["FAIL"] = "always"
    consumer = app.function("Consumer", S3_CONSUMER, environment=environment)
    bucket_notifications(app, uploads, functions=[(consumer, ["s3:ObjectCreated:*"], None)])
    app.queue("Failures")
    app.output("FailuresArn", get_att("Failures"))
    return app


def test_a_function_gets_the_key_encoded_and_decodes_it_back(launch):
    cloud = launch(_function_app())
    outputs = cloud.outputs("Stack")
    key = "reports/Q1 résumé (final)=v2.csv"

    _put(cloud, key)
    # THEN nothing runs before delivery: S3 invokes functions asynchronously
    assert cloud.invocations == []
    cloud.settle()

    items = cloud.client("dynamodb").scan(TableName=outputs["ObjectsName"])["Items"]
    assert [(item["id"]["S"], item["encoded"]["S"]) for item in items] == [
        (key, "reports/Q1+r%C3%A9sum%C3%A9+%28final%29%3Dv2.csv")
    ]
    assert [invocation.trigger for invocation in cloud.invocations] == [
        f"S3 {outputs['UploadsName']}"
    ]


def test_a_failing_function_is_retried_then_its_on_failure_destination_gets_the_event(launch):
    cloud = launch(_function_app(fail=True))
    outputs = cloud.outputs("Stack")
    cloud.client("lambda").put_function_event_invoke_config(
        FunctionName=outputs["ConsumerName"],
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": outputs["FailuresArn"]}},
    )

    _put(cloud, "broken.csv")
    cloud.settle()

    # THEN the first attempt and one retry failed, and the event went to the destination
    assert [invocation.succeeded for invocation in cloud.invocations] == [False, False]
    (failure,) = _messages(cloud, outputs["FailuresUrl"])
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    (record,) = failure["requestPayload"]["Records"]
    assert record["s3"]["object"]["key"] == "broken.csv"


def _bucket_with_own_configuration(app: App, inbox: str) -> str:
    return bucket(
        app,
        "Uploads",
        {
            "NotificationConfiguration": {
                "QueueConfigurations": [
                    {
                        "Event": "s3:ObjectCreated:*",
                        "Queue": get_att(inbox),
                        "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "in/"}]}},
                    }
                ]
            }
        },
    )


def test_a_bucket_notification_configuration_property_is_applied(launch):
    app = App()
    _bucket_with_own_configuration(app, app.queue("Inbox"))
    cloud = launch(app)
    outputs = cloud.outputs("Stack")

    _put(cloud, "in/a.csv")
    _put(cloud, "out/b.csv")

    test_event, notification = _messages(cloud, outputs["InboxUrl"])
    assert test_event["Event"] == "s3:TestEvent"
    assert notification["Records"][0]["s3"]["object"]["key"] == "in/a.csv"


def test_with_eventbridge_enabled_object_events_reach_matching_rules(launch):
    app = App()
    uploads = bucket(app, "Uploads")
    bucket_notifications(app, uploads, event_bridge=True)
    rule(
        app,
        "CsvUploaded",
        [target(app.queue("Inbox"))],
        event_pattern={
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"object": {"key": [{"suffix": ".csv"}]}},
        },
    )
    cloud = launch(app)
    outputs = cloud.outputs("Stack")

    _put(cloud, "in/a b.csv", b"123")
    _put(cloud, "in/photo.jpg")
    cloud.settle()

    # THEN the rule took the CSV upload, in S3's EventBridge event shape (the key not encoded)
    (event,) = _messages(cloud, outputs["InboxUrl"])
    assert event["source"] == "aws.s3"
    assert event["resources"] == [f"arn:aws:s3:::{outputs['UploadsName']}"]
    assert event["detail"]["bucket"] == {"name": outputs["UploadsName"]}
    assert event["detail"]["object"]["key"] == "in/a b.csv"
    assert event["detail"]["object"]["size"] == 3
    assert event["detail"]["reason"] == "PutObject"


def test_an_unmanaged_configuration_is_added_to_the_notifications_already_there(launch):
    app = App()
    uploads = _bucket_with_own_configuration(app, app.queue("Inbox"))
    audit = app.queue("Audit")
    bucket_notifications(
        app,
        uploads,
        queues=[(audit, ["s3:ObjectCreated:*"], key_filter(prefix="audit/"))],
        managed=False,
    )
    cloud = launch(app)
    outputs = cloud.outputs("Stack")

    _put(cloud, "in/a.csv")
    _put(cloud, "audit/b.csv")

    # THEN both the bucket's own destination and the added one took their records
    for queue, key in (("InboxUrl", "in/a.csv"), ("AuditUrl", "audit/b.csv")):
        records = [m["Records"][0] for m in _messages(cloud, outputs[queue]) if "Records" in m]
        assert [record["s3"]["object"]["key"] for record in records] == [key]


def _records(cloud, queue_output: str) -> list[tuple[str, str]]:
    """(eventName, key) of each S3 record in the queue, the test event left out."""
    return [
        (record["eventName"], record["s3"]["object"]["key"])
        for message in _messages(cloud, cloud.outputs("Stack")[queue_output])
        for record in message.get("Records", [])
    ]


def test_tagging_events_come_from_the_tagging_api_only(launch):
    cloud = launch(_queue_app(["s3:ObjectTagging:*"]))
    s3, name = cloud.client("s3"), cloud.outputs("Stack")["UploadsName"]

    s3.put_object(Bucket=name, Key="plain.csv", Body=b"x")
    s3.put_object(Bucket=name, Key="tagged.csv", Body=b"x", Tagging="team=data")
    s3.copy_object(Bucket=name, Key="copy.csv", CopySource={"Bucket": name, "Key": "plain.csv"})
    s3.put_object_tagging(
        Bucket=name, Key="plain.csv", Tagging={"TagSet": [{"Key": "team", "Value": "ops"}]}
    )
    s3.delete_object_tagging(Bucket=name, Key="plain.csv")

    # THEN writing an object (with or without tags) sent no tagging event; the tagging API did
    assert _records(cloud, "InboxUrl") == [
        ("ObjectTagging:Put", "plain.csv"),
        ("ObjectTagging:Delete", "plain.csv"),
    ]


def test_a_batch_delete_sends_one_event_per_key(launch):
    cloud = launch(_queue_app(["s3:ObjectRemoved:*"]))
    s3, name = cloud.client("s3"), cloud.outputs("Stack")["UploadsName"]
    for key in ("a.csv", "b c.csv"):
        s3.put_object(Bucket=name, Key=key, Body=b"x")

    s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "a.csv"}, {"Key": "b c.csv"}]})

    assert _records(cloud, "InboxUrl") == [
        ("ObjectRemoved:Delete", "a.csv"),
        ("ObjectRemoved:Delete", "b+c.csv"),
    ]


def test_with_eventbridge_enabled_each_operation_sends_its_own_detail_type(launch):
    app = App()
    uploads = bucket(app, "Uploads")
    bucket_notifications(app, uploads, event_bridge=True)
    rule(app, "AllObjectEvents", [target(app.queue("Inbox"))], event_pattern={"source": ["aws.s3"]})
    cloud = launch(app)
    s3, name = cloud.client("s3"), cloud.outputs("Stack")["UploadsName"]

    s3.put_object(Bucket=name, Key="a.csv", Body=b"x")
    s3.copy_object(Bucket=name, Key="b.csv", CopySource={"Bucket": name, "Key": "a.csv"})
    s3.put_object_tagging(
        Bucket=name, Key="a.csv", Tagging={"TagSet": [{"Key": "team", "Value": "ops"}]}
    )
    s3.delete_object(Bucket=name, Key="a.csv")
    cloud.settle()

    # THEN one event per operation, each with S3's detail type (a write sends no tags event)
    events = _messages(cloud, cloud.outputs("Stack")["InboxUrl"])
    assert [
        (event["detail-type"], event["detail"]["object"]["key"], event["detail"].get("reason"))
        for event in events
    ] == [
        ("Object Created", "a.csv", "PutObject"),
        ("Object Created", "b.csv", "CopyObject"),
        ("Object Tags Added", "a.csv", None),
        ("Object Deleted", "a.csv", "DeleteObject"),
    ]
    assert events[-1]["detail"]["deletion-type"] == "Permanently Deleted"
    assert "deletion-type" not in events[2]["detail"]


def test_a_browser_post_upload_is_reported_as_s3_names_it(launch):
    app = App()
    uploads = bucket(app, "Uploads")
    inbox = app.queue("Inbox")
    bucket_notifications(
        app, uploads, queues=[(inbox, ["s3:ObjectCreated:Post"], None)], event_bridge=True
    )
    rule(app, "Created", [target(app.queue("Bus"))], event_pattern={"source": ["aws.s3"]})
    cloud = launch(app)
    name = cloud.outputs("Stack")["UploadsName"]

    # WHEN an object arrives by an HTML form's POST (S3's backend takes it as boto3 cannot)
    s3_backends[cloud.engine.account_id]["aws"].put_object(
        name, "form.csv", b"x", request_method="POST"
    )
    cloud.settle()

    assert _records(cloud, "InboxUrl") == [("ObjectCreated:Post", "form.csv")]
    (event,) = _messages(cloud, cloud.outputs("Stack")["BusUrl"])
    assert event["detail"]["reason"] == "POST Object"


def test_overlapping_configurations_are_refused_as_s3_refuses_them(launch):
    app = App()
    bucket(app, "Uploads")
    app.queue("Csv")
    app.queue("Reports")
    app.output("CsvArn", get_att("Csv"))
    app.output("ReportsArn", get_att("Reports"))
    cloud = launch(app)
    outputs = cloud.outputs("Stack")
    s3 = cloud.client("s3")

    def configuration(csv_prefix: str, reports_events: list[str]) -> dict:
        return {
            "QueueConfigurations": [
                {
                    "QueueArn": outputs["CsvArn"],
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": key_filter(prefix=csv_prefix, suffix=".csv"),
                },
                {
                    "QueueArn": outputs["ReportsArn"],
                    "Events": reports_events,
                    "Filter": key_filter(prefix="in/reports/"),
                },
            ]
        }

    # WHEN one key (in/reports/q1.csv) could match both entries for ObjectCreated:Put
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_notification_configuration(
            Bucket=outputs["UploadsName"],
            NotificationConfiguration=configuration("in/", ["s3:ObjectCreated:Put"]),
        )
    assert refused.value.response["Error"]["Code"] == "InvalidArgument"
    assert "overlap" in refused.value.response["Error"]["Message"]

    # WHEN the prefixes are disjoint, or the event types are: both configurations are taken
    for csv_prefix, reports_events in (
        ("in/csv/", ["s3:ObjectCreated:Put"]),
        ("in/", ["s3:ObjectRemoved:*"]),
    ):
        s3.put_bucket_notification_configuration(
            Bucket=outputs["UploadsName"],
            NotificationConfiguration=configuration(csv_prefix, reports_events),
        )
