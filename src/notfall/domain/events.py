"""The events of call intake and the case, and the value types they carry.

Streams: `case-<id>` holds a case's life; `caller-<key>` is the caller's routing ledger
(which case is open for a phone number, which call went to which case), so that a call
can attach to the caller's open case without a race.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from notfall.domain.envelope import Event, UtcDatetime, upcaster
from notfall.domain.inputs import Moment, Note, Text


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- value types -------------------------------------------------------------------------

MAX_CARE_WINDOW = timedelta(days=31)  # emergency care bridges a gap; it is no permanent care
CHILD_MAX_AGE = 13  # the service cares for children up to 13; older ones are not taken


class Person(Value):
    """Somebody to be cared for: a child with an age, or an adult relative needing support."""

    kind: Literal["child", "adult"]
    age: int | None = Field(default=None, ge=0, le=120, validate_default=True)

    @field_validator("age")
    @classmethod
    def _age_fits_kind(cls, age: int | None, info: ValidationInfo) -> int | None:
        kind = info.data.get("kind")
        if kind == "child":
            if age is None:
                raise ValueError("a child needs an age")
            if age > CHILD_MAX_AGE:
                raise ValueError(f"children are cared for up to age {CHILD_MAX_AGE}")
        elif kind == "adult" and age is not None and age < 18:
            raise ValueError("an adult is 18 or older")
        return age


class Location(Value):
    kind: Literal["home", "elsewhere"]
    address: Text | None = Field(default=None, max_length=300, validate_default=True)

    @field_validator("address")
    @classmethod
    def _elsewhere_has_address(cls, address: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("kind") == "elsewhere" and not address:
            raise ValueError("care elsewhere than at home needs an address")
        return address


class Window(Value):
    """When care is needed: start and expected end (evenings and weekends included)."""

    start: Moment
    expected_end: Moment

    @field_validator("expected_end")
    @classmethod
    def _end_after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is None:
            return end
        if end <= start:
            raise ValueError("expected_end must be after start")
        if end - start > MAX_CARE_WINDOW:
            raise ValueError(f"emergency care lasts at most {MAX_CARE_WINDOW.days} days; plan longer care elsewhere")
        return end


class Reason(StrEnum):
    CHILDCARE_CLOSED = "childcare_closed"  # Kita or childminder closed at short notice
    CHILDCARE_ILL = "childcare_ill"  # childminder or Kita staff ill
    ACCIDENT = "accident"
    HOSPITAL_STAY = "hospital_stay"
    WORK_PEAK = "work_peak"  # unforeseen work peak or staff shortage at the employer
    OTHER = "other"


class Outcome(StrEnum):
    ADVICE = "advice"
    REFERRAL = "referral"
    CARE_NEED = "care_need"  # makes the case an emergency


class Need(Value):
    persons: list[Person] = Field(min_length=1, max_length=10)
    location: Location
    window: Window
    reasons: list[Reason] = Field(min_length=1)
    reason_note: Note | None = Field(default=None, max_length=500)
    municipality: Text = Field(min_length=1, max_length=80, description="household municipality")
    employer: Text | None = Field(default=None, max_length=120)
    student: bool = False


# --- case stream ------------------------------------------------------------------------


class CallFacts(Value):
    call_id: str
    line: str
    caller_number: str | None
    agent: str | None = None
    at: UtcDatetime


class CaseOpened(Event):
    event_type = "CaseOpened"
    case_id: str
    family_id: str
    channel: Literal["call", "voicemail", "staff"]
    caller_number: str | None = None
    opened_at: UtcDatetime


class CallStarted(Event):
    event_type = "CallStarted"
    call: CallFacts


class CallAnswered(Event):
    event_type = "CallAnswered"
    call: CallFacts


class CallEnded(Event):
    event_type = "CallEnded"
    call: CallFacts


class VoicemailLeft(Event):
    """Left outside hotline hours: the case enters the callback queue."""

    event_type = "VoicemailLeft"
    call: CallFacts
    recording_ref: str | None = None


class CallbackMade(Event):
    event_type = "CallbackMade"
    agent: str
    at: UtcDatetime
    reached: bool


class ConsultationRecorded(Event):
    """The free crisis consultation."""

    event_type = "ConsultationRecorded"
    agent: str
    started_at: UtcDatetime
    ended_at: UtcDatetime
    notes: str | None = None


class NeedClarified(Event):
    """Who, where, when and why. A later clarification supersedes the earlier one.

    v1 knew children only, as a list of ages plus a flag for an adult relative; v2 lists
    persons. See `_need_v1_to_v2`.
    """

    event_type = "NeedClarified"
    schema_version = 2
    need: Need


@upcaster("NeedClarified", from_version=1)
def _need_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    need = dict(data["need"])
    persons = [{"kind": "child", "age": age} for age in need.pop("children_ages", [])]
    if need.pop("adult_relative", False):
        persons.append({"kind": "adult", "age": None})
    return {**data, "need": {**need, "persons": persons}}


class OutcomeRecorded(Event):
    event_type = "OutcomeRecorded"
    outcome: Outcome
    referral_to: str | None = None
    note: str | None = None


class EligibilityAssessed(Event):
    """Recorded with a concrete care need: entitled or not, the price tier, and why."""

    event_type = "EligibilityAssessed"
    entitled: bool
    tier: str
    basis: str
    day: date = Field(description="the Berlin day of the care the assessment is for")


class CareRefused(Event):
    """Care refused: the household is not entitled on the Berlin day of the care. Kept so the
    case shows the refusal and the demand report counts it as demand the service could not
    meet. `refused` says what was refused: the outcome `care_need`, or a new clarification
    of an emergency's `need` (the emergency keeps its earlier need). The basis is in words."""

    event_type = "CareRefused"
    refused: Literal["care_need", "need"]
    day: date = Field(description="the Berlin day of the care the assessment was for")
    basis: str
    refused_at: UtcDatetime


class CaseClosed(Event):
    event_type = "CaseClosed"
    reason: str
    closed_at: UtcDatetime


# --- caller stream ----------------------------------------------------------------------


class CallerCaseOpened(Event):
    event_type = "CallerCaseOpened"
    case_id: str


class CallRouted(Event):
    event_type = "CallRouted"
    call_id: str
    case_id: str
