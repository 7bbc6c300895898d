"""Each Lambda handler module reads its settings at import: a missing or empty table name
fails the import (a cold start) with pydantic's ValidationError naming the variable, instead
of failing on the first request. With all variables set, the wiring uses those tables. The care
function reads the care rules the same way: a value that is no sensible whole number fails the
import too. The invoice function needs its documents bucket and sane billing settings; the
intake function assesses eligibility with the configured city. Each function reads only the
settings it uses: a bad billing setting never stops the hotline, nor a bad eligibility
setting the invoicing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from notfall.domain.fees import HeadcountBand

FUNCTIONS = ["intake", "projector", "audit", "assign", "invoice"]
API_SAMPLES = Path(__file__).resolve().parents[2] / "events" / "api"
# Issuer and VAT settings only the invoice function reads (the rounding is read by intake too:
# its hour reports show billed hours).
BAD_BILLING = {"ISSUER_IBAN": "not an iban", "VAT_CATEGORY": "X", "PARTNER_HEADCOUNT_BANDS": "bis 49: 120 EUR"}
VARIABLES = ["EVENTS_TABLE", "COMMANDS_TABLE", "READ_MODEL_TABLE"]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("variable", VARIABLES)
def test_missing_table_name_fails_at_import(aws, monkeypatch, function, variable):
    monkeypatch.delenv(variable)
    with pytest.raises(ValidationError) as err:
        aws.load_function(function)
    assert [e["loc"] for e in err.value.errors()] == [(variable,)]
    assert err.value.errors()[0]["type"] == "missing"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_empty_table_name_fails_at_import(aws, monkeypatch, function):
    monkeypatch.setenv("EVENTS_TABLE", "")
    with pytest.raises(ValidationError) as err:
        aws.load_function(function)
    assert err.value.errors()[0]["loc"] == ("EVENTS_TABLE",)
    assert err.value.errors()[0]["type"] == "string_too_short"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_handler_wires_the_tables_from_the_environment(aws, function):
    module = aws.load_function(function)
    settings = module.wiring.settings
    assert (settings.events_table, settings.commands_table, settings.read_model_table) == (
        aws.events_table,
        aws.commands_table,
        aws.read_model_table,
    )
    assert module.wiring.client.meta.region_name == "eu-central-1"
    assert callable(module.handler)


def test_the_care_function_reads_its_rules_from_the_environment(aws):
    module = aws.load_function("assign", CARE_TARGET_MINUTES="30", TRANSPORT_PRICE_CENTS="950", FIRST_AID_YEARS="3")
    assert module.rules.target_time == timedelta(minutes=30)
    assert module.rules.transport_price_cents == 950 and module.rules.clearance.first_aid_years == 3
    assert module.care.rules is module.rules


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VOLUNTEER_ALLOWANCE_CENTS", "10.50"),  # no fractions of cents
        ("TRAVEL_CENTS_PER_KM", "-1"),
        ("CARE_OFFER_TTL_MINUTES", "0"),
        ("POLICE_CLEARANCE_YEARS", "fuenf"),
    ],
)
def test_a_care_rule_that_is_no_sensible_whole_number_fails_at_import(aws, variable, value):
    with pytest.raises(ValidationError) as err:
        aws.load_function("assign", **{variable: value})
    assert [e["loc"] for e in err.value.errors()] == [(variable,)]


def test_the_invoice_function_needs_its_documents_bucket(aws, monkeypatch):
    monkeypatch.delenv("DOCUMENTS_BUCKET")
    with pytest.raises(ValueError, match="DOCUMENTS_BUCKET is not set"):
        aws.load_function("invoice")


def test_the_invoice_function_needs_its_statements_bucket(aws, monkeypatch):
    monkeypatch.delenv("STATEMENTS_BUCKET")
    with pytest.raises(ValueError, match="STATEMENTS_BUCKET is not set"):
        aws.load_function("invoice")


def test_the_invoice_function_reads_the_billing_settings(aws):
    module = aws.load_function(
        "invoice",
        VAT_CATEGORY="S",
        VAT_RATE="19",
        VAT_EXEMPTION_REASON="",
        BILLING_ROUNDING_MINUTES="30",
        ISSUER_NAME="Notfallbetreuung Test",
        PARTNER_HEADCOUNT_BANDS="1-9:6000,10+:90000",
    )
    assert (module.invoicing.vat.category, module.invoicing.vat.rate) == ("S", 19)
    assert module.invoicing.headcount_bands == (HeadcountBand(9, 6_000), HeadcountBand(None, 90_000))
    assert module.invoicing.rounding.unit_minutes == 30
    assert module.invoicing.issuer.address.name == "Notfallbetreuung Test"
    assert module.invoicing.document_store.bucket == aws.documents_bucket
    assert callable(module.run_handler)


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"VAT_CATEGORY": "E", "VAT_RATE": "19"}, None),
        ({"VAT_CATEGORY": "X"}, "VAT_CATEGORY"),
        ({"BILLING_ROUNDING_MINUTES": "0"}, "BILLING_ROUNDING_MINUTES"),
        ({"ISSUER_IBAN": "not an iban"}, "ISSUER_IBAN"),
        ({"PARTNER_HEADCOUNT_BANDS": "1-49:12000"}, "PARTNER_HEADCOUNT_BANDS"),
    ],
)
def test_inconsistent_billing_settings_fail_at_import(aws, variables, field):
    with pytest.raises(ValidationError) as err:
        aws.load_function("invoice", **variables)
    if field:
        assert [e["loc"] for e in err.value.errors()] == [(field,)]


def test_the_intake_function_assesses_eligibility_for_the_configured_city(aws):
    module = aws.load_function("intake", CITY_MUNICIPALITY="Hannover", NON_ENTITLED="standard")
    assert module.eligibility.city == "hannover" and module.eligibility.non_entitled == "standard"


def test_the_intake_function_starts_and_answers_with_malformed_billing_settings(aws, lambda_context):
    module = aws.load_function("intake", **BAD_BILLING)
    call = json.loads((API_SAMPLES / "call_started.json").read_text(encoding="utf-8"))
    reply = module.handler(call, lambda_context)
    assert reply["statusCode"] == 201, reply["body"]
    assert json.loads(reply["body"])["opened"] is True


def test_the_intake_function_fails_at_import_on_a_malformed_eligibility_setting(aws):
    with pytest.raises(ValidationError) as err:
        aws.load_function("intake", NON_ENTITLED="charge")
    assert [e["loc"] for e in err.value.errors()] == [("NON_ENTITLED",)]


def test_the_invoice_function_prices_each_day_by_the_configured_eligibility(aws):
    # Invoices decide each session's tier for its day, so the invoice function reads who is entitled.
    module = aws.load_function("invoice", CITY_MUNICIPALITY="Hannover", NON_ENTITLED="standard")
    assert module.invoicing.eligibility.city == "hannover" and module.invoicing.eligibility.non_entitled == "standard"
    with pytest.raises(ValidationError):
        aws.load_function("invoice", NON_ENTITLED="charge")
