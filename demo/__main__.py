"""`make demo`: start localcloud, deploy every stack with the real CDK CLI, run every scenario.

Delivery runs when a scenario settles (not in the background), so the trace is the same on
every run; `localcloud up` delivers continuously instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
import warnings
from pathlib import Path

from infra import registry
from localcloud import cli
from localcloud.remote import RemoteCloud
from localcloud.server import LocalCloudServer

#: Pattern name -> its scenario's `run(cloud)`, for every registered pattern that has one.
SCENARIOS = {
    pattern.name: importlib.import_module(pattern.scenario).run
    for pattern in registry.PATTERNS
    if pattern.scenario
}
STACK_OF = {pattern.name: pattern.stack_name for pattern in registry.PATTERNS}
REGION = "eu-west-1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.split("\n")[0])
    parser.add_argument("--assembly", default="cdk.out", type=Path, help="synthesized app")
    parser.add_argument("--port", type=int, default=0, help="localcloud's port (default: any)")
    parser.add_argument(
        "patterns",
        nargs="*",
        metavar="PATTERN",
        help=f"any of {', '.join(SCENARIOS)} (default: all)",
    )
    args = parser.parse_args(argv)
    patterns = args.patterns or list(SCENARIOS)
    unknown = sorted(set(patterns) - set(SCENARIOS))
    if unknown:
        parser.error(f"no scenario for {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")

    logging.getLogger("moto").setLevel(logging.ERROR)
    # A saga's business failure (an order short of stock) is logged with its traceback by
    # moto's state machine interpreter and by the durable execution SDK; the scenario's trace
    # tells it, and each function's own logs keep it.
    for name in (
        "moto.stepfunctions",
        "aws_durable_execution_sdk_python",
        "aws_durable_execution_sdk_python_testing",
    ):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")
    summary = []
    with LocalCloudServer(port=args.port, region=REGION, background=False) as server:
        print(f"localcloud is up at {server.endpoint_url}")
        started = time.perf_counter()
        # Only the stacks of the patterns asked for: a scenario needs its own stack alone.
        stacks = [STACK_OF[name] for name in patterns]
        deployed = cli.main(
            [
                "deploy",
                *stacks,
                "--endpoint-url",
                server.endpoint_url,
                "--app",
                str(args.assembly),
            ]
        )
        if deployed != 0:
            return deployed
        seconds = time.perf_counter() - started
        print(f"{', '.join(stacks)} deployed with the CDK CLI in {seconds:.1f} s")
        cloud = RemoteCloud(server.endpoint_url, region=REGION)
        for name in patterns:
            started = time.perf_counter()
            outcome = SCENARIOS[name](cloud)
            summary.append((name, outcome, time.perf_counter() - started))

    print(f"\n{'pattern':<18} {'invocations':>11} {'processed':>10} {'in DLQs':>8} {'seconds':>8}")
    for name, outcome, seconds in summary:
        print(
            f"{name:<18} {outcome.invocations:>11} {outcome.processed:>10} "
            f"{outcome.in_dead_letter_queues:>8} {seconds:8.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
