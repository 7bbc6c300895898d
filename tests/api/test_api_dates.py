# Proves dates and timestamps are ISO strings within the years 2000-2100 (docs/domain-rules.md, "Requests").
from __future__ import annotations

from typing import Any

import pytest
from api_harness import Api, sample_body


def _refused(api: Api, name: str, body: dict[str, Any], field: str, **changes: Any) -> None:
    before = api.log_length()
    reply = api.call(name, body=body, **changes)
    assert reply.status == 422, reply.body
    assert reply.fields() == [field], reply.body
    assert api.log_length() == before


@pytest.mark.parametrize(
    "joined_on", [0, 1_700_000_000, "0", "1700000000", "0262-01-01", "1999-12-31", "2101-01-01", "2015-01-01T00:00"]
)
def test_partner_joining_date_must_be_an_iso_day_of_2000_to_2100(api: Api, joined_on: Any) -> None:
    _refused(api, "partner_register", {**sample_body("partner_register"), "joined_on": joined_on}, "joined_on")


@pytest.mark.parametrize("joined_on", ["2000-01-01", "2100-12-31"])
def test_the_bounds_themselves_are_accepted(api: Api, joined_on: str) -> None:
    reply = api.call("partner_register", body={**sample_body("partner_register"), "joined_on": joined_on})
    assert reply.status == 201, reply.body


@pytest.mark.parametrize("at", [0, 1772431924, "1772431924", "1970-01-01T00:00:00Z", "2101-01-01T00:00:00+01:00"])
def test_call_time_must_be_an_iso_timestamp_of_2000_to_2100(api: Api, at: Any) -> None:
    _refused(api, "call_started", {**sample_body("call_started"), "at": at}, "at")


def test_contract_and_tariff_days_are_bounded_too(api: Api) -> None:
    assert api.call("partner_register").status == 201
    _refused(api, "partner_contract", {**sample_body("partner_contract"), "start": 0}, "start")
    _refused(api, "tariff_set", {**sample_body("tariff_set"), "valid_from": "2101-01-01"}, "valid_from")
