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
    assert {"201", "409", "413", "422"} <= set(document["paths"]["/items"]["post"]["responses"])
    assert "409" in document["paths"]["/items/{id}"]["put"]["responses"]
    assert set(document["components"]["schemas"]["ItemCreate"]["required"]) == {
        "name",
        "quantity",
    }


def test_get_openapi_serves_the_committed_document(tables, make_event, invoke):
    # GIVEN the sample request for the document WHEN it is handled
    result = invoke(make_event("get_openapi"))

    # THEN it is the committed document, as JSON
    assert result.status == 200
    assert result.headers["content-type"] == "application/json"
    assert result.body == json.loads(COMMITTED.read_text())
