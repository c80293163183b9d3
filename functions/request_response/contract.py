"""Names the request-response stack and its function share: each is written here only.

Standard library only: infra, the demo and the tests import this module as well as the
function, and it ships in the function's asset with the rest of `request_response/`.
"""

from __future__ import annotations

#: The API's handler, as Lambda resolves it from the asset root.
API_HANDLER = "request_response.api.handler"

#: Every route the API serves, as (method, path) in API Gateway's syntax. The stack routes
#: these, plus any other method on the same paths so the function can answer 405 with `Allow`.
ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/items"),
    ("GET", "/items"),
    ("GET", "/items/{id}"),
    ("PUT", "/items/{id}"),
    ("DELETE", "/items/{id}"),
    ("GET", "/openapi.json"),
)

# Environment variables the stack sets and the function reads.
ENV_TABLE_NAME = "TABLE_NAME"
ENV_IDEMPOTENCY_TABLE_NAME = "IDEMPOTENCY_TABLE_NAME"

# Stack outputs a user, the demo and the tests drive the stack with.
OUTPUT_API_URL = "ApiUrl"
OUTPUT_ITEMS_TABLE_NAME = "ItemsTableName"
