"""Function settings from the environment; a missing one fails at import, not on first use."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    events_table: str = Field(alias="EVENTS_TABLE", min_length=1)
    commands_table: str = Field(alias="COMMANDS_TABLE", min_length=1)
    read_model_table: str = Field(alias="READ_MODEL_TABLE", min_length=1)

    @classmethod
    def from_env(cls) -> Settings:
        return cls.model_validate(dict(os.environ))
