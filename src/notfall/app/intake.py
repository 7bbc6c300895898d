"""Intake use cases: load the streams a command needs, decide (pure), append (one write).

Phone events retry on a version conflict, since the phone system cannot resolve one; staff
commands answer 409 and let the person look again. A command retried with the same command
id returns the first answer, even when the state has moved on since.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from notfall.app.execute import execute
from notfall.clock import Clock, system_clock
from notfall.domain import case as c
from notfall.domain.commands import CallbackIn, CallEventIn, CloseIn, ConsultationIn, NeedIn, OutcomeIn
from notfall.domain.decision import Decision
from notfall.domain.eligibility import Assessment
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError, VersionConflict
from notfall.domain.events import Need
from notfall.store.base import EventStore

PHONE_RETRIES = 3


def new_case_id() -> str:
    return uuid.uuid4().hex[:12]


class Intake:
    def __init__(
        self,
        store: EventStore,
        new_id: Callable[[], str] = new_case_id,
        assess: Callable[[Need, date], Assessment] | None = None,
        clock: Clock = system_clock,
    ) -> None:
        """`assess` (see `notfall.app.eligibility.assessor`) decides eligibility and the price
        tier when a care need is recorded, and again when an emergency's need is clarified;
        without it none is recorded."""
        self.store = store
        self.new_id = new_id
        self.assess = assess
        self.clock = clock

    def _run(self, meta: Metadata, decide: Callable[[], Decision]) -> dict[str, Any]:
        return execute(self.store, meta, decide)

    def load_case(self, case_id: str) -> c.CaseState | None:
        return c.fold_case(self.store.load(c.case_stream(case_id)))

    def call_event(self, cmd: CallEventIn, meta: Metadata) -> dict[str, Any]:
        def decide() -> Decision:
            routing_id = c.caller_stream(cmd.caller_number, cmd.call_id)
            routing = c.fold_routing(routing_id, self.store.load(routing_id))
            target = routing.case_for(cmd.call_id)
            case = self.load_case(target) if target else None
            return c.decide_call_event(cmd, routing, case, self.new_id())

        for attempt in range(PHONE_RETRIES):
            try:
                return self._run(meta, decide)
            except VersionConflict:
                if attempt == PHONE_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _staff(
        self,
        case_id: str,
        meta: Metadata,
        decide: Callable[[c.CaseState | None], Decision],
        expected_version: int | None,
    ) -> dict[str, Any]:
        def run() -> Decision:
            case = self.load_case(case_id)
            if expected_version is not None and case is not None and case.version != expected_version:
                raise DomainError(
                    f"case {case_id} is at version {case.version}, not {expected_version}: reload it and retry",
                    field="header.If-Match",
                )
            return decide(case)

        return self._run(meta, run)

    def consultation(self, case_id: str, cmd: ConsultationIn, meta: Metadata, expected: int | None = None):
        return self._staff(case_id, meta, lambda case: c.decide_consultation(case, case_id, cmd), expected)

    def need(self, case_id: str, cmd: NeedIn, meta: Metadata, expected: int | None = None):
        return self._staff(
            case_id, meta, lambda case: c.decide_need(case, case_id, cmd, self.clock(), assess=self.assess), expected
        )

    def outcome(self, case_id: str, cmd: OutcomeIn, meta: Metadata, expected: int | None = None):
        return self._staff(
            case_id, meta, lambda case: c.decide_outcome(case, case_id, cmd, self.clock(), assess=self.assess), expected
        )

    def callback(self, case_id: str, cmd: CallbackIn, meta: Metadata, expected: int | None = None):
        return self._staff(case_id, meta, lambda case: c.decide_callback(case, case_id, cmd), expected)

    def close(self, case_id: str, cmd: CloseIn, meta: Metadata, expected: int | None = None):
        return self._staff(case_id, meta, lambda case: c.decide_close(case, case_id, cmd), expected)
