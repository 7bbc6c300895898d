"""Partner usage statements: one fold over the whole event log (cases, families' payroll
consents, partners, tariffs), then the pure statement of notfall.domain.statements, as JSON,
CSV, or CSV and PDF behind short-lived links.

The fold reads the whole log on each request: fine for the demo and for years of a small
service, and the place a per-partner projection would replace when the log grows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from notfall.domain import fees as f
from notfall.domain.case import CASE_PREFIX, fold_case
from notfall.domain.eligibility import EligibilityRules
from notfall.domain.envelope import Envelope
from notfall.domain.errors import NotFound
from notfall.domain.families import FAMILY_PREFIX, fold_family
from notfall.domain.partners import PARTNER_PREFIX, fold_partner, partner_stream
from notfall.domain.statements import DEFAULT_THRESHOLD, Context, check_threshold, period_of, statement
from notfall.domain.tariffs import TARIFF_STREAM, Rounding, fold_tariffs
from notfall.reports.statements import statement_csv
from notfall.store.base import EventStore, iter_log

CSV_TYPE = "text/csv; charset=utf-8"
PDF_TYPE = "application/pdf"


class Exports(Protocol):
    """What the links need of `notfall.documents.exports.ExportStore`."""

    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def url(self, key: str, expires: int = 300) -> str: ...


def _render_pdf(stmt: dict[str, Any]) -> bytes:
    from notfall.documents.statement_pdf import statement_pdf  # fpdf2: loaded only to render

    return statement_pdf(stmt)


class Statements:
    def __init__(
        self,
        store: EventStore,
        rounding: Rounding,
        eligibility: EligibilityRules,
        exports: Exports | None = None,
        bands: tuple[f.HeadcountBand, ...] = f.DEFAULT_HEADCOUNT_BANDS,
        render_pdf: Callable[[dict[str, Any]], bytes] = _render_pdf,
    ) -> None:
        self.store = store
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
        streams: dict[str, list[Envelope]] = {}
        for env in iter_log(self.store):
            if env.stream_id.startswith((CASE_PREFIX, FAMILY_PREFIX, PARTNER_PREFIX)) or env.stream_id == TARIFF_STREAM:
                streams.setdefault(env.stream_id, []).append(env)
        cases = [fold_case(e) for s, e in streams.items() if s.startswith(CASE_PREFIX)]
        families = [fold_family(e) for s, e in streams.items() if s.startswith(FAMILY_PREFIX)]
        partners = [fold_partner(e) for s, e in streams.items() if s.startswith(PARTNER_PREFIX)]
        references = {fam.family_id: fam.payroll_reference for fam in families if fam and fam.payroll_reference}
        ctx = Context(
            [p for p in partners if p is not None],
            fold_tariffs(streams.get(TARIFF_STREAM, [])),
            self.rounding,
            self.eligibility,
        )
        return statement(partner, span, [c for c in cases if c is not None], references, ctx, threshold, self.bands)

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
