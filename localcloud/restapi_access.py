"""Who may call a REST API method: Lambda authorizer policies, API keys, usage plans, throttles.

The pieces the REST API front (`restapi.py`) applies before a request reaches its integration:
an authorizer's IAM policy checked against the method ARN, its cached decisions, and the token
buckets and quota counters of usage plans and stage method settings.
"""

from __future__ import annotations

import calendar
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class GatewayError(Exception):
    """API Gateway answers the request itself, with the gateway response of `response_type`."""

    def __init__(
        self,
        response_type: str,
        message: str | None,
        *,
        status: int | None = None,
        validation_error: str = "",
    ):
        super().__init__(message)
        self.response_type = response_type
        self.message = message
        self.status = status
        # What a request validator found wrong (`$context.error.validationErrorString`).
        self.validation_error = validation_error


# -- authorizer policies ---------------------------------------------------------------------


def method_arn(*, region: str, account_id: str, api_id: str, stage: str, method: str, path: str):
    """The ARN a Lambda authorizer is given and its policy is checked against."""
    return f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/{method}/{path.lstrip('/')}"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _iam_pattern(pattern: str) -> re.Pattern[str]:
    # IAM wildcards: `*` any run of characters, `?` any one character.
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
        re.DOTALL,
    )


def _matches(patterns: list[Any], value: str) -> bool:
    return any(_iam_pattern(str(pattern)).fullmatch(value) for pattern in patterns)


def policy_allows(policy: Any, arn: str) -> bool:
    """Whether an authorizer's policy document allows `execute-api:Invoke` on `arn`.

    As in IAM: an explicit Deny wins, then an Allow is needed; anything else denies.
    Raises ValueError for a document that is not a policy.
    """
    if not isinstance(policy, dict) or "Statement" not in policy:
        raise ValueError("the authorizer's answer has no policyDocument with a Statement")
    allowed = False
    for statement in _as_list(policy["Statement"]):
        if not isinstance(statement, dict):
            raise ValueError("a policy statement must be an object")
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise ValueError(f"a policy statement has Effect {effect!r}")
        actions = _as_list(statement.get("Action"))
        if not _matches(actions, "execute-api:Invoke"):
            continue
        if not _matches(_as_list(statement.get("Resource")), arn):
            continue
        if effect == "Deny":
            return False
        allowed = True
    return allowed


@dataclass(frozen=True)
class AuthorizerDecision:
    """What a Lambda authorizer answered: its policy, principal, context and usage key."""

    policy: dict[str, Any]
    principal_id: str | None
    context: dict[str, str]
    usage_identifier_key: str | None

    @classmethod
    def from_payload(cls, payload: Any) -> AuthorizerDecision:
        if not isinstance(payload, dict) or not isinstance(payload.get("policyDocument"), dict):
            raise ValueError("the authorizer's answer has no policyDocument")
        context = payload.get("context") or {}
        if not isinstance(context, dict) or any(
            isinstance(value, dict | list) for value in context.values()
        ):
            # API Gateway accepts only strings, numbers and booleans as context values.
            raise ValueError("the authorizer's context must map names to plain values")
        return cls(
            policy=payload["policyDocument"],
            principal_id=None
            if payload.get("principalId") is None
            else str(payload["principalId"]),
            context={name: _context_value(value) for name, value in context.items()},
            usage_identifier_key=payload.get("usageIdentifierKey"),
        )

    def request_context(self) -> dict[str, Any]:
        """`requestContext.authorizer` of the proxy event (REST APIs pass values as strings)."""
        return {"principalId": self.principal_id, **self.context}


def _context_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class DecisionCache:
    """Authorizer decisions by authorizer and identity, each kept for the authorizer's TTL."""

    clock: Callable[[], float]
    _entries: dict[tuple[str, tuple[str, ...]], tuple[float, AuthorizerDecision]] = field(
        default_factory=dict
    )

    def get(self, authorizer_id: str, identity: tuple[str, ...]) -> AuthorizerDecision | None:
        entry = self._entries.get((authorizer_id, identity))
        if entry is None:
            return None
        expires, decision = entry
        if self.clock() >= expires:
            del self._entries[(authorizer_id, identity)]
            return None
        return decision

    def put(
        self, authorizer_id: str, identity: tuple[str, ...], decision: AuthorizerDecision, ttl: int
    ) -> None:
        if ttl > 0:
            self._entries[(authorizer_id, identity)] = (self.clock() + ttl, decision)


# -- throttling and quotas --------------------------------------------------------------------


@dataclass
class _Bucket:
    tokens: float
    updated: float


class Throttles:
    """Token buckets (rate per second, burst) and quota counters, keyed by whoever they limit.

    `clock` is monotonic seconds (buckets refill with it); `calendar_clock` is epoch seconds
    (quota periods are UTC days, weeks from Monday, and months, as usage plans count them).
    """

    def __init__(self, clock: Callable[[], float], calendar_clock: Callable[[], float]):
        self.clock = clock
        self.calendar_clock = calendar_clock
        self._buckets: dict[tuple, _Bucket] = {}
        self._quota_used: dict[tuple, int] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple, *, rate: float | None, burst: int | None) -> bool:
        """Take one token from `key`'s bucket; False when it is empty (the request is throttled)."""
        if rate is None and burst is None:
            return True
        capacity = float(burst if burst is not None else max(rate or 0.0, 1.0))
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(tokens=capacity, updated=now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * (rate or 0.0))
            bucket.updated = now
            if bucket.tokens < 1:
                return False
            bucket.tokens -= 1
            return True

    def count(self, key: tuple, *, limit: int, period: str, offset: int = 0) -> bool:
        """Count one request against a quota; False when the period's limit is used up."""
        window = (*key, self._period_start(period, offset))
        with self._lock:
            used = self._quota_used.get(window, 0)
            if used >= limit:
                return False
            self._quota_used[window] = used + 1
            return True

    def _period_start(self, period: str, offset: int) -> int:
        now = time.gmtime(self.calendar_clock())
        day_start = calendar.timegm((now.tm_year, now.tm_mon, now.tm_mday, 0, 0, 0))
        if period == "DAY":
            return day_start
        if period == "WEEK":
            # Weeks start on Monday (offset 0), or `offset` days later.
            return day_start - ((now.tm_wday - offset) % 7) * 86400
        if period == "MONTH":
            # Months start on their first day (offset 0), or `offset` days later.
            year, month = now.tm_year, now.tm_mon
            if now.tm_mday < 1 + offset:
                year, month = (year, month - 1) if month > 1 else (year - 1, 12)
            return calendar.timegm((year, month, 1 + offset, 0, 0, 0))
        raise ValueError(f"unknown quota period {period!r}")
