"""Typed application configuration, read once from CDK context at the top of the app."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LAYER_VERSION_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]{1,140}:[1-9]\d*$"
)


class Stage(StrEnum):
    """Deployment stage: drives what survives a `cdk destroy` and how long logs are kept."""

    DEV = "dev"
    PROD = "prod"


class PowertoolsSource(StrEnum):
    """Where the functions get Powertools (and pydantic) from, chosen by context `powertools`."""

    #: The official public layer, its ARN read at deploy time from AWS's public SSM parameter.
    SSM_PARAMETER = "ssm"
    #: A layer the user names by its version ARN (context `powertools` set to that ARN), for
    #: accounts or emulators without AWS's public parameter.
    LAYER_ARN = "layer-arn"
    #: Installed into each function's asset at synth (for Lambda's Python and architecture),
    #: for anywhere no layer is reachable.
    BUNDLED = "bundled"


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
    powertools: PowertoolsSource = PowertoolsSource.SSM_PARAMETER
    #: Set exactly when `powertools` is `LAYER_ARN`.
    powertools_layer_arn: str | None = None
    #: Concurrent batches per shard of the stream-processing aggregator (1 to 10).
    stream_parallelization_factor: int = 2
    #: Whether the stream-processing aggregator reads through a dedicated (enhanced fan-out)
    #: stream consumer.
    stream_enhanced_fan_out: bool = False

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
        powertools, layer_arn = _powertools_source(context.get("powertools"))
        return cls(
            stage=stage,
            alarm_email=alarm_email,
            powertools=powertools,
            powertools_layer_arn=layer_arn,
            **_stream_processing_settings(context),
        )


def _stream_processing_settings(context: dict[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    raw_factor = context.get("stream_parallelization_factor")
    if raw_factor not in (None, ""):
        try:
            factor = int(str(raw_factor))
        except ValueError:
            factor = 0
        if not 1 <= factor <= 10:
            raise ConfigError(
                "context 'stream_parallelization_factor' must be a whole number from 1 to 10, "
                f"got {raw_factor!r}"
            )
        settings["stream_parallelization_factor"] = factor
    raw_fan_out = context.get("stream_enhanced_fan_out")
    if raw_fan_out not in (None, ""):
        flag = str(raw_fan_out).strip().lower()
        if flag not in ("true", "false"):
            raise ConfigError(
                f"context 'stream_enhanced_fan_out' must be true or false, got {raw_fan_out!r}"
            )
        settings["stream_enhanced_fan_out"] = flag == "true"
    return settings


def _powertools_source(raw: Any) -> tuple[PowertoolsSource, str | None]:
    value = str(raw or PowertoolsSource.SSM_PARAMETER.value).strip()
    if value.startswith("arn:"):
        if not _LAYER_VERSION_ARN.match(value):
            raise ConfigError(
                "context 'powertools' is not a Lambda layer version ARN "
                f"(arn:aws:lambda:<region>:<account>:layer:<name>:<version>): {value!r}"
            )
        return PowertoolsSource.LAYER_ARN, value
    if value.lower() in (PowertoolsSource.SSM_PARAMETER, PowertoolsSource.BUNDLED):
        return PowertoolsSource(value.lower()), None
    raise ConfigError(
        "context 'powertools' must be 'ssm' (the public layer, the default), 'bundled' "
        f"(installed into each function's asset) or a layer version ARN, got {value!r}"
    )
