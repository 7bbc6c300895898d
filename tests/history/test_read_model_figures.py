"""The statistics report and the partner statements read from the cases-by-month read model give
exactly the figures of the fold over the whole log, on a generated history with a session corrected
and one voided years later and an employee's payroll consent; and the read model is the same
whether the stream Lambda projects the records once, twice, shuffled, or the log is rebuilt."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from notfall.app.care import Care
from notfall.app.families import Families
from notfall.app.statements import Statements
from notfall.app.statistics import report
from notfall.domain.care import CorrectionIn, VoidIn
from notfall.domain.case import CaseState, fold_case
from notfall.domain.envelope import Metadata
from notfall.history.generate import HistoryClock, write_history
from notfall.history.plan import Totals
from notfall.projection import case_log
from notfall.projection.case_log import case_months, case_streams, month_pk
from notfall.projection.projector import Projector, rebuild
from notfall.projection.readmodel import MemoryReadModel
from notfall.reports.statistics import period, statistics
from notfall.settings import BillingSettings, EligibilitySettings
from notfall.store.base import iter_log
from notfall.store.memory import MemoryEventStore

# Four months over the turn of 2020 to 2021 (the same span as tests/history/test_history.py).
SHORT = Totals(
    consultations=400,
    care_minutes=700 * 60,
    emergencies=170,
    transports=12,
    first_day=date(2020, 10, 1),
    last_day=date(2021, 1, 31),
)
CONSENTING = "p-deister-logistik"  # the employer with the most cases with care in the short history
CORRECTED_AT = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)  # years after the period the session lies in
VOIDED_AT = datetime(2023, 2, 1, 9, 0, tzinfo=UTC)


class StreamsOnly:
    """The store as the read-model paths may use it: stream by stream, never the whole log."""

    def __init__(self, store: MemoryEventStore) -> None:
        self.load = store.load

    def read_all(self, after: int = 0, limit: int = 500) -> Any:
        raise AssertionError("the whole log was read")


def _meta(n: int) -> Metadata:
    return Metadata(command_id=f"late-{n}", actor="user:staff", correlation_id=f"late-{n}")


def _cases(store: MemoryEventStore) -> list[CaseState]:
    streams = sorted({e.stream_id for e in iter_log(store) if e.stream_id.startswith("case-")})
    return [c for s in streams if (c := fold_case(store.load(s))) is not None]


@pytest.fixture(scope="module")
def history() -> dict[str, Any]:
    clock = HistoryClock()
    store = MemoryEventStore(clock=clock)
    write_history(store, SHORT, seed=11, clock=clock)
    cared = [c for c in _cases(store) if any(s.end for s in c.live_sessions)]
    november = [c for c in cared if c.live_sessions[0].start.astimezone(UTC).month == 11]
    corrected, voided = november[0], november[1]
    care = Care(store, clock=clock)
    # A session of November moved into December, corrected in 2024; another voided in 2023.
    s = corrected.live_sessions[0]
    clock.now = CORRECTED_AT
    fix = CorrectionIn(start=s.start + timedelta(days=30), end=s.end + timedelta(days=30), reason="wrong month")
    care.correct_session(corrected.case_id, s.session_id, fix, _meta(1))
    clock.now = VOIDED_AT
    care.void_session(voided.case_id, voided.live_sessions[0].session_id, VoidIn(reason="never took place"), _meta(2))
    # The employee of a partner with care for children only consents to the 34a listing, at intake.
    employee = next(
        c
        for c in cared
        if c.need
        and c.need.employer == CONSENTING
        and all(p.kind == "child" and (p.age or 0) < 14 for p in c.need.persons)
    )
    clock.now = employee.opened_at + timedelta(minutes=20)
    Families(store, clock).payroll_consent(employee.case_id, True, _meta(3))
    live = MemoryReadModel()
    projector = Projector(store, live)
    for env in iter_log(store):  # the stream Lambda, record by record
        projector.project(env.stream_id, env.version)
    return {"store": store, "readmodel": live, "corrected": corrected.case_id, "voided": voided.case_id}


def _statements(history: dict[str, Any], store: Any) -> Statements:
    settings = BillingSettings()
    return Statements(store, history["readmodel"], settings.rounding(), EligibilitySettings().rules())


PERIODS = [
    ("2020-11", "2020-11"),
    ("2020-12", "2020-12"),
    ("2020-10", "2020-12"),
    ("2020-01", "2020-12"),
    ("2020-11", "2021-01"),
]


@pytest.mark.parametrize(("first", "last"), PERIODS)
def test_statistics_from_the_read_model_equal_the_whole_log(history: dict[str, Any], first: str, last: str) -> None:
    store, readmodel = history["store"], history["readmodel"]
    p = period(first, last)
    scopes: list[dict[str, str]] = [
        {},
        {"partner": CONSENTING},
        {"partner": "m-langenhagen"},
        {"municipality": "Laatzen"},
        {"municipality": "hannover"},
    ]
    for scope in scopes:
        whole = statistics(iter_log(store), p, **scope)
        assert report(readmodel, StreamsOnly(store), p, **scope) == whole, scope
    assert whole["figures"]["requests"] > 0


def test_a_correction_years_later_shows_on_the_read_models_report(history: dict[str, Any]) -> None:
    store, readmodel = history["store"], history["readmodel"]
    november = report(readmodel, store, period("2020-11", "2020-11"))
    late = {c["stream_id"]: c for c in november["corrections"]}
    assert [e["event_type"] for e in late["case-" + history["corrected"]]["events"]] == ["SessionCorrected"]
    assert [e["event_type"] for e in late["case-" + history["voided"]]["events"]] == ["SessionVoided"]
    assert "care_minutes" in late["case-" + history["corrected"]]["figures"]
    # The case is listed in the months of its times, not in the years up to the correction.
    months = case_months(store.load("case-" + history["corrected"]))
    assert "2020-11" in months and "2020-12" in months
    assert not any(m.startswith(("2022", "2023", "2024")) for m in months)


def test_a_municipality_only_other_periods_name_is_known(history: dict[str, Any]) -> None:
    """Zeros, as the whole log says, not 422: the place rows know every case's municipality."""
    store, readmodel = history["store"], history["readmodel"]
    p = period("2019-01", "2019-01")
    whole = statistics(iter_log(store), p, municipality="Laatzen")
    assert report(readmodel, store, p, municipality="Laatzen") == whole
    assert whole["figures"]["requests"] == 0


STATEMENTS = [
    {"period": "2020-11"},
    {"period": "2020-12"},
    {"period": "2020-Q4"},
    {"period": "2020"},
    {"period": "2021"},
    {"start": date(2020, 11, 15), "end": date(2021, 1, 10)},
]


@pytest.mark.parametrize("query", STATEMENTS, ids=lambda q: str(q.get("period") or "from-to"))
def test_statements_from_the_read_model_equal_the_whole_log(history: dict[str, Any], query: dict[str, Any]) -> None:
    statements, reference = _statements(history, StreamsOnly(history["store"])), _statements(history, history["store"])
    for partner in (CONSENTING, "m-langenhagen", "m-laatzen", "p-maschsee-verlag"):
        for threshold in (1, 5):
            whole = reference.whole_log_statement(partner, threshold=threshold, **query)
            assert statements.statement(partner, threshold=threshold, **query) == whole, (partner, threshold)


def test_the_consenting_employee_is_listed_from_the_read_model(history: dict[str, Any]) -> None:
    statements = _statements(history, StreamsOnly(history["store"]))
    listed = [
        statements.statement(CONSENTING, threshold=1, **q)["tax_free_listing"]
        for q in ({"period": "2020-Q4"}, {"period": "2021"})
    ]
    assert any(listed), "the payroll consent shows in the statement"


def test_redelivered_and_shuffled_records_give_the_rebuilt_read_model(history: dict[str, Any]) -> None:
    store = history["store"]
    records = [(e.stream_id, e.version) for e in iter_log(store)]
    delivered = records + random.Random(5).sample(records, len(records) // 3)
    random.Random(7).shuffle(delivered)
    shuffled = MemoryReadModel()
    projector = Projector(store, shuffled)
    for stream_id, version in delivered:
        projector.project(stream_id, version)
    rebuilt = MemoryReadModel()
    rebuild(store, rebuilt, page_size=97)
    assert shuffled.dump() == rebuilt.dump() == history["readmodel"].dump()
    assert rebuilt.query(month_pk("2020-11"))


def test_a_case_too_large_for_a_row_is_read_from_the_store(history: dict[str, Any], monkeypatch) -> None:
    """Its month rows list it without its events; the reader loads the stream instead."""
    store = history["store"]
    stream_id = "case-" + history["corrected"]
    monkeypatch.setattr(case_log, "MAX_LOG_CHARS", 10)
    small = MemoryReadModel()
    Projector(store, small).project(stream_id, len(store.load(stream_id)))
    [row] = small.query(month_pk("2020-11"))
    assert row["log"] is None
    assert case_streams(small, store, ["2020-11"]) == {stream_id: store.load(stream_id)}


def test_month_rows_hold_the_cases_events(history: dict[str, Any]) -> None:
    store, readmodel = history["store"], history["readmodel"]
    streams = case_streams(readmodel, store, ["2020-12"])
    assert streams
    for stream_id, envelopes in streams.items():
        assert envelopes == store.load(stream_id)
