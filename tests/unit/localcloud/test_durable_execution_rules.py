"""Lambda's rules for durable executions: qualified invokes, execution ARNs, idempotent names,
and which timers settling may skip ahead to."""

from __future__ import annotations

import pytest

from localcloud.rules.durable_executions import (
    StartDecision,
    execution_arn,
    fast_forward_horizon,
    requires_qualifier,
    start_decision,
)

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:orders"


@pytest.mark.parametrize(
    ("function_name", "qualifier"),
    [
        ("orders", None),
        (FUNCTION_ARN, None),
        ("123456789012:function:orders", None),
        ("orders", ""),
    ],
)
def test_a_durable_function_named_without_version_or_alias_needs_a_qualifier(
    function_name, qualifier
):
    assert requires_qualifier(function_name, qualifier)


@pytest.mark.parametrize(
    ("function_name", "qualifier"),
    [
        ("orders:live", None),
        ("orders:$LATEST", None),
        (f"{FUNCTION_ARN}:3", None),
        ("123456789012:function:orders:live", None),
        ("orders", "2"),
        (FUNCTION_ARN, "$LATEST"),
    ],
)
def test_a_version_alias_or_latest_qualifies_the_invoke(function_name, qualifier):
    assert not requires_qualifier(function_name, qualifier)


def test_an_execution_s_arn_names_the_version_the_name_and_the_id():
    arn = execution_arn(FUNCTION_ARN, "3", "order-1", "0f1e")

    assert arn == f"{FUNCTION_ARN}:3/durable-execution/order-1/0f1e"


def test_a_name_not_used_before_starts_an_execution():
    assert start_decision(None, exists=False, requested_input='{"a": 1}') is StartDecision.START


def test_a_name_used_with_the_same_input_is_the_same_execution():
    decision = start_decision('{"a": 1}', exists=True, requested_input='{"a": 1}')

    assert decision is StartDecision.EXISTING


def test_a_name_used_with_another_input_is_refused():
    decision = start_decision('{"a": 1}', exists=True, requested_input='{"a": 2}')

    assert decision is StartDecision.CONFLICT


def test_settling_skips_ahead_to_the_earliest_timer_that_moves_an_execution():
    # a callback timeout at 300, a wait ending at 600, an execution timeout at 3600
    horizon = fast_forward_horizon([(300.0, False), (600.0, True), (3600.0, False)])

    assert horizon == 600.0


def test_settling_never_skips_ahead_to_a_timeout_alone():
    assert fast_forward_horizon([(300.0, False), (3600.0, False)]) is None
