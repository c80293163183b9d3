"""A stand-in token issuer for the API gateway scenario and tests: an RSA key made in memory.

Its private key exists only in the process that made it (never written anywhere); the API
trusts it once its public key set is written to the stack's JWKS parameter.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from api_gateway.contract import JWT_ALGORITHM

#: The issuer and audience the stack trusts by default (`api_gateway` context).
DEFAULT_ISSUER = "https://issuer.example.com/"
DEFAULT_AUDIENCE = "https://api.example.com"


class TokenIssuer:
    """Signs access tokens with its own key; `key_set()` is what the API must trust."""

    def __init__(self, *, issuer: str = DEFAULT_ISSUER, audience: str = DEFAULT_AUDIENCE) -> None:
        self.issuer = issuer
        self.audience = audience
        self.key_id = f"demo-{uuid.uuid4().hex[:8]}"
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def key_set(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self.key_id, "alg": JWT_ALGORITHM, "use": "sig"}]}

    def token(
        self, subject: str, scopes: Iterable[str], *, lifetime_seconds: int = 600, **claims: Any
    ) -> str:
        """A signed access token; `claims` override the standard ones (`exp`, `aud`, ...)."""
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + lifetime_seconds,
            "scope": " ".join(scopes),
            **claims,
        }
        return jwt.encode(payload, self._key, algorithm=JWT_ALGORITHM, headers={"kid": self.key_id})

    def bearer(self, subject: str, scopes: Iterable[str], **claims: Any) -> str:
        return "Bearer " + self.token(subject, scopes, **claims)
