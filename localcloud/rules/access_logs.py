"""API Gateway access logs: a stage's `Format` rendered for one request.

Each `$context.name` (dotted for nested values: `$context.identity.sourceIp`,
`$context.error.message`) is replaced by the request's value, and by `-` where the request has
none (a route that was not found, an integration that was never called), as API Gateway
writes it. The longest name the context knows wins, so `$context.status.` reads `status` and
leaves the dot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_VARIABLE = re.compile(r"\$context\.(?P<name>[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")
_MISSING = "-"


def render(log_format: str, context: Mapping[str, Any]) -> str:
    """The access log line of one request (see the module docstring)."""

    def substitute(found: re.Match[str]) -> str:
        parts = found["name"].split(".")
        # The longest known name: `$context.identity.sourceIp` before `$context.identity`.
        for length in range(len(parts), 0, -1):
            value = _lookup(context, parts[:length])
            # A group (`identity`, `error`) stands only for itself, never before a name in it.
            if value is not None and not (isinstance(value, Mapping) and length < len(parts)):
                rest = parts[length:]
                return _text(value) + "".join(f".{part}" for part in rest)
        return _MISSING

    return _VARIABLE.sub(substitute, log_format)


def _lookup(context: Mapping[str, Any], path: list[str]) -> Any:
    found: Any = context
    for part in path:
        if not isinstance(found, Mapping) or part not in found:
            return None
        found = found[part]
    return found


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if value is None or value == "" or isinstance(value, Mapping):
        return _MISSING
    return str(value)
