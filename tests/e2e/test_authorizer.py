"""The local stack's Cognito authorizer without HTTP: a key of our own stands in for the pool's JWKS,
a fixed clock for the stack's. What the e2e tests show over HTTP, here rule by rule."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.local.authorizer import CognitoAuthorizer, Unauthorized, as_request_claims

ISSUER = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_pool"
NOW = datetime(2031, 2, 9, 7, 0, tzinfo=UTC)
T = int(NOW.timestamp())
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SCOPE = "notfall/call-events"


class _Keys:
    """PyJWKClient's one method the authorizer uses, answering the pool's public key."""

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        if jwt.get_unverified_header(token).get("kid") != "dummy":
            raise jwt.PyJWKClientError("Unable to find a signing key that matches")
        return jwt.PyJWK.from_dict(
            {**jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "dummy", "alg": "RS256"}
        )


def authorizer() -> CognitoAuthorizer:
    verifier = CognitoAuthorizer("http://unused/jwks.json", ISSUER, lambda: ["people", "phone"], clock=lambda: NOW)
    verifier._keys = _Keys()  # type: ignore[assignment]
    return verifier


def id_token(key=KEY, **changes) -> str:
    claims = {
        "iss": ISSUER,
        "sub": "3f1c",
        "aud": "people",
        "token_use": "id",
        "iat": T - 60,
        "exp": T + 3540,
        "cognito:username": "hotline",
        "cognito:groups": ["hotline", "admin"],
        **changes,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})


def access_token(**changes) -> str:
    claims = {
        "iss": ISSUER,
        "sub": "phone",
        "client_id": "phone",
        "token_use": "access",
        "scope": SCOPE,
        "iat": T - 60,
        "exp": T + 3540,
        **changes,
    }
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "dummy"})


def refused(header: str | None, scopes: tuple[str, ...] = ()) -> str:
    with pytest.raises(Unauthorized) as caught:
        authorizer().verify(header, scopes)
    return str(caught.value)


def test_a_valid_id_token_opens_a_route_without_scopes():
    claims = authorizer().verify(id_token())
    assert claims["sub"] == "3f1c" and claims["cognito:groups"] == ["hotline", "admin"]
    assert authorizer().verify("Bearer " + id_token())["sub"] == "3f1c"


def test_expiry_is_checked_against_the_stacks_clock_not_the_machines():
    # Valid at the stack's moment in 2031 though long expired by the machine's clock, and the other way round.
    assert authorizer().verify(id_token(exp=T + 1))["sub"] == "3f1c"
    assert "expired" in refused(id_token(exp=T))
    assert "expired" in refused(id_token(exp=T - 3600))


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (None, "no token"),
        ("", "no token"),
        ("Bearer", "no token"),
        ("garbage", "not a valid token"),
        (id_token(key=OTHER), "signature"),
        (id_token(iss="https://cognito-idp.eu-central-1.amazonaws.com/other"), "user pool"),
        (id_token(aud="stranger"), "app client"),
        (id_token(token_use="access"), "needs an id token"),
        (access_token(), "needs an id token"),
    ],
)
def test_what_a_route_without_scopes_refuses(header, problem):
    assert problem in refused(header)


def test_a_scoped_route_takes_an_access_token_with_one_of_its_scopes():
    assert authorizer().verify(access_token(), (SCOPE,))["client_id"] == "phone"
    assert authorizer().verify(access_token(scope=f"other {SCOPE}"), ("x", SCOPE))["client_id"] == "phone"
    assert "needs an access token" in refused(id_token(), (SCOPE,))
    assert "lacks the scope" in refused(access_token(scope="notfall/other"), (SCOPE,))
    assert "app client" in refused(access_token(client_id="stranger"), (SCOPE,))


def test_claims_reach_the_function_as_strings_groups_comma_separated():
    claims = authorizer().verify(id_token())
    handed = as_request_claims(claims)
    assert handed["cognito:groups"] == "hotline,admin"
    assert handed["exp"] == str(T + 3540)
    assert set(handed) == set(claims) and all(isinstance(v, str) for v in handed.values())
