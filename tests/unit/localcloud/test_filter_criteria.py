"""Lambda's event filtering, without a deploy: which records a mapping's FilterCriteria send to
the function, and which criteria Lambda refuses (localcloud.rules.filter_criteria).

tests/localcloud/test_event_filters.py proves on deployed mappings that these rules are the ones
applied, and what a filtered record costs (it leaves the queue, takes no place in a batch).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from localcloud.rules.filter_criteria import FilterCriteriaError, filter_patterns, record_passes
from tests.localcloud.stream_apps import filter_criteria

# -- matching one record ---------------------------------------------------------------------


def _sqs_record(body: str) -> dict[str, Any]:
    return {"messageId": "m-1", "body": body, "attributes": {}, "eventSource": "aws:sqs"}


def _kinesis_record(data: bytes, partition_key: str = "k") -> dict[str, Any]:
    return {
        "kinesis": {"partitionKey": partition_key, "data": base64.b64encode(data).decode()},
        "eventSource": "aws:kinesis",
        "eventName": "aws:kinesis:record",
    }


def _patterns(*patterns: dict[str, Any], kind: str = "sqs") -> list[dict[str, Any]]:
    return filter_patterns(filter_criteria(*patterns), kind)


def test_a_json_body_is_matched_by_its_decoded_fields():
    numeric = _patterns({"body": {"amount": [{"numeric": [">", 100, "<=", 500]}]}})
    prefix = _patterns({"body": {"order": {"region": [{"prefix": "eu-"}]}}})

    assert record_passes(numeric, _sqs_record('{"amount": 250}'), "sqs")
    assert not record_passes(numeric, _sqs_record('{"amount": 50}'), "sqs")
    assert not record_passes(numeric, _sqs_record('{"amount": "250"}'), "sqs")
    assert record_passes(prefix, _sqs_record('{"order": {"region": "eu-west-1"}}'), "sqs")
    assert not record_passes(prefix, _sqs_record('{"order": {"region": "us-east-1"}}'), "sqs")


def test_a_body_is_matched_only_by_a_pattern_of_its_own_format():
    plain_pattern = _patterns({"body": [{"prefix": "Result: "}]})
    json_pattern = _patterns({"body": {"status": [{"exists": False}]}})

    # A plain-string body is matched as a string by rules on `body`...
    assert record_passes(plain_pattern, _sqs_record("Result: ok"), "sqs")
    assert not record_passes(plain_pattern, _sqs_record("Error: no"), "sqs")
    # ...and dropped by a pattern expecting JSON, even one its missing field would satisfy
    assert not record_passes(json_pattern, _sqs_record("Result: ok"), "sqs")
    # A JSON body is dropped by a plain-string pattern, even one its text would match
    assert not record_passes(_patterns({"body": [{"prefix": "{"}]}), _sqs_record('{"a": 1}'), "sqs")
    assert record_passes(json_pattern, _sqs_record('{"a": 1}'), "sqs")


def test_a_record_passes_when_any_filter_matches():
    patterns = _patterns(
        {"body": {"kind": ["refund"]}}, {"body": {"amount": [{"numeric": [">", 1000]}]}}
    )

    assert record_passes(patterns, _sqs_record('{"kind": "refund", "amount": 5}'), "sqs")
    assert record_passes(patterns, _sqs_record('{"kind": "sale", "amount": 5000}'), "sqs")
    assert not record_passes(patterns, _sqs_record('{"kind": "sale", "amount": 5}'), "sqs")


def test_no_filter_criteria_let_every_record_through():
    assert filter_patterns(None, "sqs") == []
    assert filter_patterns({}, "sqs") == []
    assert filter_patterns({"Filters": []}, "kinesis") == []
    assert record_passes([], _sqs_record("anything"), "sqs")


def test_kinesis_data_is_matched_decoded_and_metadata_at_the_top_level():
    on_data = _patterns({"data": {"temperature": [{"numeric": [">", 30]}]}}, kind="kinesis")
    on_key = _patterns({"partitionKey": ["sensor-1"]}, kind="kinesis")

    assert record_passes(on_data, _kinesis_record(b'{"temperature": 35}'), "kinesis")
    assert not record_passes(on_data, _kinesis_record(b'{"temperature": 20}'), "kinesis")
    # Data that is not JSON is dropped by a pattern on data, not by one on metadata only
    assert not record_passes(on_data, _kinesis_record(b"temperature=35"), "kinesis")
    assert record_passes(on_key, _kinesis_record(b"temperature=35", "sensor-1"), "kinesis")
    assert not record_passes(on_key, _kinesis_record(b"temperature=35", "sensor-2"), "kinesis")


def test_a_dynamodb_change_is_matched_on_its_event_name_and_images():
    patterns = _patterns(
        {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["paid"]}}}},
        kind="dynamodb",
    )
    paid = {"eventName": "MODIFY", "dynamodb": {"NewImage": {"status": {"S": "paid"}}}}
    pending = {"eventName": "MODIFY", "dynamodb": {"NewImage": {"status": {"S": "open"}}}}
    inserted = {"eventName": "INSERT", "dynamodb": {"NewImage": {"status": {"S": "paid"}}}}

    assert record_passes(patterns, paid, "dynamodb")
    assert not record_passes(patterns, pending, "dynamodb")
    assert not record_passes(patterns, inserted, "dynamodb")


@pytest.mark.parametrize(
    ("criteria", "kind"),
    [
        ({"Filters": [{"Pattern": "{not json"}]}, "sqs"),
        ({"Filters": [{"Pattern": '["body"]'}]}, "sqs"),
        ({"Filters": [{"Pattern": json.dumps({"a": [n]})} for n in range(11)]}, "sqs"),
        ({"Filters": [{"Pattern": json.dumps({"data": [{"prefix": "x"}]})}]}, "kinesis"),
        ({"Filters": [{"Pattern": json.dumps({"dynamodb": ["x"]})}]}, "dynamodb"),
    ],
    ids=["not-json", "not-an-object", "eleven-filters", "plain-kinesis-data", "plain-dynamodb"],
)
def test_criteria_lambda_refuses_are_refused(criteria, kind):
    with pytest.raises(FilterCriteriaError):
        filter_patterns(criteria, kind)


def test_a_mixed_batch_keeps_only_the_messages_one_filter_or_the_other_matches():
    patterns = _patterns(
        {"body": {"amount": [{"numeric": [">=", 100]}]}},
        {"body": {"customer": [{"prefix": "vip-"}]}},
    )
    sent = [
        '{"amount": 150, "customer": "c-1"}',
        '{"amount": 5, "customer": "c-2"}',
        '{"amount": 5, "customer": "vip-3"}',
        '{"amount": 99, "customer": "c-4"}',
        '{"amount": 100, "customer": "c-5"}',
    ]

    kept = [body for body in sent if record_passes(patterns, _sqs_record(body), "sqs")]

    assert kept == [sent[0], sent[2], sent[4]]


def _change(event_name: str, order: str, status: str | None) -> dict[str, Any]:
    """A DynamoDB change as a table's stream hands it to Lambda (a removal has no new image)."""
    change: dict[str, Any] = {"Keys": {"id": {"S": order}}}
    if status is not None:
        change["NewImage"] = {"id": {"S": order}, "status": {"S": status}}
    return {"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": change}


def test_dynamodb_changes_are_filtered_on_their_event_name():
    patterns = _patterns({"eventName": ["INSERT"]}, kind="dynamodb")
    changes = [
        _change("INSERT", "o1", "open"),
        _change("INSERT", "o2", "paid"),
        _change("MODIFY", "o1", "paid"),
        _change("INSERT", "o3", "open"),
        _change("REMOVE", "o2", None),
    ]

    kept = [change for change in changes if record_passes(patterns, change, "dynamodb")]

    assert [(c["eventName"], c["dynamodb"]["Keys"]["id"]["S"]) for c in kept] == [
        ("INSERT", "o1"),
        ("INSERT", "o2"),
        ("INSERT", "o3"),
    ]
