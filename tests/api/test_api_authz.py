"""The functions enforce who may call which route (src/notfall/api/access.py), through their real
resolvers in memory: every operation with every role and without a token; caregivers and
partner users reach only their own data; auditors never write; a refusal writes nothing and is
logged with the principal; `agent` and `by` are the signed-in caller's."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from api_harness import (
    PHONE_CLIENT,
    ROLE_SUBS,
    Api,
    Route,
    person_claims,
    role_claims,
    sample,
    sample_body,
    sample_names,
    template_routes,
)

from notfall.api import openapi
from notfall.api.access import BY_KEY
from notfall.api.identity import Role

ROLES = [r.value for r in Role]
CG, OTHER_CG = "cg-sommer", "cg-yilmaz"  # the samples' caregiver, and another one
P1, P2 = "leine-logistik", "stadt-laatzen"  # the samples' employer, and another partner


@pytest.fixture
def apis(api: Api, assign_api: Api, audit_api: Api, invoice_api: Api) -> dict[str, Api]:
    """Each function of template.yaml by its logical id, over one store."""
    return {
        "IntakeFunction": api,
        "AssignFunction": assign_api,
        "AuditFunction": audit_api,
        "InvoiceFunction": invoice_api,
    }


def sample_of(route: Route) -> str:
    return next(
        n for n in sample_names() if (sample(n)["resource"], sample(n)["httpMethod"]) == (route.path, route.method)
    )


def tenant_of(params: dict[str, str]) -> dict[str, str]:
    """The caregiver and partner a path names (the samples' own ones where it names none)."""
    return {
        "caregiver_id": params.get("caregiver_id", CG),
        "partner_id": params.get("partner_id", params.get("debtor_id", P1)),
    }


def admitted(route: Route, role: str) -> bool:
    """The declaration's answer for `role` calling the route for its own tenant."""
    declared = BY_KEY[(route.method, route.path)]
    return declared.public or role in declared.whole or any(o.role == role for o in declared.own)


def test_the_walk_covers_every_operation_of_the_openapi_document() -> None:
    document = json.loads(openapi.document())
    operations = {(m.upper(), p) for p, item in document["paths"].items() for m in item}
    walked = {(r.method, r.path) for r in template_routes()}
    assert operations and operations <= walked
    assert walked - operations == {("GET", "/openapi.json"), ("GET", "/swagger")}


@pytest.mark.parametrize("route", template_routes(), ids=lambda r: f"{r.method} {r.path}")
def test_every_operation_answers_every_role_and_no_token_as_declared(apis: dict[str, Api], route: Route) -> None:
    app = apis[route.function]
    name = sample_of(route)
    params = sample(name)["pathParameters"] or {}
    own = tenant_of(params)
    foreign = {"caregiver_id": OTHER_CG, "partner_id": P2}
    public = BY_KEY[(route.method, route.path)].public

    callers: list[tuple[str, dict[str, str] | None, bool]] = [("no token", None, public)]
    callers += [(role, role_claims(role, **own), admitted(route, role)) for role in ROLES]
    # a caregiver or partner user of another tenant: only a public route or one that names no tenant of theirs
    for role, param in (("caregiver", "caregiver_id"), ("partner", "partner_id")):
        names_tenant = param in params or (param == "partner_id" and "debtor_id" in params)
        callers.append(
            (f"{role} of another tenant", role_claims(role, **foreign), admitted(route, role) and not names_tenant)
        )

    for who, claims, allowed in callers:
        before = app.log_length()
        reply = app.send(sample(name, claims=claims))
        if allowed:
            assert reply.status not in (401, 403) and reply.status < 500, (who, reply.status, reply.body)
            continue
        assert reply.status == (401 if claims is None else 403), (who, reply.body)
        assert reply.body["errors"][0]["field"] in ("header.Authorization", *(f"path.{p}" for p in params)), reply.body
        assert app.log_length() == before, f"{who}: a refused call wrote"


# --- caregivers reach only their own data ----------------------------------------------------


def register(assign_api: Api, caregiver_id: str, **profile: Any) -> None:
    body = sample_body("caregiver_register")
    body = {**body, "caregiver_id": caregiver_id, "profile": {**body["profile"], **profile}}
    assert assign_api.call("caregiver_register", body=body).status == 201


@pytest.mark.usefixtures("sample_employer")
def test_a_caregiver_cannot_read_or_change_another_caregivers_data(api: Api, assign_api: Api) -> None:
    register(assign_api, CG)
    register(assign_api, OTHER_CG, name="Deniz Yilmaz")
    case_id = api.open_case()
    for name in ("need", "outcome_care_need"):
        assert api.call(name, case_id=case_id).status == 200
    offer = assign_api.call("offer", case_id=case_id)
    assert offer.status == 201, offer.body
    assign_api.project()
    other = role_claims("caregiver", caregiver_id=OTHER_CG)  # signed in as cg-yilmaz, asking for cg-sommer's
    ids = {"caregiver_id": CG, "case_id": case_id, "offer_id": offer.body["offer_id"]}

    before = assign_api.log_length()
    for name in (
        "caregiver_offers",
        "caregiver_assignments",
        "caregiver_hours",
        "caregiver_statement",
        "caregiver",
        "caregiver_weekly",
        "caregiver_one_off",
        "caregiver_one_off_withdraw",
        "offer_accept",
        "offer_decline",
        "check_in",
    ):
        reply = assign_api.call(name, path_params=ids, claims=other)
        assert reply.status == 403, (name, reply.body)
        assert reply.body["errors"] == [
            {"field": "path.caregiver_id", "problem": "a caregiver user may reach only their own caregiver_id"}
        ]
    assert assign_api.log_length() == before

    # the offer is still open: cg-sommer accepts it
    assert assign_api.call("offer_accept", path_params=ids).status == 201
    assert api.call("get_case", case_id=case_id).status == 200


# --- partners reach only their own data ------------------------------------------------------


@pytest.mark.usefixtures("sample_employer")
def test_a_partner_user_reads_their_own_partner_and_open_items_and_nobody_elses(api: Api, invoice_api: Api) -> None:
    leine = role_claims("partner", partner_id=P1)
    mine = api.call("partner", path_params={"partner_id": P1}, claims=leine)
    assert mine.status == 200 and mine.body["partner_id"] == P1
    assert invoice_api.call("debtor_open_items", path_params={"debtor_id": P1}, claims=leine).status == 200

    theirs = api.call("partner", path_params={"partner_id": P2}, claims=leine)
    assert theirs.status == 403 and theirs.fields() == ["path.partner_id"]
    items = invoice_api.call("debtor_open_items", path_params={"debtor_id": P2}, claims=leine)
    assert items.status == 403 and items.fields() == ["path.debtor_id"]
    # ... and no list of partners, no invoices
    assert api.call("partners", claims=leine).status == 403
    assert invoice_api.call("invoices", claims=leine).status == 403


# --- auditors only read ------------------------------------------------------------------------


WRITES = [r for r in template_routes() if r.method in ("POST", "PUT", "PATCH", "DELETE")]


def test_an_auditor_gets_403_on_every_write_route_and_nothing_is_written(apis: dict[str, Api]) -> None:
    # counted by hand in the declaration: calls 1, case work 15, register 4, availability 3,
    # offers and check-in/out 4, partners 5, tariffs and billing address 3, invoices 3,
    # payroll consent 1
    assert len(WRITES) == 39
    auditor = role_claims("auditor")
    for route in WRITES:
        app = apis[route.function]
        before = app.log_length()
        reply = app.send(sample(sample_of(route), claims=auditor))
        assert reply.status == 403 and reply.fields() == ["header.Authorization"], (route, reply.body)
        assert app.log_length() == before
    assert apis["AuditFunction"].call("audit_events", claims=auditor).status == 200


# --- refusals are logged with the principal, never a name ---------------------------------------


def test_a_refusal_is_logged_with_principal_route_and_rule_but_no_personal_claim(
    assign_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    sub = "0f3e2d1c-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
    claims = person_claims(sub, "caregiver", caregiver_id=OTHER_CG)  # carries a user name and an e-mail
    with caplog.at_level(logging.WARNING, logger="notfall.api.resolver"):
        reply = assign_api.call("caregiver_offers", claims=claims)  # cg-sommer's offers
        anonymous = assign_api.call("caregiver_offers", claims=None)
    assert (reply.status, anonymous.status) == (403, 401)
    tenant, nobody = [r for r in caplog.records if r.name == "notfall.api.resolver"]
    assert (tenant.principal, tenant.route, tenant.rule, tenant.status) == (
        f"user:{sub}",
        "GET /caregivers/{caregiver_id}/offers",
        "tenant",
        403,
    )
    assert (nobody.principal, nobody.rule, nobody.status) == (None, "sign-in", 401)
    text = " ".join(f"{r.getMessage()} {vars(r)}" for r in (tenant, nobody))
    assert f"user:{sub}" in tenant.getMessage()
    assert "anna" not in text and "@" not in text  # the token's user name and e-mail stay out


# --- self-declared fields are the caller's -------------------------------------------------------


def test_the_consultations_agent_is_the_signed_in_person(api: Api) -> None:
    case_id = api.open_case()
    body = sample_body("consultation")
    assert "agent" not in body  # left out: filled from the sign-in
    assert api.call("consultation", case_id=case_id).status == 200
    hotline = f"user:{ROLE_SUBS['hotline']}"
    assert api.log()[-1].data.agent == hotline
    # naming oneself is fine; naming anybody else answers 422 and writes nothing
    assert api.call("consultation", case_id=case_id, body={**body, "agent": hotline}).status == 200
    before = api.log_length()
    other = api.call("consultation", case_id=case_id, body={**body, "agent": f"client:{PHONE_CLIENT}"})
    assert other.status == 422 and other.fields() == ["agent"]
    assert api.log_length() == before


@pytest.mark.usefixtures("sample_employer")
def test_by_is_the_callers_own_party_unless_staff_record_who_asked(api: Api, assign_api: Api) -> None:
    register(assign_api, CG)
    register(assign_api, OTHER_CG, name="Deniz Yilmaz")
    case_id = api.open_case()
    for name in ("need", "outcome_care_need"):
        assert api.call(name, case_id=case_id).status == 200
    assert assign_api.call("assign", case_id=case_id).status == 201
    # staff reassign on the caregiver's call (the sample says by: caregiver) ...
    assert sample_body("reassign")["by"] == "caregiver"
    assert assign_api.call("reassign", case_id=case_id).status == 201
    # ... and cancel on their own account when they name nobody
    body = {k: v for k, v in sample_body("cancel_assignment").items() if k != "by"}
    assert assign_api.call("cancel_assignment", case_id=case_id, body=body).status == 200
    cancelled = [e.data.by for e in assign_api.log() if e.event_type == "AssignmentCancelled"]
    assert cancelled == ["caregiver", "staff"]
