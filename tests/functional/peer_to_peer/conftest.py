"""Fixtures for the peer-to-peer functional tests: the services' tables, the breaker table and
the Cloud Map namespace in moto, and a way to run one service's handler."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.circuit_breaker import base as breaker_base
from moto import mock_aws
from shared.cache import reset_caches

from infra.config import PeerToPeerConfig
from peer_to_peer import contract
from peer_to_peer.contract import Service
from tests.conftest import MOTO_CONFIG, LambdaContext
from tests.samples import load_event

NAMESPACE = "peertopeer.peers"
BREAKER_TABLE = "breaker"
SETTINGS = PeerToPeerConfig()


def _table(name: str, key: str) -> None:
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture(scope="module")
def deployed() -> Iterator[None]:
    """The stack's stateful resources in moto, once per module, as the construct wires them:
    one table per data owner with product A1, the breaker table, and each service in the
    namespace with its function ARN."""
    with pytest.MonkeyPatch.context() as env, mock_aws(config=MOTO_CONFIG):
        env.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        dynamodb = boto3.client("dynamodb")
        for service, attribute in (
            (Service.CATALOG, {"name": {"S": "Blue widget"}}),
            (Service.PRICING, {"unit_price": {"N": "250"}}),
            (Service.STOCK, {"available": {"N": "5"}}),
        ):
            _table(service.value, "pk")
            dynamodb.put_item(TableName=service.value, Item={"pk": {"S": "A1"}, **attribute})
        _table(BREAKER_TABLE, "id")
        cloud_map = boto3.client("servicediscovery")
        cloud_map.create_http_namespace(Name=NAMESPACE)
        (namespace,) = cloud_map.list_namespaces()["Namespaces"]
        for service in Service:
            service_id = cloud_map.create_service(Name=service.value, NamespaceId=namespace["Id"])[
                "Service"
            ]["Id"]
            cloud_map.register_instance(
                ServiceId=service_id,
                InstanceId="function",
                Attributes={
                    contract.INSTANCE_ATTRIBUTE_FUNCTION_ARN: "arn:aws:lambda:eu-west-1:"
                    f"123456789012:function:{service.value}"
                },
            )
        yield


@pytest.fixture
def as_service(deployed: None, monkeypatch: pytest.MonkeyPatch) -> Callable[[Service], None]:
    """`as_service(s)` gives the process the environment the stack gives `s`'s function."""

    def become(service: Service) -> None:
        reset_caches()
        environment = {
            contract.ENV_SERVICE: service.value,
            contract.ENV_MAX_CALL_DEPTH: str(SETTINGS.max_call_depth),
        }
        if service in contract.DATA_OWNERS:
            environment[contract.ENV_DATA_TABLE_NAME] = service.value
        if contract.CALL_GRAPH[service]:
            environment.update(
                {
                    contract.ENV_PEERS: ",".join(contract.CALL_GRAPH[service]),
                    contract.ENV_NAMESPACE_NAME: NAMESPACE,
                    contract.ENV_BREAKER_TABLE_NAME: BREAKER_TABLE,
                    contract.ENV_CALL_TIMEOUT_MS: str(SETTINGS.call_timeout_ms),
                    contract.ENV_FAILURE_THRESHOLD: str(SETTINGS.failure_threshold),
                    contract.ENV_COOL_DOWN_SECONDS: str(SETTINGS.cool_down_seconds),
                    contract.ENV_DISCOVERY_TTL_SECONDS: str(SETTINGS.discovery_ttl_seconds),
                }
            )
        for name, value in environment.items():
            monkeypatch.setenv(name, value)

    return become


@pytest.fixture
def fresh_circuits(deployed: None) -> None:
    """No circuit item and no environment's failure count: a new deploy's state."""
    for counters in (
        breaker_base._LOCAL_FAILURES,
        breaker_base._LOCAL_SUCCESSES,
        breaker_base._LAST_OBSERVED_STATE,
    ):
        counters.clear()
    dynamodb = boto3.client("dynamodb")
    for item in dynamodb.scan(TableName=BREAKER_TABLE)["Items"]:
        dynamodb.delete_item(TableName=BREAKER_TABLE, Key={"id": item["id"]})


@pytest.fixture
def sample_event() -> Callable[[str], Any]:
    return functools.partial(load_event, "peer_to_peer")


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext(function_name="peer")
