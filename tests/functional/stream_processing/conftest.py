"""Fixtures for the stream-processing functional tests: the pattern's resources in moto."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from shared.cache import reset_caches

from stream_processing import contract
from tests.conftest import MOTO_CONFIG
from tests.samples import load_event

ALERT_THRESHOLD = "100"


@dataclass(frozen=True)
class StreamProcessingResources:
    stream_name: str
    stream_arn: str
    table_name: str
    alerts_queue_url: str
    on_failure_queue_url: str


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    """Clients and settings are cached per process, as on Lambda: each test gets new ones."""
    reset_caches()


@pytest.fixture
def sample_event() -> Callable[[str], Any]:
    return functools.partial(load_event, "stream_processing")


@pytest.fixture(scope="module")
def deployed() -> Iterator[StreamProcessingResources]:
    """The StreamProcessing stack's resources in moto, once per test module, wired as the
    construct wires them: a 2-shard stream, the aggregates table, the alert topic with its
    raw-delivery queue, and the on-failure queue; the functions' environment names them."""
    with pytest.MonkeyPatch.context() as env, mock_aws(config=MOTO_CONFIG):
        env.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        kinesis = boto3.client("kinesis")
        sqs = boto3.client("sqs")
        sns = boto3.client("sns")
        kinesis.create_stream(StreamName="readings", ShardCount=2)
        stream_arn = kinesis.describe_stream_summary(StreamName="readings")[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        boto3.client("dynamodb").create_table(
            TableName="aggregates",
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
        boto3.client("dynamodb").create_table(
            TableName="idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        topic_arn = sns.create_topic(Name="alerts")["TopicArn"]
        alerts_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        alerts_arn = sqs.get_queue_attributes(QueueUrl=alerts_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=alerts_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        on_failure_url = sqs.create_queue(QueueName="on-failure")["QueueUrl"]
        for name, value in {
            contract.ENV_STREAM_NAME: "readings",
            contract.ENV_IDEMPOTENCY_TABLE_NAME: "idempotency",
            contract.ENV_AGGREGATES_TABLE_NAME: "aggregates",
            contract.ENV_ALERT_TOPIC_ARN: topic_arn,
            contract.ENV_REJECTED_RECORDS_QUEUE_URL: on_failure_url,
            contract.ENV_ALERT_THRESHOLD: ALERT_THRESHOLD,
        }.items():
            env.setenv(name, value)
        yield StreamProcessingResources(
            stream_name="readings",
            stream_arn=stream_arn,
            table_name="aggregates",
            alerts_queue_url=alerts_url,
            on_failure_queue_url=on_failure_url,
        )


@pytest.fixture
def stream_processing(deployed: StreamProcessingResources) -> StreamProcessingResources:
    """The module's resources, with the table and queues emptied by the test before."""
    dynamodb = boto3.client("dynamodb")
    for item in dynamodb.scan(TableName=deployed.table_name)["Items"]:
        dynamodb.delete_item(
            TableName=deployed.table_name, Key={"pk": item["pk"], "sk": item["sk"]}
        )
    for url in (deployed.alerts_queue_url, deployed.on_failure_queue_url):
        drain(url)  # PurgeQueue takes one call a minute, as on AWS
    return deployed


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Every message body in the queue, parsed, in the order SQS hands them out."""
    sqs = boto3.client("sqs")
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def stream_records(stream_name: str) -> dict[str, list[dict[str, Any]]]:
    """The records of each shard, from its start, as GetRecords returns them."""
    kinesis = boto3.client("kinesis")
    by_shard = {}
    for shard in kinesis.list_shards(StreamName=stream_name)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream_name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        by_shard[shard["ShardId"]] = kinesis.get_records(ShardIterator=iterator, Limit=10_000)[
            "Records"
        ]
    return by_shard
