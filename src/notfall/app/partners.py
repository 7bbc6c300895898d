"""Partner use cases: register a partner company or municipality, its framework contracts,
its children up to age 10 per year (municipalities) and its billing details.

Each command loads the partner's stream, decides (pure) and appends in one conditional
write, so two contracts signed at the same moment cannot overlap.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pydantic import Field

from notfall.app.execute import execute
from notfall.clock import Clock, system_clock
from notfall.domain import partners as p
from notfall.domain.decision import Decision
from notfall.domain.envelope import Metadata
from notfall.domain.events import Value
from notfall.domain.inputs import Day
from notfall.store.base import EventStore


class ContractEndIn(Value):
    """The body of "end a contract": its last day."""

    end: Day


class ChildCountIn(Value):
    """The body of "report children": a municipality's children up to age 10 in a year."""

    year: int = Field(ge=2000, le=2100)
    children_under_10: int = Field(ge=0, le=10_000_000)


class Partners:
    def __init__(self, store: EventStore, clock: Clock = system_clock) -> None:
        self.store = store
        self.clock = clock

    def load(self, partner_id: str) -> p.PartnerState | None:
        return p.fold_partner(self.store.load(p.partner_stream(partner_id)))

    def _run(
        self, partner_id: str, meta: Metadata, decide: Callable[[p.PartnerState | None, datetime], Decision]
    ) -> dict[str, Any]:
        return execute(self.store, meta, lambda: decide(self.load(partner_id), self.clock()))

    def register(self, cmd: p.PartnerIn, meta: Metadata) -> dict[str, Any]:
        return self._run(cmd.partner_id, meta, lambda s, now: p.decide_register(s, cmd, now))

    def contract(self, partner_id: str, cmd: p.ContractIn, meta: Metadata) -> dict[str, Any]:
        return self._run(partner_id, meta, lambda s, now: p.decide_contract(s, partner_id, cmd, now))

    def end_contract(self, partner_id: str, contract_id: str, end: date, meta: Metadata) -> dict[str, Any]:
        return self._run(partner_id, meta, lambda s, now: p.decide_end_contract(s, partner_id, contract_id, end, now))

    def child_count(self, partner_id: str, year: int, count: int, meta: Metadata) -> dict[str, Any]:
        return self._run(partner_id, meta, lambda s, now: p.decide_child_count(s, partner_id, year, count, now))

    def billing(self, partner_id: str, cmd: p.BillingIn, meta: Metadata) -> dict[str, Any]:
        return self._run(partner_id, meta, lambda s, now: p.decide_billing(s, partner_id, cmd, now))
