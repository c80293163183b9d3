"""Benchmark of localcloud: invoke overhead, SQS and Kinesis delivery, Step Functions overhead
per state, REST API requests through an authorizer, the order saga on Step Functions and on a
durable function, the ETL's transform, Parquet and layer figures (`bench.etl_bench`), demo and
e2e wall times.

It prints figures and asserts nothing about time; the only checks are that the work it timed
was done (every invoke succeeded, every message and record was processed once, every
execution succeeded, every request answered 200). From the repository root:

    make bench BENCH_ARGS="--messages 1000 --demo --e2e --load --orders 2000"
    .venv/bin/python -m bench.localcloud_bench [--messages N] [--records N] [--calls N]
        [--requests N] [--states N] [--demo] [--e2e] [--load [--orders N] [--depths N,N]]

The Kinesis, Step Functions, REST API and saga measures also run alone, with their own
options: `python -m bench.streams_bench`, `bench.stepfunctions_bench`, `bench.restapi_bench`,
`bench.orchestration_bench`.

Receiving and deleting no longer walk the whole queue (`localcloud.sqs_index`), so settling a
backlog takes time in proportion to its size; `--load` prints delivery at several depths.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import (
    etl_bench,
    load_bench,
    orchestration_bench,
    restapi_bench,
    stepfunctions_bench,
    streams_bench,
)
from bench.counter_app import (
    STACK,
    write_counter_assembly,
)
from localcloud import LocalCloud
from localcloud.core.runner import FunctionRunner, LocalFunction

ROOT = Path(__file__).resolve().parent.parent
BATCH_SIZES = (10, 100)
SEND_BATCH = 10  # SQS's maximum entries per SendMessageBatch
# The suite's end-to-end and localcloud tests (only the folders that exist are run).
E2E_TEST_PATHS = ("tests/e2e", "tests/localcloud")

TINY_HANDLER = """\
def handler(event, context):
    return {"echo": event["n"]}
"""


@dataclass
class Figures:
    """The rows of the closing table, in the order they were measured."""

    rows: list[tuple[str, str]] = field(default_factory=list)

    def add(self, measure: str, value: str) -> None:
        self.rows.append((measure, value))
        print(f"  {measure}: {value}")

    def table(self) -> str:
        width = max(len(measure) for measure, _ in self.rows)
        lines = [f"{'measure':<{width}}  value", f"{'-' * width}  {'-' * 24}"]
        lines += [f"{measure:<{width}}  {value}" for measure, value in self.rows]
        return "\n".join(lines)


# -- 1. invoke overhead --------------------------------------------------------------------


def bench_invoke_overhead(figures: Figures, calls: int) -> None:
    print(f"\n1. Invoke overhead: a tiny handler, {calls} calls each way")
    with tempfile.TemporaryDirectory(prefix="bench-tiny-") as folder:
        code_dir = Path(folder)
        (code_dir / "tiny_handler.py").write_text(TINY_HANDLER)

        # The direct calls use their own module object, so the runner's cold start is real.
        spec = importlib.util.spec_from_file_location(
            "bench_tiny_direct", code_dir / "tiny_handler.py"
        )
        if spec is None or spec.loader is None:
            raise RuntimeError(f"cannot load {code_dir / 'tiny_handler.py'}")
        direct_module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(direct_module)
        direct_handler: Callable[[Any, Any], Any] = direct_module.handler

        event = {"n": 1}
        started = time.perf_counter()
        for _ in range(calls):
            direct_handler(event, None)
        direct_us = (time.perf_counter() - started) / calls * 1e6

        runner = FunctionRunner()
        function = LocalFunction(
            name="bench-tiny", handler="tiny_handler.handler", code_dir=code_dir, environment={}
        )
        started = time.perf_counter()
        first = runner.invoke(function, event, trigger="bench")
        cold_ms = (time.perf_counter() - started) * 1000
        _require_success(first)

        started = time.perf_counter()
        for _ in range(calls):
            invocation = runner.invoke(function, event, trigger="bench")
        local_us = (time.perf_counter() - started) / calls * 1e6
        _require_success(invocation)
        if invocation.cold_start:
            raise RuntimeError("the warm invokes were cold starts: the runner lost the handler")

    figures.add("direct call, mean", f"{direct_us:.2f} µs")
    figures.add("local invoke (warm), mean", f"{local_us:.1f} µs")
    figures.add("local invoke / direct call", f"{local_us / direct_us:.0f}x")
    figures.add(
        "cold start (first invoke)",
        f"{cold_ms:.2f} ms wall, {first.duration_ms:.2f} ms reported by the runner",
    )


def _require_success(invocation: Any) -> None:
    if not invocation.succeeded:
        raise RuntimeError(f"{invocation.function} failed: {invocation.error}")


# -- 2. SQS delivery -----------------------------------------------------------------------


def bench_sqs_delivery(figures: Figures, messages: int, batch_size: int) -> None:
    print(f"\n2. SQS delivery: {messages} messages, batch size {batch_size}")
    with tempfile.TemporaryDirectory(prefix="bench-assembly-") as folder:
        write_counter_assembly(Path(folder), batch_size=batch_size)
        with LocalCloud(folder) as cloud:
            started = time.perf_counter()
            cloud.deploy(STACK)
            deploy_s = time.perf_counter() - started
            outputs = cloud.outputs(STACK)
            sqs = cloud.client("sqs")

            started = time.perf_counter()
            for first in range(0, messages, SEND_BATCH):
                entries = [
                    {"Id": str(n - first), "MessageBody": json.dumps({"n": n})}
                    for n in range(first, min(first + SEND_BATCH, messages))
                ]
                response = sqs.send_message_batch(QueueUrl=outputs["QueueUrl"], Entries=entries)
                if response.get("Failed"):
                    raise RuntimeError(f"send_message_batch failed: {response['Failed']}")
            send_s = time.perf_counter() - started

            started = time.perf_counter()
            invocations = cloud.settle()
            settle_s = time.perf_counter() - started

            failed = [i for i in cloud.invocations if not i.succeeded]
            report = cloud.invoke(outputs["FunctionName"], {"report": True})
            _require_success(report)
            processed = report.payload["processed"]
            left = _messages_in(sqs, outputs["QueueUrl"])
            dead = _messages_in(sqs, outputs["DeadLetterQueueUrl"])

    complete = processed == messages and left == 0 and dead == 0 and not failed
    label = f"batch {batch_size}"
    figures.add(f"deploy ({label})", f"{deploy_s * 1000:.0f} ms")
    figures.add(
        f"send ({label})",
        f"{send_s:.2f} s, {messages / send_s:,.0f} msg/s "
        f"({-(-messages // SEND_BATCH)} SendMessageBatch calls)",
    )
    figures.add(
        f"settle ({label})",
        f"{settle_s:.2f} s, {messages / settle_s:,.0f} msg/s, {invocations} invocations "
        f"({settle_s / max(invocations, 1) * 1000:.2f} ms each)",
    )
    figures.add(
        f"check ({label})",
        f"{'OK' if complete else 'INCOMPLETE'}: {processed} processed, {left} left in queue, "
        f"{dead} in DLQ, {len(failed)} failed invocations",
    )


def _messages_in(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


# -- 3. Kinesis delivery, Step Functions, REST API front ------------------------------------


def bench_kinesis_delivery(figures: Figures, records: int, shards: int) -> None:
    print(f"\n3. Kinesis delivery: {records} records over {shards} shards, batch size 100")
    result = streams_bench.run(records=records, shards=shards)
    figures.add(
        "Kinesis settle",
        f"{result['settle_s']:.2f} s, {result['records_per_s']:,.0f} records/s, "
        f"{result['invocations']:.0f} invocations ({result['ms_per_invocation']:.2f} ms each)",
    )
    figures.add(
        "Kinesis put",
        f"{result['put_s']:.2f} s, {result['put_records_per_s']:,.0f} records/s (moto)",
    )
    figures.add(
        "Kinesis check",
        f"OK: {result['processed']:.0f} processed, {result['distinct']:.0f} distinct, "
        f"{result['duplicated']:.0f} duplicated",
    )


def bench_step_functions(figures: Figures, states: int, executions: int) -> None:
    print(f"\n4. Step Functions: {executions} executions of chains of {states} states")
    result = stepfunctions_bench.run(states=states, executions=executions)
    for label, name in (("pass", "Pass state"), ("task", "Lambda Task state")):
        figures.add(
            f"Step Functions, per {name}",
            f"{result[f'{label}_state_us'] / 1000:.2f} ms "
            f"({result[f'{label}_execution_ms']:.0f} ms per execution of {states})",
        )


def bench_rest_api(figures: Figures, requests: int) -> None:
    print(f"\n5. REST API front: {requests} GET requests per route")
    result = restapi_bench.run(requests=requests)
    for route, label in (
        ("open", "no authorizer"),
        ("cached", "TOKEN authorizer, cached"),
        ("uncached", "TOKEN authorizer, TTL 0"),
    ):
        figures.add(
            f"REST API, {label}",
            f"{result[f'{route}_rps']:,.0f} req/s "
            f"({result[f'{route}_ms_per_request']:.2f} ms each)",
        )


# -- 6. make demo and the end-to-end suite -------------------------------------------------


def bench_command(figures: Figures, label: str, command: list[str]) -> None:
    print(f"\n6. {label}: {' '.join(command)}")
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall_s = time.perf_counter() - started
    outcome = "ok" if completed.returncode == 0 else f"exit {completed.returncode}"
    figures.add(f"{label} wall time", f"{wall_s:.1f} s ({outcome})")
    if completed.returncode != 0:
        tail = (completed.stdout + completed.stderr).strip().splitlines()[-20:]
        print("\n".join(f"    {line}" for line in tail))
    elif completed.stdout.strip():
        # pytest's summary, or the demo's closing line.
        print(f"    {completed.stdout.strip().splitlines()[-1]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="SQS messages per run")
    parser.add_argument("--records", type=int, default=10_000, help="Kinesis records per run")
    parser.add_argument("--shards", type=int, default=4, help="shards of the Kinesis stream")
    parser.add_argument("--states", type=int, default=50, help="states per Step Functions chain")
    parser.add_argument("--executions", type=int, default=20, help="executions of each chain")
    parser.add_argument("--requests", type=int, default=2000, help="REST API requests per route")
    parser.add_argument("--calls", type=int, default=2000, help="invokes to time, each way")
    parser.add_argument(
        "--sagas",
        type=int,
        default=20,
        help="order sagas per workflow (Step Functions, durable function); 0 skips them",
    )
    parser.add_argument("--etl-rows", type=int, default=20_000, help="ETL rows per source")
    parser.add_argument("--demo", action="store_true", help="also time `make demo`")
    parser.add_argument("--e2e", action="store_true", help="also time the end-to-end tests")
    parser.add_argument(
        "--load",
        action="store_true",
        help="also run the load benchmark (bench.load_bench: PubSub under localcloud up, "
        "warm invoke, SIGTERM, RSS, delivery by queue depth), sized by --orders and --depths",
    )
    load_bench.add_arguments(parser)
    args = parser.parse_args(argv)

    # moto warns about every template resource it does not model; none matter here.
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")

    figures = Figures()
    bench_invoke_overhead(figures, args.calls)
    for batch_size in BATCH_SIZES:
        bench_sqs_delivery(figures, args.messages, batch_size)
    bench_kinesis_delivery(figures, args.records, args.shards)
    bench_step_functions(figures, args.states, args.executions)
    bench_rest_api(figures, args.requests)
    if args.sagas:
        print("\nThe order saga on each workflow")
        figures.rows += orchestration_bench.rows(orchestration_bench.run(args.sagas))
    figures.rows.extend(etl_bench.measure(args.etl_rows))
    if args.demo:
        bench_command(figures, "make demo", ["make", "demo"])
    if args.e2e:
        paths = [path for path in E2E_TEST_PATHS if (ROOT / path).is_dir()]
        command = [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider"]
        bench_command(figures, "e2e tests", command)

    if args.load:
        print("\n7. Load")
        report = load_bench.Report()
        load_bench.run(
            report,
            orders=args.orders,
            depths=[int(depth) for depth in args.depths.split(",") if depth],
            up=not args.no_up,
            invoke_calls=args.invoke_calls,
        )
        for row in report.rows:
            figures.rows.append((row.measure, f"{row.value} (target {row.target or '-'})"))

    print(f"\nSummary (Python {sys.version.split()[0]})\n")
    print(figures.table())


if __name__ == "__main__":
    main()
