"""Getting tokens from a running local stack, the way the apps do: people sign in to the user pool
(ADMIN_USER_PASSWORD_AUTH in moto) and send their id token; the phone system gets an access token
with the client credentials grant from the stack's token endpoint. Used by `python -m infra.local
token <role>`, the demo loader and the e2e tests; the stack's `GET /_local` says where everything is."""

from __future__ import annotations

import base64
import secrets
import string
import threading
import time
from typing import Any
from urllib.parse import urlencode

import boto3
import jwt

from infra.local.aws import FAKE_CREDENTIALS, REGION
from infra.local.client import call

PHONE_SYSTEM = "phone-system"
# A token is fetched anew when less than this is left of it.
_MARGIN_SECONDS = 60


def new_password() -> str:
    """A random password the template's policy accepts (length, lower, upper, digit)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20)) + "aA1"


class TokenError(RuntimeError):
    """No token: the stack is not running, or refused the sign-in."""


class Tokens:
    """Tokens for the roles of one running stack (`roles`), each kept until shortly before it expires."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._auth: dict[str, Any] | None = None
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @property
    def auth(self) -> dict[str, Any]:
        if self._auth is None:
            try:
                status, described = call("GET", f"{self.url}/_local", timeout=10)
            except OSError as err:
                raise TokenError(f"no local stack at {self.url}: {err}") from None
            if status != 200 or "auth" not in described:
                raise TokenError(f"{self.url} is no local stack with a user pool: {status}")
            self._auth = described["auth"]
        return self._auth

    @property
    def roles(self) -> list[str]:
        return list(self.auth["roles"])

    def token(self, role: str) -> str:
        with self._lock:
            cached = self._cache.get(role)
            if cached and cached[1] - _MARGIN_SECONDS > time.time():
                return cached[0]
            token = self._fetch(role)
            self._cache[role] = (token, float(jwt.decode(token, options={"verify_signature": False})["exp"]))
            return token

    def headers(self, role: str) -> dict[str, str]:
        """The header API Gateway's authorizer reads: the raw token."""
        return {"Authorization": self.token(role)}

    def caregiver(self, caregiver_id: str) -> str:
        """The id token of a caregiver's own user, created on first use as an administrator creates
        one (`admin-create-user` with the caregiver id, the caregiver group); each sign-in sets a
        fresh password first, as an administrator's password reset does."""
        with self._lock:
            key = f"caregiver:{caregiver_id}"
            cached = self._cache.get(key)
            if cached and cached[1] - _MARGIN_SECONDS > time.time():
                return cached[0]
            idp, pool = self._idp(), self.auth["user_pool_id"]
            username = f"caregiver-{caregiver_id}"
            try:
                idp.admin_create_user(
                    UserPoolId=pool,
                    Username=username,
                    UserAttributes=[{"Name": "custom:caregiver_id", "Value": caregiver_id}],
                    MessageAction="SUPPRESS",
                )
                idp.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName="caregiver")
            except idp.exceptions.UsernameExistsException:
                pass
            password = new_password()
            idp.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
            token = self.sign_in(username, password)
            self._cache[key] = (token, float(jwt.decode(token, options={"verify_signature": False})["exp"]))
            return token

    def _fetch(self, role: str) -> str:
        if role == PHONE_SYSTEM:
            return self.client_credentials(self.auth["machine_client_id"])
        password = self.auth["users"].get(role)
        if password is None:
            raise TokenError(f"no demo user {role!r}; roles: {', '.join(self.roles)}")
        return self.sign_in(role, password)

    def _idp(self) -> Any:
        # moto accepts any credentials; these keep a developer's own AWS profile out of it.
        keys = FAKE_CREDENTIALS
        return boto3.client(
            "cognito-idp",
            region_name=REGION,
            endpoint_url=self.auth["cognito_endpoint"],
            aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=keys["AWS_SESSION_TOKEN"],
        )

    def sign_in(self, username: str, password: str) -> str:
        """A person's id token (what the API's routes without scopes take)."""
        answer = self._idp().admin_initiate_auth(
            UserPoolId=self.auth["user_pool_id"],
            ClientId=self.auth["people_client_id"],
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        if "AuthenticationResult" not in answer:
            raise TokenError(f"{username}: the sign-in asks for {answer.get('ChallengeName')}")
        return str(answer["AuthenticationResult"]["IdToken"])

    def client_credentials(self, client_id: str, scope: str | None = None) -> str:
        """A machine's access token from the token endpoint; its secret is read from the pool,
        as the phone system's operator reads it from Cognito."""
        client = self._idp().describe_user_pool_client(UserPoolId=self.auth["user_pool_id"], ClientId=client_id)
        basic = base64.b64encode(f"{client_id}:{client['UserPoolClient']['ClientSecret']}".encode()).decode()
        form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
        status, answer = call(
            "POST",
            self.auth["token_url"],
            urlencode(form).encode(),
            {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 200:
            raise TokenError(f"the token endpoint answered {status}: {answer}")
        return str(answer["access_token"])
