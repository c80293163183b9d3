"""Load handler: a run's staged rows merged on the natural key into the Iceberg table, the
rows that lost set aside with their reason, the landed files archived, and the run's account."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from shared.validation import parse_request

from etl import adapters, logic
from etl.errors import InvalidRunInputError
from etl.models import LoadRequest, Order
from etl.settings import load_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()

SUPERSEDED_QUARANTINE_NAME = "superseded"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """`{"run_id": ..., "files": [FileSummary, ...]}` in, the run's account out.

    Safe to run again (a Step Functions retry, a replay): the merge writes nothing for rows
    the table already holds, and archiving a file already archived is skipped.
    """
    request = parse_request(
        LoadRequest,
        event,
        error=InvalidRunInputError,
        request="load request",
        shape='{"run_id": "...", "files": [...]}',
    )
    settings = load_settings()
    bucket = adapters.data_bucket(settings.data_bucket_name)

    staged: list[Order] = []
    for summary in request.files:
        if summary.staged_key:
            body = bucket.read(summary.staged_key)
            if body is None:
                raise InvalidRunInputError(f"staged rows {summary.staged_key} are missing")
            staged += [Order.model_validate(row) for row in logic.from_json_lines(body)]
    merged = logic.merge(staged)
    table = adapters.orders_table(
        settings.glue_database_name, settings.table_name, settings.warehouse_location
    )
    fresh, stale = logic.drop_stale(
        merged.winners, table.updated_at([order.order_id for order in merged.winners])
    )
    superseded = [*merged.superseded, *stale]
    superseded_key = None
    if superseded:
        superseded_key = logic.quarantine_key(request.run_id, SUPERSEDED_QUARANTINE_NAME)
        bucket.write(superseded_key, logic.to_json_lines(q.to_json_dict() for q in superseded))
    counts = table.upsert(fresh)

    rows_in = sum(summary.rows_in for summary in request.files)
    rows_quarantined = sum(s.rows_quarantined for s in request.files) + len(superseded)
    logic.check_accounting(
        rows_in=rows_in, rows_loaded=len(fresh), rows_quarantined=rows_quarantined
    )
    # Archived last: a run that fails before this point leaves its files landed, so the next
    # run (or this one's retry) reads them again, and the merge makes that harmless.
    archived = sum(
        bucket.move(summary.source_key, logic.archive_key(request.run_id, summary.source_key))
        for summary in request.files
        if not summary.taken_by_another_run
    )
    metrics.add_metric(name="RowsLoaded", unit=MetricUnit.Count, value=len(fresh))
    metrics.add_metric(name="RowsQuarantined", unit=MetricUnit.Count, value=rows_quarantined)
    summary = {
        "run_id": request.run_id,
        "files": len(request.files),
        "files_archived": archived,
        "rows_in": rows_in,
        "rows_loaded": len(fresh),
        "rows_quarantined": rows_quarantined,
        "rows_inserted": counts.inserted,
        "rows_updated": counts.updated,
        "quarantine_keys": sorted(
            key
            for key in [*(s.quarantine_key for s in request.files), superseded_key]
            if key is not None
        ),
    }
    logger.info("run loaded", extra=summary)
    return summary
