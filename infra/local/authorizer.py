"""API Gateway's Cognito user-pool authorizer (REST), locally: verifies the token in the request's
`Authorization` header against the pool's signing keys and hands its claims on as API Gateway does.

API Gateway checks the RS256 signature with the pool's JWKS, the expiry, the issuer (the pool) and
that the token was issued to one of the pool's app clients. A route without AuthorizationScopes
takes an id token; a route with scopes takes only an access token that carries one of them. The
header holds the raw token (as AWS documents for REST user-pool authorizers); `Bearer <token>` is
accepted too. Anything else is 401 `{"message": "Unauthorized"}` and the function is not called.
The claims reach the function under `requestContext.authorizer.claims`, every value a string (a
list such as `cognito:groups` comma-separated, numbers as their decimal text).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import jwt

from infra.local.apigw import HttpResponse
from notfall.clock import Clock, system_clock


class Unauthorized(Exception):
    """The token does not open the route; the message says why (for the error body and the log)."""


class CognitoAuthorizer:
    def __init__(
        self, jwks_url: str, issuer: str, client_ids: Callable[[], Iterable[str]], clock: Clock = system_clock
    ) -> None:
        # PyJWKClient caches the key set; a token with an unknown kid makes it fetch once more.
        self._keys = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=5)
        self.issuer = issuer
        self._client_ids = client_ids
        self._known_clients: frozenset[str] = frozenset()
        # Expiry is checked against the stack's clock: the one moto stamps tokens with, moved or not.
        self.clock = clock

    def verify(self, header: str | None, scopes: Iterable[str] = ()) -> dict[str, Any]:
        """The verified claims of the header's token; Unauthorized if it does not open a route
        with these AuthorizationScopes."""
        scheme, _, rest = (header or "").strip().partition(" ")
        token = rest.strip() if scheme.lower() == "bearer" else (header or "").strip()
        if not token:
            raise Unauthorized("no token: send the Authorization header")
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.issuer,
                # Times are checked below against the stack's clock, not PyJWT's reading of the machine's.
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "require": ["exp", "iss", "token_use"],
                },
            )
        except jwt.InvalidIssuerError:
            raise Unauthorized("the token was not issued by this API's user pool") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("the token's signature does not verify") from None
        except jwt.PyJWKClientError:
            raise Unauthorized("the token is not signed with a key of this API's user pool") from None
        except jwt.InvalidTokenError as err:
            raise Unauthorized(f"not a valid token: {err}") from None
        if not isinstance(claims["exp"], int | float) or claims["exp"] <= self.clock().timestamp():
            raise Unauthorized("the token has expired")
        required = list(scopes)
        if required:
            if claims["token_use"] != "access":
                raise Unauthorized(f"this route needs an access token with the scope {' or '.join(required)}")
            granted = str(claims.get("scope", "")).split()
            if not set(granted) & set(required):
                raise Unauthorized(f"the token lacks the scope {' or '.join(required)}")
            client = claims.get("client_id")
        else:
            if claims["token_use"] != "id":
                raise Unauthorized("this route needs an id token (sign in as a person)")
            client = claims.get("aud")
        if not self._is_client(client):
            raise Unauthorized("the token was issued to no app client of this API's user pool")
        return claims

    def _is_client(self, client: Any) -> bool:
        if not isinstance(client, str):
            return False
        if client not in self._known_clients:
            self._known_clients = frozenset(self._client_ids())  # clients may be added while running
        return client in self._known_clients


def as_request_claims(claims: dict[str, Any]) -> dict[str, str]:
    """The claims as API Gateway REST hands them to the function: all strings."""

    def text(value: Any) -> str:
        if isinstance(value, list | tuple):
            return ",".join(str(v) for v in value)
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, dict):
            return json.dumps(value)
        return str(value)

    return {name: text(value) for name, value in claims.items()}


def unauthorized(problem: str) -> HttpResponse:
    body = {"message": "Unauthorized", "errors": [{"field": "header.Authorization", "problem": problem}]}
    return HttpResponse(401, [("Content-Type", "application/json")], json.dumps(body).encode())
