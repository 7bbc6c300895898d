"""Caregiver register use cases: register, profile, trainings, status, availability."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from notfall.app.execute import execute
from notfall.clock import Clock, berlin_today, system_clock
from notfall.domain import caregiver as cg
from notfall.domain.envelope import Metadata
from notfall.domain.events import Value
from notfall.domain.inputs import Day, Text
from notfall.store.base import EventStore


class RegisterIn(Value):
    caregiver_id: Text = Field(pattern=r"^[a-z0-9-]{1,40}$")
    profile: cg.Profile
    weekly: list[cg.WeeklyWindow] = Field(default_factory=list)


class TrainingIn(Value):
    title: Text = Field(min_length=1, max_length=200)
    kind: Text = Field(pattern="^(initial|further|specialist_day)$")
    on: Day
    days: cg.Decimal = Field(gt=0, le=30, decimal_places=1)


class StatusIn(Value):
    status: Text = Field(pattern="^(active|paused|left)$")
    reason: Text | None = Field(default=None, max_length=300)


class WeeklyIn(Value):
    windows: list[cg.WeeklyWindow]


class Caregivers:
    def __init__(self, store: EventStore, clock: Clock = system_clock) -> None:
        self.store = store
        self.clock = clock

    def clearance_problems(self, state: cg.CaregiverState, rules: cg.ClearanceRules) -> list[str]:
        """What keeps the caregiver from being offered care on the clock's Berlin day."""
        return cg.clearance_problems(state, berlin_today(self.clock), rules)

    def load(self, caregiver_id: str) -> cg.CaregiverState | None:
        return cg.fold_caregiver(self.store.load(cg.caregiver_stream(caregiver_id)))

    def _run(self, caregiver_id: str, meta: Metadata, decide) -> dict[str, Any]:
        return execute(self.store, meta, lambda: decide(self.load(caregiver_id), self.clock()))

    def register(self, cmd: RegisterIn, meta: Metadata) -> dict[str, Any]:
        return self._run(
            cmd.caregiver_id, meta, lambda s, now: cg.decide_register(s, cmd.caregiver_id, cmd.profile, cmd.weekly, now)
        )

    def profile(self, caregiver_id: str, profile: cg.Profile, meta: Metadata) -> dict[str, Any]:
        return self._run(caregiver_id, meta, lambda s, now: cg.decide_profile(s, caregiver_id, profile, now))

    def training(self, caregiver_id: str, cmd: TrainingIn, meta: Metadata) -> dict[str, Any]:
        event = cg.TrainingAttended(**cmd.model_dump())
        return self._run(caregiver_id, meta, lambda s, now: cg.decide_training(s, caregiver_id, event, now))

    def status(self, caregiver_id: str, cmd: StatusIn, meta: Metadata) -> dict[str, Any]:
        event = cg.StatusChanged(**cmd.model_dump())
        return self._run(caregiver_id, meta, lambda s, now: cg.decide_status(s, caregiver_id, event, now))

    def weekly(self, caregiver_id: str, cmd: WeeklyIn, meta: Metadata) -> dict[str, Any]:
        return self._run(caregiver_id, meta, lambda s, now: cg.decide_weekly(s, caregiver_id, cmd.windows, now))

    def add_window(self, caregiver_id: str, window: cg.OneOffWindow, meta: Metadata) -> dict[str, Any]:
        return self._run(caregiver_id, meta, lambda s, now: cg.decide_one_off(s, caregiver_id, window, now))

    def withdraw_window(self, caregiver_id: str, window_id: str, meta: Metadata) -> dict[str, Any]:
        return self._run(caregiver_id, meta, lambda s, now: cg.decide_withdraw(s, caregiver_id, window_id, now))
