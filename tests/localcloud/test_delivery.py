"""Which SQS messages go back to the queue after an invocation (localcloud.delivery)."""

from __future__ import annotations

import pytest

from localcloud.delivery import SqsSourceSettings, failed_message_ids
from localcloud.runner import Invocation

BATCH = {"m1", "m2", "m3"}
REPORTING = SqsSourceSettings(reports_batch_item_failures=True)


def _ended(payload=None, error=None) -> Invocation:
    return Invocation("f", "SQS q", False, 1.0, payload=payload, error=error)


@pytest.mark.parametrize("settings", [REPORTING, SqsSourceSettings()])
def test_a_failed_invocation_returns_the_whole_batch(settings):
    failed = _ended(error={"errorType": "Sandbox.Timedout"})
    assert failed_message_ids(failed, settings, BATCH) == BATCH


@pytest.mark.parametrize(
    "payload", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}]
)
def test_an_empty_response_means_the_whole_batch_succeeded(payload):
    assert failed_message_ids(_ended(payload), REPORTING, BATCH) == set()


def test_reported_failures_return_only_those_messages():
    payload = {"batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]}
    assert failed_message_ids(_ended(payload), REPORTING, BATCH) == {"m2", "m3"}


@pytest.mark.parametrize(
    "failure",
    [
        {"itemIdentifier": "not-in-batch"},
        {"itemIdentifier": ""},
        {"itemIdentifier": None},
        {},
        "m1",
    ],
)
def test_a_malformed_failure_report_returns_the_whole_batch(failure):
    payload = {"batchItemFailures": [{"itemIdentifier": "m1"}, failure]}
    assert failed_message_ids(_ended(payload), REPORTING, BATCH) == BATCH


@pytest.mark.parametrize("payload", [["m1"], "m1", {"batchItemFailures": "m1"}])
def test_a_response_of_the_wrong_shape_returns_the_whole_batch(payload):
    assert failed_message_ids(_ended(payload), REPORTING, BATCH) == BATCH


def test_failures_are_ignored_when_the_mapping_does_not_report_them():
    payload = {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert failed_message_ids(_ended(payload), SqsSourceSettings(), BATCH) == set()
