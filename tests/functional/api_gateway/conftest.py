"""Fixtures for the API gateway functional tests: the key set parameter and tables in moto."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from shared.cache import reset_caches

from api_gateway import contract
from demo.token_issuer import TokenIssuer
from tests.samples import load_event

ORDERS_TABLE = "api-gateway-orders"
FEEDBACK_TABLE = "api-gateway-feedback"
JWKS_PARAMETER = "/api-gateway/jwks"
#: The feedback queue's redrive policy (the ApiGateway construct's default).
MAX_RECEIVE_COUNT = 5


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture
def sample_event() -> Callable[[str], Any]:
    """Load a sample event from events/api_gateway/ (a fresh copy each call, free to tweak)."""
    return functools.partial(load_event, "api_gateway")


@pytest.fixture
def api_gateway(aws: None, monkeypatch: pytest.MonkeyPatch, issuer: TokenIssuer) -> Iterator[str]:
    """The stack's tables, feedback DLQ and key set parameter in moto (trusting `issuer`), and
    the functions' environment pointing at them, as infra/patterns/api_gateway.py sets it;
    yields the DLQ's URL."""
    reset_caches()
    dynamodb = boto3.client("dynamodb")
    for table, key in ((ORDERS_TABLE, "order_id"), (FEEDBACK_TABLE, "feedback_id")):
        dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    dead_letter_queue_url = boto3.client("sqs").create_queue(QueueName="feedback-dlq")["QueueUrl"]
    boto3.client("ssm").put_parameter(
        Name=JWKS_PARAMETER, Value=json.dumps(issuer.key_set()), Type="String"
    )
    for name, value in {
        contract.ENV_JWT_ISSUER: issuer.issuer,
        contract.ENV_JWT_AUDIENCE: issuer.audience,
        contract.ENV_JWKS_PARAMETER_NAME: JWKS_PARAMETER,
        contract.ENV_JWKS_MAX_AGE_SECONDS: "300",
        contract.ENV_ORDERS_TABLE_NAME: ORDERS_TABLE,
        contract.ENV_FEEDBACK_TABLE_NAME: FEEDBACK_TABLE,
        contract.ENV_CORS_ORIGINS: "https://app.example.com,https://admin.example.com",
        contract.ENV_DEAD_LETTER_QUEUE_URL: dead_letter_queue_url,
        contract.ENV_MAX_RECEIVE_COUNT: str(MAX_RECEIVE_COUNT),
    }.items():
        monkeypatch.setenv(name, value)
    yield dead_letter_queue_url
    reset_caches()
