"""The authorizer on moto: Powertools' JWT verifier over the key set in SSM, policies by scope."""

from __future__ import annotations

import json

import boto3
import pytest

from api_gateway import authorizer
from api_gateway.contract import Scope
from api_gateway.errors import UnauthorizedError
from demo.token_issuer import TokenIssuer
from tests.functional.api_gateway.conftest import JWKS_PARAMETER

STAGE_ARN = "arn:aws:execute-api:eu-west-1:123456789012:egw3nrdif9/v1"


@pytest.fixture
def token_event(sample_event):
    def make(authorization: str) -> dict:
        event = sample_event("authorizer_token.json")
        event["authorizationToken"] = authorization
        return event

    return make


def test_a_valid_token_gets_the_routes_of_its_scopes(
    api_gateway, issuer, token_event, lambda_context
):
    event = token_event(issuer.bearer("alice", [Scope.CATALOG_READ, Scope.FEEDBACK_WRITE]))

    response = authorizer.handler(event, lambda_context)

    assert event["methodArn"].startswith(STAGE_ARN + "/")
    assert response["principalId"] == "alice"
    [statement] = response["policyDocument"]["Statement"]
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": [f"{STAGE_ARN}/GET/catalog/items", f"{STAGE_ARN}/POST/feedback"],
    }


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 1_000_000_000},
        {"aud": "https://another-api.example.com"},
        {"iss": "https://impostor.example.com/"},
        {"alg_none": True},
    ],
    ids=["expired", "wrong-audience", "wrong-issuer", "unsigned"],
)
def test_a_token_failing_a_check_is_unauthorized(
    api_gateway, issuer, token_event, lambda_context, claims
):
    if claims.pop("alg_none", False):
        header, payload, _ = issuer.token("alice", [Scope.CATALOG_READ]).split(".")
        authorization = f"Bearer {header}.{payload}."
    else:
        authorization = issuer.bearer("alice", [Scope.CATALOG_READ], **claims)

    with pytest.raises(UnauthorizedError, match=r"^Unauthorized$"):
        authorizer.handler(token_event(authorization), lambda_context)


def test_a_token_of_a_rotated_out_key_is_refused_once_the_key_set_is_reread(
    api_gateway, issuer, token_event, lambda_context
):
    token = issuer.bearer("alice", [Scope.CATALOG_READ])
    accepted = authorizer.handler(token_event(token), lambda_context)
    boto3.client("ssm").put_parameter(
        Name=JWKS_PARAMETER, Value=json.dumps(TokenIssuer().key_set()), Overwrite=True
    )
    # A new execution environment reads the parameter again (a warm one after its max age).
    from shared.cache import reset_caches

    reset_caches()

    assert accepted["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    with pytest.raises(UnauthorizedError, match=r"^Unauthorized$"):
        authorizer.handler(token_event(token), lambda_context)
