"""CloudWatch Logs: a message sent to a log group's ARN becomes one log event; searches
(`FilterLogEvents`) and subscription filters match events with CloudWatch's filter pattern
syntax."""

from __future__ import annotations

import uuid

from moto.logs import models as logs_models
from moto.logs.exceptions import InvalidParameterException
from moto.logs.models import logs_backends

from localcloud.core.hooks import Hook
from localcloud.core.service import DeliveryError, Message, Service
from localcloud.rules.log_filter_patterns import InvalidFilterPatternError, compile_pattern


class LogGroups(Service):
    """Messages delivered to log groups (EventBridge rules log events this way)."""

    NAME = "logs"
    DELIVERS = ("logs",)

    def deliver(self, arn: str, message: Message) -> None:
        region, account = arn.split(":")[3:5]
        group = arn.split(":log-group:", 1)[1].removesuffix(":*")
        backend = logs_backends[account][region]
        if group not in backend.groups:
            raise DeliveryError("NO_RESOURCE", f"Log group not found: {arn}")
        stream = str(uuid.uuid4())
        backend.create_log_stream(group, stream)
        backend.put_log_events(
            group,
            stream,
            [{"timestamp": int(self.engine.clock.time_millis()), "message": message.body}],
        )


class _FilterPattern:
    """Stands in for moto's event filter, which reads only plain terms and lets every other
    pattern (JSON `{ $.level = "ERROR" }`, `?A ?B`, `-term`, `[fields]`) match every event."""

    def __init__(self, pattern: str) -> None:
        try:
            self._matches = compile_pattern(pattern)
        except InvalidFilterPatternError as error:
            raise InvalidParameterException(f"Invalid filter pattern: {error}") from None

    def matches(self, message: str) -> bool:
        return self._matches(message)


def _cloudwatch_filter_patterns(original):
    return _FilterPattern


def _log_group_arn_as_cloudformation_gives_it(original):
    # CloudFormation's `Fn::GetAtt [LogGroup, Arn]` ends in `:*` (what IAM policies and
    # destinations are written with); moto's ends at the group's name.
    def get_cfn_attribute(self, attribute_name):
        value = original(self, attribute_name)
        return f"{value}:*" if attribute_name == "Arn" else value

    return get_cfn_attribute


def _subscriptions_get_matching_events_only(original):
    # moto sends every new event to every subscription filter's destination, whatever its
    # pattern; CloudWatch Logs sends only the events the pattern matches, and nothing when
    # none does.
    def _send_log_events(self, service, destination_arn, filter_name, log_events):
        subscription = self.log_group.subscription_filters.get(filter_name)
        pattern = subscription.filter_pattern if subscription is not None else ""
        matching = compile_pattern(pattern)
        wanted = [event for event in log_events if matching(event["message"])]
        if wanted:
            original(self, service, destination_arn, filter_name, wanted)

    return _send_log_events


LogGroups.HOOKS = (
    Hook(
        logs_models,
        "EventMessageFilter",
        _cloudwatch_filter_patterns,
        why="Log searches match with CloudWatch's filter pattern syntax",
        parameters=("pattern",),
        replaces=True,
    ),
    Hook(
        logs_models.LogGroup,
        "get_cfn_attribute",
        _log_group_arn_as_cloudformation_gives_it,
        why="A log group's template Arn ends in :* as CloudFormation gives it",
        parameters=("self", "attribute_name"),
    ),
    Hook(
        logs_models.LogStream,
        "_send_log_events",
        _subscriptions_get_matching_events_only,
        why="A subscription filter sends only the events its pattern matches",
        parameters=("self", "service", "destination_arn", "filter_name", "log_events"),
    ),
)
