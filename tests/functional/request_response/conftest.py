"""Fixtures for the request-response handler: moto tables, sample events and an invoker."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from shared.cache import reset_caches

from request_response import api
from request_response.contract import ENV_IDEMPOTENCY_TABLE_NAME, ENV_TABLE_NAME
from tests.samples import load_event

TABLE_NAME = "items-test"
IDEMPOTENCY_TABLE_NAME = "idempotency-test"


@dataclass
class Tables:
    """The moto tables behind the function, as infra defines them (key `id`)."""

    items: Any
    idempotency: Any

    def all_items(self) -> list[dict[str, Any]]:
        return self.items.scan(ConsistentRead=True)["Items"]

    def idempotency_records(self) -> list[dict[str, Any]]:
        return self.idempotency.scan(ConsistentRead=True)["Items"]


@pytest.fixture
def tables(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tables]:
    """Both tables in moto, the function's environment pointing at them, caches fresh."""
    monkeypatch.setenv(ENV_TABLE_NAME, TABLE_NAME)
    monkeypatch.setenv(ENV_IDEMPOTENCY_TABLE_NAME, IDEMPOTENCY_TABLE_NAME)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "request_response")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "request-response-api")
    # Metrics() read its namespace when pytest imported the handler, before the autouse
    # environment existed; in Lambda the environment is there before the import.
    monkeypatch.setattr(api.metrics, "namespace", os.environ["POWERTOOLS_METRICS_NAMESPACE"])
    reset_caches()
    dynamodb = boto3.resource("dynamodb")
    created = [
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for name in (TABLE_NAME, IDEMPOTENCY_TABLE_NAME)
    ]
    yield Tables(items=created[0], idempotency=created[1])
    reset_caches()


EventFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def make_event() -> EventFactory:
    """Load `events/request_response/<name>.json` and override parts of it.

    `body` may be a dict (sent as JSON), a str (sent as is) or None (no body);
    `item_id` rewrites the path; `query` replaces the query string; `headers` are merged.
    """

    def factory(
        name: str,
        *,
        body: Any = ...,
        item_id: str | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str | None] | None = None,
        base64_body: bool = False,
    ) -> dict[str, Any]:
        event = load_event("request_response", f"{name}.json")
        if item_id is not None:
            path = event["rawPath"].rsplit("/", 1)[0] + f"/{item_id}"
            event["rawPath"] = event["requestContext"]["http"]["path"] = path
            event["pathParameters"] = {"id": item_id}
        if query is not None:
            event["rawQueryString"] = "&".join(f"{key}={value}" for key, value in query.items())
            event.pop("queryStringParameters", None)
            if query:
                event["queryStringParameters"] = query
        if body is not ...:
            if body is None:
                event.pop("body", None)
                event["headers"].pop("content-length", None)
            else:
                text = body if isinstance(body, str) else json.dumps(body)
                size = len(text.encode())
                if base64_body:
                    text = base64.b64encode(text.encode()).decode()
                event["body"] = text
                event["isBase64Encoded"] = base64_body
                event["headers"]["content-length"] = str(size)
        for header, value in (headers or {}).items():
            if value is None:
                event["headers"].pop(header.lower(), None)
            else:
                event["headers"][header.lower()] = value
        return event

    return factory


@dataclass
class HttpResult:
    """What API Gateway would send back for the handler's answer."""

    status: int
    headers: dict[str, str]
    body: Any

    @property
    def message(self) -> str:
        return self.body["message"]

    def error_locations(self) -> set[str]:
        return {error["location"] for error in self.body.get("errors", [])}


@pytest.fixture
def invoke(lambda_context: Any) -> Callable[[dict[str, Any]], HttpResult]:
    """Run the real handler on an event and decode its HTTP API response."""

    def run(event: dict[str, Any]) -> HttpResult:
        response = api.handler(event, lambda_context)
        raw = response.get("body")
        if response.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode()
        return HttpResult(
            status=response["statusCode"],
            headers={key.lower(): value for key, value in (response.get("headers") or {}).items()},
            body=json.loads(raw) if raw else None,
        )

    return run
