"""Which characters text fields accept (docs/domain-rules.md, "Requests"): refused on input, read as stored."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from notfall.domain.envelope import load_event
from notfall.domain.families import FamilyBillingSet
from notfall.domain.invoice_events import Address

ADDRESS = {"name": "Familie Brenner", "street": "Hildesheimer Straße 88", "postcode": "30880", "city": "Laatzen"}


def test_an_address_with_a_control_character_is_refused_naming_field_and_character() -> None:
    with pytest.raises(ValidationError) as err:
        Address.model_validate({**ADDRESS, "street": "Hildesheimer\u0000 Straße 88"})
    (error,) = err.value.errors()
    assert error["loc"] == ("street",)
    assert "U+0000 at position 12" in error["msg"]


def test_an_event_already_in_the_log_is_read_as_stored() -> None:
    # An event written before the rule still folds: the log is never rewritten, only new input is refused.
    event = load_event(
        "FamilyBillingSet", FamilyBillingSet.schema_version, {"address": {**ADDRESS, "name": "A\u202eB"}}
    )
    assert isinstance(event, FamilyBillingSet)
    assert event.address.name == "A\u202eB"
