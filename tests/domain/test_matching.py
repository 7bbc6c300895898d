# Proves matching: each hard rule alone rejects with its reason; points explained, order fixed, no-match says why.
from __future__ import annotations

from datetime import date, timedelta

import pytest
from care_builders import booking, caregiver, weekly
from domain_builders import berlin, need

from notfall.domain import caregiver as cg
from notfall.domain.matching import Candidate, Preference, Rejection, hard_rule_failures, rank

# The need of domain_builders: children of 3 and 6 (preschool, school) at home in Laatzen,
# Tuesday 2026-03-03 06:30-11:00 Berlin time, family "fam-test".
FAMILY = "fam-test"
START, END = berlin(2026, 3, 3, 6, 30), berlin(2026, 3, 3, 11)
RULES = cg.ClearanceRules()
ALL_RULES = ["active", "qualified", "available", "free", "clearance"]


def only_rejection(state: cg.CaregiverState, **need_changes) -> Rejection:
    ranking = rank(need(**need_changes), FAMILY, [state], RULES)
    assert ranking.candidates == []
    [rejection] = ranking.rejected
    return rejection


def candidate(state: cg.CaregiverState, family_id: str = FAMILY, **need_changes) -> Candidate:
    ranking = rank(need(**need_changes), family_id, [state], RULES)
    assert ranking.rejected == [], ranking.rejected
    [found] = ranking.candidates
    return found


def test_a_caregiver_who_meets_every_rule_is_a_candidate() -> None:
    found = candidate(caregiver("helga"))
    assert (found.caregiver_id, found.name, found.passed) == ("helga", "Helga Brandt", ALL_RULES)


# --- each hard rule on its own -----------------------------------------------------------------


@pytest.mark.parametrize("status", ["paused", "left"])
def test_a_caregiver_who_is_not_active_is_rejected(status: str) -> None:
    state = caregiver("helga", cg.StatusChanged(status=status))
    assert only_rejection(state) == Rejection("helga", "Helga Brandt", ["active"], [f"status is {status}"])


def test_a_caregiver_for_school_children_is_not_qualified_for_an_infant() -> None:
    state = caregiver("helga", age_groups=["school"])
    rejection = only_rejection(state, persons=[{"kind": "child", "age": 1}])
    assert rejection == Rejection("helga", "Helga Brandt", ["qualified"], ["does not care for infant"])


def test_a_caregiver_must_care_for_every_age_group_of_the_need() -> None:
    state = caregiver("helga", age_groups=["preschool"])  # the need has a 3- and a 6-year-old
    assert only_rejection(state).reasons == ["does not care for school"]


def test_a_nursing_only_caregiver_is_not_qualified_for_children() -> None:
    state = caregiver("helga", qualification="nursing", age_groups=["adult"])
    assert only_rejection(state) == Rejection(
        "helga", "Helga Brandt", ["qualified"], ["does not care for preschool, school"]
    )


def test_a_nursing_caregiver_takes_an_adult_and_a_pedagogical_one_does_not() -> None:
    adult = [{"kind": "adult", "age": 81}]
    assert candidate(caregiver("olga", qualification="nursing", age_groups=["adult"]), persons=adult)
    assert only_rejection(caregiver("helga"), persons=adult).reasons == ["does not care for adult"]


def test_a_caregiver_available_for_part_of_the_window_only_is_rejected() -> None:
    state = caregiver("helga", windows=[weekly(1, "08:00", "12:00")])  # Tuesday from 08:00, need from 06:30
    assert only_rejection(state) == Rejection(
        "helga", "Helga Brandt", ["available"], ["not available for the whole window"]
    )


def test_a_caregiver_booked_for_another_case_at_an_overlapping_time_is_rejected() -> None:
    state = caregiver("helga", booking("a-7", berlin(2026, 3, 3, 10), berlin(2026, 3, 3, 14), case_id="c-7"))
    assert only_rejection(state) == Rejection("helga", "Helga Brandt", ["free"], ["booked for case c-7"])


def test_the_booking_being_replaced_does_not_count_against_the_caregiver() -> None:
    state = caregiver("helga", booking("a-7", START, END, case_id="c-7"))
    ranking = rank(need(), FAMILY, [state], RULES, ignore_assignment="a-7")
    assert [c.caregiver_id for c in ranking.candidates] == ["helga"] and ranking.rejected == []
    assert hard_rule_failures(state, need(), RULES, ignore_assignment="a-7") == []
    assert hard_rule_failures(state, need(), RULES, ignore_assignment="a-other") == ["booked for case c-7"]


def test_a_released_or_adjacent_booking_leaves_the_caregiver_free() -> None:
    state = caregiver(
        "helga",
        booking("a-1", berlin(2026, 3, 3, 11), berlin(2026, 3, 3, 15), case_id="c-1"),
        booking("a-2", START, END, case_id="c-2"),
        cg.BookingReleased(assignment_id="a-2", reason="cancelled by family: Oma kommt"),
    )
    assert candidate(state).passed == ALL_RULES


def test_an_expired_police_clearance_is_rejected() -> None:
    state = caregiver("helga", police_clearance_on=date(2021, 3, 3))  # five years end on the need's day
    assert only_rejection(state) == Rejection(
        "helga", "Helga Brandt", ["clearance"], ["police clearance expired on 2026-03-03"]
    )
    assert candidate(caregiver("helga", police_clearance_on=date(2021, 3, 4))).passed == ALL_RULES


def test_an_expired_first_aid_course_is_rejected() -> None:
    state = caregiver("helga", first_aid_on=date(2024, 3, 3))
    assert only_rejection(state) == Rejection(
        "helga", "Helga Brandt", ["clearance"], ["first-aid course expired on 2026-03-03"]
    )


def test_a_clearance_expiring_during_a_multi_day_window_is_rejected() -> None:
    window = {"start": "2026-03-01T08:00:00+01:00", "expected_end": "2026-03-05T18:00:00+01:00"}
    state = caregiver("helga", police_clearance_on=date(2021, 3, 4))  # valid on 1 March, expired on 4 March
    assert only_rejection(state, window=window).reasons == ["police clearance expired on 2026-03-04"]


def test_the_clearance_counts_on_the_berlin_day_of_the_care() -> None:
    # 00:15-00:45 on 3 March in Berlin is still 2 March in UTC; the police clearance
    # expires on 3 March, the day the care takes place.
    window = {"start": "2026-03-03T00:15:00+01:00", "expected_end": "2026-03-03T00:45:00+01:00"}
    state = caregiver("helga", police_clearance_on=date(2021, 3, 3))
    assert only_rejection(state, window=window).reasons == ["police clearance expired on 2026-03-03"]


def test_a_caregiver_failing_several_rules_gets_all_of_them_in_rule_order() -> None:
    state = caregiver(
        "helga",
        cg.StatusChanged(status="paused"),
        booking("a-7", START, END, case_id="c-7"),
        windows=[],
        age_groups=["school"],
        first_aid_on=date(2023, 1, 1),
    )
    rejection = only_rejection(state, persons=[{"kind": "child", "age": 2}])
    assert rejection.failed == ALL_RULES
    assert rejection.reasons == [
        "status is paused",
        "does not care for infant",
        "not available for the whole window",
        "booked for case c-7",
        "first-aid course expired on 2025-01-01",
    ]


# --- preferences: the explanation of the ranking ------------------------------------------------


def test_a_candidate_lists_its_passed_rules_and_its_points_with_reasons() -> None:
    found = candidate(caregiver("helga"))
    assert found.passed == ALL_RULES
    assert found.preferences == [
        Preference("serves_municipality", 3, "serves laatzen"),
        Preference("known_to_family", 0, "new to this family"),
        Preference("fair_spread", 2, "0.0 hours booked in the 30 days before"),
    ]
    assert (found.score, found.recent_minutes) == (5, 0)


def test_a_caregiver_from_elsewhere_gets_no_municipality_points() -> None:
    found = candidate(caregiver("helga", home_municipality="hannover", municipalities_served=["hannover", "hemmingen"]))
    assert found.preferences[0] == Preference("serves_municipality", 0, "does not usually serve laatzen")
    assert found.score == 2


def test_the_home_municipality_counts_as_served() -> None:
    found = candidate(caregiver("helga", home_municipality="laatzen", municipalities_served=["hannover"]))
    assert found.preferences[0] == Preference("serves_municipality", 3, "serves laatzen")


def test_a_caregiver_who_was_booked_for_the_family_before_is_known_to_it() -> None:
    # January: outside the 30 days of fair spread, so only the acquaintance counts
    earlier = booking("a-1", berlin(2026, 1, 12, 8), berlin(2026, 1, 12, 12), case_id="c-1", family_id=FAMILY)
    found = candidate(caregiver("helga", earlier))
    assert found.preferences[1] == Preference("known_to_family", 2, "has cared for this family before")
    assert (found.score, found.recent_minutes) == (7, 0)
    assert candidate(caregiver("helga", earlier), family_id="fam-someone-else").preferences[1].points == 0


@pytest.mark.parametrize(("hours", "points"), [(0, 2), (7.5, 2), (8, 1), (15.5, 1), (16, 0), (30, 0)])
def test_fair_spread_costs_a_point_for_every_8_hours_booked_in_the_30_days_before(hours: float, points: int) -> None:
    # bookings for other families in February, within the 30 days before 3 March 06:30
    bookings = []
    left, day = hours, 2
    while left > 0:
        length = min(left, 10)
        start = berlin(2026, 2, day, 8)
        bookings.append(booking(f"a-{day}", start, start + timedelta(hours=length), case_id=f"c-{day}"))
        left -= length
        day += 1
    found = candidate(caregiver("helga", *bookings))
    assert found.recent_minutes == hours * 60
    assert found.preferences[2] == Preference("fair_spread", points, f"{hours:.1f} hours booked in the 30 days before")
    assert found.score == 3 + points


def test_fair_spread_counts_only_active_bookings_inside_the_30_days() -> None:
    since = START - timedelta(days=30)  # 2026-02-01 06:30 Berlin
    state = caregiver(
        "helga",
        booking("a-old", since - timedelta(hours=10), since - timedelta(hours=2)),  # entirely before
        booking("a-edge", since - timedelta(hours=2), since + timedelta(hours=3)),  # 3 hours inside
        booking("a-gone", berlin(2026, 2, 20, 8), berlin(2026, 2, 20, 18)),  # released below
        booking("a-next", berlin(2026, 3, 4, 8), berlin(2026, 3, 4, 18)),  # after the need
        cg.BookingReleased(assignment_id="a-gone", reason="cancelled by family: Kita offen"),
    )
    assert candidate(state).recent_minutes == 180


# --- order --------------------------------------------------------------------------------------


def _pool() -> list[cg.CaregiverState]:
    elsewhere = {"home_municipality": "hannover", "municipalities_served": ["hannover"]}
    feb = lambda day, hours, family="fam-other": booking(  # noqa: E731
        f"a-{day}",
        berlin(2026, 2, day, 8),
        berlin(2026, 2, day, 8) + timedelta(hours=hours),
        case_id=f"c-{day}",
        family_id=family,
    )
    return [
        caregiver("bert", feb(10, 8)),  # 3 + 0 + 1 = 4, 480 minutes
        caregiver("emil", feb(11, 2)),  # 3 + 0 + 2 = 5, 120 minutes
        caregiver(
            "carla", booking("a-jan", berlin(2026, 1, 5, 8), berlin(2026, 1, 5, 12), family_id=FAMILY), **elsewhere
        ),  # 0 + 2 + 2 = 4, 0 minutes
        caregiver("anna"),  # 3 + 0 + 2 = 5, 0 minutes
        caregiver("ella", feb(12, 2)),  # 3 + 0 + 2 = 5, 120 minutes (ties with emil)
        caregiver("fritz", cg.StatusChanged(status="paused")),  # rejected
    ]


def test_candidates_are_ordered_by_score_then_less_recent_work_then_id() -> None:
    ranking = rank(need(), FAMILY, _pool(), RULES)
    assert [(c.caregiver_id, c.score, c.recent_minutes) for c in ranking.candidates] == [
        ("anna", 5, 0),
        ("ella", 5, 120),  # ties with emil on score and minutes: the id decides
        ("emil", 5, 120),
        ("carla", 4, 0),  # known to the family, but from elsewhere
        ("bert", 4, 480),
    ]
    assert [r.caregiver_id for r in ranking.rejected] == ["fritz"]
    assert ranking.why_none is None


def test_the_order_does_not_depend_on_the_order_of_the_input() -> None:
    pool = _pool()
    forwards = rank(need(), FAMILY, pool, RULES)
    backwards = rank(need(), FAMILY, list(reversed(pool)), RULES)
    assert forwards.candidates == backwards.candidates and forwards.rejected == backwards.rejected


# --- nobody fits --------------------------------------------------------------------------------


def test_why_none_counts_the_caregivers_per_failed_rule() -> None:
    pool = [
        caregiver("anna", cg.StatusChanged(status="paused")),
        caregiver("bert", cg.StatusChanged(status="left"), windows=[]),
        caregiver("carla", booking("a-7", START, END, case_id="c-7")),
    ]
    ranking = rank(need(), FAMILY, pool, RULES)
    assert ranking.candidates == []
    assert [(r.caregiver_id, r.failed) for r in ranking.rejected] == [
        ("anna", ["active"]),
        ("bert", ["active", "available"]),
        ("carla", ["free"]),
    ]
    # most frequent first, ties by rule name
    assert ranking.why_none == (
        "none of 3 caregivers can take this need: 2 not active; "
        "1 not available for the whole window; 1 already booked at that time"
    )


def test_why_none_when_nobody_is_registered() -> None:
    assert rank(need(), FAMILY, [], RULES).why_none == "no caregivers are registered"
