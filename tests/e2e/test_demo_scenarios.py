"""Each registered pattern's scenario runs end to end on localcloud (in-process) from the app."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra import registry
from localcloud import LocalCloud
from pub_sub.contract import SubscriberName, subscriber_id
from tests.synth import CloudAssembly

SCENARIO_PATTERNS = [pattern for pattern in registry.PATTERNS if pattern.scenario]


@pytest.fixture
def cloud(localcloud_assembly_dir: Path, pattern: registry.Pattern) -> Iterator[LocalCloud]:
    """The scenario's own stack on a fresh localcloud: a scenario drives no other stack, and
    deploying every stack for each scenario costs seconds per pattern added."""
    with LocalCloud(localcloud_assembly_dir) as running:
        running.deploy(pattern.stack_name)
        yield running


def _request_response_facts(outcome: Any) -> dict[str, Any]:
    return {
        "statuses": outcome.statuses,
        "items in the table": outcome.items_in_table,
        "function invocations": outcome.invocations,
    }


def _pub_sub_facts(outcome: Any) -> dict[str, Any]:
    return {
        "published": outcome.published,
        "delivered": outcome.delivered,
        "dead letters": outcome.dead_letters,
        "reservations after a redelivery": outcome.reservations_after_redelivery,
        "ledger items": outcome.ledger_items,
    }


def _batching_facts(outcome: Any) -> dict[str, Any]:
    return {
        "enqueued": outcome.enqueued,
        "items after the first delivery": outcome.items_after_first_delivery,
        "failures of the first batch": outcome.first_batch_failures,
        "UnprocessedItems retries": outcome.unprocessed_retries,
        "items after a replay": outcome.items_after_replay,
        "items after a bad deploy": outcome.items_after_bad_deploy,
        "dead letters before the redrive": outcome.dead_letters_before_redrive,
        "redrive": (outcome.redrive_status, outcome.redrive_moved),
        "items after the redrive": outcome.items_after_redrive,
        "dead letters": outcome.dead_letters,
        "every input in the table or the DLQ": outcome.items_after_redrive
        + len(outcome.dead_letters)
        == outcome.inputs,
    }


def _stream_processing_facts(outcome: Any) -> dict[str, Any]:
    return {
        "readings put": outcome.readings_put,
        "PutRecords calls": outcome.put_records_calls,
        "a retried request answered with the first summary": (
            outcome.retry_answered_with_the_first_summary
        ),
        "readings aggregated": outcome.readings_aggregated,
        "keys aggregated": outcome.keys_aggregated,
        "alerts": outcome.alerts,
        "rejected records and their reasons": outcome.rejected_with_reasons,
        "readings aggregated after a replay": outcome.readings_aggregated_after_replay,
        "alerts after a replay": outcome.alerts_after_replay,
    }


def _peer_to_peer_facts(outcome: Any) -> dict[str, Any]:
    return {
        "checkout's answers": outcome.answers,
        "services invoked for one order line": outcome.call_graph,
        "pricing calls in a burst of 10 while it fails": outcome.pricing_calls_in_burst,
        "circuit after the burst": outcome.circuit_after_burst,
        "fallbacks in the burst": outcome.fallbacks,
        "calls saved by the open circuit": outcome.calls_saved_by_the_open_circuit,
    }


_REQUEST_RESPONSE_STATUSES = {
    "create": 201,
    "retried create (same Idempotency-Key)": 201,
    "second item": 201,
    "read": 200,
    "update at version 1": 200,
    "stale update at version 1": 409,
    "list, page 1": 200,
    "list, page 2": 200,
    "malformed JSON": 400,
    "wrong type": 422,
    "unknown field": 422,
    "body over the limit": 413,
    "form-encoded body": 415,
    "bad pagination token": 422,
    "unknown id": 404,
    "delete": 204,
    "route the API does not have": 404,
}
_FULFILMENT, _NOTIFICATIONS, _FRAUD_REVIEW = (
    subscriber_id(SubscriberName.FULFILMENT),
    subscriber_id(SubscriberName.NOTIFICATIONS),
    subscriber_id(SubscriberName.FRAUD_REVIEW),
)
_PUB_SUB_DELIVERED = {_FULFILMENT: 21, _NOTIFICATIONS: 10, _FRAUD_REVIEW: 5}


#: What each scenario reports, by pattern, and what it must report; a registered scenario
#: without an entry fails.
def _api_gateway_facts(outcome: Any) -> dict[str, Any]:
    return {
        "statuses": outcome.statuses,
        "backend calls for refused requests": outcome.backend_calls_for_refused,
        "feedback stored by its consumer": outcome.feedback_stored,
        "some of the burst throttled": outcome.throttled > 0,
    }


def _orchestration_facts(outcome: Any) -> dict[str, Any]:
    return {
        "statuses": outcome.statuses,
        "compensations": outcome.compensations,
        "stock": outcome.stock,
        "executions": outcome.executions,
    }


def _event_sourcing_facts(outcome: Any) -> dict[str, Any]:
    return {
        "statuses": outcome.statuses,
        "state": outcome.state,
        "events stored": outcome.events_stored,
        "integration events": outcome.integration_events,
        "projection equals the state": outcome.projection_equals_state,
        "rebuild equals the projection": outcome.rebuild_equals_projection,
    }


def _etl_facts(outcome: Any) -> dict[str, Any]:
    return {
        "rows in": outcome.rows_in,
        "rows loaded": outcome.rows_loaded,
        "rows quarantined": outcome.rows_quarantined,
        "every row loaded or quarantined": outcome.rows_in
        == outcome.rows_loaded + outcome.rows_quarantined,
        "quarantined by kind": outcome.quarantine_kinds,
        "rows in the table": outcome.table_rows,
        "rows in the table after a replay": outcome.table_rows_after_replay,
        "rows the replay changed": outcome.replay_changes,
        "every replayed row accounted for": outcome.replay_rows_in == outcome.replay_accounted,
        "runs": outcome.run_statuses,
    }


FACTS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "request_response": _request_response_facts,
    "pub_sub": _pub_sub_facts,
    "batching": _batching_facts,
    "stream_processing": _stream_processing_facts,
    "peer_to_peer": _peer_to_peer_facts,
    "api_gateway": _api_gateway_facts,
    "orchestration": _orchestration_facts,
    "event_sourcing": _event_sourcing_facts,
    "etl": _etl_facts,
}
_ORCHESTRATION_STATUSES = {
    "completed": "COMPLETED",
    "short of stock": "FAILED (OutOfStock)",
    "approved": "COMPLETED",
}
EXPECTED_FACTS: dict[str, dict[str, Any]] = {
    "etl": {
        # 5 + 16 CSV rows, 3 + 8 feed lines (blank lines are not rows).
        "rows in": 32,
        # 9 orders, S-2001 twice: the export's, then the feed's later update of it.
        "rows loaded": 10,
        "rows quarantined": 15 + 7,
        "every row loaded or quarantined": True,
        "quarantined by kind": {"encoding": 2, "invalid": 16, "malformed": 4},
        "rows in the table": 9,
        "rows in the table after a replay": 9,
        # The export's older S-2001 is quarantined as superseded; the rest is already there.
        "rows the replay changed": 0,
        "every replayed row accounted for": True,
        "runs": ["SUCCEEDED"] * 8,
    },
    "event_sourcing": {
        "statuses": {
            "open with 100.00": 200,
            "withdraw 25.00": 200,
            # answered with the first withdrawal's result: nothing appended
            "the same withdrawal again (a retry)": 200,
            "withdraw 500.00 (more than the balance)": 409,
            "deposit against version 1 (stale)": 409,
            "a command that is not one": 422,
            "current state (snapshot + events)": 200,
            "state as of version 2": 200,
            "history, first page of 3": 200,
            "an account with no events": 404,
        },
        # 2 events for the opening, 1 withdrawal, 30 deposits; the latest snapshot at 25
        # (the default interval), so the load read the 8 events after it.
        "state": {"version": 33, "balance_cents": 10500, "snapshot_version": 25, "events_read": 8},
        "events stored": 33,
        "integration events": 33,
        "projection equals the state": True,
        "rebuild equals the projection": True,
    },
    "orchestration": {
        # The same outcome on both workflows.
        "statuses": {
            f"{workflow} {label}": status
            for workflow in ("step-functions", "durable-function")
            for label, status in _ORCHESTRATION_STATUSES.items()
        },
        # The short order's first line was reserved, then released; nothing was charged.
        "compensations": {
            f"{workflow} {label}": ["release"] if label == "short of stock" else []
            for workflow in ("step-functions", "durable-function")
            for label in _ORCHESTRATION_STATUSES
        },
        # 5 units of each SKU: 2 for the completed order and 2 for the approved one; none of
        # the scarce one was taken.
        "stock": {"step-functions": [1, 5], "durable-function": [1, 5]},
        # Three orders each, every one placed twice: one execution per order.
        "executions": {"step-functions": 3, "durable-function": 3},
    },
    "api_gateway": {
        "statuses": {
            "No token": 401,
            "A token with orders:read only": 403,
            "An order of 0 items": 400,
            "The catalog": 200,
            "An order": 201,
            "The same order again (a client retry)": 200,
            "The order read back": 200,
            "Feedback (storage-first: no function on the request path)": 202,
        },
        # The gateway refused them: no backend ran for any of the three.
        "backend calls for refused requests": 0,
        "feedback stored by its consumer": True,
        "some of the burst throttled": True,
    },
    "batching": {
        # 42 items of three tenants and one invalid item (the producer checks only the
        # tenant), the 3 replayed, the 6 sent during the bad deploy.
        "enqueued": 43 + 3 + 6,
        # The 5 items DynamoDB left unprocessed once were retried within the same invocation:
        # the first batch failed only the invalid item and the body that is not JSON.
        "items after the first delivery": 42,
        "failures of the first batch": 2,
        "UnprocessedItems retries": 1,
        "items after a replay": 42,
        "items after a bad deploy": 42,
        "dead letters before the redrive": {"validation": 2, "persistence": 6},
        # Everything in the DLQ went back: the 6 were written once, the 2 invalid came back.
        "redrive": ("COMPLETED", 8),
        "items after the redrive": 48,
        "dead letters": [
            ("validation", "not a valid item: (input):"),
            ("validation", "not a valid item: quantity:"),
        ],
        "every input in the table or the DLQ": True,
    },
    "request_response": {
        "statuses": _REQUEST_RESPONSE_STATUSES,
        # Two distinct creates (the retry wrote nothing), one delete.
        "items in the table": 1,
        # The unknown route is answered by the API, never by the function.
        "function invocations": len(_REQUEST_RESPONSE_STATUSES) - 1,
    },
    "pub_sub": {
        "published": 25,
        # 15 placed + 5 cancelled + the poison message; 5 shipped + 5 cancelled; placed >= 1000.
        "delivered": _PUB_SUB_DELIVERED,
        "dead letters": {_FULFILMENT: 1, _NOTIFICATIONS: 0, _FRAUD_REVIEW: 0},
        "reservations after a redelivery": 1,
        # Nothing lost: every delivered message but the poison one left its mark in the
        # ledger, and one daily fraud-review total stands beside them.
        "ledger items": (sum(_PUB_SUB_DELIVERED.values()) - 1) + 1,
    },
    "stream_processing": {
        "readings put": 80,
        "PutRecords calls": 1,
        # The producer's retry with the same request_id put nothing: the counts below hold.
        "a retried request answered with the first summary": True,
        # Every reading counted once, in one window per key; the two malformed records are
        # in the on-failure queue with their reasons.
        "readings aggregated": 80,
        "keys aggregated": 20,
        "alerts": 1,
        "rejected records and their reasons": {
            "malformed-0": "not a reading: (input): Invalid JSON: "
            "expected ident at line 1 column 2",
            "malformed-1": "not a reading: value: Input should be a valid decimal",
        },
        # The replayed windows are recognised: nothing is counted or alerted twice.
        "readings aggregated after a replay": 80,
        "alerts after a replay": 0,
    },
    "peer_to_peer": {
        "checkout's answers": {
            "2 units": "confirmed",
            "9 units": "rejected",
            "unknown product": "UnknownSku",
            "cycle": "CallCycleRefused",
        },
        # checkout -> catalog -> (pricing, stock), then checkout -> pricing, stock: each
        # listed when it answered.
        "services invoked for one order line": [
            "pricing",
            "stock",
            "catalog",
            "pricing",
            "stock",
            "checkout",
        ],
        # The threshold (3) failed calls opened the circuit; the 7 others never reached pricing.
        "pricing calls in a burst of 10 while it fails": 3,
        "circuit after the burst": "OPEN",
        "fallbacks in the burst": {"peer_failed": 3, "circuit_open": 7},
        "calls saved by the open circuit": 7,
    },
}


#: `make demo`'s summary row per pattern: invocations, items processed, items in DLQs.
EXPECTED_SUMMARY = {
    "request_response": ["16", "17", "0"],
    "pub_sub": ["12", "35", "1"],
    # 3 producer invokes; the writer: 1 batch + 4 retries of the invalid pair, 1 for the
    # replay, 5 receives during the bad deploy, 1 + 4 after the redrive.
    "batching": ["19", "48", "2"],
    # The producer and its retry, then per lane (parallelization factor 2) a batch and the
    # window's final invocation, once for the stack's mapping and once for the replay's.
    "stream_processing": ["10", "80", "2"],
    # pricing, stock, catalog (and its two calls) asked on their own; 6 for an order line,
    # 6 for the line short of stock, catalog for the unknown product then checkout, checkout
    # alone for the cycle; pricing's smoke tests after the bad deploy and after the fix; 10
    # catalog calls with stock each and pricing for the 3 that failed. Processed: the 3
    # direct requests, the 4 checkout requests, the 2 smoke tests and the 10 calls.
    "peer_to_peer": ["45", "19", "0"],
    # The authorizer once per token (two tokens), the catalog, three orders calls and the
    # feedback consumer; the refused requests and the burst invoke nothing.
    "api_gateway": ["7", "5", "0"],
    # Per workflow, 4 placements and an approval through the API, 2 events; GETs of the 6
    # orders. The steps function: 6 steps for the completed order, 5 for the short one
    # (validate, two lines, release, record), 7 for the approved one; the durable function:
    # one invocation each, and one more for the approved order once its callback came.
    "orchestration": ["42", "6", "0"],
    # 40 API calls (the unknown account's included), the projector once (one batch of the 33
    # events), the publisher once per pipe batch of 10, the rebuilder once. Processed: the
    # events stored.
    "event_sourcing": ["46", "33", "0"],
    # A transform per file and a load per run: four runs, then four for the replay.
    "etl": ["16", "9", "22"],
}


def test_every_registered_scenario_has_its_expected_outcome_and_summary():
    names = {pattern.name for pattern in SCENARIO_PATTERNS}
    assert set(FACTS) == set(EXPECTED_FACTS) == names
    assert set(EXPECTED_SUMMARY) == names


@pytest.mark.parametrize("pattern", SCENARIO_PATTERNS, ids=lambda pattern: pattern.name)
def test_scenario_runs_on_its_deployed_stack_as_documented(
    cloud: LocalCloud, pattern: registry.Pattern
):
    outcome = importlib.import_module(pattern.scenario).run(cloud)

    assert FACTS[pattern.name](outcome) == EXPECTED_FACTS[pattern.name]
    summary_row = [outcome.invocations, outcome.processed, outcome.in_dead_letter_queues]
    assert list(map(str, summary_row)) == EXPECTED_SUMMARY[pattern.name]


def test_demo_command_deploys_a_patterns_stack_runs_its_scenario_and_prints_the_summary(
    dev_assembly: CloudAssembly, capsys: pytest.CaptureFixture[str]
):
    # One pattern: the command's path is the same for each, and every pattern's summary row
    # is checked above, in process; the CLI deploy and the socket are what this adds.
    from demo.__main__ import main

    exit_code = main(["request_response", "--assembly", str(dev_assembly.outdir)])

    printed = capsys.readouterr().out
    # The table starts on a line of its own; the word "pattern" also occurs in the responses
    # the scenarios print (a 422 quotes the rule "String should match pattern ...").
    summary = printed.split("\npattern ", 1)[1]
    assert exit_code == 0
    assert "RequestResponse deployed with the CDK CLI" in printed
    rows = {line.split()[0]: line.split()[1:4] for line in summary.splitlines()[1:] if line}
    assert rows == {"request_response": EXPECTED_SUMMARY["request_response"]}


def test_demo_command_rejects_a_pattern_it_has_no_scenario_for(capsys: pytest.CaptureFixture[str]):
    from demo.__main__ import main

    # A misspelt pattern: no registered pattern is called that, so none has its scenario.
    with pytest.raises(SystemExit) as exit_info:
        main(["pubsub"])

    assert exit_info.value.code == 2
    assert "no scenario for pubsub" in capsys.readouterr().err
