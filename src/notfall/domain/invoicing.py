"""Invoices: drafting them from the log (pure), issuing them with gapless numbers, cancelling
them with credit notes, and recording payments.

Issuing appends to three streams in one transaction: the series (the next number, version =
number), the billing key of debtor and period (nobody bills it twice), and the new invoice.
Two invoice runs at once therefore cannot skip a number nor bill a period twice: the loser
gets a version conflict, reloads, and finds the period billed or takes the next number.

Family invoices bill a Berlin calendar month after it ended: each care session in the month
it started, at the price of its tier valid on that day, its time rounded per session (see
`tariffs.Rounding`); each transport done in the month at the price stamped on its booking.
The tier of a session is decided when the invoice is drafted, for the session's Berlin day,
from the case's latest need and the partner register as the run sees it
(`eligibility.assess_for_invoice`); a tier stamped on a session when it was recorded is not used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, Field

from notfall.domain import fees as f
from notfall.domain import invoice_events as ie
from notfall.domain.case import CaseState
from notfall.domain.decision import Append, Decision
from notfall.domain.eligibility import EligibilityRules, assess_for_invoice
from notfall.domain.envelope import Envelope
from notfall.domain.errors import DomainError, NotFound
from notfall.domain.events import Value
from notfall.domain.hours import BERLIN
from notfall.domain.inputs import Day, Text
from notfall.domain.partners import PartnerState
from notfall.domain.tariffs import TARIFF_STREAM, Rounding, Tariffs, amount_cents

FAMILY_SERIES, PARTNER_SERIES, CREDIT_SERIES = "F", "P", "S"
PAYMENT_DAYS = 14


def series_stream(series: str) -> str:
    return f"series-{series}"


INVOICE_PREFIX = "invoice-"


def invoice_stream(number: str) -> str:
    return INVOICE_PREFIX + number


def billing_stream(key: str) -> str:
    return "billing-" + key.replace(":", "-")


# --- drafts -----------------------------------------------------------------------------


class Draft(BaseModel):
    billing_key: str
    series: str  # prefix: F families, P partners
    debtor_id: str
    debtor_kind: ie.DebtorKind
    period_start: date
    period_end: date
    lines: list[ie.Line]
    note: str | None = None
    tariffs_version: int | None = None  # the tariff register its care lines were priced with

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


@dataclass(frozen=True)
class Refusal:
    """An item a run does not issue, and why; the run issues the rest."""

    billing_key: str
    debtor_id: str
    reason: str


def _berlin_day(at: datetime) -> date:
    return at.astimezone(BERLIN).date()


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def family_key(family_id: str, month: str) -> str:
    return f"family:{family_id}:{month}"


def family_draft(
    family_id: str,
    month: str,
    cases: Iterable[CaseState],
    tariffs: Tariffs,
    rounding: Rounding,
    partners: list[PartnerState],
    rules: EligibilityRules,
) -> Draft | Refusal | None:
    """The family's invoice for a Berlin month, a refusal naming what is missing, or None
    when nothing was used (consultations are free). `partners` is the partner register the
    tier of each session's day is assessed against."""
    key = family_key(family_id, month)
    year, mon = (int(x) for x in month.split("-"))
    start, end = f.month_bounds(year, mon)
    lines: list[ie.Line] = []
    for case in sorted(cases, key=lambda c: c.case_id):
        for s in sorted(case.live_sessions, key=lambda s: s.start):
            day = _berlin_day(s.start)
            if not start <= day <= end:
                continue
            if s.end is None:
                # Billing the month now would bill the key without this session, forever.
                return Refusal(
                    key,
                    family_id,
                    f"session {s.session_id} of case {case.case_id} on {day.isoformat()} is still checked in",
                )
            if case.need is None:
                return Refusal(
                    key,
                    family_id,
                    f"session {s.session_id} of case {case.case_id} on {day.isoformat()} "
                    "has no price tier: the case has no clarified need",
                )
            verdict = assess_for_invoice(case.need, day, partners, rules)
            assert verdict.tier is not None, "care given is billed"
            tier, basis = verdict.tier.value, verdict.basis
            price = tariffs.price_on(verdict.tier, day)
            if price is None:
                return Refusal(
                    key,
                    family_id,
                    f"no {tier} tariff is valid on {day.isoformat()} (session {s.session_id} of case {case.case_id})",
                )
            cared = int((s.end - s.start).total_seconds() // 60)
            billed = rounding.billed(cared)
            local_start, local_end = s.start.astimezone(BERLIN), s.end.astimezone(BERLIN)
            lines.append(
                ie.Line(
                    line_id=f"{case.case_id}:{s.session_id}",
                    kind="care",
                    description=f"Betreuung am {day.strftime('%d.%m.%Y')}, {local_start:%H:%M}–{local_end:%H:%M} Uhr",
                    service_date=day,
                    quantity=_hours(billed),
                    unit="HUR",
                    unit_price_cents=price.cents_per_hour,
                    amount_cents=amount_cents(billed, price.cents_per_hour),
                    tier=tier,
                    basis=basis,
                    case_id=case.case_id,
                    ref=s.session_id,
                    cared_minutes=cared,
                    billed_minutes=billed,
                )
            )
        for t in sorted(case.transports, key=lambda t: t.at):
            day = _berlin_day(t.at)
            if t.status == "cancelled" or not start <= day <= end:
                continue
            if t.status != "done":
                # Like an open session: billing the month now would leave the trip unbilled for good.
                return Refusal(
                    key,
                    family_id,
                    f"transport {t.transport_id} of case {case.case_id} on "
                    f"{day.isoformat()} is neither done nor cancelled",
                )
            lines.append(
                ie.Line(
                    line_id=f"{case.case_id}:{t.transport_id}",
                    kind="transport",
                    description=f"Fahrdienst am {day.strftime('%d.%m.%Y')}: {t.from_place} – {t.to_place}",
                    service_date=day,
                    quantity=Decimal(1),
                    unit="C62",
                    unit_price_cents=t.price_cents,
                    amount_cents=t.price_cents,
                    case_id=case.case_id,
                    ref=t.transport_id,
                )
            )
    if not lines:
        return None
    priced = any(line.kind == "care" for line in lines)
    return Draft(
        billing_key=key,
        series=FAMILY_SERIES,
        debtor_id=family_id,
        debtor_kind="family",
        period_start=start,
        period_end=end,
        lines=lines,
        tariffs_version=tariffs.version if priced else None,
    )


def _contracts_in(partner: PartnerState, start: date, end: date, models: tuple[str, ...]):
    found = [c for c in partner.contracts if c.fee_model in models and f.covered_days(c, start, end) > 0]
    for a in found:
        for b in found:
            if a is not b and a.overlaps(b.start, b.end):
                return None, f"contracts {a.contract_id} and {b.contract_id} overlap"
    return found, None


def partner_month_draft(partner: PartnerState, month: str) -> Draft | Refusal | None:
    """A partner company's monthly flat fee for a month, pro-rated by days."""
    p = partner.partner
    key = f"partner:{p.partner_id}:{month}"
    year, mon = (int(x) for x in month.split("-"))
    start, end = f.month_bounds(year, mon)
    contracts, clash = _contracts_in(partner, start, end, ("monthly",))
    if clash:
        return Refusal(key, p.partner_id, clash)
    lines = []
    for c in contracts or []:
        fee = f.monthly_fee(c, year, mon)
        lines.append(
            _fee_line(
                c.contract_id, f"Monatspauschale Rahmenvertrag {c.contract_id}, {start.strftime('%m/%Y')}", fee, end
            )
        )
    return _partner_draft(key, partner, start, end, lines)


def partner_year_draft(
    partner: PartnerState, year: int, bands: tuple[f.HeadcountBand, ...] = f.DEFAULT_HEADCOUNT_BANDS
) -> Draft | Refusal | None:
    """A year's fee: companies by headcount band, municipalities 1 EUR per child up to 10."""
    p = partner.partner
    key = f"partner:{p.partner_id}:{year}"
    start, end = date(year, 1, 1), date(year, 12, 31)
    contracts, clash = _contracts_in(partner, start, end, ("yearly_band", "per_child"))
    if clash:
        return Refusal(key, p.partner_id, clash)
    lines = []
    for c in contracts or []:
        if c.fee_model == "per_child":
            count = partner.child_counts.get(year)
            if count is None:
                return Refusal(key, p.partner_id, f"no count of children up to age 10 for {year}")
            fee = f.municipality_fee(c, year, count)
            text = f"Jahresbetrag {year}: {count} Kinder bis 10 Jahre × 1,00 EUR (Rahmenvertrag {c.contract_id})"
        else:
            fee = f.yearly_band_fee(c, year, bands)
            text = (
                f"Jahresbeitrag {year}, Staffel {_band_text(c.employees_covered or 0, bands)} Beschäftigte "
                f"({c.employees_covered} gemeldet, Rahmenvertrag {c.contract_id})"
            )
        lines.append(_fee_line(c.contract_id, text, fee, end))
    return _partner_draft(key, partner, start, end, lines)


def _band_text(employees: int, bands: tuple[f.HeadcountBand, ...]) -> str:
    """ "bis 999", or for the open band "ab 1000"."""
    band = f.band_of(employees, bands)
    if band.up_to is not None:
        return f"bis {band.up_to}"
    below = [b.up_to for b in bands if b.up_to is not None]
    return f"ab {max(below, default=0) + 1}"


def _fee_line(contract_id: str, text: str, fee: f.Fee, service_date: date) -> ie.Line:
    if fee.days_covered < fee.days_in_period:
        text += f", anteilig {fee.days_covered} von {fee.days_in_period} Tagen"
    return ie.Line(
        line_id=contract_id,
        kind="fee",
        description=text,
        service_date=service_date,
        quantity=Decimal(1),
        unit="C62",
        unit_price_cents=fee.cents,
        amount_cents=fee.cents,
        ref=contract_id,
    )


def _partner_draft(key: str, partner: PartnerState, start: date, end: date, lines: list[ie.Line]):
    if not lines:
        return None
    p = partner.partner
    return Draft(
        billing_key=key,
        series=PARTNER_SERIES,
        debtor_id=p.partner_id,
        debtor_kind=p.kind,
        period_start=start,
        period_end=end,
        lines=lines,
    )


# --- states -----------------------------------------------------------------------------


class Series(BaseModel):
    series: str
    version: int = 0  # = the last number issued


class Billing(BaseModel):
    key: str
    version: int = 0
    number: str | None = None  # the invoice that bills the key now


class InvoiceState(BaseModel):
    version: int
    invoice: ie.InvoiceIssued
    cancelled_by: str | None = None
    payments: list[ie.PaymentRecorded] = []

    @property
    def paid_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments)

    @property
    def open_cents(self) -> int:
        return (
            0 if self.cancelled_by or self.invoice.kind == "credit_note" else self.invoice.total_cents - self.paid_cents
        )


def fold_series(series: str, envelopes: Iterable[Envelope]) -> Series:
    return Series(series=series, version=max((e.version for e in envelopes), default=0))


def fold_billing(key: str, envelopes: Iterable[Envelope]) -> Billing:
    state = Billing(key=key)
    for env in sorted(envelopes, key=lambda e: e.version):
        number = env.data.number if isinstance(env.data, ie.BillingAssigned) else None
        state = Billing(key=key, version=env.version, number=number)
    return state


def fold_invoice(envelopes: Iterable[Envelope]) -> InvoiceState | None:
    state: InvoiceState | None = None
    for env in sorted(envelopes, key=lambda e: e.version):
        match env.data:
            case ie.InvoiceIssued() as issued:
                state = InvoiceState(version=env.version, invoice=issued)
                continue
            case ie.InvoiceCancelled(credit_note=credit):
                assert state is not None
                state = state.model_copy(update={"cancelled_by": credit})
            case ie.PaymentRecorded() as payment:
                assert state is not None
                state = state.model_copy(update={"payments": [*state.payments, payment]})
        assert state is not None
        state = state.model_copy(update={"version": env.version})
    return state


# --- decisions --------------------------------------------------------------------------


def number_of(series: Series) -> str:
    prefix, year = series.series.split("-")
    return f"{prefix}-{year}-{series.version + 1:05d}"


def series_for(prefix: str, issue_date: date) -> str:
    return f"{prefix}-{issue_date.year}"


def vat_cents(net_cents: int, vat: ie.Vat) -> int:
    """VAT on the net amount, rounded half up (away from zero) to a cent; none when exempt."""
    if vat.category != "S":
        return 0
    return int((Decimal(net_cents) * vat.rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def decide_issue(
    draft: Draft,
    debtor: ie.Debtor,
    series: Series,
    billing: Billing,
    issuer: ie.Issuer,
    vat: ie.Vat,
    issue_date: date,
    now: datetime,
) -> Decision:
    if billing.number is not None:
        raise DomainError(f"{draft.billing_key} is billed already by {billing.number}", field="billing_key")
    number = number_of(series)
    total = draft.total_cents + vat_cents(draft.total_cents, vat)
    invoice = ie.InvoiceIssued(
        number=number,
        series=series.series,
        kind="invoice",
        debtor=debtor,
        issuer=issuer,
        issue_date=issue_date,
        period_start=draft.period_start,
        period_end=draft.period_end,
        due_date=issue_date + timedelta(days=PAYMENT_DAYS),
        lines=draft.lines,
        total_cents=total,
        vat=vat,
        billing_key=draft.billing_key,
        note=draft.note,
    )
    appends = [
        Append(series_stream(series.series), series.version, (ie.NumberAssigned(number=number),), now),
        Append(billing_stream(draft.billing_key), billing.version, (ie.BillingAssigned(number=number),), now),
        Append(invoice_stream(number), 0, (invoice,), now),
    ]
    if draft.tariffs_version is not None:
        # Only if no price changed since the draft was priced; else the run prices it again.
        appends.append(Append(TARIFF_STREAM, draft.tariffs_version, (), now))
    return Decision(tuple(appends), {"number": number, "billing_key": draft.billing_key, "total_cents": total})


class CancelIn(Value):
    reason: Text = Field(min_length=1, max_length=300)


def decide_credit_note(
    state: InvoiceState | None,
    number: str,
    series: Series,
    billing: Billing,
    cmd: CancelIn,
    issue_date: date,
    now: datetime,
) -> Decision:
    """Cancel an issued invoice by a credit note of the same lines, negated; the period may
    then be billed again by the next run."""
    if state is None:
        raise NotFound(f"unknown invoice {number}", field="number")
    issued = state.invoice
    if issued.kind == "credit_note":
        raise DomainError("a credit note is not cancelled; issue a new invoice instead", field="number")
    if state.cancelled_by:
        raise DomainError(f"the invoice is cancelled already by {state.cancelled_by}", field="number")
    if state.payments:
        raise DomainError("the invoice has payments; refund them before cancelling", field="number")
    credit = number_of(series)
    lines = [
        line.model_copy(update={"amount_cents": -line.amount_cents, "quantity": -line.quantity})
        for line in issued.lines
    ]
    note = ie.InvoiceIssued(
        number=credit,
        series=series.series,
        kind="credit_note",
        debtor=issued.debtor,
        issuer=issued.issuer,
        issue_date=issue_date,
        period_start=issued.period_start,
        period_end=issued.period_end,
        due_date=issue_date,
        lines=lines,
        total_cents=-issued.total_cents,
        vat=issued.vat,
        billing_key=issued.billing_key,
        cancels=number,
        note=f"Storno der Rechnung {number}: {cmd.reason}",
    )
    release = [ie.BillingReleased(number=number, credit_note=credit)] if billing.number == number else []
    appends = [
        Append(series_stream(series.series), series.version, (ie.NumberAssigned(number=credit),), now),
        Append(
            invoice_stream(number), state.version, (ie.InvoiceCancelled(credit_note=credit, reason=cmd.reason),), now
        ),
        Append(invoice_stream(credit), 0, (note,), now),
    ]
    if release:
        appends.insert(1, Append(billing_stream(issued.billing_key), billing.version, tuple(release), now))
    return Decision(tuple(appends), {"number": number, "credit_note": credit, "total_cents": note.total_cents})


class PaymentIn(Value):
    amount_cents: int = Field(gt=0)
    paid_on: Day
    reference: Text | None = Field(default=None, max_length=140)


def decide_payment(state: InvoiceState | None, number: str, cmd: PaymentIn, payment_id: str, now: datetime) -> Decision:
    if state is None:
        raise NotFound(f"unknown invoice {number}", field="number")
    if state.invoice.kind == "credit_note" or state.cancelled_by:
        raise DomainError("payments are recorded against open invoices only", field="number")
    if cmd.amount_cents > state.open_cents:
        raise DomainError(f"the payment exceeds the open amount of {state.open_cents} cents", field="amount_cents")
    event = ie.PaymentRecorded(payment_id=payment_id, recorded_at=now, **cmd.model_dump())
    return Decision(
        (Append(invoice_stream(number), state.version, (event,), now),),
        {"number": number, "payment_id": payment_id, "open_cents": state.open_cents - cmd.amount_cents},
    )
