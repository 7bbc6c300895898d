"""The generated history copied into DynamoDB (what `python -m infra.local --history` does): the
DynamoDB store then holds the same log as the in-memory store it was written to, events, positions,
command answers and the log's counter, and carries on appending after it."""

from datetime import UTC, date, datetime

from infra.local.history import copy_log
from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Metadata
from notfall.domain.events import CaseClosed
from notfall.history.generate import HistoryClock, log_digest, write_history
from notfall.history.plan import Totals
from notfall.store.base import iter_log
from notfall.store.memory import MemoryEventStore

WEEK = Totals(
    consultations=20,
    care_minutes=30 * 60,
    emergencies=8,
    transports=1,
    first_day=date(2019, 3, 4),
    last_day=date(2019, 3, 17),
)


def test_the_copied_log_is_the_written_log(aws) -> None:
    clock = HistoryClock()
    memory = MemoryEventStore(clock=clock)
    write_history(memory, WEEK, seed=3, clock=clock)
    events = list(iter_log(memory))

    assert copy_log(memory, aws.client, aws.events_table, aws.commands_table) == len(events)

    dynamo = aws.store(clock=lambda: datetime(2019, 3, 18, tzinfo=UTC))
    copied = list(iter_log(dynamo))
    assert [e.to_record() for e in copied] == [e.to_record() for e in events]  # ids and times too
    assert log_digest(dynamo) == log_digest(memory)
    first = events[0]
    assert dynamo.command_result(first.command_id) == memory.command_result(first.command_id)

    # The counter stands at the last position: the next append takes the one after it.
    case = next(e for e in events if e.event_type == "CaseOpened")
    last_version = max(e.version for e in events if e.stream_id == case.stream_id)
    closing = CaseClosed(reason="test", closed_at=datetime(2019, 3, 18, tzinfo=UTC))
    decision = Decision((Append(case.stream_id, last_version, (closing,), closing.closed_at),), {"ok": True})
    dynamo.append(decision, Metadata(command_id="after-the-copy", actor="test", correlation_id="test"))
    [appended] = list(iter_log(dynamo, after=len(events)))
    assert appended.position == len(events) + 1
