"""The items API's settings, read once from the environment its stack defines."""

from __future__ import annotations

from dataclasses import dataclass

from shared.cache import cached
from shared.settings import require_env

from request_response.contract import ENV_IDEMPOTENCY_TABLE_NAME, ENV_TABLE_NAME


@dataclass(frozen=True, kw_only=True)
class ApiSettings:
    table_name: str
    idempotency_table_name: str


@cached
def api_settings() -> ApiSettings:
    """The API function's settings (read on first use, not at import)."""
    return ApiSettings(
        table_name=require_env(ENV_TABLE_NAME),
        idempotency_table_name=require_env(ENV_IDEMPOTENCY_TABLE_NAME),
    )
