"""Transform handler: one landed file in (a Distributed Map item), its rows normalized and
staged, its bad rows quarantined with their reasons, and the counts out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from shared.validation import parse_request

from etl import adapters, logic
from etl.errors import InvalidRunInputError
from etl.models import FileSummary, TransformRequest
from etl.settings import transform_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """`{"run_id": ..., "key": "landing/..."}` in, a `FileSummary` out.

    Bad rows never fail the invocation (they are quarantined); a read or write the bucket
    refuses raises `SourceUnavailableError`, which the state machine retries.
    """
    request = parse_request(
        TransformRequest,
        event,
        error=InvalidRunInputError,
        request="transform request",
        shape='{"run_id": "...", "key": "landing/..."}',
    )
    key = logic.landing_key(request.key)
    bucket = adapters.data_bucket(transform_settings().data_bucket_name)
    body = bucket.read(key)
    if body is None:
        logger.info("file already taken by another run", extra={"key": key})
        return FileSummary(
            source_key=key,
            staged_key=None,
            quarantine_key=None,
            rows_in=0,
            rows_valid=0,
            rows_quarantined=0,
            taken_by_another_run=True,
        ).model_dump()

    result = logic.read_file(key, body)
    staged_key = quarantine_key = None
    if result.orders:
        staged_key = logic.staged_key(request.run_id, key)
        bucket.write(staged_key, logic.to_json_lines(o.to_json_dict() for o in result.orders))
    if result.quarantined:
        quarantine_key = logic.file_quarantine_key(request.run_id, key)
        bucket.write(
            quarantine_key, logic.to_json_lines(q.to_json_dict() for q in result.quarantined)
        )
        for row in result.quarantined:
            logger.warning(
                "row quarantined",
                extra={"key": key, "line": row.line, "kind": row.kind, "reason": row.reason},
            )
    metrics.add_metric(name="RowsRead", unit=MetricUnit.Count, value=result.rows_in)
    metrics.add_metric(name="RowsQuarantined", unit=MetricUnit.Count, value=len(result.quarantined))
    return FileSummary(
        source_key=key,
        staged_key=staged_key,
        quarantine_key=quarantine_key,
        rows_in=result.rows_in,
        rows_valid=len(result.orders),
        rows_quarantined=len(result.quarantined),
    ).model_dump()
