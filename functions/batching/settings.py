"""The batching functions' settings, read once from the environment their stack defines."""

from __future__ import annotations

from dataclasses import dataclass

from shared.batches import Backoff
from shared.cache import cached
from shared.settings import require_env

from batching.contract import (
    ENV_DEAD_LETTER_QUEUE_URL,
    ENV_ITEMS_TABLE_NAME,
    ENV_MAX_RECEIVE_COUNT,
    ENV_QUEUE_URL,
    ENV_WRITE_BASE_DELAY_MS,
    ENV_WRITE_MAX_ATTEMPTS,
)


def _backoff() -> Backoff:
    return Backoff(
        max_attempts=int(require_env(ENV_WRITE_MAX_ATTEMPTS)),
        base_seconds=int(require_env(ENV_WRITE_BASE_DELAY_MS)) / 1000,
    )


@dataclass(frozen=True, kw_only=True)
class ProducerSettings:
    queue_url: str
    backoff: Backoff


@dataclass(frozen=True, kw_only=True)
class WriterSettings:
    items_table_name: str
    dead_letter_queue_url: str
    max_receive_count: int
    backoff: Backoff


@cached
def producer_settings() -> ProducerSettings:
    """The producer's settings (read on first use, not at import)."""
    return ProducerSettings(queue_url=require_env(ENV_QUEUE_URL), backoff=_backoff())


@cached
def writer_settings() -> WriterSettings:
    """The writer's settings (read on first use, not at import)."""
    return WriterSettings(
        items_table_name=require_env(ENV_ITEMS_TABLE_NAME),
        dead_letter_queue_url=require_env(ENV_DEAD_LETTER_QUEUE_URL),
        max_receive_count=int(require_env(ENV_MAX_RECEIVE_COUNT)),
        backoff=_backoff(),
    )
