"""The pub-sub functions' settings, read once from the environment their stack defines."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from shared.settings import require_env

from pub_sub.errors import InvalidSettingError
from pub_sub.models import SubscriberName


@dataclass(frozen=True, kw_only=True)
class PublisherSettings:
    topic_arn: str


@dataclass(frozen=True, kw_only=True)
class SubscriberSettings:
    subscriber: SubscriberName
    ledger_table_name: str
    idempotency_table_name: str


@functools.cache
def publisher_settings() -> PublisherSettings:
    return PublisherSettings(topic_arn=require_env("TOPIC_ARN"))


@functools.cache
def subscriber_settings() -> SubscriberSettings:
    name = require_env("SUBSCRIBER_NAME")
    try:
        subscriber = SubscriberName(name)
    except ValueError:
        known = ", ".join(member.value for member in SubscriberName)
        raise InvalidSettingError(
            f"SUBSCRIBER_NAME is {name!r}; this code has effects for: {known}"
        ) from None
    return SubscriberSettings(
        subscriber=subscriber,
        ledger_table_name=require_env("LEDGER_TABLE_NAME"),
        idempotency_table_name=require_env("IDEMPOTENCY_TABLE_NAME"),
    )
