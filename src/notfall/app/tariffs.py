"""Tariff use cases: set a price going forward, publish the service's published prices once,
and read the prices valid now and before (from the `tariffs` stream, strongly consistent).

A new price must start after the last day an issued, not cancelled invoice priced with its
tier. That day comes from the invoice projection's `priced#<tier>` rows (one strongly
consistent read). The projection follows an issued invoice within the stream Lambda's delay,
usually under a second: an invoice issued in that moment before a price command is not yet
seen. The other order is exact: an invoice is written only if the tariff stream is still at the
version it was priced with, else the run prices it again (`invoicing.decide_issue`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from notfall.app.execute import execute
from notfall.clock import Clock, berlin_today, system_clock
from notfall.domain import tariffs as t
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError, VersionConflict
from notfall.projection.invoice_rows import priced_pk
from notfall.projection.readmodel import ReadModel
from notfall.store.base import EventStore

PUBLISH_ATTEMPTS = 5


def published_command_id(price: t.TariffIn) -> str:
    """Fixed per published price: publishing again appends nothing."""
    return f"tariff:published:{price.tier.value}:{price.valid_from.isoformat()}"


class TariffRegister:
    def __init__(self, store: EventStore, readmodel: ReadModel, clock: Clock = system_clock) -> None:
        self.store = store
        self.readmodel = readmodel
        self.clock = clock

    def current(self) -> t.Tariffs:
        return t.fold_tariffs(self.store.load(t.TARIFF_STREAM))

    def invoiced(self, tier: t.Tier) -> t.PricedDay | None:
        """The latest day a live invoice priced care of `tier` at, and that invoice."""
        row = self.readmodel.last(priced_pk(tier.value))
        return t.PricedDay(day=date.fromisoformat(row["day"]), number=row["number"]) if row else None

    def valid_today(self) -> tuple[t.Tariffs, date, dict[str, t.Price | None]]:
        """The register, the clock's Berlin day, and each tier's price on that day."""
        state, today = self.current(), berlin_today(self.clock)
        return state, today, {tier.value: state.price_on(tier, today) for tier in t.Tier}

    def set_tariff(self, cmd: t.TariffIn, meta: Metadata) -> dict[str, Any]:
        return execute(
            self.store, meta, lambda: t.decide_tariff(self.current(), cmd, self.clock(), self.invoiced(cmd.tier))
        )

    def publish_defaults(self, meta: Metadata | None = None) -> dict[str, Any]:
        """Append the published prices (`tariffs.PUBLISHED`) unless they are there: each under a
        fixed command id, so running it again, or at the same moment twice, appends nothing.
        A tier that already has a price on that day, or a later one, keeps its prices."""
        published: list[str] = []
        present: list[str] = []
        for price in t.PUBLISHED:
            item_meta = Metadata(
                command_id=published_command_id(price),
                actor=meta.actor if meta else "system",
                correlation_id=meta.correlation_id if meta else "tariffs:published",
                causation_id=meta.command_id if meta else None,
            )
            (published if self._publish(price, item_meta) else present).append(price.tier.value)
        return {"published": published, "present": present, "version": self.current().version}

    def _publish(self, price: t.TariffIn, meta: Metadata) -> bool:
        for _ in range(PUBLISH_ATTEMPTS):
            state = self.current()
            if self.store.command_result(meta.command_id) is not None or any(
                p.tier == price.tier and p.valid_from <= price.valid_from for p in state.prices
            ):
                return False
            try:
                result = self.store.append(t.decide_tariff(state, price, self.clock()), meta)
            except VersionConflict:
                continue  # another tier's price was appended meanwhile: look again
            except DomainError:
                return False  # a later price of the tier exists: the published one is not forced in
            return not result.duplicate
        raise VersionConflict(t.TARIFF_STREAM)
