"""Hourly prices with validity periods, and the rounding of care time for billing.

The published prices are data in one stream `tariffs`: a price change is an event, never an
edit. An invoice takes the price valid on the Berlin day the care took place, so a price never
starts on or before a day that an issued, not cancelled invoice priced with its tier.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Envelope, Event
from notfall.domain.errors import DomainError, Rejected
from notfall.domain.events import Value
from notfall.domain.inputs import Day

TARIFF_STREAM = "tariffs"


class Tier(StrEnum):
    STANDARD = "standard"  # 5.00 EUR as published
    PARTNER = "partner"  # 3.00 EUR: a parent or relative works at a partner company or municipality
    STUDENT = "student"  # 2.00 EUR: students living in the city


class TariffIn(Value):
    tier: Tier
    cents_per_hour: int = Field(ge=0, le=10_000)
    valid_from: Day
    valid_to: Day | None = Field(default=None, description="last day; open-ended when absent")

    @field_validator("valid_to")
    @classmethod
    def _to_after_from(cls, valid_to: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("valid_from")
        if valid_to is not None and start is not None and valid_to < start:
            raise ValueError("valid_to must not be before valid_from")
        return valid_to


class TariffSet(Event):
    """A price for a tier from a day on; it ends the tier's earlier price the day before."""

    event_type = "TariffSet"
    tier: Tier
    cents_per_hour: int
    valid_from: date
    valid_to: date | None = None


class Price(BaseModel):
    tier: Tier
    cents_per_hour: int
    valid_from: date
    valid_to: date | None


class Tariffs(BaseModel):
    version: int = 0
    prices: list[Price] = []  # per tier in valid_from order; each ends where the next begins

    def price_on(self, tier: Tier, day: date) -> Price | None:
        """The price of `tier` valid on `day`, or None when no tariff covers it."""
        for p in reversed([p for p in self.prices if p.tier == tier]):
            if p.valid_from <= day:
                return p if p.valid_to is None or day <= p.valid_to else None
        return None


def fold_tariffs(envelopes: Iterable[Envelope]) -> Tariffs:
    state = Tariffs()
    for env in sorted(envelopes, key=lambda e: e.version):
        e = env.data
        assert isinstance(e, TariffSet)
        prices = list(state.prices)
        for i, p in enumerate(prices):  # the new price ends the open one it follows
            if p.tier == e.tier and p.valid_from < e.valid_from and (p.valid_to is None or p.valid_to >= e.valid_from):
                prices[i] = p.model_copy(update={"valid_to": date.fromordinal(e.valid_from.toordinal() - 1)})
        prices.append(Price(tier=e.tier, cents_per_hour=e.cents_per_hour, valid_from=e.valid_from, valid_to=e.valid_to))
        state = Tariffs(version=env.version, prices=sorted(prices, key=lambda p: (p.tier, p.valid_from)))
    return state


@dataclass(frozen=True)
class PricedDay:
    """The latest Berlin day that an issued, not cancelled invoice priced care of a tier, and that invoice."""

    day: date
    number: str


def decide_tariff(state: Tariffs, cmd: TariffIn, now: datetime, invoiced: PricedDay | None = None) -> Decision:
    """Prices are only added going forward: history an invoice used is never rewritten.

    `invoiced` is the latest day a live invoice priced with the command's tier (None: none did).
    """
    latest = max((p.valid_from for p in state.prices if p.tier == cmd.tier), default=None)
    if latest is not None and cmd.valid_from <= latest:
        raise DomainError(
            f"the {cmd.tier} price already changes on {latest.isoformat()}; a new price must start after it",
            field="valid_from",
        )
    if invoiced is not None and cmd.valid_from <= invoiced.day:
        day = invoiced.day.isoformat()
        raise Rejected(
            f"invoice {invoiced.number} priced {cmd.tier} care on {day} at the prices then valid; "
            f"a new {cmd.tier} price must start after {day} (or cancel the invoice first)",
            field="valid_from",
        )
    event = TariffSet(**cmd.model_dump())
    return Decision(
        (Append(TARIFF_STREAM, state.version, (event,), now),),
        {"tier": cmd.tier.value, "valid_from": cmd.valid_from.isoformat(), "version": state.version + 1},
    )


PUBLISHED = (  # the prices as published since the service started
    TariffIn(tier=Tier.STANDARD, cents_per_hour=500, valid_from=date(2015, 1, 1)),
    TariffIn(tier=Tier.PARTNER, cents_per_hour=300, valid_from=date(2015, 1, 1)),
    TariffIn(tier=Tier.STUDENT, cents_per_hour=200, valid_from=date(2015, 1, 1)),
)


@dataclass(frozen=True)
class Rounding:
    """Care time is billed in started units per session: 61 minutes in quarter hours bill 75."""

    unit_minutes: int = 15

    def billed(self, minutes: int) -> int:
        return math.ceil(minutes / self.unit_minutes) * self.unit_minutes if minutes > 0 else 0

    def total(self, sessions: Iterable[int]) -> int:
        """The billed minutes of sessions, each rounded on its own."""
        return sum(self.billed(minutes) for minutes in sessions)


def amount_cents(billed_minutes: int, cents_per_hour: int) -> int:
    """Minutes times the hourly price, rounded half up to a cent (integers only)."""
    return (billed_minutes * cents_per_hour * 2 + 60) // 120
