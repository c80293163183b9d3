"""A state machine's execution logs: its `LoggingConfiguration` sends the execution's history
events, at its level (`ALL`, `ERROR`, `FATAL`), to its CloudWatch Logs group.

moto's executing backend starts every execution without a logging session (and the session it
ships could not write to moto's own logs backend), so the group stayed empty. Each execution
of a machine whose level is not `OFF` gets an `ExecutionLogs` session, which moto's event
manager calls with every history event; the records have Step Functions' shape (`id`,
`type`, `details`, `previous_event_id`, `event_timestamp` in epoch milliseconds,
`execution_arn`), without input and output unless `IncludeExecutionData` is set.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from moto.stepfunctions.parser.api import LogLevel
from moto.stepfunctions.parser.asl.eval.event.logging import is_logging_enabled_for

logger = logging.getLogger("localcloud")


@dataclass(frozen=True)
class _Configuration:
    """What moto's event manager reads of a session's configuration."""

    include_execution_data: bool


class ExecutionLogs:
    """One execution's logging session (the interface moto's `EventManager` calls)."""

    def __init__(
        self, engine: Any, execution_arn: str, machine_name: str, logging_configuration: dict
    ) -> None:
        self.engine = engine
        self.execution_arn = execution_arn
        self.level = LogLevel(logging_configuration["level"])
        self.configuration = _Configuration(
            bool(logging_configuration.get("includeExecutionData", False))
        )
        self.group = log_group_name(logging_configuration) or ""
        started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d-%H-%M")
        execution_id = hashlib.sha256(execution_arn.encode()).hexdigest()[:8]
        self.stream = f"states/{machine_name}/{started}/{execution_id}"

    @classmethod
    def for_execution(
        cls, engine: Any, execution_arn: str, machine_name: str, logging_configuration: Any
    ) -> ExecutionLogs | None:
        """A session when the configuration logs anything to a log group, else None."""
        configuration = logging_configuration or {}
        if configuration.get("level", "OFF") == "OFF" or not log_group_name(configuration):
            return None
        return cls(engine, execution_arn, machine_name, configuration)

    def log_level_filter(self, history_event_type: Any) -> bool:
        return bool(is_logging_enabled_for(self.level, history_event_type))

    def publish_history_log(self, history_log: dict[str, Any]) -> None:
        record = dict(history_log)
        record["event_timestamp"] = _epoch_millis(record.get("event_timestamp"))
        record["type"] = str(getattr(record.get("type"), "value", record.get("type")))
        message = json.dumps(record, default=str, separators=(",", ":"))
        if not self.engine.write_log_events(self.group, self.stream, [message]):
            logger.warning("log group %s of %s does not exist", self.group, self.execution_arn)


def log_group_name(logging_configuration: dict[str, Any]) -> str | None:
    """The log group a logging configuration names (its one destination's ARN)."""
    for destination in logging_configuration.get("destinations") or []:
        arn = (destination.get("cloudWatchLogsLogGroup") or {}).get("logGroupArn") or ""
        if ":log-group:" in arn:
            return arn.split(":log-group:", 1)[1].removesuffix(":*")
    return None


def _epoch_millis(timestamp: Any) -> str:
    if isinstance(timestamp, datetime.datetime):
        moment = timestamp
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(timestamp))
        except ValueError:
            moment = datetime.datetime.now(datetime.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return str(int(moment.timestamp() * 1000))
