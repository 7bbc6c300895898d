"""Sign-in on the local stack over HTTP, as API Gateway's Cognito authorizer answers in the cloud:
no token, an expired, foreign-signed, foreign-pool or garbage token is 401 with a JSON body and
the function is not called; the phone system's client-credentials token opens a case; a
caregiver accepts their own offer and another caregiver gets 403 for the same."""

from __future__ import annotations

import base64
import uuid

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.local.aws import REGION
from infra.local.cognito import sign
from infra.local.tokens import Tokens

pytestmark = pytest.mark.e2e

CALL = "/calls/events"


def call_event(call_id: str, caller: str) -> dict:
    return {"type": "started", "call_id": call_id, "line": "hotline-1", "caller_number": caller, "at": _NOW}


_NOW = "2026-11-02T08:00:00Z"


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def assert_unauthorized(reply: tuple[int, object], problem: str) -> None:
    status, body = reply
    assert status == 401, body
    assert isinstance(body, dict) and body["message"] == "Unauthorized"
    [error] = body["errors"]
    assert error["field"] == "header.Authorization" and problem in error["problem"], error


@pytest.fixture
def counted(api):
    """The audit log's length before the test; the test checks nothing was written."""
    api.stack.drain()
    return api.audit_count()


def test_no_token_is_401_and_the_function_is_not_called(api, counted, caller, call_id, monkeypatch):
    called = []
    route = next(r for r in api.stack.routes if r.resource == "/calls/events")
    monkeypatch.setattr(route.function, "invoke", lambda event: called.append(event))
    assert_unauthorized(api.post(CALL, call_event(call_id, caller), as_=None), "no token")
    assert_unauthorized(api.get("/cases", as_=None), "no token")
    assert_unauthorized(api.get("/cases", {"Authorization": "Bearer "}), "no token")
    assert called == []
    monkeypatch.undo()
    assert api.audit_count() == counted


def test_public_routes_need_no_token(api):
    assert api.get("/openapi.json", as_=None)[0] == 200
    assert api.get("/swagger", as_=None)[0] == 200


@pytest.mark.parametrize("form", ["{token}", "Bearer {token}", "bearer {token}"])
def test_the_raw_token_and_the_bearer_form_are_accepted(api, form):
    status, body = api.get("/cases", {"Authorization": form.format(token=api.token("hotline"))})
    assert status == 200, body


def test_an_expired_token_is_401(api, stack, counted, caller, call_id):
    person = claims_of(api.token("hotline"))
    expired = sign(stack.user_pool.pool_id, {**person, "iat": person["iat"] - 7200, "exp": person["iat"] - 3600})
    assert_unauthorized(api.get("/cases", {"Authorization": expired}), "expired")

    issued = int(stack.token_endpoint.clock().timestamp()) - 7200
    machine = stack.token_endpoint.access_token(
        stack.describe_auth()["machine_client_id"], ["notfall/call-events"], 3600, issued
    )
    assert_unauthorized(api.post(CALL, call_event(call_id, caller), {"Authorization": machine}), "expired")
    assert api.audit_count() == counted


def test_a_token_signed_with_another_key_is_401(api, counted, caller, call_id):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    person = claims_of(api.token("hotline"))
    forged = jwt.encode(person, other, algorithm="RS256", headers={"kid": "dummy"})  # moto's kid, not its key
    assert_unauthorized(api.get("/cases", {"Authorization": forged}), "signature")
    unknown_kid = jwt.encode(person, other, algorithm="RS256", headers={"kid": "another"})
    assert_unauthorized(api.get("/cases", {"Authorization": unknown_kid}), "key")
    machine = claims_of(api.token("phone-system"))
    forged_machine = jwt.encode(machine, other, algorithm="RS256", headers={"kid": "dummy"})
    assert_unauthorized(api.post(CALL, call_event(call_id, caller), {"Authorization": forged_machine}), "signature")
    # Unsigned, or signed with a shared secret: not RS256, not accepted.
    for alg, key in (("none", None), ("HS256", "a-shared-secret-of-enough-length-32b")):
        token = jwt.encode(person, key, algorithm=alg, headers={"kid": "dummy"})
        assert api.get("/cases", {"Authorization": token})[0] == 401
    assert api.audit_count() == counted


def test_garbage_is_401(api, counted, caller, call_id):
    for garbage in ("garbage", "Bearer garbage", "a.b.c", base64.b64encode(b"{}").decode(), "Basic dXNlcjpwYXNz"):
        assert_unauthorized(api.get("/cases", {"Authorization": garbage}), "not a valid token")
    assert_unauthorized(api.post(CALL, call_event(call_id, caller), {"Authorization": "x" * 5000}), "not a valid")
    assert api.audit_count() == counted


def test_a_token_of_another_user_pool_is_401(api, stack):
    """Same key in moto (every pool signs with it), but issued by another pool: the issuer differs."""
    idp = boto3.client("cognito-idp", region_name=REGION)
    pool = idp.create_user_pool(PoolName=f"elsewhere-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="elsewhere")["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="someone", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="someone", Password="Elsewhere-123456", Permanent=True)
    token = idp.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "someone", "PASSWORD": "Elsewhere-123456"},
    )["AuthenticationResult"]["IdToken"]
    assert_unauthorized(api.get("/cases", {"Authorization": token}), "user pool")

    # Issued by this pool's issuer but to a client the pool does not have.
    person = claims_of(api.token("hotline"))
    stranger = sign(stack.user_pool.pool_id, {**person, "aud": "no-such-client"})
    assert_unauthorized(api.get("/cases", {"Authorization": stranger}), "app client")


def test_the_scoped_route_takes_only_the_phone_systems_access_token(api, counted, caller, call_id):
    """API Gateway: a method with AuthorizationScopes wants an access token with one of them; the
    others want an id token."""
    for role in ("hotline", "admin"):
        assert_unauthorized(
            api.post(CALL, call_event(call_id, caller), as_=role), "needs an access token with the scope"
        )
    assert_unauthorized(api.get("/cases", as_="phone-system"), "needs an id token")
    assert api.audit_count() == counted


def test_the_phone_systems_client_credentials_open_a_case(api, stack, counted, caller, call_id):
    status, opened = api.post(CALL, call_event(call_id, caller), as_="phone-system")
    assert (status, opened["opened"]) == (201, True), opened
    stack.drain()
    status, page = api.get(f"/audit/events?after={counted}&limit=100")
    assert status == 200, page
    actors = {e["event_type"]: e["actor"] for e in page["events"] if e["stream_id"] == f"case-{opened['case_id']}"}
    assert actors["CaseOpened"] == f"client:{stack.describe_auth()['machine_client_id']}", actors


def test_the_token_endpoint_checks_the_client_its_secret_and_the_scope(api, stack):
    auth = stack.describe_auth()
    tokens = Tokens(api.url)
    machine, people = auth["machine_client_id"], auth["people_client_id"]
    token = tokens.client_credentials(machine, scope="notfall/call-events")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert {k: claims[k] for k in ("token_use", "client_id", "sub", "scope", "iss")} == {
        "token_use": "access",
        "client_id": machine,
        "sub": machine,
        "scope": "notfall/call-events",
        "iss": auth["issuer"],
    }
    assert claims["exp"] - claims["iat"] == 3600  # the client's AccessTokenValidity: 60 minutes

    def post(client_id: str, secret: str, form: bytes) -> tuple[int, dict]:
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}
        return api.request("POST", "/oauth2/token", form, headers, as_=None)

    assert post(machine, "wrong", b"grant_type=client_credentials") == (
        401,
        {"error": "invalid_client", "error_description": "wrong client secret"},
    )
    assert post(people, "", b"grant_type=client_credentials")[1]["error"] == "invalid_client"  # it has no secret
    assert post("no-such-client", "x", b"grant_type=client_credentials")[1]["error"] == "invalid_client"
    idp = boto3.client("cognito-idp", region_name=REGION)
    secret = idp.describe_user_pool_client(UserPoolId=auth["user_pool_id"], ClientId=machine)["UserPoolClient"][
        "ClientSecret"
    ]
    assert post(machine, secret, b"grant_type=password")[1]["error"] == "unsupported_grant_type"
    assert (
        post(machine, secret, b"grant_type=client_credentials&scope=notfall/everything")[1]["error"] == "invalid_scope"
    )
    assert post(machine, secret, b"grant_type=client_credentials")[0] == 200


def test_the_function_gets_the_claims_as_api_gateway_hands_them_on(api, monkeypatch):
    seen = []
    route = next(r for r in api.stack.routes if r.resource == "/cases" and r.method == "GET")
    original = route.function.invoke

    def spy(event):
        seen.append(event)
        return original(event)

    monkeypatch.setattr(route.function, "invoke", spy)
    token = api.token("caregiver")
    api.get("/cases", {"Authorization": token})
    [event] = seen
    claims = event["requestContext"]["authorizer"]["claims"]
    verified = claims_of(token)
    assert set(claims) == set(verified)  # nothing dropped
    assert all(isinstance(v, str) for v in claims.values())
    assert claims["cognito:groups"] == "caregiver"
    assert claims["custom:caregiver_id"] == "cg-demo-01"
    assert claims["exp"] == str(verified["exp"]) and claims["sub"] == verified["sub"]
    assert event["headers"]["Authorization"] == token  # the request's headers pass on as they came
    assert "X-Actor" not in str(event)


def test_the_token_command_prints_a_token_for_each_role(api, capsys):
    from infra.local.__main__ import TOKEN_VARIABLES, main

    for role in TOKEN_VARIABLES:
        assert main(["token", role, "--url", api.url]) == 0
        token = capsys.readouterr().out.strip()
        assert token.count(".") == 2
        expected = 200 if role != "phone-system" else 401  # the queue wants a person's id token
        if role not in ("hotline", "admin", "auditor", "phone-system"):
            continue  # whether a role may read the queue is the functions' rule, not the authorizer's
        assert api.get("/cases", {"Authorization": token})[0] == expected, role
    assert main(["token", "nobody", "--url", api.url]) == 2
    assert "no demo user" in capsys.readouterr().err
