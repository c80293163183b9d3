"""Fixtures for the orchestration functional tests: the saga's table and engines in moto, the
functions' environment pointing at them, and orders to place."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from shared.cache import reset_caches

from orchestration import adapters, contract
from tests.samples import load_event

TABLE_NAME = "orchestration-saga"
#: Orders over this total wait for an approval (the sample order is 3,400 cents).
APPROVAL_THRESHOLD_CENTS = 10_000
APPROVAL_TIMEOUT_SECONDS = 3600
#: Units in stock before each test.
STOCK = {"BOOK-1": 10, "PEN-7": 5}


@dataclass(frozen=True)
class Saga:
    """The saga's table in moto, read the way the tests assert on it."""

    table: adapters.SagaTable
    state_machine_arn: str

    def stock(self) -> dict[str, int | None]:
        return {sku: self.table.available(sku) for sku in STOCK}


@pytest.fixture
def sample_event() -> Callable[[str], Any]:
    """Load a sample event from events/orchestration/ (a fresh copy each call)."""
    return functools.partial(load_event, "orchestration")


@pytest.fixture
def order(sample_event) -> Callable[..., dict[str, Any]]:
    """`order(order_id, **changes)`: the sample order under another id, with `changes`
    (`payment_token`, `country`, `lines`) applied."""

    def make(order_id: str, *, country: str | None = None, **changes: Any) -> dict[str, Any]:
        placed = {**sample_event("order.json"), "order_id": order_id, **changes}
        if country is not None:
            placed["shipping_address"] = {**placed["shipping_address"], "country": country}
        return placed

    return make


@pytest.fixture
def saga(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Saga]:
    """The saga table in moto with `STOCK` in it, a state machine to start, and every
    function's environment pointing at them (retries back off for one second at most)."""
    reset_caches()
    boto3.client("dynamodb").create_table(
        TableName=TABLE_NAME,
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
    iam = boto3.client("iam")
    role_arn = iam.create_role(
        RoleName="saga-machine",
        AssumeRolePolicyDocument='{"Statement": []}',
    )["Role"]["Arn"]
    # moto keeps the machine without running it here: the tests check what the API starts.
    machine_arn = boto3.client("stepfunctions").create_state_machine(
        name="saga",
        definition='{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}',
        roleArn=role_arn,
    )["stateMachineArn"]
    for name, value in {
        contract.ENV_TABLE_NAME: TABLE_NAME,
        contract.ENV_STATE_MACHINE_ARN: machine_arn,
        contract.ENV_DURABLE_FUNCTION_ARN: (
            "arn:aws:lambda:eu-west-1:123456789012:function:saga-durable:$LATEST"
        ),
        contract.ENV_APPROVAL_THRESHOLD_CENTS: str(APPROVAL_THRESHOLD_CENTS),
        contract.ENV_APPROVAL_TIMEOUT_SECONDS: str(APPROVAL_TIMEOUT_SECONDS),
        # moto's DynamoDB is not safe for concurrent transactions (it deep-copies a table that
        # another thread may be writing), and the SDK runs map items in threads: one line at a
        # time here; the end-to-end scenarios run the map with its bound.
        contract.ENV_MAX_CONCURRENCY: "1",
        contract.ENV_RETRY_MAX_ATTEMPTS: "3",
        contract.ENV_RETRY_BASE_SECONDS: "1",
    }.items():
        monkeypatch.setenv(name, value)
    table = adapters.saga_table(TABLE_NAME)
    for sku, units in STOCK.items():
        table.put_stock(sku, units)
    yield Saga(table=table, state_machine_arn=machine_arn)
    reset_caches()
