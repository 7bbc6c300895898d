"""Who is calling: the roles, and the identity read off the claims API Gateway's Cognito authorizer
verified (`requestContext.authorizer.claims`), with the pseudonymous actor recorded on events.

People sign in to the user pool; their roles are its groups, and a caregiver's or partner user's
tenant is a custom attribute only administrators can set. The phone system is a machine: an app
client with the client-credentials grant, known by its `client_id` and the scope it was granted.
Names and e-mail addresses never leave the token: the actor is `user:<sub>` or `client:<id>`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """A user-pool group (people), or the phone system's machine identity."""

    HOTLINE = "hotline"
    ACCOUNTING = "accounting"
    ADMIN = "admin"
    CAREGIVER = "caregiver"
    PARTNER = "partner"
    AUDITOR = "auditor"
    PHONE_SYSTEM = "phone-system"


# The scope the phone system's app client is granted (resource server `notfall`).
PHONE_SYSTEM_SCOPE = "notfall/call-events"

GROUPS_CLAIM = "cognito:groups"
CAREGIVER_CLAIM = "custom:caregiver_id"
PARTNER_CLAIM = "custom:partner_id"


@dataclass(frozen=True)
class Identity:
    """A verified caller: a stable pseudonymous principal, its roles, and for caregivers and
    partner users the tenant they belong to."""

    principal: str  # "user:<sub>" or "client:<client_id>"
    roles: frozenset[Role]
    caregiver_id: str | None = None
    partner_id: str | None = None

    @property
    def actor(self) -> str:
        """What events record as their actor: the principal, never a name."""
        return self.principal

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any] | None) -> Identity | None:
        """The identity the verified claims describe; None when they name no principal.

        A person's id or access token carries `cognito:username` (or `username`) and `sub`; a
        client-credentials access token carries `client_id` and `scope` only. Groups that are
        no role, and a scope that is not the phone system's, grant nothing."""
        if not claims:
            return None
        if "cognito:username" in claims or "username" in claims:
            sub = _text(claims.get("sub"))
            if not sub:
                return None
            roles = frozenset(Role(g) for g in parse_groups(claims.get(GROUPS_CLAIM)) if g in _PEOPLE_ROLES)
            return cls(
                principal=f"user:{sub}",
                roles=roles,
                caregiver_id=_text(claims.get(CAREGIVER_CLAIM)) if Role.CAREGIVER in roles else None,
                partner_id=_text(claims.get(PARTNER_CLAIM)) if Role.PARTNER in roles else None,
            )
        client_id = _text(claims.get("client_id"))
        if not client_id:
            return None
        scopes = (_text(claims.get("scope")) or "").split()
        machine = frozenset({Role.PHONE_SYSTEM}) if PHONE_SYSTEM_SCOPE in scopes else frozenset()
        return cls(principal=f"client:{client_id}", roles=machine)


# The phone system is a machine identity: a user-pool group of that name grants nothing.
_PEOPLE_ROLES = frozenset(r.value for r in Role) - {Role.PHONE_SYSTEM.value}


def parse_groups(value: Any) -> list[str]:
    """`cognito:groups` as it arrives. In the token it is a JSON array; API Gateway's REST
    authorizer hands every claim on as a string: "hotline" for one group, and for several a
    comma-separated "hotline,admin" or the bracketed "[hotline admin]" / "[hotline, admin]"
    that HTTP APIs and some clients write. A JSON array string is read as one too."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
        except ValueError:
            text = text[1:-1]
        else:
            if isinstance(parsed, list):
                return parse_groups(parsed)
    return [g for g in text.replace(",", " ").split() if g]


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None
