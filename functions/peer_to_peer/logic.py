"""Pure rules of the peer-to-peer pattern (no boto3): the hop's checks and how it grows, each
attempt's time budget, backoff with jitter, which failures are retried, the fallback answers
and each service's business."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.batches import Backoff

from peer_to_peer.contract import FallbackReason, Service
from peer_to_peer.errors import CallCycleError, CallDepthExceededError, UnknownSkuError
from peer_to_peer.models import Degradation, Hop

#: What a caller keeps of its own remaining time for itself: enough to answer with a fallback
#: after its last attempt gave up, so a slow peer never makes it time out.
RESERVE_MS = 250
#: An attempt with less time than this is not worth starting (an invoke's own overhead).
MIN_ATTEMPT_MS = 50


#: At most 3 attempts per call; before retry n (0 for the first), a wait drawn uniformly from
#: [0, min(0.4 s, 0.05 s * 2**n)] ("full jitter"), so callers that failed together do not come
#: back together. The deadline may allow fewer.
PEER_CALL_BACKOFF = Backoff(max_attempts=3, base_seconds=0.05, cap_seconds=0.4)


def check_hop(service: Service, hop: Hop | None, max_call_depth: int) -> None:
    """Refuse a request that would loop back into `service` or go deeper than allowed."""
    if hop is None:
        return
    if service.value in hop.call_path:
        raise CallCycleError(
            f"{service.value} is already on the call path {' -> '.join(hop.call_path)}"
        )
    if len(hop.call_path) >= max_call_depth:
        raise CallDepthExceededError(
            f"call depth {len(hop.call_path)} reached the limit of {max_call_depth} "
            f"({' -> '.join(hop.call_path)})"
        )


def deadline_ms(*, now_epoch_ms: int, remaining_ms: int, hop: Hop | None) -> int:
    """When this service must have answered: its own timeout, or its caller's deadline if
    that comes first."""
    own = now_epoch_ms + remaining_ms
    if hop is None or hop.deadline_epoch_ms is None:
        return own
    return min(own, hop.deadline_epoch_ms)


def outgoing_hop(
    *,
    service: Service,
    incoming: Hop | None,
    correlation_id: str,
    trace_header: str | None,
    deadline_epoch_ms: int,
) -> Hop:
    """The hop this service sends its peers: the same correlation id, itself added to the path,
    its own trace header, and its deadline."""
    return Hop(
        correlation_id=correlation_id,
        trace_header=trace_header,
        call_path=(*(incoming.call_path if incoming else ()), service.value),
        deadline_epoch_ms=deadline_epoch_ms,
    )


def attempt_budget_ms(*, call_timeout_ms: int, now_epoch_ms: int, deadline_epoch_ms: int) -> int:
    """How long the next attempt may wait: the call timeout, cut to what is left before the
    deadline less `RESERVE_MS`; 0 when that is less than `MIN_ATTEMPT_MS`."""
    left = deadline_epoch_ms - now_epoch_ms - RESERVE_MS
    budget = min(call_timeout_ms, left)
    return budget if budget >= MIN_ATTEMPT_MS else 0


def fallback_result(peer: Service) -> dict[str, Any]:
    """What a caller assumes when `peer` cannot answer: nothing it does not know."""
    match peer:
        case Service.PRICING:
            return {"unit_price": None, "total": None}
        case Service.STOCK:
            return {"available": None}
        case Service.CATALOG:
            return {"name": None}
        case _:
            return {}


def degradation(peer: Service, reason: FallbackReason) -> Degradation:
    return Degradation(peer=peer.value, reason=reason.value)


# -- each service's business ---------------------------------------------------------------


def price(sku: str, quantity: int, item: Mapping[str, Any] | None) -> dict[str, Any]:
    """Pricing: the unit price in cents and the total for `quantity`."""
    if item is None:
        raise UnknownSkuError(f"no price for {sku}")
    unit = int(item["unit_price"])
    return {"sku": sku, "unit_price": unit, "total": unit * quantity}


def availability(sku: str, item: Mapping[str, Any] | None) -> dict[str, Any]:
    """Stock: units available (an unknown product has none)."""
    return {"sku": sku, "available": int(item["available"]) if item else 0}


def describe(
    sku: str,
    item: Mapping[str, Any] | None,
    price_result: Mapping[str, Any],
    stock_result: Mapping[str, Any],
) -> dict[str, Any]:
    """Catalog: the product, its price and whether it is in stock (None: not known now)."""
    if item is None:
        raise UnknownSkuError(f"{sku} is not in the catalog")
    available = stock_result.get("available")
    return {
        "sku": sku,
        "name": item["name"],
        "unit_price": price_result.get("unit_price"),
        "in_stock": None if available is None else available > 0,
    }


def checkout(
    sku: str,
    quantity: int,
    product: Mapping[str, Any],
    quote: Mapping[str, Any],
    stock: Mapping[str, Any],
) -> dict[str, Any]:
    """Checkout: `confirmed` when priced and in stock, `rejected` when short of stock,
    `pending` (confirmed later) when the price or the stock is not known now."""
    available, total = stock.get("available"), quote.get("total")
    if available is not None and available < quantity:
        status = "rejected"
    elif total is None or available is None:
        status = "pending"
    else:
        status = "confirmed"
    return {
        "sku": sku,
        "name": product.get("name"),
        "quantity": quantity,
        "total": total,
        "status": status,
    }
