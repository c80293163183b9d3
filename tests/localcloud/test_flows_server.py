"""S3 notifications and EventBridge under `localcloud up`: API threads feed the delivery thread."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

import boto3

from localcloud.server import LocalCloudServer

REGION = "eu-west-1"

KEY_READER = """
from urllib.parse import unquote_plus


def handler(event, context):
    return [unquote_plus(record["s3"]["object"]["key"]) for record in event["Records"]]
"""


def _wait_for(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("the outcome did not arrive in time")


def test_an_upload_reaches_its_function_and_an_event_starts_its_state_machine():
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("reader.py", KEY_READER)
    with LocalCloudServer(port=0, region=REGION, time_scale=0.01) as server:

        def client(service: str):
            return boto3.client(
                service,
                endpoint_url=server.endpoint_url,
                region_name=REGION,
                aws_access_key_id="localcloud",
                aws_secret_access_key="localcloud",
            )

        role = client("iam").create_role(
            RoleName="flows", AssumeRolePolicyDocument=json.dumps({"Statement": []})
        )["Role"]["Arn"]
        function = client("lambda").create_function(
            FunctionName="reader",
            Runtime="python3.13",
            Role=role,
            Handler="reader.handler",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]
        s3 = client("s3")
        s3.create_bucket(Bucket="uploads", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_notification_configuration(
            Bucket="uploads",
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [
                    {"LambdaFunctionArn": function, "Events": ["s3:ObjectCreated:*"]}
                ]
            },
        )
        sfn = client("stepfunctions")
        machine = sfn.create_state_machine(
            name="on-order",
            roleArn=role,
            definition=json.dumps(
                {"StartAt": "Take", "States": {"Take": {"Type": "Pass", "End": True}}}
            ),
        )["stateMachineArn"]
        events = client("events")
        events.put_rule(
            Name="orders", EventPattern=json.dumps({"source": ["shop"], "detail-type": ["Order"]})
        )
        events.put_targets(
            Rule="orders", Targets=[{"Id": "machine", "Arn": machine, "RoleArn": role}]
        )

        # WHEN an object is uploaded and an event put, each through the endpoint's API threads
        s3.put_object(Bucket="uploads", Key="in/a b.csv", Body=b"x")
        events.put_events(
            Entries=[{"Source": "shop", "DetailType": "Order", "Detail": '{"order": "o-1"}'}]
        )

        # THEN the delivery thread ran the function with S3's record (the key encoded)...
        invocation = _wait_for(
            lambda: next((i for i in server.engine.invocations if i.trigger == "S3 uploads"), None)
        )
        assert invocation.succeeded
        assert invocation.payload == ["in/a b.csv"]

        # ...and the rule started an execution with the event as its input, which ran to its end
        def finished() -> dict[str, Any] | None:
            listed = sfn.list_executions(stateMachineArn=machine)["executions"]
            if len(listed) == 1 and listed[0]["status"] != "RUNNING":
                return sfn.describe_execution(executionArn=listed[0]["executionArn"])
            return None

        execution = _wait_for(finished)
        assert execution["status"] == "SUCCEEDED"
        event = json.loads(execution["input"])
        assert (event["source"], event["detail-type"], event["detail"]) == (
            "shop",
            "Order",
            {"order": "o-1"},
        )
        assert json.loads(execution["output"]) == event
