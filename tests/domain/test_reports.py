# Proves the demand report's figures and groups, the month ranges, and the volunteer expense
# statement with its CSV, from rows of real case states.
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from domain_builders import berlin, need
from row_builders import assigned, caregiver, case, emergency, recorded, window

from notfall.domain import care_events as ce
from notfall.domain import events as ev
from notfall.projection.case_rows import case_rows
from notfall.reports.demand import demand_report, months_between, summarise
from notfall.reports.expenses import euros, statement, statement_csv

# --- demand ----------------------------------------------------------------------------------


def demand_of(
    case_id: str, need_at: datetime, assigned_after: int | None = None, flagged: str | None = None, **need_changes
) -> dict:
    """The demand row of an emergency recorded at `need_at` (Berlin), assigned after the given
    minutes and/or flagged unfilled after 95 minutes."""
    start = need_at + timedelta(hours=3)
    steps = emergency(case_id, need_at=need_at, window=window(start, start + timedelta(hours=5)), **need_changes)
    if flagged is not None:
        steps.append(
            (
                ce.NeedUnfilled(need_at=need_at, detected_at=need_at + timedelta(minutes=95), reason=flagged),
                need_at + timedelta(minutes=95),
            )
        )
    if assigned_after is not None:
        steps.append(
            assigned("a1", "helga", need_at + timedelta(minutes=assigned_after), start, start + timedelta(hours=5))
        )
    [row] = [r for r in case_rows(case(*steps, case_id=case_id)) if r["pk"].startswith("demand#")]
    assert row["pk"] == "demand#2026-11"
    return row


@pytest.fixture(scope="module")
def november() -> list[dict]:
    return [
        demand_of("c1", berlin(2026, 11, 2, 7, 10), 30),  # Monday; preschool + school; childcare_closed
        demand_of(
            "c2", berlin(2026, 11, 2, 7, 40), 45, persons=[{"kind": "child", "age": 1}], reasons=["childcare_ill"]
        ),
        demand_of(
            "c3",
            berlin(2026, 11, 3, 22, 15),
            60,
            municipality="hemmingen",
            persons=[{"kind": "adult"}, {"kind": "child", "age": 8}],
            reasons=["hospital_stay", "other"],
        ),
        demand_of(
            "c4", berlin(2026, 11, 7, 2, 5), 120, flagged="no caregiver free at night", municipality="hemmingen"
        ),  # Saturday night: flagged, then filled late
        demand_of(
            "c5", berlin(2026, 11, 8, 19, 0), flagged="none of 3 caregivers can take this need", municipality="garbsen"
        ),
        demand_of("c6", berlin(2026, 11, 8, 19, 30), municipality="garbsen"),  # still open
    ]


def test_the_total_counts_needs_fill_and_time_to_assignment(november) -> None:
    report = demand_report(november, "municipality")
    # filled after 30, 45, 60, 120 minutes: median (45 + 60) / 2 = 52.5 -> 53, mean 255 / 4 = 63.75 -> 64,
    # p90 the value at rank ceil(0.9 x 4) = 4
    assert report["total"] == {
        "needs": 6,
        "refused": 0,
        "filled": 4,
        "unfilled": 2,
        "open": 1,
        "within_target": 3,
        "minutes_to_assignment": {"median": 53, "mean": 64, "p90": 120, "max": 120},
    }
    assert report["by"] == "municipality"


def test_groups_by_municipality_sorted(november) -> None:
    groups = demand_report(november, "municipality")["groups"]
    none = {"median": None, "mean": None, "p90": None, "max": None}
    assert groups == [
        {
            "key": "garbsen",
            "needs": 2,
            "refused": 0,
            "filled": 0,
            "unfilled": 1,
            "open": 1,
            "within_target": 0,
            "minutes_to_assignment": none,
        },
        {
            "key": "hemmingen",
            "needs": 2,
            "refused": 0,
            "filled": 2,
            "unfilled": 1,
            "open": 0,
            "within_target": 1,
            "minutes_to_assignment": {"median": 90, "mean": 90, "p90": 120, "max": 120},
        },
        {
            "key": "laatzen",
            "needs": 2,
            "refused": 0,
            "filled": 2,
            "unfilled": 0,
            "open": 0,
            "within_target": 2,
            "minutes_to_assignment": {"median": 38, "mean": 38, "p90": 45, "max": 45},
        },  # 37.5 rounds up
    ]


def test_groups_by_berlin_weekday_and_hour(november) -> None:
    assert [(g["key"], g["needs"]) for g in demand_report(november, "weekday")["groups"]] == [
        (0, 2),
        (1, 1),
        (5, 1),
        (6, 2),
    ]
    assert [(g["key"], g["needs"]) for g in demand_report(november, "hour")["groups"]] == [
        (2, 1),
        (7, 2),
        (19, 2),
        (22, 1),
    ]


def test_a_need_counts_once_in_each_of_its_age_groups_and_reasons(november) -> None:
    by_age = demand_report(november, "age_group")
    assert [(g["key"], g["needs"]) for g in by_age["groups"]] == [
        ("adult", 1),
        ("infant", 1),
        ("preschool", 4),
        ("school", 5),
    ]
    assert sum(g["needs"] for g in by_age["groups"]) > by_age["total"]["needs"] == 6
    by_reason = demand_report(november, "reason")["groups"]
    assert [(g["key"], g["needs"], g["filled"]) for g in by_reason] == [
        ("childcare_closed", 4, 2),
        ("childcare_ill", 1, 1),
        ("hospital_stay", 1, 1),
        ("other", 1, 1),
    ]


def test_groups_by_unfilled_reason_with_the_never_flagged_last(november) -> None:
    groups = demand_report(november, "unfilled_reason")["groups"]
    assert [(g["key"], g["needs"], g["filled"], g["open"]) for g in groups] == [
        ("no caregiver free at night", 1, 1, 0),
        ("none of 3 caregivers can take this need", 1, 0, 0),
        (None, 4, 3, 1),
    ]


def test_median_and_p90_of_larger_counts() -> None:
    def rows(minutes: list[int]) -> list[dict]:
        return [
            {"filled": True, "unfilled": False, "within_target": m <= 90, "minutes_to_assignment": m} for m in minutes
        ]

    ten = summarise(rows([100, 10, 20, 30, 40, 50, 60, 70, 80, 90]))
    assert ten["minutes_to_assignment"] == {"median": 55, "mean": 55, "p90": 90, "max": 100}  # rank 9 of 10
    assert ten["within_target"] == 9
    eleven = summarise(rows(list(range(10, 111, 10))))
    assert eleven["minutes_to_assignment"] == {"median": 60, "mean": 60, "p90": 100, "max": 110}  # rank 10 of 11
    assert summarise(rows([7]))["minutes_to_assignment"] == {"median": 7, "mean": 7, "p90": 7, "max": 7}
    assert summarise([]) == {
        "needs": 0,
        "refused": 0,
        "filled": 0,
        "unfilled": 0,
        "open": 0,
        "within_target": 0,
        "minutes_to_assignment": {"median": None, "mean": None, "p90": None, "max": None},
    }


def test_care_refused_counts_as_demand_not_met_in_the_month_of_its_first_refusal(november) -> None:
    def refused(case_id: str, at: datetime, *more: datetime) -> ev.CareRefused:
        steps = [
            (
                ev.CaseOpened(
                    case_id=case_id,
                    family_id="fam-test",
                    channel="call",
                    caller_number=None,
                    opened_at=at - timedelta(minutes=10),
                ),
                at - timedelta(minutes=10),
            ),
            ev.NeedClarified(need=need(municipality="celle")),
        ]
        steps += [
            (ev.CareRefused(refused="care_need", day=date(2026, 12, 1), basis="celle: kein Anspruch", refused_at=t), t)
            for t in (at, *more)
        ]
        return case_rows(case(*steps, case_id=case_id))

    # refused on 30 November at 23:30 Berlin (22:30 UTC), and again in December: counted once, in November
    first = [
        r
        for r in refused("r1", berlin(2026, 11, 30, 23, 30), berlin(2026, 12, 1, 8, 0))
        if r["pk"].startswith("demand#")
    ]
    assert [(r["pk"], r["refused"], r["municipality"]) for r in first] == [("demand#2026-11", True, "celle")]
    report = demand_report([*november, *first], "municipality")
    assert (report["total"]["needs"], report["total"]["refused"], report["total"]["open"]) == (6, 1, 1)
    assert [(g["key"], g["needs"], g["refused"]) for g in report["groups"]] == [
        ("celle", 0, 1),
        ("garbsen", 2, 0),
        ("hemmingen", 2, 0),
        ("laatzen", 2, 0),
    ]


def test_an_unknown_dimension_is_refused(november) -> None:
    with pytest.raises(ValueError, match="municipality"):
        demand_report(november, "employer")


def test_months_between() -> None:
    assert months_between("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert months_between("2026-11", "2026-11") == ["2026-11"]
    assert len(months_between("2025-01", "2026-12")) == 24
    with pytest.raises(ValueError, match="at most 24"):
        months_between("2025-01", "2027-01")
    with pytest.raises(ValueError, match="before"):
        months_between("2026-11", "2026-10")
    with pytest.raises(ValueError, match="YYYY-MM"):
        months_between("2026-13", "2027-01")


# --- expense statement ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def helga_rows() -> list[dict]:
    """helga's month rows of two cases: c1 at the default rates, c2 at rates recorded as 15 EUR
    and 25 ct/km, whose first session ran over the night into November."""
    c1_start, c1_end = berlin(2026, 11, 2, 8, 0), berlin(2026, 11, 6, 18, 0)
    c1 = case(
        *emergency("c1", need_at=berlin(2026, 11, 1, 19, 0), window=window(c1_start, c1_end)),
        assigned("a1", "helga", berlin(2026, 11, 1, 19, 20), c1_start, c1_end),
        recorded("s1", "a1", "helga", berlin(2026, 11, 2, 8, 0), berlin(2026, 11, 2, 12, 30), km="12.4"),
        recorded("s2", "a1", "helga", berlin(2026, 11, 3, 8, 0), berlin(2026, 11, 3, 10, 0)),
        case_id="c1",
    )
    c2_start, c2_end = berlin(2026, 10, 31, 20, 0), berlin(2026, 11, 6, 18, 0)
    c2 = case(
        *emergency("c2", need_at=berlin(2026, 10, 30, 11, 0), window=window(c2_start, c2_end)),
        assigned(
            "a7", "helga", berlin(2026, 10, 30, 11, 30), c2_start, c2_end, allowance_cents=1500, travel_cents_per_km=25
        ),
        recorded("s1", "a7", "helga", berlin(2026, 10, 31, 21, 0), berlin(2026, 11, 1, 3, 0), km="6.1"),
        recorded("s2", "a7", "helga", berlin(2026, 11, 5, 16, 0), berlin(2026, 11, 5, 17, 15), km="3.3"),
        case_id="c2",
    )
    return [
        r
        for state in (c2, c1)
        for r in case_rows(state)
        if r["pk"] == "caregiver#helga" and r["sk"].startswith("month#")
    ]


def of_month(rows: list[dict], month: str) -> list[dict]:
    return [r for r in rows if r["month"] == month]


def test_the_statement_has_a_line_per_case_and_totals_in_cents(helga_rows) -> None:
    stmt = statement(caregiver().model_dump(mode="json"), "2026-11", of_month(helga_rows, "2026-11"))
    assert stmt == {
        "caregiver_id": "helga",
        "name": "Helga Brandt",
        "month": "2026-11",
        "lines": [
            # 270 + 120 minutes; 12.4 km x 30 ct = 372; the allowance of a1 (first session 2 November)
            {
                "case_id": "c1",
                "sessions": 2,
                "cared_minutes": 390,
                "cared_hours": "6.50",
                "travel_km": "12.4",
                "travel_cents": 372,
                "allowance_cents": 1000,
                "amount_cents": 1372,
            },
            # 180 minutes after midnight of the October night + 75; only the 5 November session started
            # in November: 3.3 km x 25 ct = 82.5 -> 83; a7's allowance belongs to October
            {
                "case_id": "c2",
                "sessions": 1,
                "cared_minutes": 255,
                "cared_hours": "4.25",
                "travel_km": "3.3",
                "travel_cents": 83,
                "allowance_cents": 0,
                "amount_cents": 83,
            },
        ],
        "totals": {
            "sessions": 3,
            "cared_minutes": 645,
            "cared_hours": "10.75",
            "travel_km": "15.7",
            "travel_cents": 455,
            "allowance_cents": 1000,
            "amount_cents": 1455,
        },
    }


def test_the_october_statement_carries_the_allowance_of_the_night(helga_rows) -> None:
    stmt = statement(caregiver().model_dump(mode="json"), "2026-10", of_month(helga_rows, "2026-10"))
    # 6.1 km x 25 ct = 152.5 -> 153
    assert [
        (line["case_id"], line["cared_minutes"], line["travel_cents"], line["allowance_cents"], line["amount_cents"])
        for line in stmt["lines"]
    ] == [("c2", 180, 153, 1500, 1653)]
    assert stmt["totals"]["amount_cents"] == 1653


def test_an_empty_month_is_a_statement_of_zeros() -> None:
    stmt = statement(caregiver().model_dump(mode="json"), "2026-12", [])
    assert stmt["lines"] == []
    assert stmt["totals"] == {
        "sessions": 0,
        "cared_minutes": 0,
        "cared_hours": "0.00",
        "travel_km": "0",
        "travel_cents": 0,
        "allowance_cents": 0,
        "amount_cents": 0,
    }
    assert statement_csv(stmt) == (
        "case_id;sessions;cared_hours;travel_km;travel_eur;allowance_eur;amount_eur\r\n"
        "total;0;0,00;0;0,00;0,00;0,00\r\n"
    )


def test_rows_of_another_month_or_caregiver_are_refused(helga_rows) -> None:
    with pytest.raises(ValueError, match="not of caregiver helga in 2026-11"):
        statement(caregiver().model_dump(mode="json"), "2026-11", helga_rows)
    with pytest.raises(ValueError):
        statement(caregiver(caregiver_id="omar").model_dump(mode="json"), "2026-11", of_month(helga_rows, "2026-11"))


def test_the_csv_is_for_german_spreadsheets(helga_rows) -> None:
    text = statement_csv(statement(caregiver().model_dump(mode="json"), "2026-11", of_month(helga_rows, "2026-11")))
    assert text == (
        "case_id;sessions;cared_hours;travel_km;travel_eur;allowance_eur;amount_eur\r\n"
        "c1;2;6,50;12,4;3,72;10,00;13,72\r\n"
        "c2;1;4,25;3,3;0,83;0,00;0,83\r\n"
        "total;3;10,75;15,7;4,55;10,00;14,55\r\n"
    )
    parsed = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert [len(line) for line in parsed] == [7, 7, 7, 7]
    text.encode("utf-8")


def test_euros_with_a_decimal_comma() -> None:
    assert [euros(c) for c in (0, 5, 83, 1000, 123456)] == ["0,00", "0,05", "0,83", "10,00", "1234,56"]
