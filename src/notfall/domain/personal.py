"""Which event fields hold personal data, in one place: per event type, each personal field (a
dotted path into the payload, `[]` for a list's items), its category and whose data it is.

Every other field is not personal, either by the short rule of `by_rule` (numbers, flags,
dates, times and closed choices), as an id of `IDS`, or as declared in `NOT_PERSONAL` with the
reason. tests/domain/test_personal.py walks every registered event model and fails on a field
that is none of these, so a new field must be classified. docs/personal-data.md is generated
from here: `python -m notfall.domain.personal --docs docs/personal-data.md`.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel

# Every module that defines events, so that the registry below is complete.
from notfall.domain import care_events, caregiver, events, families, invoice_events, partners, tariffs  # noqa: F401
from notfall.domain.envelope import Event, event_types


class Category(StrEnum):
    NAME = "name"
    PHONE = "phone number"
    ADDRESS = "address"
    BILLING_ADDRESS = "billing address"
    EMAIL = "e-mail"
    FREE_TEXT = "free text"
    HEALTH = "health-related reason"
    AGE = "age"
    EMPLOYER = "employer"
    CAREGIVER_DETAIL = "caregiver detail"
    STAFF = "staff sign-in name"


@dataclass(frozen=True)
class Subject:
    """Whose data a field is, and how that person is found from the event."""

    kind: Literal["family", "caregiver", "partner contact", "staff"]
    label: str  # how the document's tables name this way of finding the subject
    by: str


CASE_FAMILY = Subject(
    "family", "case's family", "the case's family: `family_id` of the `CaseOpened` on the same `case-<id>` stream"
)
FAMILY = Subject("family", "family stream", "the family of the `family-<family_id>` stream")
DEBTOR = Subject(
    "family",
    "invoice debtor",
    "the invoice's debtor when a family: `debtor.debtor_id` of the `InvoiceIssued` on the `invoice-<number>` "
    "stream, when `debtor.kind` is `family` (companies and municipalities are no natural persons)",
)
CAREGIVER = Subject("caregiver", "caregiver stream", "the caregiver of the `caregiver-<id>` stream")
BOOKED_FAMILY = Subject(
    "family",
    "booked case's family",
    "the family of the case the booking was for: `case_id` and `family_id` of the `BookingMade` with this "
    "`assignment_id` (the reason repeats the assignment's cancellation reason)",
)
OFFERED = Subject(
    "caregiver",
    "offered caregiver",
    "the caregiver the offer went to: `caregiver_id` of the `OfferMade` with this `offer_id`",
)
PARTNER_CONTACT = Subject(
    "partner contact", "partner contact", "the person at the partner of the `partner-<id>` stream who reads the mail"
)
STAFF = Subject(
    "staff", "staff", "the staff member the field names; kept as the record of who acted, not erased with a family"
)


@dataclass(frozen=True)
class Personal:
    category: Category
    subject: Subject


def _family(category: Category) -> Personal:
    return Personal(category, CASE_FAMILY)


def _caregiver(category: Category = Category.CAREGIVER_DETAIL) -> Personal:
    return Personal(category, CAREGIVER)


_CALL = {"call.caller_number": _family(Category.PHONE), "call.agent": Personal(Category.STAFF, STAFF)}
_PROFILE = {
    "profile.name": _caregiver(Category.NAME),
    "profile.home_municipality": _caregiver(Category.ADDRESS),
    "profile.setting": _caregiver(Category.FREE_TEXT),
    **{
        f"profile.{name}": _caregiver()
        for name in (
            "qualification",
            "certificate_level",
            "age_groups[]",
            "languages[]",
            "municipalities_served[]",
            "drives",
            "offers_transport",
            "police_clearance_on",
            "first_aid_on",
        )
    },
}
_INVOICE_ADDRESS = {
    "debtor.address.name": Personal(Category.NAME, DEBTOR),
    **{f"debtor.address.{name}": Personal(Category.BILLING_ADDRESS, DEBTOR) for name in ("street", "postcode", "city")},
    "debtor.address.email": Personal(Category.EMAIL, DEBTOR),
}

PERSONAL: dict[str, dict[str, Personal]] = {
    # case stream: intake
    "CaseOpened": {"caller_number": _family(Category.PHONE)},
    "CallStarted": _CALL,
    "CallAnswered": _CALL,
    "CallEnded": _CALL,
    "VoicemailLeft": _CALL,
    "CallbackMade": {"agent": Personal(Category.STAFF, STAFF)},
    "ConsultationRecorded": {"agent": Personal(Category.STAFF, STAFF), "notes": _family(Category.FREE_TEXT)},
    "NeedClarified": {
        "need.persons[].age": _family(Category.AGE),
        "need.location.address": _family(Category.ADDRESS),
        "need.reasons[]": _family(Category.HEALTH),  # an accident or a hospital stay
        "need.reason_note": _family(Category.HEALTH),
        "need.employer": _family(Category.EMPLOYER),
    },
    "OutcomeRecorded": {"note": _family(Category.FREE_TEXT)},
    "CaseClosed": {"reason": _family(Category.FREE_TEXT)},
    # case stream: care
    "OfferDeclined": {"reason": Personal(Category.FREE_TEXT, OFFERED)},
    "OfferWithdrawn": {"reason": _family(Category.FREE_TEXT)},
    "AssignmentCancelled": {"reason": _family(Category.FREE_TEXT)},
    "SessionCorrected": {"reason": _family(Category.FREE_TEXT)},
    "SessionVoided": {"reason": _family(Category.FREE_TEXT)},
    "TransportBooked": {"from_place": _family(Category.ADDRESS), "to_place": _family(Category.ADDRESS)},
    "TransportCancelled": {"reason": _family(Category.FREE_TEXT)},
    # caregiver stream
    "CaregiverRegistered": _PROFILE,
    "CaregiverProfileChanged": _PROFILE,
    "CaregiverStatusChanged": {"reason": _caregiver(Category.FREE_TEXT)},
    "BookingReleased": {"reason": Personal(Category.FREE_TEXT, BOOKED_FAMILY)},
    # family stream
    "FamilyBillingSet": {
        "address.name": Personal(Category.NAME, FAMILY),
        **{f"address.{name}": Personal(Category.BILLING_ADDRESS, FAMILY) for name in ("street", "postcode", "city")},
        "address.email": Personal(Category.EMAIL, FAMILY),
    },
    # invoice stream
    "InvoiceIssued": {
        **_INVOICE_ADDRESS,
        "lines[].description": Personal(Category.ADDRESS, DEBTOR),  # a trip's line names its places
        "note": Personal(Category.FREE_TEXT, DEBTOR),
    },
    "InvoiceCancelled": {"reason": Personal(Category.FREE_TEXT, DEBTOR)},
    "PaymentRecorded": {"reference": Personal(Category.FREE_TEXT, DEBTOR)},  # as the payer wrote it
    # partner stream
    "PartnerBillingDetailsSet": {"billing.address.email": Personal(Category.EMAIL, PARTNER_CONTACT)},
}

# Ids, by field name wherever they occur: who gives them, and why they say nothing about a person.
IDS: dict[str, str] = {
    "case_id": "random (`app.intake.new_case_id`)",
    "offer_id": "random",
    "assignment_id": "random",
    "session_id": "random",
    "transport_id": "random",
    "payment_id": "random",
    "line_id": "numbered within its invoice",
    "number": "an invoice number of its series",
    "credit_note": "an invoice number of its series",
    "call_id": "the phone system's id of the call",
    "family_id": "a pseudonym: today a plain hash of the caller's phone number (finding 1)",
    "debtor_id": "a family id (a pseudonym) or a partner id",
    "caregiver_id": "chosen by staff when registering; must never spell the caregiver's name (finding 2)",
    "driver_id": "a caregiver id",
    "partner_id": "chosen by staff; a partner is a company or a municipality",
    "contract_id": "chosen by staff for a partner's contract",
    "window_id": "chosen for a caregiver's one-off availability window",
}

_FIXED_TEXT = "written by the service's rules, never from what a caller or caregiver said"

# Text fields that are not personal, per event type, with the reason.
NOT_PERSONAL: dict[str, dict[str, str]] = {
    **{name: {"call.line": "the service's hotline line"} for name in ("CallStarted", "CallAnswered", "CallEnded")},
    "VoicemailLeft": {
        "call.line": "the service's hotline line",
        "recording_ref": "the phone system's reference to the recording; the recording itself is personal "
        "data held there, which an erasure must reach too",
    },
    "NeedClarified": {
        "need.municipality": "the household's municipality: an area of thousands, which eligibility, invoices and "
        "statistics count by, and which must still add up after an erasure",
    },
    "OutcomeRecorded": {"referral_to": "the institution the case was referred to"},
    "EligibilityAssessed": {
        "tier": "a price tier",
        "basis": f"{_FIXED_TEXT}: partner names and the municipality",
    },
    "CareRefused": {"basis": f"{_FIXED_TEXT}: partner names and the municipality"},
    "CaregiverAssigned": {"replaces": "an assignment id"},
    "SessionStarted": {"tier": "a price tier (historical)", "tier_basis": f"{_FIXED_TEXT} (historical)"},
    "SessionRecorded": {"tier": "a price tier (historical)", "tier_basis": f"{_FIXED_TEXT} (historical)"},
    "NeedUnfilled": {"reason": f"{_FIXED_TEXT}: the sweep that flagged the need"},
    "TrainingAttended": {"title": "the course's title, the same for every attendee"},
    "FamilyBillingSet": {"address.country": "a country code"},
    "PayrollConsentGiven": {"reference": "random, never derived from personal data (`domain.families`)"},
    "InvoiceIssued": {
        "series": "an invoice series",
        "debtor.address.country": "a country code",
        "debtor.buyer_reference": "a public body's Leitweg-ID or a partner's order reference",
        "debtor.vat_id": "a company's VAT id",
        **{
            f"issuer.{name}": "the service itself as the invoices' issuer (configuration)"
            for name in (
                "address.name",
                "address.street",
                "address.postcode",
                "address.city",
                "address.country",
                "address.email",
                "tax_number",
                "vat_id",
                "iban",
                "bic",
                "bank",
                "contact",
                "phone",
            )
        },
        "lines[].tier": "a price tier",
        "lines[].basis": f"{_FIXED_TEXT}: partner names and the municipality",
        "lines[].ref": "the id of the session, trip or contract the line bills",
        "vat.exemption_reason": "a legal reference",
        "billing_key": "a debtor id and a period",
        "cancels": "an invoice number",
    },
    "PartnerRegistered": {
        "partner.name": "a company or a municipality: no natural person",
        "partner.municipality": "the partner's seat",
    },
    "PartnerBillingDetailsSet": {
        **{
            f"billing.address.{name}": "the address of a company or a municipality"
            for name in ("name", "street", "postcode", "city", "country")
        },
        "billing.buyer_reference": "a public body's Leitweg-ID or a partner's order reference",
        "billing.vat_id": "a company's VAT id",
    },
}

RULE = (
    "Numbers, flags, dates, times and closed choices (enums, literals) are not personal by themselves: "
    "amounts, minutes, counts, kinds and statuses. Where such a field describes a person (an age, a "
    "date of birth, the reasons for a need, a caregiver's qualifications) it is declared personal, "
    "which the rule never overrides."
)
_BY_RULE = (bool, int, float, Decimal, date, datetime, AwareDatetime, time, Enum)


def by_rule(annotation: Any) -> bool:
    """Whether a leaf type is not personal by the rule: numbers, flags, dates, times, closed choices."""
    if get_origin(annotation) is Literal:
        return True
    return isinstance(annotation, type) and issubclass(annotation, _BY_RULE)


def leaves(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf field of a model, as (dotted path, type), through nested models and lists."""
    for name, info in model.model_fields.items():
        yield from _leaves(info.annotation, prefix + name)


def _leaves(annotation: Any, path: str) -> Iterator[tuple[str, Any]]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            if arg is not type(None):
                yield from _leaves(arg, path)
    elif origin is Annotated:
        yield from _leaves(get_args(annotation)[0], path)
    elif origin is list:
        yield from _leaves(get_args(annotation)[0], path + "[]")
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from leaves(annotation, path + ".")
    else:
        yield path, annotation


Verdict = Personal | str  # personal, or the reason it is not


def classify(event_type: str, path: str, annotation: Any) -> Verdict | None:
    """A field's verdict: declared personal, an id, declared not personal, by the rule; None if unclassified."""
    if path in PERSONAL.get(event_type, {}):
        return PERSONAL[event_type][path]
    last = path.rsplit(".", 1)[-1]
    if last in IDS:
        return f"id: {IDS[last]}"
    if path in NOT_PERSONAL.get(event_type, {}):
        return NOT_PERSONAL[event_type][path]
    if by_rule(annotation):
        return "by the rule"
    return None


def personal_values(event: Event) -> Iterator[tuple[str, Personal, Any]]:
    """The personal values an event holds: (path, declaration, value), list items one by one."""
    declared = PERSONAL.get(event.event_type, {})
    for path, personal in declared.items():
        for value in _values(event.model_dump(mode="json"), path.split(".")):
            if value is not None:
                yield path, personal, value


def _values(data: Any, steps: list[str]) -> Iterator[Any]:
    if not steps:
        yield data
        return
    step, rest = steps[0], steps[1:]
    many = step.endswith("[]")
    value = data.get(step.removesuffix("[]")) if isinstance(data, dict) else None
    for item in (value or []) if many else [value]:
        yield from _values(item, rest)


# --- the document -------------------------------------------------------------------------

INTRO = """\
# Personal data

<!-- generated by `python -m notfall.domain.personal --docs docs/personal-data.md` from
src/notfall/domain/personal.py; tests/domain/test_personal.py checks it is current -->

Which fields of which events hold personal data, what kind, and whose. This is the map that
encryption per data subject and erasure (crypto-shredding) follow: a personal field is
encrypted with the key of its subject, and erasing a subject deletes that key. Read models,
exports and documents are built from these events and follow the same map.

Data subjects: **families** (the caller's household, known by the family id of its first
case), **caregivers**, **partner contacts** (the person behind a partner's billing e-mail),
and **staff** (their sign-in names, kept as the record of who acted)."""

WHERE_NOT = """\
## Where personal data must never go

Never into **table keys** (the event store's stream ids, the read model's `pk`/`sk`, index
keys), **ids** (case, family, caregiver, partner, invoice ids and idempotency keys),
**URLs** (paths and query strings: they end up in access logs, browser histories and
traces), **logs** (only ids and counts; no payloads, no request bodies), **metrics** (names
and dimensions), **S3 object keys** and **file names**. A key may hold a pseudonym: a
random id, or (to be built, issue 13) an HMAC under a secret key, never a plain hash of
personal data. A plain hash of a phone number is no pseudonym: the numbers are few enough
to try them all."""

NOT_PERSONAL_TEXT = """\
## What is not personal, and why

{rule}
- Ids, by field name wherever they occur; each says who gives it. An id is only as free of
  personal data as the way it is made (see the findings).
- Declared per field, with the reason, in the table below: the service's own data as the
  invoices' issuer, companies and municipalities (partners are no natural persons), price
  tiers, texts the service's rules compose (eligibility bases), and the household's
  municipality (an area that statistics and invoices count by).
- Envelope fields are not payload: `stream_id` (see the findings), `actor` (the signed-in
  user's id, or the phone system), `command_id`, `correlation_id`, `causation_id`, times."""

FINDINGS = """\
## Known findings (where personal data reaches keys, ids, URLs or logs today)

1. **Family ids and caller-ledger keys are plain SHA-256 hashes of phone numbers**
   (`domain.case.caller_stream`, `family_for`). The caller ledger's stream id
   `caller-<sha256(E.164)[:24]>` and the family id `fam-<sha256(that stream id)[:12]>` end up in
   event-store keys, read-model keys (`family#<fid>`, `family-billing#<fid>`,
   `debtor#<fid>`), invoice `billing_key`s, the URLs `/families/{family_id}/...` and
   `/debtors/{debtor_id}/open-items`, and the invoice run's log. Anyone can reverse them by
   hashing every phone number. Open point of issue 13: they become keyed pseudonyms (an HMAC
   with a secret from KMS or Secrets Manager) with a documented migration; the id scheme is
   unchanged until then.
2. **Caregiver ids are chosen by staff** when registering (`[a-z0-9-]{1,40}`), and nothing
   stops an id that spells the caregiver's name: the name would then stand in the keys
   `caregiver#<id>` and `caregivers/<id>`, in the URLs `/caregivers/{caregiver_id}/...`, in the
   Cognito attribute `custom:caregiver_id` and in statement file names. The demo's ids did
   (`cg-anke-brenner`); they are `cg-demo-01` to `cg-demo-10` now. Open point: the service
   gives caregivers random ids, as it does cases. Partner ids name companies and
   municipalities, which is fine: they are no natural persons.
3. **Voicemail recordings** are referenced by `recording_ref`: the recording is personal
   data held by the phone system, which an erasure must reach too.
4. **The household municipality** stands in the read-model key `places/<municipality>#case#<id>`:
   an area, not an address, and kept for the statistics, but with the case id it links a case
   to a place; an erasure rebuilds the read model, and the row stays as statistics need it.

Checked and clean: case, offer, assignment, session, transport, payment and command ids are
random; invoice numbers are numbered per series; payroll references are random; the logs of
refused requests name the route template, not its parameters; metrics carry counts only.
tests/e2e/test_personal_keys.py loads the demo data on the local stack and scans every
table's keys and index keys, and the paths the stack's banner prints, for the demo's names,
phone numbers, addresses and e-mail addresses."""


HEALTH_NOTE = (
    "Health-related reasons (an accident, a hospital stay, and what the notes say about them) are special "
    "categories of personal data (GDPR Art. 9), kept because the care is decided on them."
)


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, width=92, subsequent_indent=indent, break_on_hyphens=False, break_long_words=False)


def document() -> str:
    """docs/personal-data.md, from the declaration."""
    subjects = {p.subject: None for fields in PERSONAL.values() for p in fields.values()}
    lines = [INTRO, "", "## Data subjects, and how an event names its subject", ""]
    lines += ["| subject | whose | found by |", "|---|---|---|"]
    lines += [f"| {s.label} | {s.kind} | {s.by} |" for s in subjects]
    lines += ["", "## Personal fields per event type", ""]
    lines += ["| event | field | category | subject |", "|---|---|---|---|"]
    for event_type in sorted(PERSONAL):
        for path, p in PERSONAL[event_type].items():
            lines.append(f"| `{event_type}` | `{path}` | {p.category.value} | {p.subject.label} |")
    plain = sorted(t for t in event_types() if not PERSONAL.get(t))
    lines += [
        "",
        _wrap(HEALTH_NOTE),
        "",
        _wrap("Event types with no personal field: " + ", ".join(f"`{t}`" for t in plain) + "."),
    ]
    rule = _wrap("- By the rule: " + RULE, indent="  ")
    lines += ["", WHERE_NOT, "", NOT_PERSONAL_TEXT.format(rule=rule), ""]
    lines += ["| id field | given by |", "|---|---|", *(f"| `{name}` | {why} |" for name, why in IDS.items())]
    lines += ["", "| event | field | why not personal |", "|---|---|---|"]
    for event_type in sorted(NOT_PERSONAL):
        for path, why in NOT_PERSONAL[event_type].items():
            lines.append(f"| `{event_type}` | `{path}` | {why} |")
    lines += ["", FINDINGS, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m notfall.domain.personal", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, help="write the document to this file (else: standard output)")
    args = parser.parse_args(argv)
    if args.docs is None:
        sys.stdout.write(document())
        return
    args.docs.write_text(document(), encoding="utf-8")


if __name__ == "__main__":
    main()
