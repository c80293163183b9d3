"""CloudWatch Logs filter patterns: terms, JSON conditions and space-delimited fields."""

from __future__ import annotations

import json

import pytest

from localcloud.rules.log_filter_patterns import InvalidFilterPatternError, compile_pattern, matches

POWERTOOLS_ERROR = json.dumps(
    {
        "level": "ERROR",
        "message": "payment declined",
        "service": "orders",
        "cold_start": True,
        "latency": 250,
        "customer": {"id": "c-1", "tier": "gold"},
        "items": [{"sku": "A-1", "price": 9.5}],
        "note": None,
    }
)
POWERTOOLS_INFO = json.dumps(
    {"level": "INFO", "message": "order placed", "service": "orders", "latency": 40}
)


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        ("", "anything", True),
        ("ERROR", "[ERROR] ValueError: boom", True),
        ("ERROR", "[error] lower case", False),
        ("ERROR Exception", "ERROR without the other word", False),
        ("ERROR Exception", "ERROR and an Exception", True),
        ('"Task timed out"', "2026-12-02 abc Task timed out after 3.00 seconds", True),
        ('"Task timed out"', "Task was timed out", False),
        ("?ERROR ?WARN", "WARN disk almost full", True),
        ("?ERROR ?WARN", "INFO all good", False),
        ("ERROR -Retrying", "ERROR Retrying in 2 s", False),
        ("ERROR -Retrying", "ERROR gave up", True),
        ("%time[ds] out%", "Task timed out", True),
        ("%^START%", "END RequestId: 1", False),
    ],
)
def test_term_patterns_match_as_cloudwatch_logs_does(pattern, message, expected):
    assert matches(pattern, message) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{ $.level = "ERROR" }', [True, False]),
        ("{ $.level = ERROR }", [True, False]),
        ('{ $.level != "ERROR" }', [False, True]),
        ("{ $.latency = 250 }", [True, False]),
        ("{ $.latency != 250 }", [False, True]),
        ("{ $.latency > 100 }", [True, False]),
        ("{ $.latency <= 40 }", [False, True]),
        ('{ $.message = "payment*" }', [True, False]),
        ('{ $.message = "*placed" }', [False, True]),
        ('{ $.customer.tier = "gold" }', [True, False]),
        ('{ $.items[0].sku = "A-1" && $.items[0].price < 10 }', [True, False]),
        ('{ $.level = "ERROR" && $.latency < 100 }', [False, False]),
        ('{ $.level = "ERROR" || $.latency < 100 }', [True, True]),
        ('{ ($.level = "INFO" || $.latency > 200) && $.service = "orders" }', [True, True]),
        ("{ $.note IS NULL }", [True, False]),
        ("{ $.cold_start IS TRUE }", [True, False]),
        ("{ $.customer EXISTS }", [True, False]),
        ("{ $.customer NOT EXISTS }", [False, True]),
        ("{ $.message = %declin(ed|ing)% }", [True, False]),
    ],
)
def test_json_patterns_select_fields_of_json_events(pattern, expected):
    matcher = compile_pattern(pattern)

    assert [matcher(POWERTOOLS_ERROR), matcher(POWERTOOLS_INFO)] == expected


def test_a_json_pattern_matches_no_event_that_is_not_a_json_object():
    matcher = compile_pattern('{ $.level = "ERROR" }')

    assert not matcher("[ERROR] ValueError: level = ERROR")
    assert not matcher('["ERROR"]')


def test_a_missing_field_matches_neither_equal_nor_unequal():
    assert not matches('{ $.absent = "x" }', POWERTOOLS_INFO)
    assert not matches('{ $.absent != "x" }', POWERTOOLS_INFO)
    assert not matches("{ $.absent < 5 }", POWERTOOLS_INFO)


def test_a_number_is_not_a_string_of_digits():
    assert not matches("{ $.code = 7 }", json.dumps({"code": "seven"}))
    assert matches("{ $.code = 7 }", json.dumps({"code": 7.0}))
    assert not matches("{ $.flag = 1 }", json.dumps({"flag": True}))


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ip, user, request, status, bytes]", True),
        ("[ip, user, request, status = 404, bytes]", True),
        ("[ip, user, request, status = 4*, bytes > 1000]", True),
        ("[ip, user, request, status = 4* && bytes < 1000, bytes]", False),
        ("[ip, user, request, status != 404, bytes]", False),
        ('[ip = "127.0.0.1", ...]', True),
        ("[..., status = 404, bytes]", True),
        ("[ip, user, request]", False),
        ("[ip, user, request, status, bytes, extra]", False),
    ],
)
def test_space_delimited_patterns_name_the_fields_of_a_message(pattern, expected):
    message = '127.0.0.1 frank "GET /apache_pb.gif HTTP/1.0" 404 2326'

    assert matches(pattern, message) is expected


@pytest.mark.parametrize(
    "pattern",
    ['{ $.level = "ERROR"', "{ $.level }", '{ $.level = "a" && }', "{ level = 1 }", "[a, , b]"],
)
def test_a_malformed_pattern_is_refused(pattern):
    with pytest.raises(InvalidFilterPatternError):
        compile_pattern(pattern)
