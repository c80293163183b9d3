"""The services' handlers on moto: leaves answer from their tables, refusals are answers, and
a caller's circuit for a failing peer opens in the breaker table and then short-circuits."""

from __future__ import annotations

import importlib
from typing import Any

import boto3
import pytest
from shared.cache import reset_caches

from peer_to_peer import adapters
from peer_to_peer.contract import ErrorType, Service, circuit_name
from peer_to_peer.errors import PeerFailedError
from tests.functional.peer_to_peer.conftest import BREAKER_TABLE, NAMESPACE, SETTINGS


def _handler(service: Service) -> Any:
    return importlib.import_module(f"peer_to_peer.{service.value}").handler


def test_pricing_and_stock_answer_from_their_own_tables(as_service, sample_event, context):
    as_service(Service.PRICING)
    priced = _handler(Service.PRICING)(sample_event("pricing_from_catalog.json"), context)
    unknown = _handler(Service.PRICING)({"sku": "nope"}, context)
    as_service(Service.STOCK)
    stock = _handler(Service.STOCK)(sample_event("stock_from_checkout.json"), context)

    assert priced["ok"]
    assert priced["result"] == {"sku": "A1", "unit_price": 250, "total": 250}
    assert priced["correlation_id"] == "order-7"
    assert unknown["error"]["type"] == ErrorType.UNKNOWN_SKU
    assert stock["result"] == {"sku": "A1", "available": 5}


def test_an_invalid_request_and_a_cycle_are_answered_as_refusals(
    as_service, sample_event, context, monkeypatch: pytest.MonkeyPatch
):
    called: list[str] = []
    monkeypatch.setattr(adapters, "invoke_peer", lambda peer, *_: called.append(peer))
    as_service(Service.CHECKOUT)
    invalid = _handler(Service.CHECKOUT)(sample_event("checkout_invalid.json"), context)
    as_service(Service.CATALOG)
    cycle = _handler(Service.CATALOG)(sample_event("catalog_cycle.json"), context)

    assert invalid["ok"] is False
    assert invalid["error"]["type"] == ErrorType.INVALID_REQUEST
    assert "quantity" in invalid["error"]["message"]
    assert cycle["error"]["type"] == ErrorType.CALL_CYCLE
    assert called == []


def test_a_failing_peer_opens_its_circuit_in_the_table_then_is_not_called(
    as_service, fresh_circuits, sample_event, context, monkeypatch: pytest.MonkeyPatch
):
    calls: list[str] = []

    def peers(peer: str, function_arn: str, payload: dict, timeout_ms: int) -> dict:
        calls.append(peer)
        if peer == Service.PRICING:
            raise PeerFailedError(peer, "the peer's handler failed: ResourceNotFoundException")
        assert function_arn.endswith(f":function:{peer}")  # found in Cloud Map
        assert payload["hop"]["call_path"] == ["checkout", "catalog"]
        assert 0 < timeout_ms <= SETTINGS.call_timeout_ms
        return {
            "ok": True,
            "service": peer,
            "correlation_id": "order-7",
            "result": {"available": 3},
        }

    monkeypatch.setattr(adapters, "invoke_peer", peers)
    as_service(Service.CATALOG)
    answers = [
        _handler(Service.CATALOG)(sample_event("catalog_from_checkout.json"), context)
        for _ in range(SETTINGS.failure_threshold + 2)
    ]

    assert calls.count("pricing") == SETTINGS.failure_threshold
    assert [answer["degraded"][0]["reason"] for answer in answers] == ["peer_failed"] * 3 + [
        "circuit_open"
    ] * 2
    assert answers[-1]["result"] == {
        "sku": "A1",
        "name": "Blue widget",
        "unit_price": None,
        "in_stock": True,
    }
    item = boto3.client("dynamodb").get_item(
        TableName=BREAKER_TABLE, Key={"id": {"S": circuit_name(Service.PRICING)}}
    )["Item"]
    assert item["state"] == {"S": "OPEN"}


def test_the_directory_finds_a_peers_function_and_every_registered_instance(deployed: None):
    reset_caches()
    peers = adapters.directory(NAMESPACE)
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:{}".format

    assert peers.get(Service.PRICING.value) == arn("pricing")
    assert peers.get_multiple(Service.STOCK.value) == {"function": arn("stock")}
