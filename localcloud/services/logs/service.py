"""CloudWatch Logs: a message sent to a log group's ARN becomes one log event, and searches
(`FilterLogEvents`) match events with CloudWatch's filter pattern syntax."""

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


LogGroups.HOOKS = (
    Hook(
        logs_models,
        "EventMessageFilter",
        _cloudwatch_filter_patterns,
        why="Log searches match with CloudWatch's filter pattern syntax",
        parameters=("pattern",),
        replaces=True,
    ),
)
