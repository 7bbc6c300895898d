"""The projector Lambda (functions/projector/app.py) on moto with the care rows of issue 4.

Proves: caregiver streams and a case with an assignment, sessions (one over the Berlin month
end, one voided), a transport and its caregiver's expenses are projected from moto's real
stream records into the DynamoDB read model as the fold of their logs; the caregiver's own
rows and the rows the case puts into the caregiver's partition live side by side; the
rebuild from the log equals the live table and replay_check.compare finds no difference.

The records are every record of the stream (not only those the template's FilterCriteria
lets through), so the test does not depend on the filter naming "caregiver-" streams; the
projector ignores the streams it has no projection for (caller ledgers).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from itertools import count

import pytest

from notfall.app.care import Care
from notfall.app.caregivers import Caregivers, RegisterIn, TrainingIn
from notfall.app.intake import Intake
from notfall.domain import care as d
from notfall.domain.caregiver import Profile, WeeklyWindow, fold_caregiver
from notfall.domain.case import fold_case
from notfall.domain.commands import CallEventIn, NeedIn, OutcomeIn
from notfall.domain.envelope import Metadata
from notfall.projection.projector import rebuild, rows_for_stream, write_rows
from notfall.projection.replay_check import compare


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def care_log(aws, monkeypatch):
    """Two caregivers, and an emergency on the last night of October 2026 (Berlin, CET)."""
    clock = Clock(utc(2026, 10, 31, 15, 40))  # 16:40 in Berlin: the care need is recorded
    store = aws.store()
    commands = count(1)

    def meta(actor: str = "staff") -> Metadata:
        n = next(commands)
        return Metadata(command_id=f"cmd-{n}", actor=actor, correlation_id=f"corr-{n}")

    ids = (f"id{n}" for n in count(1))
    caregivers, care = Caregivers(store, clock), Care(store, ids=lambda: next(ids), clock=clock)
    all_week = [WeeklyWindow(weekday=day, start=time(0), end=time(0)) for day in range(7)]
    for caregiver_id, name in [("helga", "Helga Brandt"), ("omar", "Omar Haddad")]:
        profile = Profile(
            name=name,
            qualification="pedagogical",
            certificate_level=2,
            age_groups=["preschool", "school"],
            home_municipality="laatzen",
            municipalities_served=["laatzen"],
            police_clearance_on=date(2024, 5, 1),
            first_aid_on=date(2025, 6, 1),
        )
        caregivers.register(RegisterIn(caregiver_id=caregiver_id, profile=profile, weekly=all_week), meta())
    caregivers.training(
        "helga", TrainingIn(title="Grundkurs", kind="initial", on=date(2026, 9, 5), days=Decimal("1.5")), meta()
    )

    intake = Intake(store, new_id=lambda: "night1", clock=clock)
    case_id = intake.call_event(
        CallEventIn(
            type="started",
            call_id="k1",
            line="hotline-1",
            caller_number="+49 511 76023145",
            at=utc(2026, 10, 31, 15, 30),
        ),
        meta("phone-system"),
    )["case_id"]
    intake.need(
        case_id,
        NeedIn(
            persons=[{"kind": "child", "age": 4}],
            location={"kind": "home"},
            window={"start": "2026-10-31T18:00:00+01:00", "expected_end": "2026-11-01T08:00:00+01:00"},
            reasons=["hospital_stay"],
            municipality="laatzen",
        ),
        meta(),
    )
    intake.outcome(case_id, OutcomeIn(outcome="care_need"), meta())

    clock.now = utc(2026, 10, 31, 16, 25)  # 45 minutes later
    care.assign(case_id, d.CaregiverRef(caregiver_id="helga"), meta())
    clock.now = utc(2026, 11, 1, 8, 0)
    care.record_session(
        case_id,
        d.SessionIn(
            caregiver_id="helga",
            start="2026-10-31T21:00:00+01:00",
            end="2026-11-01T03:00:00+01:00",
            travel_km=Decimal("12.5"),
        ),
        meta(),
    )
    void = care.record_session(
        case_id,
        d.SessionIn(caregiver_id="helga", start="2026-11-01T05:00:00+01:00", end="2026-11-01T07:00:00+01:00"),
        meta(),
    )
    care.void_session(case_id, void["session_id"], d.VoidIn(reason="recorded twice"), meta())
    transport = care.book_transport(
        case_id, d.TransportIn(from_place="Klinikum", to_place="home", at="2026-11-01T07:30:00+01:00"), meta()
    )
    care.transport_done(
        case_id, transport["transport_id"], d.TransportDoneIn(at="2026-11-01T07:55:00+01:00", km=Decimal("8.4")), meta()
    )
    return case_id


def test_caregivers_and_care_are_projected_and_rebuild_equals_live(aws, care_log, lambda_context):
    case_id = care_log
    records = [aws.to_lambda_record(r) for r in aws.stream_records()]
    streams = {r["dynamodb"]["Keys"]["stream_id"]["S"] for r in records}
    assert {"caregiver-helga", "caregiver-omar", f"case-{case_id}"} <= streams
    fn = aws.load_function("projector")
    for batch in aws.batches(records):
        assert fn.handler(batch, lambda_context) == {"batchItemFailures": []}

    store, readmodel = aws.store(), aws.readmodel()
    helga = fold_caregiver(store.load("caregiver-helga"))
    assert len(helga.bookings) == 1
    state_row = readmodel.get("caregiver#helga", "state")
    assert (state_row["version"], state_row["caregiver"]) == (helga.version, helga.model_dump(mode="json"))
    assert (state_row["training_days"], state_row["families_known"]) == ("1.5", 1)
    assert [(r["caregiver_id"], r["name"]) for r in readmodel.query("caregivers")] == [
        ("helga", "Helga Brandt"),
        ("omar", "Omar Haddad"),
    ]

    case = fold_case(store.load(f"case-{case_id}"))
    case_row = readmodel.get(f"case#{case_id}", "state")
    assert (case_row["version"], case_row["case"]) == (case.version, case.model_dump(mode="json"))
    assert case_row["hours"]["cared_minutes_by_month"] == {"2026-10": 180, "2026-11": 180}  # the voided one not
    assert [
        (r["month"], r["requested_minutes"], r["cared_minutes"])
        for m in ("2026-10", "2026-11")
        for r in readmodel.query(f"month#{m}")
    ] == [("2026-10", 360, 180), ("2026-11", 480, 180)]

    assert [r["sk"] for r in readmodel.query("caregiver#helga")] == [
        f"assignment#{case_id}#{case.assignments[0].assignment_id}",
        f"month#2026-10#case#{case_id}",
        f"month#2026-11#case#{case_id}",
        "state",
    ]
    october = readmodel.get("caregiver#helga", f"month#2026-10#case#{case_id}")
    assert (
        october["cared_minutes"],
        october["sessions"],
        october["travel_km"],
        october["travel_cents"],
        october["allowance_cents"],
    ) == (180, 1, "12.5", 375, 1000)

    [demand] = readmodel.query("demand#2026-10")
    assert (
        demand["case_id"],
        demand["minutes_to_assignment"],
        demand["within_target"],
        demand["weekday"],
        demand["hour"],
    ) == (case_id, 45, True, 5, 16)
    assert readmodel.queue("unassigned") == []
    [trip] = readmodel.query("transport#2026-11")
    assert (trip["status"], trip["km"], trip["price_cents"]) == ("done", "8.4", 800)

    # The log alone gives the same table: into an empty table, and as the nightly check sees it.
    live = readmodel.dump()
    rebuilt_table = aws.create_table("ReadModelTable", "notfall-ReadModel-care-rebuilt")
    rebuild(store, aws.readmodel(rebuilt_table))
    assert aws.readmodel(rebuilt_table).dump() == live
    report = compare(store, readmodel)
    assert report["differing"] == [] and report["rows"] == len(live)


def test_an_emergency_waits_in_the_unassigned_queue_until_assigned(aws, care_log, lambda_context):
    """Delivered before the assignment, the case sits in the sweep's queue; the later records
    take it out again (the stale row is deleted in the same transaction)."""
    case_id = care_log
    store = aws.store()
    log = store.load(f"case-{case_id}")
    outcome = next(e.version for e in log if e.event_type == "OutcomeRecorded")
    # The projector folds a stream as the log has it now, so the state right after the outcome
    # is written from the log cut there; then the Lambda catches up with every record.
    write_rows(aws.readmodel(), *rows_for_stream(f"case-{case_id}", log[:outcome]))
    [waiting] = aws.readmodel().queue("unassigned")
    assert (waiting["case_id"], waiting["queue_at"]) == (case_id, f"2026-10-31T15:40:00.000000Z#{case_id}")

    fn = aws.load_function("projector")
    records = [aws.to_lambda_record(r) for r in aws.stream_records()]
    assert fn.handler({"Records": records}, lambda_context) == {"batchItemFailures": []}
    assert aws.readmodel().queue("unassigned") == []
    assert aws.readmodel().get(f"case#{case_id}", "queue#unassigned") is None
