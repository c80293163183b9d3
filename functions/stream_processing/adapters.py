"""boto3 adapters of the stream-processing pattern: the stream, the aggregates table, the alert
topic and the on-failure queue.

Every adapter is built on first use through `shared.aws`'s cached clients, never at import
time, so tests can point them at moto or swap them for fakes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from shared import aws
from shared.cache import cached

from stream_processing.contract import aggregate_key
from stream_processing.errors import ConcurrentWriteError, PutRecordsRefusedError
from stream_processing.models import Alert, PutOutcome, Reading, RejectedRecord, StoredAggregate

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_kinesis.client import KinesisClient
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient


def kinesis_client() -> KinesisClient:
    return aws.client("kinesis")


def dynamodb_client() -> DynamoDBClient:
    return aws.client("dynamodb")


class Stream:
    """The Kinesis stream the producer writes to; each reading's key is its partition key, so
    the readings of one key go to one shard, in the order they are put."""

    def __init__(self, client: KinesisClient, stream_name: str) -> None:
        self._client = client
        self.stream_name = stream_name

    def put_records(self, readings: Sequence[Reading]) -> PutOutcome:
        """One PutRecords call; the entries Kinesis did not take come back, not raised."""
        try:
            response = self._client.put_records(
                StreamName=self.stream_name,
                Records=[
                    {"Data": reading.to_data(), "PartitionKey": reading.key} for reading in readings
                ],
            )
        except ClientError as error:
            raise PutRecordsRefusedError(
                error.response.get("Error", {}).get("Message", str(error)),
                code=error.response.get("Error", {}).get("Code", "Unknown"),
            ) from error
        except BotoCoreError as error:
            raise PutRecordsRefusedError(str(error), code=type(error).__name__) from error
        return PutOutcome(
            failed={
                index: entry["ErrorCode"]
                for index, entry in enumerate(response["Records"])
                if entry.get("ErrorCode")
            }
        )


@cached
def stream(stream_name: str) -> Stream:
    return Stream(kinesis_client(), stream_name)


class AggregatesTable:
    """The aggregates table (`pk` KEY#<key>, `sk` WINDOW#<start>): one item per key and window."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def get(self, key: str, window_start: str) -> StoredAggregate | None:
        response = self._client.get_item(
            TableName=self.table_name,
            Key=_key(key, window_start),
            ConsistentRead=True,  # the read of a read-modify-write
        )
        item = response.get("Item")
        if item is None:
            return None
        return StoredAggregate(
            key=item["key"]["S"],
            window_start=item["window_start"]["S"],
            window_end=item["window_end"]["S"],
            count=int(item["count"]["N"]),
            total=Decimal(item["sum"]["N"]),
            minimum=Decimal(item["min"]["N"]),
            maximum=Decimal(item["max"]["N"]),
            parts=frozenset(item["parts"]["SS"]),
            alerted=item.get("alerted", {}).get("BOOL", False),
            version=int(item["version"]["N"]),
        )

    def put(self, aggregate: StoredAggregate, *, expected_version: int | None) -> None:
        """Write the item if it is still at `expected_version` (None: if there is none yet)."""
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected_version is None
            else {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        )
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item={
                    **_key(aggregate.key, aggregate.window_start),
                    "key": {"S": aggregate.key},
                    "window_start": {"S": aggregate.window_start},
                    "window_end": {"S": aggregate.window_end},
                    "count": {"N": str(aggregate.count)},
                    "sum": {"N": str(aggregate.total)},
                    "min": {"N": str(aggregate.minimum)},
                    "max": {"N": str(aggregate.maximum)},
                    "parts": {"SS": sorted(aggregate.parts)},
                    "alerted": {"BOOL": aggregate.alerted},
                    "version": {"N": str(aggregate.version)},
                },
                **condition,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ConcurrentWriteError(
                    f"the aggregate of {aggregate.key} in the window from "
                    f"{aggregate.window_start} changed while it was being written"
                ) from error
            raise

    def mark_alerted(self, aggregate: StoredAggregate) -> None:
        self._client.update_item(
            TableName=self.table_name,
            Key=_key(aggregate.key, aggregate.window_start),
            UpdateExpression="SET alerted = :true",
            ExpressionAttributeValues={":true": {"BOOL": True}},
        )


def _key(key: str, window_start: str) -> dict[str, Any]:
    return {name: {"S": value} for name, value in aggregate_key(key, window_start).items()}


@cached
def aggregates_table(table_name: str) -> AggregatesTable:
    return AggregatesTable(dynamodb_client(), table_name)


class AlertTopic:
    """The encrypted SNS topic alerts go to."""

    def __init__(self, client: SNSClient, topic_arn: str) -> None:
        self._client = client
        self.topic_arn = topic_arn

    def publish(self, alert: Alert) -> None:
        self._client.publish(TopicArn=self.topic_arn, Message=json.dumps(alert.to_message()))


@cached
def alert_topic(topic_arn: str) -> AlertTopic:
    return AlertTopic(aws.client("sns"), topic_arn)


class RejectedRecords:
    """The mapping's on-failure queue, where the aggregator reports records it cannot read."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self.queue_url = queue_url

    def send(self, rejected: RejectedRecord) -> None:
        self._client.send_message(
            QueueUrl=self.queue_url, MessageBody=json.dumps(rejected.to_message())
        )


@cached
def rejected_records(queue_url: str) -> RejectedRecords:
    return RejectedRecords(aws.client("sqs"), queue_url)
