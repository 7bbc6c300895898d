# Proves the partner usage statement routes through the invoice function's resolver: figures by hand on
# the samples' walk, tenant isolation, suppression for partner users, the payroll consent, CSV, links, 4xx.
from __future__ import annotations

import logging
from typing import Any

import pytest
from api_harness import Api, Exports, role_claims

P1, P2 = "leine-logistik", "stadt-laatzen"


def ok(reply, status: int = 200) -> Any:
    assert reply.status == status, reply.body
    return reply.body


def statement(invoice_api: Api, partner_id: str = P1, role: str = "accounting", **query: str):
    """The statement of 2026 unless `query` names the days, once the stream Lambda has projected the log."""
    invoice_api.project()
    claims = role_claims(role, partner_id=partner_id if role == "partner" else None)
    days = "from" in query or "to" in query
    asked = query if days else {"period": "2026", **query}
    return invoice_api.call("partner_statement", path_params={"partner_id": partner_id}, query=asked, claims=claims)


@pytest.fixture
def walk(api: Api, assign_api: Api) -> str:
    """The samples' walk: Leine Logistik's employee (children 3 and 6, living in Laatzen) calls
    on 2 March 2026, gets the consultation, the care need is recorded (on 2 April, the apps'
    clock), cg-sommer cares on 3 March 06:30-11:15; tariffs published (5.00 / 3.00 EUR)."""
    api.register_sample_employer()
    ok(api.call("tariffs_published"))
    ok(assign_api.call("caregiver_register"), 201)
    case_id = api.open_case()
    ok(api.call("consultation", case_id=case_id))
    ok(api.call("need", case_id=case_id))
    ok(api.call("outcome_care_need", case_id=case_id))
    ok(assign_api.call("assign", case_id=case_id), 201)
    ok(assign_api.call("session", case_id=case_id), 201)
    other = {
        "partner_id": "other-co",
        "kind": "company",
        "name": "Other Co",
        "municipality": "hannover",
        "joined_on": "2015-01-01",
        "employees": 10,
    }
    ok(api.call("partner_register", body=other), 201)
    contract = {"contract_id": "rv-other", "fee_model": "monthly", "start": "2015-01-01", "monthly_fee_cents": 5000}
    ok(api.call("partner_contract", path_params={"partner_id": "other-co"}, body=contract), 201)
    return case_id


def test_the_year_by_hand_for_staff_without_suppression(walk: str, invoice_api: Api) -> None:
    """285 minutes of care on 3 March: 4.75 h; at 5.00 EUR 23.75 EUR of value, at the partner's
    3.00 EUR 14.25 EUR charged, 9.50 EUR saved. The consultation in March, the emergency in
    April. Fee: 100 EUR a month, twelve months."""
    got = ok(statement(invoice_api, threshold="1"))
    march, april = got["months"][2], got["months"][3]
    assert march == {
        "month": "2026-03",
        "consultations": 1,
        "emergencies": 0,
        "transports": 0,
        "care_hours": "4.75",
        "care_value_cents": 2375,
        "savings_cents": 950,
        "families_charged_cents": 1425,
    }
    assert april["emergencies"] == 1 and april["care_hours"] == "0.00"
    assert (got["total"]["consultations"], got["total"]["emergencies"]) == (1, 1)
    assert (got["fee_cents"], got["value_used_cents"]) == (120_000, 2375)
    assert got["tax_free_listing"] == []  # nobody consented


def test_a_partner_user_reads_their_own_statement_suppressed_and_no_other_partners(
    walk: str, invoice_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    before = invoice_api.log_length()
    own = ok(statement(invoice_api, role="partner"))
    assert own["total"]["consultations"] == "fewer than 5" and own["total"]["care_hours"] == "suppressed"
    assert own["months"][2]["consultations"] == "suppressed"
    # a partner user cannot lower the threshold ...
    refused = statement(invoice_api, role="partner", period="2026", threshold="1")
    assert refused.status == 422 and refused.fields() == ["query.threshold"]
    # ... nor read another partner's statement (403 naming the path), nor its links
    claims = role_claims("partner", partner_id=P2)
    with caplog.at_level(logging.WARNING, logger="notfall.api.resolver"):
        for name in ("partner_statement", "partner_statement_documents"):
            foreign = invoice_api.call(name, path_params={"partner_id": P1}, claims=claims)
            assert foreign.status == 403 and foreign.fields() == ["path.partner_id"], foreign.body
    logged = [r.getMessage() for r in caplog.records if r.name == "notfall.api.resolver"]
    assert any("GET /partners/{partner_id}/statement" in m and m.endswith("tenant") for m in logged), logged
    # the hotline keeps no partners' statements
    assert statement(invoice_api, role="hotline").status == 403
    # another partner's statement holds nothing of Leine Logistik's employee
    other = ok(statement(invoice_api, partner_id="other-co", threshold="1"))
    assert other["total"]["consultations"] == 0 and other["total"]["care_value_cents"] == 0
    assert other["fee_cents"] == 60_000
    assert invoice_api.log_length() == before  # reading writes nothing


def test_the_consenting_employee_is_listed_under_a_reference_only(walk: str, api: Api, invoice_api: Api) -> None:
    """Consent at intake: the listing shows the reference with the 14.25 EUR charged for the
    care of two children under 14, all of it within 600 EUR; no name, no number, no family id."""
    given = ok(api.call("payroll_consent", case_id=walk))
    reference = given["reference"]
    assert reference.startswith("NF-") and len(reference) == 13
    again = ok(api.call("payroll_consent", case_id=walk, headers={"Idempotency-Key": "k2"}))
    assert again["reference"] == reference  # the consent stands: the same reference, nothing appended
    got = ok(statement(invoice_api, role="partner"))
    assert got["tax_free_listing"] == [
        {"reference": reference, "year": 2026, "care_cents": 1425, "earlier_in_year_cents": 0, "tax_free_cents": 1425}
    ]
    text = repr(got)
    for personal in ("76023145", "fam-", "Laatzen", walk):
        assert personal not in text
    # withdrawn: later statements list nothing
    ok(api.call("payroll_consent", case_id=walk, body={"consent": False}))
    assert ok(statement(invoice_api, role="partner"))["tax_free_listing"] == []
    assert api.call("payroll_consent", case_id="nocase").status == 404


def test_csv_and_links_to_csv_and_pdf(walk: str, invoice_api: Api, exports: Exports) -> None:
    csv = statement(invoice_api, threshold="1", period="2026-03", format="csv")
    assert csv.status == 200 and csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.body.split("\r\n")
    assert "2026-03;1;0;0;4,75;23,75;9,50;14,25" in lines
    assert "total;1;0;0;4,75;23,75;9,50;14,25" in lines
    links = ok(
        invoice_api.call("partner_statement_documents", claims=role_claims("partner", partner_id=P1)),
    )
    assert links["expires_in"] == 300 and "X-Amz-Expires=300" in links["pdf"]
    stored = {key.rsplit(".", 1)[1]: value for key, value in exports.objects.items()}
    assert stored["pdf"][0].startswith(b"%PDF") and stored["pdf"][1] == "application/pdf"
    assert stored["csv"][1].startswith("text/csv") and all(k.startswith(f"statements/{P1}/") for k in exports.objects)


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"from": "2026-03-01", "to": "2026-02-01"}, 422, "query.to"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, 422, "query.to"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, 422, "query.from"),
        ({"period": "2026-Q7"}, 422, "query.period"),
        ({"period": "2026", "threshold": "0"}, 422, "query.threshold"),
        ({"period": "2026", "threshold": "many"}, 422, "query.threshold"),
    ],
)
def test_bad_statement_requests_answer_4xx_and_write_nothing(
    invoice_api: Api, query: dict[str, str], status: int, field: str
) -> None:
    reply = statement(invoice_api, **query)
    assert reply.status == status and field in reply.fields(), reply.body


def test_an_unknown_partner_is_404(invoice_api: Api) -> None:
    reply = statement(invoice_api, partner_id="nobody-gmbh")
    assert reply.status == 404 and reply.fields() == ["partner_id"]
