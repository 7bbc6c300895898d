"""Command inputs: what the phone system and hotline staff send. They are the API bodies too."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from notfall.domain.envelope import UtcDatetime
from notfall.domain.events import Need, Outcome, Value

PHONE_NUMBER = r"^\+?[0-9][0-9 ()/-]{2,30}$"


class CallEventIn(Value):
    """One event of the phone system about a call to the hotline."""

    type: Literal["started", "answered", "ended", "voicemail"]
    call_id: str = Field(min_length=1, max_length=80)
    line: str = Field(min_length=1, max_length=40, description="hotline line the call came in on")
    caller_number: str | None = Field(
        default=None, pattern=PHONE_NUMBER, description="absent when the caller withholds the number"
    )
    agent: str | None = Field(default=None, min_length=1, max_length=80, description="hotline agent")
    at: UtcDatetime
    recording_ref: str | None = Field(default=None, max_length=300, description="voicemail recording")

    @model_validator(mode="after")
    def _agent_answers(self) -> CallEventIn:
        if self.type == "answered" and not self.agent:
            raise ValueError("an answered call names the agent")
        if self.type != "voicemail" and self.recording_ref:
            raise ValueError("recording_ref belongs to voicemail events only")
        return self


class ConsultationIn(Value):
    agent: str = Field(min_length=1, max_length=80)
    started_at: UtcDatetime
    ended_at: UtcDatetime
    notes: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _end_after_start(self) -> ConsultationIn:
        if self.ended_at <= self.started_at:
            raise ValueError("ended_at must be after started_at")
        return self


class NeedIn(Need):
    """The clarified need; same shape as the event's value."""


class OutcomeIn(Value):
    outcome: Outcome
    referral_to: str | None = Field(default=None, min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _referral_names_service(self) -> OutcomeIn:
        if self.outcome == Outcome.REFERRAL and not self.referral_to:
            raise ValueError("a referral names the service referred to (referral_to)")
        return self


class CallbackIn(Value):
    agent: str = Field(min_length=1, max_length=80)
    at: UtcDatetime
    reached: bool


class CloseIn(Value):
    reason: str = Field(min_length=1, max_length=200)
    at: UtcDatetime
