"""Partner companies and partner municipalities: who they are and since when.

Each partner is a stream `partner-<id>`. Framework contracts, fees and child counts per year
build on this register; here it only records the partner as it joins.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Envelope, Event
from notfall.domain.errors import DomainError
from notfall.domain.events import Value

PARTNER_PREFIX = "partner-"


def partner_stream(partner_id: str) -> str:
    return PARTNER_PREFIX + partner_id


class PartnerIn(Value):
    partner_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")
    kind: Literal["company", "municipality"]
    name: str = Field(min_length=1, max_length=200)
    municipality: str = Field(min_length=1, max_length=80, description="seat, or the municipality itself")
    joined_on: date
    employees: int | None = Field(default=None, ge=1, validate_default=True,
                                  description="companies: employees covered")
    inhabitants: int | None = Field(default=None, ge=1, validate_default=True, description="municipalities")
    children_under_10: int | None = Field(default=None, ge=0, validate_default=True,
                                          description="municipalities: children up to age 10")

    @field_validator("employees")
    @classmethod
    def _company_figure(cls, value: int | None, info: ValidationInfo) -> int | None:
        return _belongs(value, info.data.get("kind") == "company", "partner companies state the employees covered")

    @field_validator("inhabitants", "children_under_10")
    @classmethod
    def _municipality_figures(cls, value: int | None, info: ValidationInfo) -> int | None:
        return _belongs(value, info.data.get("kind") == "municipality", "partner municipalities state this figure")


def _belongs(value: int | None, applies: bool, needed: str) -> int | None:
    if applies and value is None:
        raise ValueError(needed)
    if not applies and value is not None:
        raise ValueError("does not apply to this kind of partner")
    return value


class PartnerRegistered(Event):
    event_type = "PartnerRegistered"
    partner: PartnerIn


class PartnerState(BaseModel):
    version: int
    partner: PartnerIn


def fold_partner(envelopes: Iterable[Envelope]) -> PartnerState | None:
    state: PartnerState | None = None
    for env in sorted(envelopes, key=lambda e: e.version):
        match env.data:
            case PartnerRegistered(partner=partner):
                state = PartnerState(version=env.version, partner=partner)
    return state


def decide_register(state: PartnerState | None, cmd: PartnerIn, now: datetime) -> Decision:
    if state is not None:
        raise DomainError(f"partner {cmd.partner_id} is already registered", field="partner_id")
    append = Append(partner_stream(cmd.partner_id), 0, (PartnerRegistered(partner=cmd),), now)
    return Decision((append,), {"partner_id": cmd.partner_id, "version": 1})
