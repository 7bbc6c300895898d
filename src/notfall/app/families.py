"""Family use cases: the billing address invoices go to, and the payroll consent given at intake."""

from __future__ import annotations

from typing import Any

from notfall.app.execute import execute
from notfall.clock import Clock, system_clock
from notfall.domain import families as fam
from notfall.domain.case import case_stream, fold_case
from notfall.domain.envelope import Metadata
from notfall.domain.errors import NotFound
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

    def payroll_consent(self, case_id: str, given: bool, meta: Metadata) -> dict[str, Any]:
        """Record (or withdraw) the consent of the case's family to the 34a listing; 404 for an
        unknown case. The answer carries the reference the employee hands to payroll."""

        def decide():
            case = fold_case(self.store.load(case_stream(case_id)))
            if case is None:
                raise NotFound(f"unknown case {case_id}", field="case_id")
            state = self.load(case.family_id)
            reference = fam.new_payroll_reference()
            return fam.decide_payroll_consent(state, case.family_id, case_id, given, reference, self.clock())

        return execute(self.store, meta, decide)
