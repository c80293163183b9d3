"""Fixtures for the pub-sub functional tests: the pattern's resources in moto, and its events."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from shared.cache import reset_caches

from pub_sub import contract, subscriber
from tests.functional.pub_sub.stack_wiring import MAX_RECEIVE_COUNT, SUBSCRIPTIONS
from tests.samples import load_event


@dataclass(frozen=True)
class Inbox:
    """One subscriber's queue and dead-letter queue."""

    url: str
    arn: str
    dlq_url: str


@dataclass(frozen=True)
class PubSubResources:
    topic_arn: str
    inboxes: dict[str, Inbox]
    ledger_table: str
    idempotency_table: str


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    """Clients and settings are cached per process, as on Lambda: each test gets new ones."""
    reset_caches()


@pytest.fixture
def sample_event() -> Callable[[str], dict[str, Any]]:
    """Load a sample event from events/pub_sub/ (a fresh copy each call, free to tweak)."""

    return functools.partial(load_event, "pub_sub")


@pytest.fixture
def orders(sample_event: Callable[[str], dict[str, Any]]) -> Callable[..., list[dict[str, Any]]]:
    """`orders(n, **overrides)`: n order events with distinct ids, based on publish_orders.json.

    Event types cycle through the sample's, so the share each subscriber should get is known.
    """

    def make(count: int, **overrides: Any) -> list[dict[str, Any]]:
        samples = sample_event("publish_orders.json")["events"]
        made = []
        for index in range(count):
            event = copy.deepcopy(samples[index % len(samples)])
            event["event_id"] = f"00000000-0000-4000-8000-{index:012d}"
            event["order_id"] = f"ORD-{index:04d}"
            event.update(overrides)
            made.append(event)
        return made

    return make


@pytest.fixture
def sqs_event(
    sample_event: Callable[[str], dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """`sqs_event(messages, queue_arn)`: the Lambda SQS event for messages SQS handed out.

    Built from a record of events/pub_sub/sqs_fulfilment_envelope.json, with the fields of each
    received message (as `ReceiveMessage` with all attributes returns it) written over it.
    """

    def build(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
        template = sample_event("sqs_fulfilment_envelope.json")["Records"][0]
        records = []
        for message in messages:
            record = copy.deepcopy(template)
            record.update(
                messageId=message["MessageId"],
                receiptHandle=message["ReceiptHandle"],
                body=message["Body"],
                md5OfBody=message["MD5OfBody"],
                eventSourceARN=queue_arn,
                attributes={
                    name: message["Attributes"][name]
                    for name in (
                        "ApproximateReceiveCount",
                        "SentTimestamp",
                        "SenderId",
                        "ApproximateFirstReceiveTimestamp",
                    )
                },
                messageAttributes={
                    name: {
                        "stringValue": value.get("StringValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
            )
            records.append(record)
        return {"Records": records}

    return build


@pytest.fixture
def with_body() -> Callable[[dict[str, Any], str, str], dict[str, Any]]:
    """`with_body(record, body, message_id)`: a copy of an SQS record carrying another body."""

    def tweak(record: dict[str, Any], body: str, message_id: str) -> dict[str, Any]:
        tweaked = copy.deepcopy(record)
        tweaked.update(
            body=body,
            messageId=message_id,
            md5OfBody=hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        )
        return tweaked

    return tweak


@pytest.fixture
def pub_sub(aws: None, monkeypatch: pytest.MonkeyPatch) -> PubSubResources:
    """The PubSub stack's resources in moto, wired as infra/patterns/pub_sub.py wires them.

    Queues have a visibility timeout of 0, so a message a consumer did not delete is visible
    again at once and redrive tests need no sleeping.
    """
    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    dynamodb = boto3.client("dynamodb")
    topic_arn = sns.create_topic(Name="pub-sub-orders")["TopicArn"]

    inboxes = {}
    for name, subscription_attributes in SUBSCRIPTIONS.items():
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        url = sqs.create_queue(
            QueueName=f"{name}-inbox",
            Attributes={
                "VisibilityTimeout": "0",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
                ),
            },
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=subscription_attributes
        )
        inboxes[name] = Inbox(url=url, arn=arn, dlq_url=dlq_url)

    dynamodb.create_table(
        TableName="pub-sub-ledger",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.create_table(
        TableName="pub-sub-idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName="pub-sub-idempotency",
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
    )

    monkeypatch.setenv(contract.ENV_TOPIC_ARN, topic_arn)
    monkeypatch.setenv(contract.ENV_LEDGER_TABLE_NAME, "pub-sub-ledger")
    monkeypatch.setenv(contract.ENV_IDEMPOTENCY_TABLE_NAME, "pub-sub-idempotency")
    return PubSubResources(
        topic_arn=topic_arn,
        inboxes=inboxes,
        ledger_table="pub-sub-ledger",
        idempotency_table="pub-sub-idempotency",
    )


@pytest.fixture
def as_publisher(monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Any:
    """The Lambda context of the publisher function (Lambda also sets its name in the env)."""
    lambda_context.function_name = "PubSub-Publisher"
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", lambda_context.function_name)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", contract.PUBLISHER_SERVICE_NAME)
    return lambda_context


@pytest.fixture
def as_subscriber(monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Callable[[str], Any]:
    """`as_subscriber(name)`: become that subscriber's consumer function; returns its context.

    Each consumer is its own Lambda function, with its own process: switching subscribers in
    one test means new settings and a new idempotency store, as a new process would have.
    """

    def become(name: str) -> Any:
        reset_caches()
        lambda_context.function_name = f"PubSub-{name}-Consumer"
        monkeypatch.setenv(contract.ENV_SUBSCRIBER_NAME, name)
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", lambda_context.function_name)
        service = contract.subscriber_service_name(contract.SubscriberName(name))
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", service)
        return lambda_context

    return become


@pytest.fixture
def ledger_item(pub_sub: PubSubResources) -> Callable[[str, str], dict[str, Any] | None]:
    """`ledger_item(pk, sk)`: the ledger item as plain Python values, or None."""
    table = boto3.resource("dynamodb").Table(pub_sub.ledger_table)

    def get(pk: str, sk: str) -> dict[str, Any] | None:
        return table.get_item(Key={"pk": pk, "sk": sk}).get("Item")

    return get


@dataclass
class ConsumeReport:
    """What a `consume` run saw: one entry per invoke, the message ids it reported failed."""

    failed_per_invoke: list[list[str]]

    @property
    def invokes(self) -> int:
        return len(self.failed_per_invoke)


@pytest.fixture
def consume(
    pub_sub: PubSubResources,
    as_subscriber: Callable[[str], Any],
    sqs_event: Callable[..., dict[str, Any]],
) -> Callable[..., ConsumeReport]:
    """`consume(name)`: do what Lambda's SQS poller does for that subscriber, until its queue
    is empty: receive up to 10, invoke the handler, delete the records not reported failed.

    A failed invoke (every record failed) deletes nothing, as on AWS. `lose_first_deletes`
    skips the deletes after the first invoke, like a function that timed out after applying
    its effects: those messages come back.
    """
    sqs = boto3.client("sqs")

    def run(name: str, *, lose_first_deletes: bool = False, max_invokes: int = 50) -> ConsumeReport:
        context = as_subscriber(name)
        inbox = pub_sub.inboxes[name]
        report = ConsumeReport(failed_per_invoke=[])
        for _ in range(max_invokes):
            messages = sqs.receive_message(
                QueueUrl=inbox.url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                return report
            try:
                response = subscriber.handler(sqs_event(messages, inbox.arn), context)
                failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
            except BatchProcessingError:
                failed = {message["MessageId"] for message in messages}
            report.failed_per_invoke.append(sorted(failed))
            if lose_first_deletes and report.invokes == 1:
                continue
            for message in messages:
                if message["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=inbox.url, ReceiptHandle=message["ReceiptHandle"])
        raise AssertionError(f"{name}'s queue still had messages after {max_invokes} invokes")

    return run
