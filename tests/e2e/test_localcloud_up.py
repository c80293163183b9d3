"""`localcloud up` end to end: the real `cdk deploy` onto the endpoint, then AWS APIs and HTTP."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from demo import pub_sub as pub_sub_scenario
from infra import registry
from localcloud import cli
from localcloud.remote import RemoteCloud
from localcloud.server import LocalCloudServer
from pub_sub import contract as pub_sub_contract
from request_response import contract as request_response_contract
from tests.synth import CloudAssembly

PUB_SUB = registry.pattern("pub_sub").stack_name
REQUEST_RESPONSE = registry.pattern("request_response").stack_name

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def deployed(dev_assembly: CloudAssembly) -> Iterator[LocalCloudServer]:
    # 0.005 turns the subscribers' 180 s visibility timeout into 1 s: redrive takes seconds.
    with LocalCloudServer(port=0, region=REGION, time_scale=0.005) as server:
        exit_code = cli.main(
            [
                "deploy",
                # The stacks these tests drive: every pattern's stack runs end to end in
                # process (test_demo_scenarios), and each more here costs seconds of CDK CLI.
                PUB_SUB,
                REQUEST_RESPONSE,
                "--endpoint-url",
                server.endpoint_url,
                "--app",
                str(dev_assembly.outdir),
            ]
        )
        assert exit_code == 0
        yield server


def _client(server: LocalCloudServer, service: str):
    return boto3.client(
        service,
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        config=Config(account_id_endpoint_mode="disabled"),
    )


def _outputs(server: LocalCloudServer, stack: str) -> dict[str, str]:
    stack = _client(server, "cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def _wait_for(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_published_events_reach_the_real_subscribers_and_the_poison_reaches_the_dlq(
    deployed: LocalCloudServer,
):
    outputs = _outputs(deployed, PUB_SUB)
    sns, sqs = _client(deployed, "sns"), _client(deployed, "sqs")
    order = {
        "event_id": str(uuid.uuid4()),
        "event_type": pub_sub_contract.EventType.ORDER_PLACED.value,
        "order_id": "order-up-1",
        "amount": 1500,
        "currency": "EUR",
        "occurred_at": "2026-11-27T09:00:00Z",
        "customer_id": "customer-1",
    }
    attributes = {
        pub_sub_contract.EVENT_TYPE_ATTRIBUTE: {
            "DataType": "String",
            "StringValue": pub_sub_contract.EventType.ORDER_PLACED.value,
        }
    }

    sns.publish(
        TopicArn=outputs[pub_sub_contract.OUTPUT_TOPIC_ARN],
        Message=json.dumps(order),
        MessageAttributes=attributes,
    )
    sns.publish(
        TopicArn=outputs[pub_sub_contract.OUTPUT_TOPIC_ARN],
        Message="not an order",
        MessageAttributes=attributes,
    )

    ledger = _client(deployed, "dynamodb")
    items = _wait_for(
        lambda: (
            ledger.query(
                TableName=outputs[pub_sub_contract.OUTPUT_LEDGER_TABLE_NAME],
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": "ORDER#order-up-1"}},
            )["Items"]
            if len(
                ledger.query(
                    TableName=outputs[pub_sub_contract.OUTPUT_LEDGER_TABLE_NAME],
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": {"S": "ORDER#order-up-1"}},
                )["Items"]
            )
            == 2
            else None
        )
    )
    # fulfilment reserved stock and fraud_review (amount >= 1000) asked for a review.
    assert {item["sk"]["S"] for item in items} == {
        pub_sub_contract.SubscriberName.FULFILMENT,
        pub_sub_contract.SubscriberName.FRAUD_REVIEW,
    }

    dead_letters = _wait_for(
        lambda: sqs.receive_message(
            QueueUrl=outputs[
                pub_sub_contract.output_dead_letter_queue_url(
                    pub_sub_contract.SubscriberName.FULFILMENT
                )
            ],
            MaxNumberOfMessages=10,
        ).get("Messages")
    )
    assert [json.loads(message["Body"])["Message"] for message in dead_letters] == ["not an order"]


def test_deploying_an_unchanged_stack_again_reports_no_changes_and_bootstraps_nothing(
    deployed: LocalCloudServer, dev_assembly: CloudAssembly, capfd: pytest.CaptureFixture[str]
):
    before = _outputs(deployed, REQUEST_RESPONSE)

    exit_code = cli.main(
        [
            "deploy",
            REQUEST_RESPONSE,
            "--endpoint-url",
            deployed.endpoint_url,
            "--app",
            str(dev_assembly.outdir),
        ]
    )

    # The CLI's change set has no changes (its parameters keep their previous values), so, as
    # on AWS, it reports the stack unchanged and the stack is never updated.
    assert exit_code == 0
    printed = capfd.readouterr()
    assert f"{REQUEST_RESPONSE} (no changes)" in printed.out + printed.err
    # Nor is the bootstrap run again: the version the first deploy left is enough.
    assert "bootstrap version" in printed.out
    assert "is in place (the app needs 6)" in printed.out
    stack = _client(deployed, "cloudformation").describe_stacks(StackName=REQUEST_RESPONSE)
    assert stack["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert _outputs(deployed, REQUEST_RESPONSE) == before


def test_the_api_url_output_creates_and_reads_an_item(deployed: LocalCloudServer):
    api_url = _outputs(deployed, REQUEST_RESPONSE)[request_response_contract.OUTPUT_API_URL]
    assert api_url.startswith(f"{deployed.endpoint_url}/execute-api/")
    request = urllib.request.Request(
        f"{api_url}items",
        data=json.dumps({"name": "Blue widget", "quantity": 2}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as created:
        item = json.loads(created.read())
        assert created.status == 201

    with urllib.request.urlopen(f"{api_url}items/{item['id']}") as read:
        assert read.status == 200
        assert json.loads(read.read())["name"] == "Blue widget"

    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{api_url}no-such-route")
    assert missing.value.code == 404
    assert json.loads(missing.value.read()) == {"message": "Not Found"}


def test_the_pub_sub_scenario_on_the_running_endpoint_reports_what_it_sent_and_ran(
    deployed: LocalCloudServer,
):
    cloud = RemoteCloud(deployed.endpoint_url, region=REGION)
    first = pub_sub_scenario.run(cloud)

    # A second run on the same endpoint reports its own numbers, not the earlier run's too.
    outcome = pub_sub_scenario.run(cloud)

    # Each subscriber's whole filtered share, read before any consumer took a message, though
    # the endpoint delivers in the background: 15 placed + 5 cancelled + the poison message;
    # 5 shipped + 5 cancelled; placed >= 1000.
    assert outcome.delivered == {
        pub_sub_contract.subscriber_id(pub_sub_contract.SubscriberName.FULFILMENT): 21,
        pub_sub_contract.subscriber_id(pub_sub_contract.SubscriberName.NOTIFICATIONS): 10,
        pub_sub_contract.subscriber_id(pub_sub_contract.SubscriberName.FRAUD_REVIEW): 5,
    }
    # The delivery step's count and the total listed agree: two publisher invocations and the
    # redelivery are the others.
    assert outcome.invocations == outcome.consumer_invocations + 3
    fulfilment = pub_sub_contract.subscriber_id(pub_sub_contract.SubscriberName.FULFILMENT)
    assert outcome.dead_letters[fulfilment] == first.dead_letters[fulfilment] == 1
    assert outcome.reservations_after_redelivery == first.reservations_after_redelivery == 1
    # Every delivered message but the poison one left its item, beside the fraud-review total.
    assert outcome.ledger_items == first.ledger_items == sum(outcome.delivered.values())
