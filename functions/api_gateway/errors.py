"""Typed failures of the API gateway pattern, each mapped to one answer or one DLQ route."""

from __future__ import annotations


class ApiGatewayPatternError(Exception):
    """Base of every failure this pattern raises on purpose."""


class UnauthorizedError(ApiGatewayPatternError):
    """The token is missing, malformed, expired, or not signed by a configured key.

    Its message is the exact text API Gateway turns into a 401 when an authorizer raises it;
    any other failure of the authorizer is a 500, so the reason stays in the logs only.
    """

    def __init__(self) -> None:
        super().__init__("Unauthorized")


class OrderError(ApiGatewayPatternError):
    """A request the orders service refuses; `status` is its HTTP status."""

    status: int


class UnknownItemError(OrderError):
    """The order names an item the catalog does not sell."""

    status = 422


class OrderNotFoundError(OrderError):
    """No order with this id belongs to the caller (another customer's order is not found)."""

    status = 404


class IdempotencyKeyReusedError(OrderError):
    """The caller sent this Idempotency-Key before with a different order."""

    status = 409


class InvalidFeedbackError(ApiGatewayPatternError):
    """A queued feedback message is not what the mapping template writes; it fails every time."""
