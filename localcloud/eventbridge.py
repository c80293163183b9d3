"""EventBridge rules (event patterns and schedules) and their targets, with AWS's delivery rules.

moto's CloudFormation creates `AWS::Events::Rule` and `AWS::Events::EventBus`, and its
`PutEvents` finds the rules of the bus; what a rule then does is localcloud's:

- event patterns as EventBridge documents them (`pattern_matches`): exact values (typed),
  `prefix`, `suffix`, `equals-ignore-case`, `anything-but` (values, or a prefix, suffix,
  equals-ignore-case or wildcard), `numeric` ranges, `exists`, `cidr`, `wildcard`, nested
  objects, arrays (any element), and `$or`;
- each matching rule's targets get the event, or what `Input`, `InputPath` or
  `InputTransformer` make of it (`target_input`), asynchronously: the delivery is queued and
  made by the engine's pump;
- targets: a function (an async invoke, so Lambda's own retries and destinations apply), an SQS
  queue (a FIFO queue needs `SqsParameters.MessageGroupId` and content-based deduplication), an
  SNS topic, a Step Functions state machine (`StartExecution` with a unique name), another
  event bus, a CloudWatch Logs group, and the archives moto keeps for `CreateArchive`;
- a target that cannot take the event (its resource is gone, a parameter is invalid) goes to
  the target's `DeadLetterConfig` queue at once, with the message attributes EventBridge sets
  (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS, and
  EXHAUSTED_RETRY_CONDITION after retries); other failures (throttling, an unexpected error)
  are retried with exponential backoff under the target's `RetryPolicy` (185 attempts and 24
  hours by default) first. Without a dead-letter queue the event is logged and kept in the
  engine's `discarded_events`;
- disabled rules take nothing.
"""

from __future__ import annotations

import calendar
import heapq
import ipaddress
import itertools
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core.exceptions import ServiceException
from moto.events import models as events_models
from moto.events.models import events_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from werkzeug.exceptions import HTTPException

from localcloud.engine import active_engine
from localcloud.extension import Extension

logger = logging.getLogger("localcloud")

# A target's RetryPolicy defaults, as EventBridge documents them.
DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185
DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 86_400
# Exponential backoff between retries: 1 s, 2 s, 4 s... up to this.
MAXIMUM_RETRY_DELAY_SECONDS = 300.0
# A schedule that fell far behind (a long pause, a tiny time scale) catches up this many
# firings per delivery round at most, so one round stays short.
MAXIMUM_CATCH_UP_FIRINGS = 100


class TargetError(Exception):
    """A target could not take an event; `code` is the ERROR_CODE EventBridge reports."""

    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


# -- event patterns -------------------------------------------------------------------------

_MISSING = object()


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
            if not _object_matches(rule, fields.get(name, _MISSING)):
                return False
        elif isinstance(rule, list):
            if not _leaf_matches(rule, fields.get(name, _MISSING)):
                return False
        else:
            return False
    return True


def _leaf_matches(rules: list[Any], value: Any) -> bool:
    # Only leaves count as present: a missing field, an object or an empty array is absent.
    if value is _MISSING or isinstance(value, dict) or value == []:
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


# -- target input ---------------------------------------------------------------------------

_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+|\*)\]|\['([^']*)'\]")


def json_path(event: Any, path: str) -> Any:
    """The value at an EventBridge JSON path (`$.a.b`, `$.a[0]`, `$.a[*]`), or `_MISSING`."""
    if not path.startswith("$"):
        return _MISSING
    values, wildcard, position = [event], False, 1
    while position < len(path):
        step = _PATH_STEP.match(path, position)
        if step is None:
            return _MISSING
        position = step.end()
        name, index, quoted = step.groups()
        following = []
        for value in values:
            if index == "*":
                wildcard = True
                following.extend(value if isinstance(value, list) else [])
            elif index is not None:
                if isinstance(value, list) and int(index) < len(value):
                    following.append(value[int(index)])
            elif isinstance(value, dict) and (name or quoted) in value:
                following.append(value[name or quoted])
        values = following
    if wildcard:
        return values
    return values[0] if values else _MISSING


_VARIABLE = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def target_input(target: dict[str, Any], event: dict[str, Any], rule: Any) -> str:
    """The text a target receives for `event`: Input, InputPath, InputTransformer or the event."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath"):
        value = json_path(event, target["InputPath"])
        return json.dumps(None if value is _MISSING else value)
    transformer = target.get("InputTransformer")
    if transformer:
        return transform(
            transformer.get("InputPathsMap") or {}, transformer["InputTemplate"], event, rule
        )
    return json.dumps(event)


def transform(paths: dict[str, str], template: str, event: dict[str, Any], rule: Any) -> str:
    """An input transformer's output, with EventBridge's substitution rules.

    A variable inside a JSON string takes its value's text unescaped (objects and arrays lose
    their inner quotes); elsewhere it takes its value as JSON, so strings arrive quoted. A
    variable whose path is not in the event becomes null (an empty text inside a string).
    """
    values = {name: json_path(event, path) for name, path in paths.items()}
    without_detail = {key: value for key, value in event.items() if key != "detail"}
    values.update(
        {
            "aws.events.rule-arn": rule.arn,
            "aws.events.rule-name": rule.name,
            "aws.events.event.ingestion-time": event.get("time"),
            "aws.events.event": without_detail,
            "aws.events.event.json": event,
        }
    )
    out: list[str] = []
    in_string = escaped = False
    position = 0
    while position < len(template):
        variable = _VARIABLE.match(template, position)
        if variable is not None and variable.group(1) in values:
            value = values[variable.group(1)]
            out.append(_text_in_string(value) if in_string else _json_value(value))
            position = variable.end()
            continue
        character = template[position]
        if in_string and escaped:
            escaped = False
        elif in_string and character == "\\":
            escaped = True
        elif character == '"':
            in_string = not in_string
        out.append(character)
        position += 1
    return "".join(out)


def _text_in_string(value: Any) -> str:
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, str):
        return value
    return (
        json.dumps(value).replace('"', "") if isinstance(value, dict | list) else json.dumps(value)
    )


def _json_value(value: Any) -> str:
    return "null" if value is _MISSING else json.dumps(value)


# -- schedules ------------------------------------------------------------------------------

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}
_MONTHS = {name: n for n, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


class ScheduleError(ValueError):
    """A schedule expression EventBridge would refuse."""


def next_fire_time(expression: str, after: datetime, created: datetime) -> datetime:
    """The first time strictly after `after` that a `rate(...)` or `cron(...)` schedule fires.

    A rate fires every period counted from the rule's creation; a cron expression (minutes,
    hours, day of month, month, day of week, year, in UTC) at each matching minute.
    """
    rate = _RATE.match(expression.strip())
    if rate is not None:
        period = int(rate.group(1)) * _UNIT_SECONDS[rate.group(2).rstrip("s")]
        if period <= 0:
            raise ScheduleError(expression)
        elapsed = (after - created).total_seconds()
        periods = int(elapsed // period) + 1 if elapsed >= 0 else 1
        return created + timedelta(seconds=periods * period)
    if expression.startswith("cron(") and expression.endswith(")"):
        return _Cron(expression[5:-1]).next_after(after)
    raise ScheduleError(expression)


class _Cron:
    def __init__(self, fields: str) -> None:
        parts = fields.split()
        if len(parts) != 6:
            raise ScheduleError(f"cron({fields})")
        minutes, hours, self.days, months, self.weekdays, years = parts
        self.minutes = sorted(_cron_values(minutes, 0, 59, {}))
        self.hours = sorted(_cron_values(hours, 0, 23, {}))
        self.months = _cron_values(months, 1, 12, _MONTHS)
        self.years = _cron_values(years, 1970, 2199, {})

    def next_after(self, after: datetime) -> datetime:
        start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(366 * 5):
            if day.year in self.years and day.month in self.months and self._day_matches(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        moment = day.replace(hour=hour, minute=minute)
                        if moment >= start:
                            return moment
            day += timedelta(days=1)
        raise ScheduleError("the cron expression does not fire in the next five years")

    def _day_matches(self, day: datetime) -> bool:
        if self.days != "?" and not _day_of_month_matches(self.days, day):
            return False
        return self.weekdays == "?" or _weekday_matches(self.weekdays, day)


def _cron_values(text: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for part in text.upper().split(","):
        for name, number in names.items():
            part = part.replace(name.upper(), str(number))
        span, _, step = part.partition("/")
        if span in ("*", "?"):
            first, last = low, high
        elif "-" in span:
            first, last = (int(bound) for bound in span.split("-", 1))
        else:
            first = int(span)
            last = high if step else first
        values.update(range(first, last + 1, int(step) if step else 1))
    return values


def _day_of_month_matches(text: str, day: datetime) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    for part in text.upper().split(","):
        if part == "L":
            if day.day == last:
                return True
        elif part == "LW":
            if day.day == _nearest_weekday(day, last):
                return True
        elif part.endswith("W"):
            if day.day == _nearest_weekday(day, int(part[:-1])):
                return True
        elif day.day in _cron_values(part, 1, 31, {}):
            return True
    return False


def _nearest_weekday(day: datetime, target: int) -> int:
    last = calendar.monthrange(day.year, day.month)[1]
    target = min(target, last)
    weekday = day.replace(day=target).weekday()  # Monday 0 ... Sunday 6
    if weekday == 5:
        return target - 1 if target > 1 else target + 2
    if weekday == 6:
        return target + 1 if target < last else target - 2
    return target


def _weekday_matches(text: str, day: datetime) -> bool:
    number = (day.weekday() + 1) % 7 + 1  # EventBridge: SUN 1 ... SAT 7
    last = calendar.monthrange(day.year, day.month)[1]
    for part in text.upper().split(","):
        for name, value in _WEEKDAYS.items():
            part = part.replace(name, str(value))
        if "#" in part:
            weekday, nth = (int(x) for x in part.split("#"))
            if number == weekday and (day.day - 1) // 7 + 1 == nth:
                return True
        elif part.endswith("L"):
            weekday = int(part[:-1] or 7)
            if number == weekday and day.day + 7 > last:
                return True
        elif number in _cron_values(part, 1, 7, {}):
            return True
    return False


# -- the extension --------------------------------------------------------------------------


@dataclass(order=True)
class _Delivery:
    due: float
    sequence: int
    rule: Any = field(compare=False)
    target: dict[str, Any] = field(compare=False)
    event: dict[str, Any] = field(compare=False)
    retries: int = field(compare=False, default=0)
    age_seconds: float = field(compare=False, default=0.0)


@dataclass
class _Schedule:
    expression: str
    created: datetime
    next_due: datetime


class EventBridgeRules(Extension):
    """EventBridge rules and their targets (see the module docstring).

    Schedules run on the engine's clock for them, which starts at the engine's start (UTC now)
    and moves with (scaled) real time while the engine delivers in the background. `settle()`
    never fires a schedule, so it always ends; a test moves the clock instead:

        fired = cloud.engine.extension(EventBridgeRules).advance_schedules(3600)
        cloud.settle()   # deliver the fired events to their targets

    `advance_schedules(seconds)` fires every schedule due within that span, in time order, each
    event with its due `time`; `fire_schedule(rule_name)` fires one rule now.
    """

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self._deliveries: list[_Delivery] = []
        # Events arrive on API threads while the background thread delivers.
        self._lock = threading.Lock()
        self._schedule_lock = threading.RLock()
        self._sequence = itertools.count()
        self._schedules: dict[str, _Schedule] = {}
        self._clock_start = datetime.now(UTC).replace(microsecond=0)
        self._real_start = time.monotonic()
        self._advanced_seconds = 0.0

    # -- events in ------------------------------------------------------------------------

    def put_event(
        self,
        *,
        account_id: str,
        region: str,
        bus_name: str,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        resources: list[str],
    ) -> dict[str, Any]:
        """Put one event on a bus, as an AWS service does (S3's EventBridge notifications)."""
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": account_id,
            "time": _iso(datetime.now(UTC)),
            "region": region,
            "resources": resources,
            "detail": detail,
        }
        bus = events_backends[account_id][region].describe_event_bus(bus_name)
        for rule in list(bus.rules.values()):
            self.route(rule, event)
        return event

    def route(self, rule: Any, event: dict[str, Any]) -> bool:
        """Queue `event` for each target of `rule` if the rule is enabled and matches it."""
        if rule.state != "ENABLED":
            return False
        if not pattern_matches(rule.event_pattern.get_pattern(), event):
            return False
        for target in list(rule.targets):
            self._queue(_Delivery(0.0, 0, rule, target, event), delay=0.0)
        return True

    # -- schedules ------------------------------------------------------------------------

    def now(self) -> datetime:
        """The schedules' clock (see the class docstring)."""
        scale = self.engine.time_scale
        real = (time.monotonic() - self._real_start) / scale if scale > 0 else 0.0
        return self._clock_start + timedelta(seconds=self._advanced_seconds + real)

    def advance_schedules(self, seconds: float) -> list[dict[str, Any]]:
        """Move the schedules' clock on by `seconds`, firing every schedule due; returns events."""
        with self._schedule_lock:
            self._refresh_schedules()  # rules created since the last round start from now
            self._advanced_seconds += seconds
            return self._fire_due_schedules(limit=None)

    def fire_schedule(self, rule_name: str, bus_name: str = "default") -> dict[str, Any]:
        """Fire one scheduled rule now, off its schedule; returns the event."""
        backend = events_backends[self.engine.account_id][self.engine.region]
        rule = backend.describe_rule(rule_name, bus_name)
        event = scheduled_event(rule, self.now())
        self.route(rule, event)
        return event

    def _refresh_schedules(self) -> list[Any]:
        backend = events_backends[self.engine.account_id][self.engine.region]
        rules = [
            rule
            for bus in backend.event_buses.values()
            for rule in bus.rules.values()
            if rule.scheduled_expression
        ]
        now = self.now()
        known = {}
        for rule in rules:
            schedule = self._schedules.get(rule.arn)
            if schedule is None or schedule.expression != rule.scheduled_expression:
                try:
                    schedule = _Schedule(
                        rule.scheduled_expression,
                        now,
                        next_fire_time(rule.scheduled_expression, now, now),
                    )
                except ScheduleError:
                    logger.warning(
                        "%s: unsupported schedule %s", rule.arn, rule.scheduled_expression
                    )
                    continue
            known[rule.arn] = schedule
        self._schedules = known
        return rules

    def _fire_due_schedules(self, *, limit: int | None) -> list[dict[str, Any]]:
        with self._schedule_lock:
            return self._fire_due_schedules_locked(limit)

    def _fire_due_schedules_locked(self, limit: int | None) -> list[dict[str, Any]]:
        rules = {rule.arn: rule for rule in self._refresh_schedules()}
        now = self.now()
        fired: list[tuple[datetime, dict[str, Any]]] = []
        for arn, schedule in self._schedules.items():
            count = 0
            while schedule.next_due <= now and (limit is None or count < limit):
                rule = rules[arn]
                if rule.state == "ENABLED":
                    fired.append((schedule.next_due, scheduled_event(rule, schedule.next_due)))
                schedule.next_due = next_fire_time(
                    schedule.expression, schedule.next_due, schedule.created
                )
                count += 1
        fired.sort(key=lambda pair: pair[0])
        for _, event in fired:
            self.route(rules[event["resources"][0]], event)
        return [event for _, event in fired]

    # -- delivery -------------------------------------------------------------------------

    def pump(self, *, fast_forward: bool) -> int:
        done = 0
        if not fast_forward and self.engine.time_scale > 0:
            done += len(self._fire_due_schedules(limit=MAXIMUM_CATCH_UP_FIRINGS))
        else:
            with self._schedule_lock:
                self._refresh_schedules()
        while True:
            with self._lock:
                if not self._deliveries or (
                    not fast_forward and self._deliveries[0].due > time.monotonic()
                ):
                    return done
                delivery = heapq.heappop(self._deliveries)
            self._deliver(delivery)
            done += 1

    def _queue(self, delivery: _Delivery, *, delay: float) -> None:
        delivery.due = time.monotonic() + delay * self.engine.time_scale
        delivery.sequence = next(self._sequence)
        with self._lock:
            heapq.heappush(self._deliveries, delivery)

    def _deliver(self, delivery: _Delivery) -> None:
        try:
            send_to_target(delivery.rule, delivery.target, delivery.event)
        except TargetError as error:
            self._failed(delivery, error)
        except (ServiceException, HTTPException) as error:
            # The target's service refused the request itself: trying again cannot help.
            self._failed(delivery, TargetError("INVALID_PARAMETER", str(error), retryable=False))
        except Exception as error:
            self._failed(delivery, TargetError("INTERNAL_ERROR", str(error), retryable=True))

    def _failed(self, delivery: _Delivery, error: TargetError) -> None:
        policy = delivery.target.get("RetryPolicy") or {}
        attempts = int(policy.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS))
        max_age = float(policy.get("MaximumEventAgeInSeconds", DEFAULT_MAXIMUM_EVENT_AGE_SECONDS))
        delay = min(2.0**delivery.retries, MAXIMUM_RETRY_DELAY_SECONDS)
        exhausted = None
        if error.retryable:
            if delivery.retries >= attempts:
                exhausted = "MaximumRetryAttempts"
            elif delivery.age_seconds + delay > max_age:
                exhausted = "MaximumEventAgeInSeconds"
            else:
                delivery.retries += 1
                delivery.age_seconds += delay
                self._queue(delivery, delay=delay)
                return
        self._dead_letter(delivery, error, exhausted)

    def _dead_letter(self, delivery: _Delivery, error: TargetError, exhausted: str | None) -> None:
        queue_arn = (delivery.target.get("DeadLetterConfig") or {}).get("Arn")
        attributes = {
            "RULE_ARN": delivery.rule.arn,
            "TARGET_ARN": delivery.target["Arn"],
            "ERROR_CODE": error.code,
            "ERROR_MESSAGE": str(error),
            "RETRY_ATTEMPTS": str(delivery.retries),
        }
        if exhausted:
            attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
        if queue_arn:
            try:
                self.engine.send_to_target(
                    queue_arn,
                    json.dumps(delivery.event),
                    {
                        name: {"DataType": "String", "StringValue": value}
                        for name, value in attributes.items()
                    },
                )
                return
            except Exception as dead_letter_error:
                attributes["DEAD_LETTER_ERROR"] = str(dead_letter_error)
        logger.warning(
            "EventBridge dropped event %s for %s: %s %s",
            delivery.event.get("id"),
            delivery.target["Arn"],
            error.code,
            error,
        )
        self.engine.discarded_events.append(
            {"reason": "EventBridge target failed", "event": delivery.event, **attributes}
        )


def scheduled_event(rule: Any, at: datetime) -> dict[str, Any]:
    """The event a scheduled rule sends at `at`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": rule.account_id,
        "time": _iso(at),
        "region": rule.region_name,
        "resources": [rule.arn],
        "detail": {},
    }


def send_to_target(rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
    """Hand one event to one target; raises `TargetError` when the target cannot take it."""
    engine = active_engine()
    arn = target["Arn"]
    service, region, account = arn.split(":")[2:5]
    payload = target_input(target, event, rule)
    if service == "lambda":
        try:
            function = engine.function(arn)
        except Exception as error:
            raise TargetError("NO_RESOURCE", f"Function not found: {arn}", retryable=False) from (
                error
            )
        try:
            body: Any = json.loads(payload)
        except ValueError:
            body = payload
        engine.invoke_async(function, body, trigger=f"EventBridge {rule.name}")
    elif service == "sqs":
        _send_to_queue(arn, target, payload, event)
    elif service == "sns":
        backend = sns_backends[account][region]
        if arn not in backend.topics:
            raise TargetError("NO_RESOURCE", f"Topic not found: {arn}", retryable=False)
        backend.publish(payload, arn=arn)
    elif service == "states":
        _start_execution(arn, payload)
    elif service == "events" and ":event-bus/" in arn:
        _put_on_bus(arn, event)
    elif service == "events" and arn.endswith(":::"):
        # The target moto gives an archive's rule: its input names the archive.
        archive_arn = json.loads(payload)["archive-arn"]
        rule._send_to_events_archive(archive_arn.split(":archive/", 1)[1], event)
    elif service == "logs":
        _write_to_log_group(arn, payload)
    else:
        raise TargetError(
            "INVALID_PARAMETER",
            f"localcloud does not deliver to {service} targets",
            retryable=False,
        )


def _send_to_queue(arn: str, target: dict[str, Any], payload: str, event: dict[str, Any]) -> None:
    _, _, _, region, account, name = arn.split(":", 5)
    backend = sqs_backends[account][region]
    if name not in backend.queues:
        raise TargetError("NO_RESOURCE", f"Queue not found: {arn}", retryable=False)
    queue = backend.queues[name]
    group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
    if queue.fifo_queue:
        if not group_id:
            raise TargetError(
                "INVALID_PARAMETER",
                "A FIFO queue target needs SqsParameters.MessageGroupId",
                retryable=False,
            )
        if str(queue.content_based_deduplication).lower() != "true":
            raise TargetError(
                "INVALID_PARAMETER",
                "A FIFO queue target must have content-based deduplication enabled",
                retryable=False,
            )
    backend.send_message(name, payload, group_id=group_id if queue.fifo_queue else None)


def _start_execution(arn: str, payload: str) -> None:
    # The backend the Step Functions API answers from (the executing one, when it runs).
    from moto.stepfunctions import responses as sfn_responses

    region, account = arn.split(":")[3:5]
    backend = sfn_responses.get_backend(account, region)
    try:
        backend.describe_state_machine(arn)
    except Exception as error:
        raise TargetError("NO_RESOURCE", f"State machine not found: {arn}", retryable=False) from (
            error
        )
    try:
        backend.start_execution(arn, name=str(uuid.uuid4()), execution_input=payload)
    except Exception as error:
        raise TargetError("INVALID_PARAMETER", str(error), retryable=False) from error


def _put_on_bus(arn: str, event: dict[str, Any]) -> None:
    region, account = arn.split(":")[3:5]
    bus_name = arn.split(":event-bus/", 1)[1]
    backend = events_backends[account][region]
    try:
        bus = backend.describe_event_bus(bus_name)
    except Exception as error:
        raise TargetError("NO_RESOURCE", f"Event bus not found: {arn}", retryable=False) from (
            error
        )
    rules = active_engine().extension(EventBridgeRules)
    for rule in list(bus.rules.values()):
        rules.route(rule, event)


def _write_to_log_group(arn: str, payload: str) -> None:
    from moto.logs.models import logs_backends

    region, account = arn.split(":")[3:5]
    group = arn.split(":log-group:", 1)[1].removesuffix(":*")
    backend = logs_backends[account][region]
    if group not in backend.groups:
        raise TargetError("NO_RESOURCE", f"Log group not found: {arn}", retryable=False)
    stream = str(uuid.uuid4())
    backend.create_log_stream(group, stream)
    backend.put_log_events(
        group, stream, [{"timestamp": int(time.time() * 1000), "message": payload}]
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_time(value: Any) -> str:
    """An event's `time` as EventBridge sends it, from what moto holds (epoch seconds mostly)."""
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, int | float):
        return _iso(datetime.fromtimestamp(value, UTC))
    if isinstance(value, str) and value:
        try:
            return _iso(datetime.fromtimestamp(float(value), UTC))
        except ValueError:
            return value
    return _iso(datetime.now(UTC))


# -- moto hooks ---------------------------------------------------------------------------


def _rules_deliver_through_extension(original):
    # moto delivers synchronously, to SQS and logs only, and raises on a Lambda target; its
    # PutEvents (and its other callers) reach every rule through this method.
    def send_to_targets(self, original_event: Any, transform_input: bool = True) -> None:
        event = {
            key: value for key, value in dict(original_event).items() if key != "ingestion-time"
        }
        event["time"] = _event_time(event.get("time"))
        active_engine().extension(EventBridgeRules).route(self, event)

    return send_to_targets


def _patterns_match_as_eventbridge_does(original):
    # moto's matcher flattens arrays of objects away, compares values loosely (True == 1) and
    # lets anything-but and prefix match where EventBridge does not.
    def matches_event(self, event: Any) -> bool:
        return pattern_matches(self.get_pattern(), json.loads(json.dumps(event)))

    return matches_event


def _event_bus_refs_to_its_name(original):
    # CloudFormation's Ref of an event bus is its name; moto's model has no physical id, so a
    # rule's `EventBusName: {"Ref": ...}` (as CDK writes it) would get the bus object itself.
    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: N807 - replaces __init__
        original(self, *args, **kwargs)
        self.physical_resource_id = self.name

    return __init__


EventBridgeRules.PATCHES = (
    (events_models.EventBus, "__init__", _event_bus_refs_to_its_name),
    (events_models.Rule, "send_to_targets", _rules_deliver_through_extension),
    (events_models.EventPattern, "matches_event", _patterns_match_as_eventbridge_does),
)
