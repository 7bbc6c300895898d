"""Realistic `InvoiceIssued` events built by hand, with totals calculated by hand.

Fictional people, companies and numbers. The issuer's IBAN is the well-known example IBAN
(valid check digits).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from notfall.domain.invoice_events import Address, Debtor, InvoiceIssued, Issuer, Line, Vat

ISSUER = Issuer(
    address=Address(
        name="Notfallbetreuung Region Hannover gGmbH (Demo)",
        street="Osterstraße 12",
        postcode="30159",
        city="Hannover",
        email="rechnungen@notfall-demo.example",
    ),
    tax_number="25/206/12345",
    iban="DE89 3704 0044 0532 0130 00",
    bic="COBADEFFXXX",
    bank="Commerzbank Hannover",
    contact="Anna Berger",
    phone="+49 511 5550100",
)

EXEMPT = Vat()  # E, 0 %, "Steuerfrei nach § 4 Nr. 25 UStG"


def family_invoice() -> InvoiceIssued:
    """November care for one family: the partner rate changes on 16 Nov (3,00 -> 3,50 EUR),
    one day at the standard rate, and a transport.

    1. 05.11. partner 3,00: cared 285 min, billed 285 = 4,75 h x 3,00 = 14,25
    2. 18.11. partner 3,50: cared 130 min, billed 135 = 2,25 h x 3,50 = 7,875 -> 7,88 (half up)
    3. 18.11. transport Kita -> home, 1 x 8,00 = 8,00
    4. 25.11. standard 5,00: cared 61 min, billed 75 = 1,25 h x 5,00 = 6,25
    total 14,25 + 7,88 + 8,00 + 6,25 = 36,38 EUR
    """
    basis_partner = "Mutter beschäftigt bei Partnerbetrieb Kessler Logistik GmbH (Vertrag PB-017)"
    return InvoiceIssued(
        number="R-2026-00042",
        series="R",
        kind="invoice",
        debtor=Debtor(
            debtor_id="fam-1a2b",
            kind="family",
            address=Address(
                name="Katrin Schröder",
                street="Lindenallee 7",
                postcode="30519",
                city="Hannover",
                email="k.schroeder@example.org",
            ),
        ),
        issuer=ISSUER,
        issue_date=date(2026, 12, 1),
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        due_date=date(2026, 12, 15),
        lines=[
            Line(
                line_id="care-s1",
                kind="care",
                description="Betreuung Mia (4 J.) im Haushalt, 08:02–12:47 Uhr",
                service_date=date(2026, 11, 5),
                quantity=Decimal("4.75"),
                unit="HUR",
                unit_price_cents=300,
                amount_cents=1425,
                tier="partner",
                basis=basis_partner,
                case_id="case-77",
                ref="session-s1",
                cared_minutes=285,
                billed_minutes=285,
            ),
            Line(
                line_id="care-s2",
                kind="care",
                description="Betreuung Mia (4 J.) im Haushalt, 14:05–16:15 Uhr",
                service_date=date(2026, 11, 18),
                quantity=Decimal("2.25"),
                unit="HUR",
                unit_price_cents=350,
                amount_cents=788,
                tier="partner",
                basis=basis_partner,
                case_id="case-81",
                ref="session-s2",
                cared_minutes=130,
                billed_minutes=135,
            ),
            Line(
                line_id="trip-t1",
                kind="transport",
                description="Fahrdienst: Kita Sonnenschein → Wohnung",
                service_date=date(2026, 11, 18),
                quantity=Decimal("1"),
                unit="C62",
                unit_price_cents=800,
                amount_cents=800,
                case_id="case-81",
                ref="trip-t1",
            ),
            Line(
                line_id="care-s3",
                kind="care",
                description="Betreuung Mia (4 J.) im Haushalt, 17:00–18:01 Uhr",
                service_date=date(2026, 11, 25),
                quantity=Decimal("1.25"),
                unit="HUR",
                unit_price_cents=500,
                amount_cents=625,
                tier="standard",
                basis="Betreuung durch die Großmutter beauftragt: kein Partnerbezug",
                case_id="case-90",
                ref="session-s3",
                cared_minutes=61,
                billed_minutes=75,
            ),
        ],
        total_cents=3638,
        vat=EXEMPT,
        billing_key="family:fam-1a2b:2026-11",
    )


def company_invoice() -> InvoiceIssued:
    """A partner company's monthly flat fee, pro-rated: the contract starts on 10 Nov.

    1.850,00 EUR a month x 21/30 days = 1.295,00 EUR net; this company contract is configured
    as standard-rated: 19 % VAT = 246,05; total 1.541,05 EUR.
    """
    return InvoiceIssued(
        number="P-2026-00007",
        series="P",
        kind="invoice",
        debtor=Debtor(
            debtor_id="partner-kessler",
            kind="company",
            vat_id="DE811907980",
            buyer_reference="PO-4500012345",
            address=Address(
                name="Kessler Logistik GmbH",
                street="Am Lindener Hafen 21",
                postcode="30453",
                city="Hannover",
                email="kreditoren@kessler.example",
            ),
        ),
        issuer=ISSUER.model_copy(update={"vat_id": "DE123456788"}),
        issue_date=date(2026, 12, 1),
        period_start=date(2026, 11, 10),
        period_end=date(2026, 11, 30),
        due_date=date(2026, 12, 31),
        lines=[
            Line(
                line_id="fee-2026-11",
                kind="fee",
                description="Monatspauschale Partnervertrag PB-017, anteilig 10.11.–30.11.2026 (21/30 Tage)",
                service_date=None,
                quantity=Decimal("1"),
                unit="C62",
                unit_price_cents=129500,
                amount_cents=129500,
                basis="1.850,00 EUR monatlich × 21/30",
                ref="contract-PB-017",
            ),
        ],
        total_cents=154105,
        vat=Vat(category="S", rate=Decimal("19"), exemption_reason=None),
        billing_key="company:partner-kessler:2026-11",
    )


def municipality_invoice() -> InvoiceIssued:
    """A partner municipality's annual amount: 1 EUR per child under 10 (3.320 children)."""
    return InvoiceIssued(
        number="K-2026-00003",
        series="K",
        kind="invoice",
        debtor=Debtor(
            debtor_id="partner-garbsen",
            kind="municipality",
            buyer_reference="03241001-12345-67",
            address=Address(
                name="Stadt Garbsen, Fachbereich Jugend und Familie",
                street="Rathausplatz 1",
                postcode="30823",
                city="Garbsen",
                email="rechnungseingang@garbsen.example",
            ),
        ),
        issuer=ISSUER,
        issue_date=date(2026, 1, 15),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        due_date=date(2026, 2, 14),
        lines=[
            Line(
                line_id="fee-2026",
                kind="fee",
                description="Jahresbetrag Partnerkommune 2026: Kinder unter 10 Jahren mit Hauptwohnsitz",
                quantity=Decimal("3320"),
                unit="C62",
                unit_price_cents=100,
                amount_cents=332000,
                basis="1,00 EUR je Kind, Stichtag 31.12.2025",
                ref="contract-PK-004",
            ),
        ],
        total_cents=332000,
        vat=EXEMPT,
        billing_key="municipality:partner-garbsen:2026",
    )


def credit_note(*, negative: bool = True) -> InvoiceIssued:
    """Cancels the family invoice in full: its lines mirrored (negative amounts, a
    "Stornorechnung"), or, with negative=False, the same lines with positive amounts."""
    original = family_invoice()
    sign = -1 if negative else 1
    lines = [
        line.model_copy(
            update={
                "line_id": f"storno-{line.line_id}",
                "quantity": sign * line.quantity,
                "amount_cents": sign * line.amount_cents,
            }
        )
        for line in original.lines
    ]
    return original.model_copy(
        update={
            "number": "G-2026-00005",
            "series": "G",
            "kind": "credit_note",
            "issue_date": date(2026, 12, 9),
            "due_date": date(2026, 12, 23),
            "lines": lines,
            "total_cents": sign * original.total_cents,
            "cancels": original.number,
            "note": "Storno: die Betreuung am 25.11. war ein Fehleintrag; eine berichtigte Rechnung folgt.",
            "billing_key": original.billing_key,
        }
    )


ALL = {
    "family": family_invoice,
    "company": company_invoice,
    "municipality": municipality_invoice,
    "credit_note": credit_note,
    "credit_note_positive": lambda: credit_note(negative=False),
}
