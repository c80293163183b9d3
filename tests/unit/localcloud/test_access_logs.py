"""API Gateway access log formats rendered for one request."""

from __future__ import annotations

import json

from localcloud.rules.access_logs import render

CONTEXT = {
    "requestId": "Jk1mQh8TIAMEVzw=",
    "identity": {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5"},
    "requestTime": "02/Dec/2026:02:40:00 +0000",
    "httpMethod": "GET",
    "routeKey": "GET /orders/{id}",
    "status": 200,
    "protocol": "HTTP/1.1",
    "responseLength": 42,
    "integrationErrorMessage": None,
    "error": {"message": None},
}


def test_a_json_format_gets_the_requests_values():
    log_format = json.dumps(
        {
            "requestId": "$context.requestId",
            "ip": "$context.identity.sourceIp",
            "requestTime": "$context.requestTime",
            "httpMethod": "$context.httpMethod",
            "routeKey": "$context.routeKey",
            "status": "$context.status",
            "protocol": "$context.protocol",
            "responseLength": "$context.responseLength",
        }
    )

    assert json.loads(render(log_format, CONTEXT)) == {
        "requestId": "Jk1mQh8TIAMEVzw=",
        "ip": "203.0.113.7",
        "requestTime": "02/Dec/2026:02:40:00 +0000",
        "httpMethod": "GET",
        "routeKey": "GET /orders/{id}",
        "status": "200",
        "protocol": "HTTP/1.1",
        "responseLength": "42",
    }


def test_a_value_the_request_does_not_have_is_a_dash():
    line = render(
        "$context.integrationErrorMessage $context.error.message $context.unknown.name", CONTEXT
    )

    assert line == "- - -"


def test_a_common_log_format_line_keeps_its_punctuation():
    line = render(
        '$context.identity.sourceIp - - [$context.requestTime] "$context.httpMethod '
        '$context.routeKey $context.protocol" $context.status $context.responseLength '
        "$context.requestId.",
        CONTEXT,
    )

    assert line == (
        '203.0.113.7 - - [02/Dec/2026:02:40:00 +0000] "GET GET /orders/{id} HTTP/1.1" 200 42 '
        "Jk1mQh8TIAMEVzw=."
    )
