"""The one factory of boto3 clients every pattern's adapters use, with one botocore Config."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from shared.cache import cached

#: Short timeouts and a few standard retries (backing off on throttling and 5xx) fit inside
#: every function's timeout and API Gateway's 30 s integration timeout, leaving room to answer
#: or fail one record instead of timing out the whole invocation.
BOTO_CONFIG = Config(
    connect_timeout=2,
    read_timeout=3,
    retries={"mode": "standard", "max_attempts": 3},
)


@cached
def client(service: str) -> Any:
    """The boto3 client of `service` for this execution environment, built on first use."""
    return boto3.client(service, config=BOTO_CONFIG)


@cached
def resource(service: str) -> Any:
    """The boto3 resource of `service` for this execution environment, built on first use."""
    return boto3.resource(service, config=BOTO_CONFIG)


@cached
def idempotency_store(table_name: str) -> Any:
    """The Powertools idempotency persistence layer on `table_name`, with the shared client.

    `DynamoDBPersistenceLayer` creates its own client in `__init__` unless given one, which is
    why it is built here, on first use. Powertools' idempotency utility is imported here too,
    not at module level: it adds about 0.2 s to a cold start that a function's other paths
    (an API's read routes) need not pay.
    """
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client("dynamodb"))
