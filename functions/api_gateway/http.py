"""What the two Lambda services behind the gateway add to every answer: CORS headers.

API Gateway answers preflights and its own errors with CORS headers, but passes a Lambda proxy
answer through as it is, so a browser could read nothing the services say without these.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from api_gateway.settings import cors_origins


def cors_headers(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Allow the request's Origin when it is one of the configured origins (and say it varies)."""
    response = next_middleware(app)
    origin = app.current_event.headers.get("origin") or app.current_event.headers.get("Origin")
    if origin and origin in cors_origins():
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response
