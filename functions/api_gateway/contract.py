"""Names the API gateway stack and its functions share: each is written here and nowhere else.

Standard library only: infra, the demo and the tests import this module as well as the
functions, and it ships in the functions' asset with the rest of `api_gateway/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Handlers, as Lambda resolves them from the asset root.
AUTHORIZER_HANDLER = "api_gateway.authorizer.handler"
ORDERS_HANDLER = "api_gateway.orders.handler"
CATALOG_HANDLER = "api_gateway.catalog.handler"
FEEDBACK_CONSUMER_HANDLER = "api_gateway.feedback_consumer.handler"

# Environment variables the stack sets and the functions read.
ENV_JWT_ISSUER = "JWT_ISSUER"
ENV_JWT_AUDIENCE = "JWT_AUDIENCE"
#: The SSM parameter holding the issuer's public key set (JWKS JSON): keys are configuration,
#: rotated by writing the parameter, never code.
ENV_JWKS_PARAMETER_NAME = "JWKS_PARAMETER_NAME"
#: How long the authorizer keeps the key set it read before reading the parameter again.
ENV_JWKS_MAX_AGE_SECONDS = "JWKS_MAX_AGE_SECONDS"
ENV_ORDERS_TABLE_NAME = "ORDERS_TABLE_NAME"
ENV_FEEDBACK_TABLE_NAME = "FEEDBACK_TABLE_NAME"
ENV_DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"
#: The feedback queue's `maxReceiveCount`: on that receive the consumer dead-letters a failing
#: message itself, with its reason, instead of letting SQS move it without one.
ENV_MAX_RECEIVE_COUNT = "MAX_RECEIVE_COUNT"
#: Comma-separated browser origins the services answer with CORS headers.
ENV_CORS_ORIGINS = "CORS_ORIGINS"

#: Powertools' `service` of each function: the dimension of its metrics.
AUTHORIZER_SERVICE_NAME = "api-gateway-authorizer"
ORDERS_SERVICE_NAME = "api-gateway-orders"
CATALOG_SERVICE_NAME = "api-gateway-catalog"
FEEDBACK_CONSUMER_SERVICE_NAME = "api-gateway-feedback-consumer"

#: The REST API's authorizer: the security scheme its exported OpenAPI document names.
AUTHORIZER_NAME = "JwtAuthorizer"

#: The name API Gateway's OpenAPI export gives the API key's security scheme.
API_KEY_SECURITY_SCHEME = "api_key"

#: The only signing algorithm the authorizer accepts (asymmetric: the API holds no secret).
JWT_ALGORITHM = "RS256"
#: The header the token travels in, as `Bearer <jwt>`.
TOKEN_HEADER = "Authorization"  # noqa: S105 - a header name, not a credential
#: The request header POST /orders requires: the client's key making a retry safe.
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"


class Scope(StrEnum):
    """OAuth scopes a token carries (space-separated in its `scope` claim)."""

    CATALOG_READ = "catalog:read"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    FEEDBACK_WRITE = "feedback:write"


class Backend(StrEnum):
    """The services behind the API: two Lambda services and one queue (storage-first)."""

    CATALOG = "catalog"
    ORDERS = "orders"
    FEEDBACK_QUEUE = "feedback-queue"


@dataclass(frozen=True)
class Route:
    """One method of the API: who serves it and the scope a token needs to call it."""

    method: str
    path: str
    backend: Backend
    scope: Scope


ROUTE_LIST_CATALOG = Route("GET", "/catalog/items", Backend.CATALOG, Scope.CATALOG_READ)
ROUTE_CREATE_ORDER = Route("POST", "/orders", Backend.ORDERS, Scope.ORDERS_WRITE)
ROUTE_GET_ORDER = Route("GET", "/orders/{order_id}", Backend.ORDERS, Scope.ORDERS_READ)
ROUTE_SEND_FEEDBACK = Route("POST", "/feedback", Backend.FEEDBACK_QUEUE, Scope.FEEDBACK_WRITE)

#: Every route of the API: the stack builds its methods from this list and the authorizer
#: grants from it, so a route cannot exist without the scope that guards it.
ROUTES: tuple[Route, ...] = (
    ROUTE_LIST_CATALOG,
    ROUTE_CREATE_ORDER,
    ROUTE_GET_ORDER,
    ROUTE_SEND_FEEDBACK,
)


class Tier(StrEnum):
    """Usage-plan tiers: each API key belongs to one."""

    BASIC = "basic"
    PREMIUM = "premium"


#: Fields of the message the feedback route puts on the queue (the mapping template writes
#: them; the consumer reads them).
FEEDBACK_MESSAGE_FIELDS = ("feedback_id", "customer", "rating", "comment", "received_at_ms")

#: The message attribute holding why the consumer dead-lettered a feedback message.
FAILURE_REASON_ATTRIBUTE = "failure_reason"
#: The message id the feedback had in the feedback queue (the DLQ gives it a new one).
SOURCE_MESSAGE_ID_ATTRIBUTE = "source_message_id"

# Stack outputs a user, the demo and the tests drive the stack with.
OUTPUT_API_URL = "ApiUrl"
OUTPUT_JWKS_PARAMETER_NAME = "JwksParameterName"
OUTPUT_ORDERS_TABLE_NAME = "OrdersTableName"
OUTPUT_FEEDBACK_TABLE_NAME = "FeedbackTableName"
OUTPUT_FEEDBACK_QUEUE_URL = "FeedbackQueueUrl"
OUTPUT_FEEDBACK_DEAD_LETTER_QUEUE_URL = "FeedbackDeadLetterQueueUrl"


def output_api_key_id(tier: Tier) -> str:
    """The output naming the API key of `tier` (`BasicApiKeyId`); its value is in API Gateway."""
    return f"{tier.value.title()}ApiKeyId"
