"""The catalog and orders services on moto, with the REST proxy events API Gateway sends them."""

from __future__ import annotations

import json

import boto3
import pytest

from api_gateway import catalog, orders
from tests.functional.api_gateway.conftest import ORDERS_TABLE


@pytest.fixture
def order_event(sample_event):
    def make(body: dict, *, key: str = "7f3c2a", principal: str = "alice") -> dict:
        event = sample_event("orders_create.json")
        event["body"] = json.dumps(body)
        event["headers"]["Idempotency-Key"] = key
        event["multiValueHeaders"]["Idempotency-Key"] = [key]
        event["requestContext"]["authorizer"]["principalId"] = principal
        return event

    return make


def test_the_catalog_lists_items_with_cors_headers_for_a_listed_origin(
    api_gateway, sample_event, lambda_context
):
    event = sample_event("catalog_list_items.json")

    response = catalog.handler(event, lambda_context)

    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["backend"] == "catalog"
    assert {item["category"] for item in body["items"]} == {"widgets"}
    assert response["multiValueHeaders"]["Access-Control-Allow-Origin"] == [
        "https://app.example.com"
    ]


def test_the_catalog_gives_no_cors_header_to_an_unlisted_origin(
    api_gateway, sample_event, lambda_context
):
    event = sample_event("catalog_list_items.json")
    event["headers"]["Origin"] = "https://evil.example.com"
    event["multiValueHeaders"]["Origin"] = ["https://evil.example.com"]

    response = catalog.handler(event, lambda_context)

    assert "Access-Control-Allow-Origin" not in response.get("multiValueHeaders", {})


def test_an_order_is_stored_once_for_its_key_and_read_back_by_its_customer(
    api_gateway, order_event, sample_event, lambda_context
):
    created = orders.handler(order_event({"item_id": "blue-widget", "quantity": 2}), lambda_context)
    retried = orders.handler(order_event({"item_id": "blue-widget", "quantity": 2}), lambda_context)
    reused = orders.handler(order_event({"item_id": "blue-widget", "quantity": 5}), lambda_context)
    order_id = json.loads(created["body"])["order_id"]
    get_event = sample_event("orders_get.json")
    get_event["pathParameters"] = {"order_id": order_id}
    get_event["path"] = f"/orders/{order_id}"
    read = orders.handler(get_event, lambda_context)
    get_event["requestContext"]["authorizer"]["principalId"] = "eve"
    not_hers = orders.handler(get_event, lambda_context)

    assert created["statusCode"] == 201
    assert json.loads(created["body"])["total"] == "9.00"
    assert (retried["statusCode"], json.loads(retried["body"])["order_id"]) == (200, order_id)
    assert reused["statusCode"] == 409
    assert (read["statusCode"], json.loads(read["body"])["customer"]) == (200, "alice")
    assert not_hers["statusCode"] == 404
    items = boto3.client("dynamodb").scan(TableName=ORDERS_TABLE)["Items"]
    assert [(item["order_id"]["S"], item["quantity"]["N"]) for item in items] == [(order_id, "2")]


@pytest.mark.parametrize(
    ("body", "status"),
    [({"item_id": "purple-widget", "quantity": 1}, 422), ({"item_id": "blue-widget"}, 400)],
    ids=["unknown-item", "bypassing-the-gateway-model"],
)
def test_an_order_the_service_refuses_stores_nothing(
    api_gateway, order_event, lambda_context, body, status
):
    response = orders.handler(order_event(body), lambda_context)

    assert response["statusCode"] == status
    assert json.loads(response["body"])["backend"] == "orders"
    assert boto3.client("dynamodb").scan(TableName=ORDERS_TABLE)["Items"] == []
