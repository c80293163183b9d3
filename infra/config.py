"""Typed application configuration, read once from CDK context at the top of the app."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Stage(StrEnum):
    """Deployment stage: drives what survives a `cdk destroy` and how long logs are kept."""

    DEV = "dev"
    PROD = "prod"


class ConfigError(ValueError):
    """Raised when CDK context holds a value the app cannot use."""


@dataclass(frozen=True, kw_only=True)
class AppConfig:
    """Everything the stacks need to know about where and how they are deployed.

    Built by `from_context` from the `cdk.json` context (overridable with `-c key=value`);
    nothing below `app.py` reads context or the environment itself.
    """

    stage: Stage = Stage.DEV
    alarm_email: str | None = None

    @property
    def is_production(self) -> bool:
        return self.stage is Stage.PROD

    @property
    def removal_policy(self) -> RemovalPolicy:
        """Stateful resources are kept on stack deletion in prod, deleted in dev."""
        return RemovalPolicy.RETAIN if self.is_production else RemovalPolicy.DESTROY

    @property
    def log_retention(self) -> logs.RetentionDays:
        return logs.RetentionDays.ONE_YEAR if self.is_production else logs.RetentionDays.ONE_WEEK

    @property
    def deletion_protection(self) -> bool:
        return self.is_production

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> AppConfig:
        """Build the config from CDK context values (strings from `-c`, or JSON values)."""
        raw_stage = str(context.get("stage") or Stage.DEV.value).lower()
        try:
            stage = Stage(raw_stage)
        except ValueError:
            allowed = ", ".join(s.value for s in Stage)
            raise ConfigError(
                f"context 'stage' must be one of {allowed}, got {raw_stage!r}"
            ) from None
        alarm_email = context.get("alarm_email") or None
        if alarm_email is not None and not _EMAIL.match(str(alarm_email)):
            raise ConfigError(f"context 'alarm_email' is not an e-mail address: {alarm_email!r}")
        return cls(stage=stage, alarm_email=alarm_email)
