"""The pub-sub functions' settings, read once from the environment their stack defines."""

from __future__ import annotations

from dataclasses import dataclass

from shared.cache import cached
from shared.settings import require_env

from pub_sub.contract import (
    ENV_IDEMPOTENCY_TABLE_NAME,
    ENV_LEDGER_TABLE_NAME,
    ENV_SUBSCRIBER_NAME,
    ENV_TOPIC_ARN,
    SubscriberName,
)
from pub_sub.errors import InvalidSettingError


@dataclass(frozen=True, kw_only=True)
class PublisherSettings:
    topic_arn: str


@dataclass(frozen=True, kw_only=True)
class SubscriberSettings:
    subscriber: SubscriberName
    ledger_table_name: str
    idempotency_table_name: str


@cached
def publisher_settings() -> PublisherSettings:
    """The publisher's settings (read on first use, not at import)."""
    return PublisherSettings(topic_arn=require_env(ENV_TOPIC_ARN))


@cached
def subscriber_settings() -> SubscriberSettings:
    """A consumer's settings (read on first use, not at import); its subscriber is checked."""
    name = require_env(ENV_SUBSCRIBER_NAME)
    try:
        subscriber = SubscriberName(name)
    except ValueError:
        known = ", ".join(member.value for member in SubscriberName)
        raise InvalidSettingError(
            f"{ENV_SUBSCRIBER_NAME} is {name!r}; this code has effects for: {known}"
        ) from None
    return SubscriberSettings(
        subscriber=subscriber,
        ledger_table_name=require_env(ENV_LEDGER_TABLE_NAME),
        idempotency_table_name=require_env(ENV_IDEMPOTENCY_TABLE_NAME),
    )
