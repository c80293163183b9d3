"""The ETL scenario: a warehouse export and a web shop feed land in S3, each starts a run that
normalizes its rows into the orders table (Apache Iceberg in Glue) and quarantines the bad ones
with their reasons; the same files landing again change nothing."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo import trace
from demo.cloud import Cloud
from etl.contract import (
    LANDING_PREFIX,
    OUTPUT_DATA_BUCKET_NAME,
    OUTPUT_GLUE_DATABASE_NAME,
    OUTPUT_STATE_MACHINE_ARN,
    OUTPUT_TABLE_NAME,
)
from infra import registry

STACK = registry.pattern("etl").stack_name
SAMPLES = Path(__file__).resolve().parents[1] / "events" / "etl"
#: The warehouse system's exports, then the web shop's feed: each file with good and bad rows.
WAREHOUSE = {
    "warehouse/2026-12-01.csv": "warehouse_export.csv",
    "warehouse/2026-12-01-corrections.csv": "warehouse_export_bad_rows.csv",
}
SHOP = {
    "shop/2026-12-01.jsonl": "shop_feed.jsonl",
    "shop/2026-12-01-late.jsonl": "shop_feed_bad_rows.jsonl",
}


@dataclass(frozen=True)
class Outcome:
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    #: (reason kind, count) of the first loads' quarantined rows.
    quarantine_kinds: dict[str, int]
    #: The table's row count (its current Iceberg snapshot), after the loads, after a replay.
    table_rows: int
    table_rows_after_replay: int
    #: Rows the replay inserted or updated (none: it is the same input).
    replay_changes: int
    replay_rows_in: int
    replay_accounted: int
    run_statuses: list[str]
    invocations: int

    @property
    def processed(self) -> int:
        return self.table_rows

    @property
    def in_dead_letter_queues(self) -> int:
        return self.rows_quarantined


def run(cloud: Cloud) -> Outcome:
    """Drive the deployed Etl stack through the names its outputs give."""
    trace.heading("ETL: CSV + JSON Lines landed in S3 -> Step Functions -> Iceberg table in Glue")
    outputs = cloud.outputs(STACK)
    bucket = outputs[OUTPUT_DATA_BUCKET_NAME]
    s3, sfn, glue = (cloud.client(name) for name in ("s3", "stepfunctions", "glue"))
    first_invocation = len(cloud.invocations)
    runs_before = {e["executionArn"] for e in _executions(sfn, outputs)}

    def land(files: dict[str, str], label: str) -> list[dict[str, Any]]:
        trace.step(label)
        started = {e["executionArn"] for e in _executions(sfn, outputs)}
        for key, sample in files.items():
            s3.put_object(
                Bucket=bucket, Key=f"{LANDING_PREFIX}{key}", Body=(SAMPLES / sample).read_bytes()
            )
            trace.line(f"s3://{bucket}/{LANDING_PREFIX}{key}  ({sample})")
        cloud.settle()
        runs = [
            _describe(sfn, e) for e in _executions(sfn, outputs) if e["executionArn"] not in started
        ]
        for run in runs:
            account = json.loads(run.get("output") or "{}")
            trace.line(
                f"run {run['name'][:8]} {run['status']}: {account.get('rows_in', 0)} rows in = "
                f"{account.get('rows_loaded', 0)} loaded + {account.get('rows_quarantined', 0)} "
                f"quarantined ({account.get('rows_inserted', 0)} inserted, "
                f"{account.get('rows_updated', 0)} updated)"
            )
        return runs

    first = land(WAREHOUSE, "The warehouse system drops its daily export and a corrections file")
    first += land(SHOP, "The web shop drops its feed: S-2001 again, updated later")
    accounts = [json.loads(run.get("output") or "{}") for run in first]
    table_rows = _table_rows(s3, glue, outputs)
    trace.line(f"the orders table holds {table_rows} rows, one per order")

    trace.step("Quarantine: every rejected row with its file, line and reason")
    kinds: dict[str, int] = {}
    for account in accounts:
        for key in account.get("quarantine_keys", []):
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            for row in (json.loads(line) for line in body.splitlines()):
                kinds[row["reason_kind"]] = kinds.get(row["reason_kind"], 0) + 1
                trace.line(
                    f"{Path(row['source_key']).name}:{row['line']:<3} {row['reason_kind']:<10} "
                    f"{trace.short(row['reason'], 80)}"
                )

    replay = land({**WAREHOUSE, **SHOP}, "Replay: the same four files land again")
    replay_accounts = [json.loads(run.get("output") or "{}") for run in replay]
    table_rows_after_replay = _table_rows(s3, glue, outputs)
    trace.line(f"the orders table still holds {table_rows_after_replay} rows")

    runs = [
        _describe(sfn, e) for e in _executions(sfn, outputs) if e["executionArn"] not in runs_before
    ]
    invocations = cloud.invocations[first_invocation:]
    trace.step("Invocations")
    trace.invocations(invocations)
    return Outcome(
        rows_in=sum(a.get("rows_in", 0) for a in accounts),
        rows_loaded=sum(a.get("rows_loaded", 0) for a in accounts),
        rows_quarantined=sum(a.get("rows_quarantined", 0) for a in accounts),
        quarantine_kinds=dict(sorted(kinds.items())),
        table_rows=table_rows,
        table_rows_after_replay=table_rows_after_replay,
        replay_changes=sum(
            a.get("rows_inserted", 0) + a.get("rows_updated", 0) for a in replay_accounts
        ),
        replay_rows_in=sum(a.get("rows_in", 0) for a in replay_accounts),
        replay_accounted=sum(
            a.get("rows_loaded", 0) + a.get("rows_quarantined", 0) for a in replay_accounts
        ),
        run_statuses=sorted(run["status"] for run in runs),
        invocations=len(invocations),
    )


def _executions(sfn: Any, outputs: dict[str, str]) -> list[dict[str, Any]]:
    listed = sfn.list_executions(stateMachineArn=outputs[OUTPUT_STATE_MACHINE_ARN])
    return sorted(listed["executions"], key=lambda e: e["startDate"])


def _describe(sfn: Any, execution: dict[str, Any]) -> dict[str, Any]:
    # A run that settle() saw end may still be recording its outcome for a moment.
    for _ in range(50):
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.1)
    return described


def _table_rows(s3: Any, glue: Any, outputs: dict[str, str]) -> int:
    """The table's row count, as any Iceberg reader finds it: Glue's `metadata_location`, then
    the current snapshot's summary in that metadata file."""
    table = glue.get_table(
        DatabaseName=outputs[OUTPUT_GLUE_DATABASE_NAME], Name=outputs[OUTPUT_TABLE_NAME]
    )["Table"]
    location = table["Parameters"]["metadata_location"].removeprefix("s3://")
    bucket, _, key = location.partition("/")
    metadata = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    (snapshot,) = [
        s for s in metadata["snapshots"] if s["snapshot-id"] == metadata["current-snapshot-id"]
    ]
    return int(snapshot["summary"]["total-records"])
