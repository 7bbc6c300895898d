# Proves who is entitled at which tier and why; a care need records the assessment (Berlin day) its sessions carry.
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from care_builders import ALL_WEEK, profile
from domain_builders import berlin, call_in, envelopes, need, need_in, utc

from notfall.app.care import Care
from notfall.app.caregivers import Caregivers, RegisterIn
from notfall.app.intake import Intake
from notfall.domain import care as d
from notfall.domain import care_events as ce
from notfall.domain import events as ev
from notfall.domain.case import care_day, decide_outcome, fold_case
from notfall.domain.commands import ConsultationIn, OutcomeIn
from notfall.domain.eligibility import Assessment, EligibilityRules, assess
from notfall.domain.envelope import Envelope, Metadata
from notfall.domain.errors import Rejected
from notfall.domain.partners import (
    ContractEnded,
    ContractIn,
    ContractSigned,
    PartnerIn,
    PartnerRegistered,
    PartnerState,
    fold_partner,
)
from notfall.domain.tariffs import Tier
from notfall.store.memory import MemoryEventStore

DAY = date(2026, 4, 1)  # the Berlin day of the care


def partner(partner_in: dict, *contracts: ContractIn, ended: dict[str, date] | None = None) -> PartnerState:
    events = [
        PartnerRegistered(partner=PartnerIn(**partner_in)),
        *(ContractSigned(contract=c) for c in contracts),
        *(ContractEnded(contract_id=cid, end=end) for cid, end in (ended or {}).items()),
    ]
    state = fold_partner(envelopes(f"partner-{partner_in['partner_id']}", events))
    assert state is not None
    return state


ACME = partner(  # a partner company in Hannover since 2026
    {
        "partner_id": "acme",
        "kind": "company",
        "name": "ACME Logistik GmbH",
        "municipality": "Hannover",
        "joined_on": "2026-01-01",
        "employees": 250,
    },
    ContractIn(contract_id="acme-2026", fee_model="monthly", start=date(2026, 1, 1), monthly_fee_cents=10_000),
)
ALT = partner(  # a company whose contract ended on 31 March 2026
    {
        "partner_id": "alt",
        "kind": "company",
        "name": "Alt GmbH",
        "municipality": "Hannover",
        "joined_on": "2025-01-01",
        "employees": 40,
    },
    ContractIn(contract_id="alt-2025", fee_model="yearly_band", start=date(2025, 1, 1), employees_covered=40),
    ended={"alt-2025": date(2026, 3, 31)},
)
LAATZEN = partner(  # a partner municipality (its name as registered: capitalised)
    {
        "partner_id": "laatzen",
        "kind": "municipality",
        "name": "Stadt Laatzen",
        "municipality": "Laatzen",
        "joined_on": "2016-10-01",
        "inhabitants": 43_000,
        "children_under_10": 3_320,
    },
    ContractIn(contract_id="laatzen-2016", fee_model="per_child", start=date(2016, 10, 1)),
)
SEHNDE = partner(  # registered, but its contract starts only in 2027
    {
        "partner_id": "sehnde",
        "kind": "municipality",
        "name": "Stadt Sehnde",
        "municipality": "Sehnde",
        "joined_on": "2027-01-01",
        "inhabitants": 24_000,
        "children_under_10": 2_000,
    },
    ContractIn(contract_id="sehnde-2027", fee_model="per_child", start=date(2027, 1, 1)),
)
PARTNERS = [ACME, ALT, LAATZEN, SEHNDE]
RULES = EligibilityRules()


def verdict(day: date = DAY, rules: EligibilityRules = RULES, **need_changes) -> Assessment:
    return assess(need(**need_changes), day, PARTNERS, rules)


# --- tiers and their basis ----------------------------------------------------------------------


def test_a_student_living_in_the_city_pays_the_student_rate() -> None:
    assert verdict(municipality="Hannover", student=True) == Assessment(
        True, Tier.STUDENT, "Studium, wohnhaft in Hannover"
    )


def test_a_student_living_outside_the_city_is_no_student_tier() -> None:
    # Laatzen is a partner municipality: entitled, but at the standard rate
    assert verdict(municipality="Laatzen", student=True) == Assessment(
        True, Tier.STANDARD, "wohnhaft in Partnerkommune Stadt Laatzen"
    )
    # Sehnde is not (yet) a partner: refused
    assert verdict(municipality="Sehnde", student=True).tier is None


@pytest.mark.parametrize("employer", ["acme", "ACME Logistik GmbH", "acme logistik gmbh", "  Acme Logistik GMBH "])
def test_an_employee_of_a_partner_company_with_a_valid_contract_pays_the_partner_rate(employer: str) -> None:
    assert verdict(municipality="Sehnde", employer=employer) == Assessment(
        True, Tier.PARTNER, "beschäftigt bei Partner ACME Logistik GmbH (Rahmenvertrag acme-2026)"
    )


def test_an_employee_whose_employers_contract_ended_the_day_before_is_no_partner() -> None:
    assert verdict(day=date(2026, 3, 31), municipality="Sehnde", employer="Alt GmbH") == Assessment(
        True, Tier.PARTNER, "beschäftigt bei Partner Alt GmbH (Rahmenvertrag alt-2025)"
    )  # its last day
    ended = verdict(day=date(2026, 4, 1), municipality="Sehnde", employer="Alt GmbH")
    assert (ended.entitled, ended.tier) == (False, None)
    # living in the city, they are still entitled at the standard rate, and the basis says why not partner
    assert verdict(day=date(2026, 4, 1), municipality="Hannover", employer="Alt GmbH") == Assessment(
        True, Tier.STANDARD, "wohnhaft in Hannover; kein Rahmenvertrag mit Partner Alt GmbH am 01.04.2026"
    )
    assert verdict(day=date(2026, 4, 1), municipality="Laatzen", employer="alt").basis == (
        "wohnhaft in Partnerkommune Stadt Laatzen; kein Rahmenvertrag mit Partner Alt GmbH am 01.04.2026"
    )


def test_an_employee_of_an_unknown_company_gets_nothing_from_the_employer() -> None:
    assert verdict(municipality="Hannover", employer="Nobody AG") == Assessment(
        True, Tier.STANDARD, "wohnhaft in Hannover"
    )


def test_an_employee_of_a_partner_municipality_pays_the_partner_rate() -> None:
    assert verdict(municipality="Sehnde", employer="Stadt Laatzen") == Assessment(
        True, Tier.PARTNER, "beschäftigt bei Partner Stadt Laatzen (Rahmenvertrag laatzen-2016)"
    )
    assert verdict(municipality="Sehnde", employer="laatzen").tier == Tier.PARTNER


def test_a_resident_of_the_city_pays_the_standard_rate() -> None:
    assert verdict(municipality="Hannover") == Assessment(True, Tier.STANDARD, "wohnhaft in Hannover")
    assert verdict(municipality=" hannover ") == Assessment(True, Tier.STANDARD, "wohnhaft in Hannover")


@pytest.mark.parametrize("municipality", ["Laatzen", "laatzen", "LAATZEN "])
def test_a_resident_of_a_partner_municipality_with_a_valid_contract_pays_the_standard_rate(municipality) -> None:
    assert verdict(municipality=municipality) == Assessment(
        True, Tier.STANDARD, "wohnhaft in Partnerkommune Stadt Laatzen"
    )


def test_a_resident_of_a_municipality_whose_contract_has_not_started_is_not_entitled() -> None:
    assert verdict(municipality="Sehnde").tier is None
    assert verdict(day=date(2027, 1, 1), municipality="Sehnde") == Assessment(
        True, Tier.STANDARD, "wohnhaft in Partnerkommune Stadt Sehnde"
    )


def test_somebody_neither_resident_nor_employed_at_a_partner_is_refused_with_the_reason() -> None:
    assert verdict(municipality="Sehnde") == Assessment(
        False,
        None,
        "Sehnde is neither hannover nor a partner municipality on 2026-04-01, "
        "and no employer with a partner contract was named",
    )


def test_by_configuration_somebody_not_entitled_pays_the_standard_rate() -> None:
    rules = EligibilityRules(non_entitled="standard")
    assert verdict(rules=rules, municipality="Sehnde") == Assessment(
        False,
        Tier.STANDARD,
        "not entitled (Sehnde is neither hannover nor a partner municipality on 2026-04-01, "
        "and no employer with a partner contract was named); standard rate by configuration",
    )
    # the configuration changes nothing for somebody entitled
    assert verdict(rules=rules, municipality="Hannover") == Assessment(True, Tier.STANDARD, "wohnhaft in Hannover")


def test_the_cheapest_tier_applies() -> None:
    # student in the city (2.00) beats partner employee (3.00)
    assert verdict(municipality="Hannover", student=True, employer="acme").tier == Tier.STUDENT
    # partner employee (3.00) beats city resident (5.00) and partner-municipality resident (5.00)
    assert verdict(municipality="Hannover", employer="acme").tier == Tier.PARTNER
    assert verdict(municipality="Laatzen", employer="acme").tier == Tier.PARTNER


def test_the_city_is_configuration() -> None:
    rules = EligibilityRules(city="laatzen")
    assert verdict(rules=rules, municipality="Laatzen", student=True) == Assessment(
        True, Tier.STUDENT, "Studium, wohnhaft in Laatzen"
    )
    assert verdict(rules=rules, municipality="Hannover").tier is None
    # written as people write it, the configured city still matches
    assert verdict(rules=EligibilityRules(city="Hannover"), municipality="hannover").tier == Tier.STANDARD


# --- the assessment recorded with a care need ---------------------------------------------------

# The window starts at 23:30 UTC on 31 March 2026: 01:30 on 1 April in Berlin (summer time).
LATE_WINDOW = {"start": "2026-03-31T23:30:00+00:00", "expected_end": "2026-04-01T04:00:00+00:00"}
NOW = utc(2026, 3, 31, 20, 0)
AFTER_CARE = berlin(2026, 4, 1, 12, 0)


def test_the_care_day_is_the_berlin_day_of_the_window_start() -> None:
    assert care_day(need(window=LATE_WINDOW)) == date(2026, 4, 1)
    assert care_day(need()) == date(2026, 3, 3)  # 06:30 +01:00


class Desk:
    """Intake (assessing care needs) and care use cases on the memory store."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, rules: EligibilityRules = RULES) -> None:
        self.store = MemoryEventStore()
        self.now = NOW
        ids = itertools.count(1)
        self.intake = Intake(self.store, new_id=lambda: "c1", assess=self.assess, clock=lambda: self.now)
        self.care = Care(self.store, ids=lambda: f"id{next(ids)}", clock=lambda: self.now)
        self.rules = rules
        self.assessed: list[tuple[ev.Need, date]] = []
        self._commands = itertools.count(1)

    def meta(self) -> Metadata:
        n = next(self._commands)
        return Metadata(command_id=f"cmd-{n}", actor="hotline-schulz", correlation_id=f"corr-{n}")

    def assess(self, need_: ev.Need, day: date) -> Assessment:
        self.assessed.append((need_, day))
        return assess(need_, day, PARTNERS, self.rules)

    def case_with_need(self, **need_changes) -> str:
        case_id = self.intake.call_event(call_in("started"), self.meta())["case_id"]
        self.intake.need(case_id, need_in(window=LATE_WINDOW, **need_changes), self.meta())
        return case_id

    def outcome(self, case_id: str, outcome: str = "care_need") -> dict:
        return self.intake.outcome(case_id, OutcomeIn(outcome=outcome), self.meta())

    def types(self, case_id: str) -> list[str]:
        return [e.event_type for e in self.store.load(f"case-{case_id}")]


def test_a_care_need_of_somebody_not_entitled_is_refused_and_the_refusal_recorded(monkeypatch) -> None:
    desk = Desk(monkeypatch)
    # Alt GmbH's contract ended on 31 March: on the UTC day of the start the employee would
    # still be a partner; on the Berlin day of the care (1 April) the contract is over.
    case_id = desk.case_with_need(municipality="Sehnde", employer="Alt GmbH")
    before = desk.types(case_id)
    why = (
        "Sehnde is neither hannover nor a partner municipality on 2026-04-01, "
        "and no employer with a partner contract was named"
    )

    with pytest.raises(Rejected) as err:
        desk.outcome(case_id)

    assert err.value.status == 422
    assert err.value.field == "outcome"
    assert err.value.problem == f"not entitled to care: {why}; a consultation is always possible"
    assert [day for _, day in desk.assessed] == [date(2026, 4, 1)]
    assert before == ["CaseOpened", "CallStarted", "NeedClarified"]
    refused = ev.CareRefused(refused="care_need", day=date(2026, 4, 1), basis=why, refused_at=NOW)
    assert [e.data for e in desk.store.load(f"case-{case_id}")][3:] == [refused]
    case = desk.intake.load_case(case_id)
    assert (case.status, case.outcome, case.eligibility, case.refusals) == ("open", None, None, [refused])
    # a consultation is still possible, and advice closes the case without any assessment
    desk.intake.consultation(
        case_id,
        ConsultationIn(
            agent="hotline-schulz", started_at=NOW - timedelta(minutes=20), ended_at=NOW - timedelta(minutes=5)
        ),
        desk.meta(),
    )
    assert desk.outcome(case_id, "advice")["status"] == "closed"
    assert len(desk.assessed) == 1


def test_a_refused_care_need_retried_with_the_same_command_id_refuses_again_and_appends_nothing(monkeypatch) -> None:
    desk = Desk(monkeypatch)
    case_id = desk.case_with_need(municipality="Sehnde")
    meta = desk.meta()
    with pytest.raises(Rejected) as first:
        desk.intake.outcome(case_id, OutcomeIn(outcome="care_need"), meta)
    logged = desk.types(case_id)

    with pytest.raises(Rejected) as again:
        desk.intake.outcome(case_id, OutcomeIn(outcome="care_need"), meta)

    assert (again.value.status, again.value.field, again.value.problem) == (
        first.value.status,
        first.value.field,
        first.value.problem,
    )
    assert desk.types(case_id) == logged and logged.count("CareRefused") == 1
    # If-Match with the version seen before the refusal: the stored answer, not a 409
    with pytest.raises(Rejected):
        desk.intake.outcome(case_id, OutcomeIn(outcome="care_need"), meta, expected=3)
    assert desk.types(case_id) == logged


# --- a need clarified again after it became an emergency ----------------------------------------


def test_a_need_clarified_before_the_outcome_is_not_assessed(monkeypatch) -> None:
    desk = Desk(monkeypatch)
    case_id = desk.case_with_need(municipality="Sehnde")  # not entitled, but no outcome yet
    desk.intake.need(case_id, need_in(window=LATE_WINDOW, municipality="Celle"), desk.meta())
    assert desk.assessed == []
    assert desk.types(case_id)[-2:] == ["NeedClarified", "NeedClarified"]


def test_a_need_clarified_again_on_an_emergency_is_assessed_again_and_the_latest_counts(monkeypatch) -> None:
    desk = Desk(monkeypatch)
    case_id = desk.case_with_need(municipality="Hannover", student=True)
    desk.outcome(case_id)
    assert desk.intake.load_case(case_id).eligibility.tier == "student"
    version = desk.intake.load_case(case_id).version

    # no longer a student, living in Laatzen (a partner municipality), care a day later
    later = {"start": "2026-04-02T05:00:00+00:00", "expected_end": "2026-04-02T09:00:00+00:00"}
    result = desk.intake.need(case_id, need_in(window=later, municipality="Laatzen"), desk.meta())

    assert result == {"case_id": case_id, "version": version + 2}
    assert [day for _, day in desk.assessed] == [date(2026, 4, 1), date(2026, 4, 2)]
    case = desk.intake.load_case(case_id)
    assert case.need.municipality == "Laatzen" and not case.need.student
    assert case.eligibility == ev.EligibilityAssessed(
        entitled=True, tier="standard", day=date(2026, 4, 2), basis="wohnhaft in Partnerkommune Stadt Laatzen"
    )


def test_a_need_clarified_again_that_is_not_entitled_is_refused_and_the_emergency_keeps_its_need(monkeypatch) -> None:
    desk = Desk(monkeypatch)
    case_id = desk.case_with_need(municipality="Hannover", student=True)
    desk.outcome(case_id)
    before = desk.intake.load_case(case_id)

    with pytest.raises(Rejected) as err:
        desk.intake.need(case_id, need_in(window=LATE_WINDOW, municipality="Sehnde"), desk.meta())

    why = (
        "Sehnde is neither hannover nor a partner municipality on 2026-04-01, "
        "and no employer with a partner contract was named"
    )
    assert (err.value.status, err.value.field) == (422, "municipality")
    assert err.value.problem == f"not entitled to care: {why}; a consultation is always possible"
    assert desk.types(case_id)[-1] == "CareRefused"
    after = desk.intake.load_case(case_id)
    assert (after.status, after.need, after.eligibility) == ("emergency", before.need, before.eligibility)
    assert after.refusals == [ev.CareRefused(refused="need", day=date(2026, 4, 1), basis=why, refused_at=NOW)]


def test_an_entitled_care_need_records_the_outcome_and_the_assessment_for_the_berlin_day(monkeypatch) -> None:
    desk = Desk(monkeypatch)
    case_id = desk.case_with_need(municipality="Hannover", employer="Alt GmbH")
    version = desk.intake.load_case(case_id).version

    result = desk.outcome(case_id)

    assert result == {"case_id": case_id, "version": version + 2, "status": "emergency"}
    new = desk.store.load(f"case-{case_id}")[version:]
    assert [e.data for e in new] == [
        ev.OutcomeRecorded(outcome=ev.Outcome.CARE_NEED),
        ev.EligibilityAssessed(
            entitled=True,
            tier="standard",
            day=date(2026, 4, 1),
            basis="wohnhaft in Hannover; kein Rahmenvertrag mit Partner Alt GmbH am 01.04.2026",
        ),
    ]
    case = desk.intake.load_case(case_id)
    assert case.status == "emergency"
    assert case.eligibility.tier == "standard"


def test_sessions_carry_no_tier_stamp_the_invoice_decides_the_tier_of_their_day(monkeypatch) -> None:
    desk = Desk(monkeypatch)
    case_id = desk.case_with_need(municipality="Hannover", student=True)
    desk.outcome(case_id)
    Caregivers(desk.store, lambda: desk.now).register(
        RegisterIn(caregiver_id="anna", profile=profile(name="Anna"), weekly=ALL_WEEK), desk.meta()
    )
    desk.care.assign(case_id, d.CaregiverRef(caregiver_id="anna"), desk.meta())
    desk.now = AFTER_CARE

    # staff record one session afterwards; the caregiver checks in and out for another
    desk.care.record_session(
        case_id,
        d.SessionIn(caregiver_id="anna", start=berlin(2026, 4, 1, 1, 30), end=berlin(2026, 4, 1, 4, 0)),
        desk.meta(),
    )
    desk.care.check_in(case_id, "anna", d.CheckInIn(at=berlin(2026, 4, 1, 5, 0)), desk.meta())
    desk.care.check_out(case_id, "anna", d.CheckOutIn(at=berlin(2026, 4, 1, 6, 0)), desk.meta())

    events = [e.data for e in desk.store.load(f"case-{case_id}")]
    recorded = [e for e in events if e.event_type in ("SessionRecorded", "SessionStarted")]
    assert [(e.event_type, e.tier, e.tier_basis) for e in recorded] == [
        ("SessionRecorded", None, None),
        ("SessionStarted", None, None),
    ]
    case = fold_case(desk.store.load(f"case-{case_id}"))
    assert [(s.tier, s.end is not None) for s in case.sessions] == [(None, True), (None, True)]


def test_sessions_stamped_with_a_tier_by_older_versions_still_load() -> None:
    stamped = ce.SessionRecorded(
        session_id="s1",
        assignment_id="a1",
        caregiver_id="anna",
        start=utc(2026, 4, 1, 6),
        end=utc(2026, 4, 1, 8),
        travel_km=0,
        tier="student",
        tier_basis="Studium, wohnhaft in Hannover",
    )
    record = envelopes("case-c9", [stamped])[0].to_record()
    assert Envelope.from_record(record).data == stamped


def test_without_an_assessment_callable_no_eligibility_is_recorded(monkeypatch) -> None:
    desk = Desk(monkeypatch)
    case_id = desk.case_with_need(municipality="Sehnde")
    Intake(desk.store, clock=lambda: desk.now).outcome(case_id, OutcomeIn(outcome="care_need"), desk.meta())
    assert desk.types(case_id)[-1] == "OutcomeRecorded"
    assert desk.intake.load_case(case_id).eligibility is None


def test_by_configuration_somebody_not_entitled_gets_care_at_the_standard_rate(monkeypatch) -> None:
    desk = Desk(monkeypatch, EligibilityRules(non_entitled="standard"))
    case_id = desk.case_with_need(municipality="Sehnde")
    desk.outcome(case_id)
    eligibility = desk.intake.load_case(case_id).eligibility
    assert (eligibility.entitled, eligibility.tier, eligibility.day) == (False, "standard", date(2026, 4, 1))
    assert eligibility.basis.endswith("; standard rate by configuration")


def test_an_assessment_never_uses_the_clock_of_the_decision() -> None:
    # decided days before the care, it is still for the care day
    state = fold_case(
        envelopes(
            "case-c9",
            [
                ev.CaseOpened(
                    case_id="c9",
                    family_id="fam-x",
                    channel="call",
                    caller_number=None,
                    opened_at=datetime(2026, 3, 20, 8, 0, tzinfo=NOW.tzinfo),
                ),
                ev.NeedClarified(need=need(window=LATE_WINDOW, municipality="Hannover")),
            ],
        )
    )
    seen: list[date] = []
    decide_outcome(
        state,
        "c9",
        OutcomeIn(outcome="care_need"),
        utc(2026, 3, 20, 9, 0),
        assess=lambda n, day: seen.append(day) or Assessment(True, Tier.STANDARD, "test"),
    )
    assert seen == [date(2026, 4, 1)]
