"""Who may call a REST API method: Lambda authorizer policies, API keys, usage plans, throttles.

The pieces the REST API front (`service.py`) applies before a request reaches its integration:
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


def policy_effect(policy: Any, arn: str) -> str | None:
    """What an authorizer's policy document says of `execute-api:Invoke` on `arn`.

    As in IAM: "Deny" when a statement explicitly denies it, else "Allow" when one allows it,
    else None (an implicit deny). API Gateway answers the two denials with different messages.
    Raises ValueError for a document that is not a policy.
    """
    if not isinstance(policy, dict) or "Statement" not in policy:
        raise ValueError("the authorizer's answer has no policyDocument with a Statement")
    effect_found: str | None = None
    for statement in _as_list(policy["Statement"]):
        if not isinstance(statement, dict):
            raise ValueError("a policy statement must be an object")
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise ValueError(f"a policy statement has Effect {effect!r}")
        # IAM action names are case-insensitive; resource ARNs are not.
        actions = [str(action).lower() for action in _as_list(statement.get("Action"))]
        if not _matches(actions, "execute-api:invoke"):
            continue
        if not _matches(_as_list(statement.get("Resource")), arn):
            continue
        if effect == "Deny":
            return "Deny"
        effect_found = "Allow"
    return effect_found


@dataclass(frozen=True)
class AuthorizerDecision:
    """What a Lambda authorizer answered: its policy, principal, context and usage key."""

    policy: dict[str, Any]
    principal_id: str
    context: dict[str, str]
    usage_identifier_key: str | None
    # How long the authorizer took, in milliseconds: 0 for a decision served from the cache.
    latency_ms: int = 0

    @classmethod
    def from_payload(cls, payload: Any) -> AuthorizerDecision:
        if not isinstance(payload, dict) or not isinstance(payload.get("policyDocument"), dict):
            raise ValueError("the authorizer's answer has no policyDocument")
        if payload.get("principalId") is None:
            # The answer "must include the principal identifier" (API Gateway's contract).
            raise ValueError("the authorizer's answer has no principalId")
        context = payload.get("context") or {}
        if not isinstance(context, dict) or any(
            isinstance(value, dict | list) for value in context.values()
        ):
            # API Gateway accepts only strings, numbers and booleans as context values.
            raise ValueError("the authorizer's context must map names to plain values")
        return cls(
            policy=payload["policyDocument"],
            principal_id=str(payload["principalId"]),
            context={name: _context_value(value) for name, value in context.items()},
            usage_identifier_key=payload.get("usageIdentifierKey"),
        )

    def request_context(self) -> dict[str, Any]:
        """`requestContext.authorizer` of the proxy event (REST APIs pass values as strings).

        API Gateway adds the authorizer's `integrationLatency` (a number) to what it answered.
        """
        return {
            "principalId": self.principal_id,
            **self.context,
            "integrationLatency": self.latency_ms,
        }


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
    (quota periods are UTC days, weeks from Sunday, and months, as usage plans count them).
    """

    def __init__(self, clock: Callable[[], float], calendar_clock: Callable[[], float]):
        self.clock = clock
        self.calendar_clock = calendar_clock
        self._buckets: dict[tuple, _Bucket] = {}
        self._quota_used: dict[tuple, int] = {}
        self._first_period: dict[tuple, int] = {}
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
        """Count one request against a quota; False when the period's limit is used up.

        `offset` requests are taken off the limit of the initial period only (the period of
        the key's first request), as a usage plan's quota `Offset` is.
        """
        period_start = self._period_start(period)
        with self._lock:
            initial = self._first_period.setdefault(key, period_start)
            allowed = limit - offset if period_start == initial else limit
            window = (*key, period_start)
            used = self._quota_used.get(window, 0)
            if used >= allowed:
                return False
            self._quota_used[window] = used + 1
            return True

    def _period_start(self, period: str) -> int:
        now = time.gmtime(self.calendar_clock())
        day_start = calendar.timegm((now.tm_year, now.tm_mon, now.tm_mday, 0, 0, 0))
        if period == "DAY":
            return day_start
        if period == "WEEK":
            # Weeks start on Sunday (the API reference once documented an offset of 0 as
            # Sunday). `tm_wday` counts from Monday.
            return day_start - ((now.tm_wday + 1) % 7) * 86400
        if period == "MONTH":
            return calendar.timegm((now.tm_year, now.tm_mon, 1, 0, 0, 0))
        raise ValueError(f"unknown quota period {period!r}")
