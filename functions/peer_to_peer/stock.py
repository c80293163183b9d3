"""Stock service: units available of a product, from its own table (calls no peer)."""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from peer_to_peer import adapters, logic, peers
from peer_to_peer.models import PeerRequest
from peer_to_peer.settings import service_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# A leaf publishes no metric of its own; Powertools would warn on every invocation.
warnings.filterwarnings("ignore", "No application metrics to publish")


def work(request: PeerRequest, _caller: peers.PeerCaller | None) -> dict[str, Any]:
    table = adapters.data_table(str(service_settings().data_table_name))
    return logic.availability(request.sku, table.get(request.sku))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return peers.serve(event, context, logger=logger, metrics=metrics, work=work)
