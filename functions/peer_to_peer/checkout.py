"""Checkout service: an order line confirmed, rejected or left pending, from the catalog's
description, pricing's quote and stock's availability (each may be its fallback)."""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from peer_to_peer import logic, peers
from peer_to_peer.contract import Service
from peer_to_peer.models import PeerRequest

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# Metrics appear only when a peer falls back; Powertools would warn on every healthy call.
warnings.filterwarnings("ignore", "No application metrics to publish")


def work(request: PeerRequest, caller: peers.PeerCaller | None) -> dict[str, Any]:
    assert caller is not None, "checkout calls peers"
    product = caller.call(Service.CATALOG, request)
    quote = caller.call(Service.PRICING, request)
    stock = caller.call(Service.STOCK, request)
    return logic.checkout(request.sku, request.quantity, product, quote, stock)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return peers.serve(event, context, logger=logger, metrics=metrics, work=work)
