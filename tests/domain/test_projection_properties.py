# Properties of the folds and projections: a case fold depends only on its stream's events in version order,
# and the read model reaches the same rows however the stream records arrive (any order, any prefix
# redelivered while the history is still being written), the same rows a rebuild from the log writes.
from __future__ import annotations

from collections.abc import Callable
from itertools import count

from domain_builders import call_in, callback_in, close_in, consultation_in, need_in, outcome_in
from hypothesis import given
from hypothesis import strategies as st

from notfall.app.intake import Intake
from notfall.domain.case import fold_case
from notfall.domain.envelope import Metadata
from notfall.projection.projector import Projector, rebuild
from notfall.projection.readmodel import MemoryReadModel
from notfall.store.base import iter_log
from notfall.store.memory import MemoryEventStore

Step = Callable[[Intake, dict[str, str]], None]


def _opens(name: str, type_: str, call_id: str, minutes: int, number: str | None = None) -> Step:
    def step(intake: Intake, cases: dict[str, str]) -> None:
        extra = {} if number is None else {"number": number}
        cases[name] = intake.call_event(call_in(type_, call_id, minutes, **extra), meta())["case_id"]

    return step


# A morning at the hotline, one command a step: an emergency, an advice case, a voicemail, a second case.
STEPS: list[Step] = [
    _opens("a", "started", "pbx-a", 0),
    lambda intake, cases: intake.call_event(call_in("answered", "pbx-a", 1), meta()),
    lambda intake, cases: intake.consultation(cases["a"], consultation_in(1, 15), meta()),
    lambda intake, cases: intake.need(cases["a"], need_in(), meta()),
    lambda intake, cases: intake.need(cases["a"], need_in(municipality="hemmingen"), meta()),
    lambda intake, cases: intake.outcome(cases["a"], outcome_in("care_need"), meta()),
    lambda intake, cases: intake.call_event(call_in("ended", "pbx-a", 16), meta()),
    _opens("b", "started", "pbx-b", 20, "+49 5131 448210"),
    lambda intake, cases: intake.outcome(cases["b"], outcome_in("advice"), meta()),
    _opens("c", "voicemail", "pbx-c", -90, "+49 511 2340078"),
    lambda intake, cases: intake.callback(cases["c"], callback_in(False, 30), meta()),
    lambda intake, cases: intake.close(cases["a"], close_in(600), meta()),
    _opens("d", "started", "pbx-d", 700),
]

_commands = count(1)


def meta() -> Metadata:
    n = next(_commands)
    return Metadata(command_id=f"cmd-{n}", actor="hotline-schulz", correlation_id=f"corr-{n}")


def records(store: MemoryEventStore) -> list[tuple[str, int]]:
    """What the DynamoDB stream delivers: (stream, version) of each insert, in log order."""
    return [(e.stream_id, e.version) for e in iter_log(store)]


def history() -> tuple[MemoryEventStore, Intake]:
    store = MemoryEventStore()
    numbers = count(1)
    return store, Intake(store, new_id=lambda: f"c{next(numbers):02d}")


def written() -> MemoryEventStore:
    store, intake = history()
    cases: dict[str, str] = {}
    for step in STEPS:
        step(intake, cases)
    return store


# After each command: which of the records written so far the stream (re)delivers, as fractions of the log.
deliveries = st.lists(
    st.lists(st.floats(min_value=0, max_value=1, exclude_max=True), max_size=6),
    min_size=len(STEPS),
    max_size=len(STEPS),
)


@given(deliveries, st.randoms(use_true_random=False))
def test_rows_are_the_same_however_records_arrive_while_the_history_is_written(picks: list[list[float]], rng) -> None:
    store, intake = history()
    live = MemoryReadModel()
    projector = Projector(store, live)
    cases: dict[str, str] = {}
    for step, fractions in zip(STEPS, picks, strict=True):
        step(intake, cases)
        so_far = records(store)
        for fraction in fractions:  # any record so far, earlier ones again and again
            projector.project(*so_far[int(fraction * len(so_far))])
    final = records(store)
    rng.shuffle(final)  # then every record at least once more, in any order
    for record in final:
        projector.project(*record)
    rebuilt = MemoryReadModel()
    rebuild(store, rebuilt, page_size=rng.randint(1, 20))
    assert live.dump() == rebuilt.dump()
    assert len({r["pk"] for r in live.dump() if r["sk"] == "state"}) == 4


@given(st.randoms(use_true_random=False))
def test_a_case_fold_depends_only_on_its_events_in_version_order(rng) -> None:
    store = written()
    for stream in {s for s, _ in records(store) if s.startswith("case-")}:
        events = list(store.load(stream))
        shuffled = list(events)
        rng.shuffle(shuffled)
        state = fold_case(events)
        assert state is not None and fold_case(shuffled) == state == fold_case(events)
        assert state.version == len(events)
