"""The orchestration functions' settings, read once from the environment their stack defines."""

from __future__ import annotations

from dataclasses import dataclass

from shared.batches import Backoff
from shared.cache import cached
from shared.settings import require_env

from orchestration.contract import (
    ENV_APPROVAL_THRESHOLD_CENTS,
    ENV_APPROVAL_TIMEOUT_SECONDS,
    ENV_DURABLE_FUNCTION_ARN,
    ENV_MAX_CONCURRENCY,
    ENV_RETRY_BASE_SECONDS,
    ENV_RETRY_MAX_ATTEMPTS,
    ENV_STATE_MACHINE_ARN,
    ENV_TABLE_NAME,
)


@dataclass(frozen=True, kw_only=True)
class StarterSettings:
    """What the API and the event starter need: where orders live and what runs them."""

    table_name: str
    state_machine_arn: str
    durable_function_arn: str


@dataclass(frozen=True, kw_only=True)
class StepsSettings:
    """What the participants need (the Step Functions tasks' function)."""

    table_name: str
    approval_threshold_cents: int


@dataclass(frozen=True, kw_only=True)
class DurableSettings:
    """What the durable function needs: the participants' settings and its own saga's."""

    table_name: str
    approval_threshold_cents: int
    approval_timeout_seconds: int
    max_concurrency: int
    backoff: Backoff


@cached
def starter_settings() -> StarterSettings:
    """The API's and the event starter's settings (read on first use, not at import)."""
    return StarterSettings(
        table_name=require_env(ENV_TABLE_NAME),
        state_machine_arn=require_env(ENV_STATE_MACHINE_ARN),
        durable_function_arn=require_env(ENV_DURABLE_FUNCTION_ARN),
    )


@cached
def steps_settings() -> StepsSettings:
    """The steps function's settings (read on first use, not at import)."""
    return StepsSettings(
        table_name=require_env(ENV_TABLE_NAME),
        approval_threshold_cents=int(require_env(ENV_APPROVAL_THRESHOLD_CENTS)),
    )


@cached
def durable_settings() -> DurableSettings:
    """The durable function's settings (read on first use, not at import)."""
    return DurableSettings(
        table_name=require_env(ENV_TABLE_NAME),
        approval_threshold_cents=int(require_env(ENV_APPROVAL_THRESHOLD_CENTS)),
        approval_timeout_seconds=int(require_env(ENV_APPROVAL_TIMEOUT_SECONDS)),
        max_concurrency=int(require_env(ENV_MAX_CONCURRENCY)),
        backoff=Backoff(
            max_attempts=int(require_env(ENV_RETRY_MAX_ATTEMPTS)),
            base_seconds=float(require_env(ENV_RETRY_BASE_SECONDS)),
            cap_seconds=60.0,
        ),
    )
