"""Family use cases: the billing address invoices go to."""

from __future__ import annotations

from typing import Any

from notfall.app.execute import execute
from notfall.clock import Clock, system_clock
from notfall.domain import families as fam
from notfall.domain.envelope import Metadata
from notfall.domain.invoice_events import Address
from notfall.store.base import EventStore


class Families:
    def __init__(self, store: EventStore, clock: Clock = system_clock) -> None:
        self.store = store
        self.clock = clock

    def load(self, family_id: str) -> fam.FamilyState | None:
        return fam.fold_family(self.store.load(fam.family_stream(fam.check_family_id(family_id))))

    def billing(self, family_id: str, address: Address, meta: Metadata) -> dict[str, Any]:
        """Set the family's billing address (422 for a malformed family id)."""
        return execute(
            self.store, meta, lambda: fam.decide_family_billing(self.load(family_id), family_id, address, self.clock())
        )
