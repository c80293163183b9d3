"""The peer-to-peer functions' settings, read once from the environment their stack sets."""

from __future__ import annotations

import os
from dataclasses import dataclass

from shared.cache import cached
from shared.settings import require_env

from peer_to_peer.contract import (
    ENV_BREAKER_TABLE_NAME,
    ENV_CALL_TIMEOUT_MS,
    ENV_COOL_DOWN_SECONDS,
    ENV_DATA_TABLE_NAME,
    ENV_DISCOVERY_TTL_SECONDS,
    ENV_FAILURE_THRESHOLD,
    ENV_MAX_CALL_DEPTH,
    ENV_NAMESPACE_NAME,
    ENV_PEERS,
    ENV_SERVICE,
    Service,
)
from peer_to_peer.errors import InvalidSettingError


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """What every service knows about itself: its name, its limit on call depth, its table."""

    service: Service
    max_call_depth: int
    #: None for a service that owns no data (checkout).
    data_table_name: str | None


@dataclass(frozen=True, kw_only=True)
class CallerSettings:
    """How a service calls its peers."""

    peers: tuple[Service, ...]
    namespace_name: str
    breaker_table_name: str
    #: The longest one attempt may wait for a peer; the caller's remaining time may cut it.
    call_timeout_ms: int
    failure_threshold: int
    cool_down_seconds: int
    discovery_ttl_seconds: int


def _positive_int(name: str) -> int:
    raw = require_env(name)
    try:
        value = int(raw)
    except ValueError:
        raise InvalidSettingError(f"{name} is {raw!r}, not a whole number") from None
    if value < 1:
        raise InvalidSettingError(f"{name} is {value}, it must be at least 1")
    return value


@cached
def service_settings() -> ServiceSettings:
    """This service's settings (read on first use, not at import)."""
    raw_service = require_env(ENV_SERVICE)
    try:
        service = Service(raw_service)
    except ValueError:
        raise InvalidSettingError(f"{ENV_SERVICE} is {raw_service!r}, not a service") from None
    return ServiceSettings(
        service=service,
        max_call_depth=_positive_int(ENV_MAX_CALL_DEPTH),
        data_table_name=os.environ.get(ENV_DATA_TABLE_NAME) or None,
    )


@cached
def caller_settings() -> CallerSettings:
    """How this service calls its peers (read on first use, not at import)."""
    try:
        peers = tuple(Service(name) for name in require_env(ENV_PEERS).split(",") if name)
    except ValueError as error:
        raise InvalidSettingError(f"{ENV_PEERS}: {error}") from None
    return CallerSettings(
        peers=peers,
        namespace_name=require_env(ENV_NAMESPACE_NAME),
        breaker_table_name=require_env(ENV_BREAKER_TABLE_NAME),
        call_timeout_ms=_positive_int(ENV_CALL_TIMEOUT_MS),
        failure_threshold=_positive_int(ENV_FAILURE_THRESHOLD),
        cool_down_seconds=_positive_int(ENV_COOL_DOWN_SECONDS),
        discovery_ttl_seconds=_positive_int(ENV_DISCOVERY_TTL_SECONDS),
    )
