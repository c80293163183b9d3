"""Which SQS messages go back to the queue after an invocation, and how routes match."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcloud.inprocess import SqsEventSource, failed_message_ids, match_route
from localcloud.runner import Invocation, LocalFunction

BATCH = {"m1", "m2", "m3"}


def _source(*, reports_batch_item_failures: bool = True) -> SqsEventSource:
    function = LocalFunction(name="f", handler="a.b", code_dir=Path(), environment={})
    return SqsEventSource(
        function=function,
        queue_url="https://queue",
        queue_arn="arn:aws:sqs:eu-west-1:123456789012:q",
        batch_size=10,
        reports_batch_item_failures=reports_batch_item_failures,
    )


def _ended(payload=None, error=None) -> Invocation:
    return Invocation("f", "SQS q", False, 1.0, payload=payload, error=error)


def test_a_failed_invocation_returns_the_whole_batch():
    assert failed_message_ids(_ended(error={"errorType": "E"}), _source(), BATCH) == BATCH


@pytest.mark.parametrize("payload", [None, "", {}, {"batchItemFailures": []}])
def test_an_empty_response_means_the_whole_batch_succeeded(payload):
    assert failed_message_ids(_ended(payload), _source(), BATCH) == set()


def test_reported_failures_return_only_those_messages():
    payload = {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert failed_message_ids(_ended(payload), _source(), BATCH) == {"m2"}


@pytest.mark.parametrize(
    "failure", [{"itemIdentifier": "not-in-batch"}, {"itemIdentifier": ""}, {}, "m1"]
)
def test_a_malformed_failure_report_returns_the_whole_batch(failure):
    payload = {"batchItemFailures": [failure]}
    assert failed_message_ids(_ended(payload), _source(), BATCH) == BATCH


def test_failures_are_ignored_when_the_mapping_does_not_report_them():
    payload = {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    source = _source(reports_batch_item_failures=False)
    assert failed_message_ids(_ended(payload), source, BATCH) == set()


@pytest.mark.parametrize(
    ("route_key", "method", "path", "expected"),
    [
        ("GET /items/{id}", "GET", "/items/abc", {"id": "abc"}),
        ("GET /items/{id}", "get", "/items/abc", {"id": "abc"}),
        ("GET /items/{id}", "GET", "/items/abc/more", None),
        ("GET /items/{id}", "PUT", "/items/abc", None),
        ("POST /items", "POST", "/items", {}),
        ("ANY /items", "DELETE", "/items", {}),
        ("GET /openapi.json", "GET", "/openapiXjson", None),
    ],
)
def test_routes_match_method_and_path_and_capture_parameters(route_key, method, path, expected):
    assert match_route(route_key, method, path) == expected
