"""The API gateway functions' settings, read once from the environment their stack defines."""

from __future__ import annotations

from dataclasses import dataclass

from shared.cache import cached
from shared.settings import require_env

from api_gateway.contract import (
    ENV_CORS_ORIGINS,
    ENV_DEAD_LETTER_QUEUE_URL,
    ENV_FEEDBACK_TABLE_NAME,
    ENV_JWKS_MAX_AGE_SECONDS,
    ENV_JWKS_PARAMETER_NAME,
    ENV_JWT_AUDIENCE,
    ENV_JWT_ISSUER,
    ENV_MAX_RECEIVE_COUNT,
    ENV_ORDERS_TABLE_NAME,
)


@dataclass(frozen=True, kw_only=True)
class AuthorizerSettings:
    issuer: str
    audience: str
    jwks_parameter_name: str
    jwks_max_age_seconds: int


@cached
def authorizer_settings() -> AuthorizerSettings:
    """The authorizer's settings (read on first use, not at import)."""
    return AuthorizerSettings(
        issuer=require_env(ENV_JWT_ISSUER),
        audience=require_env(ENV_JWT_AUDIENCE),
        jwks_parameter_name=require_env(ENV_JWKS_PARAMETER_NAME),
        jwks_max_age_seconds=int(require_env(ENV_JWKS_MAX_AGE_SECONDS)),
    )


@cached
def orders_table_name() -> str:
    return require_env(ENV_ORDERS_TABLE_NAME)


@dataclass(frozen=True, kw_only=True)
class ConsumerSettings:
    feedback_table_name: str
    dead_letter_queue_url: str
    max_receive_count: int


@cached
def consumer_settings() -> ConsumerSettings:
    """The feedback consumer's settings (read on first use, not at import)."""
    return ConsumerSettings(
        feedback_table_name=require_env(ENV_FEEDBACK_TABLE_NAME),
        dead_letter_queue_url=require_env(ENV_DEAD_LETTER_QUEUE_URL),
        max_receive_count=int(require_env(ENV_MAX_RECEIVE_COUNT)),
    )


@cached
def cors_origins() -> frozenset[str]:
    """The browser origins the Lambda services answer with CORS headers."""
    return frozenset(origin for origin in require_env(ENV_CORS_ORIGINS).split(",") if origin)
