"""S3 event notifications on localcloud: filters, event types, S3's record, async functions."""

from __future__ import annotations

import json

from tests.localcloud.apps import App, drain, get_att, ref
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
        app, uploads, queues=[(audit, ["s3:ObjectCreated:*"], None)], managed=False
    )
    cloud = launch(app)
    outputs = cloud.outputs("Stack")

    _put(cloud, "in/a.csv")

    # THEN both the bucket's own destination and the added one got the record
    for queue in ("InboxUrl", "AuditUrl"):
        records = [m["Records"][0] for m in _messages(cloud, outputs[queue]) if "Records" in m]
        assert [record["s3"]["object"]["key"] for record in records] == ["in/a.csv"]
