"""The committed OpenAPI document matches the app, and GET /openapi.json serves it."""

from __future__ import annotations

import json
from pathlib import Path

from request_response.api import API_TITLE, API_VERSION, openapi_document

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "request_response" / "openapi.json"


def test_committed_document_matches_the_app():
    # GIVEN the document under docs/ WHEN the app generates its own
    generated = openapi_document()

    # THEN they are the same (regenerate with `python scripts/export_openapi.py`)
    assert json.loads(COMMITTED.read_text()) == generated


def test_document_describes_every_item_route():
    # GIVEN the generated document
    document = openapi_document()

    # THEN it names the API and documents each route with its error responses
    assert document["info"]["title"] == API_TITLE
    assert document["info"]["version"] == API_VERSION
    operations = {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }
    assert operations == {
        ("POST", "/items"),
        ("GET", "/items"),
        ("GET", "/items/{id}"),
        ("PUT", "/items/{id}"),
        ("DELETE", "/items/{id}"),
    }
    assert set(document["components"]["schemas"]["ItemCreate"]["required"]) == {
        "name",
        "quantity",
    }


#: Every status each operation can answer, and the schema of its body (None: no body).
DOCUMENTED_RESPONSES = {
    ("post", "/items"): {
        "201": "Item",
        **dict.fromkeys(("400", "409", "413", "415", "422", "429", "503"), "ErrorBody"),
    },
    ("get", "/items"): {"200": "ItemPage", **dict.fromkeys(("422", "429", "503"), "ErrorBody")},
    ("get", "/items/{id}"): {"200": "Item", **dict.fromkeys(("404", "429", "503"), "ErrorBody")},
    ("put", "/items/{id}"): {
        "200": "Item",
        **dict.fromkeys(("400", "404", "409", "413", "415", "422", "429", "503"), "ErrorBody"),
    },
    ("delete", "/items/{id}"): {
        "204": None,
        **dict.fromkeys(("404", "429", "503"), "ErrorBody"),
    },
}


def _body_schema(response: dict) -> str | None:
    content = response.get("content")
    if not content:
        return None
    assert set(content) == {"application/json"}
    return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]


def test_each_operation_documents_every_status_it_answers_with_its_body():
    # GIVEN the generated document
    document = openapi_document()

    # WHEN each operation's responses are read
    documented = {
        (method, path): {
            status: _body_schema(response) for status, response in operation["responses"].items()
        }
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }

    # THEN they are exactly what the API answers: a 200 for reads and replaces, a 204 without
    # a body, 415 where a body is taken, and every error as the ErrorBody the API sends
    assert documented == DOCUMENTED_RESPONSES
    assert set(document["components"]["schemas"]) == {
        "ErrorBody",
        "ErrorDetail",
        "Item",
        "ItemCreate",
        "ItemPage",
        "ItemUpdate",
    }


def test_document_describes_the_headers_clients_act_on():
    # GIVEN the generated document
    paths = openapi_document()["paths"]

    # THEN a create names its Location (always) and replay marker, and a 503 its Retry-After
    created = paths["/items"]["post"]["responses"]["201"]["headers"]
    assert created["Location"]["required"] is True
    assert created["Idempotent-Replayed"]["schema"] == {"type": "string", "enum": ["true"]}
    for operations in paths.values():
        for operation in operations.values():
            assert "Retry-After" in operation["responses"]["503"]["headers"]


def test_only_the_routes_that_take_a_json_body_document_one():
    # GIVEN the generated document
    paths = openapi_document()["paths"]

    # THEN POST and PUT take application/json, and nothing else takes a body
    with_body = {
        (method, path): set(operation["requestBody"]["content"])
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    assert with_body == {
        ("post", "/items"): {"application/json"},
        ("put", "/items/{id}"): {"application/json"},
    }


def test_get_openapi_serves_the_committed_document(tables, make_event, invoke):
    # GIVEN the sample request for the document WHEN it is handled
    result = invoke(make_event("get_openapi"))

    # THEN it is the committed document, as JSON
    assert result.status == 200
    assert result.headers["content-type"] == "application/json"
    assert result.body == json.loads(COMMITTED.read_text())
