"""The stream-processing functions' settings, read once from the environment their stack sets."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from shared.cache import cached
from shared.settings import require_env

from stream_processing.contract import (
    ENV_AGGREGATES_TABLE_NAME,
    ENV_ALERT_THRESHOLD,
    ENV_ALERT_TOPIC_ARN,
    ENV_IDEMPOTENCY_TABLE_NAME,
    ENV_REJECTED_RECORDS_QUEUE_URL,
    ENV_STREAM_NAME,
)
from stream_processing.errors import InvalidSettingError


@dataclass(frozen=True, kw_only=True)
class ProducerSettings:
    stream_name: str
    idempotency_table_name: str


@dataclass(frozen=True, kw_only=True)
class AggregatorSettings:
    aggregates_table_name: str
    alert_topic_arn: str
    rejected_records_queue_url: str
    #: A key whose window maximum reaches this value raises one alert for that window.
    alert_threshold: Decimal


@cached
def producer_settings() -> ProducerSettings:
    """The producer's settings (read on first use, not at import)."""
    return ProducerSettings(
        stream_name=require_env(ENV_STREAM_NAME),
        idempotency_table_name=require_env(ENV_IDEMPOTENCY_TABLE_NAME),
    )


@cached
def aggregator_settings() -> AggregatorSettings:
    """The aggregator's settings (read on first use, not at import); the threshold is checked."""
    raw_threshold = require_env(ENV_ALERT_THRESHOLD)
    try:
        threshold = Decimal(raw_threshold)
    except InvalidOperation:
        raise InvalidSettingError(
            f"{ENV_ALERT_THRESHOLD} is {raw_threshold!r}, not a number"
        ) from None
    if not threshold.is_finite():
        raise InvalidSettingError(f"{ENV_ALERT_THRESHOLD} is {raw_threshold!r}, not finite")
    return AggregatorSettings(
        aggregates_table_name=require_env(ENV_AGGREGATES_TABLE_NAME),
        alert_topic_arn=require_env(ENV_ALERT_TOPIC_ARN),
        rejected_records_queue_url=require_env(ENV_REJECTED_RECORDS_QUEUE_URL),
        alert_threshold=threshold,
    )
