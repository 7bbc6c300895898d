# Proves which read-model rows a case state lays out: state, open queue, callback queue, and hours for care needs only.
from __future__ import annotations

from domain_builders import at, envelopes, facts, need, opened

from notfall.domain import events as ev
from notfall.domain.case import fold_case
from notfall.projection.case_rows import case_rows


def rows_of(*events: ev.Event) -> list[dict]:
    return case_rows(fold_case(envelopes("case-c1", events)))


def keys(rows: list[dict]) -> list[tuple[str, str]]:
    return [(r["pk"], r["sk"]) for r in rows]


WINDOW_OVER_MONTH_END = {"start": "2026-11-30T21:00:00+01:00", "expected_end": "2026-12-01T03:00:00+01:00"}


def test_an_open_case_has_its_state_and_an_open_queue_row() -> None:
    rows = rows_of(opened(), ev.CallStarted(call=facts("k1", 0)))
    assert keys(rows) == [("case#c1", "state"), ("case#c1", "queue#open")]
    state, queue = rows
    assert state["version"] == 2 and state["case"]["case_id"] == "c1"
    assert state["hours"] == {
        "requested_minutes_by_month": {},
        "cared_minutes_by_month": {},
        "session_minutes_by_start_month": {},
    }
    assert queue["queue"] == "open"
    # 07:12 Berlin, kept in fixed-width UTC so that the text sorts in time order; ties broken by case id
    assert queue["queue_at"] == "2026-03-02T06:12:00.000000Z#c1"
    assert (queue["status"], queue["municipality"], queue["callback_pending_since"]) == ("open", None, None)


def test_a_waiting_voicemail_adds_a_callback_row_until_settled() -> None:
    waiting = rows_of(opened(channel="voicemail"), ev.VoicemailLeft(call=facts("v1", 0)))
    assert keys(waiting) == [("case#c1", "state"), ("case#c1", "queue#open"), ("case#c1", "queue#callback")]
    assert waiting[2]["queue"] == "callback" and waiting[2]["queue_at"].endswith("#c1")
    settled = rows_of(
        opened(),
        ev.VoicemailLeft(call=facts("v1", 0)),
        ev.CallbackMade(agent="hotline-yilmaz", at=at(20), reached=True),
    )
    assert keys(settled) == [("case#c1", "state"), ("case#c1", "queue#open")]


def test_a_closed_case_keeps_only_its_state_row() -> None:
    rows = rows_of(opened(), ev.VoicemailLeft(call=facts("v1", 0)), ev.CaseClosed(reason="erledigt", closed_at=at(30)))
    assert keys(rows) == [("case#c1", "state")]
    assert rows[0]["case"]["status"] == "closed"


def test_a_care_need_has_hour_rows_per_month_and_per_family() -> None:
    rows = rows_of(
        opened(),
        ev.NeedClarified(need=need(window=WINDOW_OVER_MONTH_END)),
        ev.OutcomeRecorded(outcome=ev.Outcome.CARE_NEED),
    )
    hours = [r for r in rows if r["pk"].startswith(("month#", "family#"))]  # not the demand row
    assert keys(hours) == [
        ("month#2026-11", "case#c1"),
        ("family#fam-test", "month#2026-11#case#c1"),
        ("month#2026-12", "case#c1"),
        ("family#fam-test", "month#2026-12#case#c1"),
    ]
    for row in hours:
        assert row["requested_minutes"] == 180 and row["cared_minutes"] == 0
        assert (row["case_id"], row["family_id"]) == ("c1", "fam-test")
    assert rows[0]["hours"]["requested_minutes_by_month"] == {"2026-11": 180, "2026-12": 180}
    # the emergency is still open for assignment
    assert ("case#c1", "queue#open") in keys(rows)


def test_hour_rows_stay_when_an_emergency_is_closed() -> None:
    rows = rows_of(
        opened(),
        ev.NeedClarified(need=need()),
        ev.OutcomeRecorded(outcome=ev.Outcome.CARE_NEED),
        ev.CaseClosed(reason="Betreuung erledigt", closed_at=at(600)),
    )
    assert [r["requested_minutes"] for r in rows if r["pk"] == "month#2026-03"] == [270]


def test_no_hour_rows_without_a_care_need() -> None:
    needed_but_advised = rows_of(
        opened(),
        ev.NeedClarified(need=need()),
        ev.OutcomeRecorded(outcome="advice"),
        ev.CaseClosed(reason="outcome: advice", closed_at=at(30)),
    )
    clarified_only = rows_of(opened(), ev.NeedClarified(need=need()))
    for rows in (needed_but_advised, clarified_only):
        assert all(r["pk"].startswith("case#") for r in rows)
        assert rows[0]["hours"]["requested_minutes_by_month"] == {}


def test_queue_row_shows_the_clarified_need() -> None:
    rows = rows_of(opened(), ev.NeedClarified(need=need(municipality="garbsen")))
    queue = rows[1]
    assert queue["municipality"] == "garbsen"
    assert queue["care_start"] == need().window.start.isoformat().replace("+00:00", "Z")  # as in the case
