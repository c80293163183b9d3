"""Benchmark of the stream-processing pattern on localcloud (in process): records per second
through the aggregator, PutRecords calls per record, and the latency from PutRecords to the
alert (p50, p99).

It prints figures and asserts nothing about time; the only checks are that the work it timed
was done: every reading put was aggregated exactly once, and every hot reading raised its
alert. From the repository root:

    .venv/bin/python -m bench.stream_processing_bench [--readings N] [--keys N] [--alerts N]
                                                      [--assembly cdk.out]

Without `--assembly` it synthesizes the app first (about 20 s, not timed).

The latency measured here is localcloud's: settling takes a tumbling window's end as reached
once its records are delivered. On AWS an alert also waits for its window to end (up to the
window's length, one minute by default) and for the poller (about a second).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

from infra import registry
from localcloud import LocalCloud
from stream_processing.contract import (
    AGGREGATE_PK_PREFIX,
    OUTPUT_AGGREGATES_TABLE_NAME,
    OUTPUT_AGGREGATOR_FUNCTION_NAME,
    OUTPUT_ALERTS_QUEUE_URL,
    OUTPUT_PRODUCER_FUNCTION_NAME,
    OUTPUT_STREAM_NAME,
)

STACK = registry.pattern("stream_processing").stack_name
#: Above the stack's alert threshold (100); the throughput readings stay below it.
HOT_VALUE = 500


def _synthesized(assembly: Path | None) -> Path:
    if assembly is not None:
        return assembly
    from infra.application import build_app

    outdir = Path(tempfile.mkdtemp(prefix="stream-processing-bench-"))
    build_app(outdir=str(outdir)).synth()
    return outdir


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(
    *, readings: int = 5_000, keys: int = 50, alerts: int = 50, assembly: Path | None = None
) -> dict[str, Any]:
    """Time the pattern on a fresh in-process localcloud; returns the figures."""
    with LocalCloud(_synthesized(assembly)) as cloud:
        cloud.deploy(STACK)
        outputs = cloud.outputs(STACK)
        tag = uuid.uuid4().hex[:8]
        aggregator = outputs[OUTPUT_AGGREGATOR_FUNCTION_NAME]

        # Throughput: readings put by the producer, aggregated by the event source's batches.
        batch = [{"key": f"bench-{tag}-{n % keys}", "value": n % 100} for n in range(readings)]
        started = time.perf_counter()
        put = cloud.invoke(outputs[OUTPUT_PRODUCER_FUNCTION_NAME], {"readings": batch})
        put_seconds = time.perf_counter() - started
        if not put.succeeded:
            raise RuntimeError(f"the producer failed: {put.error}")
        first = len(cloud.invocations)
        started = time.perf_counter()
        cloud.settle()
        delivery_seconds = time.perf_counter() - started
        runs = [i for i in cloud.invocations[first:] if i.function == aggregator]
        handler_ms = sum(i.duration_ms for i in runs)
        aggregated = _aggregated(cloud, outputs[OUTPUT_AGGREGATES_TABLE_NAME], f"bench-{tag}-")
        if aggregated != readings:
            raise RuntimeError(f"{readings} readings put, {aggregated} aggregated")

        # Latency: one hot reading put with PutRecords, until its alert is in the alerts queue.
        kinesis, sqs = cloud.client("kinesis"), cloud.client("sqs")
        latencies = []
        for n in range(alerts):
            key = f"hot-{tag}-{n}"
            started = time.perf_counter()
            kinesis.put_records(
                StreamName=outputs[OUTPUT_STREAM_NAME],
                Records=[
                    {"Data": json.dumps({"key": key, "value": HOT_VALUE}), "PartitionKey": key}
                ],
            )
            cloud.settle()
            messages = sqs.receive_message(
                QueueUrl=outputs[OUTPUT_ALERTS_QUEUE_URL], MaxNumberOfMessages=10
            ).get("Messages", [])
            latencies.append(time.perf_counter() - started)
            if [json.loads(m["Body"])["key"] for m in messages] != [key]:
                raise RuntimeError(f"expected the alert of {key}, got {messages}")
            sqs.delete_message(
                QueueUrl=outputs[OUTPUT_ALERTS_QUEUE_URL],
                ReceiptHandle=messages[0]["ReceiptHandle"],
            )

    return {
        "readings": readings,
        "keys": keys,
        "put_records_calls": put.payload["put_records_calls"],
        "put_records_calls_per_record": put.payload["put_records_calls"] / readings,
        "producer_readings_per_second": readings / put_seconds,
        "aggregator_invocations": len(runs),
        "handler_records_per_second": readings / (handler_ms / 1000),
        "delivery_records_per_second": readings / delivery_seconds,
        "alerts": alerts,
        "put_to_alert_p50_ms": statistics.median(latencies) * 1000,
        "put_to_alert_p99_ms": _percentile(latencies, 0.99) * 1000,
    }


def _aggregated(cloud: LocalCloud, table: str, prefix: str) -> int:
    total = 0
    for page in cloud.client("dynamodb").get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            if item["pk"]["S"].startswith(f"{AGGREGATE_PK_PREFIX}{prefix}"):
                total += int(item["count"]["N"])
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=5_000, help="readings to aggregate")
    parser.add_argument("--keys", type=int, default=50, help="distinct keys among them")
    parser.add_argument("--alerts", type=int, default=50, help="latency samples")
    parser.add_argument("--assembly", type=Path, help="a synthesized app (default: synth now)")
    args = parser.parse_args(argv)
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    figures = run(
        readings=args.readings, keys=args.keys, alerts=args.alerts, assembly=args.assembly
    )
    print(
        f"stream processing on localcloud (in process), {figures['readings']} readings of "
        f"{figures['keys']} keys:\n"
        f"  PutRecords calls per record      {figures['put_records_calls_per_record']:.4f} "
        f"({figures['put_records_calls']} calls)\n"
        f"  producer                         {figures['producer_readings_per_second']:,.0f} "
        "readings/s\n"
        f"  through the aggregator handler   {figures['handler_records_per_second']:,.0f} "
        f"records/s ({figures['aggregator_invocations']} invocations)\n"
        f"  delivery, end to end             {figures['delivery_records_per_second']:,.0f} "
        "records/s\n"
        f"  PutRecords -> alert ({figures['alerts']} alerts)  p50 "
        f"{figures['put_to_alert_p50_ms']:.1f} ms, p99 {figures['put_to_alert_p99_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
