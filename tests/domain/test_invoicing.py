# Proves hand-calculated invoice drafts and refusals, gapless numbers, credit notes releasing the period, payments.
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from domain_builders import berlin, envelopes, utc
from row_builders import Step, assigned, case, emergency, window

from notfall.app.execute import execute
from notfall.domain import care_events as ce
from notfall.domain import events as ev
from notfall.domain import fees as f
from notfall.domain import invoice_events as ie
from notfall.domain import invoicing as inv
from notfall.domain.eligibility import EligibilityRules
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError
from notfall.domain.partners import (
    ChildCountReported,
    Contract,
    ContractEnded,
    ContractIn,
    ContractSigned,
    PartnerIn,
    PartnerRegistered,
    PartnerState,
    decide_contract,
    fold_partner,
)
from notfall.domain.tariffs import PUBLISHED, TARIFF_STREAM, Rounding, TariffSet, Tier, fold_tariffs
from notfall.store.memory import MemoryEventStore

NOW = utc(2026, 12, 1, 6, 0)
FAMILY = "fam-test"
NOV = "2026-11"
KEY = "family:fam-test:2026-11"
STANDARD_BASIS = "wohnhaft in Hannover"
PARTNER_BASIS = "beschäftigt bei Partner ACME Logistik GmbH (Rahmenvertrag acme-2026)"


def tariffs(*extra: TariffSet):
    """The published prices, then `extra` (here: standard 6.00 EUR from 16 November 2026)."""
    events = [TariffSet(**t.model_dump()) for t in PUBLISHED] + list(extra)
    return fold_tariffs(envelopes(TARIFF_STREAM, events))


NOV_16_CHANGE = TariffSet(tier=Tier.STANDARD, cents_per_hour=600, valid_from=date(2026, 11, 16))
TARIFFS = tariffs(NOV_16_CHANGE)


def partner_company(*contracts: ContractIn, ended: dict[str, date] | None = None) -> PartnerState:
    """ACME Logistik GmbH, a partner company, with `contracts`, each ended as `ended` says."""
    events = [
        PartnerRegistered(
            partner=PartnerIn(
                partner_id="acme",
                kind="company",
                name="ACME Logistik GmbH",
                municipality="Hannover",
                joined_on=date(2026, 1, 1),
                employees=250,
            )
        ),
        *(ContractSigned(contract=c) for c in contracts),
        *(ContractEnded(contract_id=cid, end=end) for cid, end in (ended or {}).items()),
    ]
    state = fold_partner(envelopes("partner-acme", events))
    assert state is not None
    return state


ACME_2026 = ContractIn(contract_id="acme-2026", fee_model="monthly", start=date(2026, 1, 1), monthly_fee_cents=10_000)
PARTNERS = [partner_company(ACME_2026)]
RULES = EligibilityRules()


def family_draft(family_id: str, month: str, cases, tariffs_, rounding: Rounding, partners=PARTNERS):
    """The family's draft, each session's tier assessed against `partners` (ACME, contract from 2026)."""
    return inv.family_draft(family_id, month, cases, tariffs_, rounding, partners, RULES)


# --- building cases from events -----------------------------------------------------------------


def eligible(tier: str, basis: str, day: date = date(2026, 10, 31)) -> Step:
    return ev.EligibilityAssessed(entitled=True, tier=tier, basis=basis, day=day)


def session(
    session_id: str, start: datetime, end: datetime, tier: str | None = "standard", basis: str | None = STANDARD_BASIS
) -> Step:
    return (
        ce.SessionRecorded(
            session_id=session_id,
            assignment_id="a1",
            caregiver_id="anna",
            start=start,
            end=end,
            travel_km=Decimal(0),
            tier=tier,
            tier_basis=basis,
        ),
        end,
    )


def trip(transport_id: str, at: datetime, price_cents: int) -> Step:
    return (
        ce.TransportBooked(
            transport_id=transport_id,
            from_place="Kita Sonnenschein",
            to_place="zu Hause",
            at=at,
            persons=1,
            driver_id="anna",
            price_cents=price_cents,
        ),
        berlin(2026, 11, 1, 9, 0),
    )


def emergency_case(
    case_id: str,
    *steps: Step,
    tier: str | None = "standard",
    basis: str = STANDARD_BASIS,
    start: datetime = berlin(2026, 10, 31, 22, 0),
    end: datetime = berlin(2026, 12, 1, 1, 0),
    **need_changes,
):
    """An emergency of FAMILY, by default from 31 October 22:00 to 1 December 01:00 (Berlin)
    in Hannover, with its eligibility (unless tier is None) and caregiver anna assigned, then `steps`."""
    head = emergency(
        case_id,
        need_at=start - timedelta(days=1, hours=13),
        family_id=FAMILY,
        window=window(start, end),
        **{"municipality": "Hannover", **need_changes},
    )
    if tier is not None:
        head.append(eligible(tier, basis))
    head.append(assigned("a1", "anna", berlin(2026, 10, 30, 9, 30), start, end))
    return case(*head, *steps, case_id=case_id)


def november_cases():
    """Case c1 (standard) with sessions around and in November, a voided and a corrected one,
    a done and a cancelled trip; case c2 (partner) with one session."""
    c1 = emergency_case(
        "c1",
        session("s1", berlin(2026, 10, 31, 22, 0), berlin(2026, 11, 1, 2, 0)),  # October: billed there
        session("s2", berlin(2026, 11, 10, 8, 0), berlin(2026, 11, 10, 12, 1)),  # 241 min -> 255
        session("s3", berlin(2026, 11, 12, 8, 0), berlin(2026, 11, 12, 10, 0)),  # voided below
        session("s4", berlin(2026, 11, 15, 9, 0), berlin(2026, 11, 15, 10, 0)),  # day before the change
        session("s5", berlin(2026, 11, 16, 9, 0), berlin(2026, 11, 16, 10, 0)),  # day of the change
        session("s6", berlin(2026, 11, 20, 8, 0), berlin(2026, 11, 20, 9, 0)),  # corrected below
        session("s7", berlin(2026, 11, 30, 22, 0), berlin(2026, 12, 1, 1, 0)),  # crosses the month end
        (ce.SessionVoided(session_id="s3", reason="doppelt erfasst"), berlin(2026, 11, 13, 9, 0)),
        (
            ce.SessionCorrected(
                session_id="s6",
                start=berlin(2026, 11, 20, 8, 0),
                end=berlin(2026, 11, 20, 9, 20),
                travel_km=Decimal(0),
                reason="Check-out vergessen",
            ),
            berlin(2026, 11, 21, 9, 0),
        ),
        trip("t1", berlin(2026, 11, 11, 7, 30), 750),  # price stamped at booking
        (
            ce.TransportDone(transport_id="t1", at=berlin(2026, 11, 11, 8, 0), km=Decimal("4.2")),
            berlin(2026, 11, 11, 8, 5),
        ),
        trip("t2", berlin(2026, 11, 12, 7, 30), 800),
        (ce.TransportCancelled(transport_id="t2", reason="Kind bleibt zu Hause"), berlin(2026, 11, 12, 6, 0)),
    )
    c2 = emergency_case(
        "c2",
        session("s8", berlin(2026, 11, 5, 14, 0), berlin(2026, 11, 5, 16, 45), "partner", PARTNER_BASIS),
        tier="partner",
        basis=PARTNER_BASIS,
        employer="ACME Logistik GmbH",
    )
    return [c2, c1]  # any order: drafts sort by case


def care_line(
    case_id: str,
    session_id: str,
    day: date,
    times: str,
    cared: int,
    billed: int,
    hours: str,
    price: int,
    amount: int,
    tier: str = "standard",
    basis: str = STANDARD_BASIS,
) -> ie.Line:
    return ie.Line(
        line_id=f"{case_id}:{session_id}",
        kind="care",
        description=f"Betreuung am {day.strftime('%d.%m.%Y')}, {times} Uhr",
        service_date=day,
        quantity=Decimal(hours),
        unit="HUR",
        unit_price_cents=price,
        amount_cents=amount,
        tier=tier,
        basis=basis,
        case_id=case_id,
        ref=session_id,
        cared_minutes=cared,
        billed_minutes=billed,
    )


# --- the family's month -------------------------------------------------------------------------


def test_a_family_month_by_hand() -> None:
    draft = family_draft(FAMILY, NOV, november_cases(), TARIFFS, Rounding())

    assert isinstance(draft, inv.Draft)
    assert (draft.billing_key, draft.series, draft.debtor_id, draft.debtor_kind) == (KEY, "F", FAMILY, "family")
    assert (draft.period_start, draft.period_end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert draft.lines == [
        # 241 min billed as 255 = 4.25 h x 5.00 = 21.25
        care_line("c1", "s2", date(2026, 11, 10), "08:00–12:01", 241, 255, "4.25", 500, 2125),
        # the day before the price change: 1 h x 5.00
        care_line("c1", "s4", date(2026, 11, 15), "09:00–10:00", 60, 60, "1.00", 500, 500),
        # the day of the change: 1 h x 6.00
        care_line("c1", "s5", date(2026, 11, 16), "09:00–10:00", 60, 60, "1.00", 600, 600),
        # corrected to 08:00-09:20: 80 min billed as 90 = 1.5 h x 6.00 = 9.00
        care_line("c1", "s6", date(2026, 11, 20), "08:00–09:20", 80, 90, "1.50", 600, 900),
        # 30 Nov 22:00 to 1 Dec 01:00: all 3 h in November, at 6.00 = 18.00
        care_line("c1", "s7", date(2026, 11, 30), "22:00–01:00", 180, 180, "3.00", 600, 1800),
        ie.Line(
            line_id="c1:t1",
            kind="transport",
            description="Fahrdienst am 11.11.2026: Kita Sonnenschein – zu Hause",
            service_date=date(2026, 11, 11),
            quantity=Decimal(1),
            unit="C62",
            unit_price_cents=750,
            amount_cents=750,
            case_id="c1",
            ref="t1",
        ),
        # partner tier: 2 h 45 min x 3.00 = 8.25
        care_line("c2", "s8", date(2026, 11, 5), "14:00–16:45", 165, 165, "2.75", 300, 825, "partner", PARTNER_BASIS),
    ]
    # 21.25 + 5.00 + 6.00 + 9.00 + 18.00 + 7.50 + 8.25 = 75.00 EUR
    assert draft.total_cents == 7500


def test_the_session_crossing_into_november_is_billed_in_october_only() -> None:
    draft = family_draft(FAMILY, "2026-10", november_cases(), TARIFFS, Rounding())
    assert draft.lines == [care_line("c1", "s1", date(2026, 10, 31), "22:00–02:00", 240, 240, "4.00", 500, 2000)]
    assert draft.total_cents == 2000
    # and the session crossing into December belongs to November: December has nothing
    assert family_draft(FAMILY, "2026-12", november_cases(), TARIFFS, Rounding()) is None


def test_the_rounding_unit_is_configuration() -> None:
    draft = family_draft(FAMILY, NOV, november_cases(), TARIFFS, Rounding(unit_minutes=30))
    # s2: 241 min billed as 270 = 4.5 h x 5.00 = 22.50; s6: 80 min as 90 = 9.00; s8: 165 as 180 = 3 h x 3.00
    assert [(line.ref, line.billed_minutes, line.amount_cents) for line in draft.lines] == [
        ("s2", 270, 2250),
        ("s4", 60, 500),
        ("s5", 60, 600),
        ("s6", 90, 900),
        ("s7", 180, 1800),
        ("t1", None, 750),
        ("s8", 180, 900),
    ]


def test_the_invoice_decides_the_tier_of_the_day_not_the_stamp_on_the_session() -> None:
    # stamped "student" by an older version; the need names ACME, whose contract covers the day
    c = emergency_case(
        "c1",
        session(
            "s1", berlin(2026, 11, 3, 10, 0), berlin(2026, 11, 3, 10, 20), "student", "Studium, wohnhaft in Hannover"
        ),
        tier="partner",
        basis=PARTNER_BASIS,
        employer="ACME Logistik GmbH",
    )
    draft = family_draft(FAMILY, NOV, [c], TARIFFS, Rounding())
    # 20 min billed as 30 = 0.5 h x 3.00 = 1.50
    assert draft.lines == [
        care_line("c1", "s1", date(2026, 11, 3), "10:00–10:20", 20, 30, "0.50", 300, 150, "partner", PARTNER_BASIS)
    ]


def test_a_contract_ending_during_the_care_bills_the_days_after_it_at_the_standard_rate_by_hand() -> None:
    """Care from 14 to 16 March 2026; ACME's contract ends on the 15th. Published prices: partner
    3.00, standard 5.00 EUR per hour; started quarter hours per session."""
    ended = [partner_company(ACME_2026, ended={"acme-2026": date(2026, 3, 15)})]
    march = emergency_case(
        "c5",
        session("s1", berlin(2026, 3, 14, 8, 0), berlin(2026, 3, 14, 12, 0), "partner", PARTNER_BASIS),
        session("s2", berlin(2026, 3, 15, 9, 0), berlin(2026, 3, 15, 10, 10), "partner", PARTNER_BASIS),
        session("s3", berlin(2026, 3, 16, 8, 0), berlin(2026, 3, 16, 11, 0), "partner", PARTNER_BASIS),
        tier="partner",
        basis=PARTNER_BASIS,
        start=berlin(2026, 3, 14, 8, 0),
        end=berlin(2026, 3, 16, 18, 0),
        employer="ACME Logistik GmbH",
    )

    draft = family_draft(FAMILY, "2026-03", [march], tariffs(), Rounding(), partners=ended)

    assert draft.lines == [
        # 4 h x 3.00 = 12.00
        care_line("c5", "s1", date(2026, 3, 14), "08:00–12:00", 240, 240, "4.00", 300, 1200, "partner", PARTNER_BASIS),
        # 70 min billed as 75 = 1.25 h x 3.00 = 3.75: the contract's last day
        care_line("c5", "s2", date(2026, 3, 15), "09:00–10:10", 70, 75, "1.25", 300, 375, "partner", PARTNER_BASIS),
        # 3 h x 5.00 = 15.00: no contract any more, the household lives in Hannover
        care_line(
            "c5",
            "s3",
            date(2026, 3, 16),
            "08:00–11:00",
            180,
            180,
            "3.00",
            500,
            1500,
            "standard",
            "wohnhaft in Hannover; kein Rahmenvertrag mit Partner ACME Logistik GmbH am 16.03.2026",
        ),
    ]
    assert draft.total_cents == 1200 + 375 + 1500 == 3075


def test_care_given_on_a_day_without_entitlement_is_billed_at_the_standard_rate_saying_why() -> None:
    ended = [partner_company(ACME_2026, ended={"acme-2026": date(2026, 11, 15)})]
    c = emergency_case(
        "c1",
        session("s1", berlin(2026, 11, 16, 9, 0), berlin(2026, 11, 16, 10, 0), "partner", PARTNER_BASIS),
        municipality="Celle",
        employer="acme",
    )
    draft = family_draft(FAMILY, NOV, [c], TARIFFS, Rounding(), partners=ended)
    # 1 h x 6.00 (the standard price from 16 November) = 6.00
    assert draft.lines == [
        care_line(
            "c1",
            "s1",
            date(2026, 11, 16),
            "09:00–10:00",
            60,
            60,
            "1.00",
            600,
            600,
            "standard",
            "am 16.11.2026 kein Anspruch (Celle ist weder Hannover noch Partnerkommune, "
            "kein Rahmenvertrag mit Partner ACME Logistik GmbH am 16.11.2026)",
        )
    ]
    # with nobody named as employer
    c = emergency_case(
        "c1", session("s1", berlin(2026, 11, 16, 9, 0), berlin(2026, 11, 16, 10, 0)), municipality="Celle"
    )
    assert family_draft(FAMILY, NOV, [c], TARIFFS, Rounding()).lines[0].basis == (
        "am 16.11.2026 kein Anspruch (Celle ist weder Hannover noch Partnerkommune, kein Arbeitgeber mit Rahmenvertrag)"
    )


def test_a_month_with_nothing_used_has_no_invoice() -> None:
    consulted_only = case(
        (
            ev.CaseOpened(
                case_id="c9", family_id=FAMILY, channel="call", caller_number=None, opened_at=berlin(2026, 11, 3, 8, 0)
            ),
            berlin(2026, 11, 3, 8, 0),
        ),
        ev.ConsultationRecorded(
            agent="hotline-schulz", started_at=berlin(2026, 11, 3, 8, 1), ended_at=berlin(2026, 11, 3, 8, 20)
        ),
        case_id="c9",
    )
    only_cancelled = emergency_case(
        "c1",
        session("s3", berlin(2026, 11, 12, 8, 0), berlin(2026, 11, 12, 10, 0)),
        (ce.SessionVoided(session_id="s3", reason="doppelt"), berlin(2026, 11, 13, 9, 0)),
        trip("t2", berlin(2026, 11, 12, 7, 30), 800),
        (ce.TransportCancelled(transport_id="t2", reason="abgesagt"), berlin(2026, 11, 12, 6, 0)),
    )

    assert family_draft(FAMILY, NOV, [consulted_only, only_cancelled], TARIFFS, Rounding()) is None
    assert family_draft(FAMILY, NOV, [], TARIFFS, Rounding()) is None


def test_a_session_of_a_case_without_an_intake_assessment_is_priced_for_its_day() -> None:
    unassessed = emergency_case(
        "c3", session("s9", berlin(2026, 11, 3, 10, 0), berlin(2026, 11, 3, 11, 0), None, None), tier=None
    )
    draft = family_draft(FAMILY, NOV, [unassessed], TARIFFS, Rounding())
    # 1 h x 5.00 (before the change on the 16th)
    assert draft.lines == [care_line("c3", "s9", date(2026, 11, 3), "10:00–11:00", 60, 60, "1.00", 500, 500)]


def test_a_session_on_a_day_without_a_tariff_is_refused() -> None:
    ended = tariffs(
        TariffSet(tier=Tier.PARTNER, cents_per_hour=300, valid_from=date(2026, 1, 1), valid_to=date(2026, 11, 4))
    )
    refusal = family_draft(FAMILY, NOV, november_cases(), ended, Rounding())
    assert refusal == inv.Refusal(KEY, FAMILY, "no partner tariff is valid on 2026-11-05 (session s8 of case c2)")


def test_a_session_still_checked_in_holds_the_month_back() -> None:
    # billing now would bill the month without it, and the billed key would keep it unbilled
    c = emergency_case(
        "c1",
        session("s2", berlin(2026, 11, 10, 8, 0), berlin(2026, 11, 10, 9, 0)),
        (
            ce.SessionStarted(
                session_id="s10",
                assignment_id="a1",
                caregiver_id="anna",
                at=berlin(2026, 11, 25, 8, 0),
                tier="standard",
                tier_basis=STANDARD_BASIS,
            ),
            berlin(2026, 11, 25, 8, 0),
        ),
    )
    refusal = family_draft(FAMILY, NOV, [c], TARIFFS, Rounding())
    assert refusal == inv.Refusal(KEY, FAMILY, "session s10 of case c1 on 2026-11-25 is still checked in")
    # October is not affected by it
    assert family_draft(FAMILY, "2026-10", [c], TARIFFS, Rounding()) is None


def test_a_trip_neither_done_nor_cancelled_holds_the_month_back() -> None:
    c = emergency_case(
        "c1",
        session("s2", berlin(2026, 11, 10, 8, 0), berlin(2026, 11, 10, 9, 0)),
        trip("t3", berlin(2026, 11, 27, 7, 30), 800),
    )
    refusal = family_draft(FAMILY, NOV, [c], TARIFFS, Rounding())
    assert refusal == inv.Refusal(KEY, FAMILY, "transport t3 of case c1 on 2026-11-27 is neither done nor cancelled")
    assert family_draft(FAMILY, "2026-12", [c], TARIFFS, Rounding()) is None


# --- partners -----------------------------------------------------------------------------------

ACME_IN = {
    "partner_id": "acme",
    "kind": "company",
    "name": "ACME Logistik GmbH",
    "municipality": "Hannover",
    "joined_on": "2026-11-10",
    "employees": 250,
}
LAATZEN_IN = {
    "partner_id": "laatzen",
    "kind": "municipality",
    "name": "Stadt Laatzen",
    "municipality": "Laatzen",
    "joined_on": "2016-10-01",
    "inhabitants": 43_000,
    "children_under_10": 3_320,
}


def partner(partner_in: dict, *events) -> PartnerState:
    state = fold_partner(
        envelopes(f"partner-{partner_in['partner_id']}", [PartnerRegistered(partner=PartnerIn(**partner_in)), *events])
    )
    assert state is not None
    return state


def signed(contract_id: str, fee_model: str, start: date, end: date | None = None, **more) -> ContractSigned:
    return ContractSigned(
        contract=ContractIn(contract_id=contract_id, fee_model=fee_model, start=start, end=end, **more)
    )


def fee_line(contract_id: str, text: str, cents: int, service_date: date) -> ie.Line:
    return ie.Line(
        line_id=contract_id,
        kind="fee",
        description=text,
        service_date=service_date,
        quantity=Decimal(1),
        unit="C62",
        unit_price_cents=cents,
        amount_cents=cents,
        ref=contract_id,
    )


def test_a_monthly_fee_is_pro_rated_in_the_first_month_and_whole_afterwards() -> None:
    acme = partner(ACME_IN, signed("acme-2026", "monthly", date(2026, 11, 10), monthly_fee_cents=10_000))

    november = inv.partner_month_draft(acme, NOV)
    # 100.00 EUR x 21 / 30 days = 70.00 EUR
    assert november == inv.Draft(
        billing_key="partner:acme:2026-11",
        series="P",
        debtor_id="acme",
        debtor_kind="company",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        lines=[
            fee_line(
                "acme-2026",
                "Monatspauschale Rahmenvertrag acme-2026, 11/2026, anteilig 21 von 30 Tagen",
                7000,
                date(2026, 11, 30),
            )
        ],
    )
    december = inv.partner_month_draft(acme, "2026-12")
    assert december.lines == [
        fee_line("acme-2026", "Monatspauschale Rahmenvertrag acme-2026, 12/2026", 10_000, date(2026, 12, 31))
    ]
    assert inv.partner_month_draft(acme, "2026-10") is None  # before the contract
    assert inv.partner_year_draft(acme, 2026) is None  # a monthly contract has no yearly fee


def test_a_contract_changed_mid_month_bills_both_parts() -> None:
    acme = partner(
        ACME_IN,
        signed("acme-2026", "monthly", date(2026, 11, 10), monthly_fee_cents=10_000),
        ContractEnded(contract_id="acme-2026", end=date(2026, 11, 14)),
        signed("acme-2026b", "monthly", date(2026, 11, 15), monthly_fee_cents=12_000),
    )
    draft = inv.partner_month_draft(acme, NOV)
    # 10 to 14 Nov: 100.00 x 5 / 30 = 16.67; 15 to 30 Nov: 120.00 x 16 / 30 = 64.00
    assert [(line.ref, line.description, line.amount_cents) for line in draft.lines] == [
        ("acme-2026", "Monatspauschale Rahmenvertrag acme-2026, 11/2026, anteilig 5 von 30 Tagen", 1667),
        ("acme-2026b", "Monatspauschale Rahmenvertrag acme-2026b, 11/2026, anteilig 16 von 30 Tagen", 6400),
    ]
    assert draft.total_cents == 8067


def test_a_yearly_fee_by_headcount_band_is_pro_rated_in_the_first_year() -> None:
    acme = partner(ACME_IN, signed("acme-band", "yearly_band", date(2026, 7, 1), employees_covered=250))

    draft = inv.partner_year_draft(acme, 2026)
    # band up to 999: 1,200.00 EUR x 184 / 365 = 604.93 EUR
    assert (draft.billing_key, draft.series, draft.period_start, draft.period_end) == (
        "partner:acme:2026",
        "P",
        date(2026, 1, 1),
        date(2026, 12, 31),
    )
    assert draft.lines == [
        fee_line(
            "acme-band",
            "Jahresbeitrag 2026, Staffel bis 999 Beschäftigte (250 gemeldet, Rahmenvertrag acme-band), "
            "anteilig 184 von 365 Tagen",
            60_493,
            date(2026, 12, 31),
        )
    ]
    assert inv.partner_year_draft(acme, 2027).lines[0].amount_cents == 120_000
    assert inv.partner_month_draft(acme, NOV) is None


def test_the_yearly_fee_follows_the_configured_headcount_bands() -> None:
    acme = partner(ACME_IN, signed("acme-band", "yearly_band", date(2026, 1, 1), employees_covered=250))
    bands = (f.HeadcountBand(99, 30_000), f.HeadcountBand(None, 90_000))

    [line] = inv.partner_year_draft(acme, 2027, bands).lines
    # 250 employees fall in the open band: 900.00 EUR for the whole year
    assert (line.description, line.amount_cents) == (
        "Jahresbeitrag 2027, Staffel ab 100 Beschäftigte (250 gemeldet, Rahmenvertrag acme-band)",
        90_000,
    )


def test_a_municipality_pays_one_euro_per_child_pro_rated_from_joining() -> None:
    laatzen = partner(
        LAATZEN_IN,
        signed("laatzen-2016", "per_child", date(2016, 10, 1)),
        ChildCountReported(year=2016, children_under_10=3_320),
        ChildCountReported(year=2017, children_under_10=3_400),
    )

    draft = inv.partner_year_draft(laatzen, 2016)
    # 3,320.00 EUR x 92 / 366 = 834.54 EUR
    assert (draft.billing_key, draft.debtor_id, draft.debtor_kind) == (
        "partner:laatzen:2016",
        "laatzen",
        "municipality",
    )
    assert draft.lines == [
        fee_line(
            "laatzen-2016",
            "Jahresbetrag 2016: 3320 Kinder bis 10 Jahre × 1,00 EUR (Rahmenvertrag laatzen-2016), "
            "anteilig 92 von 366 Tagen",
            83_454,
            date(2016, 12, 31),
        )
    ]
    assert inv.partner_year_draft(laatzen, 2017).total_cents == 340_000
    assert inv.partner_year_draft(laatzen, 2015) is None  # before joining


def test_a_municipality_year_without_a_child_count_is_refused() -> None:
    laatzen = partner(
        LAATZEN_IN,
        signed("laatzen-2016", "per_child", date(2016, 10, 1)),
        ChildCountReported(year=2016, children_under_10=3_320),
    )
    assert inv.partner_year_draft(laatzen, 2017) == inv.Refusal(
        "partner:laatzen:2017", "laatzen", "no count of children up to age 10 for 2017"
    )


def test_overlapping_contracts_are_refused_when_signed() -> None:
    acme = partner(ACME_IN, signed("acme-2026", "monthly", date(2026, 11, 10), monthly_fee_cents=10_000))
    with pytest.raises(DomainError) as err:
        decide_contract(
            acme,
            "acme",
            ContractIn(contract_id="acme-band", fee_model="yearly_band", start=date(2027, 1, 1), employees_covered=250),
            NOW,
        )
    assert err.value.problem == "the period overlaps contract acme-2026 (2026-11-10 to open)"
    assert err.value.field == "start"


def test_an_inconsistent_log_with_overlapping_contracts_is_refused_naming_both() -> None:
    # decide_contract refuses this; a state like it can only come from a broken log
    acme = PartnerState(
        version=3,
        partner=PartnerIn(**ACME_IN),
        contracts=[
            Contract(contract_id="acme-a", fee_model="monthly", start=date(2026, 1, 1), monthly_fee_cents=10_000),
            Contract(
                contract_id="acme-b",
                fee_model="monthly",
                start=date(2026, 11, 15),
                end=date(2026, 12, 31),
                monthly_fee_cents=12_000,
            ),
        ],
    )
    assert inv.partner_month_draft(acme, NOV) == inv.Refusal(
        "partner:acme:2026-11", "acme", "contracts acme-a and acme-b overlap"
    )
    # a month only one of them covers is billed
    assert inv.partner_month_draft(acme, "2026-10").total_cents == 10_000

    laatzen = PartnerState(
        version=4,
        partner=PartnerIn(**LAATZEN_IN),
        child_counts={2026: 3_320},
        contracts=[
            Contract(contract_id="laatzen-a", fee_model="per_child", start=date(2016, 10, 1)),
            Contract(contract_id="laatzen-b", fee_model="per_child", start=date(2026, 1, 1)),
        ],
    )
    assert inv.partner_year_draft(laatzen, 2026) == inv.Refusal(
        "partner:laatzen:2026", "laatzen", "contracts laatzen-a and laatzen-b overlap"
    )


# --- issuing, credit notes, payments ------------------------------------------------------------

ISSUE_DAY = date(2026, 12, 1)
ADDRESS = ie.Address(name="Familie Kaya", street="Lister Meile 12", postcode="30161", city="Hannover")
ISSUER = ie.Issuer(
    address=ie.Address(
        name="Notfallbetreuung Region Hannover", street="Hildesheimer Str. 20", postcode="30169", city="Hannover"
    ),
    tax_number="25/123/45678",
    iban="DE02120300000000202051",
    bic="BYLADEM1001",
    bank="DKB",
    contact="Team Abrechnung",
    phone="+49 511 1234567",
)


def hand_draft(family_id: str, month: str = NOV, cents: int = 2125) -> inv.Draft:
    year, mon = (int(x) for x in month.split("-"))
    start, end = date(year, mon, 1), date(year, mon, 28)
    line = care_line("c1", "s2", start, "08:00–12:01", 241, 255, "4.25", cents * 60 // 255, cents)
    return inv.Draft(
        billing_key=inv.family_key(family_id, month),
        series="F",
        debtor_id=family_id,
        debtor_kind="family",
        period_start=start,
        period_end=end,
        lines=[line],
    )


class Books:
    """Invoice decisions on the memory store, each over freshly folded series, billing and invoice."""

    def __init__(self) -> None:
        self.store = MemoryEventStore()
        self._commands = itertools.count(1)

    def meta(self) -> Metadata:
        n = next(self._commands)
        return Metadata(command_id=f"cmd-{n}", actor="billing-run", correlation_id=f"corr-{n}")

    def series(self, series: str) -> inv.Series:
        return inv.fold_series(series, self.store.load(inv.series_stream(series)))

    def billing(self, key: str) -> inv.Billing:
        return inv.fold_billing(key, self.store.load(inv.billing_stream(key)))

    def invoice(self, number: str) -> inv.InvoiceState | None:
        return inv.fold_invoice(self.store.load(inv.invoice_stream(number)))

    def issue(self, draft: inv.Draft, issue_date: date = ISSUE_DAY) -> dict:
        debtor = ie.Debtor(debtor_id=draft.debtor_id, kind=draft.debtor_kind, address=ADDRESS)
        return execute(
            self.store,
            self.meta(),
            lambda: inv.decide_issue(
                draft,
                debtor,
                self.series(inv.series_for(draft.series, issue_date)),
                self.billing(draft.billing_key),
                ISSUER,
                ie.Vat(),
                issue_date,
                NOW,
            ),
        )

    def credit(self, number: str, reason: str = "falscher Tarif", issue_date: date = ISSUE_DAY) -> dict:
        def decide():
            state = self.invoice(number)
            key = state.invoice.billing_key if state else "unknown"
            return inv.decide_credit_note(
                state,
                number,
                self.series(inv.series_for("S", issue_date)),
                self.billing(key),
                inv.CancelIn(reason=reason),
                issue_date,
                NOW,
            )

        return execute(self.store, self.meta(), decide)

    def pay(self, number: str, cents: int, payment_id: str = "pay-1") -> dict:
        cmd = inv.PaymentIn(amount_cents=cents, paid_on=date(2026, 12, 10), reference=number)
        return execute(
            self.store, self.meta(), lambda: inv.decide_payment(self.invoice(number), number, cmd, payment_id, NOW)
        )

    def events(self, stream_id: str) -> list:
        return [e.data for e in self.store.load(stream_id)]

    def versions(self, stream_id: str) -> list[int]:
        return [e.version for e in self.store.load(stream_id)]


def refused(call, status: int = 409) -> DomainError:
    with pytest.raises(DomainError) as err:
        call()
    assert err.value.status == status, err.value.problem
    return err.value


def test_issuing_writes_the_number_the_billing_key_and_the_invoice() -> None:
    books = Books()
    draft = hand_draft("fam-a")

    result = books.issue(draft)

    assert result == {"number": "F-2026-00001", "billing_key": "family:fam-a:2026-11", "total_cents": 2125}
    assert books.events("series-F-2026") == [ie.NumberAssigned(number="F-2026-00001")]
    assert books.events("billing-family-fam-a-2026-11") == [ie.BillingAssigned(number="F-2026-00001")]
    [issued] = books.events("invoice-F-2026-00001")
    assert issued == ie.InvoiceIssued(
        number="F-2026-00001",
        series="F-2026",
        kind="invoice",
        debtor=ie.Debtor(debtor_id="fam-a", kind="family", address=ADDRESS),
        issuer=ISSUER,
        issue_date=ISSUE_DAY,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 28),
        due_date=date(2026, 12, 15),
        lines=draft.lines,
        total_cents=2125,
        vat=ie.Vat(),
        billing_key="family:fam-a:2026-11",
    )
    state = books.invoice("F-2026-00001")
    assert (state.version, state.cancelled_by, state.open_cents) == (1, None, 2125)


def test_numbers_run_without_gaps_per_series_and_year() -> None:
    books = Books()
    numbers = [books.issue(hand_draft(f"fam-{n}"))["number"] for n in "abcde"]
    assert numbers == [f"F-2026-0000{n}" for n in range(1, 6)]
    assert books.versions("series-F-2026") == [1, 2, 3, 4, 5]
    assert [e.number for e in books.events("series-F-2026")] == numbers
    # a new year starts its own series
    assert books.issue(hand_draft("fam-a", "2026-12"), date(2027, 1, 4))["number"] == "F-2027-00001"
    assert books.series("F-2026").version == 5


def test_a_billed_key_is_refused_and_takes_no_number() -> None:
    books = Books()
    books.issue(hand_draft("fam-a"))
    books.issue(hand_draft("fam-b"))

    err = refused(lambda: books.issue(hand_draft("fam-a", cents=3000)))

    assert (err.problem, err.field) == ("family:fam-a:2026-11 is billed already by F-2026-00001", "billing_key")
    assert books.versions("series-F-2026") == [1, 2]
    assert books.issue(hand_draft("fam-c"))["number"] == "F-2026-00003"


def test_a_credit_note_negates_the_invoice_and_releases_the_period_for_the_next_number() -> None:
    books = Books()
    books.issue(hand_draft("fam-a"))  # F-2026-00001
    books.issue(hand_draft("fam-b"))  # F-2026-00002

    result = books.credit("F-2026-00001", "falscher Tarif")

    assert result == {"number": "F-2026-00001", "credit_note": "S-2026-00001", "total_cents": -2125}
    original, cancelled = books.events("invoice-F-2026-00001")
    [note] = books.events("invoice-S-2026-00001")
    assert cancelled == ie.InvoiceCancelled(credit_note="S-2026-00001", reason="falscher Tarif")
    assert original.total_cents == 2125  # the original stays as it was (GoBD)
    assert (note.kind, note.series, note.cancels, note.billing_key) == (
        "credit_note",
        "S-2026",
        "F-2026-00001",
        "family:fam-a:2026-11",
    )
    assert note.note == "Storno der Rechnung F-2026-00001: falscher Tarif"
    assert (note.issue_date, note.due_date, note.total_cents) == (ISSUE_DAY, ISSUE_DAY, -2125)
    assert (note.debtor, note.issuer, note.period_start, note.period_end) == (
        original.debtor,
        original.issuer,
        original.period_start,
        original.period_end,
    )
    [line] = note.lines
    assert (line.quantity, line.amount_cents, line.unit_price_cents) == (Decimal("-4.25"), -2125, 500)
    assert line.model_copy(update={"quantity": -line.quantity, "amount_cents": -line.amount_cents}) == original.lines[0]
    assert books.events("series-S-2026") == [ie.NumberAssigned(number="S-2026-00001")]
    assert books.events("billing-family-fam-a-2026-11")[-1] == ie.BillingReleased(
        number="F-2026-00001", credit_note="S-2026-00001"
    )
    assert books.billing("family:fam-a:2026-11") == inv.Billing(key="family:fam-a:2026-11", version=2, number=None)
    assert books.invoice("F-2026-00001").open_cents == 0
    assert books.invoice("S-2026-00001").open_cents == 0

    # the period is billed again, with the next F number; no F number is reused
    assert books.issue(hand_draft("fam-a", cents=1275))["number"] == "F-2026-00003"
    assert books.billing("family:fam-a:2026-11") == inv.Billing(
        key="family:fam-a:2026-11", version=3, number="F-2026-00003"
    )
    assert books.versions("series-F-2026") == [1, 2, 3]
    # the next credit note takes the next S number
    assert books.credit("F-2026-00002")["credit_note"] == "S-2026-00002"


def test_a_credit_note_is_refused_for_credit_notes_cancelled_paid_and_unknown_invoices() -> None:
    books = Books()
    books.issue(hand_draft("fam-a"))  # F-2026-00001
    books.issue(hand_draft("fam-b"))  # F-2026-00002
    books.credit("F-2026-00001")  # S-2026-00001

    assert refused(lambda: books.credit("S-2026-00001")).problem == (
        "a credit note is not cancelled; issue a new invoice instead"
    )
    assert refused(lambda: books.credit("F-2026-00001")).problem == ("the invoice is cancelled already by S-2026-00001")
    books.pay("F-2026-00002", 1000)  # partly paid
    assert refused(lambda: books.credit("F-2026-00002")).problem == (
        "the invoice has payments; refund them before cancelling"
    )
    assert refused(lambda: books.credit("F-2026-00099"), 404).problem == "unknown invoice F-2026-00099"
    assert books.versions("series-S-2026") == [1]  # no refusal took a number


def test_payments_reduce_the_open_amount_and_may_not_exceed_it() -> None:
    books = Books()
    books.issue(hand_draft("fam-a"))  # 21.25 EUR

    assert books.pay("F-2026-00001", 1000, "pay-1")["open_cents"] == 1125
    err = refused(lambda: books.pay("F-2026-00001", 1126, "pay-2"))
    assert (err.problem, err.field) == ("the payment exceeds the open amount of 1125 cents", "amount_cents")
    assert books.pay("F-2026-00001", 1125, "pay-3")["open_cents"] == 0

    state = books.invoice("F-2026-00001")
    assert (state.paid_cents, state.open_cents, state.version) == (2125, 0, 3)
    assert [(p.payment_id, p.amount_cents) for p in state.payments] == [("pay-1", 1000), ("pay-3", 1125)]
    assert refused(lambda: books.pay("F-2026-00001", 1, "pay-4")).problem == (
        "the payment exceeds the open amount of 0 cents"
    )


def test_payments_go_to_open_invoices_only() -> None:
    books = Books()
    books.issue(hand_draft("fam-a"))
    books.credit("F-2026-00001")
    open_only = "payments are recorded against open invoices only"
    assert refused(lambda: books.pay("F-2026-00001", 100)).problem == open_only
    assert refused(lambda: books.pay("S-2026-00001", 100)).problem == open_only
    assert refused(lambda: books.pay("F-2026-00077", 100), 404).problem == "unknown invoice F-2026-00077"
    with pytest.raises(ValueError):
        inv.PaymentIn(amount_cents=0, paid_on=date(2026, 12, 10))


def test_series_and_billing_streams_are_named_from_their_keys() -> None:
    assert inv.series_for("F", date(2026, 12, 1)) == "F-2026"
    assert inv.number_of(inv.Series(series="P-2027", version=41)) == "P-2027-00042"
    assert inv.billing_stream("partner:acme:2026-11") == "billing-partner-acme-2026-11"
    assert inv.family_key("fam-1a2b", "2026-11") == "family:fam-1a2b:2026-11"
