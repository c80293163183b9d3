"""The ETL handlers on moto: transform stages and quarantines one file, load merges a run into
the Iceberg table in Glue, a replay changes nothing, and the rows always add up."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.s3.models import S3Backend

from etl import adapters, load, transform
from etl.errors import InvalidRunInputError, SourceUnavailableError
from etl.settings import load_settings
from tests.functional.etl.conftest import EtlResources
from tests.samples import load_event


def _transform(etl: EtlResources, run_id: str, key: str, context: Any) -> dict[str, Any]:
    return transform.handler({"run_id": run_id, "key": key}, context)


def _run(etl: EtlResources, run_id: str, keys: list[str], context: Any) -> dict[str, Any]:
    """What the state machine does: transform each landed file, then load them all."""
    files = [_transform(etl, run_id, key, context) for key in keys]
    return load.handler({"run_id": run_id, "files": files}, context)


def _table_rows(etl: EtlResources) -> list[dict[str, Any]]:
    settings = load_settings()
    return adapters.orders_table(
        settings.glue_database_name, settings.table_name, settings.warehouse_location
    ).rows()


def test_transform_stages_the_valid_rows_and_quarantines_the_rest_with_reasons(
    etl: EtlResources, lambda_context
):
    key = etl.land_sample("warehouse_export_bad_rows.csv")

    summary = _transform(etl, "run-1", key, lambda_context)

    assert summary["rows_in"] == 16
    assert (summary["rows_valid"], summary["rows_quarantined"]) == (1, 15)
    staged = [json.loads(line) for line in etl.read(summary["staged_key"]).splitlines()]
    assert [row["order_id"] for row in staged] == ["B-15"]
    quarantined = [json.loads(line) for line in etl.read(summary["quarantine_key"]).splitlines()]
    assert len(quarantined) == 15
    assert {row["source_key"] for row in quarantined} == {key}
    assert all(row["reason"] and row["reason_kind"] and row["raw"] for row in quarantined)
    assert quarantined[0] == {
        "source_key": key,
        "line": 2,
        "reason_kind": "malformed",
        "reason": "expected 10 fields, got 9",
        "raw": "B-1,C-1,de,19.99,EUR,1,kg,SH,2026-11-30T10:00:00Z",
    }


def test_the_sample_map_item_is_what_transform_takes(etl: EtlResources, lambda_context):
    event = load_event("etl", "transform_file.json")
    etl.land_sample("warehouse_export.csv", under="warehouse/")
    event["key"] = "landing/warehouse/warehouse_export.csv"

    summary = transform.handler(event, lambda_context)

    assert summary["rows_valid"] == 5
    assert summary["staged_key"].startswith(f"staging/{event['run_id']}/")


def test_transform_refuses_a_key_outside_the_landing_prefix(etl: EtlResources, lambda_context):
    with pytest.raises(InvalidRunInputError, match="not a file under landing/"):
        _transform(etl, "run-1", "warehouse/orders/metadata/x.json", lambda_context)
    with pytest.raises(InvalidRunInputError, match="invalid transform request: key"):
        transform.handler({"run_id": "run-1"}, lambda_context)


def test_a_file_another_run_already_archived_counts_no_rows(etl: EtlResources, lambda_context):
    summary = _transform(etl, "run-2", "landing/gone.csv", lambda_context)

    assert summary["taken_by_another_run"] is True
    assert summary["rows_in"] == 0


def test_a_bucket_that_fails_the_read_raises_the_retryable_error(
    etl: EtlResources, lambda_context, monkeypatch: pytest.MonkeyPatch
):
    key = etl.land_sample("warehouse_export.csv")

    def unavailable(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your rate"}}, "Get")

    monkeypatch.setattr(S3Backend, "get_object", unavailable)
    with pytest.raises(SourceUnavailableError, match="SlowDown: Reduce your rate"):
        _transform(etl, "run-3", key, lambda_context)


def test_a_run_loads_both_sources_into_the_iceberg_table_one_row_per_order(
    etl: EtlResources, lambda_context
):
    # GIVEN both sources landed, with one order in both and bad rows in each
    keys = [
        etl.land_sample("warehouse_export.csv", under="warehouse/"),
        etl.land_sample("shop_feed.jsonl", under="shop/"),
        etl.land_sample("warehouse_export_bad_rows.csv", under="warehouse/"),
        etl.land_sample("shop_feed_bad_rows.jsonl", under="shop/"),
    ]

    # WHEN a run transforms and loads them
    account = _run(etl, "run-1", keys, lambda_context)

    # THEN rows in = rows loaded + rows quarantined
    assert account["rows_in"] == 5 + 3 + 16 + 8
    assert account["rows_loaded"] == 7 + 1 + 1  # S-2001 once, B-15, J-1
    assert account["rows_quarantined"] == 15 + 7 + 1  # + the superseded S-2001 from the CSV
    assert account["rows_in"] == account["rows_loaded"] + account["rows_quarantined"]
    assert account["rows_inserted"] == 9
    # AND the table holds one row per order, in the one schema, registered in Glue as Iceberg
    rows = _table_rows(etl)
    assert [row["order_id"] for row in rows] == [
        "B-15", "J-1", "S-2001", "S-2002", "S-2003", "W-1001", "W-1002", "W-1003", "W-1004",
    ]  # fmt: skip
    s2001 = next(row for row in rows if row["order_id"] == "S-2001")
    assert (s2001["source_format"], s2001["status"], s2001["total"]) == (
        "jsonl",
        "shipped",
        Decimal("64.10"),
    )
    glue_table = boto3.client("glue").get_table(DatabaseName=etl.database, Name=etl.table)
    assert glue_table["Table"]["Parameters"]["table_type"] == "ICEBERG"
    assert glue_table["Table"]["Parameters"]["metadata_location"].startswith(
        f"s3://{etl.bucket}/warehouse/orders/metadata/"
    )
    data_files = etl.keys("warehouse/orders/data/")
    assert data_files
    assert all(key.endswith(".parquet") for key in data_files)
    assert any("order_date=2026-12-01/" in key for key in data_files)
    # AND the superseded row is in quarantine with its reason, the landed files archived
    superseded = [
        json.loads(line) for line in etl.read("quarantine/run-1/superseded.jsonl").splitlines()
    ]
    assert [(row["source_key"], row["line"], row["reason_kind"]) for row in superseded] == [
        ("landing/warehouse/warehouse_export.csv", 6, "superseded")
    ]
    assert etl.keys("landing/") == []
    assert len(etl.keys("archive/run-1/")) == 4


def test_a_replay_of_the_same_files_leaves_the_same_table(etl: EtlResources, lambda_context):
    # GIVEN a run loaded both sources
    first = _run(
        etl,
        "run-1",
        [etl.land_sample("warehouse_export.csv"), etl.land_sample("shop_feed.jsonl")],
        lambda_context,
    )
    before = _table_rows(etl)

    # WHEN the same files land again and another run loads them
    again = _run(
        etl,
        "run-2",
        [etl.land_sample("warehouse_export.csv"), etl.land_sample("shop_feed.jsonl")],
        lambda_context,
    )

    # THEN the table is the same: no duplicate, nothing rewritten
    assert _table_rows(etl) == before
    assert (first["rows_inserted"], again["rows_inserted"], again["rows_updated"]) == (7, 0, 0)
    assert again["rows_loaded"] == first["rows_loaded"] == 7


def test_a_later_update_of_an_order_replaces_its_row(etl: EtlResources, lambda_context):
    _run(etl, "run-1", [etl.land_sample("warehouse_export.csv")], lambda_context)
    updated = (
        b"order_id,customer_id,country,total,currency,weight,weight_unit,status,ordered_at,"
        b"updated_at\n"
        b"W-1001,C-017,de,19.99,eur,1.5,kg,DL,2026-11-30 23:30:00-02:00,2026-12-02T10:00:00Z\n"
    )

    account = _run(etl, "run-2", [etl.land("update.csv", updated)], lambda_context)

    assert (account["rows_inserted"], account["rows_updated"]) == (0, 1)
    rows = {row["order_id"]: row for row in _table_rows(etl)}
    assert len(rows) == 5
    assert rows["W-1001"]["status"] == "delivered"


def test_a_run_with_no_files_loads_nothing(etl: EtlResources, lambda_context):
    account = load.handler({"run_id": "run-0", "files": []}, lambda_context)

    assert (account["rows_in"], account["rows_loaded"], account["rows_quarantined"]) == (0, 0, 0)


def test_load_refuses_input_the_state_machine_does_not_send(etl: EtlResources, lambda_context):
    with pytest.raises(InvalidRunInputError, match="invalid load request: files"):
        load.handler({"run_id": "run-0"}, lambda_context)


def test_a_late_file_with_an_older_update_does_not_undo_the_table_s_later_one(
    etl: EtlResources, lambda_context
):
    # GIVEN the feed's later update of S-2001 is in the table
    _run(etl, "run-1", [etl.land_sample("shop_feed.jsonl")], lambda_context)

    # WHEN the warehouse export, with an older update of S-2001, lands afterwards
    account = _run(etl, "run-2", [etl.land_sample("warehouse_export.csv")], lambda_context)

    # THEN its S-2001 row is quarantined as superseded and the table keeps the later one
    assert (account["rows_in"], account["rows_loaded"], account["rows_quarantined"]) == (5, 4, 1)
    (row,) = [
        json.loads(line) for line in etl.read("quarantine/run-2/superseded.jsonl").splitlines()
    ]
    assert row["reason"] == (
        "order S-2001 is in the table with a later update (2026-11-30T14:30:00+00:00)"
    )
    rows = {row["order_id"]: row for row in _table_rows(etl)}
    assert rows["S-2001"]["source_format"] == "jsonl"


def test_the_sample_load_input_is_what_load_takes(etl: EtlResources, lambda_context):
    # GIVEN the sample's staged file, as a transform of its run wrote it
    event = load_event("etl", "load_run.json")
    (summary,) = event["files"]
    staged = _transform(
        etl, event["run_id"], etl.land_sample("warehouse_export.csv"), lambda_context
    )
    boto3.client("s3").copy_object(
        Bucket=etl.bucket,
        Key=summary["staged_key"],
        CopySource={"Bucket": etl.bucket, "Key": staged["staged_key"]},
    )

    account = load.handler(event, lambda_context)

    assert (account["rows_in"], account["rows_loaded"], account["rows_quarantined"]) == (5, 5, 0)
