"""Each Lambda handler module reads its settings at import: a missing or empty table name
fails the import (a cold start) with pydantic's ValidationError naming the variable, instead
of failing on the first request. With all variables set, the wiring uses those tables."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

FUNCTIONS = ["intake", "projector", "audit"]
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
        aws.events_table, aws.commands_table, aws.read_model_table)
    assert module.wiring.client.meta.region_name == "eu-central-1"
    assert callable(module.handler)
