"""Pure rules of the API gateway pattern: scopes to policies, orders, feedback. No boto3."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from api_gateway.contract import ROUTES, Route, Scope
from api_gateway.errors import (
    IdempotencyKeyReusedError,
    InvalidFeedbackError,
    UnauthorizedError,
    UnknownItemError,
)
from api_gateway.models import CatalogItem, Feedback, Order, OrderRequest

#: Namespace of order ids: one customer's Idempotency-Key always names the same order, and two
#: customers' keys never collide.
ORDER_ID_NAMESPACE = uuid.UUID("8f5d7c3e-2b1a-4e7f-9c6d-1a2b3c4d5e6f")

CATALOG: tuple[CatalogItem, ...] = (
    CatalogItem(item_id="blue-widget", name="Blue widget", category="widgets", unit_price="4.50"),
    CatalogItem(item_id="red-widget", name="Red widget", category="widgets", unit_price="5.25"),
    CatalogItem(item_id="gear-12", name="Gear, 12 teeth", category="gears", unit_price="12.00"),
)


# -- the authorizer ---------------------------------------------------------------------------


def bearer_token(header: str | None) -> str:
    """The JWT of an `Authorization: Bearer <jwt>` header; anything else is unauthorized."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise UnauthorizedError()
    return token.strip()


def principal(claims: Mapping[str, Any]) -> str:
    """The caller a verified token names (`sub`); a token naming no one is unauthorized."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise UnauthorizedError()
    return subject


def token_scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    """The scopes of verified claims: OAuth's space-separated `scope`, or a `scp` list."""
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, list):
        return frozenset(value for value in scp if isinstance(value, str))
    return frozenset()


def granted_routes(scopes: Iterable[str], routes: Iterable[Route] = ROUTES) -> list[Route]:
    """The routes the scopes open, in the API's order."""
    held = set(scopes)
    return [route for route in routes if route.scope in held]


def _stage_arn(method_arn: str) -> str:
    """`arn:...:execute-api:region:account:api/stage` of a method ARN `.../stage/VERB/path`."""
    prefix, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0]
    if not prefix.startswith("arn:") or not stage:
        raise ValueError(f"not a method ARN: {method_arn!r}")
    return f"{prefix}/{stage}"


def _route_arn(stage_arn: str, route: Route) -> str:
    # A path parameter matches any one value: `/orders/{order_id}` -> `/orders/*`.
    path = "/".join("*" if part.startswith("{") else part for part in route.path.split("/"))
    return f"{stage_arn}/{route.method}{path}"


def authorizer_response(
    *, principal: str, scopes: frozenset[str], method_arn: str
) -> dict[str, Any]:
    """The IAM policy for a verified token: Allow on every route its scopes grant, on the stage.

    The policy covers all of the caller's routes, not only the one asked, because API Gateway
    caches it per token and applies it to the next request on any route; a route the scopes do
    not grant is left out, so API Gateway answers it 403.
    """
    stage_arn = _stage_arn(method_arn)
    routes = granted_routes(scopes)
    if routes:
        statement: dict[str, Any] = {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": [_route_arn(stage_arn, route) for route in routes],
        }
    else:
        statement = {
            "Action": "execute-api:Invoke",
            "Effect": "Deny",
            "Resource": [stage_arn + "/*"],
        }
    return {
        "principalId": principal,
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        # Backends read who called, and with what, from `requestContext.authorizer`.
        "context": {"scope": " ".join(sorted(scopes & set(Scope)))},
    }


# -- the catalog service ----------------------------------------------------------------------


def list_catalog(category: str | None = None) -> list[CatalogItem]:
    return [item for item in CATALOG if category is None or item.category == category]


# -- the orders service -----------------------------------------------------------------------


def parse_order_request(body: Any) -> OrderRequest:
    """The order in a request body; the gateway already checked its shape against its model."""
    return OrderRequest.model_validate(body)


def order_id(customer: str, idempotency_key: str) -> str:
    return str(uuid.uuid5(ORDER_ID_NAMESPACE, f"{customer}\n{idempotency_key}"))


def new_order(request: OrderRequest, *, customer: str, idempotency_key: str) -> Order:
    """The order a request makes, priced from the catalog; raises `UnknownItemError`."""
    item = next((item for item in CATALOG if item.item_id == request.item_id), None)
    if item is None:
        raise UnknownItemError(f"no item {request.item_id!r} in the catalog")
    return Order(
        order_id=order_id(customer, idempotency_key),
        customer=customer,
        item_id=item.item_id,
        quantity=request.quantity,
        total=item.unit_price * request.quantity,
    )


def replayed_order(new: Order, existing: Order) -> Order:
    """The stored order a retried request gets back; the same key for another order is refused."""
    if (existing.item_id, existing.quantity) != (new.item_id, new.quantity):
        raise IdempotencyKeyReusedError(
            "this Idempotency-Key was used for another order; use a new key"
        )
    return existing


# -- the feedback consumer --------------------------------------------------------------------


def parse_feedback_message(body: str) -> Feedback:
    """The feedback in a queued message's body; raises `InvalidFeedbackError`."""
    try:
        return Feedback.model_validate(json.loads(body))
    except (ValueError, ValidationError) as error:
        raise InvalidFeedbackError(f"not a feedback message: {error}") from error


def dead_letter_now(error: Exception, *, receive_count: int, max_receive_count: int) -> bool:
    """Whether a failed feedback message goes to the DLQ now, with its reason: a message that is
    not feedback fails on every delivery, so at once; any other failure on its last receive."""
    return isinstance(error, InvalidFeedbackError) or receive_count >= max_receive_count
