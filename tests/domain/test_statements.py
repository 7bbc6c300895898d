"""Partner usage statements: periods, figures worked out by hand, small-count suppression
(the difference attack included), who counts for a partner, and the 34a listing's consent rule."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

import pytest
from domain_builders import BERLIN, envelopes, need

from notfall.domain import events as ev
from notfall.domain.case import CaseState, SessionView, TransportView
from notfall.domain.eligibility import EligibilityRules
from notfall.domain.errors import Rejected
from notfall.domain.partners import (
    ChildCountReported,
    ContractIn,
    ContractSigned,
    PartnerIn,
    PartnerRegistered,
    PartnerState,
    fold_partner,
)
from notfall.domain.statements import Context, Period, period_of, statement, suppress
from notfall.domain.tariffs import PUBLISHED, TARIFF_STREAM, Rounding, TariffSet, Tier, fold_tariffs


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def partner(partner_id: str, kind: str, name: str, municipality: str, contract: ContractIn) -> PartnerState:
    figures: dict[str, Any] = (
        {"employees": 250} if kind == "company" else {"inhabitants": 9_000, "children_under_10": 700}
    )
    registered = PartnerRegistered(
        partner=PartnerIn(
            partner_id=partner_id,
            kind=kind,  # type: ignore[arg-type]
            name=name,
            municipality=municipality,
            joined_on=date(2026, 1, 1),
            **figures,
        )
    )
    counts = [ChildCountReported(year=2026, children_under_10=700)] if kind == "municipality" else []
    state = fold_partner(envelopes(f"partner-{partner_id}", [registered, ContractSigned(contract=contract), *counts]))
    assert state is not None
    return state


ACME = partner(
    "acme",
    "company",
    "ACME Logistik GmbH",
    "Hannover",
    ContractIn(contract_id="acme-2026", fee_model="monthly", start=date(2026, 1, 1), monthly_fee_cents=10_000),
)
GARBSEN = partner(
    "garbsen",
    "municipality",
    "Stadt Garbsen",
    "Garbsen",
    ContractIn(contract_id="garbsen-2026", fee_model="per_child", start=date(2026, 1, 1)),
)
PARTNERS = [ACME, GARBSEN]


def tariffs(partner_cents: int = 300):
    events = [TariffSet(**t.model_dump()) for t in PUBLISHED]
    events.append(TariffSet(tier=Tier.PARTNER, cents_per_hour=partner_cents, valid_from=date(2026, 1, 1)))
    return fold_tariffs(envelopes(TARIFF_STREAM, events))


CTX = Context(PARTNERS, tariffs(), Rounding(15), EligibilityRules())


def case(
    case_id: str,
    family_id: str,
    *,
    employer: str | None = "ACME Logistik GmbH",
    municipality: str = "hannover",
    persons: list[dict[str, Any]] | None = None,
    consultations: list[datetime] = (),  # type: ignore[assignment]
    need_at: datetime | None = None,
    sessions: list[tuple[datetime, datetime]] = (),  # type: ignore[assignment]
    transports: list[tuple[datetime, str]] = (),  # type: ignore[assignment]
) -> CaseState:
    """A case as its fold would leave it: the need names `employer` and `municipality`."""
    clarified = need(employer=employer, municipality=municipality, persons=persons or [{"kind": "child", "age": 5}])
    opened = consultations[0] if consultations else need_at or berlin(2026, 1, 1, 8, 0)
    return CaseState(
        case_id=case_id,
        version=1,
        family_id=family_id,
        caller_number=None,
        channel="call",
        status="emergency" if need_at else "closed",
        opened_at=opened,
        last_activity_at=opened,
        consultations=[
            ev.ConsultationRecorded(agent="agent-1", started_at=at, ended_at=at.replace(minute=at.minute + 20))
            for at in consultations
        ],
        need=clarified,
        outcome=ev.Outcome.CARE_NEED if need_at else ev.Outcome.ADVICE,
        need_at=need_at,
        sessions=[
            SessionView(session_id=f"s{i}", assignment_id="a1", caregiver_id="cg-1", start=s, end=e, source="staff")
            for i, (s, e) in enumerate(sessions)
        ],
        transports=[
            TransportView(
                transport_id=f"t{i}",
                from_place="Kita",
                to_place="home",
                at=at,
                persons=1,
                price_cents=800,
                status=status,  # type: ignore[arg-type]
            )
            for i, (at, status) in enumerate(transports)
        ],
    )


Q1 = Period(date(2026, 1, 1), date(2026, 3, 31), "2026-Q1")


# --- periods and bad input -------------------------------------------------------------------


def test_periods_are_months_quarters_years_or_from_to() -> None:
    assert period_of("2026-02", None, None) == Period(date(2026, 2, 1), date(2026, 2, 28), "2026-02")
    assert period_of("2026-Q4", None, None) == Period(date(2026, 10, 1), date(2026, 12, 31), "2026-Q4")
    assert period_of("2024", None, None) == Period(date(2024, 1, 1), date(2024, 12, 31), "2024")
    # a leap year's from-to of 366 days is allowed
    assert period_of(None, date(2024, 1, 1), date(2024, 12, 31)).months()[-1] == "2024-12"


@pytest.mark.parametrize(
    ("period", "start", "end", "field"),
    [
        (None, date(2026, 3, 1), date(2026, 2, 28), "query.to"),  # end before start
        (None, date(2026, 1, 1), date(2027, 1, 2), "query.to"),  # 367 days
        ("2026-13", None, None, "query.period"),
        ("2026-Q5", None, None, "query.period"),
        ("2026", date(2026, 1, 1), None, "query.period"),  # both kinds
        (None, None, date(2026, 1, 1), "query.from"),
        (None, date(2026, 1, 1), None, "query.to"),
    ],
)
def test_a_bad_period_is_refused_naming_the_field(period, start, end, field) -> None:
    with pytest.raises(Rejected) as refused:
        period_of(period, start, end)
    assert refused.value.field == field


def test_a_threshold_below_one_is_refused() -> None:
    with pytest.raises(Rejected) as refused:
        statement(ACME, Q1, [], {}, CTX, threshold=0)
    assert refused.value.field == "query.threshold"


# --- figures by hand ----------------------------------------------------------------------------


def small_history() -> list[CaseState]:
    return [
        # an employee of ACME: consultation and emergency on 10 Jan, care on 12 Jan 08:00-12:10
        # (250 min, billed in quarter hours: 255 min), one trip done and one cancelled
        case(
            "c-a",
            "fam-a",
            consultations=[berlin(2026, 1, 10, 9, 0)],
            need_at=berlin(2026, 1, 10, 9, 30),
            sessions=[(berlin(2026, 1, 12, 8, 0), berlin(2026, 1, 12, 12, 10))],
            transports=[(berlin(2026, 1, 12, 7, 30), "done"), (berlin(2026, 1, 13, 7, 30), "cancelled")],
        ),
        # ACME named by its id; advice only, on 3 Feb
        case("c-b", "fam-b", employer="acme", consultations=[berlin(2026, 2, 3, 10, 0)]),
        # another employer: never ACME's
        case("c-c", "fam-c", employer="Bäckerei Sonne", consultations=[berlin(2026, 2, 4, 10, 0)]),
        # ACME's, but the care is in April: outside the quarter
        case(
            "c-d",
            "fam-d",
            consultations=[berlin(2026, 3, 31, 23, 30)],  # 31 March, Berlin time
            need_at=berlin(2026, 4, 1, 0, 30),  # 1 April, Berlin time (still 31 March in UTC)
            sessions=[(berlin(2026, 4, 2, 8, 0), berlin(2026, 4, 2, 10, 0))],
        ),
    ]


def test_a_quarter_worked_out_by_hand() -> None:
    """Without suppression (threshold 1). January: c-a's consultation, emergency and done trip;
    255 billed min at the standard 5.00 EUR = 21.25 EUR value, at the partner's 3.00 EUR =
    12.75 EUR charged, 8.50 EUR saved; cared 250 min = 4.17 h. February: c-b's consultation.
    March: c-d's consultation at 23:30 Berlin time (its emergency is on 1 April, Berlin).
    Fee: 100 EUR a month, three months."""
    got = statement(ACME, Q1, small_history(), {}, CTX, threshold=1)
    zero = {
        "consultations": 0,
        "emergencies": 0,
        "transports": 0,
        "care_hours": "0.00",
        "care_value_cents": 0,
        "savings_cents": 0,
        "families_charged_cents": 0,
    }
    assert got["months"] == [
        {
            "month": "2026-01",
            **zero,
            "consultations": 1,
            "emergencies": 1,
            "transports": 1,
            "care_hours": "4.17",
            "care_value_cents": 2125,
            "savings_cents": 850,
            "families_charged_cents": 1275,
        },
        {"month": "2026-02", **zero, "consultations": 1},
        {"month": "2026-03", **zero, "consultations": 1},
    ]
    assert got["total"] == {
        **zero,
        "consultations": 3,
        "emergencies": 1,
        "transports": 1,
        "care_hours": "4.17",
        "care_value_cents": 2125,
        "savings_cents": 850,
        "families_charged_cents": 1275,
    }
    assert (got["fee_cents"], got["value_used_cents"]) == (30_000, 2125)
    assert got["tax_free_listing"] == []


def test_a_municipality_counts_its_residents_and_its_employees_and_nobody_else() -> None:
    """Garbsen: c-r lives there (resident, standard rate: no savings), c-e works for the town
    (employee, partner rate), c-a works for ACME in Hannover (neither). Fee: 700 children x
    1 EUR a year, for the 90 days of Q1 2026 of 365: 70,000 x 90 / 365 = 17,260.27 -> 17,260."""
    cases = [
        case("c-r", "fam-r", employer=None, municipality="Garbsen", consultations=[berlin(2026, 2, 1, 10, 0)]),
        case(
            "c-e",
            "fam-e",
            employer="Stadt Garbsen",
            consultations=[berlin(2026, 2, 2, 10, 0)],
            need_at=berlin(2026, 2, 2, 10, 30),
            sessions=[(berlin(2026, 2, 3, 8, 0), berlin(2026, 2, 3, 10, 0))],  # 2 h: 10.00 value, 6.00 charged
        ),
        *small_history()[:1],
    ]
    got = statement(GARBSEN, Q1, cases, {}, CTX, threshold=1)
    feb = got["months"][1]
    assert (feb["consultations"], feb["emergencies"], feb["care_value_cents"], feb["savings_cents"]) == (
        2,
        1,
        1000,
        400,
    )
    assert got["total"]["consultations"] == 2 and got["months"][0]["consultations"] == 0
    assert got["fee_cents"] == 17_260


# --- small counts ----------------------------------------------------------------------------


def test_a_month_below_the_threshold_prints_fewer_than_n_and_the_total_does_not_give_it_away() -> None:
    """Consultations per month 7, 2, 6 (total 15), threshold 5: February prints "fewer than
    5"; March (the smallest other month) is suppressed too, else 15 - 7 - 6 = 2."""
    marks, total = suppress([7, 2, 6], 15, 5)
    assert (marks, total) == ([None, "fewer", "hidden"], None)


def test_a_total_below_the_threshold_is_fewer_than_n_and_withholds_every_part() -> None:
    """Parts 1, 1, 0 of a total 2 (threshold 3): showing the zero would leave two parts of 1..2
    adding up to 1..2, which makes each 1."""
    assert suppress([1, 1, 0], 2, 3) == (["withheld"] * 3, "fewer")


def test_when_no_part_can_hide_a_suppressed_one_the_total_is_suppressed() -> None:
    """Parts 1 and 5, threshold 5: hiding both still gives them away (1..4 plus at least 5
    making 6 is 1 + 5 only), so the total goes."""
    assert suppress([1, 5], 6, 5) == (["fewer", "hidden"], "hidden")


READER = {"fewer": (1, "t-1"), "hidden": ("t", 40), "withheld": (0, "t-1")}  # what each mark tells


def _possible(
    parts: list[int], marks: list[str | None], total: int, total_mark: str | None, threshold: int
) -> set[tuple[int, ...]]:
    """Every table of parts a reader could think of, from what the statement shows and the
    bounds the rule gives each mark (the total too)."""

    def bounds(mark: str) -> range:
        lo, hi = (threshold - 1 if b == "t-1" else threshold if b == "t" else b for b in READER[mark])
        return range(lo, hi + 1)

    ranges = [[n] if mark is None else list(bounds(mark)) for n, mark in zip(parts, marks, strict=True)]
    sums = [total] if total_mark is None else list(bounds(total_mark))
    return {combo for combo in itertools.product(*ranges) if sum(combo) in sums}


@pytest.mark.parametrize("threshold", [3, 4, 5])
def test_the_difference_attack_never_reveals_a_suppressed_month(threshold: int) -> None:
    """Every table of three months with 0 to 7 each: whatever is suppressed cannot be worked
    out from the total and the months shown (each hidden month keeps two or more candidates).
    (A threshold of 2 prints "fewer than 2", which is 1 by itself: the rule advises 3 or more.)"""
    for parts in itertools.product(range(8), repeat=3):
        total = sum(parts)
        marks, total_mark = suppress(list(parts), total, threshold)
        assert all(mark is not None for n, mark in zip(parts, marks, strict=True) if 0 < n < threshold)
        if not any(marks):
            continue
        tables = _possible(list(parts), marks, total, total_mark, threshold)
        assert tuple(parts) in tables
        for i, mark in enumerate(marks):
            if mark is not None:
                assert len({t[i] for t in tables}) >= 2, (parts, marks, total_mark)


def test_the_statement_suppresses_counts_and_the_care_of_few_households() -> None:
    """Threshold 5 on the small history: 1 consultation a month (total 3), 1 emergency, 1 trip,
    1 household with care: every total is below 5, so every month of it is withheld, zeros too."""
    got = statement(ACME, Q1, small_history(), {}, CTX, threshold=5)
    for month in got["months"]:
        for measure in ("consultations", "emergencies", "transports", "care_hours", "savings_cents"):
            assert month[measure] == "suppressed", (month["month"], measure)
    assert got["total"]["consultations"] == "fewer than 5" and got["total"]["emergencies"] == "fewer than 5"
    assert got["total"]["care_hours"] == "suppressed"
    assert got["value_used_cents"] == "suppressed" and got["fee_cents"] == 30_000


def test_a_busy_quarter_shows_its_months_and_hides_the_one_that_would_single_somebody_out() -> None:
    """Employees' consultations: 6 in January, 2 in February, 5 in March (threshold 5). February
    prints "fewer than 5"; March is suppressed too, or 13 - 6 - 5 would give February away."""
    days = [berlin(2026, 1, d, 9, 0) for d in range(1, 7)]
    days += [berlin(2026, 2, d, 9, 0) for d in (1, 2)]
    days += [berlin(2026, 3, d, 9, 0) for d in range(1, 6)]
    cases = [case(f"c-{i}", f"fam-{i}", consultations=[at]) for i, at in enumerate(days)]
    got = statement(ACME, Q1, cases, {}, CTX, threshold=5)
    assert [m["consultations"] for m in got["months"]] == [6, "fewer than 5", "suppressed"]
    assert got["total"]["consultations"] == 13


# --- the 34a listing ---------------------------------------------------------------------------


def employee_care(case_id: str, family_id: str, *days: tuple[int, int], hours: int = 5, **need: Any) -> CaseState:
    """Care of `hours` hours from 08:00 on each (month, day) of 2026."""
    return case(
        case_id,
        family_id,
        need_at=berlin(2026, days[0][0], days[0][1], 7, 0),
        sessions=[(berlin(2026, m, d, 8, 0), berlin(2026, m, d, 8 + hours, 0)) for m, d in days],
        **need,
    )


def test_only_consenting_employees_are_listed_for_the_care_of_children_under_14() -> None:
    """Partner rate 3.00 EUR: 5 h = 15.00 EUR. fam-a consented (reference NF-A); fam-b did not;
    fam-r consented but is a resident of Garbsen, no employee of ACME; fam-o consented but
    cares for an adult relative."""
    cases = [
        employee_care("c-a", "fam-a", (2, 10)),
        employee_care("c-b", "fam-b", (2, 11)),
        employee_care("c-o", "fam-o", (2, 12), persons=[{"kind": "adult", "age": 80}]),
    ]
    refs = {"fam-a": "NF-A", "fam-r": "NF-R", "fam-o": "NF-O"}
    got = statement(ACME, Q1, cases, refs, CTX, threshold=1)
    assert got["tax_free_listing"] == [
        {"reference": "NF-A", "year": 2026, "care_cents": 1500, "earlier_in_year_cents": 0, "tax_free_cents": 1500}
    ]
    resident = employee_care("c-r", "fam-r", (2, 13), employer=None, municipality="Garbsen")
    assert statement(GARBSEN, Q1, [resident], refs, CTX, threshold=1)["tax_free_listing"] == []


def test_the_listing_caps_the_tax_free_part_at_600_eur_a_year_counting_earlier_care_first() -> None:
    """Partner rate 30.00 EUR: 10 h in February = 300 EUR (Q1); 15 h in May = 450 EUR (Q2).
    Q2's statement: 450 EUR of care, 300 EUR earlier that year, so 600 - 300 = 300 EUR within
    the cap. The listing shows no name, only the reference."""
    ctx = Context(PARTNERS, tariffs(3000), Rounding(15), EligibilityRules())
    cases = [employee_care("c-a", "fam-a", (2, 10), (2, 11), (5, 4), (5, 5), (5, 6), hours=5)]
    q2 = period_of("2026-Q2", None, None)
    got = statement(ACME, q2, cases, {"fam-a": "NF-A"}, ctx, threshold=1)["tax_free_listing"]
    assert got == [
        {
            "reference": "NF-A",
            "year": 2026,
            "care_cents": 45_000,
            "earlier_in_year_cents": 30_000,
            "tax_free_cents": 30_000,
        }
    ]
    q1 = statement(ACME, Q1, cases, {"fam-a": "NF-A"}, ctx, threshold=1)["tax_free_listing"]
    assert q1[0]["tax_free_cents"] == 30_000 and q1[0]["earlier_in_year_cents"] == 0
