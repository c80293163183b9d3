"""Rebuilder handler: replays the whole event store into a fresh read model, account by
account, in version order (the same fold the projector applies)."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from shared.validation import parse_request

from event_sourcing import adapters, logic
from event_sourcing.errors import InvalidCommandError
from event_sourcing.models import Account, RebuildRequest
from event_sourcing.settings import projector_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()

#: Accounts written to the target per batch (BatchWriteItem takes 25 per call).
_WRITE_EVERY = 100


def rebuild(
    store: adapters.EventStore,
    target: adapters.ReadModel,
    *,
    segment: int = 0,
    total_segments: int = 1,
) -> dict[str, int]:
    """Replay every account of one scan segment of `store` into `target`."""
    accounts = events = 0
    pending: list[Account] = []
    for account_id in store.account_ids(segment=segment, total_segments=total_segments):
        history = list(store.events_between(account_id, 1))
        pending.append(logic.fold(Account(account_id=account_id), history))
        accounts += 1
        events += len(history)
        if len(pending) >= _WRITE_EVERY:
            target.put_all(pending)
            pending = []
    if pending:
        target.put_all(pending)
    return {"accounts": accounts, "events": events}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """`{"segment": 0, "total_segments": 1}` (both optional) in; what was replayed out."""
    request = parse_request(
        RebuildRequest,
        event,
        error=InvalidCommandError,
        request="rebuild request",
        shape='{"segment": 0, "total_segments": 1}',
    )
    if request.segment >= request.total_segments:
        raise InvalidCommandError(
            f"invalid rebuild request: segment {request.segment} is not below "
            f"total_segments {request.total_segments}"
        )
    settings = projector_settings()
    started = time.perf_counter()
    replayed = rebuild(
        adapters.event_store(settings.events_table_name, ""),
        adapters.read_model(settings.projection_table_name),
        segment=request.segment,
        total_segments=request.total_segments,
    )
    metrics.add_metric(name="EventsReplayed", unit=MetricUnit.Count, value=replayed["events"])
    logger.info("rebuilt", extra={**replayed, "seconds": time.perf_counter() - started})
    return {**replayed, "segment": request.segment, "total_segments": request.total_segments}
