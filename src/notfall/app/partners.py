"""Partner use cases: register a partner company or municipality."""

from __future__ import annotations

from typing import Any

from notfall.app.execute import execute
from notfall.domain import partners as p
from notfall.domain.envelope import Metadata
from notfall.store.base import EventStore, utcnow


class Partners:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    def register(self, cmd: p.PartnerIn, meta: Metadata) -> dict[str, Any]:
        def decide():
            state = p.fold_partner(self.store.load(p.partner_stream(cmd.partner_id)))
            return p.decide_register(state, cmd, utcnow())

        return execute(self.store, meta, decide)
