"""Benchmark of localcloud's Kinesis event source: delivery throughput over several shards.

It prints figures and asserts nothing about time; the only check is that the work it timed was
done: every record put was processed exactly once. From the repository root:

    .venv/bin/python -m bench.streams_bench [--records N] [--shards N] [--batch-size N]

`run()` returns the figures for a caller that collects them (bench.localcloud_bench).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from localcloud import LocalCloud
from localcloud.core.assembly import write_assembly
from localcloud.testing import python_function, service_role

STACK = "StreamsBench"
PUT_BATCH = 500  # Kinesis's maximum records per PutRecords
DEFAULT_BATCH_SIZE = 100  # Lambda's default for a Kinesis source

# Counts each record it is handed (by its data, a number) in a module global, which lives as
# long as the function's warm sandbox; a {"report": true} event reads the counts back.
COUNTER_HANDLER = """\
import base64
from collections import Counter

seen = Counter()


def handler(event, context):
    if event.get("report"):
        return {
            "processed": sum(seen.values()),
            "distinct": len(seen),
            "duplicated": sum(1 for count in seen.values() if count > 1),
        }
    for record in event["Records"]:
        seen[base64.b64decode(record["kinesis"]["data"])] += 1
    return {"batchItemFailures": []}
"""


def write_stream_assembly(root: Path, *, shards: int, batch_size: int) -> None:
    """A one-stack cloud assembly, as `cdk synth` writes it: a Kinesis stream -> a counter."""
    asset_hash = hashlib.sha256(COUNTER_HANDLER.encode()).hexdigest()
    template = {
        "Resources": {
            "Stream": {
                "Type": "AWS::Kinesis::Stream",
                "Properties": {"ShardCount": shards, "RetentionPeriodHours": 24},
            },
            "ConsumerRole": service_role("lambda.amazonaws.com"),
            "Consumer": python_function("counter.handler", asset_hash, role="ConsumerRole"),
            "ConsumerKinesisEventSource": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "BatchSize": batch_size,
                    "EventSourceArn": {"Fn::GetAtt": ["Stream", "Arn"]},
                    "FunctionName": {"Ref": "Consumer"},
                    "StartingPosition": "TRIM_HORIZON",
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                },
            },
        },
        "Outputs": {
            "StreamName": {"Value": {"Ref": "Stream"}},
            "FunctionName": {"Value": {"Ref": "Consumer"}},
        },
    }
    write_assembly(root, STACK, template, {asset_hash: {"counter.py": COUNTER_HANDLER}})


def run(
    records: int = 10_000, shards: int = 4, batch_size: int = DEFAULT_BATCH_SIZE
) -> dict[str, float]:
    """Put `records` records over `shards` shards, settle, and return the figures.

    Raises RuntimeError when a record was not processed exactly once.
    """
    with tempfile.TemporaryDirectory(prefix="bench-streams-") as folder:
        write_stream_assembly(Path(folder), shards=shards, batch_size=batch_size)
        with LocalCloud(folder) as cloud:
            started = time.perf_counter()
            cloud.deploy(STACK)
            deploy_s = time.perf_counter() - started
            outputs = cloud.outputs(STACK)
            kinesis = cloud.client("kinesis")

            started = time.perf_counter()
            for first in range(0, records, PUT_BATCH):
                entries = [
                    {"Data": str(n).encode(), "PartitionKey": f"key-{n % 1000}"}
                    for n in range(first, min(first + PUT_BATCH, records))
                ]
                response = kinesis.put_records(StreamName=outputs["StreamName"], Records=entries)
                if response.get("FailedRecordCount"):
                    raise RuntimeError(f"put_records failed: {response}")
            put_s = time.perf_counter() - started

            started = time.perf_counter()
            invocations = cloud.settle()
            settle_s = time.perf_counter() - started

            failed = sum(1 for invocation in cloud.invocations if not invocation.succeeded)
            report = cloud.invoke(outputs["FunctionName"], {"report": True})
            if not report.succeeded:
                raise RuntimeError(f"the counter failed to report: {report.error}")
            counts: dict[str, Any] = report.payload

    figures = {
        "records": float(records),
        "shards": float(shards),
        "deploy_s": deploy_s,
        "put_s": put_s,
        "put_records_per_s": records / put_s,
        "settle_s": settle_s,
        "records_per_s": records / settle_s,
        "invocations": float(invocations),
        "ms_per_invocation": settle_s / max(invocations, 1) * 1000,
        "processed": float(counts["processed"]),
        "distinct": float(counts["distinct"]),
        "duplicated": float(counts["duplicated"]),
        "failed_invocations": float(failed),
    }
    if counts["processed"] != records or counts["distinct"] != records or failed:
        raise RuntimeError(f"not every record was processed exactly once: {figures}")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="records to put")
    parser.add_argument("--shards", type=int, default=4, help="shards of the stream")
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="the mapping's BatchSize"
    )
    args = parser.parse_args(argv)

    # moto warns about every template resource it does not model; none matter here.
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")

    print(
        f"Kinesis delivery: {args.records} records over {args.shards} shards, "
        f"batch size {args.batch_size}"
    )
    figures = run(args.records, args.shards, args.batch_size)
    print(f"  deploy: {figures['deploy_s'] * 1000:.0f} ms")
    print(
        f"  put: {figures['put_s']:.2f} s, {figures['put_records_per_s']:,.0f} records/s "
        f"({-(-args.records // PUT_BATCH)} PutRecords calls)"
    )
    print(
        f"  settle: {figures['settle_s']:.2f} s, {figures['records_per_s']:,.0f} records/s, "
        f"{figures['invocations']:.0f} invocations ({figures['ms_per_invocation']:.2f} ms each)"
    )
    print(
        f"  check: OK: {figures['processed']:.0f} processed, {figures['distinct']:.0f} distinct, "
        f"{figures['duplicated']:.0f} duplicated, {figures['failed_invocations']:.0f} failed "
        f"invocations (Python {sys.version.split()[0]})"
    )


if __name__ == "__main__":
    main()
