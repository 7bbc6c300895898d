"""Bring the read model up to date with one stream: the same code for the stream Lambda and
for the auditors' rebuild from the log.

A stream record only says "stream S reached version v". The projector reloads S from the
event store and folds it from scratch, so records arriving twice, late or out of version
order all end in the same rows as one clean delivery.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from notfall.domain.caregiver import CAREGIVER_PREFIX, fold_caregiver
from notfall.domain.case import CASE_PREFIX, CaseState, fold_case
from notfall.domain.envelope import Envelope
from notfall.domain.families import FAMILY_PREFIX, fold_family
from notfall.domain.invoicing import INVOICE_PREFIX, fold_invoice
from notfall.domain.partners import PARTNER_PREFIX, fold_partner
from notfall.projection.caregiver_rows import caregiver_pk, caregiver_rows
from notfall.projection.case_log import case_log_rows
from notfall.projection.case_rows import case_pk, case_rows
from notfall.projection.invoice_rows import family_billing_pk, family_rows, invoice_pk, invoice_rows
from notfall.projection.partner_rows import partner_pk, partner_rows
from notfall.projection.readmodel import ReadModel
from notfall.store.base import EventStore, iter_log

_CAS_ATTEMPTS = 5


@dataclass(frozen=True)
class Projection:
    """How one kind of stream becomes rows: fold its events, then lay the state out."""

    prefix: str
    state_pk: Callable[[str], str]  # entity id -> pk of its state row
    fold: Callable[[list[Envelope]], Any]
    rows: Callable[[Any], list[dict[str, Any]]]


@dataclass(frozen=True)
class CaseWithLog:
    """A case's state and its events: the case rows, and the case's events by month."""

    state: CaseState
    envelopes: list[Envelope]

    @property
    def version(self) -> int:
        return self.state.version


def fold_case_with_log(envelopes: list[Envelope]) -> CaseWithLog | None:
    state = fold_case(envelopes)
    return None if state is None else CaseWithLog(state, list(envelopes))


def case_and_log_rows(case: CaseWithLog) -> list[dict[str, Any]]:
    need = case.state.need
    return case_rows(case.state) + case_log_rows(
        case.state.case_id, need.municipality if need else None, case.envelopes
    )


# Caller ledgers (caller-...) have none: they are routing data, shown to nobody. Neither have
# the invoice series (series-...), billing keys (billing-...) and the tariffs stream.
PROJECTIONS = (
    Projection(CASE_PREFIX, case_pk, fold_case_with_log, case_and_log_rows),
    Projection(PARTNER_PREFIX, partner_pk, fold_partner, partner_rows),
    Projection(CAREGIVER_PREFIX, caregiver_pk, fold_caregiver, caregiver_rows),
    Projection(INVOICE_PREFIX, invoice_pk, fold_invoice, invoice_rows),
    Projection(FAMILY_PREFIX, family_billing_pk, fold_family, family_rows),
)


def projection_for(stream_id: str) -> Projection | None:
    return next((p for p in PROJECTIONS if stream_id.startswith(p.prefix)), None)


def rows_for_stream(stream_id: str, envelopes: list[Envelope]) -> tuple[str, int, list[dict[str, Any]]] | None:
    """(pk, version, rows) of a stream that has a read model, else None."""
    projection = projection_for(stream_id)
    if projection is None:
        return None
    state = projection.fold(envelopes)
    if state is None:
        return None
    return projection.state_pk(stream_id.removeprefix(projection.prefix)), state.version, projection.rows(state)


_UNREAD = object()


def write_rows(readmodel: ReadModel, pk: str, version: int, rows: list[dict[str, Any]], current: Any = _UNREAD) -> str:
    """Replace the stream's rows unless they already reflect `version`; `current` if already read."""
    for _ in range(_CAS_ATTEMPTS):
        if current is _UNREAD:
            current = readmodel.current(pk)
        if current is not None and current.version >= version:
            return "up-to-date"
        if readmodel.replace(rows, version, current):
            return "written"
        current = _UNREAD  # somebody else wrote meanwhile: look again
    raise RuntimeError(f"read model row {pk} kept changing under the projector")


@dataclass
class Projector:
    store: EventStore
    readmodel: ReadModel
    stats: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def project(self, stream_id: str, version: int) -> str:
        """Make the read model reflect stream `stream_id` at least up to `version`."""
        projection = projection_for(stream_id)
        if projection is None:
            return self._count("ignored")
        pk = projection.state_pk(stream_id.removeprefix(projection.prefix))
        current = self.readmodel.current(pk)
        if current is not None and current.version >= version:
            return self._count("up-to-date")  # a redelivered or already covered record
        envelopes = self.store.load(stream_id)
        self.stats["events_read"] += len(envelopes)
        projected = rows_for_stream(stream_id, envelopes)
        if projected is None:
            return self._count("ignored")
        return self._count(write_rows(self.readmodel, *projected, current=current))

    def _count(self, outcome: str) -> str:
        self.stats[outcome] += 1
        return outcome


def rebuild(store: EventStore, readmodel: ReadModel, page_size: int = 500) -> dict[str, int]:
    """Build every read model from the global log alone (into an empty read model)."""
    return rebuild_from(iter_log(store, page_size=page_size), readmodel)


def rebuild_from(log: Iterable[Envelope], readmodel: ReadModel) -> dict[str, int]:
    """Build every read model from these events of the global log, in global order (e.g. a
    prefix of it: the read models as they were after its last event)."""
    streams: dict[str, list[Envelope]] = defaultdict(list)
    events = 0
    for env in log:
        streams[env.stream_id].append(env)
        events += 1
    written = 0
    for stream_id, envelopes in streams.items():
        projected = rows_for_stream(stream_id, envelopes)
        if projected is not None and write_rows(readmodel, *projected) == "written":
            written += 1
    return {"events": events, "streams": len(streams), "projected": written}
