"""The pure rules that guard a peer call: the hop's checks, each attempt's time budget, the
backoff with jitter, the fallback answers; and the services' business."""

from __future__ import annotations

import pytest

from peer_to_peer import logic
from peer_to_peer.contract import FallbackReason, Service
from peer_to_peer.errors import CallCycleError, CallDepthExceededError, UnknownSkuError
from peer_to_peer.models import Hop, PeerRequest
from tests.samples import load_event


def _hop(*path: str, deadline: int | None = None) -> Hop:
    return Hop(correlation_id="c-1", call_path=path, deadline_epoch_ms=deadline)


def test_a_request_already_through_the_service_is_refused_as_a_cycle():
    with pytest.raises(CallCycleError, match="checkout -> catalog -> pricing"):
        logic.check_hop(Service.CATALOG, _hop("checkout", "catalog", "pricing"), 4)


def test_a_request_at_the_depth_limit_is_refused_and_one_below_it_is_served():
    logic.check_hop(Service.PRICING, _hop("a", "b", "c"), 4)
    with pytest.raises(CallDepthExceededError, match="call depth 4 reached the limit of 4"):
        logic.check_hop(Service.PRICING, _hop("a", "b", "c", "d"), 4)


def test_a_request_from_outside_the_graph_has_no_hop_to_check():
    logic.check_hop(Service.CHECKOUT, None, 1)


def test_the_deadline_is_the_callers_when_it_comes_before_the_functions_own():
    assert logic.deadline_ms(now_epoch_ms=1_000, remaining_ms=5_000, hop=None) == 6_000
    assert logic.deadline_ms(now_epoch_ms=1_000, remaining_ms=5_000, hop=_hop(deadline=2_000)) == (
        2_000
    )
    assert logic.deadline_ms(now_epoch_ms=1_000, remaining_ms=500, hop=_hop(deadline=9_000)) == (
        1_500
    )


def test_an_attempt_waits_the_call_timeout_cut_to_the_deadline_less_the_reserve():
    assert logic.attempt_budget_ms(
        call_timeout_ms=2_000, now_epoch_ms=0, deadline_epoch_ms=10_000
    ) == (2_000)
    cut = logic.attempt_budget_ms(call_timeout_ms=2_000, now_epoch_ms=0, deadline_epoch_ms=1_000)
    assert cut == 1_000 - logic.RESERVE_MS
    too_little = logic.RESERVE_MS + logic.MIN_ATTEMPT_MS - 1
    assert (
        logic.attempt_budget_ms(call_timeout_ms=2_000, now_epoch_ms=0, deadline_epoch_ms=too_little)
        == 0
    )


def test_a_peer_call_makes_at_most_three_attempts_with_capped_full_jitter_between():
    backoff = logic.PEER_CALL_BACKOFF
    assert backoff.max_attempts == 3
    ceilings = [min(backoff.cap_seconds, backoff.base_seconds * 2**retry) for retry in range(5)]
    assert ceilings == [0.05, 0.1, 0.2, 0.4, 0.4]


def test_the_outgoing_hop_adds_the_service_and_keeps_the_correlation_id():
    hop = logic.outgoing_hop(
        service=Service.CATALOG,
        incoming=_hop("checkout"),
        correlation_id="c-1",
        trace_header="Root=1-x",
        deadline_epoch_ms=5,
    )
    assert hop == Hop(
        correlation_id="c-1",
        trace_header="Root=1-x",
        call_path=("checkout", "catalog"),
        deadline_epoch_ms=5,
    )


def test_each_peers_fallback_claims_nothing_it_does_not_know():
    assert logic.fallback_result(Service.PRICING) == {"unit_price": None, "total": None}
    assert logic.fallback_result(Service.STOCK) == {"available": None}
    assert logic.fallback_result(Service.CATALOG) == {"name": None}
    assert logic.degradation(Service.STOCK, FallbackReason.CIRCUIT_OPEN).reason == "circuit_open"


@pytest.mark.parametrize(
    ("quote", "stock", "status"),
    [
        ({"total": 500}, {"available": 5}, "confirmed"),
        ({"total": 500}, {"available": 1}, "rejected"),
        ({"total": None}, {"available": 5}, "pending"),
        ({"total": 500}, {"available": None}, "pending"),
        ({"total": None}, {"available": 0}, "rejected"),
    ],
)
def test_checkout_confirms_rejects_or_leaves_pending(quote, stock, status):
    assert logic.checkout("A1", 2, {"name": "w"}, quote, stock)["status"] == status


def test_pricing_refuses_an_unknown_product_and_prices_a_known_one():
    with pytest.raises(UnknownSkuError):
        logic.price("X", 1, None)
    assert logic.price("A1", 3, {"unit_price": 250}) == {
        "sku": "A1",
        "unit_price": 250,
        "total": 750,
    }


@pytest.mark.parametrize(
    ("name", "quantity", "call_path"),
    [
        ("checkout_order_line.json", 2, ()),
        ("catalog_from_checkout.json", 1, ("checkout",)),
        ("pricing_from_catalog.json", 1, ("checkout", "catalog")),
        ("stock_from_checkout.json", 2, ("checkout",)),
        ("catalog_cycle.json", 1, ("checkout", "catalog", "pricing")),
    ],
)
def test_the_sample_events_are_valid_requests(name: str, quantity: int, call_path: tuple):
    request = PeerRequest.model_validate(load_event("peer_to_peer", name))

    assert (request.sku, request.quantity) == ("A1", quantity)
    assert (request.hop.call_path if request.hop else ()) == call_path
