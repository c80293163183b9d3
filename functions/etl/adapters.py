"""boto3 and pyiceberg adapters of the ETL pattern: the data bucket and the orders table.

Every adapter is built on first use through `shared.aws`'s cached clients, never at import
time, so tests can point them at moto. pyiceberg and pyarrow (the ETL layer) are imported by
the table adapter only, so the transform function, which never touches the table, does not
load them.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from shared import aws
from shared.cache import cached

from etl.contract import NATURAL_KEY
from etl.errors import CommitConflictError, SourceUnavailableError
from etl.models import Order

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

_MISSING = {"NoSuchKey", "404", "NotFound"}


def s3_client() -> S3Client:
    return aws.client("s3")


def _describe(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'Unknown')}: {details.get('Message', str(error))}"
    return f"{type(error).__name__}: {error}"


class DataBucket:
    """The bucket holding landed files, staged rows, quarantine, archive and the warehouse."""

    def __init__(self, client: S3Client, bucket_name: str) -> None:
        self._client = client
        self.bucket_name = bucket_name

    def read(self, key: str) -> bytes | None:
        """The object's bytes; None when it is gone (another run archived it after listing)."""
        try:
            return self._client.get_object(Bucket=self.bucket_name, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise SourceUnavailableError(
                f"reading s3://{self.bucket_name}/{key}: {_describe(error)}"
            ) from error
        except BotoCoreError as error:
            raise SourceUnavailableError(
                f"reading s3://{self.bucket_name}/{key}: {_describe(error)}"
            ) from error

    def write(self, key: str, body: bytes, content_type: str = "application/x-ndjson") -> None:
        try:
            self._client.put_object(
                Bucket=self.bucket_name, Key=key, Body=body, ContentType=content_type
            )
        except (ClientError, BotoCoreError) as error:
            raise SourceUnavailableError(
                f"writing s3://{self.bucket_name}/{key}: {_describe(error)}"
            ) from error

    def move(self, key: str, to_key: str) -> bool:
        """Copy `key` to `to_key` and delete it; False when `key` is already gone."""
        try:
            self._client.copy_object(
                Bucket=self.bucket_name,
                Key=to_key,
                CopySource={"Bucket": self.bucket_name, "Key": key},
            )
            self._client.delete_object(Bucket=self.bucket_name, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise SourceUnavailableError(
                f"archiving s3://{self.bucket_name}/{key}: {_describe(error)}"
            ) from error
        except BotoCoreError as error:
            raise SourceUnavailableError(
                f"archiving s3://{self.bucket_name}/{key}: {_describe(error)}"
            ) from error
        return True


@cached
def data_bucket(bucket_name: str) -> DataBucket:
    return DataBucket(s3_client(), bucket_name)


# --- the Iceberg table -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class UpsertCounts:
    inserted: int
    updated: int


def iceberg_schema() -> Any:
    """The orders table's Iceberg schema: `models.Order` plus its partition column.

    Field ids are the table's contract with its readers (Athena, Spark): append new fields
    with new ids, never renumber.
    """
    from pyiceberg.schema import Schema
    from pyiceberg.types import (
        DateType,
        DecimalType,
        LongType,
        NestedField,
        StringType,
        TimestamptzType,
    )

    return Schema(
        NestedField(1, "order_id", StringType(), required=True),
        NestedField(2, "customer_id", StringType(), required=True),
        NestedField(3, "country", StringType(), required=True),
        NestedField(4, "total", DecimalType(12, 2), required=True),
        NestedField(5, "currency", StringType(), required=True),
        NestedField(6, "weight_kg", DecimalType(12, 3), required=True),
        NestedField(7, "status", StringType(), required=True),
        NestedField(8, "ordered_at", TimestamptzType(), required=True),
        NestedField(9, "updated_at", TimestamptzType(), required=True),
        NestedField(10, "order_date", DateType(), required=True),
        NestedField(11, "source_format", StringType(), required=True),
        NestedField(12, "source_key", StringType(), required=True),
        NestedField(13, "source_line", LongType(), required=True),
        identifier_field_ids=[1],
    )


def partition_spec() -> Any:
    """Partitioned by the order's UTC day (identity on `order_date`): Athena prunes on it, and
    a day's orders are rewritten together when a run updates them."""
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.transforms import IdentityTransform

    return PartitionSpec(
        PartitionField(
            source_id=10, field_id=1000, transform=IdentityTransform(), name="order_date"
        )
    )


def _row(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "customer_id": order.customer_id,
        "country": order.country,
        "total": order.total,
        "currency": order.currency,
        "weight_kg": order.weight_kg,
        "status": order.status,
        "ordered_at": order.ordered_at,
        "updated_at": order.updated_at,
        "order_date": order.ordered_at.astimezone(datetime.UTC).date(),
        "source_format": order.source_format.value,
        "source_key": order.source_key,
        "source_line": order.source_line,
    }


class OrdersTable:
    """The Iceberg orders table in the Glue Data Catalog, written with pyiceberg."""

    def __init__(self, *, database: str, table: str, warehouse: str) -> None:
        from pyiceberg.catalog.glue import GlueCatalog

        from etl.iceberg_io import IO_IMPL

        self.identifier = f"{database}.{table}"
        self._catalog = GlueCatalog(
            "glue", client=aws.client("glue"), **{"py-io-impl": IO_IMPL, "warehouse": warehouse}
        )
        self._location = f"{warehouse.rstrip('/')}/{table}"

    def load(self) -> Any:
        """The pyiceberg table, created (schema, partition spec, Parquet) on first use."""
        return self._catalog.create_table_if_not_exists(
            self.identifier,
            schema=iceberg_schema(),
            partition_spec=partition_spec(),
            location=self._location,
            properties={"write.format.default": "parquet", "format-version": "2"},
        )

    def upsert(self, orders: Sequence[Order]) -> UpsertCounts:
        """Merge `orders` on the natural key: new orders inserted, changed ones updated,
        unchanged ones left as they are (so a replay writes nothing new)."""
        import pyarrow as pa
        from pyiceberg.exceptions import CommitFailedException

        if not orders:
            return UpsertCounts(inserted=0, updated=0)
        table = self.load()
        rows = pa.Table.from_pylist([_row(o) for o in orders], schema=table.schema().as_arrow())
        try:
            result = table.upsert(rows, join_cols=[NATURAL_KEY])
        except CommitFailedException as error:
            raise CommitConflictError(f"{self.identifier}: {error}") from error
        return UpsertCounts(inserted=result.rows_inserted, updated=result.rows_updated)

    def updated_at(self, order_ids: Sequence[str]) -> dict[str, datetime.datetime]:
        """When each of `order_ids` the table holds was last updated."""
        from pyiceberg.expressions import In

        if not order_ids:
            return {}
        scan = self.load().scan(
            row_filter=In(NATURAL_KEY, set(order_ids)),
            selected_fields=(NATURAL_KEY, "updated_at"),
        )
        return {row[NATURAL_KEY]: row["updated_at"] for row in scan.to_arrow().to_pylist()}

    def rows(self) -> list[dict[str, Any]]:
        """Every row, ordered by the natural key (for readers and checks, not for the load)."""
        rows = self.load().scan().to_arrow().to_pylist()
        return sorted(rows, key=lambda row: row[NATURAL_KEY])


@cached
def orders_table(database: str, table: str, warehouse: str) -> OrdersTable:
    return OrdersTable(database=database, table=table, warehouse=warehouse)
