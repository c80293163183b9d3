"""Idempotent creates: Powertools idempotency on DynamoDB, keyed by the Idempotency-Key header."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared import aws
from shared.cache import cached

from request_response.adapters import is_transient
from request_response.errors import (
    IdempotencyKeyReusedError,
    RequestInProgressError,
    StorageUnavailableError,
)
from request_response.settings import api_settings

#: How long a key's first answer is replayed. A day covers any sane client retry loop;
#: after that the key may be reused for a new request.
IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class _Replay:
    """Marks an answer that came from the idempotency table rather than a fresh create."""

    response: dict[str, Any]


def _mark_replay(response: dict[str, Any], _record: object) -> _Replay:
    return _Replay(response)


def _create(request: dict[str, Any], create: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    return create(request["payload"])


@cached
def idempotent_creator() -> tuple[Callable[..., Any], Any]:
    """The idempotent wrapper of `_create` and its config, built on first use.

    Importing idempotency and creating its DynamoDB client costs ~0.2 s of cold start, which
    the read routes never pay.
    """
    from aws_lambda_powertools.utilities.idempotency import (
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(
        # The key is scoped by caller, so two callers' keys never collide once an authorizer
        # sets `caller`; without one, every caller shares the key space.
        event_key_jmespath="[caller, key]",
        # The same key with another body is a client bug, reported rather than replayed.
        payload_validation_jmespath="payload",
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
        response_hook=_mark_replay,
    )
    persistence = aws.idempotency_store(api_settings().idempotency_table_name)
    wrapped = idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=config
    )(_create)
    return wrapped, config


def create_once(
    *,
    key: str,
    caller: str | None,
    payload: dict[str, Any],
    create: Callable[[dict[str, Any]], dict[str, Any]],
    lambda_context: Any,
) -> tuple[dict[str, Any], bool]:
    """Run `create(payload)` once per (`caller`, `key`); later calls get the first result.

    Returns the result and whether it was replayed. Raises `IdempotencyKeyReusedError` when
    the key was used with another payload, `RequestInProgressError` while the first call
    with the key is still running, and `StorageUnavailableError` when the idempotency table
    is throttled. If `create` raises, nothing is recorded and a retry runs
    it again.
    """
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    wrapped, config = idempotent_creator()
    # Lets an in-progress record expire with this invocation, so a create killed by a
    # timeout does not block retries with the same key for the whole TTL.
    config.register_lambda_context(lambda_context)
    try:
        result = wrapped(request={"caller": caller, "key": key, "payload": payload}, create=create)
    except IdempotencyValidationError as error:
        raise IdempotencyKeyReusedError from error
    except IdempotencyAlreadyInProgressError as error:
        raise RequestInProgressError from error
    except IdempotencyPersistenceLayerError as error:
        # A throttled idempotency table is the same "retry later" as a throttled items table
        # (503); any other failure of the store is a fault, left to fail the invocation.
        if is_transient(error.__cause__):
            raise StorageUnavailableError from error
        raise
    if isinstance(result, _Replay):
        return result.response, True
    return result, False
