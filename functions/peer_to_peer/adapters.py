"""boto3 adapters of the peer-to-peer pattern: Cloud Map discovery (cached with a TTL), the
Lambda invoke of a peer under a read timeout, the circuit breaker's DynamoDB store, and each
service's data table.

Every adapter is built on first use through `shared.aws`'s cached clients (or, for the invoke
client, one per time budget), never at import time, so tests can point them at moto.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.utilities.parameters.base import BaseProvider
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError
from shared import aws
from shared.cache import cached

from peer_to_peer.contract import INSTANCE_ATTRIBUTE_FUNCTION_ARN
from peer_to_peer.errors import PeerFailedError, PeerThrottledError, PeerTimeoutError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_lambda.client import LambdaClient
    from mypy_boto3_servicediscovery.client import ServiceDiscoveryClient

#: Lambda's Invoke errors that say "not now" rather than "never": worth another attempt.
RETRYABLE_INVOKE_ERRORS = frozenset(
    {
        "TooManyRequestsException",
        "ServiceException",
        "ResourceNotReadyException",
        "EC2ThrottledException",
        "EFSMountTimeoutException",
    }
)
#: The `errorType` of a peer that ran out of its own time: a retry may be faster.
PEER_TIMED_OUT = "Sandbox.Timedout"
#: Invoke timeouts are set in steps of this many ms, so a few clients serve every budget.
_TIMEOUT_STEP_MS = 50


class CloudMapProvider(BaseProvider):
    """Finds a peer's function ARN in a Cloud Map namespace, through Powertools' parameters
    cache: `get(service, max_age=ttl)` asks Cloud Map at most once per TTL per service."""

    def __init__(self, client: ServiceDiscoveryClient, namespace_name: str) -> None:
        super().__init__(client=client)
        self._client = client
        self.namespace_name = namespace_name

    def _get(self, name: str, **sdk_options: Any) -> str:
        arns = self._get_multiple(name, **sdk_options)
        if not arns:
            raise LookupError(f"no instance of {name} in {self.namespace_name}")
        return next(iter(arns.values()))

    def _get_multiple(self, path: str, **sdk_options: Any) -> dict[str, str]:
        """Every instance of service `path` that names a function: instance id -> its ARN."""
        response = self._client.discover_instances(
            NamespaceName=self.namespace_name, ServiceName=path, **sdk_options
        )
        return {
            instance["InstanceId"]: arn
            for instance in response.get("Instances", [])
            if (arn := instance.get("Attributes", {}).get(INSTANCE_ATTRIBUTE_FUNCTION_ARN))
        }


@cached
def directory(namespace_name: str) -> CloudMapProvider:
    return CloudMapProvider(aws.client("servicediscovery"), namespace_name)


@cached
def _invoke_client(timeout_step: int) -> LambdaClient:
    # One attempt per call: the caller retries itself, within its own time budget, and only
    # what is worth retrying. `read_timeout` is how long one attempt waits for the peer.
    seconds = timeout_step * _TIMEOUT_STEP_MS / 1000
    return boto3.client(
        "lambda",
        config=Config(
            connect_timeout=min(seconds, 1.0),
            read_timeout=seconds,
            retries={"mode": "standard", "total_max_attempts": 1},
        ),
    )


def invoke_peer(peer: str, function_arn: str, payload: dict[str, Any], timeout_ms: int) -> Any:
    """Invoke `function_arn` synchronously, waiting at most `timeout_ms`; its answer, or a
    `PeerUnavailableError` saying whether a retry may help."""
    client = _invoke_client(max(1, timeout_ms // _TIMEOUT_STEP_MS))
    try:
        response = client.invoke(
            FunctionName=function_arn,
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
    except (ReadTimeoutError, ConnectTimeoutError) as error:
        raise PeerTimeoutError(peer, f"no answer within {timeout_ms} ms") from error
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        failure = PeerThrottledError if code in RETRYABLE_INVOKE_ERRORS else PeerFailedError
        raise failure(peer, f"Invoke refused: {code}") from error
    except BotoCoreError as error:
        raise PeerThrottledError(peer, type(error).__name__) from error
    body = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        error_type = (body or {}).get("errorType", "Unknown") if isinstance(body, dict) else "?"
        if error_type == PEER_TIMED_OUT:
            raise PeerTimeoutError(peer, "the peer ran out of its own time")
        raise PeerFailedError(peer, f"the peer's handler failed: {error_type}")
    return body


@cached
def breaker_store(table_name: str) -> Any:
    """The circuit breaker's DynamoDB persistence on `table_name`, one item per circuit (the
    circuit name is the partition key, so every caller of a peer shares its circuit).

    Imported here, not at module level: a service that calls no peer never loads it.
    """
    from aws_lambda_powertools.utilities.circuit_breaker.persistence import (
        CircuitBreakerDynamoDBPersistence,
    )

    return CircuitBreakerDynamoDBPersistence(table_name=table_name, boto3_client=dynamodb_client())


def dynamodb_client() -> DynamoDBClient:
    return aws.client("dynamodb")


class DataTable:
    """A service's own table: one item per product (`pk` the sku)."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def get(self, sku: str) -> dict[str, Any] | None:
        response = self._client.get_item(TableName=self.table_name, Key={"pk": {"S": sku}})
        item = response.get("Item")
        if item is None:
            return None
        return {name: _plain(value) for name, value in item.items()}


def _plain(value: dict[str, Any]) -> Any:
    ((kind, raw),) = value.items()
    return int(raw) if kind == "N" else raw


@cached
def data_table(table_name: str) -> DataTable:
    return DataTable(dynamodb_client(), table_name)
