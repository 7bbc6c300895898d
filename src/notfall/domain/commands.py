"""Command inputs: what the phone system and hotline staff send. They are the API bodies too."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import phonenumbers
from pydantic import Field, ValidationInfo, field_validator

from notfall.domain.events import Need, Outcome, Value
from notfall.domain.inputs import Moment, Note, Text

PHONE_REGION = "DE"  # numbers dialled without a country code are German


def e164(number: str) -> str:
    """'0511 7602-3145' and '+49 511 76023145' are the same caller: +4951176023145."""
    try:
        parsed = phonenumbers.parse(number, PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class CallEventIn(Value):
    """One event of the phone system about a call to the hotline."""

    type: Literal["started", "answered", "ended", "voicemail"]
    call_id: Text = Field(min_length=1, max_length=80)
    line: Text = Field(min_length=1, max_length=40, description="hotline line the call came in on")
    caller_number: Text | None = Field(
        default=None, max_length=40, description="absent when the caller withholds the number; stored as E.164"
    )
    agent: Text | None = Field(
        default=None, min_length=1, max_length=80, description="hotline agent", validate_default=True
    )
    at: Moment
    recording_ref: Text | None = Field(
        default=None, max_length=300, description="voicemail recording", validate_default=True
    )

    @field_validator("caller_number")
    @classmethod
    def _normalise_number(cls, number: str | None) -> str | None:
        return e164(number) if number else None

    @field_validator("agent")
    @classmethod
    def _agent_answers(cls, agent: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("type") == "answered" and not agent:
            raise ValueError("an answered call names the agent")
        return agent

    @field_validator("recording_ref")
    @classmethod
    def _recording_of_voicemail(cls, ref: str | None, info: ValidationInfo) -> str | None:
        if ref and info.data.get("type") not in (None, "voicemail"):
            raise ValueError("recording_ref belongs to voicemail events only")
        return ref


class ConsultationIn(Value):
    agent: Text | None = Field(
        default=None, min_length=1, max_length=80, description="the signed-in person; filled if left out"
    )
    started_at: Moment
    ended_at: Moment
    notes: Note | None = Field(default=None, max_length=2000)

    @field_validator("ended_at")
    @classmethod
    def _end_after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("started_at")
        if start is not None and end <= start:
            raise ValueError("ended_at must be after started_at")
        return end


class NeedIn(Need):
    """The clarified need; same shape as the event's value."""


class OutcomeIn(Value):
    outcome: Outcome
    referral_to: Text | None = Field(default=None, min_length=1, max_length=200, validate_default=True)
    note: Note | None = Field(default=None, max_length=2000)

    @field_validator("referral_to")
    @classmethod
    def _referral_names_service(cls, referral_to: str | None, info: ValidationInfo) -> str | None:
        is_referral = info.data.get("outcome") == Outcome.REFERRAL
        if is_referral and not referral_to:
            raise ValueError("a referral names the service referred to")
        if referral_to and not is_referral and "outcome" in info.data:
            raise ValueError("only a referral names a service referred to")
        return referral_to


class CallbackIn(Value):
    agent: Text | None = Field(
        default=None, min_length=1, max_length=80, description="the signed-in person; filled if left out"
    )
    at: Moment
    reached: bool


class CloseIn(Value):
    reason: Text = Field(min_length=1, max_length=200)
    at: Moment
