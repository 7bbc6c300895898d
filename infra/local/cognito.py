"""The template's Cognito user pool in moto: the pool, its groups, app clients and resource server as
declared, one demo user per role, and the OAuth2 token endpoint (client credentials) that moto lacks.

moto signs id tokens with one RSA key shipped in the moto package and serves its public half at
`<endpoint>/<pool_id>/.well-known/jwks.json`. Its OAuth2 token endpoint is not implemented, so the
local stack serves `POST /oauth2/token` itself and signs the phone system's access tokens with the
pool's own key (kid and algorithm as moto's): every token verifies against the same JWKS, as in the
cloud, where Cognito serves that endpoint on the pool's domain. Only the local stack has it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import boto3
from joserfc import jwt
from moto.cognitoidp.models import cognitoidp_backends

from infra.local.apigw import HttpResponse
from infra.local.aws import ACCOUNT_ID, REGION
from infra.local.resources import Resources, physical_name
from infra.local.template import Template
from infra.local.tokens import new_password
from notfall.clock import Clock, system_clock

USER_POOL = "AWS::Cognito::UserPool"
GROUP = "AWS::Cognito::UserPoolGroup"
CLIENT = "AWS::Cognito::UserPoolClient"
RESOURCE_SERVER = "AWS::Cognito::UserPoolResourceServer"
DOMAIN = "AWS::Cognito::UserPoolDomain"

# The pool's Properties that CreateUserPool takes as they are (UserPoolName is its PoolName).
_POOL_KEYS = (
    "AdminCreateUserConfig",
    "UsernameConfiguration",
    "UsernameAttributes",
    "AliasAttributes",
    "AutoVerifiedAttributes",
    "AccountRecoverySetting",
    "Policies",
    "MfaConfiguration",
    "Schema",
    "UserPoolTags",
)
# EnabledMfas is CloudFormation's; the API sets it with SetUserPoolMfaConfig.
_POOL_KEYS_ELSEWHERE = frozenset({"UserPoolName", "EnabledMfas"})

# How long one TokenValidityUnits unit lasts, in seconds.
_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
# Cognito's defaults when a client names no AccessTokenValidity: 60 minutes.
_DEFAULT_ACCESS_SECONDS = 3600


@dataclass(frozen=True)
class DemoUser:
    """A person of the demo, signed in by `python -m infra.local token <key>`: the key names the role."""

    group: str
    caregiver_id: str | None = None
    partner_id: str | None = None

    def attributes(self) -> list[dict[str, str]]:
        custom = {"custom:caregiver_id": self.caregiver_id, "custom:partner_id": self.partner_id}
        return [{"Name": k, "Value": v} for k, v in custom.items() if v]


# One user per role; the caregivers and the partner are the demo data's (infra/local/demo_data.json):
# Anke and Marta accept offers in the demo, Hanna declines one.
DEMO_USERS: dict[str, DemoUser] = {
    "hotline": DemoUser("hotline"),
    "accounting": DemoUser("accounting"),
    "admin": DemoUser("admin"),
    "caregiver": DemoUser("caregiver", caregiver_id="cg-demo-01"),
    "caregiver2": DemoUser("caregiver", caregiver_id="cg-demo-03"),
    "caregiver3": DemoUser("caregiver", caregiver_id="cg-demo-06"),
    "partner": DemoUser("partner", partner_id="p-leine-logistik"),
    "auditor": DemoUser("auditor"),
}
# The machine identity: no user, the phone system's app client and its client-credentials grant.
PHONE_SYSTEM = "phone-system"


@dataclass
class UserPool:
    """What was created: ids by logical id, and the demo users' passwords (they live in moto only)."""

    pool_id: str
    arn: str
    clients: dict[str, str] = field(default_factory=dict)  # logical id -> client id
    passwords: dict[str, str] = field(default_factory=dict)  # username -> password

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool_id}"

    def people_client(self, template: Template) -> str:
        """The app client without a secret: the one people sign in with."""
        for logical_id, spec in template.of_type(CLIENT).items():
            if not spec["Properties"].get("GenerateSecret"):
                return self.clients[logical_id]
        raise LookupError("the template declares no app client for people")

    def machine_client(self, template: Template) -> str:
        """The app client with the client-credentials grant: the phone system's."""
        for logical_id, spec in template.of_type(CLIENT).items():
            if "client_credentials" in spec["Properties"].get("AllowedOAuthFlows", []):
                return self.clients[logical_id]
        raise LookupError("the template declares no client-credentials app client")


def create_user_pool(template: Template, res: Resources) -> UserPool:
    """Create the template's one user pool with its groups, resource servers, app clients and
    domain in moto (boto3's default client: AWS_ENDPOINT_URL points at moto); Ref and GetAtt
    of each resolve afterwards."""
    idp = boto3.client("cognito-idp", region_name=REGION)
    [(pool_logical, pool_spec)] = template.of_type(USER_POOL).items()
    props = res.resolve(pool_spec.get("Properties", {}))
    unknown = set(props) - set(_POOL_KEYS) - _POOL_KEYS_ELSEWHERE
    if unknown:
        raise ValueError(f"{pool_logical}: user pool properties the local stack does not create: {sorted(unknown)}")
    kwargs = {k: copy.deepcopy(props[k]) for k in _POOL_KEYS if k in props}
    pool = idp.create_user_pool(PoolName=props.get("UserPoolName", physical_name(pool_logical)), **kwargs)["UserPool"]
    if "SOFTWARE_TOKEN_MFA" in props.get("EnabledMfas", []):
        idp.set_user_pool_mfa_config(
            UserPoolId=pool["Id"],
            SoftwareTokenMfaConfiguration={"Enabled": True},
            MfaConfiguration=props.get("MfaConfiguration", "OFF"),
        )
    created = UserPool(pool["Id"], pool["Arn"])
    res.refs[pool_logical] = pool["Id"]
    res.attributes[pool_logical] = {
        "Arn": pool["Arn"],
        "ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}",
        "ProviderURL": created.issuer,
        "UserPoolId": pool["Id"],
    }
    for logical_id, spec in template.of_type(GROUP).items():
        group = res.resolve(spec["Properties"])
        idp.create_group(**group)
        res.refs[logical_id] = group["GroupName"]
    for logical_id, spec in template.of_type(RESOURCE_SERVER).items():
        server = res.resolve(spec["Properties"])
        idp.create_resource_server(**server)
        res.refs[logical_id] = server["Identifier"]
    for logical_id, spec in template.of_type(CLIENT).items():
        client = idp.create_user_pool_client(**res.resolve(spec["Properties"]))["UserPoolClient"]
        created.clients[logical_id] = client["ClientId"]
        res.refs[logical_id] = client["ClientId"]
        res.attributes[logical_id] = {"Name": client["ClientName"], "ClientSecret": client.get("ClientSecret", "")}
    for logical_id, spec in template.of_type(DOMAIN).items():
        domain = res.resolve(spec["Properties"])
        idp.create_user_pool_domain(**domain)
        res.refs[logical_id] = domain["Domain"]
    return created


def add_user(pool: UserPool, username: str, user: DemoUser) -> str:
    """Create a user with a permanent password in the user's group. Only this administrator's code
    sets the custom ids (the people's app client may not write them): the service trusts them."""
    idp = boto3.client("cognito-idp", region_name=REGION)
    idp.admin_create_user(
        UserPoolId=pool.pool_id, Username=username, UserAttributes=user.attributes(), MessageAction="SUPPRESS"
    )
    password = new_password()
    idp.admin_set_user_password(UserPoolId=pool.pool_id, Username=username, Password=password, Permanent=True)
    idp.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=username, GroupName=user.group)
    pool.passwords[username] = password
    return password


def add_demo_users(pool: UserPool) -> None:
    for username, user in DEMO_USERS.items():
        add_user(pool, username, user)


# --- the token endpoint moto lacks ----------------------------------------------------------------


def _oauth_error(status: int, error: str, description: str) -> HttpResponse:
    """OAuth2's error answer (RFC 6749 5.2), as Cognito's token endpoint gives it."""
    body = {"error": error, "error_description": description}
    headers = [("Content-Type", "application/json")]
    if status == 401:
        headers.append(("WWW-Authenticate", 'Basic realm="oauth2"'))
    return HttpResponse(status, headers, json.dumps(body).encode())


def _basic_credentials(headers: list[tuple[str, str]]) -> tuple[str, str] | None:
    value = next((v for k, v in headers if k.lower() == "authorization"), "")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep and client_id else None


class TokenEndpoint:
    """`POST /oauth2/token` with grant_type=client_credentials: the client authenticates with HTTP
    Basic (id and secret as Cognito keeps them), asks for scopes its client allows (none named:
    all of them), and gets an access token signed with the pool's key."""

    def __init__(self, pool: UserPool, clock: Clock = system_clock) -> None:
        self.pool = pool
        self.clock = clock

    def handle(self, headers: list[tuple[str, str]], body: bytes) -> HttpResponse:
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        credentials = _basic_credentials(headers)
        if credentials is None:
            return _oauth_error(401, "invalid_client", "send the client id and secret by HTTP Basic authentication")
        client_id, secret = credentials
        idp = boto3.client("cognito-idp", region_name=REGION)
        try:
            client = idp.describe_user_pool_client(UserPoolId=self.pool.pool_id, ClientId=client_id)["UserPoolClient"]
        except idp.exceptions.ResourceNotFoundException:
            return _oauth_error(401, "invalid_client", "unknown client")
        if not client.get("ClientSecret") or not hmac.compare_digest(client["ClientSecret"], secret):
            return _oauth_error(401, "invalid_client", "wrong client secret")
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "only grant_type=client_credentials is served here")
        if "client_credentials" not in client.get("AllowedOAuthFlows", []):
            return _oauth_error(400, "unauthorized_client", "the client may not use the client credentials grant")
        allowed = client.get("AllowedOAuthScopes", [])
        asked = form.get("scope", "").split() or allowed
        if not asked or any(s not in allowed for s in asked):
            return _oauth_error(400, "invalid_scope", f"scopes the client may ask for: {' '.join(allowed)}")
        lifetime = _access_token_seconds(client)
        token = self.access_token(client_id, asked, lifetime)
        answer = {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}
        return HttpResponse(200, [("Content-Type", "application/json")], json.dumps(answer).encode())

    def access_token(self, client_id: str, scopes: list[str], lifetime: int, issued_at: int | None = None) -> str:
        """A client-credentials access token with Cognito's claims, signed as moto signs its tokens."""
        now = int(self.clock().timestamp()) if issued_at is None else issued_at
        claims = {
            "sub": client_id,
            "token_use": "access",
            "scope": " ".join(scopes),
            "auth_time": now,
            "iss": self.pool.issuer,
            "exp": now + lifetime,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client_id,
        }
        return sign(self.pool.pool_id, claims)


def sign(pool_id: str, claims: dict[str, Any]) -> str:
    """Sign claims with the pool's key in moto, with the header moto's own tokens carry."""
    key = cognitoidp_backends[ACCOUNT_ID][REGION].user_pools[pool_id].json_web_key
    return jwt.encode({"kid": "dummy", "alg": "RS256"}, claims, key)


def _access_token_seconds(client: dict[str, Any]) -> int:
    if "AccessTokenValidity" not in client:
        return _DEFAULT_ACCESS_SECONDS
    unit = client.get("TokenValidityUnits", {}).get("AccessToken", "hours")
    return int(client["AccessTokenValidity"]) * _UNITS[unit]
