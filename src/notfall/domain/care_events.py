"""Events of the care itself, on the case stream: offers, assignments, sessions, transport,
and needs left unfilled. Corrections are new events that supersede, never edits."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from notfall.domain.envelope import Event, UtcDatetime
from notfall.domain.inputs import Text

CancelledBy = Literal["family", "caregiver", "staff"]


class OfferMade(Event):
    """Staff ask a caregiver to take the care; the caregiver accepts or declines."""

    event_type = "OfferMade"
    offer_id: str
    caregiver_id: str
    expires_at: UtcDatetime


class OfferAccepted(Event):
    event_type = "OfferAccepted"
    offer_id: str


class OfferDeclined(Event):
    event_type = "OfferDeclined"
    offer_id: str
    reason: str | None = None


class OfferTimedOut(Event):
    event_type = "OfferTimedOut"
    offer_id: str


class OfferWithdrawn(Event):
    """Another caregiver took the care, or staff took the offer back."""

    event_type = "OfferWithdrawn"
    offer_id: str
    reason: str


class CaregiverAssigned(Event):
    """The caregiver takes the care; the rates valid now are kept for the expense statement."""

    event_type = "CaregiverAssigned"
    assignment_id: str
    caregiver_id: str
    start: UtcDatetime
    end: UtcDatetime
    offer_id: str | None = None
    replaces: Text | None = Field(default=None, description="the assignment this one replaces (reassignment)")
    allowance_cents: int = Field(ge=0)
    travel_cents_per_km: int = Field(ge=0)


class AssignmentCancelled(Event):
    event_type = "AssignmentCancelled"
    assignment_id: str
    by: CancelledBy
    reason: str
    notice_minutes: int = Field(description="minutes between the cancellation and the start of care")


class SessionStarted(Event):
    """The caregiver checks in."""

    event_type = "SessionStarted"
    session_id: str
    assignment_id: str
    caregiver_id: str
    at: UtcDatetime
    # Earlier versions stamped the case's one assessment here; kept so their events still
    # load. Never used for pricing: the invoice decides the tier of the session's day.
    tier: Text | None = Field(default=None, description="historical: not used; the invoice decides the tier")
    tier_basis: str | None = None


class SessionEnded(Event):
    """The caregiver checks out."""

    event_type = "SessionEnded"
    session_id: str
    at: UtcDatetime
    travel_km: Decimal = Field(ge=0)


class SessionRecorded(Event):
    """Staff record a whole session after the fact."""

    event_type = "SessionRecorded"
    session_id: str
    assignment_id: str
    caregiver_id: str
    start: UtcDatetime
    end: UtcDatetime
    # Earlier versions stamped the case's one assessment here; kept so their events still
    # load. Never used for pricing: the invoice decides the tier of the session's day.
    tier: Text | None = Field(default=None, description="historical: not used; the invoice decides the tier")
    tier_basis: str | None = None
    travel_km: Decimal = Field(ge=0)


class SessionCorrected(Event):
    """Supersedes the times (and travel) of a session; the earlier facts stay in the log."""

    event_type = "SessionCorrected"
    session_id: str
    start: UtcDatetime
    end: UtcDatetime
    travel_km: Decimal = Field(ge=0)
    reason: str


class SessionVoided(Event):
    event_type = "SessionVoided"
    session_id: str
    reason: str


class TransportBooked(Event):
    """A transport service (e.g. a child from the Kita home), a service of its own."""

    event_type = "TransportBooked"
    transport_id: str
    from_place: str
    to_place: str
    at: UtcDatetime
    persons: int
    driver_id: str | None = None
    price_cents: int = Field(ge=0, description="price per trip valid when booked")


class TransportDone(Event):
    event_type = "TransportDone"
    transport_id: str
    at: UtcDatetime
    km: Decimal = Field(ge=0)


class TransportCancelled(Event):
    event_type = "TransportCancelled"
    transport_id: str
    reason: str


class NeedUnfilled(Event):
    """The care need still has no caregiver after the target time."""

    event_type = "NeedUnfilled"
    need_at: UtcDatetime
    detected_at: UtcDatetime
    reason: str
