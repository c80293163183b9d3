"""The items API's settings, read once from the environment its stack defines."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from shared.settings import require_env


@dataclass(frozen=True)
class Settings:
    table_name: str
    idempotency_table_name: str


@functools.cache
def get_settings() -> Settings:
    """The settings of this execution environment (read on first use, not at import)."""
    return Settings(
        table_name=require_env("TABLE_NAME"),
        idempotency_table_name=require_env("IDEMPOTENCY_TABLE_NAME"),
    )
