# Proves the caregiver register: fold, profile and window rules, availability (also over DST), clearances, decisions.
from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from care_builders import ALL_WEEK, booking, caregiver, one_off, profile, weekly
from domain_builders import T0, berlin, envelopes, opened, utc
from pydantic import ValidationError

from notfall.app.caregivers import Caregivers, RegisterIn
from notfall.domain import caregiver as cg
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError, NotFound
from notfall.store.memory import MemoryEventStore

MON, TUE, SAT, SUN = 0, 1, 5, 6


def fold(*events) -> cg.CaregiverState | None:
    return cg.fold_caregiver(envelopes("caregiver-helga", events))


def registered(**changes) -> cg.CaregiverRegistered:
    return cg.CaregiverRegistered(caregiver_id="helga", profile=profile(**changes))


# --- the fold ---------------------------------------------------------------------------------


def test_no_events_no_caregiver() -> None:
    assert cg.fold_caregiver([]) is None


def test_registered_starts_an_active_caregiver_without_availability() -> None:
    state = fold(registered())
    assert (state.caregiver_id, state.version, state.status) == ("helga", 1, "active")
    assert state.profile == profile()
    assert state.weekly == [] and state.one_offs == [] and state.bookings == [] and state.trainings == []
    assert state.training_days == Decimal(0)


def test_profile_changed_replaces_the_whole_profile() -> None:
    state = fold(registered(), cg.ProfileChanged(profile=profile(name="Helga Brandt-Yilmaz", languages=["de", "tr"])))
    assert state.profile.name == "Helga Brandt-Yilmaz" and state.profile.languages == ["de", "tr"]
    assert state.version == 2


def test_trainings_are_kept_and_their_days_add_up() -> None:
    state = fold(
        registered(),
        cg.TrainingAttended(title="Grundkurs Notfallbetreuung", kind="initial", on=date(2024, 4, 6), days=Decimal("3")),
        cg.TrainingAttended(title="Fachtag Trauma", kind="specialist_day", on=date(2025, 11, 8), days=Decimal("0.5")),
    )
    assert [(t.title, t.kind) for t in state.trainings] == [
        ("Grundkurs Notfallbetreuung", "initial"),
        ("Fachtag Trauma", "specialist_day"),
    ]
    assert state.training_days == Decimal("3.5")


def test_status_changes_follow_each_other() -> None:
    assert fold(registered(), cg.StatusChanged(status="paused", reason="Urlaub")).status == "paused"
    state = fold(
        registered(),
        cg.StatusChanged(status="paused"),
        cg.StatusChanged(status="active"),
        cg.StatusChanged(status="left", reason="moved away"),
    )
    assert (state.status, state.version) == ("left", 4)


def test_weekly_availability_is_replaced_as_a_whole() -> None:
    first = [weekly(MON, "08:00", "12:00"), weekly(TUE, "08:00", "12:00")]
    second = [weekly(SAT, "10:00", "16:00")]
    state = fold(registered(), cg.WeeklyAvailabilitySet(windows=first), cg.WeeklyAvailabilitySet(windows=second))
    assert state.weekly == second


def test_one_off_windows_are_added_and_withdrawn_by_id() -> None:
    a = one_off("ostern", berlin(2026, 4, 3, 8), berlin(2026, 4, 3, 18))
    b = one_off("pfingsten", berlin(2026, 5, 25, 8), berlin(2026, 5, 25, 18))
    state = fold(
        registered(),
        cg.OneOffAvailabilityAdded(window=a),
        cg.OneOffAvailabilityAdded(window=b),
        cg.OneOffAvailabilityWithdrawn(window_id="ostern"),
    )
    assert state.one_offs == [b]


def test_bookings_are_made_and_released_and_families_remember_both() -> None:
    state = fold(
        registered(),
        booking("a1", berlin(2026, 3, 9, 8), berlin(2026, 3, 9, 12), case_id="c1", family_id="fam-1"),
        booking("a2", berlin(2026, 3, 10, 8), berlin(2026, 3, 10, 12), case_id="c2", family_id="fam-2"),
        cg.BookingReleased(assignment_id="a1", reason="cancelled by family: Oma kommt"),
    )
    assert [(b.assignment_id, b.released) for b in state.bookings] == [("a1", True), ("a2", False)]
    assert [b.assignment_id for b in state.active_bookings] == ["a2"]
    assert state.families == {"fam-1", "fam-2"}  # a released booking still made them known to each other
    assert state.bookings[1].start == utc(2026, 3, 10, 7)  # kept in UTC
    assert state.version == 4


def test_envelopes_in_any_order_fold_by_version() -> None:
    events = [
        registered(),
        cg.StatusChanged(status="paused"),
        cg.StatusChanged(status="active"),
        cg.WeeklyAvailabilitySet(windows=ALL_WEEK),
    ]
    shuffled = list(reversed(envelopes("caregiver-helga", events)))
    state = cg.fold_caregiver(shuffled)
    assert (state.status, state.version, state.weekly) == ("active", 4, ALL_WEEK)


def test_a_caregiver_stream_holds_no_case_events() -> None:
    with pytest.raises(TypeError, match="cannot hold CaseOpened"):
        fold(registered(), opened())


# --- profile validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qualification", "groups"),
    [
        ("pedagogical", ["infant", "preschool", "school"]),
        ("nursing", ["adult"]),
        ("both", ["infant", "preschool", "school", "adult"]),
    ],
)
def test_age_groups_that_fit_the_qualification(qualification: str, groups: list[str]) -> None:
    assert profile(qualification=qualification, age_groups=groups).age_groups == groups


@pytest.mark.parametrize(
    ("qualification", "groups", "unfit"),
    [
        ("pedagogical", ["school", "adult"], "adult"),
        ("nursing", ["adult", "infant"], "infant"),
        ("nursing", ["preschool", "school"], "preschool, school"),
    ],
)
def test_age_groups_beyond_the_qualification_are_refused(qualification: str, groups: list[str], unfit: str) -> None:
    with pytest.raises(ValidationError) as err:
        profile(qualification=qualification, age_groups=groups)
    [error] = err.value.errors()
    assert error["loc"] == ("age_groups",)
    assert f"a {qualification} qualification does not cover {unfit}" in error["msg"]


def test_a_profile_cares_for_at_least_one_age_group() -> None:
    with pytest.raises(ValidationError, match="age_groups"):
        profile(age_groups=[])


@pytest.mark.parametrize("codes", [["de", "tr", "ar"], ["uk"], ["en", "fr"]])
def test_languages_are_iso_639_1_codes(codes: list[str]) -> None:
    assert profile(languages=codes).languages == codes


@pytest.mark.parametrize("codes", [["DE"], ["deu"], ["d1"], ["de", "Deutsch"], ["de-AT"], []])
def test_other_language_notations_are_refused(codes: list[str]) -> None:
    with pytest.raises(ValidationError) as err:
        profile(languages=codes)
    assert err.value.errors()[0]["loc"] == ("languages",)


def test_transport_needs_a_caregiver_who_drives() -> None:
    assert profile(drives=True, offers_transport=True).offers_transport
    assert not profile(drives=True).offers_transport  # driving alone offers nothing
    with pytest.raises(ValidationError) as err:
        profile(drives=False, offers_transport=True)
    [error] = err.value.errors()
    assert error["loc"] == ("offers_transport",) and "only a caregiver who drives" in error["msg"]


@pytest.mark.parametrize("level", [0, 4])
def test_certificate_levels_run_from_1_to_3(level: int) -> None:
    with pytest.raises(ValidationError, match="certificate_level"):
        profile(certificate_level=level)


# --- windows ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"), [("08:00", "12:00"), ("18:00", "00:00"), ("00:00", "00:00"), ("23:59", "00:00")]
)
def test_a_weekly_window_ends_after_it_starts_or_at_midnight(start: str, end: str) -> None:
    window = weekly(MON, start, end)
    assert (window.start, window.end) == (time.fromisoformat(start), time.fromisoformat(end))


@pytest.mark.parametrize(("start", "end"), [("12:00", "08:00"), ("08:00", "08:00"), ("22:00", "06:00")])
def test_a_weekly_window_ending_before_it_starts_is_refused(start: str, end: str) -> None:
    # a night is two windows: Mon 22:00-00:00 and Tue 00:00-06:00
    with pytest.raises(ValidationError) as err:
        weekly(MON, start, end)
    [error] = err.value.errors()
    assert error["loc"] == ("end",) and "split a night into two windows" in error["msg"]


@pytest.mark.parametrize("weekday", [-1, 7])
def test_weekdays_run_from_monday_0_to_sunday_6(weekday: int) -> None:
    with pytest.raises(ValidationError, match="weekday"):
        weekly(weekday, "08:00", "12:00")


def test_a_one_off_window_ends_after_it_starts_and_carries_a_zone() -> None:
    with pytest.raises(ValidationError, match="end must be after start"):
        one_off("x", berlin(2026, 3, 9, 12), berlin(2026, 3, 9, 12))
    with pytest.raises(ValidationError, match="timezone"):
        cg.OneOffWindow(window_id="x", start="2026-03-09T08:00:00", end="2026-03-09T12:00:00")
    with pytest.raises(ValidationError, match="window_id"):
        one_off("Ostern 2026", berlin(2026, 4, 3, 8), berlin(2026, 4, 3, 18))


# --- availability -----------------------------------------------------------------------------
# 2026-03-09 is a Monday; Berlin is on CET (UTC+1) until 2026-03-29.


def available(windows: list[cg.WeeklyWindow], start, end, *one_offs: cg.OneOffWindow) -> bool:
    events = [cg.OneOffAvailabilityAdded(window=w) for w in one_offs]
    return cg.is_available(caregiver("helga", *events, windows=windows), start, end)


def test_a_need_inside_one_weekly_window_is_covered() -> None:
    windows = [weekly(MON, "08:00", "18:00")]
    assert available(windows, berlin(2026, 3, 9, 9), berlin(2026, 3, 9, 12))
    assert available(windows, berlin(2026, 3, 9, 8), berlin(2026, 3, 9, 18))  # exactly the window
    assert available(windows, berlin(2026, 3, 16, 9), berlin(2026, 3, 16, 12))  # and every Monday


def test_a_need_sticking_out_of_the_window_is_not_covered() -> None:
    windows = [weekly(MON, "08:00", "18:00")]
    assert not available(windows, berlin(2026, 3, 9, 7, 59), berlin(2026, 3, 9, 12))
    assert not available(windows, berlin(2026, 3, 9, 12), berlin(2026, 3, 9, 18, 1))
    assert not available(windows, berlin(2026, 3, 10, 9), berlin(2026, 3, 10, 12))  # a Tuesday


def test_a_need_spanning_two_adjacent_windows_is_covered() -> None:
    windows = [weekly(MON, "08:00", "12:00"), weekly(MON, "12:00", "18:00")]
    assert available(windows, berlin(2026, 3, 9, 10), berlin(2026, 3, 9, 14))


def test_the_order_of_the_windows_does_not_matter() -> None:
    windows = [weekly(MON, "12:00", "18:00"), weekly(MON, "08:00", "12:00")]
    assert available(windows, berlin(2026, 3, 9, 10), berlin(2026, 3, 9, 14))


def test_a_gap_of_one_minute_is_not_covered() -> None:
    windows = [weekly(MON, "08:00", "12:00"), weekly(MON, "12:01", "18:00")]
    assert not available(windows, berlin(2026, 3, 9, 10), berlin(2026, 3, 9, 14))
    assert available(windows, berlin(2026, 3, 9, 10), berlin(2026, 3, 9, 12))  # up to the gap is fine
    assert available(windows, berlin(2026, 3, 9, 12, 1), berlin(2026, 3, 9, 14))  # and after it


def test_an_overnight_need_is_covered_by_an_evening_and_the_next_morning() -> None:
    evening_and_morning = [weekly(MON, "18:00", "00:00"), weekly(TUE, "00:00", "08:00")]
    assert available(evening_and_morning, berlin(2026, 3, 9, 20), berlin(2026, 3, 10, 7))
    assert not available([weekly(MON, "18:00", "00:00")], berlin(2026, 3, 9, 20), berlin(2026, 3, 10, 7))
    assert not available([weekly(TUE, "00:00", "08:00")], berlin(2026, 3, 9, 20), berlin(2026, 3, 10, 7))


def test_a_need_ending_at_midnight_is_covered_by_a_window_to_midnight() -> None:
    assert available([weekly(MON, "18:00", "00:00")], berlin(2026, 3, 9, 18), berlin(2026, 3, 10, 0))


def test_a_one_off_window_alone_covers_its_own_time_only() -> None:
    saturday = one_off("sa-14", berlin(2026, 3, 14, 9), berlin(2026, 3, 14, 15))
    assert available([], berlin(2026, 3, 14, 10), berlin(2026, 3, 14, 14), saturday)
    assert not available([], berlin(2026, 3, 14, 8), berlin(2026, 3, 14, 10), saturday)
    assert not available([], berlin(2026, 3, 21, 10), berlin(2026, 3, 21, 14), saturday)  # not weekly


def test_a_one_off_window_extends_a_weekly_one_on_that_day_only() -> None:
    windows = [weekly(MON, "08:00", "12:00")]
    longer = one_off("mo-9-lang", berlin(2026, 3, 9, 12), berlin(2026, 3, 9, 14))
    assert available(windows, berlin(2026, 3, 9, 10), berlin(2026, 3, 9, 14), longer)
    assert not available(windows, berlin(2026, 3, 16, 10), berlin(2026, 3, 16, 14), longer)


def test_a_withdrawn_one_off_window_covers_nothing() -> None:
    window = one_off("sa-14", berlin(2026, 3, 14, 9), berlin(2026, 3, 14, 15))
    state = caregiver(
        "helga",
        cg.OneOffAvailabilityAdded(window=window),
        cg.OneOffAvailabilityWithdrawn(window_id="sa-14"),
        windows=[],
    )
    assert not cg.is_available(state, berlin(2026, 3, 14, 10), berlin(2026, 3, 14, 14))


def test_weekly_windows_are_berlin_local_time_across_the_spring_dst_change() -> None:
    # Sunday 2026-03-29: clocks jump from 02:00 CET to 03:00 CEST. 01:00-05:00 local is
    # 00:00-03:00 UTC, three real hours; on the Sunday before it is 00:00-04:00 UTC.
    windows = [weekly(SUN, "01:00", "05:00")]
    assert available(windows, utc(2026, 3, 29, 0), utc(2026, 3, 29, 3))
    assert not available(windows, utc(2026, 3, 29, 0), utc(2026, 3, 29, 3, 1))
    assert not available(windows, utc(2026, 3, 28, 23, 59), utc(2026, 3, 29, 3))
    assert available(windows, utc(2026, 3, 22, 0), utc(2026, 3, 22, 4))
    assert not available(windows, utc(2026, 3, 22, 0), utc(2026, 3, 22, 4, 1))


def test_weekly_windows_are_berlin_local_time_across_the_autumn_dst_change() -> None:
    # Sunday 2026-10-25: clocks go back from 03:00 CEST to 02:00 CET. 01:00-05:00 local is
    # 23:00 UTC (Saturday) to 04:00 UTC, five real hours.
    windows = [weekly(SUN, "01:00", "05:00")]
    assert available(windows, utc(2026, 10, 24, 23), utc(2026, 10, 25, 4))
    assert not available(windows, utc(2026, 10, 24, 23), utc(2026, 10, 25, 4, 1))


# --- clearances -------------------------------------------------------------------------------

RULES = cg.ClearanceRules()  # police clearance 5 years, first aid 2 years


def test_a_police_clearance_is_valid_the_day_before_its_fifth_anniversary_and_expired_on_it() -> None:
    state = caregiver(police_clearance_on=date(2021, 6, 15))
    assert cg.clearance_problems(state, date(2026, 6, 14), RULES) == []
    assert cg.clearance_problems(state, date(2026, 6, 15), RULES) == ["police clearance expired on 2026-06-15"]
    assert cg.clearance_problems(state, date(2027, 1, 1), RULES) == ["police clearance expired on 2026-06-15"]


def test_a_first_aid_course_is_valid_the_day_before_its_second_anniversary_and_expired_on_it() -> None:
    state = caregiver(first_aid_on=date(2024, 9, 10))
    assert cg.clearance_problems(state, date(2026, 9, 9), RULES) == []
    assert cg.clearance_problems(state, date(2026, 9, 10), RULES) == ["first-aid course expired on 2026-09-10"]


def test_both_expired_certificates_are_named_police_first() -> None:
    state = caregiver(police_clearance_on=date(2020, 1, 1), first_aid_on=date(2023, 1, 1))
    assert cg.clearance_problems(state, date(2026, 3, 9), RULES) == [
        "police clearance expired on 2025-01-01",
        "first-aid course expired on 2025-01-01",
    ]


def test_a_certificate_of_29_february_expires_on_28_february_of_a_common_year() -> None:
    state = caregiver(police_clearance_on=date(2024, 2, 29), first_aid_on=date(2024, 2, 29))
    # first aid: 2 years on is 2026, a common year; the anniversary falls back to 28 February
    assert cg.clearance_problems(state, date(2026, 2, 27), RULES) == []
    assert cg.clearance_problems(state, date(2026, 2, 28), RULES) == ["first-aid course expired on 2026-02-28"]
    # police clearance: 5 years on is 2029, also common
    fresh_first_aid = caregiver(police_clearance_on=date(2024, 2, 29), first_aid_on=date(2028, 1, 1))
    assert cg.clearance_problems(fresh_first_aid, date(2029, 2, 27), RULES) == []
    assert cg.clearance_problems(fresh_first_aid, date(2029, 2, 28), RULES) == [
        "police clearance expired on 2029-02-28"
    ]


def test_a_certificate_of_29_february_keeps_its_day_in_a_leap_year() -> None:
    state = caregiver(police_clearance_on=date(2020, 2, 29), first_aid_on=date(2023, 6, 1))
    four_years = cg.ClearanceRules(police_clearance_years=4)
    assert cg.clearance_problems(state, date(2024, 2, 28), four_years) == []
    assert cg.clearance_problems(state, date(2024, 2, 29), four_years) == ["police clearance expired on 2024-02-29"]


# --- bookings ---------------------------------------------------------------------------------


def test_overlapping_finds_active_bookings_that_share_time_and_ignores_released_ones() -> None:
    state = caregiver(
        "helga",
        booking("a1", berlin(2026, 3, 9, 8), berlin(2026, 3, 9, 12), case_id="c1"),
        booking("a2", berlin(2026, 3, 9, 13), berlin(2026, 3, 9, 15), case_id="c2"),
        cg.BookingReleased(assignment_id="a2", reason="cancelled by family: Kita wieder offen"),
    )
    assert [b.assignment_id for b in cg.overlapping(state, berlin(2026, 3, 9, 11), berlin(2026, 3, 9, 14))] == ["a1"]
    assert cg.overlapping(state, berlin(2026, 3, 9, 13), berlin(2026, 3, 9, 15)) == []  # released
    # a booking's end is exclusive: back-to-back care does not overlap
    assert cg.overlapping(state, berlin(2026, 3, 9, 12), berlin(2026, 3, 9, 13)) == []
    assert cg.overlapping(state, berlin(2026, 3, 9, 6), berlin(2026, 3, 9, 8)) == []


# --- decisions --------------------------------------------------------------------------------


def test_register_writes_the_profile_and_the_weekly_windows() -> None:
    decision = cg.decide_register(None, "helga", profile(), [weekly(MON, "08:00", "12:00")], T0)
    [append] = decision.appends
    assert (append.stream_id, append.expected_version) == ("caregiver-helga", 0)
    assert [e.event_type for e in append.events] == ["CaregiverRegistered", "WeeklyAvailabilitySet"]
    assert decision.result == {"caregiver_id": "helga", "version": 2}
    without_windows = cg.decide_register(None, "helga", profile(), [], T0)
    assert [e.event_type for e in without_windows.appends[0].events] == ["CaregiverRegistered"]
    assert without_windows.result == {"caregiver_id": "helga", "version": 1}


def test_registering_the_same_caregiver_twice_is_refused() -> None:
    store = MemoryEventStore()
    caregivers = Caregivers(store)
    cmd = RegisterIn(caregiver_id="helga", profile=profile(), weekly=ALL_WEEK)
    assert caregivers.register(cmd, Metadata(command_id="reg-1", actor="staff", correlation_id="c1")) == {
        "caregiver_id": "helga",
        "version": 2,
    }
    with pytest.raises(DomainError) as err:
        caregivers.register(cmd, Metadata(command_id="reg-2", actor="staff", correlation_id="c2"))
    assert (err.value.status, err.value.field) == (409, "caregiver_id")
    assert "already registered" in err.value.problem
    assert len(store.load("caregiver-helga")) == 2
    # the first command retried gets its first answer
    assert caregivers.register(cmd, Metadata(command_id="reg-1", actor="staff", correlation_id="c1")) == {
        "caregiver_id": "helga",
        "version": 2,
    }


def test_commands_on_an_unknown_caregiver_are_not_found() -> None:
    with pytest.raises(NotFound) as err:
        cg.decide_profile(None, "nobody", profile(), T0)
    assert (err.value.status, err.value.field) == (404, "caregiver_id")


def test_a_status_change_appends_one_event_at_the_next_version() -> None:
    state = caregiver()
    decision = cg.decide_status(state, "helga", cg.StatusChanged(status="paused", reason="Kur"), T0)
    [append] = decision.appends
    assert (append.expected_version, append.events) == (2, (cg.StatusChanged(status="paused", reason="Kur"),))
    assert decision.result == {"caregiver_id": "helga", "version": 3}


@pytest.mark.parametrize("status", ["active", "paused"])
def test_the_same_status_again_is_refused(status: str) -> None:
    state = caregiver() if status == "active" else caregiver("helga", cg.StatusChanged(status="paused"))
    with pytest.raises(DomainError) as err:
        cg.decide_status(state, "helga", cg.StatusChanged(status=status), T0)
    assert (err.value.status, err.value.field) == (409, "status")
    assert err.value.problem == f"the caregiver is already {status}"


@pytest.mark.parametrize("status", ["active", "paused", "left"])
def test_left_is_final(status: str) -> None:
    state = caregiver("helga", cg.StatusChanged(status="left", reason="moved to Hamburg"))
    with pytest.raises(DomainError, match="a caregiver who left cannot change status") as err:
        cg.decide_status(state, "helga", cg.StatusChanged(status=status), T0)
    assert err.value.status == 409


def test_one_off_windows_are_added_once_and_withdrawn_if_they_exist() -> None:
    window = one_off("sa-14", berlin(2026, 3, 14, 9), berlin(2026, 3, 14, 15))
    state = caregiver()
    added = cg.decide_one_off(state, "helga", window, T0)
    assert added.appends[0].events == (cg.OneOffAvailabilityAdded(window=window),)
    state = caregiver("helga", cg.OneOffAvailabilityAdded(window=window))
    with pytest.raises(DomainError) as err:
        cg.decide_one_off(state, "helga", window, T0)
    assert (err.value.status, err.value.field) == (409, "window_id")
    withdrawn = cg.decide_withdraw(state, "helga", "sa-14", T0)
    assert withdrawn.appends[0].events == (cg.OneOffAvailabilityWithdrawn(window_id="sa-14"),)
    with pytest.raises(NotFound) as missing:
        cg.decide_withdraw(state, "helga", "so-15", T0)
    assert (missing.value.status, missing.value.field) == (404, "window_id")


def test_weekly_availability_is_set_through_a_decision() -> None:
    state = caregiver()
    decision = cg.decide_weekly(state, "helga", [weekly(SAT, "10:00", "16:00")], T0 + timedelta(days=1))
    assert decision.appends[0].events == (cg.WeeklyAvailabilitySet(windows=[weekly(SAT, "10:00", "16:00")]),)
    assert decision.appends[0].expected_version == state.version
