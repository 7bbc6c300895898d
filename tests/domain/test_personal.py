"""The declaration of personal fields (notfall.domain.personal) covers every field of every
event type, names no field that does not exist, and docs/personal-data.md is generated from it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from notfall.domain import events as ev
from notfall.domain.envelope import event_types
from notfall.domain.families import FamilyBillingSet
from notfall.domain.invoice_events import Address
from notfall.domain.personal import (
    IDS,
    NOT_PERSONAL,
    PERSONAL,
    Category,
    Personal,
    by_rule,
    classify,
    document,
    leaves,
    main,
    personal_values,
)

ROOT = Path(__file__).resolve().parents[2]
EVENT_TYPES = sorted(event_types())


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_field_of_every_event_is_classified(event_type: str) -> None:
    unclassified = [
        path for path, annotation in leaves(event_types()[event_type]) if classify(event_type, path, annotation) is None
    ]
    assert unclassified == [], f"declare these fields of {event_type} in notfall.domain.personal"


def test_a_new_text_field_fails_until_it_is_declared() -> None:
    class Scribbled(ev.Value):
        case_id: str
        amount_cents: int
        remark: str | None = None

    verdicts = {path: classify("Scribbled", path, annotation) for path, annotation in leaves(Scribbled)}
    assert verdicts == {"case_id": f"id: {IDS['case_id']}", "amount_cents": "by the rule", "remark": None}


def test_declarations_name_only_fields_that_exist() -> None:
    for table in (PERSONAL, NOT_PERSONAL):
        for event_type, fields in table.items():
            assert event_type in event_types(), event_type
            paths = {path for path, _ in leaves(event_types()[event_type])}
            assert set(fields) <= paths, (event_type, set(fields) - paths)


def test_a_field_is_either_personal_or_not_never_both() -> None:
    for event_type, fields in PERSONAL.items():
        both = set(fields) & set(NOT_PERSONAL.get(event_type, {}))
        assert both == set(), (event_type, both)
        ids = {path for path in fields if path.rsplit(".", 1)[-1] in IDS}
        assert ids == set(), (event_type, ids)


def test_the_rule_takes_numbers_times_and_choices_never_text() -> None:
    assert all(by_rule(t) for t in (int, bool, date, ev.Reason))
    assert not by_rule(str)


def test_what_the_issue_names_is_declared_personal() -> None:
    """Names, phone numbers, addresses, free-text notes, health-related reasons, caregiver
    details, billing addresses: one field of each, and whose it is."""
    expected = {
        ("CaseOpened", "caller_number"): (Category.PHONE, "family"),
        ("CallStarted", "call.caller_number"): (Category.PHONE, "family"),
        ("ConsultationRecorded", "notes"): (Category.FREE_TEXT, "family"),
        ("NeedClarified", "need.location.address"): (Category.ADDRESS, "family"),
        ("NeedClarified", "need.reasons[]"): (Category.HEALTH, "family"),
        ("NeedClarified", "need.persons[].age"): (Category.AGE, "family"),
        ("TransportBooked", "from_place"): (Category.ADDRESS, "family"),
        ("CaregiverRegistered", "profile.name"): (Category.NAME, "caregiver"),
        ("CaregiverRegistered", "profile.first_aid_on"): (Category.CAREGIVER_DETAIL, "caregiver"),
        ("FamilyBillingSet", "address.street"): (Category.BILLING_ADDRESS, "family"),
        ("InvoiceIssued", "debtor.address.name"): (Category.NAME, "family"),
        ("PartnerBillingDetailsSet", "billing.address.email"): (Category.EMAIL, "partner contact"),
    }
    for (event_type, path), (category, subject) in expected.items():
        declared = PERSONAL[event_type][path]
        assert (declared.category, declared.subject.kind) == (category, subject), (event_type, path)


def test_personal_values_walks_nested_models_and_lists() -> None:
    need = ev.Need(
        persons=[ev.Person(kind="child", age=4), ev.Person(kind="adult")],
        location=ev.Location(kind="elsewhere", address="Marktstr. 5, 30880 Laatzen"),
        window=ev.Window(start="2026-03-03T06:30:00+01:00", expected_end="2026-03-03T11:00:00+01:00"),
        reasons=[ev.Reason.HOSPITAL_STAY],
        municipality="laatzen",
    )
    found = {(path, value) for path, _, value in personal_values(ev.NeedClarified(need=need))}
    assert found == {
        ("need.persons[].age", 4),
        ("need.location.address", "Marktstr. 5, 30880 Laatzen"),
        ("need.reasons[]", "hospital_stay"),
    }
    billing = FamilyBillingSet(
        address=Address(name="Familie Kaya (demo)", street="Lister Meile 27", postcode="30161", city="Hannover")
    )
    by_path = {path: (p, value) for path, p, value in personal_values(billing)}
    assert by_path["address.name"] == (
        Personal(Category.NAME, by_path["address.name"][0].subject),
        "Familie Kaya (demo)",
    )
    assert set(by_path) == {"address.name", "address.street", "address.postcode", "address.city"}


def test_the_document_is_generated_from_the_declaration() -> None:
    text = (ROOT / "docs" / "personal-data.md").read_text(encoding="utf-8")
    assert text == document(), "regenerate: python -m notfall.domain.personal --docs docs/personal-data.md"


def test_the_document_lists_every_personal_field_and_the_findings() -> None:
    text = document()
    for event_type, fields in PERSONAL.items():
        for path in fields:
            assert f"| `{event_type}` | `{path}` |" in text
    assert "plain SHA-256 hashes of phone numbers" in text and "keyed pseudonyms" in text


def test_the_command_writes_the_document(tmp_path: Path) -> None:
    target = tmp_path / "personal-data.md"
    main(["--docs", str(target)])
    assert target.read_text(encoding="utf-8") == document()
