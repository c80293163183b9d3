"""ETL end to end on localcloud: files landed in S3 start a run through EventBridge, the
Distributed Map transforms each, the load merges them into the Iceberg table in Glue; every row
is in the table or in quarantine with its reason, a transient failure heals on the state
machine's retry, a failed run leaves its files for the next, and a replay changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto.s3.exceptions import S3ClientError
from moto.s3.responses import S3Response
from shared.cache import reset_caches

from etl import adapters, contract
from localcloud import LocalCloud
from tests.samples import EVENTS_ROOT
from tests.synth import CloudAssembly

STACK = "Etl"
#: One file of each source, each with a row of every kind of bad row and one good row. The
#: merge of one order sent by both sources is the demo's (tests/e2e/test_demo_scenarios.py)
#: and the functional tests'.
SOURCES = {
    "warehouse/2026-12-01-late.csv": "warehouse_export_bad_rows.csv",
    "shop/2026-12-01-late.jsonl": "shop_feed_bad_rows.jsonl",
}


@pytest.fixture(scope="module")
def cloud(dev_assembly: CloudAssembly) -> Iterator[LocalCloud]:
    """The Etl stack alone, deployed once for this module's tests."""
    with LocalCloud(dev_assembly.outdir) as cloud:
        cloud.deploy(STACK)
        yield cloud


@pytest.fixture
def outputs(cloud: LocalCloud) -> dict[str, str]:
    reset_caches()  # the table adapter's clients, built under this test's environment
    return cloud.outputs(STACK)


def _land(cloud: LocalCloud, outputs: dict[str, str], sources: dict[str, str]) -> None:
    s3 = cloud.client("s3")
    for key, sample in sources.items():
        s3.put_object(
            Bucket=outputs[contract.OUTPUT_DATA_BUCKET_NAME],
            Key=f"{contract.LANDING_PREFIX}{key}",
            Body=(EVENTS_ROOT / "etl" / sample).read_bytes(),
        )


def _executions(cloud: LocalCloud, outputs: dict[str, str]) -> list[dict[str, Any]]:
    """Every run so far, oldest first, with its status, output, error and cause."""
    sfn = cloud.client("stepfunctions")
    listed = sfn.list_executions(stateMachineArn=outputs[contract.OUTPUT_STATE_MACHINE_ARN])
    runs = [sfn.describe_execution(executionArn=e["executionArn"]) for e in listed["executions"]]
    return sorted(runs, key=lambda run: run["startDate"])


def _table_rows(outputs: dict[str, str]) -> list[dict[str, Any]]:
    table = adapters.OrdersTable(
        database=outputs[contract.OUTPUT_GLUE_DATABASE_NAME],
        table=outputs[contract.OUTPUT_TABLE_NAME],
        warehouse=f"s3://{outputs[contract.OUTPUT_DATA_BUCKET_NAME]}/{contract.WAREHOUSE_PREFIX}",
    )
    return table.rows()


def _quarantined(cloud: LocalCloud, outputs: dict[str, str], keys: list[str]) -> list[dict]:
    s3 = cloud.client("s3")
    bucket = outputs[contract.OUTPUT_DATA_BUCKET_NAME]
    return [
        json.loads(line)
        for key in keys
        for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()
    ]


def _landed(cloud: LocalCloud, outputs: dict[str, str]) -> list[str]:
    listed = cloud.client("s3").list_objects_v2(
        Bucket=outputs[contract.OUTPUT_DATA_BUCKET_NAME], Prefix=contract.LANDING_PREFIX
    )
    return [o["Key"] for o in listed.get("Contents", [])]


def test_landed_files_reach_the_table_or_quarantine_heal_on_retry_and_replay_to_the_same_table(
    cloud: LocalCloud, outputs: dict[str, str], monkeypatch: pytest.MonkeyPatch
):
    # GIVEN the bucket refuses the first read of a landed file, with an error the SDK does not
    # retry itself, so that only the state machine's Retry can heal it
    get_object = S3Response.get_object
    refusals = {"left": 1}

    def refused_once(self: S3Response) -> Any:
        if f"/{contract.LANDING_PREFIX}" in self.path and refusals["left"]:
            refusals["left"] -= 1
            raise S3ClientError("ServiceUnavailable", "The bucket is briefly unavailable")
        return get_object(self)

    monkeypatch.setattr(S3Response, "get_object", refused_once)
    before = len(cloud.invocations)

    # WHEN both sources' files land, good and malformed
    _land(cloud, outputs, SOURCES)
    cloud.settle()

    # THEN the transform that hit the refusal failed once and the state machine's retry healed it
    transform = outputs[contract.OUTPUT_TRANSFORM_FUNCTION_NAME]
    failed = [i for i in cloud.invocations[before:] if i.function == transform and not i.succeeded]
    assert [i.error["errorType"] for i in failed] == ["SourceUnavailableError"]
    assert refusals["left"] == 0
    # AND each landed file started one run over that file, and every run succeeded
    runs = _executions(cloud, outputs)
    assert [run["status"] for run in runs] == ["SUCCEEDED"] * len(SOURCES)
    accounts = [json.loads(run["output"]) for run in runs]
    assert [account["files"] for account in accounts] == [1] * len(SOURCES)
    # AND every row is loaded or quarantined, in each run and over all of them
    for account in accounts:
        assert account["rows_in"] == account["rows_loaded"] + account["rows_quarantined"]
    assert sum(account["rows_in"] for account in accounts) == 16 + 8
    assert sum(account["rows_loaded"] for account in accounts) == 2
    # AND the table holds the good rows, one per order
    rows = _table_rows(outputs)
    assert [row["order_id"] for row in rows] == ["B-15", "J-1"]
    # AND the bad rows are in quarantine, each with its file, line and reason
    quarantined = _quarantined(
        cloud, outputs, [key for account in accounts for key in account["quarantine_keys"]]
    )
    assert len(quarantined) == sum(account["rows_quarantined"] for account in accounts) == 22
    assert all(row["reason"] and row["source_key"] and row["line"] for row in quarantined)
    assert {row["reason_kind"] for row in quarantined} == {"malformed", "invalid", "encoding"}
    assert _landed(cloud, outputs) == []

    # WHEN the same files land again (a replay)
    _land(cloud, outputs, SOURCES)
    cloud.settle()

    # THEN the table is the same: nothing inserted, nothing updated, every row accounted for
    assert _table_rows(outputs) == rows
    replays = [json.loads(run["output"]) for run in _executions(cloud, outputs)[len(runs) :]]
    assert len(replays) == len(SOURCES)
    assert sum(r["rows_inserted"] + r["rows_updated"] for r in replays) == 0
    for replay in replays:
        assert replay["rows_in"] == replay["rows_loaded"] + replay["rows_quarantined"]


def test_a_run_that_keeps_failing_ends_on_its_failure_path_and_the_next_run_loads_its_files(
    cloud: LocalCloud, outputs: dict[str, str], monkeypatch: pytest.MonkeyPatch
):
    # GIVEN the bucket refuses every read of landed files
    get_object = S3Response.get_object
    outage = {"on": True}

    def unavailable(self: S3Response) -> Any:
        if outage["on"] and f"/{contract.LANDING_PREFIX}" in self.path:
            raise S3ClientError("ServiceUnavailable", "The bucket is unavailable")
        return get_object(self)

    monkeypatch.setattr(S3Response, "get_object", unavailable)
    runs_before = len(_executions(cloud, outputs))
    rows_before = len(_table_rows(outputs))
    invocations_before = len(cloud.invocations)

    # WHEN a file lands
    _land(cloud, outputs, {"outage/late.csv": "warehouse_export.csv"})
    cloud.settle()

    # THEN the transform was tried four times (three retries), the map run failed, and the
    # run ended on its failure path with the reason, leaving the file landed
    transform = outputs[contract.OUTPUT_TRANSFORM_FUNCTION_NAME]
    tries = [i for i in cloud.invocations[invocations_before:] if i.function == transform]
    assert [i.error["errorType"] for i in tries] == ["SourceUnavailableError"] * 4
    (failed,) = _executions(cloud, outputs)[runs_before:]
    assert failed["status"] == "FAILED"
    assert failed["error"] == "EtlRunFailed"
    assert failed["cause"] == (
        "States.ExceedToleratedFailureThreshold: "
        "The specified tolerated failure threshold was exceeded"
    )
    assert _landed(cloud, outputs) == ["landing/outage/late.csv"]

    # WHEN the bucket recovers and the schedule starts the next run
    outage["on"] = False
    cloud.engine.service("events").advance_schedules(3600)
    cloud.settle()

    # THEN that run loaded the file's five orders
    (scheduled,) = _executions(cloud, outputs)[runs_before + 1 :]
    assert scheduled["status"] == "SUCCEEDED"
    assert json.loads(scheduled["input"])["detail-type"] == "Scheduled Event"
    account = json.loads(scheduled["output"])
    assert (account["rows_in"], account["rows_inserted"], account["files_archived"]) == (5, 5, 1)
    assert _landed(cloud, outputs) == []
    assert len(_table_rows(outputs)) == rows_before + 5
