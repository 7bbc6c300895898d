"""Care use cases: offers, assignments, sessions, transport, and the sweep for late needs.

Commands that book a caregiver load the case and the caregiver streams and append to both
in one transaction; a concurrent booking of the same caregiver fails with a version
conflict (409), never a double booking.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from notfall.app.execute import execute
from notfall.clock import Clock, system_clock
from notfall.domain import care as d
from notfall.domain.caregiver import CaregiverState, caregiver_stream, fold_caregiver
from notfall.domain.case import CaseState, case_stream, fold_case
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError
from notfall.store.base import EventStore


def new_id() -> str:
    return uuid.uuid4().hex[:10]


class Care:
    def __init__(
        self,
        store: EventStore,
        rules: d.CareRules | None = None,
        ids: Callable[[], str] = new_id,
        clock: Clock = system_clock,
    ) -> None:
        self.store = store
        self.rules = rules or d.CareRules()
        self.ids = ids
        self.clock = clock

    def case(self, case_id: str, expected: int | None = None) -> CaseState | None:
        """The case now; with `expected` (If-Match), only if it is still at that version."""
        case = fold_case(self.store.load(case_stream(case_id)))
        if expected is not None and case is not None and case.version != expected:
            # Raised inside the decision, so a retry of a command that went through gets its
            # first answer rather than this conflict (see execute()).
            raise DomainError(
                f"case {case_id} is at version {case.version}, not {expected}: reload it and retry",
                field="header.If-Match",
            )
        return case

    def caregiver(self, caregiver_id: str | None) -> CaregiverState | None:
        return fold_caregiver(self.store.load(caregiver_stream(caregiver_id))) if caregiver_id else None

    def _assigned_caregiver(self, case: CaseState | None) -> CaregiverState | None:
        current = case.active_assignment if case else None
        return self.caregiver(current.caregiver_id) if current else None

    def _run(self, meta: Metadata, decide: Callable[[], Any]) -> dict[str, Any]:
        return execute(self.store, meta, decide)

    # offers and assignments
    def offer(self, case_id: str, cmd: d.CaregiverRef, meta: Metadata, expected: int | None = None) -> dict[str, Any]:
        return self._run(
            meta,
            lambda: d.decide_offer(
                self.case(case_id, expected),
                case_id,
                self.caregiver(cmd.caregiver_id),
                cmd.caregiver_id,
                self.ids(),
                self.clock(),
                self.rules,
            ),
        )

    def accept(
        self, case_id: str, caregiver_id: str, offer_id: str, meta: Metadata, expected: int | None = None
    ) -> dict[str, Any]:
        return self._run(
            meta,
            lambda: d.decide_accept(
                self.case(case_id, expected),
                case_id,
                self.caregiver(caregiver_id),
                caregiver_id,
                offer_id,
                self.ids(),
                self.clock(),
                self.rules,
            ),
        )

    def decline(
        self,
        case_id: str,
        caregiver_id: str,
        offer_id: str,
        cmd: d.DeclineIn,
        meta: Metadata,
        expected: int | None = None,
    ) -> dict[str, Any]:
        return self._run(
            meta,
            lambda: d.decide_decline(self.case(case_id, expected), case_id, caregiver_id, offer_id, cmd, self.clock()),
        )

    def assign(self, case_id: str, cmd: d.CaregiverRef, meta: Metadata, expected: int | None = None) -> dict[str, Any]:
        return self._run(
            meta,
            lambda: d.decide_assign(
                self.case(case_id, expected),
                case_id,
                self.caregiver(cmd.caregiver_id),
                cmd.caregiver_id,
                self.ids(),
                self.clock(),
                self.rules,
            ),
        )

    def reassign(self, case_id: str, cmd: d.ReassignIn, meta: Metadata, expected: int | None = None) -> dict[str, Any]:
        def decide():
            case = self.case(case_id, expected)
            return d.decide_reassign(
                case,
                case_id,
                self._assigned_caregiver(case),
                self.caregiver(cmd.caregiver_id),
                cmd,
                self.ids(),
                self.clock(),
                self.rules,
            )

        return self._run(meta, decide)

    def cancel(self, case_id: str, cmd: d.CancelIn, meta: Metadata, expected: int | None = None) -> dict[str, Any]:
        def decide():
            case = self.case(case_id, expected)
            return d.decide_cancel(case, case_id, self._assigned_caregiver(case), cmd, self.clock())

        return self._run(meta, decide)

    # sessions
    def record_session(
        self, case_id: str, cmd: d.SessionIn, meta: Metadata, expected: int | None = None
    ) -> dict[str, Any]:
        return self._run(
            meta, lambda: d.decide_record_session(self.case(case_id, expected), case_id, cmd, self.ids(), self.clock())
        )

    def check_in(
        self, case_id: str, caregiver_id: str, cmd: d.CheckInIn, meta: Metadata, expected: int | None = None
    ) -> dict[str, Any]:
        return self._run(
            meta,
            lambda: d.decide_check_in(
                self.case(case_id, expected), case_id, caregiver_id, cmd, self.ids(), self.clock()
            ),
        )

    def check_out(
        self, case_id: str, caregiver_id: str, cmd: d.CheckOutIn, meta: Metadata, expected: int | None = None
    ) -> dict[str, Any]:
        return self._run(
            meta, lambda: d.decide_check_out(self.case(case_id, expected), case_id, caregiver_id, cmd, self.clock())
        )

    def correct_session(
        self, case_id: str, session_id: str, cmd: d.CorrectionIn, meta: Metadata, expected: int | None = None
    ) -> dict[str, Any]:
        return self._run(
            meta, lambda: d.decide_correct_session(self.case(case_id, expected), case_id, session_id, cmd, self.clock())
        )

    def void_session(
        self, case_id: str, session_id: str, cmd: d.VoidIn, meta: Metadata, expected: int | None = None
    ) -> dict[str, Any]:
        return self._run(
            meta, lambda: d.decide_void_session(self.case(case_id, expected), case_id, session_id, cmd, self.clock())
        )

    # transport
    def book_transport(
        self, case_id: str, cmd: d.TransportIn, meta: Metadata, expected: int | None = None
    ) -> dict[str, Any]:
        return self._run(
            meta,
            lambda: d.decide_book_transport(
                self.case(case_id, expected),
                case_id,
                cmd,
                self.ids(),
                self.clock(),
                self.rules,
                self.caregiver(cmd.driver_id),
            ),
        )

    def transport_done(
        self, case_id: str, transport_id: str, cmd: d.TransportDoneIn, meta: Metadata, expected: int | None = None
    ) -> dict[str, Any]:
        return self._run(
            meta,
            lambda: d.decide_transport_done(self.case(case_id, expected), case_id, transport_id, cmd, self.clock()),
        )

    def cancel_transport(
        self, case_id: str, transport_id: str, cmd: d.VoidIn, meta: Metadata, expected: int | None = None
    ) -> dict[str, Any]:
        return self._run(
            meta,
            lambda: d.decide_transport_cancel(self.case(case_id, expected), case_id, transport_id, cmd, self.clock()),
        )

    def offer_as_seen(self, offer: dict[str, Any]) -> dict[str, Any]:
        """An offer row as the caregiver sees it now: the sweep records time-outs every few
        minutes, the caregiver sees an open offer past its expiry as timed out at once."""
        if offer["status"] == "open" and datetime.fromisoformat(offer["expires_at"]) <= self.clock():
            return {**offer, "status": "timed_out"}
        return offer

    # the sweep
    def sweep_case(self, case_id: str, reason_for: Callable[[CaseState], str]) -> list[str]:
        """Record timed-out offers and, past the target time, the unfilled need. Idempotent:
        command ids name the case and what was recorded, so a rerun appends nothing twice."""
        done: list[str] = []
        now = self.clock()
        case = self.case(case_id)
        if case is None:
            return done
        timeouts = d.decide_offer_timeouts(case, now)
        if timeouts is not None:
            ids = "+".join(timeouts.result["timed_out"])
            self.store.append(
                timeouts,
                Metadata(command_id=f"sweep:timeout:{case_id}:{ids}", actor="sweep", correlation_id=f"sweep:{case_id}"),
            )
            done.append("offers timed out")
            case = self.case(case_id)
            assert case is not None
        # Ask for the reason only when the need is due: it ranks the whole register, and most
        # cases in the queue are either young or flagged already.
        due = d.decide_unfilled(case, now, self.rules, "") is not None
        try:
            unfilled = d.decide_unfilled(case, now, self.rules, reason_for(case)) if due else None
        except DomainError:
            unfilled = None
        if unfilled is not None:
            since = d.unfilled_since(case)
            assert since is not None
            # One flag per wait: a caregiver dropping out later starts a new wait.
            self.store.append(
                unfilled,
                Metadata(
                    command_id=f"sweep:unfilled:{case_id}:{since.isoformat()}",
                    actor="sweep",
                    correlation_id=f"sweep:{case_id}",
                ),
            )
            done.append("need unfilled")
        return done
