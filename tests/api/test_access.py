"""Who may call which route (src/notfall/api/access.py) and who is calling (src/notfall/api/identity.py):
every route declared once, read-only roles never write, caregivers and partner users only reach
their own data, claims read in every shape API Gateway hands them on, 401 without sign-in, and the
README's table generated from the declaration."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra.local.template import Template
from notfall.api import openapi
from notfall.api.access import (
    BY_KEY,
    READ_ONLY,
    ROUTES,
    TABLE_END,
    TABLE_START,
    Allowed,
    Own,
    Refusal,
    authorize,
    main,
    route,
    speaks_for,
    table,
    with_table,
)
from notfall.api.identity import PHONE_SYSTEM_SCOPE, Identity, Role, parse_groups

ROOT = Path(__file__).resolve().parents[2]


def person(*roles: Role, caregiver_id: str | None = None, partner_id: str | None = None) -> Identity:
    return Identity("user:0b6e2f4a", frozenset(roles), caregiver_id=caregiver_id, partner_id=partner_id)


PHONE = Identity("client:phone1", frozenset({Role.PHONE_SYSTEM}))
ANKE = person(Role.CAREGIVER, caregiver_id="cg-anke-brenner")
HANNA = person(Role.CAREGIVER, caregiver_id="cg-hanna-vogt")
LEINE = person(Role.PARTNER, partner_id="leine-logistik")
GARBSEN = person(Role.PARTNER, partner_id="garbsen")


def params_of(path: str, **ids: str) -> dict[str, str]:
    """Every parameter of a path template filled, the named ones as given."""
    return {name: ids.get(name, f"some-{name}") for name in re.findall(r"{(\w+)}", path)}


# --- the declaration covers exactly the API ------------------------------------------------------


def test_every_route_of_the_openapi_document_and_the_template_is_declared_exactly_once():
    declared = [r.key for r in ROUTES]
    assert len(declared) == len(set(declared)), "a route is declared twice"
    document = json.loads(openapi.document())
    in_document = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    in_template = set(Template.load().api_paths())
    assert in_document <= in_template  # the document leaves out only itself and Swagger UI
    assert set(declared) == in_template, (
        f"undeclared: {sorted(in_template - set(declared))}; not in the template: {sorted(set(declared) - in_template)}"
    )


def test_a_read_only_role_has_no_write_route():
    for r in ROUTES:
        if r.writes:
            assert not (r.roles() & READ_ONLY), f"{r.method} {r.path} grants a read-only role"
            assert not r.public
    auditor = person(Role.AUDITOR)
    assert isinstance(authorize(auditor, "GET", "/audit/events", {}), Allowed)
    refused = authorize(auditor, "POST", "/invoices/{number}/payments", {"number": "F-2026-00001"})
    assert isinstance(refused, Refusal) and refused.status == 403 and refused.rule == "role"


def test_caregivers_and_partners_are_never_granted_a_whole_route():
    with pytest.raises(ValueError, match="own data"):
        route("GET /caregivers/{caregiver_id}/hours", Role.CAREGIVER)
    with pytest.raises(ValueError, match="no parameter of the path"):
        route("GET /partners", Own(Role.PARTNER, "partner_id"))
    for r in ROUTES:
        assert not r.whole & {Role.CAREGIVER, Role.PARTNER}


# --- the decision, route by route ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "method", "path", "ids", "answer"),
    [
        # worked out from the rules in docs/domain-rules.md ("Who may do what"), not from the table
        (PHONE, "POST", "/calls/events", {}, 200),
        (person(Role.HOTLINE), "POST", "/calls/events", {}, 403),
        (PHONE, "GET", "/cases/{case_id}", {}, 403),
        (person(Role.HOTLINE), "POST", "/cases/{case_id}/outcome", {}, 200),
        (person(Role.ADMIN), "POST", "/cases/{case_id}/outcome", {}, 200),
        (person(Role.ACCOUNTING), "POST", "/cases/{case_id}/outcome", {}, 403),
        (person(Role.AUDITOR), "GET", "/cases/{case_id}", {}, 200),
        (person(Role.AUDITOR), "POST", "/cases/{case_id}/close", {}, 403),
        (person(Role.HOTLINE), "POST", "/caregivers", {}, 403),
        (person(Role.ADMIN), "POST", "/caregivers", {}, 200),
        (person(Role.ADMIN), "POST", "/partners", {}, 200),
        (person(Role.ACCOUNTING), "POST", "/partners", {}, 403),
        (person(Role.ACCOUNTING), "POST", "/invoice-runs", {}, 200),
        (person(Role.HOTLINE), "POST", "/invoice-runs", {}, 403),
        (person(Role.ACCOUNTING), "POST", "/tariffs", {}, 200),
        (person(Role.HOTLINE), "GET", "/tariffs", {}, 200),
        (person(Role.HOTLINE), "GET", "/audit/events", {}, 403),
        (person(Role.ADMIN), "GET", "/audit/events", {}, 403),
        (ANKE, "POST", "/caregivers/{caregiver_id}/cases/{case_id}/offers/{offer_id}/accept", {}, 200),
        (person(Role.HOTLINE), "POST", "/caregivers/{caregiver_id}/cases/{case_id}/check-in", {}, 403),
        (ANKE, "GET", "/caregivers/{caregiver_id}/statements/{month}", {}, 200),
        (ANKE, "PUT", "/caregivers/{caregiver_id}/profile", {}, 403),
        (ANKE, "GET", "/cases/{case_id}", {}, 403),
        (LEINE, "GET", "/partners/{partner_id}", {}, 200),
        (LEINE, "GET", "/debtors/{debtor_id}/open-items", {"debtor_id": "leine-logistik"}, 200),
        (LEINE, "GET", "/partners", {}, 403),
        (LEINE, "GET", "/invoices/{number}", {}, 403),
        (None, "GET", "/openapi.json", {}, 200),
        (None, "GET", "/swagger", {}, 200),
        (None, "GET", "/cases", {}, 401),
    ],
)
def test_the_declared_answer(who, method, path, ids, answer):
    own = {"caregiver_id": "cg-anke-brenner", "partner_id": "leine-logistik", **ids}
    decision = authorize(who, method, path, params_of(path, **own))
    assert (200 if isinstance(decision, Allowed) else decision.status) == answer


def test_every_route_with_every_role_and_without_sign_in_answers_as_the_table_says():
    cells = {
        (line.split("`")[1], role)
        for line in table().splitlines()[2:]
        for role, cell in zip(
            ["hotline", "accounting", "admin", "caregiver", "partner", "auditor", "phone-system"],
            [c.strip() for c in line.split("|")[2:-1]],
            strict=True,
        )
        if cell != "-"
    }
    assert len(table().splitlines()) == 2 + len(ROUTES)
    for r in ROUTES:
        for role in Role:
            who = person(role, caregiver_id="cg-anke-brenner", partner_id="leine-logistik")
            if role is Role.PHONE_SYSTEM:
                who = PHONE
            ids = params_of(
                r.path, caregiver_id="cg-anke-brenner", partner_id="leine-logistik", debtor_id="leine-logistik"
            )
            decision = authorize(who, r.method, r.path, ids)
            assert isinstance(decision, Allowed) == ((f"{r.method} {r.path}", role.value) in cells), (r.key, role)
        anonymous = authorize(None, r.method, r.path, params_of(r.path))
        assert isinstance(anonymous, Allowed) if r.public else anonymous == Refusal(401, "sign-in", anonymous.problem)


def test_without_identity_401_with_the_projects_error_shape():
    refused = authorize(None, "POST", "/cases/{case_id}/need", {"case_id": "c-1"})
    assert isinstance(refused, Refusal) and refused.status == 401
    assert refused.body() == {
        "message": "sign in first: this route needs a valid token",
        "errors": [{"field": "header.Authorization", "problem": "sign in first: this route needs a valid token"}],
    }


def test_a_wrong_role_is_refused_naming_the_roles_the_route_is_for():
    refused = authorize(person(Role.ACCOUNTING), "POST", "/cases/{case_id}/offers", {"case_id": "c-1"})
    assert isinstance(refused, Refusal)
    assert (refused.status, refused.rule, refused.field) == (403, "role", "header.Authorization")
    assert refused.problem == "POST /cases/{case_id}/offers is for admin, hotline"
    assert refused.principal == "user:0b6e2f4a"


def test_an_undeclared_route_is_refused():
    refused = authorize(person(Role.ADMIN), "DELETE", "/cases/{case_id}", {"case_id": "c-1"})
    assert isinstance(refused, Refusal) and (refused.status, refused.rule) == (403, "undeclared")


# --- tenants --------------------------------------------------------------------------------------


CAREGIVER_ROUTES = [r for r in ROUTES if any(o.role is Role.CAREGIVER for o in r.own)]
PARTNER_ROUTES = [r for r in ROUTES if any(o.role is Role.PARTNER for o in r.own)]


def test_the_tenant_routes_are_the_ones_the_rules_name():
    assert len(CAREGIVER_ROUTES) == 12  # own entry, availability (3), offers, assignments, 4 answers, hours, statements
    assert {r.key for r in PARTNER_ROUTES} == {
        ("GET", "/partners/{partner_id}"),
        ("GET", "/debtors/{debtor_id}/open-items"),
        ("GET", "/partners/{partner_id}/statement"),
        ("GET", "/partners/{partner_id}/statement/documents"),
    }


@pytest.mark.parametrize("r", CAREGIVER_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_a_caregiver_reaches_only_their_own_caregiver_id(r):
    mine = authorize(ANKE, r.method, r.path, params_of(r.path, caregiver_id="cg-anke-brenner"))
    theirs = authorize(ANKE, r.method, r.path, params_of(r.path, caregiver_id="cg-hanna-vogt"))
    assert isinstance(mine, Allowed) and mine.actor == "user:0b6e2f4a"
    assert isinstance(theirs, Refusal)
    assert (theirs.status, theirs.rule, theirs.field) == (403, "tenant", "path.caregiver_id")
    assert theirs.problem == "a caregiver user may reach only their own caregiver_id"
    assert isinstance(authorize(HANNA, r.method, r.path, params_of(r.path, caregiver_id="cg-hanna-vogt")), Allowed)


@pytest.mark.parametrize("r", PARTNER_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_a_partner_user_reaches_only_their_own_partner(r):
    [param] = [o.param for o in r.own if o.role is Role.PARTNER]
    assert isinstance(authorize(LEINE, r.method, r.path, {param: "leine-logistik"}), Allowed)
    theirs = authorize(LEINE, r.method, r.path, {param: "garbsen"})
    assert isinstance(theirs, Refusal) and (theirs.status, theirs.field) == (403, f"path.{param}")
    assert isinstance(authorize(GARBSEN, r.method, r.path, {param: "garbsen"}), Allowed)


def test_a_caregiver_whose_sign_in_carries_no_caregiver_id_reaches_nothing_of_a_caregiver():
    unbound = person(Role.CAREGIVER)
    refused = authorize(unbound, "GET", "/caregivers/{caregiver_id}/hours", {"caregiver_id": "cg-anke-brenner"})
    assert isinstance(refused, Refusal) and refused.rule == "tenant"
    assert refused.problem.endswith("the sign-in carries no caregiver_id")


def test_a_caregiver_who_is_also_hotline_staff_works_as_staff():
    both = person(Role.CAREGIVER, Role.HOTLINE, caregiver_id="cg-anke-brenner")
    ids = {"caregiver_id": "cg-hanna-vogt"}
    assert isinstance(authorize(both, "GET", "/caregivers/{caregiver_id}/assignments", ids), Allowed)
    # ... but answers offers and checks in only as themselves
    path = "/caregivers/{caregiver_id}/cases/{case_id}/check-in"
    assert isinstance(authorize(both, "POST", path, {**ids, "case_id": "c-1"}), Refusal)


# --- who may say who asked for a care change (`by`) --------------------------------------------


def test_staff_speak_for_families_caregivers_and_themselves_a_caregiver_only_for_themselves():
    assert speaks_for(person(Role.HOTLINE)) == ("staff", "family", "caregiver")
    assert speaks_for(person(Role.ADMIN)) == ("staff", "family", "caregiver")
    assert speaks_for(ANKE) == ("caregiver",)
    assert speaks_for(person(Role.CAREGIVER, Role.HOTLINE, caregiver_id="cg-anke-brenner"))[0] == "staff"
    assert speaks_for(person(Role.AUDITOR)) == speaks_for(PHONE) == speaks_for(LEINE) == ()


# --- claims --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("groups", "roles"),
    [
        ("hotline", {Role.HOTLINE}),  # one group: a plain string
        ("hotline,admin", {Role.HOTLINE, Role.ADMIN}),  # REST API: comma separated
        ("[hotline admin]", {Role.HOTLINE, Role.ADMIN}),  # HTTP API style: bracketed, space separated
        ("[hotline, admin]", {Role.HOTLINE, Role.ADMIN}),
        ('["hotline", "admin"]', {Role.HOTLINE, Role.ADMIN}),  # a JSON array as a string
        (["hotline", "admin"], {Role.HOTLINE, Role.ADMIN}),  # the token's own array
        ("hotline, team-leads", {Role.HOTLINE}),  # a group that is no role grants nothing
        ("phone-system", set()),  # a person cannot be the phone system
        ("", set()),
        (None, set()),
    ],
)
def test_groups_in_every_shape_api_gateway_hands_them_on(groups, roles):
    claims = {"sub": "0b6e2f4a", "cognito:username": "0b6e2f4a", "email": "someone@example.org"}
    if groups is not None:
        claims["cognito:groups"] = groups
    identity = Identity.from_claims(claims)
    assert identity is not None and identity.roles == roles


def test_parse_groups_keeps_order_and_drops_blanks():
    assert parse_groups(" [accounting,  auditor ] ") == ["accounting", "auditor"]


def test_a_person_is_their_sub_never_their_name_or_email():
    identity = Identity.from_claims(
        {
            "sub": "7d2c61e0-51b3-4c43-9f3e-0a8c4d1f2b55",
            "cognito:username": "anke.brenner",
            "email": "anke@example.org",
            "name": "Anke Brenner",
            "cognito:groups": "caregiver",
            "custom:caregiver_id": "cg-anke-brenner",
            "custom:partner_id": "leine-logistik",  # no partner role: ignored
            "token_use": "id",
        }
    )
    assert identity == Identity(
        "user:7d2c61e0-51b3-4c43-9f3e-0a8c4d1f2b55", frozenset({Role.CAREGIVER}), caregiver_id="cg-anke-brenner"
    )
    assert identity.actor == "user:7d2c61e0-51b3-4c43-9f3e-0a8c4d1f2b55"


def test_a_partner_user_carries_their_partner_id():
    claims = {"sub": "s-1", "cognito:username": "s-1", "cognito:groups": "partner", "custom:partner_id": "garbsen"}
    assert Identity.from_claims(claims) == Identity("user:s-1", frozenset({Role.PARTNER}), partner_id="garbsen")


def test_the_phone_system_is_a_client_with_its_scope():
    access_token = {
        "sub": "5r8kq1phonesystem",
        "client_id": "5r8kq1phonesystem",
        "token_use": "access",
        "scope": f"{PHONE_SYSTEM_SCOPE} notfall/other",
    }
    assert Identity.from_claims(access_token) == Identity("client:5r8kq1phonesystem", frozenset({Role.PHONE_SYSTEM}))
    other_client = {**access_token, "scope": "notfall/other"}
    identity = Identity.from_claims(other_client)
    assert identity is not None and identity.roles == frozenset()
    assert isinstance(authorize(identity, "POST", "/calls/events", {}), Refusal)


def test_a_person_with_the_phone_systems_scope_is_still_a_person():
    user_access_token = {"sub": "s-1", "username": "s-1", "client_id": "webapp", "scope": PHONE_SYSTEM_SCOPE}
    identity = Identity.from_claims(user_access_token)
    assert identity is not None and identity.principal == "user:s-1" and identity.roles == frozenset()


@pytest.mark.parametrize(
    "claims", [None, {}, {"cognito:username": "x"}, {"token_use": "access", "scope": PHONE_SYSTEM_SCOPE}]
)
def test_claims_that_name_no_principal_are_no_identity(claims):
    assert Identity.from_claims(claims) is None


# --- the README -------------------------------------------------------------------------------------


def test_the_readme_holds_exactly_the_generated_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count(TABLE_START) == 1 and readme.count(TABLE_END) == 1
    assert with_table(readme) == readme, "regenerate: python -m notfall.api.access --readme README.md"
    between = readme.split(TABLE_START)[1].split(TABLE_END)[0]
    assert between == "\n" + table()


def test_the_table_is_routes_by_roles():
    lines = table().splitlines()
    assert lines[0] == "| route | hotline | accounting | admin | caregiver | partner | auditor | phone-system |"
    assert len(lines) == 2 + len(BY_KEY) == 73  # 62 + 3 statements + statistics + as-of + export + 3 checkpoints
    assert "| `GET /caregivers/{caregiver_id}/hours` | yes | yes | yes | own `caregiver_id` | - | yes | - |" in lines


def test_the_command_prints_the_table_and_rewrites_a_readme(tmp_path, capsys):
    main([])
    assert capsys.readouterr().out == table()
    readme = tmp_path / "README.md"
    readme.write_text(f"# notfall\n\n{TABLE_START}\n| stale |\n{TABLE_END}\n\n## Billing\n", encoding="utf-8")
    main(["--readme", str(readme)])
    assert readme.read_text(encoding="utf-8") == f"# notfall\n\n{TABLE_START}\n{table()}{TABLE_END}\n\n## Billing\n"


def test_a_readme_without_the_markers_is_left_alone():
    with pytest.raises(ValueError, match="markers"):
        with_table("# notfall\n")
