"""The API gateway's pure rules: bearer headers, scopes to policies, orders, feedback messages."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from api_gateway import logic
from api_gateway.contract import ROUTES, Scope
from api_gateway.errors import (
    IdempotencyKeyReusedError,
    InvalidFeedbackError,
    UnauthorizedError,
    UnknownItemError,
)
from api_gateway.models import OrderRequest

METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/catalog/items"
STAGE_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1"


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer abc.def.ghi", "abc.def.ghi")],
)
def test_bearer_token_is_the_jwt_after_the_scheme(header, token):
    assert logic.bearer_token(header) == token


@pytest.mark.parametrize(
    "header", [None, "", "abc.def.ghi", "Basic dXNlcg==", "Bearer ", "Bearer a b"]
)
def test_anything_but_a_bearer_token_is_unauthorized(header):
    with pytest.raises(UnauthorizedError, match=r"^Unauthorized$"):
        logic.bearer_token(header)


@pytest.mark.parametrize("claims", [{}, {"sub": ""}, {"sub": "  "}, {"sub": 7}])
def test_a_token_naming_no_one_is_unauthorized(claims):
    with pytest.raises(UnauthorizedError):
        logic.principal(claims)


def test_scopes_come_from_scope_or_scp():
    assert logic.token_scopes({"scope": "orders:read catalog:read"}) == {
        "orders:read",
        "catalog:read",
    }
    assert logic.token_scopes({"scp": ["orders:write", 3]}) == {"orders:write"}
    assert logic.token_scopes({}) == frozenset()


def test_the_policy_allows_every_route_the_scopes_grant_on_the_whole_stage():
    response = logic.authorizer_response(
        principal="alice",
        scopes=frozenset({Scope.ORDERS_READ, Scope.CATALOG_READ, "profile"}),
        method_arn=METHOD_ARN,
    )

    [statement] = response["policyDocument"]["Statement"]
    assert response["principalId"] == "alice"
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == [
        f"{STAGE_ARN}/GET/catalog/items",
        f"{STAGE_ARN}/GET/orders/*",
    ]
    # Only the API's own scopes travel to the backends.
    assert response["context"] == {"scope": "catalog:read orders:read"}


def test_a_token_with_none_of_the_apis_scopes_is_denied_everything():
    response = logic.authorizer_response(
        principal="bob", scopes=frozenset({"profile"}), method_arn=METHOD_ARN
    )

    [statement] = response["policyDocument"]["Statement"]
    assert (statement["Effect"], statement["Resource"]) == ("Deny", [f"{STAGE_ARN}/*"])


def test_every_route_has_a_scope_of_its_own_backend():
    assert {route.scope for route in ROUTES} == set(Scope)
    assert len({(route.method, route.path) for route in ROUTES}) == len(ROUTES)


def test_an_order_is_priced_from_the_catalog_and_named_by_customer_and_key():
    request = OrderRequest(item_id="red-widget", quantity=3)

    order = logic.new_order(request, customer="alice", idempotency_key="k1")
    again = logic.new_order(request, customer="alice", idempotency_key="k1")
    other_customer = logic.new_order(request, customer="bob", idempotency_key="k1")

    assert order.total == Decimal("15.75")
    assert order.order_id == again.order_id != other_customer.order_id


def test_an_unknown_item_is_refused():
    with pytest.raises(UnknownItemError):
        logic.new_order(
            OrderRequest(item_id="purple-widget", quantity=1), customer="a", idempotency_key="k"
        )


def test_a_retry_gets_the_stored_order_and_a_reused_key_is_refused():
    first = logic.new_order(
        OrderRequest(item_id="red-widget", quantity=1), customer="a", idempotency_key="k"
    )
    same = logic.new_order(
        OrderRequest(item_id="red-widget", quantity=1), customer="a", idempotency_key="k"
    )
    different = logic.new_order(
        OrderRequest(item_id="red-widget", quantity=2), customer="a", idempotency_key="k"
    )

    assert logic.replayed_order(same, first) is first
    with pytest.raises(IdempotencyKeyReusedError):
        logic.replayed_order(different, first)


def test_a_feedback_message_is_parsed_and_anything_else_refused():
    body = {
        "feedback_id": "r-1",
        "customer": "carol",
        "rating": 4,
        "comment": "ok",
        "received_at_ms": 1,
    }

    assert logic.parse_feedback_message(json.dumps(body)).rating == 4
    for broken in ("not json", json.dumps({**body, "rating": 0}), json.dumps({"rating": 4})):
        with pytest.raises(InvalidFeedbackError):
            logic.parse_feedback_message(broken)


def test_the_catalog_filters_by_category():
    assert [item.item_id for item in logic.list_catalog("gears")] == ["gear-12"]
    assert len(logic.list_catalog()) == 3


def test_only_bad_feedback_or_a_last_receive_is_dead_lettered_now():
    invalid = InvalidFeedbackError("not feedback")
    transient = RuntimeError("table unavailable")

    assert logic.dead_letter_now(invalid, receive_count=1, max_receive_count=5)
    assert not logic.dead_letter_now(transient, receive_count=4, max_receive_count=5)
    assert logic.dead_letter_now(transient, receive_count=5, max_receive_count=5)
