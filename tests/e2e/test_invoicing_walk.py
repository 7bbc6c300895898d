"""The month's invoicing from the local stack, as a new user does it after `make run`: run the
family and partner invoice runs over HTTP, find the invoices, download a family's PDF and a
municipality's EN 16931 e-invoice from the presigned links (moto's S3), and check them against
amounts worked out by hand from infra/local/demo_data.json. Then: a rerun issues nothing, a
credit note releases a period and the next run bills it again with the next number, and a
payment shows in the debtor's open items. The demo's dates move with the day it is loaded
(`DemoCalendar`): the periods, days and pro-rated fees below are derived from its calendar.
"""

from __future__ import annotations

import calendar as months
import io
import urllib.request
from datetime import date

import pytest
from lxml import etree
from pypdf import PdfReader

from notfall.api.invoice_schedule import previous_period
from notfall.clock import system_clock
from notfall.documents.validate import rule_failures, schema_errors

pytestmark = pytest.mark.e2e

CII = {
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
}

# --- by hand, from demo_data.json ----------------------------------------------------------
# The data is written for a load in late November 2026: October 2026 is the month to invoice,
# 2025 the year. Loaded on another day, the month is the one before it (moved by whole weeks,
# Berlin times of day kept, so the hours stay) and the year the one before it.
# Prices: standard 5.00 EUR, partner 3.00 EUR until the day before the change (written 16 Oct)
# and 3.50 EUR from it; care time in started quarter hours per session; a transport trip 8.00 EUR flat.
#
# Familie Kaya (a parent works at Leine Logistik, a partner company: partner rate)
#   "13 Oct", 07:30-12:10: 280 min -> 19 quarter hours = 285 min = 4.75 h x 3.00 EUR = 14.25 EUR
#   "20 Oct", 08:00-12:50: 290 min -> 20 quarter hours = 300 min = 5.00 h x 3.50 EUR = 17.50 EUR
#   "20 Oct", a transport trip                                                       =  8.00 EUR
KAYA_CENTS = 1425 + 1750 + 800  # 39.75 EUR
# Familie Nowak (wohnhaft in Hannover, the city itself: standard rate)
#   "22 Oct", 14:00-17:40: 220 min -> 15 quarter hours = 225 min = 3.75 h x 5.00 EUR = 18.75 EUR
NOWAK_CENTS = 1875
# Partner companies, monthly flat fee of 100.00 EUR:
#   Leine Logistik, contract since 2015: the whole month                             = 100.00 EUR
#   Bäckerei Am Hafen, contract from the day of the price change: the days from it to the month's
#   end over the month's days, half up to a cent (written: 16 of 31 days, 100.00 x 16 / 31 -> 51.61 EUR)
LEINE_CENTS = 10000
# The year before, municipalities 1.00 EUR per child up to 10, companies by headcount band:
#   Garbsen, contract since 2016, 5,400 children: 5,400 x 1.00                  = 5,400.00 EUR
#   Hemmingen, contract from 1 April, 1,800 children: 1 Apr to 31 Dec = 275 days of the year's
#     365 or 366 (written: 1,800.00 x 275 / 365 = 1,356.1643... -> 1,356.16 EUR)
#   Klinikum Am Maschsee, 9,000 employees: the top band (1,000 and more)        = 2,400.00 EUR
GARBSEN_CENTS, KLINIKUM_CENTS = 540000, 240000


def half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def baeckerei_cents(first_day: date) -> int:
    days = months.monthrange(first_day.year, first_day.month)[1]
    assert half_up(10000 * 16, 31) == 5161  # as written for October 2026
    return half_up(10000 * (days - first_day.day + 1), days)


def hemmingen_cents(year: int) -> int:
    assert half_up(180000 * 275, 365) == 135616  # as written for 2025
    return half_up(180000 * 275, 366 if months.isleap(year) else 365)


def ok(reply: tuple[int, object], status: int = 200):
    got, body = reply
    assert got == status, body
    return body


def download(url: str) -> bytes:
    """A presigned link, fetched like a browser would (moto's S3 over plain HTTP)."""
    assert "X-Amz-Expires=300" in url  # valid 5 minutes (moto itself does not enforce the expiry)
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read()


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def issued_to(report: dict) -> dict[str, dict]:
    return {item["debtor_id"]: item for item in report["issued"]}


def listed_in(api, report: dict) -> dict[str, dict]:
    """The invoices of the month a run issued its invoices in, by number."""
    return {i["number"]: i for i in ok(api.get(f"/invoices?month={report['issue_date'][:7]}"))["invoices"]}


def test_the_months_invoicing_by_hand(api, stack, demo):
    kaya, nowak = demo["families"]["Familie Kaya (demo)"], demo["families"]["Familie Nowak (demo)"]
    calendar = demo["calendar"]
    period, year = calendar.month_to_invoice, str(calendar.year(2025))

    # --- the runs ---------------------------------------------------------------------------
    families = ok(api.post("/invoice-runs", {"kind": "family", "period": period}))
    assert families["refused"] == [] and families["document_errors"] == []
    by_family = issued_to(families)
    assert (by_family[kaya]["total_cents"], by_family[nowak]["total_cents"]) == (KAYA_CENTS, NOWAK_CENTS)
    monthly = issued_to(ok(api.post("/invoice-runs", {"kind": "partner-monthly", "period": period})))
    assert monthly["p-leine-logistik"]["total_cents"] == LEINE_CENTS
    assert monthly["p-baeckerei-am-hafen"]["total_cents"] == baeckerei_cents(calendar.day("2026-10-16"))
    yearly_report = ok(api.post("/invoice-runs", {"kind": "partner-yearly", "period": year}))
    yearly = issued_to(yearly_report)
    assert yearly["m-garbsen"]["total_cents"] == GARBSEN_CENTS
    assert yearly["m-hemmingen"]["total_cents"] == hemmingen_cents(int(year))
    assert yearly["p-klinikum-demo"]["total_cents"] == KLINIKUM_CENTS
    stack.drain()

    kaya_number, nowak_number = by_family[kaya]["number"], by_family[nowak]["number"]
    garbsen_number = yearly["m-garbsen"]["number"]
    listed, listed_yearly = listed_in(api, families), listed_in(api, yearly_report)
    assert listed[kaya_number]["status"] == "open" and listed[kaya_number]["period"] == period
    assert listed_yearly[garbsen_number]["debtor_name"] == "Stadt Garbsen (demo)"
    assert listed_yearly[garbsen_number]["period"] == year
    invoice = ok(api.get(f"/invoices/{kaya_number}"))
    lines = sorted(
        (line["service_date"], line["kind"], line["unit_price_cents"], line["amount_cents"])
        for line in invoice["invoice"]["lines"]
    )  # the lines go by case, and case ids are random
    day13, day20 = calendar.day("2026-10-13").isoformat(), calendar.day("2026-10-20").isoformat()
    assert lines == [(day13, "care", 300, 1425), (day20, "care", 350, 1750), (day20, "transport", 800, 800)]

    # --- the family's PDF -------------------------------------------------------------------
    links = ok(api.get(f"/invoices/{kaya_number}/documents"))
    assert links["xml"] is None  # families get the PDF only
    text = pdf_text(download(links["pdf"]))
    assert kaya_number in text
    assert "Familie Kaya (demo)" in text and "Lister Meile 27" in text and "30161 Hannover" in text
    assert "Gesamtbetrag 39,75 €" in text
    assert "4,75 Std. 3,00 € 14,25 €" in text and "5 Std. 3,50 € 17,50 €" in text  # the price change mid-month
    assert "Steuerfrei nach § 4 Nr. 25 UStG" in text

    # --- a municipality's e-invoice ---------------------------------------------------------
    links = ok(api.get(f"/invoices/{garbsen_number}/documents"))
    xml = download(links["xml"])
    assert schema_errors(xml) == []
    assert rule_failures(xml) == []
    doc = etree.fromstring(xml)
    assert doc.findtext("rsm:ExchangedDocument/ram:ID", namespaces=CII) == garbsen_number
    settlement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
    total = doc.find(f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation", CII)
    assert total.findtext("ram:GrandTotalAmount", namespaces=CII) == "5400.00"
    assert total.findtext("ram:DuePayableAmount", namespaces=CII) == "5400.00"
    agreement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
    assert doc.findtext(f"{agreement}/ram:BuyerReference", namespaces=CII) == "03241005-DEMO-01"  # Leitweg-ID
    assert doc.findtext(f"{agreement}/ram:BuyerTradeParty/ram:Name", namespaces=CII) == "Stadt Garbsen (demo)"
    assert "Garbsen" in pdf_text(download(links["pdf"]))

    # --- the same runs again: nothing new ---------------------------------------------------
    again = ok(api.post("/invoice-runs", {"kind": "family", "period": period}))
    assert again["issued"] == []
    assert {f"family:{kaya}:{period}", f"family:{nowak}:{period}"} <= set(again["already_billed"])
    assert ok(api.post("/invoice-runs", {"kind": "partner-yearly", "period": year}))["issued"] == []
    # the schedule runs the same code for the previous month (the stack's clock is the process's)
    before = previous_period("family", system_clock())
    fired = ok(api.post("/_local/schedules/FamilyInvoices"))["result"]
    assert fired["period"] in {before, previous_period("family", system_clock())}
    assert fired["document_errors"] == [] and (fired["period"] != period or fired["issued"] == [])

    # --- a credit note releases the period; the next run bills it with the next number -------
    credit = ok(api.post(f"/invoices/{nowak_number}/cancel", {"reason": "Sitzung zu lang erfasst"}), 201)
    credit_number = credit["credit_note"]
    assert credit_number.startswith("S-")
    stack.drain()
    assert ok(api.get(f"/invoices/{nowak_number}"))["status"] == "cancelled"
    credit_text = pdf_text(download(ok(api.get(f"/invoices/{credit_number}/documents"))["pdf"]))
    assert "Gutschrift" in credit_text and nowak_number in credit_text and "-18,75 €" in credit_text
    rebilled = ok(api.post("/invoice-runs", {"kind": "family", "period": period}))
    [reissued] = rebilled["issued"]
    assert (reissued["debtor_id"], reissued["total_cents"]) == (nowak, NOWAK_CENTS)
    # Gapless: the number follows the last one of its series in the log, whatever other runs
    # (the schedule above, other tests) issued before it.
    stack.drain()
    series, number = reissued["number"].rsplit("-", 1)
    earlier = [
        int(n.rsplit("-", 1)[1])
        for n in listed_in(api, rebilled)
        if n.startswith(f"{series}-") and n != reissued["number"]
    ]
    assert int(number) == max(earlier, default=0) + 1

    # --- a payment and the open items ---------------------------------------------------------
    paid = ok(
        api.post(
            f"/invoices/{kaya_number}/payments",
            {"amount_cents": 2000, "paid_on": families["issue_date"], "reference": kaya_number},
        ),
        201,
    )
    assert paid["open_cents"] == KAYA_CENTS - 2000
    stack.drain()
    kaya_items = ok(api.get(f"/debtors/{kaya}/open-items"))
    assert kaya_items["open_cents"] == 1975 and [i["number"] for i in kaya_items["items"]] == [kaya_number]
    nowak_items = ok(api.get(f"/debtors/{nowak}/open-items"))
    assert nowak_items["open_cents"] == NOWAK_CENTS  # only the new invoice: the cancelled one is not open
    assert [i["number"] for i in nowak_items["items"]] == [rebilled["issued"][0]["number"]]
