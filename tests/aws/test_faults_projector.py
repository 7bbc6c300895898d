"""Faults injected into the projector Lambda (functions/projector/app.py) on moto, fed the
scenario's real stream records; each test names the invariant it asserts.

Invariant: the read model equals a clean rebuild from the log (`replay_check.compare` finds no
differing row), after the projector was killed mid-batch, throttled on its reads and writes,
and the records were redelivered, duplicated and shuffled. A projector that trusts the record
(folds the stream only as far as the record's version and overwrites the rows) breaks it.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from faults import Inject, Killed

from notfall.projection.projector import Projector, rows_for_stream
from notfall.projection.replay_check import compare


class ProjectorTrustingTheRecord(Projector):
    """Without the guarantee: folds what the record names and overwrites whatever is there."""

    def project(self, stream_id: str, version: int) -> str:
        projected = rows_for_stream(stream_id, self.store.load(stream_id)[:version])
        if projected is None:
            return self._count("ignored")
        pk, at, rows = projected
        self.readmodel.replace(rows, at, self.readmodel.current(pk))
        return self._count("written")


@pytest.fixture
def records(aws, scenario) -> list[dict[str, Any]]:
    out = aws.lambda_records()
    assert len(out) > 20
    return out


def deliver(fn, records, context) -> list[str]:
    """One invocation; the sequence numbers it reports as failed."""
    response = fn.handler({"Records": records}, context)
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def redelivered(records: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """The batch again, every record twice, in a shuffled order."""
    again = records * 2
    random.Random(seed).shuffle(again)
    return again


def differing(aws, table: str) -> list[str]:
    return compare(aws.store(), aws.readmodel(table))["differing"]


@pytest.fixture
def fresh_table(aws):
    """A new, empty read-model table with the template's schema; its name."""
    names = iter(f"notfall-ReadModel-fault{i}" for i in range(100))
    return lambda: aws.create_table("ReadModelTable", next(names))


@pytest.mark.parametrize(
    ("projector_class", "holds"),
    [(Projector, True), (ProjectorTrustingTheRecord, False)],
    ids=["projector", "broken-projector-trusting-the-record"],
)
def test_killed_mid_batch_then_redelivered_duplicated_shuffled_read_model_equals_rebuild(
    aws, records, lambda_context, monkeypatch, fresh_table, projector_class, holds
) -> None:
    """Invariant: read model == clean rebuild from the log, after the function died after k
    records (the first, half the batch, all but the last) and the batch came again, each
    record twice, out of order. The broken projector, killed half way, leaves stale rows."""
    kills = (1, len(records) // 2, len(records) - 1) if holds else (len(records) // 2,)
    for killed_after in kills:
        table = fresh_table()
        fn = aws.load_function("projector", READ_MODEL_TABLE=table)
        projector = projector_class(fn.projector.store, fn.projector.readmodel)
        monkeypatch.setattr(fn, "projector", projector)
        project, done = projector.project, []

        def dies_after_k(stream_id: str, version: int, k=killed_after, project=project, done=done) -> str:
            if len(done) == k:
                raise Killed("the function timed out")
            done.append(project(stream_id, version))
            return done[-1]

        monkeypatch.setattr(projector, "project", dies_after_k)
        with pytest.raises(Killed):
            deliver(fn, records, lambda_context)
        assert len(done) == killed_after
        if killed_after == 1:
            assert differing(aws, table) != []  # one record projected: the rebuild differs for now

        monkeypatch.setattr(projector, "project", project)
        assert deliver(fn, redelivered(records, seed=killed_after), lambda_context) == []

        if holds:
            assert differing(aws, table) == [], killed_after
        else:
            # an older state overwrote a newer one
            assert any(row.endswith("/state") for row in differing(aws, table)), killed_after


def test_throttled_projector_reports_failures_and_redelivery_heals(aws, records, lambda_context, fresh_table) -> None:
    """Invariant: read model == clean rebuild, when 10 % of the projector's stream loads (Query),
    version reads (GetItem) or row writes (TransactWriteItems) are throttled: failed records are
    reported, Lambda redelivers from the lowest failed one (duplicated and shuffled here, too)
    until none fails."""
    for operation, code in [
        ("Query", "ProvisionedThroughputExceededException"),
        ("GetItem", "ThrottlingException"),
        ("TransactWriteItems", "ProvisionedThroughputExceededException"),
    ]:
        table = fresh_table()
        fn = aws.load_function("projector", READ_MODEL_TABLE=table)
        rounds, batch = 0, records
        with Inject(fn.wiring.client, operation, code, rate=0.1) as fault:
            while failed := deliver(fn, batch, lambda_context):
                rounds += 1
                assert rounds < 40, f"{operation}: the redeliveries never got through"
                lowest = min(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed)
                batch = redelivered(records[lowest:], seed=rounds)
        assert fault.injected > 0 and rounds > 0, operation
        assert differing(aws, table) == [], operation
