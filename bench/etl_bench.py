"""Benchmark of the ETL pattern: rows per second through the transform (each source), Parquet
bytes in the Iceberg table against the CSV bytes landed, the merge's time on moto, and the
dependency layer's size against Lambda's 250 MB limit.

It prints figures and asserts nothing about time; the only checks are that the work it timed
was done: every generated row was read as an order, and the table holds every one once. From
the repository root (`make bench` runs it too, with its defaults):

    .venv/bin/python -m bench.etl_bench [--rows N]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sys
import time
from collections.abc import Callable

from infra.constructs.dependency_layer import LAMBDA_UNZIPPED_LIMIT_BYTES, build_layer
from infra.patterns.etl import LAYER_GROUP

# The pattern's modules are imported where they are used: `infra` (above) puts the functions'
# asset root, where `etl` lives, on the import path, and the import sorter would put them first.

#: The Powertools layer the load function also carries (arm64, Python 3.13, with pydantic),
#: as measured in /work/shared/LOCAL-EMULATION.md's sizes: it counts against the same limit.
POWERTOOLS_LAYER_BYTES = 21 * 2**20
MIB = 2**20


def _csv(rows: int, rng: random.Random) -> bytes:
    from etl.models import CSV_COLUMNS

    header = ",".join(CSV_COLUMNS) + "\n"
    start = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    lines = []
    for n in range(rows):
        at = (start + datetime.timedelta(minutes=7 * n)).isoformat()
        lines.append(
            f"W-{n:08d},C-{rng.randrange(5000):05d},{rng.choice(['de', 'FRA', 'Italy', 'nl'])},"
            f"{rng.randrange(100, 100000) / 100:.2f},{rng.choice(['eur', 'EUR', 'usd'])},"
            f"{rng.randrange(1, 5000) / 10},{rng.choice(['kg', 'g', 'lb', 'oz'])},"
            f"{rng.choice(['PL', 'PD', 'SH', 'DL'])},{at},{at}\n"
        )
    return (header + "".join(lines)).encode()


def _jsonl(rows: int, rng: random.Random) -> bytes:
    start = int(datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC).timestamp() * 1000)
    return "".join(
        json.dumps(
            {
                "id": f"S-{n:08d}",
                "customer": {"id": f"C-{rng.randrange(5000):05d}"},
                "shipTo": {"country": rng.choice(["DEU", "fr", "Sweden"])},
                "amount": {"value": f"{rng.randrange(100, 100000) / 100:.2f}", "currency": "EUR"},
                "weightGrams": rng.randrange(10, 50000),
                "state": rng.choice(["created", "paid", "dispatched", "delivered"]),
                "createdAt": start + 420_000 * n,
                "updatedAt": start + 420_000 * n,
            }
        )
        + "\n"
        for n in range(rows)
    ).encode()


def _timed(work: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def measure(rows: int) -> list[tuple[str, str]]:
    """The figures, as (measure, value) rows; prints each as it is measured."""
    from etl import logic

    figures: list[tuple[str, str]] = []

    def add(measure: str, value: str) -> None:
        figures.append((measure, value))
        print(f"  {measure}: {value}")

    rng = random.Random(20261201)  # noqa: S311 - repeatable sample data, not security
    csv_body, jsonl_body = _csv(rows, rng), _jsonl(rows, rng)
    print(f"\nETL: {rows:,} rows per source")
    csv_result, csv_seconds = _timed(lambda: logic.read_file("landing/bench.csv", csv_body))
    json_result, json_seconds = _timed(lambda: logic.read_file("landing/bench.jsonl", jsonl_body))
    assert len(csv_result.orders) == len(json_result.orders) == rows, "every row is an order"
    add("ETL transform, CSV rows/s", f"{rows / csv_seconds:,.0f}")
    add("ETL transform, JSON Lines rows/s", f"{rows / json_seconds:,.0f}")

    orders = csv_result.orders
    parquet_bytes, merge_seconds = _load_on_moto(orders)
    add(
        "ETL Parquet bytes / CSV bytes",
        f"{parquet_bytes:,} / {len(csv_body):,} = {parquet_bytes / len(csv_body):.2f}",
    )
    add(f"ETL merge of {rows:,} new rows into Iceberg (moto)", f"{merge_seconds:.2f} s")

    built = build_layer(LAYER_GROUP)
    total = built.unzipped_bytes + POWERTOOLS_LAYER_BYTES
    add(
        "ETL layer (pyiceberg, pyarrow) unzipped",
        f"{built.unzipped_bytes / MIB:.1f} MiB ({built.zipped_bytes / MIB:.1f} MiB zipped)",
    )
    add(
        "ETL load function, layers + Powertools vs 250 MB",
        f"{total / MIB:.0f} MiB of {LAMBDA_UNZIPPED_LIMIT_BYTES / MIB:.0f} MiB",
    )
    return figures


def _load_on_moto(orders: list) -> tuple[int, float]:
    """Merge `orders` into a fresh Iceberg table on moto; the Parquet bytes it wrote."""
    from etl import adapters
    from etl.contract import ORDERS_TABLE

    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
    }.items():
        os.environ.setdefault(name, value)
    from moto import mock_aws
    from shared import aws
    from shared.cache import reset_caches

    with mock_aws():
        reset_caches()
        aws.client("s3").create_bucket(
            Bucket="bench", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        aws.client("glue").create_database(DatabaseInput={"Name": "bench"})
        table = adapters.OrdersTable(
            database="bench", table=ORDERS_TABLE, warehouse="s3://bench/warehouse"
        )
        table.load()
        counts, seconds = _timed(lambda: table.upsert(orders))
        assert counts.inserted == len(orders), "every order inserted once"
        listed = aws.client("s3").list_objects_v2(Bucket="bench", Prefix="warehouse/orders/data/")
        parquet = sum(
            o["Size"] for o in listed.get("Contents", []) if o["Key"].endswith(".parquet")
        )
        reset_caches()
    return parquet, seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.etl_bench")
    parser.add_argument("--rows", type=int, default=20_000, help="rows per source")
    args = parser.parse_args(argv)
    figures = measure(args.rows)
    width = max(len(measure) for measure, _ in figures)
    print(f"\nSummary (Python {sys.version.split()[0]})\n")
    for measure_name, value in figures:
        print(f"{measure_name:<{width}}  {value}")


if __name__ == "__main__":
    main()
