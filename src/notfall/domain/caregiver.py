"""The caregiver register: profile, clearances, trainings, status, availability and calendar.

Each caregiver is a stream `caregiver-<id>`. Bookings (the caregiver's calendar) live in the
same stream, so an assignment appends to it with an expected version: two staff members
booking the same caregiver at the same moment cannot both win.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import singledispatch
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Envelope, Event, UtcDatetime
from notfall.domain.errors import DomainError, NotFound
from notfall.domain.events import Value
from notfall.domain.hours import BERLIN
from notfall.domain.inputs import Day, Moment, Note, Text

CAREGIVER_PREFIX = "caregiver-"


def caregiver_stream(caregiver_id: str) -> str:
    return CAREGIVER_PREFIX + caregiver_id


class Qualification(StrEnum):
    PEDAGOGICAL = "pedagogical"  # children
    NURSING = "nursing"  # adults in need of support
    BOTH = "both"


class AgeGroup(StrEnum):
    INFANT = "infant"  # under 3
    PRESCHOOL = "preschool"  # 3 to 5
    SCHOOL = "school"  # 6 to 13
    ADULT = "adult"


def age_group(kind: str, age: int | None) -> AgeGroup:
    if kind == "adult":
        return AgeGroup.ADULT
    assert age is not None, "a child has an age"
    return AgeGroup.INFANT if age < 3 else AgeGroup.PRESCHOOL if age < 6 else AgeGroup.SCHOOL


def covers(qualification: Qualification, group: AgeGroup) -> bool:
    """Children need pedagogical skills, adults nursing skills."""
    needed = Qualification.NURSING if group == AgeGroup.ADULT else Qualification.PEDAGOGICAL
    return qualification in (needed, Qualification.BOTH)


class Profile(Value):
    name: Text = Field(min_length=1, max_length=120)
    qualification: Qualification
    certificate_level: int = Field(ge=1, le=3, description="1 basic course, 2 advanced, 3 professional")
    age_groups: list[AgeGroup] = Field(min_length=1)
    languages: list[Text] = Field(default=["de"], min_length=1, description="ISO 639-1 codes")
    home_municipality: Text = Field(min_length=1, max_length=80)
    municipalities_served: list[Text] = Field(min_length=1)
    drives: bool = False
    offers_transport: bool = False
    police_clearance_on: Day = Field(description="date of the extended police clearance certificate")
    first_aid_on: Day = Field(description="date of the last first-aid course")
    setting: Note | None = Field(default=None, max_length=1000, description="how and where they care")

    @field_validator("age_groups")
    @classmethod
    def _groups_fit_qualification(cls, groups: list[AgeGroup], info: ValidationInfo) -> list[AgeGroup]:
        qualification = info.data.get("qualification")
        unfit = [g.value for g in groups if qualification and not covers(qualification, g)]
        if unfit:
            raise ValueError(f"a {qualification} qualification does not cover {', '.join(unfit)}")
        return groups

    @field_validator("languages")
    @classmethod
    def _iso_codes(cls, codes: list[str]) -> list[str]:
        if any(len(c) != 2 or not c.isalpha() or not c.islower() for c in codes):
            raise ValueError("languages are two-letter ISO 639-1 codes such as de, tr, ar")
        return codes

    @field_validator("offers_transport")
    @classmethod
    def _transport_needs_driver(cls, offers: bool, info: ValidationInfo) -> bool:
        if offers and not info.data.get("drives"):
            raise ValueError("only a caregiver who drives can offer transport")
        return offers


class WeeklyWindow(Value):
    """Recurring availability, in Berlin local time."""

    weekday: int = Field(ge=0, le=6, description="0 Monday ... 6 Sunday")
    start: time
    end: time = Field(description="after start; 00:00 means midnight at the end of the day")

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: time, info: ValidationInfo) -> time:
        start = info.data.get("start")
        if start is not None and end != time(0) and end <= start:
            raise ValueError("end must be after start (split a night into two windows)")
        return end


class OneOffWindow(Value):
    window_id: Text = Field(pattern=r"^[a-z0-9-]{1,40}$")
    start: Moment
    end: Moment

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("end must be after start")
        return end


# --- events -----------------------------------------------------------------------------


class CaregiverRegistered(Event):
    event_type = "CaregiverRegistered"
    caregiver_id: str
    profile: Profile


class ProfileChanged(Event):
    event_type = "CaregiverProfileChanged"
    profile: Profile


class TrainingAttended(Event):
    event_type = "TrainingAttended"
    title: str
    kind: Literal["initial", "further", "specialist_day"]
    on: date
    days: Decimal


class StatusChanged(Event):
    event_type = "CaregiverStatusChanged"
    status: Literal["active", "paused", "left"]
    reason: str | None = None


class WeeklyAvailabilitySet(Event):
    """Replaces the recurring availability as a whole."""

    event_type = "WeeklyAvailabilitySet"
    windows: list[WeeklyWindow]


class OneOffAvailabilityAdded(Event):
    event_type = "OneOffAvailabilityAdded"
    window: OneOffWindow


class OneOffAvailabilityWithdrawn(Event):
    event_type = "OneOffAvailabilityWithdrawn"
    window_id: str


class BookingMade(Event):
    """An assignment takes this time of the caregiver's calendar."""

    event_type = "BookingMade"
    assignment_id: str
    case_id: str
    family_id: str
    start: UtcDatetime
    end: UtcDatetime


class BookingReleased(Event):
    event_type = "BookingReleased"
    assignment_id: str
    reason: str


# --- state ------------------------------------------------------------------------------


class Booking(BaseModel):
    assignment_id: str
    case_id: str
    family_id: str
    start: UtcDatetime
    end: UtcDatetime
    released: bool = False


class Training(BaseModel):
    title: str
    kind: str
    on: date
    days: Decimal


class CaregiverState(BaseModel):
    caregiver_id: str
    version: int
    profile: Profile
    status: Literal["active", "paused", "left"] = "active"
    weekly: list[WeeklyWindow] = []
    one_offs: list[OneOffWindow] = []
    bookings: list[Booking] = []
    trainings: list[Training] = []

    @property
    def active_bookings(self) -> list[Booking]:
        return [b for b in self.bookings if not b.released]

    @property
    def families(self) -> set[str]:
        """Families this caregiver has been booked for: they know each other."""
        return {b.family_id for b in self.bookings}

    @property
    def training_days(self) -> Decimal:
        return sum((t.days for t in self.trainings), Decimal(0))


def fold_caregiver(envelopes: Iterable[Envelope]) -> CaregiverState | None:
    state: CaregiverState | None = None
    for env in sorted(envelopes, key=lambda e: e.version):
        state = _apply(env.data, state)
        state = state.model_copy(update={"version": env.version})
    return state


@singledispatch
def _apply(event: Event, state: CaregiverState | None) -> CaregiverState:
    raise TypeError(f"a caregiver stream cannot hold {type(event).__name__}")


@_apply.register
def _(event: CaregiverRegistered, state: None) -> CaregiverState:
    return CaregiverState(caregiver_id=event.caregiver_id, version=0, profile=event.profile)


@_apply.register
def _(event: ProfileChanged, state: CaregiverState) -> CaregiverState:
    return state.model_copy(update={"profile": event.profile})


@_apply.register
def _(event: TrainingAttended, state: CaregiverState) -> CaregiverState:
    training = Training(title=event.title, kind=event.kind, on=event.on, days=event.days)
    return state.model_copy(update={"trainings": [*state.trainings, training]})


@_apply.register
def _(event: StatusChanged, state: CaregiverState) -> CaregiverState:
    return state.model_copy(update={"status": event.status})


@_apply.register
def _(event: WeeklyAvailabilitySet, state: CaregiverState) -> CaregiverState:
    return state.model_copy(update={"weekly": list(event.windows)})


@_apply.register
def _(event: OneOffAvailabilityAdded, state: CaregiverState) -> CaregiverState:
    return state.model_copy(update={"one_offs": [*state.one_offs, event.window]})


@_apply.register
def _(event: OneOffAvailabilityWithdrawn, state: CaregiverState) -> CaregiverState:
    return state.model_copy(update={"one_offs": [w for w in state.one_offs if w.window_id != event.window_id]})


@_apply.register
def _(event: BookingMade, state: CaregiverState) -> CaregiverState:
    booking = Booking(
        assignment_id=event.assignment_id,
        case_id=event.case_id,
        family_id=event.family_id,
        start=event.start,
        end=event.end,
    )
    return state.model_copy(update={"bookings": [*state.bookings, booking]})


@_apply.register
def _(event: BookingReleased, state: CaregiverState) -> CaregiverState:
    bookings = [
        b.model_copy(update={"released": True}) if b.assignment_id == event.assignment_id else b for b in state.bookings
    ]
    return state.model_copy(update={"bookings": bookings})


# --- rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClearanceRules:
    """How long certificates count. Defaults: the extended police clearance is renewed every
    five years, the first-aid course for childcare every two years."""

    police_clearance_years: int = 5
    first_aid_years: int = 2


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def clearance_problems(state: CaregiverState, on: date, rules: ClearanceRules) -> list[str]:
    """Why the caregiver may not care on `on`; empty when the certificates are valid."""
    problems = []
    police_until = _years_after(state.profile.police_clearance_on, rules.police_clearance_years)
    if on >= police_until:
        problems.append(f"police clearance expired on {police_until.isoformat()}")
    first_aid_until = _years_after(state.profile.first_aid_on, rules.first_aid_years)
    if on >= first_aid_until:
        problems.append(f"first-aid course expired on {first_aid_until.isoformat()}")
    return problems


def _weekly_intervals(windows: list[WeeklyWindow], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The recurring windows as real instants over the days of [start, end), Berlin time."""
    out = []
    day = start.astimezone(BERLIN).date() - timedelta(days=1)
    last = end.astimezone(BERLIN).date()
    while day <= last:
        for w in windows:
            if w.weekday == day.weekday():
                begin = datetime.combine(day, w.start, tzinfo=BERLIN)
                finish = (
                    datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN)
                    if w.end == time(0)
                    else datetime.combine(day, w.end, tzinfo=BERLIN)
                )
                out.append((begin, finish))
        day += timedelta(days=1)
    return out


def is_available(state: CaregiverState, start: datetime, end: datetime) -> bool:
    """Whether the availability windows, merged, cover all of [start, end)."""
    intervals = _weekly_intervals(state.weekly, start, end) + [(w.start, w.end) for w in state.one_offs]
    reached = start
    for begin, finish in sorted(intervals):
        if begin > reached:
            break
        reached = max(reached, finish)
        if reached >= end:
            return True
    return reached >= end


def overlapping(state: CaregiverState, start: datetime, end: datetime) -> list[Booking]:
    return [b for b in state.active_bookings if b.start < end and start < b.end]


# --- decisions --------------------------------------------------------------------------


def _existing(state: CaregiverState | None, caregiver_id: str) -> CaregiverState:
    if state is None:
        raise NotFound(f"unknown caregiver {caregiver_id}", field="caregiver_id")
    return state


def _one(state: CaregiverState, event: Event, now: datetime) -> Decision:
    append = Append(caregiver_stream(state.caregiver_id), state.version, (event,), now)
    return Decision((append,), {"caregiver_id": state.caregiver_id, "version": state.version + 1})


def decide_register(
    state: CaregiverState | None, caregiver_id: str, profile: Profile, weekly: list[WeeklyWindow], now: datetime
) -> Decision:
    if state is not None:
        raise DomainError(f"caregiver {caregiver_id} is already registered", field="caregiver_id")
    events: list[Event] = [CaregiverRegistered(caregiver_id=caregiver_id, profile=profile)]
    if weekly:
        events.append(WeeklyAvailabilitySet(windows=weekly))
    append = Append(caregiver_stream(caregiver_id), 0, tuple(events), now)
    return Decision((append,), {"caregiver_id": caregiver_id, "version": len(events)})


def decide_profile(state: CaregiverState | None, caregiver_id: str, profile: Profile, now: datetime) -> Decision:
    return _one(_existing(state, caregiver_id), ProfileChanged(profile=profile), now)


def decide_training(
    state: CaregiverState | None, caregiver_id: str, event: TrainingAttended, now: datetime
) -> Decision:
    return _one(_existing(state, caregiver_id), event, now)


def decide_status(state: CaregiverState | None, caregiver_id: str, event: StatusChanged, now: datetime) -> Decision:
    state = _existing(state, caregiver_id)
    if state.status == "left":
        raise DomainError("a caregiver who left cannot change status; register under a new id", field="status")
    if event.status == state.status:
        raise DomainError(f"the caregiver is already {event.status}", field="status")
    return _one(state, event, now)


def decide_weekly(
    state: CaregiverState | None, caregiver_id: str, windows: list[WeeklyWindow], now: datetime
) -> Decision:
    return _one(_existing(state, caregiver_id), WeeklyAvailabilitySet(windows=windows), now)


def decide_one_off(state: CaregiverState | None, caregiver_id: str, window: OneOffWindow, now: datetime) -> Decision:
    state = _existing(state, caregiver_id)
    if any(w.window_id == window.window_id for w in state.one_offs):
        raise DomainError(f"window {window.window_id} exists already", field="window_id")
    return _one(state, OneOffAvailabilityAdded(window=window), now)


def decide_withdraw(state: CaregiverState | None, caregiver_id: str, window_id: str, now: datetime) -> Decision:
    state = _existing(state, caregiver_id)
    if not any(w.window_id == window_id for w in state.one_offs):
        raise NotFound(f"no availability window {window_id}", field="window_id")
    return _one(state, OneOffAvailabilityWithdrawn(window_id=window_id), now)
