"""Load benchmark of localcloud: PubSub under `localcloud up`, and in-process SQS delivery.

Figures, each beside its target from the issue "localcloud under load":

- the project's PubSub stack, deployed by the CDK CLI onto `localcloud up --time-scale 0.01`,
  with N valid orders sent to the fulfilment queue: messages per second overall and per
  thousand (steadiness), the server's RSS before and after, and how long it takes to stop
  after SIGTERM; the same scenario on MiniStack when it is installed and can run the stack;
- the warm invoke of a trivial function through the endpoint with boto3 (median);
- the PubSub scenario in process (`LocalCloud.settle`): its rate, and the time moto takes to
  answer a message's SDK calls, which bounds any placement of the handlers (moto's state is in
  one process, so on one core);
- in process, a trivial handler at batch sizes 10 and 100 with 1,000, 10,000 and 50,000
  queued messages.

It asserts nothing about time; it checks that the work timed was done: every order applied
exactly once (the ledger's `reservations` counter is 1 for each), none in a DLQ.

    .venv/bin/python -m bench.load_bench [--orders N] [--depths 1000,10000,50000] [--no-up]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-1"
STACK = "PubSub"
SEND_BATCH = 10
TIME_SCALE = 0.01
# Targets from the issue, printed beside each figure.
TARGET_UP_RATE = 400.0
TARGET_PEER_RATIO = 3.0
TARGET_RSS_GROWTH_MB = 100.0
TARGET_STOP_S = 5.0
TARGET_INVOKE_MS = 2.0
TARGET_IN_PROCESS = {10: 3_000.0, 100: 10_000.0}
# Orders for the in-process PubSub figure (moto's share of a message is the same at any count).
IN_PROCESS_ORDERS = 2_000

TRIVIAL_HANDLER = "def handler(event, context):\n    return {'ok': True}\n"


@dataclass
class Row:
    measure: str
    value: str
    target: str = ""


class Report:
    """The figures measured, printed as they come and again as a table at the end."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(self, measure: str, value: str, target: str = "") -> None:
        self.rows.append(Row(measure, value, target))
        print(f"  {measure}: {value}" + (f"   [target {target}]" if target else ""), flush=True)

    def table(self) -> str:
        width = max(len(row.measure) for row in self.rows)
        value_width = max(len(row.value) for row in self.rows)
        lines = [f"{'measure':<{width}}  {'value':<{value_width}}  target"]
        lines.append(f"{'-' * width}  {'-' * value_width}  {'-' * 12}")
        lines += [
            f"{row.measure:<{width}}  {row.value:<{value_width}}  {row.target}" for row in self.rows
        ]
        return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _client(endpoint_url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="localcloud",
        aws_secret_access_key="localcloud",  # noqa: S106 - emulators accept any value
        config=Config(
            account_id_endpoint_mode="disabled",
            retries={"max_attempts": 1},
            read_timeout=120,
        ),
    )


def _wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:  # noqa: S110 - the endpoint is still starting
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what}: not ready after {timeout:.0f} s")


def _order(n: int) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "order_placed",
        "order_id": f"load-{n:06d}",
        "amount": 120,
        "currency": "EUR",
        "occurred_at": "2026-11-27T09:00:00Z",
        "customer_id": f"customer-{n % 7}",
    }


def _envelope(order: dict[str, Any]) -> str:
    # What SNS puts on the fulfilment queue (its subscription is not raw).
    return json.dumps(
        {"Type": "Notification", "MessageId": str(uuid.uuid4()), "Message": json.dumps(order)}
    )


def _cdk_command() -> list[str]:
    local = ROOT / "node_modules/.bin/cdk"
    if local.exists():
        return [str(local)]
    if shutil.which("cdk"):
        return ["cdk"]
    return ["npx", "--no-install", "cdk"]


def _deploy(endpoint_url: str, assembly: Path, cdk_home: Path, extra: list[str]) -> None:
    from localcloud.server import cdk_environment

    environment = {**cdk_environment(endpoint_url, REGION), "CDK_HOME": str(cdk_home)}
    cdk = _cdk_command()
    # The account the endpoint answers for (localcloud's, or a peer's own).
    account = _client(endpoint_url, "sts").get_caller_identity()["Account"]
    for command in (
        [*cdk, "bootstrap", f"aws://{account}/{REGION}", "--app", str(assembly), *extra],
        [*cdk, "deploy", STACK, "--require-approval", "never", "--app", str(assembly), *extra],
    ):
        completed = subprocess.run(
            command, env=environment, capture_output=True, text=True, check=False, cwd=ROOT
        )
        if completed.returncode != 0:
            tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-15:])
            raise RuntimeError(f"`{' '.join(command[-6:])}` failed:\n{tail}")


def _outputs(endpoint_url: str) -> dict[str, str]:
    stack = _client(endpoint_url, "cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def _depth(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


@dataclass
class DrainResult:
    seconds: float
    per_thousand: list[float]
    applied_once: int
    applied_more: int
    left: int
    dead: int


def drain_orders(endpoint_url: str, outputs: dict[str, str], orders: int) -> DrainResult:
    """Send `orders` to the fulfilment queue and wait until the queue is empty.

    Progress is sampled from the queue's depth (messages sent minus messages still there), so
    the rate per thousand covers sending and delivery together, as a user sees it.
    """
    sqs = _client(endpoint_url, "sqs")
    queue_url = outputs["FulfilmentQueueUrl"]
    sent = [0]
    marks: list[float] = []
    started = time.perf_counter()

    def send() -> None:
        for first in range(0, orders, SEND_BATCH):
            entries = [
                {"Id": str(n - first), "MessageBody": _envelope(_order(n))}
                for n in range(first, min(first + SEND_BATCH, orders))
            ]
            response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            if response.get("Failed"):
                raise RuntimeError(f"send_message_batch failed: {response['Failed']}")
            sent[0] += len(entries)

    sender = threading.Thread(target=send, name="bench-sender", daemon=True)
    sender.start()
    probe = _client(endpoint_url, "sqs")
    last_progress, done = time.monotonic(), 0
    while True:
        time.sleep(0.25)
        sent_now = sent[0]
        done_now = sent_now - _depth(probe, queue_url)
        while len(marks) < done_now // 1000:
            marks.append(time.perf_counter() - started)
        if done_now != done:
            done, last_progress = done_now, time.monotonic()
        if not sender.is_alive() and sent_now == orders and done_now >= orders:
            break
        if time.monotonic() - last_progress > 120:
            raise RuntimeError(f"no progress for 120 s: {done_now} of {orders} delivered")
    seconds = time.perf_counter() - started
    if orders % 1000:
        marks.append(seconds)
    per_thousand = [
        min(1000, orders - 1000 * i) / (mark - (marks[i - 1] if i else 0.0))
        for i, mark in enumerate(marks)
    ]
    once, more = _ledger_counts(_client(endpoint_url, "dynamodb"), outputs["LedgerTableName"])
    dead = _depth(probe, outputs["FulfilmentDeadLetterQueueUrl"])
    return DrainResult(seconds, per_thousand, once, more, _depth(probe, queue_url), dead)


def _ledger_counts(dynamodb: Any, table: str) -> tuple[int, int]:
    """Orders of this bench whose reservation was applied exactly once, and more than once."""
    once = more = 0
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            if not item["pk"]["S"].startswith("ORDER#load-") or item["sk"]["S"] != "fulfilment":
                continue
            reservations = int(item.get("reservations", {}).get("N", "0"))
            once += reservations == 1
            more += reservations > 1
    return once, more


def _trivial_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("trivial.py", TRIVIAL_HANDLER)
    return buffer.getvalue()


def warm_invoke_ms(endpoint_url: str, calls: int) -> float:
    """Median of `calls` warm RequestResponse invokes of a trivial function, via boto3."""
    iam = _client(endpoint_url, "iam")
    role = iam.create_role(
        RoleName=f"bench-trivial-{uuid.uuid4().hex[:6]}",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    lambda_client = _client(endpoint_url, "lambda")
    name = f"bench-trivial-{uuid.uuid4().hex[:6]}"
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler="trivial.handler",
        Code={"ZipFile": _trivial_zip()},
        Timeout=10,
    )
    _wait_until(
        lambda: lambda_client.get_function(FunctionName=name)["Configuration"]["State"] == "Active",
        60,
        "the trivial function",
    )
    payload = b'{"n": 1}'
    for _ in range(5):
        response = lambda_client.invoke(FunctionName=name, Payload=payload)
        if "FunctionError" in response:
            raise RuntimeError(f"the trivial function failed: {response['Payload'].read()}")
        response["Payload"].read()
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        lambda_client.invoke(FunctionName=name, Payload=payload)["Payload"].read()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


# -- localcloud up -------------------------------------------------------------------------


@dataclass
class UpResult:
    rate: float
    drain: DrainResult
    rss_start_mb: float
    rss_end_mb: float
    stop_s: float
    invoke_ms: float


def run_localcloud_up(orders: int, assembly: Path, invoke_calls: int) -> UpResult:
    port = _free_port()
    endpoint_url = f"http://localhost:{port}"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory(prefix="bench-localcloud-") as home:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "localcloud",
                "up",
                "--port",
                str(port),
                "--time-scale",
                str(TIME_SCALE),
            ],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_until(
                lambda: _client(endpoint_url, "sts").get_caller_identity() is not None,
                60,
                "localcloud up",
            )
            _deploy(endpoint_url, assembly, Path(home) / "cdk-home", [])
            outputs = _outputs(endpoint_url)
            invoke_ms = warm_invoke_ms(endpoint_url, invoke_calls)
            rss_start = _rss_mb(server.pid)
            drain = drain_orders(endpoint_url, outputs, orders)
            time.sleep(1.0)  # whatever the last batch left to free
            rss_end = _rss_mb(server.pid)
            started = time.perf_counter()
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=60)
                stop_s = time.perf_counter() - started
            except subprocess.TimeoutExpired:
                stop_s = float("inf")
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    return UpResult(orders / drain.seconds, drain, rss_start, rss_end, stop_s, invoke_ms)


# -- MiniStack -----------------------------------------------------------------------------


def _host_architecture() -> str:
    """The Lambda architecture of this machine, whose Python a peer runs handlers on."""
    return "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"


def _synth_with_bundled_powertools(outdir: Path) -> Path:
    """The PubSub stack synthesized into `outdir` with Powertools bundled into its assets, for
    this machine's architecture (a peer runs the handlers on this machine's Python)."""
    command = [
        *_cdk_command(),
        "synth",
        STACK,
        "--quiet",
        "-c",
        "powertools=bundled",
        "-c",
        f"architecture={_host_architecture()}",
    ]
    completed = subprocess.run(
        [*command, "--output", str(outdir)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"`{' '.join(command)}` failed:\n{tail}")
    return outdir


def run_ministack(orders: int, assembly: Path) -> tuple[float | None, str]:
    """The same scenario on MiniStack: (msg/s, note), or (None, why it was not run)."""
    executable = shutil.which("ministack") or str(Path(sys.executable).parent / "ministack")
    if not Path(executable).exists():
        return None, "MiniStack is not installed (pip install ministack)"
    port = _free_port()
    endpoint_url = f"http://localhost:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-ministack-") as home:
        peer = subprocess.Popen(
            [executable],
            env={**os.environ, "GATEWAY_PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_until(
                lambda: _client(endpoint_url, "sqs").list_queues() is not None, 60, "MiniStack"
            )
            try:
                # A peer has no AWS public parameter naming the Powertools layer, and runs the
                # handlers on this machine: the stack is synthesized with Powertools installed
                # into its functions' assets, built for this machine's architecture.
                bundled = _synth_with_bundled_powertools(Path(home) / "cdk.out")
                _deploy(endpoint_url, bundled, Path(home) / "cdk-home", [])
            except RuntimeError as error:
                reason = str(error).strip().splitlines()[-1][:300]
                return None, f"MiniStack cannot deploy the PubSub stack: {reason}"
            outputs = _outputs(endpoint_url)
            try:
                drain = drain_orders(endpoint_url, outputs, orders)
            except RuntimeError as error:
                return None, f"MiniStack deployed the PubSub stack but did not drain it: {error}"
            return orders / drain.seconds, f"{drain.applied_once} applied once"
        finally:
            peer.terminate()
            try:
                peer.wait(timeout=10)
            except subprocess.TimeoutExpired:
                peer.kill()


# -- in process ----------------------------------------------------------------------------


def in_process_rate(messages: int, batch_size: int) -> tuple[float, bool]:
    """Settle `messages` queued messages through a counting handler; (msg/s, all processed)."""
    from bench.counter_app import STACK as COUNTER_STACK
    from bench.counter_app import write_counter_assembly
    from localcloud import LocalCloud

    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        write_counter_assembly(Path(folder), batch_size=batch_size)
        with LocalCloud(folder) as cloud:
            cloud.deploy(COUNTER_STACK)
            outputs = cloud.outputs(COUNTER_STACK)
            sqs = cloud.client("sqs")
            for first in range(0, messages, SEND_BATCH):
                entries = [
                    {"Id": str(n - first), "MessageBody": json.dumps({"n": n})}
                    for n in range(first, min(first + SEND_BATCH, messages))
                ]
                sqs.send_message_batch(QueueUrl=outputs["QueueUrl"], Entries=entries)
            started = time.perf_counter()
            cloud.settle()
            seconds = time.perf_counter() - started
            report = cloud.invoke(outputs["FunctionName"], {"report": True})
            left = _depth(sqs, outputs["QueueUrl"]) + _depth(sqs, outputs["DeadLetterQueueUrl"])
    return messages / seconds, report.payload["processed"] == messages and left == 0


@dataclass
class InProcessPubSub:
    rate: float
    ms_per_message: float
    moto_ms_per_message: float
    applied_once: int
    applied_more: int
    dead: int


@contextlib.contextmanager
def _time_in_moto() -> Iterator[list[float]]:
    """Seconds spent in moto answering the SDK's requests while the block runs: from the
    request botocore made to the response moto gives it, routing and backend included."""
    from moto.core.botocore_stubber import BotocoreStubber

    spent = [0.0]
    answer = BotocoreStubber.process_request

    def timed(self: Any, request: Any) -> Any:
        started = time.perf_counter()
        try:
            return answer(self, request)
        finally:
            spent[0] += time.perf_counter() - started

    BotocoreStubber.process_request = timed  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        BotocoreStubber.process_request = answer  # type: ignore[method-assign]


def in_process_pubsub(orders: int, assembly: Path) -> InProcessPubSub:
    """The PubSub scenario in process (`LocalCloud.settle`, the handlers on the caller's
    process, their SDK calls answered by moto without HTTP): the rate, and moto's share of
    each message, which no placement of the handlers can take off the one process (and so
    the one core) that holds moto's state."""
    from localcloud import LocalCloud

    with LocalCloud(assembly) as cloud:
        cloud.deploy(STACK)
        outputs = cloud.outputs(STACK)
        sqs = cloud.client("sqs")
        for first in range(0, orders, SEND_BATCH):
            entries = [
                {"Id": str(n - first), "MessageBody": _envelope(_order(n))}
                for n in range(first, min(first + SEND_BATCH, orders))
            ]
            sqs.send_message_batch(QueueUrl=outputs["FulfilmentQueueUrl"], Entries=entries)
        with _time_in_moto() as in_moto:
            started = time.perf_counter()
            cloud.settle()
            seconds = time.perf_counter() - started
        once, more = _ledger_counts(cloud.client("dynamodb"), outputs["LedgerTableName"])
        dead = _depth(sqs, outputs["FulfilmentDeadLetterQueueUrl"])
    return InProcessPubSub(
        orders / seconds, seconds / orders * 1e3, in_moto[0] / orders * 1e3, once, more, dead
    )


# -- main ----------------------------------------------------------------------------------


def run(report: Report, *, orders: int, depths: list[int], up: bool, invoke_calls: int) -> None:
    assembly = ROOT / "cdk.out"
    if up and not (assembly / f"{STACK}.template.json").is_file():
        report.add("localcloud up scenario", "skipped: no cdk.out (run `make synth` first)")
        up = False
    if up:
        print(f"\nPubSub under `localcloud up --time-scale {TIME_SCALE}`: {orders} orders")
        result = run_localcloud_up(orders, assembly, invoke_calls)
        drain = result.drain
        steady = ", ".join(f"{rate:.0f}" for rate in drain.per_thousand)
        report.add("up: PubSub fulfilment", f"{result.rate:.0f} msg/s", f">= {TARGET_UP_RATE:.0f}")
        report.add("up: msg/s per thousand", steady, "steady")
        report.add(
            "up: applied once / more / left / DLQ",
            f"{drain.applied_once} / {drain.applied_more} / {drain.left} / {drain.dead}",
            f"{orders} / 0 / 0 / 0",
        )
        growth = result.rss_end_mb - result.rss_start_mb
        report.add(
            "up: server RSS",
            f"{result.rss_start_mb:.0f} -> {result.rss_end_mb:.0f} MB (+{growth:.0f})",
            f"+<= {TARGET_RSS_GROWTH_MB:.0f} MB",
        )
        report.add("up: stop after SIGTERM", f"{result.stop_s:.2f} s", f"<= {TARGET_STOP_S:.0f} s")
        report.add(
            "up: warm invoke (boto3, median)",
            f"{result.invoke_ms:.2f} ms",
            f"<= {TARGET_INVOKE_MS:.0f} ms",
        )
        print("\nThe same scenario on MiniStack")
        peer_rate, note = run_ministack(orders, assembly)
        if peer_rate is None:
            report.add("peer: MiniStack", f"not run: {note}")
        else:
            report.add("peer: MiniStack", f"{peer_rate:.0f} msg/s ({note})")
            report.add(
                "up / MiniStack",
                f"{result.rate / peer_rate:.1f}x",
                f">= {TARGET_PEER_RATIO:.0f}x",
            )
    if (assembly / f"{STACK}.template.json").is_file():
        in_process_orders = min(orders, IN_PROCESS_ORDERS)
        print(f"\nPubSub in process: {in_process_orders} orders")
        pubsub = in_process_pubsub(in_process_orders, assembly)
        report.add("in process: PubSub fulfilment", f"{pubsub.rate:.0f} msg/s")
        report.add(
            "in process: applied once / more / DLQ",
            f"{pubsub.applied_once} / {pubsub.applied_more} / {pubsub.dead}",
            f"{in_process_orders} / 0 / 0",
        )
        report.add(
            "in process: moto's time per message",
            f"{pubsub.moto_ms_per_message:.2f} of {pubsub.ms_per_message:.2f} ms"
            f" (at most {1000 / pubsub.moto_ms_per_message:.0f} msg/s on one core)",
        )
    for batch_size in (10, 100):
        for depth in depths:
            print(f"\nIn process: {depth} queued messages, batch size {batch_size}")
            rate, complete = in_process_rate(depth, batch_size)
            report.add(
                f"in process: batch {batch_size}, {depth} queued",
                f"{rate:,.0f} msg/s{'' if complete else ' (INCOMPLETE)'}",
                f">= {TARGET_IN_PROCESS[batch_size]:,.0f}",
            )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", type=int, default=10_000, help="orders for the up scenario")
    parser.add_argument(
        "--depths",
        default="1000,10000,50000",
        help="queued messages for the in-process figures, comma-separated",
    )
    parser.add_argument("--invoke-calls", type=int, default=500, help="warm invokes to time")
    parser.add_argument("--no-up", action="store_true", help="skip the `localcloud up` scenario")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    import logging
    import warnings

    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    report = Report()
    run(
        report,
        orders=args.orders,
        depths=[int(depth) for depth in args.depths.split(",") if depth],
        up=not args.no_up,
        invoke_calls=args.invoke_calls,
    )
    print(f"\nLoad summary (Python {sys.version.split()[0]})\n")
    print(report.table())


if __name__ == "__main__":
    main()
