"""Function settings from the environment; a missing one fails at import, not on first use."""

from __future__ import annotations

import os
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from notfall.domain.care import CareRules
from notfall.domain.caregiver import ClearanceRules


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
            clearance=ClearanceRules(police_clearance_years=self.police_clearance_years,
                                     first_aid_years=self.first_aid_years),
        )
