"""A small hand-made history around March 2026 for the statistics report's tests.

Expected figures are worked out in the tests from the comments here, never from the code.
2026-03-02 is a Monday; clocks go forward on 2026-03-29, so 31 March is CEST (UTC+2).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from notfall.domain import care_events as care
from notfall.domain import events as ev
from notfall.domain.envelope import Envelope, Event
from notfall.domain.partners import ContractEnded, ContractIn, ContractSigned, PartnerIn, PartnerRegistered

BERLIN = ZoneInfo("Europe/Berlin")


def b(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


class Log:
    """Events appended as a store would: each with its time, recorded at that time."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self._versions: dict[str, int] = {}

    def add(self, stream_id: str, event: Event, when: datetime) -> None:
        version = self._versions.get(stream_id, 0) + 1
        self._versions[stream_id] = version
        position = len(self.envelopes) + 1
        self.envelopes.append(
            Envelope(
                event_id=f"evt-{position}",
                stream_id=stream_id,
                version=version,
                position=position,
                event_type=event.event_type,
                schema_version=event.schema_version,
                occurred_at=when,
                recorded_at=when,
                actor="user:test",
                correlation_id=f"corr-{position}",
                causation_id=None,
                command_id=f"cmd-{position}",
                data=event,
            )
        )


def _need(municipality: str, persons: list[dict[str, Any]], start: datetime, end: datetime, reason: str, **more: Any):
    return ev.Need.model_validate(
        {
            "persons": persons,
            "location": {"kind": "home"},
            "window": {"start": start.isoformat(), "expected_end": end.isoformat()},
            "reasons": [reason],
            "municipality": municipality,
            **more,
        }
    )


def _call(call_id: str, at: datetime) -> ev.CallFacts:
    return ev.CallFacts(call_id=call_id, line="hotline-1", caller_number=None, at=at)


def _case(log: Log, case_id: str, channel: str, at: datetime) -> str:
    stream = f"case-{case_id}"
    log.add(stream, ev.CaseOpened(case_id=case_id, family_id=f"fam-{case_id}", channel=channel, opened_at=at), at)
    return stream


def _talk(log: Log, stream: str, start: datetime, end: datetime) -> None:
    log.add(stream, ev.ConsultationRecorded(agent="user:test", started_at=start, ended_at=end), end)


def _assign(log: Log, stream: str, at: datetime, start: datetime, end: datetime) -> None:
    event = care.CaregiverAssigned(
        assignment_id="a1", caregiver_id="cg-1", start=start, end=end, allowance_cents=1000, travel_cents_per_km=30
    )
    log.add(stream, event, at)


def history() -> Log:
    log = Log()
    # Partners: a company with 120 employees, Laatzen (43,000 inhabitants) under contract all
    # year, Sehnde (24,000) whose contract ended on 28 February.
    for pid, partner, contract in (
        ("firma-x", {"kind": "company", "name": "Firma X", "municipality": "hannover", "employees": 120}, {}),
        ("laatzen", {"kind": "municipality", "name": "Stadt Laatzen", "municipality": "laatzen"}, {}),
        ("sehnde", {"kind": "municipality", "name": "Stadt Sehnde", "municipality": "sehnde"}, {}),
    ):
        figures = {"inhabitants": 43000, "children_under_10": 4000} if pid == "laatzen" else {}
        if pid == "sehnde":
            figures = {"inhabitants": 24000, "children_under_10": 2000}
        stream = f"partner-{pid}"
        registered = PartnerIn.model_validate({"partner_id": pid, "joined_on": "2026-01-01", **partner, **figures})
        log.add(stream, PartnerRegistered(partner=registered), b(1, 1, 9))
        fee = {"fee_model": "monthly", "monthly_fee_cents": 5000} if pid == "firma-x" else {"fee_model": "per_child"}
        terms = ContractIn.model_validate({"contract_id": f"{pid}-1", "start": "2026-01-01", **fee, **contract})
        log.add(stream, ContractSigned(contract=terms), b(1, 1, 9))
    log.add("partner-sehnde", ContractEnded(contract_id="sehnde-1", end=b(2, 28, 12).date()), b(2, 1, 9))

    # c4: opened and consulted in February, an emergency on Sunday 1 March 09:00 (child of 10 in
    # Laatzen, work peak), never assigned.
    c4 = _case(log, "c4", "call", b(2, 27, 16))
    log.add(c4, ev.CallStarted(call=_call("p4", b(2, 27, 16))), b(2, 27, 16))
    _talk(log, c4, b(2, 27, 16, 5), b(2, 27, 16, 20))
    need4 = _need("laatzen", [{"kind": "child", "age": 10}], b(3, 2, 8), b(3, 2, 12), "work_peak")
    log.add(c4, ev.NeedClarified(need=need4), b(3, 1, 9))
    log.add(c4, ev.OutcomeRecorded(outcome=ev.Outcome.CARE_NEED), b(3, 1, 9))

    # c1: Monday 2 March 07:12 a call from Laatzen (children 3 and 6, Kita closed); consultation;
    # care need at 07:40; assigned at 08:40 (60 minutes); care on 3 March 06:30-11:00, corrected
    # on 5 April to 06:30-10:00 (210 minutes); a transport done on 3 March.
    c1 = _case(log, "c1", "call", b(3, 2, 7, 12))
    log.add(c1, ev.CallStarted(call=_call("p1", b(3, 2, 7, 12))), b(3, 2, 7, 12))
    _talk(log, c1, b(3, 2, 7, 15), b(3, 2, 7, 30))
    kids = [{"kind": "child", "age": 3}, {"kind": "child", "age": 6}]
    log.add(
        c1,
        ev.NeedClarified(need=_need("Laatzen", kids, b(3, 3, 6, 30), b(3, 3, 11), "childcare_closed")),
        b(3, 2, 7, 35),
    )
    log.add(c1, ev.OutcomeRecorded(outcome=ev.Outcome.CARE_NEED), b(3, 2, 7, 40))
    _assign(log, c1, b(3, 2, 8, 40), b(3, 3, 6, 30), b(3, 3, 11))
    session = care.SessionRecorded(
        session_id="s1",
        assignment_id="a1",
        caregiver_id="cg-1",
        start=b(3, 3, 6, 30),
        end=b(3, 3, 11),
        travel_km=Decimal(4),
    )
    log.add(c1, session, b(3, 3, 11, 30))
    trip = care.TransportBooked(
        transport_id="t1", from_place="Kita", to_place="home", at=b(3, 3, 12), persons=2, price_cents=800
    )
    log.add(c1, trip, b(3, 2, 9))
    log.add(c1, care.TransportDone(transport_id="t1", at=b(3, 3, 12, 30), km=Decimal(3)), b(3, 3, 12, 30))
    fix = care.SessionCorrected(
        session_id="s1", start=b(3, 3, 6, 30), end=b(3, 3, 10), travel_km=Decimal(4), reason="x"
    )
    log.add(c1, fix, b(4, 5, 10))

    # c3: Monday 2 March 07:50 a call from a withheld number, a consultation, advice; a second
    # call joins the case at 09:05.
    c3 = _case(log, "c3", "call", b(3, 2, 7, 50))
    log.add(c3, ev.CallStarted(call=_call("p3", b(3, 2, 7, 50))), b(3, 2, 7, 50))
    _talk(log, c3, b(3, 2, 7, 52), b(3, 2, 8))
    log.add(c3, ev.OutcomeRecorded(outcome=ev.Outcome.ADVICE), b(3, 2, 8))
    log.add(c3, ev.CallStarted(call=_call("p3b", b(3, 2, 9, 5))), b(3, 2, 9, 5))

    # c2: Wednesday 4 March 22:10 a voicemail from Hannover (an adult, hospital stay, employer
    # "firma x" by name); consultation on the 5th 08:00; care need at 08:30; flagged unfilled at
    # 10:01; assigned at 12:30 (240 minutes); a session 31 March 22:00 to 1 April 02:00 (120
    # minutes in March), checked out after March had ended; a transport booked and cancelled.
    c2 = _case(log, "c2", "voicemail", b(3, 4, 22, 10))
    log.add(c2, ev.VoicemailLeft(call=_call("p2", b(3, 4, 22, 10))), b(3, 4, 22, 10))
    _talk(log, c2, b(3, 5, 8), b(3, 5, 8, 20))
    adult = [{"kind": "adult"}]
    need2 = _need("Hannover", adult, b(3, 31, 22), b(4, 1, 2), "hospital_stay", employer="Firma X ")
    log.add(c2, ev.NeedClarified(need=need2), b(3, 5, 8, 25))
    log.add(c2, ev.OutcomeRecorded(outcome=ev.Outcome.CARE_NEED), b(3, 5, 8, 30))
    log.add(
        c2, care.NeedUnfilled(need_at=b(3, 5, 8, 30), detected_at=b(3, 5, 10, 1), reason="none free"), b(3, 5, 10, 1)
    )
    _assign(log, c2, b(3, 5, 12, 30), b(3, 31, 22), b(4, 1, 2))
    trip2 = care.TransportBooked(
        transport_id="t2", from_place="a", to_place="b", at=b(3, 31, 21), persons=1, price_cents=800
    )
    log.add(c2, trip2, b(3, 5, 12, 40))
    log.add(c2, care.TransportCancelled(transport_id="t2", reason="not needed"), b(3, 6, 9))
    started = care.SessionStarted(session_id="s2", assignment_id="a1", caregiver_id="cg-1", at=b(3, 31, 22))
    log.add(c2, started, b(3, 31, 22))
    log.add(c2, care.SessionEnded(session_id="s2", at=b(4, 1, 2), travel_km=Decimal(0)), b(4, 1, 2))

    # c5: Tuesday 10 March 10:00 opened by staff; a need from Garbsen (no partner) refused at 10:20.
    c5 = _case(log, "c5", "staff", b(3, 10, 10))
    need5 = _need("Garbsen", [{"kind": "child", "age": 2}], b(3, 11, 8), b(3, 11, 12), "childcare_ill")
    log.add(c5, ev.NeedClarified(need=need5), b(3, 10, 10, 15))
    refusal = ev.CareRefused(
        refused="care_need", day=b(3, 11, 8).date(), basis="not entitled", refused_at=b(3, 10, 10, 20)
    )
    log.add(c5, refusal, b(3, 10, 10, 20))

    # c6: April, outside the period.
    c6 = _case(log, "c6", "call", b(4, 2, 9))
    log.add(c6, ev.CallStarted(call=_call("p6", b(4, 2, 9))), b(4, 2, 9))
    _talk(log, c6, b(4, 2, 9, 1), b(4, 2, 9, 10))
    return log
