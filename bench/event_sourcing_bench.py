"""Benchmark of the event-sourcing ledger's store on moto (in process): items read per state
load with and without snapshots for an account of 1,000 events, the time of each load, and
replay throughput (events per second folded into a fresh projection by the rebuilder).

It prints figures and asserts nothing about time; the only checks are that the work it timed
was done: every load gave the same state, and the rebuild projected every account. From the
repository root:

    PYTHONPATH=functions .venv/bin/python -m bench.event_sourcing_bench [--events N]
        [--interval N] [--accounts N] [--runs N]

The figures are moto's in one process (with localcloud's DynamoDB hooks): on DynamoDB each
Query page is a round trip of a few milliseconds, so the items read (and pages) are what
carries over, not the timings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

import boto3
from moto import mock_aws

from event_sourcing import adapters, logic, rebuilder
from event_sourcing.models import Deposit, OpenAccount
from localcloud.core.hooks import InstalledHooks
from localcloud.services.dynamodb.service import TransactionalTables

EVENTS = "bench-events"
SNAPSHOTS = "bench-snapshots"
PROJECTION = "bench-projection"


def _tables() -> None:
    client = boto3.client("dynamodb")
    for name in (EVENTS, SNAPSHOTS):
        client.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    client.create_table(
        TableName=PROJECTION,
        KeySchema=[{"AttributeName": "account_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "account_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _fill(store: adapters.EventStore, account_id: str, events: int, interval: int) -> None:
    """`events` events on one account (an opening, then deposits), as the API appends them."""
    commands: list[Any] = [OpenAccount(type="open", command_id=f"{account_id}-open", owner="A")]
    commands += [
        Deposit(type="deposit", command_id=f"{account_id}-{n}", amount_cents=1)
        for n in range(events - 1)
    ]
    loaded = store.load(account_id)
    for command in commands:
        plan = logic.plan_append(
            loaded.account,
            command,
            snapshot_version=loaded.snapshot_version,
            snapshot_interval=interval,
            now=datetime.now(UTC),
        )
        store.append(plan)
        snapshot = plan.snapshot.version if plan.snapshot else loaded.snapshot_version
        loaded = adapters.Loaded(account=plan.state, snapshot_version=snapshot)


def _time_loads(store: adapters.EventStore, account_id: str, *, snapshots: bool, runs: int):
    timings, results = [], []
    for _ in range(runs):
        started = time.perf_counter()
        results.append(store.load(account_id, use_snapshots=snapshots))
        timings.append(time.perf_counter() - started)
    return results[0], statistics.median(timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.event_sourcing_bench")
    parser.add_argument("--events", type=int, default=1000, help="events of the loaded account")
    parser.add_argument("--interval", type=int, default=25, help="snapshot interval")
    parser.add_argument("--accounts", type=int, default=50, help="accounts replayed (besides)")
    parser.add_argument("--runs", type=int, default=5, help="loads timed of each kind")
    args = parser.parse_args(argv)
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    # localcloud's DynamoDB hooks: moto alone copies the whole table before each transaction,
    # which would make appends slow down as the store grows.
    hooks = InstalledHooks(TransactionalTables.HOOKS)
    try:
        return _run(args)
    finally:
        hooks.remove()


def _run(args: argparse.Namespace) -> int:
    with mock_aws():
        _tables()
        store = adapters.EventStore(
            boto3.client("dynamodb"), events_table=EVENTS, snapshots_table=SNAPSHOTS
        )
        started = time.perf_counter()
        _fill(store, "big", args.events, args.interval)
        for n in range(args.accounts):
            _fill(store, f"small-{n}", 20, args.interval)
        appended = args.events + 20 * args.accounts
        append_seconds = time.perf_counter() - started

        without, without_s = _time_loads(store, "big", snapshots=False, runs=args.runs)
        # The worst case with snapshots: the version just before the next one is due.
        worst_version = args.events - 1 if args.events % args.interval == 0 else args.events
        started = time.perf_counter()
        worst = store.load("big", at_version=worst_version)
        worst_s = time.perf_counter() - started
        with_snapshot, with_s = _time_loads(store, "big", snapshots=True, runs=args.runs)
        if without.account != with_snapshot.account:
            print("the two loads disagree", file=sys.stderr)
            return 1

        started = time.perf_counter()
        replayed = rebuilder.rebuild(
            store, adapters.ReadModel(boto3.client("dynamodb"), PROJECTION)
        )
        replay_seconds = time.perf_counter() - started
        if replayed != {"accounts": args.accounts + 1, "events": appended}:
            print(f"the rebuild replayed {replayed}", file=sys.stderr)
            return 1

    print(
        f"event sourcing on moto: one account of {args.events} events, snapshot every "
        f"{args.interval}"
    )
    print(f"  appends (TransactWriteItems):   {appended / append_seconds:8.0f} commands/s")
    print(
        f"  load without snapshots:        {without.events_read:5d} items read, "
        f"{without_s * 1000:7.1f} ms (median of {args.runs})"
    )
    print(
        f"  load from the latest snapshot: {with_snapshot.events_read + 1:5d} items read "
        f"(snapshot {with_snapshot.snapshot_version} + {with_snapshot.events_read} events), "
        f"{with_s * 1000:7.1f} ms"
    )
    print(
        f"  load as of version {worst_version} (the worst case): "
        f"{worst.events_read + 1} items read (snapshot {worst.snapshot_version} + "
        f"{worst.events_read} events), {worst_s * 1000:.1f} ms"
    )
    print(
        f"  replay into a fresh projection: {appended} events of {replayed['accounts']} "
        f"accounts in {replay_seconds:.2f} s = {appended / replay_seconds:8.0f} events/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
