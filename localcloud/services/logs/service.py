"""CloudWatch Logs as a target: a message sent to a log group's ARN becomes one log event."""

from __future__ import annotations

import uuid

from moto.logs.models import logs_backends

from localcloud.core.service import DeliveryError, Message, Service


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
