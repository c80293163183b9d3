"""EventBridge event patterns, as EventBridge documents them: which events a pattern matches.

Exact values (typed), `prefix`, `suffix`, `equals-ignore-case`, `anything-but` (values, or a
prefix, suffix, equals-ignore-case or wildcard), `numeric` ranges, `exists`, `cidr`, `wildcard`,
nested objects, arrays (any element) and `$or`. Rules and Lambda's filter criteria share it.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

#: A value absent from the event (not the same as JSON null).
MISSING = object()


def pattern_matches(pattern: dict[str, Any] | None, event: Any) -> bool:
    """Whether `event` matches an EventBridge event pattern (an empty pattern matches all)."""
    if not pattern:
        return True
    return _object_matches(pattern, event)


def _object_matches(pattern: dict[str, Any], value: Any) -> bool:
    if isinstance(value, list):
        # A pattern on the fields of an array's objects matches if one object matches it all.
        return any(_object_matches(pattern, item) for item in value if isinstance(item, dict))
    fields = value if isinstance(value, dict) else {}
    for name, rule in pattern.items():
        if name == "$or":
            if not any(_object_matches(alternative, fields) for alternative in rule):
                return False
        elif isinstance(rule, dict):
            if not _object_matches(rule, fields.get(name, MISSING)):
                return False
        elif isinstance(rule, list):
            if not _leaf_matches(rule, fields.get(name, MISSING)):
                return False
        else:
            return False
    return True


def _leaf_matches(rules: list[Any], value: Any) -> bool:
    # Only leaves count as present: a missing field, an object or an empty array is absent.
    if value is MISSING or isinstance(value, dict) or value == []:
        return any(isinstance(rule, dict) and rule.get("exists") is False for rule in rules)
    values = value if isinstance(value, list) else [value]
    return any(_value_matches(rule, item) for rule in rules for item in values)


def _value_matches(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return _equal(rule, value)
    (operator, operand), *_ = rule.items()
    if operator == "exists":
        return operand is True
    if operator == "anything-but":
        return not _anything_but_excludes(operand, value)
    if operator == "numeric":
        return _is_number(value) and _in_numeric_range(operand, value)
    if operator == "cidr":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(operand, strict=False)
        except (TypeError, ValueError):
            return False
    if not isinstance(value, str):
        return False
    return _string_matches(operator, operand, value)


def _string_matches(operator: str, operand: Any, value: str) -> bool:
    if operator in ("prefix", "suffix"):
        if isinstance(operand, dict) and "equals-ignore-case" in operand:
            operand, value = operand["equals-ignore-case"].lower(), value.lower()
        if operator == "prefix":
            return isinstance(operand, str) and value.startswith(operand)
        return isinstance(operand, str) and value.endswith(operand)
    if operator == "equals-ignore-case":
        return isinstance(operand, str) and value.lower() == operand.lower()
    if operator == "wildcard":
        return isinstance(operand, str) and _wildcard(operand).fullmatch(value) is not None
    return False


def _anything_but_excludes(operand: Any, value: Any) -> bool:
    if isinstance(operand, dict):
        (operator, excluded), *_ = operand.items()
        if not isinstance(value, str):
            return False
        options = excluded if isinstance(excluded, list) else [excluded]
        return any(_string_matches(operator, option, value) for option in options)
    options = operand if isinstance(operand, list) else [operand]
    return any(_equal(option, value) for option in options)


def _equal(expected: Any, value: Any) -> bool:
    # Typed: a string never equals a number, a boolean never equals 1 or 0.
    if expected is None:
        return value is None
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(expected, bool) and isinstance(value, bool) and expected == value
    if _is_number(expected):
        return _is_number(value) and float(expected) == float(value)
    return isinstance(value, str) and expected == value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_COMPARISONS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
}


def _in_numeric_range(operand: list[Any], value: float) -> bool:
    pairs = zip(operand[::2], operand[1::2], strict=False)
    return all(_COMPARISONS[operator](value, bound) for operator, bound in pairs)


def _wildcard(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\\\*|\\\\|\*)", pattern)
    regex = "".join(
        ".*" if part == "*" else re.escape(part[1:] if part in ("\\*", "\\\\") else part)
        for part in parts
    )
    return re.compile(regex, re.DOTALL)
