# Proves text fields refuse control and bidi/format characters with 422 naming the field, while notes keep \n and \t.
from __future__ import annotations

import json

import pytest
from api_harness import Api, sample_body


@pytest.fixture
def case_id(api: Api) -> str:
    return api.open_case()


def _refused(api: Api, reply, field: str) -> None:
    assert reply.status == 422, reply.body
    assert reply.fields() == [field], reply.body
    assert "U+" in reply.body["errors"][0]["problem"]


def test_partner_billing_name_with_nul_and_bell_is_422(api: Api) -> None:
    assert api.call("partner_register").status == 201
    before = api.log_length()
    body = sample_body("partner_billing")
    body["address"]["name"] = "Leine\u0000Logistik\u0007 GmbH"
    _refused(api, api.call("partner_billing", body=body), "address.name")
    assert api.log_length() == before


def test_family_name_with_right_to_left_override_is_422(api: Api) -> None:
    before = api.log_length()
    body = {**sample_body("family_billing_address"), "name": "Familie \u202eBrenner"}
    _refused(api, api.call("family_billing_address", body=body), "name")
    assert api.log_length() == before


@pytest.mark.parametrize(
    "char",
    [
        "\u0000",
        "\u001b",
        "\u007f",
        "\u0085",
        "\u009b",
        "\u202a",
        "\u202d",
        "\u2066",
        "\u2069",
        "\u200b",
        "\ufeff",
        "\u2028",
        "\n",
        "\t",
    ],
)
def test_partner_name_refuses_each_control_and_format_character(api: Api, char: str) -> None:
    body = {**sample_body("partner_register"), "name": f"Leine{char}Logistik"}
    _refused(api, api.call("partner_register", body=body), "name")
    assert api.log_length() == 0


def test_a_lone_surrogate_in_a_place_is_422(api: Api, case_id: str) -> None:
    before = api.log_length()
    # the JSON escape \ud800 decodes to a lone surrogate, which no store or document can encode
    text = json.dumps(sample_body("need")).replace('"municipality": "', '"municipality": "\\ud800', 1)
    reply = api.call("need", case_id=case_id, body=text)
    assert reply.status == 422, reply.body
    assert reply.fields() == ["municipality"], reply.body
    assert api.log_length() == before


def test_a_note_keeps_newline_and_tab_but_not_other_controls(api: Api, case_id: str) -> None:
    body = {**sample_body("consultation"), "notes": "Mutter im Krankenhaus.\n\tVater auf Montage."}
    reply = api.call("consultation", case_id=case_id, body=body)
    assert reply.status == 200, reply.body
    body["notes"] = "Mutter\u0007 im Krankenhaus"
    _refused(api, api.call("consultation", case_id=case_id, body=body), "notes")


def test_names_in_other_scripts_and_with_joiners_are_accepted(api: Api) -> None:
    body = {**sample_body("partner_register"), "name": "Leine Logistik \u0645\u0631\u06a9\u0632 \u200cغ 👩\u200d👧 Øre"}
    assert api.call("partner_register", body=body).status == 201
