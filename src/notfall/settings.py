"""Function settings from the environment; a missing one fails at import, not on first use."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from notfall.domain.care import CareRules
from notfall.domain.caregiver import ClearanceRules
from notfall.domain.eligibility import EligibilityRules
from notfall.domain.fees import DEFAULT_HEADCOUNT_BANDS, HeadcountBand
from notfall.domain.invoice_events import Address, Issuer, Vat
from notfall.domain.tariffs import Rounding


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    events_table: str = Field(alias="EVENTS_TABLE", min_length=1)
    commands_table: str = Field(alias="COMMANDS_TABLE", min_length=1)
    read_model_table: str = Field(alias="READ_MODEL_TABLE", min_length=1)

    @classmethod
    def from_env(cls) -> Settings:
        return cls.model_validate(dict(os.environ))


class CareSettings(BaseModel):
    """The rules of care work (docs/domain-rules.md, "Care work").

    template.yaml sets every one of them in Globals, so the cloud and the local stack run the
    same rules; the defaults here are the same values, for tests and tools without the
    template. Whole numbers only: money is in cents, distances priced per whole km.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    offer_ttl_minutes: int = Field(15, alias="CARE_OFFER_TTL_MINUTES", ge=1, le=24 * 60)
    target_minutes: int = Field(90, alias="CARE_TARGET_MINUTES", ge=0, le=7 * 24 * 60)
    allowance_cents: int = Field(1000, alias="VOLUNTEER_ALLOWANCE_CENTS", ge=0)
    travel_cents_per_km: int = Field(30, alias="TRAVEL_CENTS_PER_KM", ge=0)
    transport_price_cents: int = Field(800, alias="TRANSPORT_PRICE_CENTS", ge=0)
    police_clearance_years: int = Field(5, alias="POLICE_CLEARANCE_YEARS", ge=1, le=20)
    first_aid_years: int = Field(2, alias="FIRST_AID_YEARS", ge=1, le=20)

    @classmethod
    def from_env(cls) -> CareSettings:
        # Only our variables: the model ignores the rest of the environment anyway, but a
        # validation error should never echo unrelated (possibly secret) values.
        names = {f.alias for f in cls.model_fields.values()}
        return cls.model_validate({k: v for k, v in os.environ.items() if k in names})

    def rules(self) -> CareRules:
        return CareRules(
            offer_ttl=timedelta(minutes=self.offer_ttl_minutes),
            target_time=timedelta(minutes=self.target_minutes),
            allowance_cents=self.allowance_cents,
            travel_cents_per_km=self.travel_cents_per_km,
            transport_price_cents=self.transport_price_cents,
            clearance=ClearanceRules(
                police_clearance_years=self.police_clearance_years, first_aid_years=self.first_aid_years
            ),
        )


_BAND = re.compile(r"^(\d+)(?:-(\d+)|\+):(\d+)$")


def parse_headcount_bands(text: str) -> tuple[HeadcountBand, ...]:
    """PARTNER_HEADCOUNT_BANDS: comma-separated bands "first-last:cents", the last one open,
    "first+:cents" (the default: "1-49:12000,50-249:48000,250-999:120000,1000+:240000").
    They ascend from 1 employee, each starting right after the one before (no gap, no
    overlap); fees are whole cents."""
    items = [item.strip() for item in text.split(",")]
    bands: list[HeadcountBand] = []
    first_expected = 1
    for n, item in enumerate(items, start=1):
        match = _BAND.match(item)
        if match is None:
            raise ValueError(
                f"PARTNER_HEADCOUNT_BANDS: {item!r} is no band like 1-49:12000 or 1000+:240000 "
                "(employees, then the yearly fee in whole cents)"
            )
        first, last, cents = int(match[1]), None if match[2] is None else int(match[2]), int(match[3])
        if first != first_expected:
            raise ValueError(
                f"PARTNER_HEADCOUNT_BANDS: {item!r} must start at {first_expected} employees: "
                "bands ascend from 1 without gaps or overlaps"
            )
        if (last is None) != (n == len(items)):
            raise ValueError("PARTNER_HEADCOUNT_BANDS: the last band, and only the last, is open (like 1000+:240000)")
        if last is not None and last < first:
            raise ValueError(f"PARTNER_HEADCOUNT_BANDS: {item!r} ends before it starts")
        bands.append(HeadcountBand(up_to=last, cents=cents))
        first_expected = (last or 0) + 1
    return tuple(bands)


class _FromEnv(BaseModel):
    """Settings read from the environment by their aliases only, so a validation error never
    echoes unrelated (possibly secret) variables. An empty variable means "not set": the
    template may leave optional ones blank."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    @classmethod
    def from_env(cls) -> Self:
        names = {f.alias for f in cls.model_fields.values()}
        return cls.model_validate({k: v for k, v in os.environ.items() if k in names and v != ""})


class RoundingSettings(_FromEnv):
    """The rounding of care time that invoices apply (BILLING_ROUNDING_MINUTES, as in
    BillingSettings), alone: the intake function reports billed hours with it and needs none of
    the other billing settings."""

    rounding_minutes: int = Field(15, alias="BILLING_ROUNDING_MINUTES", ge=1, le=60)

    def rounding(self) -> Rounding:
        return Rounding(unit_minutes=self.rounding_minutes)


class EligibilitySettings(_FromEnv):
    """Who is entitled (docs/domain-rules.md, "Partners"): read by the intake function, which
    assesses a care need when it is recorded. Apart from the billing settings, so a bad issuer
    setting cannot stop the hotline. template.yaml sets them in Globals; the defaults agree."""

    city_municipality: str = Field("hannover", alias="CITY_MUNICIPALITY", min_length=1)
    non_entitled: Literal["refuse", "standard"] = Field("refuse", alias="NON_ENTITLED")

    def rules(self) -> EligibilityRules:
        return EligibilityRules(city=self.city_municipality.strip().lower(), non_entitled=self.non_entitled)


class StatisticsSettings(_FromEnv):
    """The statistics report (docs/domain-rules.md, "The statistics report"): the city and its
    inhabitants for the coverage figures. Read by the audit function, which serves the report."""

    city_municipality: str = Field("hannover", alias="CITY_MUNICIPALITY", min_length=1)
    city_inhabitants: int = Field(539_641, alias="CITY_INHABITANTS", ge=1)


class CheckpointSettings(_FromEnv):
    """The log's checkpoints (docs/event-store.md, "Checkpoints"): the Object Lock bucket they are
    stored in and the KMS key that signs them. Read by the audit and checkpoint functions."""

    bucket: str = Field(alias="CHECKPOINTS_BUCKET", min_length=1)
    signing_key: str = Field(alias="LOG_SIGNING_KEY", min_length=1)


class BillingSettings(_FromEnv):
    """Invoicing (docs/domain-rules.md): the issuer on every invoice, VAT, the rounding of
    care time, and the bucket of the invoice documents. Read by the invoice function only.

    template.yaml sets them in Globals; the defaults are a fictional demo issuer. Only the
    invoice function needs DOCUMENTS_BUCKET (`bucket()` fails without it).
    """

    issuer_name: str = Field("Notfallbetreuung Region Hannover (Demo)", alias="ISSUER_NAME", min_length=1)
    issuer_street: str = Field("Musterstraße 1", alias="ISSUER_STREET", min_length=1)
    issuer_postcode: str = Field("30159", alias="ISSUER_POSTCODE", pattern=r"^[0-9]{5}$")
    issuer_city: str = Field("Hannover", alias="ISSUER_CITY", min_length=1)
    issuer_country: str = Field("DE", alias="ISSUER_COUNTRY", pattern=r"^[A-Z]{2}$")
    issuer_email: str | None = Field("rechnung@notfallbetreuung.example", alias="ISSUER_EMAIL")
    issuer_tax_number: str = Field("25/200/12345", alias="ISSUER_TAX_NUMBER", min_length=1)
    issuer_vat_id: str | None = Field(None, alias="ISSUER_VAT_ID")
    issuer_iban: str = Field(
        "DE02120300000000202051", alias="ISSUER_IBAN", pattern=r"^[A-Z]{2}[0-9]{2}[0-9A-Z]{10,30}$"
    )
    issuer_bic: str = Field("BYLADEM1001", alias="ISSUER_BIC", pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")
    issuer_bank: str = Field("Deutsche Kreditbank (Demo)", alias="ISSUER_BANK", min_length=1)
    issuer_contact: str = Field("Buchhaltung Notfallbetreuung", alias="ISSUER_CONTACT", min_length=1)
    issuer_phone: str = Field("+49 511 0000000", alias="ISSUER_PHONE", min_length=1)
    vat_category: Literal["E", "S"] = Field("E", alias="VAT_CATEGORY")
    vat_rate: Decimal = Field(Decimal("0"), alias="VAT_RATE", ge=0, le=100)
    vat_exemption_reason: str | None = Field("Steuerfrei nach § 4 Nr. 25 UStG", alias="VAT_EXEMPTION_REASON")
    rounding_minutes: int = Field(15, alias="BILLING_ROUNDING_MINUTES", ge=1, le=60)
    headcount_bands: tuple[HeadcountBand, ...] = Field(DEFAULT_HEADCOUNT_BANDS, alias="PARTNER_HEADCOUNT_BANDS")
    documents_bucket: str | None = Field(None, alias="DOCUMENTS_BUCKET")

    @field_validator("headcount_bands", mode="before")
    @classmethod
    def _bands(cls, value: object) -> object:
        return parse_headcount_bands(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _vat_consistent(self) -> BillingSettings:
        if self.vat_category == "E" and (self.vat_rate != 0 or not self.vat_exemption_reason):
            raise ValueError("VAT_CATEGORY E (exempt) needs VAT_RATE 0 and a VAT_EXEMPTION_REASON")
        if self.vat_category == "S" and self.vat_rate <= 0:
            raise ValueError("VAT_CATEGORY S needs a VAT_RATE above 0")
        return self

    def issuer(self) -> Issuer:
        address = Address(
            name=self.issuer_name,
            street=self.issuer_street,
            postcode=self.issuer_postcode,
            city=self.issuer_city,
            country=self.issuer_country,
            email=self.issuer_email,
        )
        return Issuer(
            address=address,
            tax_number=self.issuer_tax_number,
            vat_id=self.issuer_vat_id,
            iban=self.issuer_iban,
            bic=self.issuer_bic,
            bank=self.issuer_bank,
            contact=self.issuer_contact,
            phone=self.issuer_phone,
        )

    def vat(self) -> Vat:
        reason = self.vat_exemption_reason if self.vat_category == "E" else None
        return Vat(category=self.vat_category, rate=self.vat_rate, exemption_reason=reason)

    def rounding(self) -> Rounding:
        return Rounding(unit_minutes=self.rounding_minutes)

    def bucket(self) -> str:
        if not self.documents_bucket:
            raise ValueError("DOCUMENTS_BUCKET is not set: the invoice function needs the documents bucket")
        return self.documents_bucket


class StatementSettings(_FromEnv):
    """Partner usage statements (docs/domain-rules.md, "Partner usage statements"): the least
    threshold of small-count suppression a partner user gets, and the bucket of the short-lived
    downloads (STATEMENTS_BUCKET, set on the invoice function only)."""

    threshold: int = Field(5, alias="STATEMENT_THRESHOLD", ge=1, le=100)
    statements_bucket: str | None = Field(None, alias="STATEMENTS_BUCKET")

    def bucket(self) -> str:
        if not self.statements_bucket:
            raise ValueError("STATEMENTS_BUCKET is not set: the invoice function needs the statements bucket")
        return self.statements_bucket
