"""Partner usage statements: the cases of the period's months (and of the year before it, for
the section 34a listing) from the read model (notfall.projection.case_log), every partner, the
tariffs and the payroll consents of the families those cases name; then the pure statement of
notfall.domain.statements, as JSON, CSV, or CSV and PDF behind short-lived links.

`whole_log_statement` folds the whole log instead: the reference the read model is tested against.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from notfall.domain import fees as f
from notfall.domain.case import CASE_PREFIX, CaseState, fold_case
from notfall.domain.eligibility import EligibilityRules
from notfall.domain.envelope import Envelope
from notfall.domain.errors import NotFound
from notfall.domain.events import Need
from notfall.domain.families import FAMILY_PREFIX, family_stream, fold_family
from notfall.domain.partners import PARTNER_PREFIX, PartnerState, fold_partner, partner_stream
from notfall.domain.statements import (
    DEFAULT_THRESHOLD,
    Context,
    Period,
    check_threshold,
    period_of,
    statement,
)
from notfall.domain.tariffs import TARIFF_STREAM, Rounding, fold_tariffs
from notfall.projection.case_log import case_streams, partner_streams
from notfall.projection.readmodel import ReadModel
from notfall.reports.statements import statement_csv
from notfall.store.base import EventStore, iter_log

CSV_TYPE = "text/csv; charset=utf-8"
PDF_TYPE = "application/pdf"


class Exports(Protocol):
    """What the links need of `notfall.documents.exports.ExportStore`."""

    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def url(self, key: str, expires: int = 300) -> str: ...


def _names(need: Need | None, partner: PartnerState) -> bool:
    """Whether the need names the partner as employer (as notfall.domain.statements.basis_on reads it)."""
    if need is None or not need.employer:
        return False
    p = partner.partner
    return need.employer.strip().lower() in (p.partner_id, p.name.strip().lower())


def _render_pdf(stmt: dict[str, Any]) -> bytes:
    from notfall.documents.statement_pdf import statement_pdf  # fpdf2: loaded only to render

    return statement_pdf(stmt)


class Statements:
    def __init__(
        self,
        store: EventStore,
        readmodel: ReadModel,
        rounding: Rounding,
        eligibility: EligibilityRules,
        exports: Exports | None = None,
        bands: tuple[f.HeadcountBand, ...] = f.DEFAULT_HEADCOUNT_BANDS,
        render_pdf: Callable[[dict[str, Any]], bytes] = _render_pdf,
    ) -> None:
        self.store = store
        self.readmodel = readmodel
        self.rounding = rounding
        self.eligibility = eligibility
        self.exports = exports
        self.bands = bands
        self.render_pdf = render_pdf

    def statement(
        self,
        partner_id: str,
        period: str | None = None,
        start: date | None = None,
        end: date | None = None,
        threshold: int = DEFAULT_THRESHOLD,
    ) -> dict[str, Any]:
        """404 for an unknown partner, 422 for a bad period or threshold; nothing is written."""
        span = period_of(period, start, end)
        check_threshold(threshold)
        partner = fold_partner(self.store.load(partner_stream(partner_id)))
        if partner is None:
            raise NotFound(f"unknown partner {partner_id}", field="partner_id")
        # The listing counts the consenting employees' costs from the start of the period's year.
        months = Period(span.start.replace(month=1, day=1), span.end, span.label).months()
        streams = {
            **partner_streams(self.readmodel, self.store),
            **case_streams(self.readmodel, self.store, months),
            TARIFF_STREAM: self.store.load(TARIFF_STREAM),
        }
        cases = [c for s, e in streams.items() if s.startswith(CASE_PREFIX) and (c := fold_case(e)) is not None]
        # Payroll references matter only where the need names the partner as employer.
        for fid in sorted({c.family_id for c in cases if _names(c.need, partner)}):
            streams[family_stream(fid)] = self.store.load(family_stream(fid))
        return self._statement(partner, span, streams, threshold, cases)

    def whole_log_statement(
        self,
        partner_id: str,
        period: str | None = None,
        start: date | None = None,
        end: date | None = None,
        threshold: int = DEFAULT_THRESHOLD,
    ) -> dict[str, Any]:
        """The statement folded from the whole log: the reference for the read model's."""
        span = period_of(period, start, end)
        check_threshold(threshold)
        partner = fold_partner(self.store.load(partner_stream(partner_id)))
        if partner is None:
            raise NotFound(f"unknown partner {partner_id}", field="partner_id")
        streams: dict[str, list[Envelope]] = {}
        for env in iter_log(self.store):
            if env.stream_id.startswith((CASE_PREFIX, FAMILY_PREFIX, PARTNER_PREFIX)) or env.stream_id == TARIFF_STREAM:
                streams.setdefault(env.stream_id, []).append(env)
        return self._statement(partner, span, streams, threshold)

    def _statement(
        self,
        partner: PartnerState,
        span: Period,
        streams: dict[str, list[Envelope]],
        threshold: int,
        cases: list[CaseState] | None = None,
    ) -> dict[str, Any]:
        if cases is None:
            cases = [c for s, e in streams.items() if s.startswith(CASE_PREFIX) and (c := fold_case(e)) is not None]
        families = [fold_family(e) for s, e in streams.items() if s.startswith(FAMILY_PREFIX)]
        partners = [fold_partner(e) for s, e in streams.items() if s.startswith(PARTNER_PREFIX)]
        references = {fam.family_id: fam.payroll_reference for fam in families if fam and fam.payroll_reference}
        ctx = Context(
            [p for p in partners if p is not None],
            fold_tariffs(streams.get(TARIFF_STREAM, [])),
            self.rounding,
            self.eligibility,
        )
        return statement(partner, span, cases, references, ctx, threshold, self.bands)

    def csv(self, partner_id: str, **query: Any) -> str:
        return statement_csv(self.statement(partner_id, **query))

    def documents(self, partner_id: str, expires: int, **query: Any) -> dict[str, Any]:
        """The statement as CSV and PDF, stored under random keys, behind presigned links."""
        from notfall.documents.exports import export_key

        if self.exports is None:
            raise RuntimeError("no export store is configured")
        stmt = self.statement(partner_id, **query)
        links = {}
        for suffix, body, content_type in (
            ("csv", statement_csv(stmt).encode("utf-8"), CSV_TYPE),
            ("pdf", self.render_pdf(stmt), PDF_TYPE),
        ):
            key = export_key(partner_id, suffix)
            self.exports.put(key, body, content_type)
            links[suffix] = self.exports.url(key, expires)
        return {"partner_id": partner_id, "period": stmt["period"], **links, "expires_in": expires}
