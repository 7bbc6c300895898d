"""A family as a debtor and as an employee: its billing address and its payroll consent, on a
stream `family-<family_id>`.

A family is known by the id its first case gave it (`fam-<hash>`, see `case.family_for`).
Staff record the address the family's invoices go to; a later address supersedes the
earlier one for invoices issued from then on (issued invoices keep the address they carry).
Any well-formed family id may get an address, even before its first invoice.

Payroll consent (section 3 no. 34a EStG): at intake an employee of a partner may agree that
the partner's usage statement lists their own care costs under a pseudonymous reference,
which they hand to payroll. The reference is random (never derived from the phone number),
kept here, and stays the same while the consent stands; a withdrawal ends the listing.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel

from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Envelope, Event, UtcDatetime
from notfall.domain.errors import Rejected
from notfall.domain.invoice_events import Address

FAMILY_PREFIX = "family-"
FAMILY_ID = re.compile(r"^fam-[0-9a-z][0-9a-z-]{0,39}$")


def family_stream(family_id: str) -> str:
    return FAMILY_PREFIX + family_id


class FamilyBillingSet(Event):
    """The address a family's invoices go to, from now on."""

    event_type = "FamilyBillingSet"
    address: Address


class PayrollConsentGiven(Event):
    """The employee agreed at intake (case `case_id`) that their care costs are listed on the
    partner's statement under `reference` (section 3 no. 34a EStG). Version 1."""

    event_type = "PayrollConsentGiven"
    reference: str
    case_id: str
    given_at: UtcDatetime


class PayrollConsentWithdrawn(Event):
    """The consent ends: statements made from now on list nothing under the reference. Version 1."""

    event_type = "PayrollConsentWithdrawn"
    case_id: str
    withdrawn_at: UtcDatetime


class FamilyState(BaseModel):
    family_id: str
    version: int
    address: Address | None = None
    payroll_reference: str | None = None  # set while the payroll consent stands


def fold_family(envelopes: Iterable[Envelope]) -> FamilyState | None:
    state: FamilyState | None = None
    for env in sorted(envelopes, key=lambda e: e.version):
        family_id = env.stream_id.removeprefix(FAMILY_PREFIX)
        state = state or FamilyState(family_id=family_id, version=0)
        match env.data:
            case FamilyBillingSet(address=address):
                state = state.model_copy(update={"version": env.version, "address": address})
            case PayrollConsentGiven(reference=reference):
                state = state.model_copy(update={"version": env.version, "payroll_reference": reference})
            case PayrollConsentWithdrawn():
                state = state.model_copy(update={"version": env.version, "payroll_reference": None})
            case _:
                raise TypeError(f"a family stream cannot hold {type(env.data).__name__}")
    return state


def check_family_id(family_id: str) -> str:
    if not FAMILY_ID.match(family_id):
        raise Rejected(f"malformed family id {family_id!r}: expected fam-<letters, digits, dashes>", field="family_id")
    return family_id


def decide_family_billing(state: FamilyState | None, family_id: str, address: Address, now: datetime) -> Decision:
    check_family_id(family_id)
    version = state.version if state else 0
    append = Append(family_stream(family_id), version, (FamilyBillingSet(address=address),), now)
    return Decision((append,), {"family_id": family_id, "version": version + 1})


def new_payroll_reference() -> str:
    """A random reference an employee can read out to payroll: 'NF-' and 10 letters and digits."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud without mistakes
    return "NF-" + "".join(secrets.choice(alphabet) for _ in range(10))


def decide_payroll_consent(
    state: FamilyState | None, family_id: str, case_id: str, given: bool, reference: str, now: datetime
) -> Decision:
    """Record the consent (with the fresh `reference`) or its withdrawal. Giving it again while
    it stands, or withdrawing one that does not stand, appends nothing: the answer stays."""
    version = state.version if state else 0
    current = state.payroll_reference if state else None
    result = {"family_id": family_id, "case_id": case_id, "consent": given}
    if given and current is None:
        event: Event = PayrollConsentGiven(reference=reference, case_id=case_id, given_at=now)
        return Decision((Append(family_stream(family_id), version, (event,), now),), {**result, "reference": reference})
    if not given and current is not None:
        event = PayrollConsentWithdrawn(case_id=case_id, withdrawn_at=now)
        return Decision((Append(family_stream(family_id), version, (event,), now),), {**result, "reference": None})
    return Decision((), {**result, "reference": current})
