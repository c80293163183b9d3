"""The event-sourcing functions' settings, read once from the environment their stack sets."""

from __future__ import annotations

from dataclasses import dataclass

from shared.cache import cached
from shared.settings import require_env

from event_sourcing.contract import (
    ENV_EVENTS_TABLE_NAME,
    ENV_PROJECTION_TABLE_NAME,
    ENV_SNAPSHOT_INTERVAL,
    ENV_SNAPSHOTS_TABLE_NAME,
)
from event_sourcing.errors import InvalidSettingError


@dataclass(frozen=True, kw_only=True)
class StoreSettings:
    events_table_name: str
    snapshots_table_name: str
    #: A snapshot is written once the last one is this many events behind.
    snapshot_interval: int


@dataclass(frozen=True, kw_only=True)
class ProjectorSettings:
    events_table_name: str
    projection_table_name: str


@cached
def store_settings() -> StoreSettings:
    """The API's settings (read on first use, not at import); the interval is checked."""
    raw = require_env(ENV_SNAPSHOT_INTERVAL)
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidSettingError(f"{ENV_SNAPSHOT_INTERVAL} is {raw!r}, not a whole number >= 1")
    return StoreSettings(
        events_table_name=require_env(ENV_EVENTS_TABLE_NAME),
        snapshots_table_name=require_env(ENV_SNAPSHOTS_TABLE_NAME),
        snapshot_interval=int(raw),
    )


@cached
def projector_settings() -> ProjectorSettings:
    """The projector's settings (read on first use, not at import)."""
    return ProjectorSettings(
        events_table_name=require_env(ENV_EVENTS_TABLE_NAME),
        projection_table_name=require_env(ENV_PROJECTION_TABLE_NAME),
    )
