"""Runs every finished pattern's scenario in-process on moto and prints a summary table."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from moto import mock_aws

from demo import pub_sub, request_response
from localcloud import LocalCloud

SCENARIOS = {"request_response": request_response.run, "pub_sub": pub_sub.run}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--assembly", default="cdk.out", type=Path, help="synthesized app")
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

    # Fake credentials keep every call on moto; nothing here can reach an AWS account.
    os.environ.update(
        AWS_ACCESS_KEY_ID="localcloud",
        AWS_SECRET_ACCESS_KEY="localcloud",  # noqa: S106 - not a secret: moto accepts any value
        AWS_DEFAULT_REGION="eu-west-1",
        POWERTOOLS_TRACE_DISABLED="1",
        POWERTOOLS_METRICS_DISABLED="1",
    )
    os.environ.pop("AWS_PROFILE", None)
    summary = []
    with mock_aws():
        cloud = LocalCloud(args.assembly)
        for name in patterns:
            started = time.perf_counter()
            outcome = SCENARIOS[name](cloud)
            summary.append((name, outcome, time.perf_counter() - started))

    print(f"\n{'pattern':<18} {'invocations':>11}  {'seconds':>7}  result")
    for name, outcome, seconds in summary:
        print(f"{name:<18} {outcome.invocations:>11}  {seconds:7.2f}  {_result(outcome)}")
    return 0


def _result(outcome) -> str:
    if isinstance(outcome, request_response.Outcome):
        return f"{len(outcome.statuses)} requests, {outcome.items_in_table} items in the table"
    return (
        f"{outcome.published} published, {sum(outcome.delivered.values())} delivered, "
        f"{outcome.ledger_items} ledger items, {sum(outcome.dead_letters.values())} in DLQs"
    )


if __name__ == "__main__":
    sys.exit(main())
