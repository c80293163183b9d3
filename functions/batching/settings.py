"""The batching functions' settings, read once from the environment their stack defines."""

from __future__ import annotations

from dataclasses import dataclass

from shared.cache import cached
from shared.settings import require_env

from batching.contract import (
    ENV_DEAD_LETTER_QUEUE_URL,
    ENV_ITEMS_TABLE_NAME,
    ENV_MAX_RECEIVE_COUNT,
    ENV_QUEUE_URL,
)


@dataclass(frozen=True, kw_only=True)
class ProducerSettings:
    queue_url: str


@dataclass(frozen=True, kw_only=True)
class WriterSettings:
    items_table_name: str
    dead_letter_queue_url: str
    max_receive_count: int


@cached
def producer_settings() -> ProducerSettings:
    """The producer's settings (read on first use, not at import)."""
    return ProducerSettings(queue_url=require_env(ENV_QUEUE_URL))


@cached
def writer_settings() -> WriterSettings:
    """The writer's settings (read on first use, not at import)."""
    return WriterSettings(
        items_table_name=require_env(ENV_ITEMS_TABLE_NAME),
        dead_letter_queue_url=require_env(ENV_DEAD_LETTER_QUEUE_URL),
        max_receive_count=int(require_env(ENV_MAX_RECEIVE_COUNT)),
    )
