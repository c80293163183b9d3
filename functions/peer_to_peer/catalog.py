"""Catalog service: a product's name from its own table, with its price (pricing) and whether
it is in stock (stock); either peer may be replaced by its fallback."""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from peer_to_peer import adapters, logic, peers
from peer_to_peer.contract import Service
from peer_to_peer.models import PeerRequest
from peer_to_peer.settings import service_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# Metrics appear only when a peer falls back; Powertools would warn on every healthy call.
warnings.filterwarnings("ignore", "No application metrics to publish")


def work(request: PeerRequest, caller: peers.PeerCaller | None) -> dict[str, Any]:
    assert caller is not None, "catalog calls peers"
    item = adapters.data_table(str(service_settings().data_table_name)).get(request.sku)
    if item is None:
        return logic.describe(request.sku, None, {}, {})
    single = request.model_copy(update={"quantity": 1})
    return logic.describe(
        request.sku, item, caller.call(Service.PRICING, single), caller.call(Service.STOCK, single)
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return peers.serve(event, context, logger=logger, metrics=metrics, work=work)
