"""A family as a debtor: its billing address, on a stream `family-<family_id>`.

A family is known by the id its first case gave it (`fam-<hash>`, see `case.family_for`).
Staff record the address the family's invoices go to; a later address supersedes the
earlier one for invoices issued from then on (issued invoices keep the address they carry).
Any well-formed family id may get an address, even before its first invoice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel

from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Envelope, Event
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


class FamilyState(BaseModel):
    family_id: str
    version: int
    address: Address | None = None


def fold_family(envelopes: Iterable[Envelope]) -> FamilyState | None:
    state: FamilyState | None = None
    for env in sorted(envelopes, key=lambda e: e.version):
        family_id = env.stream_id.removeprefix(FAMILY_PREFIX)
        match env.data:
            case FamilyBillingSet(address=address):
                state = FamilyState(family_id=family_id, version=env.version, address=address)
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
