"""EventBridge's pure rules, without a deploy: which events a pattern takes, what a target's
input makes of an event, and when a schedule fires (localcloud.rules).

tests/localcloud/test_eventbridge.py keeps a few of these cases on a deployed rule, to prove
that a rule's pattern, input and schedule are the ones applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud.rules.event_patterns import pattern_matches
from localcloud.rules.input_transformers import target_input
from localcloud.rules.schedules import next_fire_time

# (detail pattern, a detail it takes, a detail it refuses); each is put as `detail` of an event
# from "shop.orders" under the pattern {"source": ["shop.orders"], "detail": <pattern>}.
DETAIL_PATTERNS = [
    ({"status": ["placed"]}, {"status": "placed"}, {"status": "PLACED"}),
    ({"amount": [100]}, {"amount": 100.0}, {"amount": "100"}),
    ({"paid": [True]}, {"paid": True}, {"paid": 1}),
    ({"sku": [{"prefix": "bk-"}]}, {"sku": "bk-42"}, {"sku": "cd-42"}),
    ({"file": [{"suffix": ".png"}]}, {"file": "a.png"}, {"file": "a.png.txt"}),
    (
        {"status": [{"equals-ignore-case": "placed"}]},
        {"status": "PlAcEd"},
        {"status": "placed!"},
    ),
    (
        {"status": [{"anything-but": ["test", "void"]}]},
        {"status": "placed"},
        {"status": "void"},
    ),
    (
        {"sku": [{"anything-but": {"prefix": "tmp-"}}]},
        {"sku": "bk-1"},
        {"sku": "tmp-1"},
    ),
    ({"amount": [{"numeric": [">", 0, "<=", 100]}]}, {"amount": 100}, {"amount": 100.5}),
    ({"coupon": [{"exists": False}]}, {"amount": 1}, {"coupon": "X"}),
    ({"coupon": [{"exists": True}]}, {"coupon": None}, {"amount": 1}),
    ({"path": [{"wildcard": "orders/*/lines"}]}, {"path": "orders/7/lines"}, {"path": "x/7"}),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.0.9"}, {"ip": "10.0.1.9"}),
    ({"customer": {"tier": ["gold"]}}, {"customer": {"tier": "gold"}}, {"tier": "gold"}),
    ({"tags": ["vip"]}, {"tags": ["new", "vip"]}, {"tags": ["new"]}),
    (
        {"lines": {"sku": ["bk-1"], "qty": [2]}},
        {"lines": [{"sku": "bk-1", "qty": 2}]},
        {"lines": [{"sku": "bk-1", "qty": 1}, {"sku": "cd", "qty": 2}]},
    ),
    (
        {"$or": [{"amount": [{"numeric": [">=", 1000]}]}, {"priority": ["high"]}]},
        {"priority": "high", "amount": 1},
        {"priority": "low", "amount": 1},
    ),
]


def event(detail: Any, *, source: str = "shop.orders") -> dict[str, Any]:
    """An event as PutEvents delivers it to a rule, its Detail text decoded."""
    return {
        "version": "0",
        "id": "0d0d3a5c-0000-4000-8000-000000000001",
        "detail-type": "Order Placed",
        "source": source,
        "account": "123456789012",
        "time": "2026-11-30T09:30:00Z",
        "region": "eu-west-1",
        "resources": [],
        # As the rule sees it: the entry's Detail text, decoded.
        "detail": json.loads(json.dumps(detail)),
    }


@pytest.mark.parametrize(("detail_pattern", "matching", "not_matching"), DETAIL_PATTERNS)
def test_an_event_pattern_takes_matching_events_only(detail_pattern, matching, not_matching):
    pattern = {"source": ["shop.orders"], "detail": detail_pattern}

    assert pattern_matches(pattern, event(matching))
    assert not pattern_matches(pattern, event(not_matching))
    # the source does not match either
    assert not pattern_matches(pattern, event(matching, source="shop.other"))


# -- what a target receives --------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """The parts of a rule an input transformer reads."""

    name: str = "Stack-Rule-1A2B3C"
    arn: str = "arn:aws:events:eu-west-1:123456789012:rule/Stack-Rule-1A2B3C"


def test_an_input_transformer_fills_its_template_with_paths_of_the_event():
    template = (
        '{"order": <order>, "customer": <customer>, "note": "order <order> for <name>",'
        ' "missing": <missing>, "rule": "<aws.events.rule-name>"}'
    )
    transformer = {
        "InputPathsMap": {
            "order": "$.detail.id",
            "customer": "$.detail.customer",
            "name": "$.detail.customer.name",
            "missing": "$.detail.nothing",
        },
        "InputTemplate": template,
    }

    body = target_input(
        {"InputTransformer": transformer},
        event({"id": "o-1", "customer": {"name": "Ada", "tier": "gold"}}),
        Rule(),
    )

    # THEN strings are quoted in JSON values, unquoted inside strings; a missing path is null
    assert json.loads(body) == {
        "order": "o-1",
        "customer": {"name": "Ada", "tier": "gold"},
        "note": "order o-1 for Ada",
        "missing": None,
        "rule": Rule().name,
    }


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (
            {
                "InputTransformer": {
                    "InputPathsMap": {"id": "$.detail.id"},
                    "InputTemplate": '"order <id> placed"',
                }
            },
            '"order o-2 placed"',
        ),
        ({"Input": '{"fixed": true}'}, '{"fixed": true}'),
        ({"InputPath": "$.detail"}, '{"id": "o-2"}'),
    ],
    ids=["text-template", "constant-input", "input-path"],
)
def test_a_text_template_and_a_constant_input_and_an_input_path(target, expected):
    body = target_input(target, event({"id": "o-2"}), Rule())

    assert json.loads(body) == json.loads(expected)
    if "InputPath" not in target:
        # a template's and a constant's text arrive as written
        assert body == expected


def test_a_target_without_input_settings_gets_the_whole_event():
    whole = event({"order": 7})

    assert json.loads(target_input({}, whole, Rule())) == whole


# -- schedules -----------------------------------------------------------------------------------


def _firings(expression: str, start: datetime, span: timedelta) -> list[datetime]:
    """Every time a schedule created at `start` fires within `span` of it."""
    moments, moment = [], start
    while (moment := next_fire_time(expression, moment, start)) <= start + span:
        moments.append(moment)
    return moments


@pytest.mark.parametrize(
    "start",
    [datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 2, 17, 45, 12, tzinfo=UTC)],
    ids=["monday-midnight", "wednesday-evening"],
)
def test_a_cron_schedule_fires_at_its_minutes_in_utc(start):
    times = _firings("cron(30 9 ? * MON-FRI *)", start, timedelta(days=14))

    # THEN ten weekday firings in two weeks, each at 09:30 UTC
    assert len(times) == 10
    assert {(moment.hour, moment.minute, moment.second) for moment in times} == {(9, 30, 0)}
    assert all(moment.weekday() < 5 for moment in times)


def test_a_rate_schedule_fires_each_period_counted_from_its_creation():
    created = datetime(2026, 11, 30, 8, 0, 7, tzinfo=UTC)

    times = _firings("rate(5 minutes)", created, timedelta(minutes=16))

    assert times == [created + timedelta(minutes=minutes) for minutes in (5, 10, 15)]
