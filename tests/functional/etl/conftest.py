"""Fixtures for the ETL functional tests: the pattern's bucket and Glue database in moto."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from shared.cache import reset_caches

from etl import contract
from tests.samples import EVENTS_ROOT

BUCKET = "etl-data"
DATABASE = "etl_lake"


@dataclass(frozen=True)
class EtlResources:
    bucket: str
    database: str
    table: str

    def land(self, key: str, body: bytes) -> str:
        """Drop `body` under the landing prefix, as a source system does; its key."""
        landed = f"{contract.LANDING_PREFIX}{key}"
        boto3.client("s3").put_object(Bucket=self.bucket, Key=landed, Body=body)
        return landed

    def land_sample(self, name: str, under: str = "") -> str:
        return self.land(f"{under}{name}", (EVENTS_ROOT / "etl" / name).read_bytes())

    def keys(self, prefix: str) -> list[str]:
        listed = boto3.client("s3").list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def read(self, key: str) -> bytes:
        return boto3.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()


@pytest.fixture
def etl(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[EtlResources]:
    """The Etl stack's data bucket and Glue database in moto, and the functions' environment
    pointing at them as infra/patterns/etl.py sets it."""
    reset_caches()
    boto3.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    boto3.client("glue").create_database(DatabaseInput={"Name": DATABASE})
    monkeypatch.setenv(contract.ENV_DATA_BUCKET_NAME, BUCKET)
    monkeypatch.setenv(contract.ENV_GLUE_DATABASE_NAME, DATABASE)
    monkeypatch.setenv(contract.ENV_TABLE_NAME, contract.ORDERS_TABLE)
    monkeypatch.setenv(
        contract.ENV_WAREHOUSE_LOCATION, f"s3://{BUCKET}/{contract.WAREHOUSE_PREFIX}"
    )
    yield EtlResources(bucket=BUCKET, database=DATABASE, table=contract.ORDERS_TABLE)
    reset_caches()
