"""Benchmark of the batching pattern: what batching saves, and what it costs in latency.

It prints figures and asserts nothing about time; the only checks are that the work it timed
was done (every item written once). From the repository root:

    .venv/bin/python -m bench.batching_bench [--items N] [--batch-size N]

1. Throughput, on moto in this process: the pattern's writer (`batching.writer.handler`)
   handed the items in batches of the configured size, against a one-item-at-a-time handler
   (one invocation and one PutItem per item, the same validation) in the same run: DynamoDB
   write calls per item, invocations per item, items per second through the handler.
2. The price of batching, on localcloud's SQS event source (Lambda's batching-window rule on
   the engine's clock, no real waiting): items arrive at a steady rate, and each item's added
   latency is the time from its SentTimestamp to the invocation that carries it, for each
   batching window.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

WINDOWS_SECONDS = (0, 1, 5, 20)
ARRIVAL_RATES_PER_SECOND = (5, 50)
SIMULATED_SECONDS = 120
STEP_SECONDS = 0.1


@dataclass
class _Context:
    function_name: str = "bench"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "bench"
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    log_group_name: str = "/aws/lambda/bench"
    log_stream_name: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class _CountingDynamoDB:
    """The moto client, counting write calls and the items they carry."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.write_calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, **kwargs: Any) -> Any:
        self.write_calls += 1
        return self._client.batch_write_item(**kwargs)

    def put_item(self, **kwargs: Any) -> Any:
        self.write_calls += 1
        return self._client.put_item(**kwargs)


def _records(count: int) -> list[dict[str, Any]]:
    return [
        {
            "messageId": f"m-{n}",
            "receiptHandle": f"r-{n}",
            "body": json.dumps(
                {
                    "item_id": f"item-{n:06d}",
                    "tenant_id": f"tenant-{n % 7}",
                    "metric": "api_calls",
                    "quantity": n,
                    "recorded_at": "2026-12-01T09:00:00Z",
                }
            ),
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1764579600000",
                "SenderId": "bench",
                "ApproximateFirstReceiveTimestamp": "1764579600000",
                "MessageGroupId": f"tenant-{n % 7}",
            },
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:bench",
            "awsRegion": "eu-west-1",
        }
        for n in range(count)
    ]


def throughput(items: int, batch_size: int) -> dict[str, dict[str, float]]:
    """Items per second, write calls and invocations per item, batched and one at a time."""
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "ITEMS_TABLE_NAME": "bench-items",
            "DEAD_LETTER_QUEUE_URL": "unused",
            "MAX_RECEIVE_COUNT": "5",
            "WRITE_MAX_ATTEMPTS": "5",
            "WRITE_BASE_DELAY_MS": "50",
        }
    )
    from shared.cache import reset_caches

    from batching import adapters, logic, writer

    records = _records(items)
    results: dict[str, dict[str, float]] = {}
    with mock_aws():
        client = boto3.client("dynamodb")
        for name in ("batched", "one at a time"):
            client.create_table(
                TableName="bench-items",
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            reset_caches()
            counting = _CountingDynamoDB(client)
            adapters.dynamodb_client = lambda counting=counting: counting
            invocations = 0
            started = time.perf_counter()
            if name == "batched":
                for start in range(0, items, batch_size):
                    # Powertools prints the writer's metrics (EMF) on stdout: not the figures.
                    with contextlib.redirect_stdout(io.StringIO()):
                        writer.handler({"Records": records[start : start + batch_size]}, _Context())
                    invocations += 1
            else:
                for record in records:
                    _one_at_a_time({"Records": [record]}, counting, logic)
                    invocations += 1
            seconds = time.perf_counter() - started
            stored = client.scan(TableName="bench-items", Select="COUNT")["Count"]
            if stored != items:
                raise AssertionError(f"{name}: {stored} items stored of {items}")
            results[name] = {
                "items per second": items / seconds,
                "write calls per item": counting.write_calls / items,
                "invocations per item": invocations / items,
            }
            client.delete_table(TableName="bench-items")
    return results


def _one_at_a_time(event: dict[str, Any], client: Any, logic: Any) -> None:
    """The baseline: one item per invocation, validated the same way, one PutItem."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    for record in event["Records"]:
        parsed = logic.parse_record(record["messageId"], record["body"], 1)
        attributes = parsed.item.to_attributes()
        client.put_item(
            TableName="bench-items",
            Item={key: serializer.serialize(value) for key, value in attributes.items()},
        )


# --- the price of batching: added latency per item, per batching window ---------------------

RECORDER = """\
def handler(event, context):
    return {"sent": [int(r["attributes"]["SentTimestamp"]) for r in event["Records"]]}
"""


def latency(batch_size: int) -> list[dict[str, float]]:
    """Added latency per item for each window and arrival rate, on localcloud's poller."""
    from localcloud import LocalCloud
    from localcloud.testing import App

    rows = []
    for rate in ARRIVAL_RATES_PER_SECOND:
        for window in WINDOWS_SECONDS:
            # Lambda takes batches above 10 only with a window of at least 1 s.
            size = batch_size if window else 10
            app = App()
            queue = app.queue("Inbox", visibility_timeout=600)
            recorder = app.function("Recorder", RECORDER)
            app.sqs_source(recorder, queue, batch_size=size, batching_window=window or None)
            with (
                tempfile.TemporaryDirectory() as folder,
                LocalCloud(app.write(Path(folder))) as cloud,
            ):
                cloud.deploy(app.stack_name)
                cloud.engine.time_scale = 1
                queue_url = cloud.outputs("Stack")["InboxUrl"]
                sqs = cloud.client("sqs")
                waits: list[float] = []
                seen = 0
                due = 0.0
                for _ in range(int(SIMULATED_SECONDS / STEP_SECONDS)):
                    cloud.engine.clock.advance(STEP_SECONDS)
                    due += rate * STEP_SECONDS
                    while due >= 1:
                        count = min(10, int(due))
                        sqs.send_message_batch(
                            QueueUrl=queue_url,
                            Entries=[{"Id": str(n), "MessageBody": "x"} for n in range(count)],
                        )
                        due -= count
                    cloud.engine.pump(fast_forward=False)
                    now_ms = cloud.engine.clock.time_millis()
                    for invocation in cloud.invocations[seen:]:
                        waits.extend((now_ms - sent) / 1000 for sent in invocation.payload["sent"])
                    seen = len(cloud.invocations)
            rows.append(
                {
                    "arrivals per second": rate,
                    "window seconds": window,
                    "batch size": size,
                    "items": len(waits),
                    "invocations per item": seen / max(len(waits), 1),
                    "mean added latency s": statistics.fmean(waits),
                    "p99 added latency s": statistics.quantiles(waits, n=100)[98],
                }
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.batching_bench")
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))

    print(f"Throughput: {args.items} items, writer batches of {args.batch_size} (moto, in process)")
    print(f"{'handler':<16} {'items/s':>9} {'writes/item':>12} {'invokes/item':>13}")
    for name, figures in throughput(args.items, args.batch_size).items():
        print(
            f"{name:<16} {figures['items per second']:9.0f} "
            f"{figures['write calls per item']:12.3f} {figures['invocations per item']:13.4f}"
        )
    print(
        f"\nThe price of batching: added latency per item ({SIMULATED_SECONDS} s of steady "
        f"arrivals, localcloud's SQS poller on its clock, batch size {args.batch_size})"
    )
    print(
        f"{'arrivals/s':>10} {'window s':>8} {'batch':>6} {'invokes/item':>13} "
        f"{'mean s':>7} {'p99 s':>7}"
    )
    for row in latency(args.batch_size):
        print(
            f"{row['arrivals per second']:>10} {row['window seconds']:>8} {row['batch size']:>6} "
            f"{row['invocations per item']:>13.4f} {row['mean added latency s']:>7.2f} "
            f"{row['p99 added latency s']:>7.2f}"
        )


if __name__ == "__main__":
    main()
