"""The ETL functions' settings, read once from the environment their stack defines."""

from __future__ import annotations

from dataclasses import dataclass

from shared.cache import cached
from shared.settings import require_env

from etl.contract import (
    ENV_DATA_BUCKET_NAME,
    ENV_GLUE_DATABASE_NAME,
    ENV_TABLE_NAME,
    ENV_WAREHOUSE_LOCATION,
)


@dataclass(frozen=True, kw_only=True)
class TransformSettings:
    data_bucket_name: str


@dataclass(frozen=True, kw_only=True)
class LoadSettings:
    data_bucket_name: str
    glue_database_name: str
    table_name: str
    warehouse_location: str


@cached
def transform_settings() -> TransformSettings:
    """The transform function's settings (read on first use, not at import)."""
    return TransformSettings(data_bucket_name=require_env(ENV_DATA_BUCKET_NAME))


@cached
def load_settings() -> LoadSettings:
    """The load function's settings (read on first use, not at import)."""
    return LoadSettings(
        data_bucket_name=require_env(ENV_DATA_BUCKET_NAME),
        glue_database_name=require_env(ENV_GLUE_DATABASE_NAME),
        table_name=require_env(ENV_TABLE_NAME),
        warehouse_location=require_env(ENV_WAREHOUSE_LOCATION),
    )
