"""Authorizer handler: verifies the bearer JWT and returns the policy of the routes it may call."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.auth_alpha.exceptions import AuthError
from aws_lambda_powertools.utilities.typing import LambdaContext
from shared.cache import cached

from api_gateway import adapters, logic
from api_gateway.contract import JWT_ALGORITHM
from api_gateway.errors import UnauthorizedError
from api_gateway.settings import authorizer_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cached
def _verifier(issuer: str, audience: str, key_set_json: str) -> Any:
    """Powertools' JWT verifier for this key set (a rotated key set builds a new one)."""
    from aws_lambda_powertools.utilities.auth_alpha import JWTVerifier

    return JWTVerifier(
        issuer=issuer,
        audience=audience,
        algorithms=[JWT_ALGORITHM],
        jwks=json.loads(key_set_json),
        required_claims=["sub"],
    )


def verify(token: str) -> dict[str, Any]:
    """Verified claims: signature by a configured key, issuer, audience, expiry, a subject."""
    settings = authorizer_settings()
    key_set = adapters.read_key_set(
        settings.jwks_parameter_name, max_age_seconds=settings.jwks_max_age_seconds
    )
    verifier = _verifier(settings.issuer, settings.audience, json.dumps(key_set, sort_keys=True))
    return verifier.verify(token)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A TOKEN authorizer event -> an IAM policy, or `Unauthorized` (API Gateway's 401).

    API Gateway caches the answer per token for the authorizer's TTL, so a token is verified
    once per TTL, not once per request.
    """
    try:
        claims = verify(logic.bearer_token(event.get("authorizationToken")))
        caller = logic.principal(claims)
    except (AuthError, UnauthorizedError) as error:
        # Auth errors carry a fixed, credential-free reason: safe to log and to count.
        reason = getattr(getattr(error, "reason", None), "value", "malformed_header")
        logger.info("token refused", extra={"reason": reason})
        metrics.add_metric(name="TokensRefused", unit=MetricUnit.Count, value=1)
        raise UnauthorizedError() from None
    scopes = logic.token_scopes(claims)
    metrics.add_metric(name="TokensAccepted", unit=MetricUnit.Count, value=1)
    return logic.authorizer_response(principal=caller, scopes=scopes, method_arn=event["methodArn"])
