# Proves the care rows of a case: cared hours by Berlin month, caregiver expenses, offers,
# assignments, demand, the unassigned queue, transport.
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from domain_builders import berlin, utc
from row_builders import assigned, case, emergency, recorded, stamped, window

from notfall.domain import care_events as ce
from notfall.domain import events as ev
from notfall.projection.case_rows import DEFAULT_TARGET_MINUTES, MAX_OFFER_ROWS, case_rows, travel_cents
from notfall.projection.projector import rows_for_stream, write_rows
from notfall.projection.readmodel import MemoryReadModel


def row(rows: list[dict], pk: str, sk: str) -> dict | None:
    return next((r for r in rows if (r["pk"], r["sk"]) == (pk, sk)), None)


def with_pk(rows: list[dict], prefix: str) -> list[dict]:
    return [r for r in rows if r["pk"].startswith(prefix)]


def payload(r: dict | None) -> dict | None:
    return None if r is None else {k: v for k, v in r.items() if k not in ("pk", "sk")}


# A Saturday night over the end of October 2026 (clocks went back on 25 October: CET, UTC+1).
NIGHT = window(berlin(2026, 10, 31, 18, 0), berlin(2026, 11, 1, 8, 0))  # 360 min in Oct, 480 in Nov
NEED_AT = berlin(2026, 10, 31, 16, 40)


def night(*more) -> list[dict]:
    return case_rows(
        case(
            *emergency(need_at=NEED_AT, window=NIGHT),
            assigned("a1", "helga", NEED_AT + timedelta(minutes=45), *NIGHT_TIMES),
            recorded("s1", "a1", "helga", berlin(2026, 10, 31, 21, 0), berlin(2026, 11, 1, 3, 0), km="12.5"),
            *more,
        )
    )


NIGHT_TIMES = (berlin(2026, 10, 31, 18, 0), berlin(2026, 11, 1, 8, 0))


# --- cared hours ---------------------------------------------------------------------------


def test_a_session_over_the_month_end_splits_at_berlin_midnight_and_is_billable_in_the_month_it_started() -> None:
    rows = night()
    # 21:00-03:00 Berlin: 180 calendar minutes in each month; the invoice bills all 360 in October.
    assert rows[0]["hours"] == {
        "requested_minutes_by_month": {"2026-10": 360, "2026-11": 480},
        "cared_minutes_by_month": {"2026-10": 180, "2026-11": 180},
        "session_minutes_by_start_month": {"2026-10": [360]},
    }
    hours = [
        (r["pk"], r["sk"], r["requested_minutes"], r["cared_minutes"], r["billable_session_minutes"])
        for r in rows
        if r["pk"].startswith(("month#", "family#"))
    ]
    assert hours == [
        ("month#2026-10", "case#c1", 360, 180, [360]),
        ("family#fam-test", "month#2026-10#case#c1", 360, 180, [360]),
        ("month#2026-11", "case#c1", 480, 180, []),
        ("family#fam-test", "month#2026-11#case#c1", 480, 180, []),
    ]


def test_a_session_started_in_the_last_half_minute_of_a_month_bills_there() -> None:
    """From 23:59:30 on 30 November to 01:00: no whole calendar minute in November, 60 billable minutes."""
    rows = night(recorded("s2", "a1", "helga", berlin(2026, 11, 30, 23, 59, 30), berlin(2026, 12, 1, 1, 0)))
    december = row(rows, "month#2026-12", "case#c1")
    assert (december["cared_minutes"], december["billable_session_minutes"]) == (60, [])
    november = row(rows, "month#2026-11", "case#c1")
    assert (november["cared_minutes"], november["billable_session_minutes"]) == (180, [60])


def test_the_caregiver_month_rows_split_the_same_way_and_carry_the_expenses() -> None:
    rows = night()
    assert [r["sk"] for r in with_pk(rows, "caregiver#helga") if r["sk"].startswith("month#")] == [
        "month#2026-10#case#c1",
        "month#2026-11#case#c1",
    ]
    october = payload(row(rows, "caregiver#helga", "month#2026-10#case#c1"))
    assert october == {
        "case_id": "c1",
        "family_id": "fam-test",
        "caregiver_id": "helga",
        "month": "2026-10",
        "cared_minutes": 180,
        "sessions": 1,
        "travel_km": "12.5",
        "travel_cents": 375,  # 12.5 km x 30 ct
        "allowance_cents": 1000,
        "assignment_ids": ["a1"],
    }
    # The session started in October: its travel and its allowance count there, once.
    november = payload(row(rows, "caregiver#helga", "month#2026-11#case#c1"))
    assert november == {
        **october,
        "month": "2026-11",
        "sessions": 0,
        "travel_km": "0",
        "travel_cents": 0,
        "allowance_cents": 0,
    }


def test_a_corrected_session_changes_the_minutes_and_the_travel() -> None:
    rows = night(
        ce.SessionCorrected(
            session_id="s1",
            start=berlin(2026, 10, 31, 21, 0),
            end=berlin(2026, 11, 1, 1, 30),
            travel_km=Decimal("10"),
            reason="typo",
        )
    )
    assert rows[0]["hours"]["cared_minutes_by_month"] == {"2026-10": 180, "2026-11": 90}
    assert row(rows, "month#2026-11", "case#c1")["cared_minutes"] == 90
    october = row(rows, "caregiver#helga", "month#2026-10#case#c1")
    assert (october["travel_km"], october["travel_cents"], october["allowance_cents"]) == ("10", 300, 1000)
    assert row(rows, "caregiver#helga", "month#2026-11#case#c1")["cared_minutes"] == 90


def test_a_voided_session_removes_its_minutes_and_its_expenses() -> None:
    rows = night(ce.SessionVoided(session_id="s1", reason="recorded on the wrong case"))
    assert rows[0]["hours"]["cared_minutes_by_month"] == {}
    assert [r["cared_minutes"] for r in rows if r["pk"].startswith("month#")] == [0, 0]
    assert [r["sk"] for r in with_pk(rows, "caregiver#") if r["sk"].startswith("month#")] == []
    assert row(rows, "caregiver#helga", "assignment#c1#a1")["active"] is True  # the assignment stands


def test_a_checked_in_session_counts_only_once_checked_out() -> None:
    checked_in = night(
        (
            ce.SessionStarted(session_id="s2", assignment_id="a1", caregiver_id="helga", at=berlin(2026, 11, 1, 5, 0)),
            berlin(2026, 11, 1, 5, 0),
        )
    )
    assert checked_in[0]["hours"]["cared_minutes_by_month"] == {"2026-10": 180, "2026-11": 180}
    out = night(
        (
            ce.SessionStarted(session_id="s2", assignment_id="a1", caregiver_id="helga", at=berlin(2026, 11, 1, 5, 0)),
            berlin(2026, 11, 1, 5, 0),
        ),
        ce.SessionEnded(session_id="s2", at=berlin(2026, 11, 1, 7, 15), travel_km=Decimal("3.3")),
    )
    assert out[0]["hours"]["cared_minutes_by_month"] == {"2026-10": 180, "2026-11": 180 + 135}
    november = row(out, "caregiver#helga", "month#2026-11#case#c1")
    assert (november["sessions"], november["travel_km"], november["travel_cents"]) == (1, "3.3", 99)
    assert november["allowance_cents"] == 0  # a1's allowance was earned in October


def test_a_month_with_cared_time_only_gets_hour_rows_and_loses_them_when_voided() -> None:
    """Care given after the window's month still counts; the projector deletes the rows again."""
    steps = [
        *emergency(
            need_at=berlin(2026, 10, 30, 9, 0), window=window(berlin(2026, 10, 30, 12, 0), berlin(2026, 10, 30, 18, 0))
        ),
        assigned("a1", "helga", berlin(2026, 10, 30, 9, 30), berlin(2026, 10, 30, 12, 0), berlin(2026, 10, 30, 18, 0)),
        recorded("s1", "a1", "helga", berlin(2026, 11, 2, 8, 0), berlin(2026, 11, 2, 10, 0)),
        ce.SessionVoided(session_id="s1", reason="wrong case"),
    ]
    envelopes = stamped("case-c1", steps)
    rows = case_rows(case(*steps[:-1]))
    assert payload(row(rows, "month#2026-11", "case#c1")) == {
        "case_id": "c1",
        "family_id": "fam-test",
        "month": "2026-11",
        "requested_minutes": 0,
        "cared_minutes": 120,
        "billable_session_minutes": [120],
    }
    assert row(rows, "month#2026-10", "case#c1")["cared_minutes"] == 0

    readmodel = MemoryReadModel()
    assert write_rows(readmodel, *rows_for_stream("case-c1", envelopes[:-1])) == "written"
    assert readmodel.get("month#2026-11", "case#c1") is not None
    assert readmodel.get("caregiver#helga", "month#2026-11#case#c1") is not None
    assert write_rows(readmodel, *rows_for_stream("case-c1", envelopes)) == "written"
    assert readmodel.query("month#2026-11") == []
    assert readmodel.query("family#fam-test", "month#2026-11") == []
    assert readmodel.query("caregiver#helga", "month#") == []


# --- allowance and travel ------------------------------------------------------------------


WINDOW_3_WEEKS = window(berlin(2026, 10, 30, 7, 0), berlin(2026, 11, 20, 17, 0))


def reassigned(*more):
    """kai is assigned and cancels before caring; helga cares in October and November and is
    replaced by omar (other rates, recorded with his assignment), who cares in November."""
    start, end = berlin(2026, 10, 30, 7, 0), berlin(2026, 11, 20, 17, 0)
    return case_rows(
        case(
            *emergency(need_at=berlin(2026, 10, 29, 15, 0), window=WINDOW_3_WEEKS),
            assigned("a0", "kai", berlin(2026, 10, 29, 15, 30), start, end),
            (
                ce.AssignmentCancelled(assignment_id="a0", by="caregiver", reason="ill", notice_minutes=900),
                berlin(2026, 10, 29, 16, 0),
            ),
            assigned("a1", "helga", berlin(2026, 10, 29, 16, 10), start, end),
            recorded("s1", "a1", "helga", berlin(2026, 10, 30, 8, 0), berlin(2026, 10, 30, 12, 0), km="4"),
            recorded("s2", "a1", "helga", berlin(2026, 11, 2, 8, 0), berlin(2026, 11, 2, 12, 0), km="4"),
            (
                ce.AssignmentCancelled(
                    assignment_id="a1", by="staff", reason="reassigned: helga is away", notice_minutes=-5000
                ),
                berlin(2026, 11, 2, 13, 0),
            ),
            assigned(
                "a2",
                "omar",
                berlin(2026, 11, 2, 13, 0),
                start,
                end,
                allowance_cents=1200,
                travel_cents_per_km=25,
                replaces="a1",
            ),
            recorded("s3", "a2", "omar", berlin(2026, 11, 3, 8, 0), berlin(2026, 11, 3, 11, 0), km="7.3"),
            recorded("s4", "a2", "omar", berlin(2026, 11, 4, 8, 0), berlin(2026, 11, 4, 9, 0), km="0.1"),
            *more,
        )
    )


def months_of(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {
        (r["caregiver_id"], r["month"]): payload(r)
        for r in rows
        if r["pk"].startswith("caregiver#") and r["sk"].startswith("month#")
    }


def test_allowance_once_per_assignment_in_the_month_of_its_first_session() -> None:
    months = months_of(reassigned())
    assert set(months) == {("helga", "2026-10"), ("helga", "2026-11"), ("omar", "2026-11")}  # kai never cared
    assert [
        (months[k]["allowance_cents"], months[k]["sessions"], months[k]["cared_minutes"], months[k]["travel_cents"])
        for k in sorted(months)
    ] == [(1000, 1, 240, 120), (0, 1, 240, 120), (1200, 2, 240, 186)]
    assert months[("omar", "2026-11")]["assignment_ids"] == ["a2"]


def test_travel_is_rounded_half_up_per_session_at_the_assignments_rate() -> None:
    omar = months_of(reassigned())[("omar", "2026-11")]
    # 7.3 km x 25 ct = 182.5 -> 183; 0.1 km x 25 ct = 2.5 -> 3. Rounding the sum (7.4 km) would give 185.
    assert (omar["travel_km"], omar["travel_cents"]) == ("7.4", 183 + 3)
    assert [travel_cents(Decimal(km), rate) for km, rate in [("0.1", 25), ("0.3", 25), ("0.1", 30), ("0", 30)]] == [
        3,
        8,
        3,
        0,
    ]


def test_the_allowance_moves_when_the_first_session_is_voided() -> None:
    months = months_of(reassigned(ce.SessionVoided(session_id="s1", reason="never happened")))
    assert ("helga", "2026-10") not in months
    assert (months[("helga", "2026-11")]["allowance_cents"], months[("helga", "2026-11")]["cared_minutes"]) == (
        1000,
        240,
    )
    # and with every session of an assignment voided, it earns nothing
    months = months_of(
        reassigned(ce.SessionVoided(session_id="s3", reason="x"), ce.SessionVoided(session_id="s4", reason="x"))
    )
    assert ("omar", "2026-11") not in months


# --- offers and assignments under the caregiver ---------------------------------------------


def test_offer_rows_follow_the_offers_state() -> None:
    need_at = berlin(2026, 10, 31, 16, 40)
    base = [
        *emergency(need_at=need_at, window=NIGHT, persons=[{"kind": "child", "age": 1}, {"kind": "child", "age": 8}]),
        (
            ce.OfferMade(offer_id="o1", caregiver_id="helga", expires_at=need_at + timedelta(minutes=20)),
            need_at + timedelta(minutes=5),
        ),
        (
            ce.OfferMade(offer_id="o2", caregiver_id="omar", expires_at=need_at + timedelta(minutes=21)),
            need_at + timedelta(minutes=6),
        ),
    ]
    rows = case_rows(case(*base))
    assert payload(row(rows, "caregiver#helga", "offer#c1#o1")) == {
        "case_id": "c1",
        "offer_id": "o1",
        "caregiver_id": "helga",
        "status": "open",
        "made_at": "2026-10-31T15:45:00Z",
        "expires_at": "2026-10-31T16:00:00Z",
        "decided_at": None,
        "window_start": "2026-10-31T17:00:00Z",
        "window_end": "2026-11-01T07:00:00Z",
        "municipality": "laatzen",
        "age_groups": ["infant", "school"],
        "location_kind": "home",
    }
    later = case_rows(
        case(
            *base,
            (ce.OfferDeclined(offer_id="o1", reason="busy"), need_at + timedelta(minutes=8)),
            ce.OfferAccepted(offer_id="o2"),
            assigned("a1", "omar", need_at + timedelta(minutes=8), *NIGHT_TIMES),
        )
    )
    assert [(r["offer_id"], r["status"], r["decided_at"]) for r in later if r["sk"].startswith("offer#")] == [
        ("o1", "declined", "2026-10-31T15:48:00Z"),
        ("o2", "accepted", "2026-10-31T15:48:00Z"),
    ]


def test_offer_rows_keep_the_latest_offers_and_any_older_one_still_open() -> None:
    need_at = berlin(2026, 10, 31, 16, 40)
    steps = [*emergency(need_at=need_at, window=NIGHT)]
    for n in range(1, 13):
        steps.append(
            (
                ce.OfferMade(
                    offer_id=f"o{n:02d}", caregiver_id=f"cg{n:02d}", expires_at=need_at + timedelta(minutes=60)
                ),
                need_at + timedelta(minutes=n),
            )
        )
        if n != 1:
            steps.append(ce.OfferDeclined(offer_id=f"o{n:02d}"))
    offers = [r["offer_id"] for r in case_rows(case(*steps)) if r["sk"].startswith("offer#")]
    assert MAX_OFFER_ROWS == 10
    assert offers == ["o01"] + [f"o{n:02d}" for n in range(3, 13)]  # o02 is old and decided


def test_assignment_rows_show_where_whom_and_whether_it_stands() -> None:
    elsewhere = {"kind": "elsewhere", "address": "Hildesheimer Str. 20, 30880 Laatzen"}
    steps = [
        *emergency(need_at=NEED_AT, window=NIGHT, location=elsewhere),
        assigned("a1", "helga", NEED_AT + timedelta(minutes=45), *NIGHT_TIMES),
    ]
    rows = case_rows(case(*steps))
    assert payload(row(rows, "caregiver#helga", "assignment#c1#a1")) == {
        "case_id": "c1",
        "family_id": "fam-test",
        "assignment_id": "a1",
        "caregiver_id": "helga",
        "start": "2026-10-31T17:00:00Z",
        "end": "2026-11-01T07:00:00Z",
        "assigned_at": "2026-10-31T16:25:00Z",
        "active": True,
        "cancelled_at": None,
        "cancelled_by": None,
        "replaces": None,
        "municipality": "laatzen",
        "location": elsewhere,
        "persons": [{"kind": "child", "age": 3}, {"kind": "child", "age": 6}],
    }
    cancelled = case_rows(
        case(
            *steps,
            (
                ce.AssignmentCancelled(assignment_id="a1", by="family", reason="grandma came", notice_minutes=30),
                berlin(2026, 10, 31, 17, 30),
            ),
        )
    )
    a1 = row(cancelled, "caregiver#helga", "assignment#c1#a1")
    assert (a1["active"], a1["cancelled_by"], a1["cancelled_at"]) == (False, "family", "2026-10-31T16:30:00Z")


# --- demand and the unassigned queue ---------------------------------------------------------


SUMMER_NIGHT = utc(2026, 7, 31, 22, 30)  # Saturday 1 August 2026, 00:30 in Berlin (CEST)


def summer(*more):
    return case_rows(
        case(
            *emergency(
                need_at=SUMMER_NIGHT,
                reasons=["hospital_stay", "other"],
                persons=[{"kind": "child", "age": 2}, {"kind": "adult"}],
                window=window(utc(2026, 8, 1, 5, 0), utc(2026, 8, 1, 15, 0)),
            ),
            *more,
        )
    )


def test_a_fresh_emergency_is_demand_of_its_berlin_month_and_waits_in_the_unassigned_queue() -> None:
    rows = summer()
    assert payload(row(rows, "demand#2026-08", "case#c1")) == {
        "case_id": "c1",
        "need_at": "2026-07-31T22:30:00Z",
        "municipality": "laatzen",
        "weekday": 5,
        "hour": 0,
        "age_groups": ["adult", "infant"],
        "reasons": ["hospital_stay", "other"],
        "minutes_to_assignment": None,
        "filled": False,
        "unfilled": False,
        "unfilled_reason": None,
        "within_target": None,
        "refused": False,
    }
    assert row(rows, "demand#2026-07", "case#c1") is None
    queue = row(rows, "case#c1", "queue#unassigned")
    assert (queue["queue"], queue["queue_at"]) == ("unassigned", "2026-07-31T22:30:00.000000Z#c1")
    assert (queue["status"], queue["municipality"], queue["need_at"], queue["unfilled"]) == (
        "emergency",
        "laatzen",
        "2026-07-31T22:30:00Z",
        False,
    )


def test_demand_records_unfilled_then_late_assignment() -> None:
    flagged = (
        ce.NeedUnfilled(
            need_at=SUMMER_NIGHT,
            detected_at=SUMMER_NIGHT + timedelta(minutes=95),
            reason="none of 4 caregivers can take this need",
        ),
        SUMMER_NIGHT + timedelta(minutes=95),
    )
    rows = summer(flagged)
    demand = row(rows, "demand#2026-08", "case#c1")
    assert (demand["filled"], demand["unfilled"], demand["unfilled_reason"]) == (
        False,
        True,
        "none of 4 caregivers can take this need",
    )
    assert row(rows, "case#c1", "queue#unassigned")["unfilled"] is True

    late = summer(
        flagged,
        assigned(
            "a1",
            "helga",
            SUMMER_NIGHT + timedelta(minutes=130, seconds=59),
            utc(2026, 8, 1, 5, 0),
            utc(2026, 8, 1, 15, 0),
        ),
    )
    demand = row(late, "demand#2026-08", "case#c1")
    assert (demand["filled"], demand["unfilled"], demand["minutes_to_assignment"], demand["within_target"]) == (
        True,
        True,
        130,
        False,
    )
    assert row(late, "case#c1", "queue#unassigned") is None


def test_within_target_is_up_to_the_default_ninety_minutes() -> None:
    assert DEFAULT_TARGET_MINUTES == 90

    def demand_after(minutes: int, seconds: int = 0) -> dict:
        at = SUMMER_NIGHT + timedelta(minutes=minutes, seconds=seconds)
        rows = summer(assigned("a1", "helga", at, utc(2026, 8, 1, 5, 0), utc(2026, 8, 1, 15, 0)))
        return row(rows, "demand#2026-08", "case#c1")

    assert (demand_after(90, 59)["minutes_to_assignment"], demand_after(90, 59)["within_target"]) == (90, True)
    assert (demand_after(91)["minutes_to_assignment"], demand_after(91)["within_target"]) == (91, False)
    assert demand_after(0)["within_target"] is True


def test_the_unassigned_queue_row_comes_back_after_a_cancellation_and_leaves_when_closed() -> None:
    a1 = assigned("a1", "helga", SUMMER_NIGHT + timedelta(minutes=10), utc(2026, 8, 1, 5, 0), utc(2026, 8, 1, 15, 0))
    cancel = (
        ce.AssignmentCancelled(assignment_id="a1", by="caregiver", reason="ill", notice_minutes=300),
        SUMMER_NIGHT + timedelta(minutes=60),
    )
    assert row(summer(a1), "case#c1", "queue#unassigned") is None
    back = summer(a1, cancel)
    assert row(back, "case#c1", "queue#unassigned")["queue_at"] == "2026-07-31T22:30:00.000000Z#c1"
    demand = row(back, "demand#2026-08", "case#c1")
    assert (demand["filled"], demand["minutes_to_assignment"]) == (True, 10)  # the first assignment counts
    closed = summer(a1, cancel, ev.CaseClosed(reason="family found care", closed_at=SUMMER_NIGHT + timedelta(hours=2)))
    assert row(closed, "case#c1", "queue#unassigned") is None
    assert row(closed, "demand#2026-08", "case#c1") is not None  # demand stays


def test_no_demand_row_and_no_care_rows_without_a_care_need() -> None:
    rows = case_rows(
        case(
            *emergency()[:2],
            ev.OutcomeRecorded(outcome="advice"),
            ev.CaseClosed(reason="outcome: advice", closed_at=berlin(2026, 10, 30, 9, 30)),
        )
    )
    assert [(r["pk"], r["sk"]) for r in rows] == [("case#c1", "state")]


# --- transport -------------------------------------------------------------------------------


def test_transport_rows_count_in_the_berlin_month_of_the_trip_and_not_in_the_hours() -> None:
    rows = night(
        (
            ce.TransportBooked(
                transport_id="t1",
                from_place="Kita Sonnenschein",
                to_place="home",
                at=utc(2026, 10, 31, 23, 30),
                persons=2,
                driver_id="omar",
                price_cents=800,
            ),
            berlin(2026, 10, 31, 17, 0),
        ),
        ce.TransportDone(transport_id="t1", at=utc(2026, 10, 31, 23, 50), km=Decimal("8.4")),
        ce.TransportBooked(
            transport_id="t2",
            from_place="home",
            to_place="Klinikum",
            at=utc(2026, 10, 31, 15, 0),
            persons=1,
            price_cents=800,
        ),
        ce.TransportCancelled(transport_id="t2", reason="not needed"),
    )
    assert payload(row(rows, "transport#2026-11", "case#c1#t1")) == {
        "case_id": "c1",
        "family_id": "fam-test",
        "transport_id": "t1",
        "at": "2026-10-31T23:30:00Z",
        "status": "done",
        "price_cents": 800,
        "km": "8.4",
        "persons": 2,
        "driver_id": "omar",
    }
    t2 = payload(row(rows, "transport#2026-10", "case#c1#t2"))
    assert (t2["status"], t2["km"], t2["driver_id"]) == ("cancelled", None, None)
    assert rows[0]["hours"]["cared_minutes_by_month"] == {"2026-10": 180, "2026-11": 180}


# --- the size of a case's row set ------------------------------------------------------------


def test_a_heavy_case_stays_well_under_the_transaction_limit_and_is_plain_json() -> None:
    """Three months, three caregivers caring in each, twelve offers, four assignments, twenty
    trips: the case of the worst-case comment in case_rows.py."""
    start, end = berlin(2027, 1, 31, 20, 0), berlin(2027, 3, 2, 20, 0)  # 30 days over January, February, March
    steps = [*emergency(need_at=berlin(2027, 1, 31, 12, 0), window=window(start, end))]
    for n in range(12):
        steps += [
            ce.OfferMade(offer_id=f"o{n}", caregiver_id=f"cg{n}", expires_at=start),
            ce.OfferDeclined(offer_id=f"o{n}"),
        ]
    steps += [
        assigned("a0", "kai", berlin(2027, 1, 31, 13, 0), start, end),
        ce.AssignmentCancelled(assignment_id="a0", by="caregiver", reason="ill", notice_minutes=400),
    ]
    for i, cid in enumerate(["helga", "omar", "lena"], start=1):
        steps.append(assigned(f"a{i}", cid, berlin(2027, 1, 31, 13, i), start, end))
        for day in (berlin(2027, 1, 31, 20 + i, 0), berlin(2027, 2, 10 + i, 8, 0), berlin(2027, 3, 1, 8 + i, 0)):
            steps.append(recorded(f"s-{cid}-{day.month}", f"a{i}", cid, day, day + timedelta(minutes=50), km="2.5"))
    for n in range(20):
        steps.append(
            ce.TransportBooked(
                transport_id=f"t{n}",
                from_place="Kita",
                to_place="home",
                at=start + timedelta(days=n),
                persons=1,
                price_cents=800,
            )
        )
    rows = case_rows(case(*steps))
    # With the case's events by month (January to March) and its place row, as the projector
    # writes them in one transaction.
    _, _, written = rows_for_stream("case-c1", stamped("case-c1", steps))
    extra = [r for r in written if r["pk"].startswith(("cases#", "places"))]
    assert sorted(r["pk"] for r in extra) == ["cases#2027-01", "cases#2027-02", "cases#2027-03", "places"]
    assert len(written) == len(rows) + 4 < 100
    assert len(json.dumps(written)) < 400_000  # far under the 4 MB of one transaction
    kinds = {}
    for r in rows[1:]:
        kind = r["sk"].split("#")[0] if r["pk"].startswith(("case#", "caregiver#")) else r["pk"].split("#")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds == {
        "queue": 1,
        "month": 9 + 3,
        "family": 3,
        "offer": 10,
        "assignment": 4,
        "demand": 1,
        "transport": 20,
    }
    assert len(rows) == 52 < 100
    json.dumps(rows)  # no Decimal, no datetime: rows go to DynamoDB as JSON
