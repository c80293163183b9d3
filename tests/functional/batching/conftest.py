"""Fixtures for the batching functional tests: the pattern's queues and table in moto."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from shared.cache import reset_caches

from batching import adapters, contract
from tests.samples import load_event

#: The redrive policy of the work queue (the Batching construct's default).
MAX_RECEIVE_COUNT = 5


@dataclass(frozen=True)
class BatchingResources:
    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str
    table_name: str


@pytest.fixture
def sample_event() -> Callable[[str], Any]:
    """Load a sample event from events/batching/ (a fresh copy each call, free to tweak)."""
    return functools.partial(load_event, "batching")


@pytest.fixture
def batching(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[BatchingResources]:
    """The Batching stack's queues and table in moto, wired as infra/patterns/batching.py
    wires them, and the functions' environment pointing at them (retries without waits)."""
    reset_caches()
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName="batching-dlq")["QueueUrl"]
    dlq_arn = _arn(sqs, dlq_url)
    queue_url = sqs.create_queue(
        QueueName="batching-inbox",
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
            ),
        },
    )["QueueUrl"]
    boto3.client("dynamodb").create_table(
        TableName="batching-items",
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
    for name, value in {
        contract.ENV_QUEUE_URL: queue_url,
        contract.ENV_DEAD_LETTER_QUEUE_URL: dlq_url,
        contract.ENV_ITEMS_TABLE_NAME: "batching-items",
        contract.ENV_MAX_RECEIVE_COUNT: str(MAX_RECEIVE_COUNT),
        contract.ENV_WRITE_MAX_ATTEMPTS: "4",
        # Full jitter below 0 ms: the retries happen without waiting.
        contract.ENV_WRITE_BASE_DELAY_MS: "0",
    }.items():
        monkeypatch.setenv(name, value)
    yield BatchingResources(
        queue_url=queue_url,
        queue_arn=_arn(sqs, queue_url),
        dlq_url=dlq_url,
        dlq_arn=dlq_arn,
        table_name="batching-items",
    )
    reset_caches()


def _arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


@pytest.fixture
def items_in_table(batching: BatchingResources) -> Callable[[], list[dict[str, Any]]]:
    table = boto3.resource("dynamodb").Table(batching.table_name)
    return lambda: sorted(table.scan()["Items"], key=lambda item: (item["pk"], item["sk"]))


class ThrottlingDynamoDB:
    """The moto client, except that BatchWriteItem leaves the last `count` puts of its next
    `calls` calls unprocessed, as DynamoDB does when it throttles part of a call."""

    def __init__(self, client: Any, *, count: int, calls: int = 1) -> None:
        self._client = client
        self.count, self.calls_left = count, calls
        self.batch_write_calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems: dict[str, list[Any]], **kwargs: Any) -> Any:  # noqa: N803 - boto3's name
        self.batch_write_calls += 1
        if self.calls_left <= 0:
            return self._client.batch_write_item(RequestItems=RequestItems, **kwargs)
        self.calls_left -= 1
        [(table, requests)] = RequestItems.items()
        kept, left = requests[: -self.count], requests[-self.count :]
        response = self._client.batch_write_item(RequestItems={table: kept}) if kept else {}
        return {**response, "UnprocessedItems": {table: left}}


@pytest.fixture
def throttle(
    batching: BatchingResources, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., ThrottlingDynamoDB]:
    """`throttle(count, calls=1)`: the writer's DynamoDB leaves `count` items unprocessed."""

    def install(count: int, calls: int = 1) -> ThrottlingDynamoDB:
        reset_caches()
        client = ThrottlingDynamoDB(boto3.client("dynamodb"), count=count, calls=calls)
        monkeypatch.setattr(adapters, "dynamodb_client", lambda: client)
        return client

    return install
