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

import json
import logging
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core.exceptions import ServiceException
from moto.events import models as events_models
from moto.events.models import events_backends
from werkzeug.exceptions import HTTPException

from localcloud.core.engine import active_engine
from localcloud.core.hooks import Hook
from localcloud.core.service import DeliveryError, Message, Service
from localcloud.rules.event_patterns import pattern_matches
from localcloud.rules.input_transformers import target_input
from localcloud.rules.schedules import ScheduleError, next_fire_time

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


# -- the service ----------------------------------------------------------------------------


@dataclass
class _Delivery:
    """One event on its way to one target."""

    rule: Any
    target: dict[str, Any]
    event: dict[str, Any]
    retries: int = 0
    age_seconds: float = 0.0


@dataclass
class _Schedule:
    expression: str
    created: datetime
    next_due: datetime


class EventBridgeRules(Service):
    """EventBridge rules and their targets (see the module docstring).

    Schedules run on the engine's clock for them, which starts at the engine's start (UTC now)
    and moves with (scaled) real time while the engine delivers in the background. `settle()`
    never fires a schedule, so it always ends; a test moves the clock instead:

        fired = cloud.engine.service(EventBridgeRules).advance_schedules(3600)
        cloud.settle()   # deliver the fired events to their targets

    `advance_schedules(seconds)` fires every schedule due within that span, in time order, each
    event with its due `time`; `fire_schedule(rule_name)` fires one rule now.
    """

    NAME = "events"

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        # Events arrive on API threads while the background thread delivers.
        self._schedule_lock = threading.RLock()
        # Events routed to targets, for their first attempt in this delivery round.
        self._ready: deque[_Delivery] = deque()
        self._schedules: dict[str, _Schedule] = {}
        self._clock_start = datetime.now(UTC).replace(microsecond=0)
        self._real_start = self.engine.clock.monotonic()
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

    def route(self, rule: Any, event: dict[str, Any], *, scheduled: bool = False) -> bool:
        """Queue `event` for each target of `rule` if the rule is enabled and matches it; a
        `scheduled` event is the rule's own, fired by its schedule."""
        if rule.state != "ENABLED":
            return False
        if not scheduled:
            pattern = rule.event_pattern.get_pattern()
            # A rule with only a schedule receives no event from its bus, as on EventBridge.
            if not pattern or not pattern_matches(pattern, event):
                return False
        for target in list(rule.targets):
            self._ready.append(_Delivery(rule, target, event))
        return True

    # -- schedules ------------------------------------------------------------------------

    def now(self) -> datetime:
        """The schedules' clock (see the class docstring)."""
        scale = self.engine.time_scale
        real = (self.engine.clock.monotonic() - self._real_start) / scale if scale > 0 else 0.0
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
        self.route(rule, event, scheduled=True)
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
            self.route(rules[event["resources"][0]], event, scheduled=True)
        return [event for _, event in fired]

    # -- delivery -------------------------------------------------------------------------

    def pump(self, *, fast_forward: bool) -> int:
        # A first attempt goes out in the round that routed the event; a retry waits on the
        # engine's scheduler for its backoff.
        done = 0
        if not fast_forward and self.engine.time_scale > 0:
            done += len(self._fire_due_schedules(limit=MAXIMUM_CATCH_UP_FIRINGS))
        else:
            with self._schedule_lock:
                self._refresh_schedules()
        while self._ready:
            self._deliver(self._ready.popleft())
            done += 1
        return done

    def _retry_later(self, delivery: _Delivery, *, delay: float) -> None:
        self.engine.call_later(delay, lambda: self._deliver(delivery))

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
                self._retry_later(delivery, delay=delay)
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
    """Hand one event to one target; raises `TargetError` when the target cannot take it.

    A bus or an archive is this service's own; every other target (a function, a queue, a
    topic, a state machine, a log group) is reached through the engine's dispatcher.
    """
    engine = active_engine()
    arn = target["Arn"]
    payload = target_input(target, event, rule)
    if arn.startswith("arn:aws:events:") and ":event-bus/" in arn:
        _put_on_bus(arn, event)
        return
    if arn.startswith("arn:aws:events:") and arn.endswith(":::"):
        # The target moto gives an archive's rule: its input names the archive.
        archive_arn = json.loads(payload)["archive-arn"]
        rule._send_to_events_archive(archive_arn.split(":archive/", 1)[1], event)
        return
    group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
    try:
        engine.deliver(arn, Message(payload, group_id=group_id, trigger=f"EventBridge {rule.name}"))
    except DeliveryError as error:
        raise TargetError(error.code, str(error), retryable=False) from error


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
    rules = active_engine().service(EventBridgeRules)
    for rule in list(bus.rules.values()):
        rules.route(rule, event)


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


def _rules_deliver_through_service(original):
    # moto delivers synchronously, to SQS and logs only, and raises on a Lambda target; its
    # PutEvents (and its other callers) reach every rule through this method.
    def send_to_targets(self, original_event: Any, transform_input: bool = True) -> None:
        event = {
            key: value for key, value in dict(original_event).items() if key != "ingestion-time"
        }
        event["time"] = _event_time(event.get("time"))
        active_engine().service(EventBridgeRules).route(self, event)

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


EventBridgeRules.HOOKS = (
    Hook(
        events_models.EventBus,
        "__init__",
        _event_bus_refs_to_its_name,
        why="A bus's Ref is its name, as CDK's rules expect",
        parameters=(
            "self",
            "account_id",
            "region_name",
            "name",
            "description",
            "kms_key_identifier",
            "dead_letter_config",
            "tags",
        ),
    ),
    Hook(
        events_models.Rule,
        "send_to_targets",
        _rules_deliver_through_service,
        why="Matched rules deliver to targets with AWS's rules",
        parameters=("self", "original_event", "transform_input"),
        replaces=True,
    ),
    Hook(
        events_models.EventPattern,
        "matches_event",
        _patterns_match_as_eventbridge_does,
        why="Event patterns match with EventBridge's rules",
        parameters=("self", "event"),
        replaces=True,
    ),
)
