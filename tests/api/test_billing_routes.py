# Proves the billing routes through the functions' resolvers: tariffs, partner contracts, family addresses,
# eligibility at intake (a refusal), invoice runs, invoices, credit notes, payments, documents, open items.
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from api_harness import RUN_AT, Api, Documents, sample_body

from notfall.api.invoice_schedule import ScheduledRun, previous_period
from notfall.domain.care_events import CaregiverAssigned, SessionRecorded
from notfall.domain.case import case_stream, fold_case
from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Metadata
from notfall.domain.events import CaseOpened, EligibilityAssessed, Need, NeedClarified, Outcome, OutcomeRecorded
from notfall.domain.hours import month_of

FAMILY = "fam-0d1c6af94856"  # the family of the call_* samples' caller (family_hours, family_billing_address)


def ok(reply, status: int = 200) -> dict:
    assert reply.status == status, reply.body
    return reply.body


def problem(reply, status: int, field: str) -> str:
    assert reply.status == status, reply.body
    assert field in reply.fields(), reply.body
    return next(e["problem"] for e in reply.body["errors"] if e["field"] == field)


# --- tariffs ------------------------------------------------------------------------------


def test_tariffs_are_published_once_and_change_going_forward(api: Api) -> None:
    first = ok(api.call("tariffs_published"))
    assert first == {"published": ["standard", "partner", "student"], "present": [], "version": 3}
    assert ok(api.call("tariffs_published"))["published"] == []  # again: nothing appended
    assert ok(api.call("tariff_set"), 201) == {"tier": "partner", "valid_from": "2027-01-01", "version": 4}
    tariffs = ok(api.call("tariffs"))
    partner = [p for p in tariffs["prices"] if p["tier"] == "partner"]
    assert partner == [
        {"tier": "partner", "cents_per_hour": 300, "valid_from": "2015-01-01", "valid_to": "2026-12-31"},
        {"tier": "partner", "cents_per_hour": 350, "valid_from": "2027-01-01", "valid_to": None},
    ]
    assert tariffs["version"] == 4 and set(tariffs["current"]) == {"standard", "partner", "student"}
    # the past is never rewritten: a price must start after the tier's latest one
    earlier = {**sample_body("tariff_set"), "valid_from": "2026-06-01"}
    assert "must start after" in problem(api.call("tariff_set", body=earlier), 409, "valid_from")
    problem(api.call("tariff_set", body={**earlier, "cents_per_hour": -1}), 422, "cents_per_hour")
    problem(api.call("tariff_set", body={**earlier, "tier": "gold"}), 422, "tier")


# --- partners: contracts, child counts, billing details ------------------------------------


def test_contracts_child_counts_and_billing_details_of_partners(api: Api) -> None:
    api.register_sample_employer()
    ok(api.call("partner_billing"))
    laatzen = {
        "partner_id": "stadt-laatzen",
        "kind": "municipality",
        "name": "Stadt Laatzen",
        "municipality": "laatzen",
        "joined_on": "2016-01-01",
        "inhabitants": 43000,
        "children_under_10": 3900,
    }
    ok(api.call("partner_register", body=laatzen), 201)
    per_child = {"contract_id": "rv-laatzen", "fee_model": "per_child", "start": "2016-01-01"}
    ok(api.call("partner_contract", path_params={"partner_id": "stadt-laatzen"}, body=per_child), 201)
    assert ok(api.call("partner_child_count"), 201) == {"partner_id": "stadt-laatzen", "version": 3, "year": 2026}
    assert ok(api.call("partner_contract_end"))["contract_id"] == "rv-2015"
    api.project()

    company = ok(api.call("partner"))
    assert company["name"] == "Leine Logistik GmbH" and company["version"] == 4
    assert company["contracts"] == [
        {
            "contract_id": "rv-2015",
            "fee_model": "monthly",
            "start": "2015-03-01",
            "end": "2026-12-31",
            "monthly_fee_cents": 10000,
            "employees_covered": None,
        }
    ]
    assert company["billing"]["buyer_reference"] == "PO-4711"
    town = ok(api.call("partner", path_params={"partner_id": "stadt-laatzen"}))
    assert town["child_counts"] == {"2026": 3900} and town["contracts"][0]["fee_model"] == "per_child"
    # the list shows the registered fields, not the whole state
    listed = ok(api.call("partners", query=None))["partners"]
    assert {p["partner_id"] for p in listed} == {"leine-logistik", "stadt-laatzen"}
    assert all("state" not in p and "contracts" not in p for p in listed)

    before = api.log_length()
    wrong_model = {**per_child, "contract_id": "rv-x"}
    assert "monthly or yearly_band" in problem(api.call("partner_contract", body=wrong_model), 422, "fee_model")
    overlapping = {**sample_body("partner_contract"), "contract_id": "rv-2026", "start": "2026-06-01"}
    assert "overlaps contract rv-2015" in problem(api.call("partner_contract", body=overlapping), 409, "start")
    problem(api.call("partner_child_count", path_params={"partner_id": "leine-logistik"}), 422, "partner_id")
    problem(api.call("partner_child_count"), 409, "year")  # reported already
    problem(api.call("partner_contract", path_params={"partner_id": "nobody"}), 404, "partner_id")
    problem(
        api.call("partner_contract_end", path_params={"partner_id": "leine-logistik", "contract_id": "rv-9"}),
        404,
        "contract_id",
    )
    problem(api.call("partner_billing", body={"address": {"name": "X"}}), 422, "address.street")
    assert api.log_length() == before


# --- families -------------------------------------------------------------------------------


def test_a_family_gets_a_billing_address(api: Api) -> None:
    assert ok(api.call("family_billing_address")) == {"family_id": FAMILY, "version": 1}
    api.project()
    row = api.readmodel.get(f"family-billing#{FAMILY}", "state")
    assert row["address"]["name"] == "Familie Brenner" and row["address"]["city"] == "Laatzen"
    problem(api.call("family_billing_address", path_params={"family_id": "0d1c6af94856"}), 422, "path.family_id")
    problem(api.call("family_billing_address", body={"name": "Familie Brenner"}), 422, "street")


# --- eligibility at intake -------------------------------------------------------------------


def test_care_for_a_household_not_entitled_is_refused_recorded_and_the_consultation_stays(
    api: Api, assign_api: Api
) -> None:
    """Celle is neither the city nor a partner municipality, and no partner employer is named."""
    case_id = api.open_case()
    ok(api.call("consultation", case_id=case_id))
    celle = {**sample_body("need"), "municipality": "celle", "employer": None}
    ok(api.call("need", case_id=case_id, body=celle))
    before = api.log_length()
    key = {"Idempotency-Key": "care-need-celle"}

    refused = api.call("outcome_care_need", case_id=case_id, headers=key)
    reason = problem(refused, 422, "outcome")
    assert reason.startswith("not entitled to care: celle is neither hannover nor a partner municipality")
    assert "a consultation is always possible" in reason
    assert [e.event_type for e in api.log()[before:]] == ["CareRefused"]  # the refusal is recorded
    # the same command again (same key): the same 422, nothing appended
    again = api.call("outcome_care_need", case_id=case_id, headers=key)
    assert (again.status, again.body) == (refused.status, refused.body)
    assert api.log_length() == before + 1
    case = fold_case(api.store.load(f"case-{case_id}"))
    assert case.status == "open" and case.eligibility is None and case.outcome is None
    assert [(r.refused, r.basis) for r in case.refusals] == [
        ("care_need", reason.removeprefix("not entitled to care: ").removesuffix("; a consultation is always possible"))
    ]
    # the case view shows the refusal; the demand report counts it as demand not met
    api.project()
    shown = ok(api.call("get_case", case_id=case_id))["refusals"]
    assert [(r["refused"], r["day"]) for r in shown] == [("care_need", "2026-03-03")]
    month = month_of(case.refusals[0].refused_at)
    demand = ok(assign_api.call("report_demand", query={"from": month, "to": month}))
    assert (demand["total"]["needs"], demand["total"]["refused"]) == (0, 1)
    assert [(g["key"], g["refused"]) for g in demand["groups"]] == [("celle", 1)]
    # advice is still possible, and a household in the city itself is entitled
    assert ok(api.call("outcome_advice", case_id=case_id))["status"] == "closed"
    other = api.open_case(body={**sample_body("call_started"), "call_id": "pbx-h", "caller_number": "+49 511 1234567"})
    ok(api.call("need", case_id=other, body={**celle, "municipality": "Hannover"}))
    assert ok(api.call("outcome_care_need", case_id=other))["status"] == "emergency"
    assert fold_case(api.store.load(f"case-{other}")).eligibility.basis == "wohnhaft in Hannover"


# --- invoicing --------------------------------------------------------------------------------


@pytest.fixture
def march(api: Api, assign_api: Api) -> None:
    """The samples' emergency carried to its care: Leine Logistik's employee in Laatzen,
    cg-sommer assigned, the session of 3 March 2026 06:30-11:15 recorded; tariffs published."""
    api.register_sample_employer()
    ok(api.call("tariffs_published"))
    ok(assign_api.call("caregiver_register"), 201)
    case_id = api.open_case()
    ok(api.call("need", case_id=case_id))
    ok(api.call("outcome_care_need", case_id=case_id))
    ok(assign_api.call("assign", case_id=case_id), 201)
    ok(assign_api.call("session", case_id=case_id), 201)
    api.project()


@pytest.mark.usefixtures("march")
def test_invoice_run_invoices_credit_note_payment_and_open_items(
    api: Api, invoice_api: Api, documents: Documents
) -> None:
    run = {"kind": "family", "period": "2026-03"}
    # no billing address yet: refused with the reason, nothing issued
    report = ok(invoice_api.call("invoice_run", body=run))
    assert report["issued"] == [] and report["refused"] == [
        {
            "billing_key": f"family:{FAMILY}:2026-03",
            "debtor_id": FAMILY,
            "reason": f"no billing address for family {FAMILY}",
        }
    ]
    ok(api.call("family_billing_address"))
    ok(api.call("partner_billing"))

    # By hand: one session 06:30-11:15 = 285 min = 19 started quarter hours = 4.75 h at the partner
    # rate of 3.00 EUR (Leine Logistik employee): 4.75 x 300 = 1425 cents.
    report = ok(invoice_api.call("invoice_run", body=run))
    assert report["issue_date"] == "2026-04-02"
    assert report["issued"] == [{"number": "F-2026-00001", "debtor_id": FAMILY, "total_cents": 1425}]
    # By hand: Leine Logistik's monthly flat fee for all of March: 100.00 EUR.
    partner_run = ok(invoice_api.call("invoice_run", body={"kind": "partner-monthly", "period": "2026-03"}))
    assert partner_run["issued"] == [{"number": "P-2026-00001", "debtor_id": "leine-logistik", "total_cents": 10000}]
    assert sorted(documents.objects) == [
        "invoices/2026/F-2026-00001.pdf",
        "invoices/2026/P-2026-00001.pdf",
        "invoices/2026/P-2026-00001.xml",
    ]
    api.project()

    issued = ok(invoice_api.call("invoices", query={"month": "2026-04"}))["invoices"]
    assert [(i["number"], i["debtor_id"], i["total_cents"], i["status"]) for i in issued] == [
        ("F-2026-00001", FAMILY, 1425, "open"),
        ("P-2026-00001", "leine-logistik", 10000, "open"),
    ]
    invoice = ok(invoice_api.call("invoice"))
    assert invoice["invoice"]["debtor"]["address"]["name"] == "Familie Brenner"
    assert [
        (line["billed_minutes"], line["unit_price_cents"], line["tier"]) for line in invoice["invoice"]["lines"]
    ] == [(285, 300, "partner")]
    links = ok(invoice_api.call("invoice_documents"))
    assert links["pdf"].startswith("https://documents.example/invoices/2026/F-2026-00001.pdf") and links["xml"] is None
    partner_links = ok(invoice_api.call("invoice_documents", path_params={"number": "P-2026-00001"}))
    assert partner_links["xml"].startswith("https://documents.example/invoices/2026/P-2026-00001.xml")

    # the same run again issues nothing
    again = ok(invoice_api.call("invoice_run", body=run))
    assert again["issued"] == [] and again["already_billed"] == [f"family:{FAMILY}:2026-03"]

    # a payment of 12.50 EUR leaves 1.75 EUR open; an invoice with payments is not cancelled
    assert ok(invoice_api.call("invoice_payment"), 201)["open_cents"] == 1425 - 1250
    api.project()
    items = ok(invoice_api.call("debtor_open_items"))
    assert items["open_cents"] == 175 and [i["number"] for i in items["items"]] == ["F-2026-00001"]
    assert "payments" in problem(invoice_api.call("invoice_cancel"), 409, "number")
    assert "exceeds the open amount" in problem(
        invoice_api.call("invoice_payment", body={**sample_body("invoice_payment"), "amount_cents": 176}),
        409,
        "amount_cents",
    )

    # the partner invoice is cancelled by a credit note; the next run bills March again
    credit = ok(invoice_api.call("invoice_cancel", path_params={"number": "P-2026-00001"}), 201)
    assert credit["credit_note"] == "S-2026-00001"
    assert "invoices/2026/S-2026-00001.pdf" in documents.objects
    rerun = ok(invoice_api.call("invoice_run", body={"kind": "partner-monthly", "period": "2026-03"}))
    assert rerun["issued"] == [{"number": "P-2026-00002", "debtor_id": "leine-logistik", "total_cents": 10000}]
    api.project()
    partner_items = ok(invoice_api.call("debtor_open_items", path_params={"debtor_id": "leine-logistik"}))
    assert (partner_items["open_cents"], [i["number"] for i in partner_items["items"]]) == (10000, ["P-2026-00002"])
    statuses = {
        i["number"]: i["status"] for i in ok(invoice_api.call("invoices", query={"month": "2026-04"}))["invoices"]
    }
    assert statuses == {
        "F-2026-00001": "open",
        "P-2026-00001": "cancelled",
        "P-2026-00002": "open",
        "S-2026-00001": "credit_note",
    }


@pytest.mark.usefixtures("march")
def test_a_price_over_a_day_an_issued_invoice_priced_answers_422_naming_the_invoice(api: Api, invoice_api: Api) -> None:
    ok(api.call("family_billing_address"))
    ok(invoice_api.call("invoice_run", body={"kind": "family", "period": "2026-03"}))
    api.project()
    before = api.log_length()
    # F-2026-00001 priced the partner tier's session of 3 March 2026: a partner price from 1 March is refused.
    backwards = {**sample_body("tariff_set"), "valid_from": "2026-03-01"}
    assert problem(api.call("tariff_set", body=backwards), 422, "valid_from") == (
        "invoice F-2026-00001 priced partner care on 2026-03-03 at the prices then valid; "
        "a new partner price must start after 2026-03-03 (or cancel the invoice first)"
    )
    assert api.log_length() == before
    assert ok(api.call("tariff_set", body={**backwards, "valid_from": "2026-03-04"}), 201)["valid_from"] == "2026-03-04"


def test_hours_show_the_billed_hours_of_the_invoice_next_to_the_calendar_hours(api: Api, invoice_api: Api) -> None:
    """A standard-rate night from 31 January 22:00 to 1 February 02:00 (Berlin): two calendar hours in
    each month, and four billed hours in January, the month it started, as on the January invoice."""
    start, end = datetime(2026, 1, 31, 21, 0, tzinfo=UTC), datetime(2026, 2, 1, 1, 0, tzinfo=UTC)
    need = Need.model_validate(
        {
            "persons": [{"kind": "child", "age": 4}],
            "location": {"kind": "home"},
            "window": {"start": start.isoformat(), "expected_end": end.isoformat()},
            "reasons": ["childcare_closed"],
            "municipality": "hannover",
        }
    )
    events = (
        CaseOpened(
            case_id="night1",
            family_id=FAMILY,
            channel="call",
            caller_number="+49 511 5550100",
            opened_at=start - timedelta(days=1),
        ),
        NeedClarified(need=need),
        OutcomeRecorded(outcome=Outcome.CARE_NEED),
        EligibilityAssessed(entitled=True, tier="standard", basis="wohnhaft in Hannover", day=start.date()),
        CaregiverAssigned(
            assignment_id="a1",
            caregiver_id="cg-sommer",
            start=start,
            end=end,
            allowance_cents=1000,
            travel_cents_per_km=30,
        ),
        SessionRecorded(
            session_id="s1",
            assignment_id="a1",
            caregiver_id="cg-sommer",
            start=start,
            end=end,
            tier="standard",
            tier_basis="wohnhaft in Hannover",
            travel_km=Decimal(0),
        ),
    )
    api.store.append(
        Decision((Append(case_stream("night1"), 0, events, start),), {}),
        Metadata(command_id="night1", actor="test", correlation_id="night1"),
    )
    ok(api.call("tariffs_published"))
    ok(api.call("family_billing_address"))
    api.project()

    months = ok(api.call("family_hours"))["months"]
    assert [
        (m["month"], m["cared_minutes"], m["cared_hours"], m["billed_minutes"], m["billed_hours"]) for m in months
    ] == [("2026-01", 120, "2.00", 240, "4.00"), ("2026-02", 120, "2.00", 0, "0.00")]
    january = ok(api.call("month_hours", path_params={"month": "2026-01"}))
    assert (january["cared_hours"], january["billed_hours"]) == ("2.00", "4.00")
    case_hours = ok(api.call("get_case", case_id="night1"))["hours"]
    assert case_hours == {
        "requested_minutes_by_month": {"2026-01": 120, "2026-02": 120},
        "cared_minutes_by_month": {"2026-01": 120, "2026-02": 120},
        "billed_minutes_by_month": {"2026-01": 240},
    }

    # By hand: 4 h at 5.00 EUR = 20.00 EUR, on the January invoice; February bills nothing.
    report = ok(invoice_api.call("invoice_run", body={"kind": "family", "period": "2026-01"}))
    assert report["issued"] == [{"number": "F-2026-00001", "debtor_id": FAMILY, "total_cents": 2000}]
    api.project()
    [line] = ok(invoice_api.call("invoice"))["invoice"]["lines"]
    assert (line["quantity"], line["billed_minutes"]) == ("4.00", 240)
    february = ok(invoice_api.call("invoice_run", body={"kind": "family", "period": "2026-02"}))
    assert (february["issued"], february["nothing_to_bill"]) == ([], 1)


def test_bad_invoice_requests_answer_4xx_and_write_nothing(invoice_api: Api) -> None:
    before = invoice_api.log_length()
    problem(invoice_api.call("invoice_run", body={"kind": "weekly", "period": "2026-03"}), 422, "kind")
    problem(invoice_api.call("invoice_run", body={"kind": "family", "period": "March"}), 422, "period")
    assert "calendar year" in problem(
        invoice_api.call("invoice_run", body={"kind": "partner-yearly", "period": "2026-03"}), 422, "period"
    )
    assert "has not ended" in problem(
        invoice_api.call("invoice_run", body={"kind": "family", "period": "2026-04"}), 422, "period"
    )
    problem(invoice_api.call("invoices", query=None), 422, "query.month")
    problem(invoice_api.call("invoice"), 404, "number")
    problem(invoice_api.call("invoice_documents"), 404, "number")
    problem(invoice_api.call("invoice_cancel"), 404, "number")
    problem(invoice_api.call("invoice_payment", body={"amount_cents": 0, "paid_on": "2026-04-03"}), 422, "amount_cents")
    problem(invoice_api.call("invoice", path_params={"number": "f-1"}), 422, "path.number")
    assert invoice_api.log_length() == before


# --- the schedules' input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "now", "period"),
    [
        ("family", "2026-12-01T05:00:00+00:00", "2026-11"),  # 06:00 in Berlin on the 1st
        ("family", "2026-11-30T23:30:00+00:00", "2026-11"),  # already 1 December in Berlin
        ("partner-monthly", "2027-01-01T05:15:00+00:00", "2026-12"),  # across the year
        ("partner-yearly", "2027-01-15T06:00:00+00:00", "2026"),
        ("partner-yearly", "2026-12-31T23:30:00+00:00", "2026"),  # 1 January 2027 in Berlin
    ],
)
def test_previous_is_the_berlin_period_before_the_run(kind: str, now: str, period: str) -> None:
    assert previous_period(kind, datetime.fromisoformat(now)) == period
    assert ScheduledRun(kind=kind).resolve(datetime.fromisoformat(now)) == period


def test_a_schedule_may_name_its_period() -> None:
    assert ScheduledRun(kind="family", period="2026-03").resolve(RUN_AT) == "2026-03"
    for bad in ({"kind": "family", "period": "last"}, {"kind": "weekly"}, {"kind": "family", "extra": 1}):
        with pytest.raises(ValueError):
            ScheduledRun.model_validate(bad)
    assert RUN_AT.tzinfo is UTC
