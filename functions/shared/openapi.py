"""The OpenAPI document a Powertools resolver serves, without what Powertools adds of its own."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

#: Schemas Powertools adds to every document for its own error shapes, which our APIs never
#: send: every error they answer is their own error body.
_POWERTOOLS_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
_POWERTOOLS_422 = {"$ref": "#/components/schemas/HTTPValidationError"}


def openapi_document(
    app: ApiGatewayResolver, *, title: str, version: str, description: str
) -> dict[str, Any]:
    """`app`'s OpenAPI document. Powertools documents a 422 of its own shape on every
    operation; the API answers 422 only where a route declares it, with its own body, so that
    one and Powertools' error schemas are left out."""
    document = json.loads(
        app.get_openapi_json_schema(title=title, version=version, description=description)
    )
    for operations in document["paths"].values():
        for operation in operations.values():
            content = operation["responses"].get("422", {}).get("content", {})
            if content.get(content_types.APPLICATION_JSON, {}).get("schema") == _POWERTOOLS_422:
                del operation["responses"]["422"]
    schemas = document["components"]["schemas"]
    for name in _POWERTOOLS_ERROR_SCHEMAS:
        schemas.pop(name, None)
    return document
