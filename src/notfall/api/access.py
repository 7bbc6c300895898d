"""Who may call which route: the one declaration, the decision over it, and the README's table.

Every route of the API (method and path template as in template.yaml) is declared once with the
roles that may call it. Caregivers and partner users are never granted a whole route: only their
own tenant's, named by a path parameter that must equal the id their sign-in carries. Anything
not declared is refused. `python -m notfall.api.access` prints the README's table;
`python -m notfall.api.access --readme README.md` rewrites it there.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from notfall.api.identity import Identity, Role

HOTLINE, ACCOUNTING, ADMIN = Role.HOTLINE, Role.ACCOUNTING, Role.ADMIN
CAREGIVER, PARTNER, AUDITOR, PHONE_SYSTEM = Role.CAREGIVER, Role.PARTNER, Role.AUDITOR, Role.PHONE_SYSTEM
# Roles that only read: never granted a route that writes.
READ_ONLY = frozenset({AUDITOR})
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Roles that reach only their own tenant's data.
TENANTS: dict[Role, Literal["caregiver_id", "partner_id"]] = {CAREGIVER: "caregiver_id", PARTNER: "partner_id"}


@dataclass(frozen=True)
class Own:
    """A tenant rule: `role` may call the route only when the path parameter `param` is the
    caregiver or partner id its sign-in carries."""

    role: Role
    param: str


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    whole: frozenset[Role]  # roles that may call it for any ids in the path
    own: tuple[Own, ...] = ()  # tenant roles that may call it for their own id only
    public: bool = False  # no sign-in needed

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def writes(self) -> bool:
        return self.method in WRITES

    def roles(self) -> frozenset[Role]:
        return self.whole | {o.role for o in self.own}


def route(spec: str, *grants: Role | Own) -> Route:
    """`route("GET /caregivers/{caregiver_id}", HOTLINE, Own(CAREGIVER, "caregiver_id"))`."""
    method, path = spec.split(" ", 1)
    whole = frozenset(g for g in grants if isinstance(g, Role))
    own = tuple(g for g in grants if isinstance(g, Own))
    if whole & TENANTS.keys():
        raise ValueError(f"{spec}: caregivers and partners are granted only their own data (Own)")
    for o in own:
        if o.role not in TENANTS or "{" + o.param + "}" not in path:
            raise ValueError(f"{spec}: {o} names no tenant role or no parameter of the path")
    return Route(method, path, whole, own)


def public(spec: str) -> Route:
    method, path = spec.split(" ", 1)
    return Route(method, path, frozenset(), public=True)


CASE_WORK = (HOTLINE, ADMIN)
CASE_READ = (HOTLINE, ADMIN, AUDITOR)
REPORTS = (HOTLINE, ACCOUNTING, ADMIN, AUDITOR)
BILLING = (ACCOUNTING, ADMIN)
BILLING_READ = (ACCOUNTING, ADMIN, AUDITOR)
OWN_CAREGIVER = Own(CAREGIVER, "caregiver_id")
OWN_PARTNER = Own(PARTNER, "partner_id")

ROUTES: tuple[Route, ...] = (
    # Calls: only the phone system reports them.
    route("POST /calls/events", PHONE_SYSTEM),
    # Case work by the hotline (administrators can do whatever staff can).
    route("POST /cases/{case_id}/consultation", *CASE_WORK),
    route("POST /cases/{case_id}/need", *CASE_WORK),
    route("POST /cases/{case_id}/outcome", *CASE_WORK),
    route("POST /cases/{case_id}/callback", *CASE_WORK),
    route("POST /cases/{case_id}/close", *CASE_WORK),
    route("GET /cases/{case_id}", *CASE_READ),
    route("GET /cases", *CASE_READ),
    route("GET /callbacks", *CASE_READ),
    route("GET /cases/{case_id}/candidates", *CASE_READ),
    route("POST /cases/{case_id}/offers", *CASE_WORK),
    route("POST /cases/{case_id}/assign", *CASE_WORK),
    route("POST /cases/{case_id}/reassign", *CASE_WORK),
    route("POST /cases/{case_id}/cancel-assignment", *CASE_WORK),
    route("POST /cases/{case_id}/sessions", *CASE_WORK),
    route("POST /cases/{case_id}/sessions/{session_id}/correction", *CASE_WORK),
    route("POST /cases/{case_id}/sessions/{session_id}/void", *CASE_WORK),
    route("POST /cases/{case_id}/transports", *CASE_WORK),
    route("POST /cases/{case_id}/transports/{transport_id}/done", *CASE_WORK),
    route("POST /cases/{case_id}/transports/{transport_id}/cancel", *CASE_WORK),
    # The caregiver register: administrators register, staff keep it; a caregiver reads their own entry.
    route("POST /caregivers", ADMIN),
    route("GET /caregivers", *REPORTS),
    route("GET /caregivers/{caregiver_id}", *REPORTS, OWN_CAREGIVER),
    route("PUT /caregivers/{caregiver_id}/profile", *CASE_WORK),
    route("POST /caregivers/{caregiver_id}/trainings", *CASE_WORK),
    route("POST /caregivers/{caregiver_id}/status", *CASE_WORK),
    # A caregiver's own work; staff keep availability for those who phone it in.
    route("PUT /caregivers/{caregiver_id}/availability/weekly", *CASE_WORK, OWN_CAREGIVER),
    route("POST /caregivers/{caregiver_id}/availability/one-off", *CASE_WORK, OWN_CAREGIVER),
    route("DELETE /caregivers/{caregiver_id}/availability/one-off/{window_id}", *CASE_WORK, OWN_CAREGIVER),
    route("GET /caregivers/{caregiver_id}/offers", *CASE_READ, OWN_CAREGIVER),
    route("GET /caregivers/{caregiver_id}/assignments", *CASE_READ, OWN_CAREGIVER),
    route("POST /caregivers/{caregiver_id}/cases/{case_id}/offers/{offer_id}/accept", OWN_CAREGIVER),
    route("POST /caregivers/{caregiver_id}/cases/{case_id}/offers/{offer_id}/decline", OWN_CAREGIVER),
    route("POST /caregivers/{caregiver_id}/cases/{case_id}/check-in", OWN_CAREGIVER),
    route("POST /caregivers/{caregiver_id}/cases/{case_id}/check-out", OWN_CAREGIVER),
    route("GET /caregivers/{caregiver_id}/hours", *REPORTS, OWN_CAREGIVER),
    route("GET /caregivers/{caregiver_id}/statements/{month}", *REPORTS, OWN_CAREGIVER),
    # Reports.
    route("GET /hours/{month}", *REPORTS),
    route("GET /families/{family_id}/hours", *REPORTS),
    route("GET /reports/demand", *REPORTS),
    route("GET /reports/transports/{month}", *REPORTS),
    # The statistics report: the period's cases from the read model, served by the audit function.
    route("GET /reports/statistics", *REPORTS),
    # Partners: administrators register them, accounting keeps contracts, counts and billing
    # details; a partner user reads their own partner's record.
    route("POST /partners", ADMIN),
    route("GET /partners", *REPORTS),
    route("GET /partners/{partner_id}", *REPORTS, OWN_PARTNER),
    route("POST /partners/{partner_id}/contracts", *BILLING),
    route("POST /partners/{partner_id}/contracts/{contract_id}/end", *BILLING),
    route("POST /partners/{partner_id}/child-counts", *BILLING),
    route("PUT /partners/{partner_id}/billing", *BILLING),
    # Prices and billing addresses; the hotline quotes prices and takes a family's address.
    route("POST /tariffs", *BILLING),
    route("GET /tariffs", *REPORTS),
    route("POST /tariffs/published", *BILLING),
    route("PUT /families/{family_id}/billing-address", HOTLINE, *BILLING),
    # Invoicing; a partner's debtor id is its partner id, so a partner user sees its own open items.
    route("POST /invoice-runs", *BILLING),
    route("GET /invoices", *BILLING_READ),
    route("GET /invoices/{number}", *BILLING_READ),
    route("POST /invoices/{number}/cancel", *BILLING),
    route("POST /invoices/{number}/payments", *BILLING),
    route("GET /invoices/{number}/documents", *BILLING_READ),
    route("GET /debtors/{debtor_id}/open-items", *BILLING_READ, Own(PARTNER, "debtor_id")),
    # Usage statements: a partner user reads their own partner's; staff who keep partners read any.
    route("GET /partners/{partner_id}/statement", *BILLING_READ, OWN_PARTNER),
    route("GET /partners/{partner_id}/statement/documents", *BILLING_READ, OWN_PARTNER),
    # The family's consent to the 34a listing, taken by the hotline at intake.
    route("POST /cases/{case_id}/payroll-consent", *CASE_WORK),
    # The complete history, personal data included: auditors only.
    route("GET /audit/events", AUDITOR),
    # The read models as of a past day, rebuilt from that history: auditors only, read-only.
    route("GET /audit/as-of", AUDITOR),
    route("GET /audit/export", AUDITOR),
    route("GET /audit/checkpoints", AUDITOR),
    route("GET /audit/checkpoints/{position}", AUDITOR),
    route("GET /audit/public-key", AUDITOR),
    # The API's description holds no data; a browser opening Swagger UI sends no token.
    public("GET /openapi.json"),
    public("GET /swagger"),
)

BY_KEY: dict[tuple[str, str], Route] = {r.key: r for r in ROUTES}


@dataclass(frozen=True)
class Allowed:
    """The call may go ahead; `identity` is None on a public route called without sign-in."""

    identity: Identity | None

    @property
    def actor(self) -> str | None:
        return self.identity.actor if self.identity else None


@dataclass(frozen=True)
class Refusal:
    """401 without a verified identity, 403 naming the rule the caller does not meet."""

    status: int
    rule: Literal["sign-in", "role", "tenant", "undeclared"]
    problem: str
    field: str = "header.Authorization"
    principal: str | None = None  # for the refusal's log line, never for the client

    def body(self) -> dict[str, Any]:
        """The project's error shape: `{"message", "errors": [{"field", "problem"}]}`."""
        return {"message": self.problem, "errors": [{"field": self.field, "problem": self.problem}]}


def authorize(
    identity: Identity | None, method: str, path_template: str, path_params: Mapping[str, str] | None = None
) -> Allowed | Refusal:
    """May this identity call this route with these path parameters? Undeclared routes are refused."""
    declared = BY_KEY.get((method.upper(), path_template))
    if declared is not None and declared.public:
        return Allowed(identity)
    if identity is None:
        return Refusal(401, "sign-in", "sign in first: this route needs a valid token")
    if declared is None:
        return Refusal(403, "undeclared", f"no access rule is declared for {method.upper()} {path_template}")
    if identity.roles & declared.whole:
        return Allowed(identity)
    params = path_params or {}
    tenant_refusal = None
    for own in declared.own:
        if own.role not in identity.roles:
            continue
        claim = TENANTS[own.role]
        mine = getattr(identity, claim)
        if mine is not None and params.get(own.param) == mine:
            return Allowed(identity)
        tenant_refusal = Refusal(
            403,
            "tenant",
            f"a {own.role} user may reach only their own {own.param}"
            + ("" if mine else f": the sign-in carries no {claim}"),
            field=f"path.{own.param}",
            principal=identity.principal,
        )
    if tenant_refusal is not None:
        return tenant_refusal
    allowed = ", ".join(sorted(declared.roles())) or "nobody"
    return Refusal(
        403,
        "role",
        f"{declared.method} {declared.path} is for {allowed}",
        principal=identity.principal,
    )


# Who asked for a care change (`by` of a cancellation or reassignment), as a caller may state it:
# staff take the calls of families and caregivers and may name either, or themselves; a caregiver
# speaks only for themselves. The first party is the one a caller who names nobody speaks for.
_STAFF = ("staff", "family", "caregiver")
SPEAKS_FOR: dict[Role, tuple[str, ...]] = {HOTLINE: _STAFF, ADMIN: _STAFF, CAREGIVER: ("caregiver",)}


def speaks_for(identity: Identity) -> tuple[str, ...]:
    """The parties this caller may name as having asked for a care change, their own first."""
    parties: list[str] = []
    for role, theirs in SPEAKS_FOR.items():
        if role in identity.roles:
            parties += [p for p in theirs if p not in parties]
    return tuple(parties)


# The README's table: one row per route, one column per role, in this order.
COLUMNS = (HOTLINE, ACCOUNTING, ADMIN, CAREGIVER, PARTNER, AUDITOR, PHONE_SYSTEM)
TABLE_START = "<!-- access table: generated by `python -m notfall.api.access --readme README.md` -->"
TABLE_END = "<!-- end of access table -->"


def _cell(r: Route, role: Role) -> str:
    if r.public:
        return "public"
    if role in r.whole:
        return "yes"
    own = [o for o in r.own if o.role == role]
    return f"own `{own[0].param}`" if own else "-"


def table() -> str:
    """The role × route table in Markdown, from ROUTES."""
    lines = [
        "| route | " + " | ".join(COLUMNS) + " |",
        "|---|" + "---|" * len(COLUMNS),
        *(f"| `{r.method} {r.path}` | " + " | ".join(_cell(r, role) for role in COLUMNS) + " |" for r in ROUTES),
    ]
    return "\n".join(lines) + "\n"


def with_table(readme: str) -> str:
    """The README with the generated table between its two markers."""
    head, start, rest = readme.partition(TABLE_START)
    _, end, tail = rest.partition(TABLE_END)
    if not start or not end:
        raise ValueError("the README lacks the access table's markers")
    return f"{head}{TABLE_START}\n{table()}{TABLE_END}{tail}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m notfall.api.access", description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, help="rewrite the table between the markers in this file")
    args = parser.parse_args(argv)
    if args.readme is None:
        sys.stdout.write(table())
        return
    args.readme.write_text(with_table(args.readme.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
