"""Fixtures for the event-sourcing handlers: the ledger's tables in moto, the stream read back,
and the API called with the sample events."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from shared.cache import reset_caches

from event_sourcing import adapters, api, contract
from tests.samples import load_event

SNAPSHOT_INTERVAL = 5


@dataclass
class Ledger:
    """The moto tables behind the functions, keyed as the stack keys them."""

    events_table: str = "events"
    snapshots_table: str = "snapshots"
    projection_table: str = "projection"
    rebuild_table: str = "rebuild"

    @property
    def store(self) -> adapters.EventStore:
        return adapters.event_store(self.events_table, self.snapshots_table)

    def items(self, kind: str) -> list[dict[str, Any]]:
        """Every item of the event store of `kind` (event, head, command), plain."""
        found = []
        client = boto3.client("dynamodb")
        kwargs: dict[str, Any] = {"TableName": self.events_table, "ConsistentRead": True}
        while True:
            page = client.scan(**kwargs)
            found += [adapters.from_attributes(item) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [item for item in found if item[contract.KIND_ATTRIBUTE] == kind]

    def stream_records(self, account_id: str | None = None) -> list[dict[str, Any]]:
        """The store's stream from its start, as Lambda would get its records, with the
        stack's filter applied (new events only); `account_id` keeps that account's."""
        client = boto3.client("dynamodb")
        streams = boto3.client("dynamodbstreams")
        arn = client.describe_table(TableName=self.events_table)["Table"]["LatestStreamArn"]
        records = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
                image = record["dynamodb"].get("NewImage", {})
                if record["eventName"] != "INSERT" or image.get("kind") != {"S": "event"}:
                    continue
                if account_id is None or image["pk"]["S"] == account_id:
                    record = json.loads(json.dumps(record, default=str))
                    record["eventSourceARN"] = arn
                    records.append(record)
        return records


def _versioned_table(name: str, *, stream: bool = False) -> None:
    extra: dict[str, Any] = {}
    if stream:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def _read_model_table(name: str) -> None:
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "account_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "account_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def ledger(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    """The four tables in moto, the functions' environment pointing at them, caches fresh."""
    tables = Ledger()
    _versioned_table(tables.events_table, stream=True)
    _versioned_table(tables.snapshots_table)
    _read_model_table(tables.projection_table)
    _read_model_table(tables.rebuild_table)
    for name, value in {
        contract.ENV_EVENTS_TABLE_NAME: tables.events_table,
        contract.ENV_SNAPSHOTS_TABLE_NAME: tables.snapshots_table,
        contract.ENV_PROJECTION_TABLE_NAME: tables.projection_table,
        contract.ENV_SNAPSHOT_INTERVAL: str(SNAPSHOT_INTERVAL),
        "POWERTOOLS_SERVICE_NAME": "event_sourcing",
    }.items():
        monkeypatch.setenv(name, value)
    # Metrics() read its namespace when pytest imported the handler, before the autouse
    # environment existed; in Lambda the environment is there before the import.
    monkeypatch.setattr(api.metrics, "namespace", os.environ["POWERTOOLS_METRICS_NAMESPACE"])
    reset_caches()
    yield tables
    reset_caches()


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: Any


Call = Callable[..., HttpResult]


@pytest.fixture
def call(ledger: Ledger, lambda_context: Any) -> Call:
    """`call(method, path, body=..., query=..., headers=...)`: the API's handler on the
    sample event of the route, rewritten for this request, decoded as API Gateway would."""

    def run(
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        base64_body: bool = False,
    ) -> HttpResult:
        sample = "open_account.json" if method == "POST" else "get_events.json"
        event = load_event("event_sourcing", sample)
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["requestContext"]["http"]["method"] = method
        parts = path.strip("/").split("/")
        event["pathParameters"] = {"id": parts[1]} if len(parts) > 1 else {}
        event.pop("queryStringParameters", None)
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in (query or {}).items())
        if query:
            event["queryStringParameters"] = query
        if body is None:
            event.pop("body", None)
        else:
            event["body"] = body if isinstance(body, str) else json.dumps(body)
            event["headers"]["content-type"] = "application/json"
            event["isBase64Encoded"] = base64_body
        event["headers"].update(headers or {})
        response = api.handler(event, lambda_context)
        raw = response.get("body")
        return HttpResult(
            status=response["statusCode"],
            headers={k.lower(): v for k, v in (response.get("headers") or {}).items()},
            body=json.loads(raw) if raw else None,
        )

    return run


def command(account_id: str, call: Call, **body: Any) -> HttpResult:
    return call("POST", f"/accounts/{account_id}/commands", body=body)
