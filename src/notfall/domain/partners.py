"""Partner companies and partner municipalities: who they are, their framework contracts,
their billing details, and (municipalities) their children up to age 10 per year.

Each partner is a stream `partner-<id>`; its contracts live in it too, so a contract whose
period overlaps another of the same partner is refused in one consistent decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Envelope, Event
from notfall.domain.errors import DomainError, NotFound, Rejected
from notfall.domain.events import Value
from notfall.domain.inputs import Day, Text
from notfall.domain.invoice_events import Address

PARTNER_PREFIX = "partner-"


def partner_stream(partner_id: str) -> str:
    return PARTNER_PREFIX + partner_id


class PartnerIn(Value):
    partner_id: Text = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")
    kind: Literal["company", "municipality"]
    name: Text = Field(min_length=1, max_length=200)
    municipality: Text = Field(min_length=1, max_length=80, description="seat, or the municipality itself")
    joined_on: Day
    employees: int | None = Field(default=None, ge=1, validate_default=True, description="companies: employees covered")
    inhabitants: int | None = Field(default=None, ge=1, validate_default=True, description="municipalities")
    children_under_10: int | None = Field(
        default=None, ge=0, validate_default=True, description="municipalities: children up to age 10"
    )

    @field_validator("employees")
    @classmethod
    def _company_figure(cls, value: int | None, info: ValidationInfo) -> int | None:
        return _belongs(value, info.data.get("kind") == "company", "partner companies state the employees covered")

    @field_validator("inhabitants", "children_under_10")
    @classmethod
    def _municipality_figures(cls, value: int | None, info: ValidationInfo) -> int | None:
        return _belongs(value, info.data.get("kind") == "municipality", "partner municipalities state this figure")


def _belongs(value: int | None, applies: bool, needed: str) -> int | None:
    if applies and value is None:
        raise ValueError(needed)
    if not applies and value is not None:
        raise ValueError("does not apply to this kind of partner")
    return value


class PartnerRegistered(Event):
    event_type = "PartnerRegistered"
    partner: PartnerIn


FeeModel = Literal["monthly", "yearly_band", "per_child"]


class ContractIn(Value):
    contract_id: Text = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")
    fee_model: FeeModel = Field(
        description="companies: monthly flat fee or yearly by headcount band; "
        "municipalities: per child up to age 10 per year"
    )
    start: Day
    end: Day | None = Field(default=None, description="last day; open-ended when absent")
    monthly_fee_cents: int | None = Field(default=None, ge=0, validate_default=True)
    employees_covered: int | None = Field(default=None, ge=1, description="the headcount band's basis")

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start")
        if end is not None and start is not None and end < start:
            raise ValueError("end must not be before start")
        return end

    @field_validator("monthly_fee_cents")
    @classmethod
    def _monthly_has_fee(cls, fee: int | None, info: ValidationInfo) -> int | None:
        return _belongs(fee, info.data.get("fee_model") == "monthly", "a monthly contract states its fee")


class Contract(BaseModel):
    contract_id: str
    fee_model: FeeModel
    start: date
    end: date | None = None
    monthly_fee_cents: int | None = None
    employees_covered: int | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def overlaps(self, start: date, end: date | None) -> bool:
        return (end is None or self.start <= end) and (self.end is None or start <= self.end)


class ContractSigned(Event):
    event_type = "ContractSigned"
    contract: ContractIn


class ContractEnded(Event):
    event_type = "ContractEnded"
    contract_id: str
    end: date


class ChildCountReported(Event):
    """A municipality's children up to age 10 with main residence there, for one year."""

    event_type = "ChildCountReported"
    year: int
    children_under_10: int


class BillingIn(Value):
    address: Address
    buyer_reference: Text | None = Field(
        default=None, max_length=100, description="Leitweg-ID (public bodies) or the partner's order reference"
    )
    vat_id: Text | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Z]{2,13}$")


class BillingDetailsSet(Event):
    event_type = "PartnerBillingDetailsSet"
    billing: BillingIn


class PartnerState(BaseModel):
    version: int
    partner: PartnerIn
    contracts: list[Contract] = []
    child_counts: dict[int, int] = {}
    billing: BillingIn | None = None

    def contract_on(self, day: date) -> Contract | None:
        return next((c for c in self.contracts if c.covers(day)), None)


def fold_partner(envelopes: Iterable[Envelope]) -> PartnerState | None:
    state: PartnerState | None = None
    for env in sorted(envelopes, key=lambda e: e.version):
        match env.data:
            case PartnerRegistered(partner=partner):
                state = PartnerState(version=env.version, partner=partner)
                continue
            case ContractSigned(contract=c):
                assert state is not None
                state = state.model_copy(update={"contracts": [*state.contracts, Contract(**c.model_dump())]})
            case ContractEnded(contract_id=cid, end=end):
                assert state is not None
                contracts = [c.model_copy(update={"end": end}) if c.contract_id == cid else c for c in state.contracts]
                state = state.model_copy(update={"contracts": contracts})
            case ChildCountReported(year=year, children_under_10=n):
                assert state is not None
                state = state.model_copy(update={"child_counts": {**state.child_counts, year: n}})
            case BillingDetailsSet(billing=billing):
                assert state is not None
                state = state.model_copy(update={"billing": billing})
        assert state is not None
        state = state.model_copy(update={"version": env.version})
    return state


def decide_register(state: PartnerState | None, cmd: PartnerIn, now: datetime) -> Decision:
    if state is not None:
        raise DomainError(f"partner {cmd.partner_id} is already registered", field="partner_id")
    append = Append(partner_stream(cmd.partner_id), 0, (PartnerRegistered(partner=cmd),), now)
    return Decision((append,), {"partner_id": cmd.partner_id, "version": 1})


def _partner(state: PartnerState | None, partner_id: str) -> PartnerState:
    if state is None:
        raise NotFound(f"unknown partner {partner_id}", field="partner_id")
    return state


def _one(state: PartnerState, event: Event, now: datetime, **result) -> Decision:
    append = Append(partner_stream(state.partner.partner_id), state.version, (event,), now)
    return Decision((append,), {"partner_id": state.partner.partner_id, "version": state.version + 1, **result})


MODELS = {"company": ("monthly", "yearly_band"), "municipality": ("per_child",)}


def decide_contract(state: PartnerState | None, partner_id: str, cmd: ContractIn, now: datetime) -> Decision:
    state = _partner(state, partner_id)
    kind = state.partner.kind
    if cmd.fee_model not in MODELS[kind]:
        raise Rejected(f"a {kind} contract is {' or '.join(MODELS[kind])}", field="fee_model")
    if cmd.fee_model == "yearly_band" and cmd.employees_covered is None:
        raise Rejected("a yearly contract by headcount band states the employees covered", field="employees_covered")
    if any(c.contract_id == cmd.contract_id for c in state.contracts):
        raise DomainError(f"contract {cmd.contract_id} exists already", field="contract_id")
    clash = next((c for c in state.contracts if c.overlaps(cmd.start, cmd.end)), None)
    if clash is not None:
        raise DomainError(
            f"the period overlaps contract {clash.contract_id} "
            f"({clash.start.isoformat()} to {clash.end.isoformat() if clash.end else 'open'})",
            field="start",
        )
    return _one(state, ContractSigned(contract=cmd), now, contract_id=cmd.contract_id)


def decide_end_contract(
    state: PartnerState | None, partner_id: str, contract_id: str, end: date, now: datetime
) -> Decision:
    state = _partner(state, partner_id)
    contract = next((c for c in state.contracts if c.contract_id == contract_id), None)
    if contract is None:
        raise NotFound(f"no contract {contract_id}", field="contract_id")
    if end < contract.start:
        raise DomainError("a contract cannot end before it starts", field="end")
    if contract.end is not None and contract.end <= end:
        raise DomainError(f"the contract already ends on {contract.end.isoformat()}", field="end")
    return _one(state, ContractEnded(contract_id=contract_id, end=end), now, contract_id=contract_id)


def decide_child_count(state: PartnerState | None, partner_id: str, year: int, count: int, now: datetime) -> Decision:
    state = _partner(state, partner_id)
    if state.partner.kind != "municipality":
        raise Rejected("only municipalities report children", field="partner_id")
    if year in state.child_counts:
        raise DomainError(f"the count for {year} is reported already ({state.child_counts[year]})", field="year")
    return _one(state, ChildCountReported(year=year, children_under_10=count), now, year=year)


def decide_billing(state: PartnerState | None, partner_id: str, cmd: BillingIn, now: datetime) -> Decision:
    return _one(_partner(state, partner_id), BillingDetailsSet(billing=cmd), now)
