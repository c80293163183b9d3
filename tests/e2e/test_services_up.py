"""localcloud's extensions under the real CDK CLI: `cdk deploy` of a small app onto
`LocalCloudServer`, then HTTP and AWS APIs, with delivery on scaled real time.

The app (`services_app/`) holds a REST API with a TOKEN authorizer, an API key and a usage plan,
and a direct SQS integration; a Kinesis stream consumed with a tumbling window, bisect on
error and an on-failure queue; a state machine started by an EventBridge rule on a custom bus;
a bucket notifying a function about objects created under a prefix. Each function reports what
reached it on one queue, which the test reads.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from localcloud import cli
from localcloud.server import LocalCloudServer
from localcloud.services.apigateway.service import RestApis
from tests.e2e.services_app.app import (
    API_KEY_VALUE,
    EVENT_DETAIL_TYPE,
    EVENT_SOURCE,
    STACK_NAME,
    UPLOAD_PREFIX,
    build_app,
)

pytestmark = pytest.mark.infra

REGION = "eu-west-1"
# Scales every wait: the state machine's 60 s review wait becomes 0.6 s, the stream's retry
# backoff a fraction of a second.
TIME_SCALE = 0.01
WAIT_SECONDS = 30.0


def _client(server: LocalCloudServer, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        # The module's deploy runs before the per-test fake environment is set.
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(account_id_endpoint_mode="disabled"),
    )


def _wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


@dataclass
class Seen:
    """What the functions reported on the Seen queue, read off it as it arrives."""

    server: LocalCloudServer
    queue_url: str
    reports: list[dict[str, Any]] = field(default_factory=list)

    def of(self, kind: str) -> list[Any]:
        sqs = _client(self.server, "sqs")
        while messages := sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                self.reports.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [report["value"] for report in self.reports if report["kind"] == kind]


class SkippingClock:
    """The REST front's clock: real monotonic time, plus the seconds a test has skipped.

    Throttle buckets refill with it, so a test skips a refill's seconds rather than sleeping
    through them; it never runs backwards, which a bucket filled earlier would not expect.
    """

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skipped

    def skip(self, seconds: float) -> None:
        self.skipped += seconds


@dataclass
class Deployed:
    server: LocalCloudServer
    outputs: dict[str, str]
    api_url: str
    seen: Seen
    clock: SkippingClock

    def client(self, service: str) -> Any:
        return _client(self.server, service)


@pytest.fixture(scope="module")
def services_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("cdk-services")
    build_app(outdir=str(outdir)).synth()
    return outdir


@pytest.fixture(scope="module")
def deployed(services_assembly: Path) -> Iterator[Deployed]:
    with LocalCloudServer(port=0, region=REGION, time_scale=TIME_SCALE) as server:
        exit_code = cli.main(
            [
                "deploy",
                STACK_NAME,
                "--endpoint-url",
                server.endpoint_url,
                "--region",
                REGION,
                "--app",
                str(services_assembly),
            ]
        )
        assert exit_code == 0
        stack = _client(server, "cloudformation").describe_stacks(StackName=STACK_NAME)
        outputs = {
            output["OutputKey"]: output["OutputValue"] for output in stack["Stacks"][0]["Outputs"]
        }
        clock = SkippingClock()
        server.engine.service(RestApis).clock = clock
        # The API's output is the URL the endpoint serves its stage at.
        yield Deployed(
            server, outputs, outputs["ApiUrl"], Seen(server, outputs["SeenQueueUrl"]), clock
        )


def _request(
    url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: Any = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_rest_api_needs_a_token_and_a_key_and_throttles_past_the_burst(
    deployed: Deployed,
):
    hello = f"{deployed.api_url}hello"
    key = {"x-api-key": API_KEY_VALUE}

    assert _request(hello, headers=key) == (401, {"message": "Unauthorized"})
    assert _request(hello, headers={**key, "Authorization": "not-a-token"}) == (
        401,
        {"message": "Unauthorized"},
    )
    # A Deny in the authorizer's policy is worded apart from a policy not covering the method.
    assert _request(hello, headers={**key, "Authorization": "deny"}) == (
        403,
        {"message": "User is not authorized to access this resource with an explicit deny"},
    )
    assert _request(hello, headers={"Authorization": "allow"}) == (403, {"message": "Forbidden"})
    assert _request(
        hello, headers={"Authorization": "allow", "x-api-key": "not-the-key-of-any-plan"}
    ) == (403, {"message": "Forbidden"})
    allowed = (200, {"principal": "user-1", "tier": "gold"})
    assert _request(hello, headers={**key, "Authorization": "allow"}) == allowed

    # The usage plan's bucket holds 2 requests and refills at 1 a second: once it is full
    # again, two requests in a row pass and the third, sent at once, is throttled.
    deployed.clock.skip(2.5)
    statuses = [_request(hello, headers={**key, "Authorization": "allow"}) for _ in range(3)]
    assert statuses == [allowed, allowed, (429, {"message": "Too Many Requests"})]


def test_the_sqs_integration_queues_the_reshaped_body(deployed: Deployed):
    status, answer = _request(
        f"{deployed.api_url}orders",
        method="POST",
        body={"id": "order-7", "qty": 3, "note": "not queued"},
    )

    assert (status, answer) == (200, {"queued": True})
    sqs = deployed.client("sqs")
    messages = _wait_for(
        lambda: sqs.receive_message(QueueUrl=deployed.outputs["OrdersQueueUrl"]).get("Messages"),
        "the order on the queue",
    )
    assert [json.loads(message["Body"]) for message in messages] == [
        {"order": "order-7", "units": 3}
    ]


def test_a_poison_record_reaches_the_on_failure_queue_and_the_others_are_processed(
    deployed: Deployed,
):
    kinesis = deployed.client("kinesis")
    values = ["r1", "r2", "r3", "poison", "r4", "r5"]
    put = kinesis.put_records(
        StreamName=deployed.outputs["StreamName"],
        Records=[{"Data": value.encode(), "PartitionKey": "orders"} for value in values],
    )
    poison_sequence = put["Records"][values.index("poison")]["SequenceNumber"]
    good = [value for value in values if value != "poison"]

    # Bisecting isolates the poison record; the batches without it succeed, in shard order.
    _wait_for(lambda: len(deployed.seen.of("stream")) >= len(good), "the good records")
    assert deployed.seen.of("stream") == good

    sqs = deployed.client("sqs")
    failures = _wait_for(
        lambda: sqs.receive_message(
            QueueUrl=deployed.outputs["StreamFailuresQueueUrl"], MaxNumberOfMessages=10
        ).get("Messages"),
        "the failure record",
    )
    assert len(failures) == 1
    failure = json.loads(failures[0]["Body"])
    batch = failure["KinesisBatchInfo"]
    assert batch["batchSize"] == 1
    assert batch["startSequenceNumber"] == batch["endSequenceNumber"] == poison_sequence
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"

    # Each tumbling window ends with a final invocation carrying the window's state: the
    # counts over the windows add up to the records processed.
    _wait_for(
        lambda: sum(deployed.seen.of("window")) >= len(good), "the windows' final invocations"
    )
    assert sum(deployed.seen.of("window")) == len(good)


def test_an_event_on_the_bus_starts_an_execution_that_succeeds_with_the_functions_output(
    deployed: Deployed,
):
    bus = deployed.outputs["BusName"]
    entries = [
        {"order_id": "order-small", "amount": 20},
        {"order_id": "order-large", "amount": 250},
    ]
    put = deployed.client("events").put_events(
        Entries=[
            *(
                {
                    "EventBusName": bus,
                    "Source": EVENT_SOURCE,
                    "DetailType": EVENT_DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                }
                for detail in entries
            ),
            # The rule matches the detail type too: this one starts nothing.
            {
                "EventBusName": bus,
                "Source": EVENT_SOURCE,
                "DetailType": "OrderCancelled",
                "Detail": json.dumps({"order_id": "order-cancelled", "amount": 1}),
            },
        ]
    )
    assert put["FailedEntryCount"] == 0

    sfn = deployed.client("stepfunctions")
    machine = deployed.outputs["StateMachineArn"]

    def finished() -> list[dict[str, Any]] | None:
        executions = sfn.list_executions(stateMachineArn=machine)["executions"]
        if len(executions) < len(entries) or any(e["status"] == "RUNNING" for e in executions):
            return None
        return [sfn.describe_execution(executionArn=e["executionArn"]) for e in executions]

    executions = _wait_for(finished, "both executions to end")
    outcomes = {
        json.loads(execution["input"])["order_id"]: (
            execution["status"],
            json.loads(execution["output"]),
        )
        for execution in executions
    }
    # The small order is approved at once; the large one waits for its review first.
    assert outcomes == {
        "order-small": ("SUCCEEDED", {"order_id": "order-small", "verdict": "approve"}),
        "order-large": ("SUCCEEDED", {"order_id": "order-large", "verdict": "review"}),
    }


def test_an_object_under_the_prefix_reaches_the_function_and_one_outside_does_not(
    deployed: Deployed,
):
    s3 = deployed.client("s3")
    bucket = deployed.outputs["BucketName"]
    s3.put_object(Bucket=bucket, Key="elsewhere/report 1.csv", Body=b"a,b\n")
    s3.put_object(Bucket=bucket, Key=f"{UPLOAD_PREFIX}report 1.csv", Body=b"a,b\n")

    _wait_for(lambda: deployed.seen.of("object"), "the notification")
    # Nothing else is on its way: everything pending is delivered before looking again.
    urllib.request.urlopen(
        urllib.request.Request(
            f"{deployed.server.endpoint_url}/_localcloud/settle", data=b"", method="POST"
        )
    ).close()
    # S3 URL-encodes the key in the event, as on AWS.
    assert deployed.seen.of("object") == [f"{UPLOAD_PREFIX}report+1.csv"]
