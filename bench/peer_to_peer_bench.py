"""Benchmark of the peer-to-peer pattern on localcloud (in process): the latency one hop adds
(a synchronous Lambda-to-Lambda call with discovery, circuit check and time budget), and the
calls an open circuit saves in a burst of failures.

It prints figures and asserts nothing about time; the only checks are that the work it timed
was done: every call answered, and the burst's calls reached the broken peer exactly as often
as the circuit allowed. From the repository root:

    .venv/bin/python -m bench.peer_to_peer_bench [--samples N] [--burst N] [--assembly cdk.out]

Without `--assembly` it synthesizes the app first (about 20 s, not timed).

A hop's added latency is measured from the runner's own records: catalog's duration less those
of the two peers it waits for and less one leaf's duration (catalog's own table read is about
a leaf's work), halved for its two calls. On AWS a synchronous invoke adds the network and
Lambda's front end (single-digit to tens of milliseconds), and a cold peer its init.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import uuid
import warnings
from pathlib import Path

from infra import registry
from localcloud import LocalCloud
from peer_to_peer.contract import (
    ENV_DATA_TABLE_NAME,
    ENV_FAILURE_THRESHOLD,
    Service,
    output_function_name,
    output_table_name,
)

STACK = registry.pattern("peer_to_peer").stack_name


def _synthesized(assembly: Path | None) -> Path:
    if assembly is not None:
        return assembly
    from infra.application import build_app

    outdir = Path(tempfile.mkdtemp(prefix="peer-to-peer-bench-"))
    build_app(outdir=str(outdir)).synth()
    return outdir


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(cloud: LocalCloud, *, samples: int, burst: int) -> dict[str, float]:
    outputs = cloud.outputs(STACK)
    functions = {service: outputs[output_function_name(service)] for service in Service}
    by_name = {name: service for service, name in functions.items()}
    dynamodb, lambda_ = cloud.client("dynamodb"), cloud.client("lambda")
    sku = f"bench-{uuid.uuid4().hex[:8]}"
    for service, attribute in (
        (Service.CATALOG, {"name": {"S": "Blue widget"}}),
        (Service.PRICING, {"unit_price": {"N": "250"}}),
        (Service.STOCK, {"available": {"N": "5"}}),
    ):
        dynamodb.put_item(
            TableName=outputs[output_table_name(service)], Item={"pk": {"S": sku}, **attribute}
        )

    # Warm every environment (cold starts are not what a hop adds).
    for _ in range(3):
        cloud.invoke(functions[Service.CATALOG], {"sku": sku})
    per_hop: list[float] = []
    leaf: list[float] = []
    for _ in range(samples):
        since = len(cloud.invocations)
        answer = cloud.invoke(functions[Service.CATALOG], {"sku": sku})
        if not (answer.succeeded and answer.payload["ok"] and not answer.payload["degraded"]):
            raise SystemExit(f"a catalog call did not answer in full: {answer.payload}")
        durations = {by_name[i.function]: i.duration_ms for i in cloud.invocations[since:]}
        own_read = (durations[Service.PRICING] + durations[Service.STOCK]) / 2
        leaf.append(own_read)
        waited = durations[Service.CATALOG] - durations[Service.PRICING] - durations[Service.STOCK]
        per_hop.append((waited - own_read) / 2)

    threshold = int(
        lambda_.get_function_configuration(FunctionName=functions[Service.CATALOG])["Environment"][
            "Variables"
        ][ENV_FAILURE_THRESHOLD]
    )
    pricing = functions[Service.PRICING]
    healthy = lambda_.get_function_configuration(FunctionName=pricing)["Environment"]["Variables"]
    lambda_.update_function_configuration(
        FunctionName=pricing,
        Environment={"Variables": {**healthy, ENV_DATA_TABLE_NAME: "no-such-table"}},
    )
    failing: list[float] = []
    short_circuited: list[float] = []
    since = len(cloud.invocations)
    try:
        for _ in range(burst):
            answer = cloud.invoke(functions[Service.CATALOG], {"sku": sku})
            reason = answer.payload["degraded"][0]["reason"]
            (failing if reason == "peer_failed" else short_circuited).append(answer.duration_ms)
    finally:
        lambda_.update_function_configuration(
            FunctionName=pricing, Environment={"Variables": healthy}
        )
    reached = sum(1 for i in cloud.invocations[since:] if i.function == pricing)
    if reached != min(threshold, burst):
        raise SystemExit(f"pricing was reached {reached} times, the threshold is {threshold}")
    return {
        "samples": samples,
        "hop_p50_ms": statistics.median(per_hop),
        "hop_p99_ms": _percentile(per_hop, 0.99),
        "leaf_p50_ms": statistics.median(leaf),
        "burst": burst,
        "peer_calls_in_burst": reached,
        "calls_saved": burst - reached,
        "failing_call_p50_ms": statistics.median(failing),
        "short_circuited_call_p50_ms": statistics.median(short_circuited)
        if short_circuited
        else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=100, help="catalog calls timed (100)")
    parser.add_argument("--burst", type=int, default=100, help="calls while pricing fails (100)")
    parser.add_argument("--assembly", type=Path, help="a synthesized cdk.out (else synthesize)")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    with LocalCloud(_synthesized(args.assembly)) as cloud:
        cloud.deploy(STACK)
        figures = run(cloud, samples=args.samples, burst=args.burst)
    print(
        f"latency one hop adds (p50 / p99, {figures['samples']} catalog calls of 2 hops each): "
        f"{figures['hop_p50_ms']:.1f} ms / {figures['hop_p99_ms']:.1f} ms "
        f"(a leaf's own work: {figures['leaf_p50_ms']:.1f} ms)"
    )
    print(
        f"failure burst of {figures['burst']} calls: the broken peer was called "
        f"{figures['peer_calls_in_burst']} times, {figures['calls_saved']} calls saved "
        f"({figures['calls_saved'] / figures['burst']:.0%}) by the open circuit"
    )
    print(
        f"a call while the peer fails: p50 {figures['failing_call_p50_ms']:.1f} ms; "
        f"short-circuited: p50 {figures['short_circuited_call_p50_ms']:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
