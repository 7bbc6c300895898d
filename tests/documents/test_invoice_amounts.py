"""Money and quantities as the documents show them, and the totals check."""

from __future__ import annotations

from decimal import Decimal

import pytest
from invoice_builders import company_invoice, credit_note, family_invoice, municipality_invoice

from notfall.documents.amounts import decimal_cents, euro, german_number, quantity, totals, vat_cents
from notfall.domain.invoice_events import Vat


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0,00 €"),
        (5, "0,05 €"),
        (1425, "14,25 €"),
        (123456, "1.234,56 €"),
        (332000, "3.320,00 €"),
        (100000000, "1.000.000,00 €"),
        (-3638, "-36,38 €"),
        (-5, "-0,05 €"),
    ],
)
def test_euro_is_german_and_exact(cents, text):
    assert euro(cents) == text


@pytest.mark.parametrize(("cents", "value"), [(0, "0.00"), (1250, "12.50"), (-788, "-7.88"), (154105, "1541.05")])
def test_decimal_cents_has_two_places(cents, value):
    assert str(decimal_cents(cents)) == value


def test_quantities_and_numbers():
    assert quantity(Decimal("4.75")) == "4,75"
    assert quantity(Decimal("2.50")) == "2,5"
    assert quantity(Decimal("3320")) == "3.320"
    assert quantity(Decimal("1E+1")) == "10"
    assert quantity(Decimal("-1.25")) == "-1,25"
    assert german_number(Decimal("1234.5"), 2) == "1.234,50"


def test_vat_is_rounded_half_up_on_the_net():
    standard = Vat(category="S", rate=Decimal("19"), exemption_reason=None)
    assert vat_cents(129500, standard) == 24605
    assert vat_cents(50, standard) == 10  # 9.5 -> 10
    assert vat_cents(-50, standard) == -10  # symmetric for credit notes
    assert vat_cents(129500, Vat()) == 0


@pytest.mark.parametrize(
    ("build", "net", "tax"),
    [
        (family_invoice, 3638, 0),
        (company_invoice, 129500, 24605),
        (municipality_invoice, 332000, 0),
        (credit_note, -3638, 0),
    ],
)
def test_hand_calculated_totals(build, net, tax):
    sums = totals(build())
    assert (sums.net_cents, sums.vat_cents, sums.gross_cents) == (net, tax, net + tax)


def test_figures_that_do_not_add_up_are_refused():
    wrong = family_invoice().model_copy(update={"total_cents": 3639})
    with pytest.raises(ValueError, match="total_cents 3639"):
        totals(wrong)
    net_only = company_invoice().model_copy(update={"total_cents": 129500})  # VAT forgotten
    with pytest.raises(ValueError, match="plus VAT 24605"):
        totals(net_only)
    with pytest.raises(ValueError, match="no lines"):
        totals(family_invoice().model_copy(update={"lines": [], "total_cents": 0}))


def test_vat_treatment_must_be_coherent():
    with pytest.raises(ValueError, match="rate 0"):
        totals(family_invoice().model_copy(update={"vat": Vat(category="E", rate=Decimal("7"))}))
    with pytest.raises(ValueError, match="exemption reason"):
        totals(family_invoice().model_copy(update={"vat": Vat(category="E", exemption_reason=None)}))
    with pytest.raises(ValueError, match="above 0"):
        totals(family_invoice().model_copy(update={"vat": Vat(category="S", rate=Decimal("0"))}))
