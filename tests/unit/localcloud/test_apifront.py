"""How the API front picks a route and maps a function's answer (localcloud.core.apifront)."""

from __future__ import annotations

import base64
import json

import pytest

from localcloud.core.apifront import (
    match_route,
    proxy_response,
    select_route,
    with_local_api_urls,
)


@pytest.mark.parametrize(
    ("route_key", "method", "path", "expected"),
    [
        ("GET /items/{id}", "GET", "/items/abc", {"id": "abc"}),
        ("GET /items/{id}", "get", "/items/abc", {"id": "abc"}),
        ("GET /items/{id}", "GET", "/items/abc/more", None),
        ("GET /items/{id}", "PUT", "/items/abc", None),
        ("POST /items", "POST", "/items", {}),
        ("ANY /items", "DELETE", "/items", {}),
        ("GET /openapi.json", "GET", "/openapiXjson", None),
        ("ANY /files/{proxy+}", "GET", "/files/a/b/c.txt", {"proxy": "a/b/c.txt"}),
        ("ANY /files/{proxy+}", "GET", "/files/", None),
        ("$default", "PATCH", "/anything", {}),
    ],
)
def test_routes_match_method_and_path_and_capture_parameters(route_key, method, path, expected):
    assert match_route(route_key, method, path) == expected


ROUTES = ["$default", "ANY /{proxy+}", "GET /items/{id}", "GET /items/special", "ANY /items/{id}"]


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/items/special", ("GET /items/special", {})),
        ("GET", "/items/7", ("GET /items/{id}", {"id": "7"})),
        ("PUT", "/items/7", ("ANY /items/{id}", {"id": "7"})),
        ("GET", "/other/deep/path", ("ANY /{proxy+}", {"proxy": "other/deep/path"})),
        ("GET", "/", ("$default", {})),
    ],
)
def test_the_most_specific_route_wins_greedy_next_and_default_last(method, path, expected):
    assert select_route(ROUTES, method, path) == expected


def test_no_route_and_no_default_selects_nothing():
    assert select_route(["GET /items"], "POST", "/items") is None


def test_a_proxy_response_becomes_status_headers_and_body():
    response = proxy_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "Location": "/items/1"},
            "cookies": ["a=1", "b=2"],
            "body": '{"id": "1"}',
        }
    )

    assert response.status == 201
    assert response.headers["content-type"] == "application/json"
    assert response.headers["location"] == "/items/1"
    assert response.headers["set-cookie"] == "a=1, b=2"
    assert response.json() == {"id": "1"}


def test_a_base64_encoded_body_is_decoded():
    body = base64.b64encode(b"plain text").decode()
    response = proxy_response({"statusCode": 200, "isBase64Encoded": True, "body": body})
    assert response.body == "plain text"


def test_a_base64_encoded_binary_body_reaches_the_client_byte_for_byte():
    image = b"\x89PNG\r\n\x1a\n\x00\xff\xfe"
    body = base64.b64encode(image).decode()
    response = proxy_response({"statusCode": 200, "isBase64Encoded": True, "body": body})
    assert response.body == image
    assert response.content == image


def test_a_response_without_status_code_is_a_200_json_body():
    response = proxy_response({"message": "hi"})
    assert (response.status, json.loads(response.body)) == (200, {"message": "hi"})


@pytest.mark.parametrize(
    "payload",
    [
        {"statusCode": "not-a-number"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": ["not", "a", "map"]},
    ],
)
def test_a_malformed_proxy_response_is_a_500(payload):
    response = proxy_response(payload)
    assert (response.status, response.json()) == (500, {"message": "Internal Server Error"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # An HTTP API's URL and endpoint (GetAtt ApiEndpoint, no trailing slash).
        (
            "https://abc123.execute-api.eu-west-1.amazonaws.com/",
            "http://localhost:4566/execute-api/abc123/",
        ),
        (
            "https://abc123.execute-api.eu-west-1.amazonaws.com",
            "http://localhost:4566/execute-api/abc123",
        ),
        # A REST API's URL names its stage; paths and queries follow.
        (
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/items?limit=2",
            "http://localhost:4566/execute-api/abc123/prod/items?limit=2",
        ),
        # An API this endpoint does not serve stays where it is.
        (
            "https://zzz999.execute-api.eu-west-1.amazonaws.com/prod/",
            "https://zzz999.execute-api.eu-west-1.amazonaws.com/prod/",
        ),
        ("arn:aws:sns:eu-west-1:123456789012:Topic", "arn:aws:sns:eu-west-1:123456789012:Topic"),
    ],
)
def test_aws_urls_of_served_apis_become_the_endpoints_urls(value: str, expected: str):
    assert with_local_api_urls(value, "http://localhost:4566", {"abc123"}) == expected
