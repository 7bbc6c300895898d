"""The projector Lambda (functions/projector/app.py) fed Lambda-shaped DynamoDB stream batches
made from moto's real stream records (converted and filtered as the event source mapping in
template.yaml does).

Proves: a clean delivery projects every case to exactly the fold of its log; redelivery,
reverse version order, a partial failure retried from the lowest failed record (as Lambda
does with ReportBatchItemFailures) and a bisected batch all end in the same read model as
one clean delivery into an empty table; the sample payload events/dynamodb-stream-batch.json
is handled as delivered.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from notfall.app.intake import Intake
from notfall.domain.case import fold_case
from notfall.domain.commands import CallEventIn
from notfall.domain.envelope import Metadata
from notfall.domain.hours import minutes_by_month
from notfall.domain.partners import fold_partner
from notfall.projection.projector import rebuild
from notfall.projection.readmodel import MemoryReadModel


def stream_of(record) -> str:
    return record["dynamodb"]["Keys"]["stream_id"]["S"]


def deliver(fn, records, context) -> dict:
    response = fn.handler({"Records": records}, context)
    assert set(response) == {"batchItemFailures"}
    return response


@pytest.fixture
def records(aws, scenario):
    out = aws.lambda_records()
    assert len(out) > 20
    assert len({stream_of(r) for r in out}) == len(scenario.cases) + len(scenario.partner_ids)
    return out


@pytest.fixture
def fresh_table(aws):
    """A new, empty read-model table with the template's schema; yields its name."""
    names = iter(f"notfall-ReadModel-fresh{i}" for i in range(100))
    return lambda: aws.create_table("ReadModelTable", next(names))


@pytest.fixture
def clean_dump(aws, records, lambda_context, fresh_table):
    """The read model after one clean delivery of all records into an empty table."""
    table = fresh_table()
    fn = aws.load_function("projector", READ_MODEL_TABLE=table)
    for batch in aws.batches(records):
        assert deliver(fn, batch["Records"], lambda_context) == {"batchItemFailures": []}
    return aws.readmodel(table).dump()


def test_clean_delivery_projects_the_fold_of_each_case(aws, scenario, records, lambda_context):
    fn = aws.load_function("projector")
    batches = aws.batches(records)
    for batch in batches:
        assert deliver(fn, batch["Records"], lambda_context) == {"batchItemFailures": []}

    store, readmodel = aws.store(), aws.readmodel()
    for case_id in scenario.cases.values():
        state = fold_case(store.load(f"case-{case_id}"))
        row = readmodel.get(f"case#{case_id}", "state")
        assert row["version"] == state.version
        assert row["case"] == state.model_dump(mode="json")
    for partner_id in scenario.partner_ids:
        state = fold_partner(store.load(f"partner-{partner_id}"))
        assert readmodel.get(f"partner#{partner_id}", "state")["partner"] == state.partner.model_dump(mode="json")
    # Every row, not only the state rows, is what the log alone gives.
    replayed = MemoryReadModel()
    rebuild(store, replayed)
    assert readmodel.dump() == replayed.dump()
    # A stream is written once per batch: its later records find the row up to date.
    assert fn.projector.stats["written"] == (len(scenario.cases) + len(scenario.partner_ids)) * len(batches)
    assert fn.projector.stats["up-to-date"] == len(records) - fn.projector.stats["written"]

    a = scenario.cases["A"]
    assert [r["case_id"] for r in readmodel.queue("open")] == [a]  # B, C, E are closed
    assert readmodel.queue("callback") == []  # B's voicemail was called back
    need = fold_case(store.load(f"case-{a}")).need
    months = minutes_by_month(need.window.start, need.window.expected_end)
    assert set(months) == {"2026-10", "2026-11"}
    assert sum(months.values()) == (need.window.expected_end - need.window.start).total_seconds() // 60
    for month, minutes in months.items():
        assert [(r["case_id"], r["requested_minutes"]) for r in readmodel.query(f"month#{month}")] == [(a, minutes)]


def test_redelivery_changes_nothing(aws, records, lambda_context):
    fn = aws.load_function("projector")
    deliver(fn, records, lambda_context)
    before, written = aws.readmodel().dump(), fn.projector.stats["written"]

    assert deliver(fn, records, lambda_context) == {"batchItemFailures": []}
    assert deliver(fn, records[len(records) // 2 :], lambda_context) == {"batchItemFailures": []}

    assert aws.readmodel().dump() == before
    assert fn.projector.stats["written"] == written


def test_reverse_version_order_gives_the_same_state(aws, records, lambda_context, fresh_table, clean_dump):
    table = fresh_table()
    fn = aws.load_function("projector", READ_MODEL_TABLE=table)
    assert deliver(fn, list(reversed(records)), lambda_context) == {"batchItemFailures": []}
    assert aws.readmodel(table).dump() == clean_dump


def test_partial_failure_reports_the_records_and_the_retry_heals(
    aws, scenario, records, lambda_context, fresh_table, clean_dump, monkeypatch
):
    table = fresh_table()
    fn = aws.load_function("projector", READ_MODEL_TABLE=table)
    victim = scenario.cases["B"]
    real_replace = fn.projector.readmodel.replace
    failing = True

    def flaky_replace(rows, version, previous):
        if failing and rows[0]["pk"] == f"case#{victim}":
            raise RuntimeError("ProvisionedThroughputExceeded (simulated)")
        return real_replace(rows, version, previous)

    monkeypatch.setattr(fn.projector.readmodel, "replace", flaky_replace)

    response = deliver(fn, records, lambda_context)

    failed = [r["dynamodb"]["SequenceNumber"] for r in records if stream_of(r) == f"case-{victim}"]
    assert response == {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}
    # The other cases were projected meanwhile; the victim has no row at all.
    partial = aws.readmodel(table).dump()
    assert not any(r["pk"] == f"case#{victim}" for r in partial)
    assert {r["pk"] for r in partial} >= {f"case#{c}" for k, c in scenario.cases.items() if k != "B"}

    # Lambda retries from the lowest failed sequence number onward.
    failing = False
    lowest = min(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed)
    assert deliver(fn, records[lowest:], lambda_context) == {"batchItemFailures": []}
    assert aws.readmodel(table).dump() == clean_dump


def test_bisected_batch_gives_the_same_state(aws, records, lambda_context, fresh_table, clean_dump):
    table = fresh_table()
    fn = aws.load_function("projector", READ_MODEL_TABLE=table)
    half = len(records) // 2
    first, second = records[:half], records[half:]
    assert {stream_of(r) for r in first} & {stream_of(r) for r in second}, "halves should split a case"
    for part in (first[: half // 2], first[half // 2 :], second):
        assert deliver(fn, part, lambda_context) == {"batchItemFailures": []}
    assert aws.readmodel(table).dump() == clean_dump


def test_records_the_filter_would_drop_are_harmless(aws, records, lambda_context, fresh_table, clean_dump):
    """Should the filter ever be lost, ledger and counter records are ignored."""
    table = fresh_table()
    fn = aws.load_function("projector", READ_MODEL_TABLE=table)
    everything = [aws.to_lambda_record(r) for r in aws.stream_records()]
    assert len(everything) > len(records)
    assert deliver(fn, everything, lambda_context) == {"batchItemFailures": []}
    assert aws.readmodel(table).dump() == clean_dump
    assert fn.projector.stats["ignored"] == len(everything) - len(records)


def test_sample_payload_projects_its_case(aws, stream_batch_sample, lambda_context):
    keys = [r["dynamodb"]["Keys"] for r in stream_batch_sample["Records"]]
    stream_id = keys[0]["stream_id"]["S"]
    case_id = stream_id.removeprefix("case-")
    assert [k["version"]["N"] for k in keys] == ["1", "2", "3"] and {k["stream_id"]["S"] for k in keys} == {stream_id}
    # Write the events the sample's records point at: a call opens the case, then is answered.
    intake = Intake(aws.store(), new_id=lambda: case_id)
    first_at = datetime.fromtimestamp(stream_batch_sample["Records"][0]["dynamodb"]["ApproximateCreationDateTime"], UTC)
    for n, (type_, extra) in enumerate([("started", {}), ("answered", {"agent": "anna"})]):
        cmd = CallEventIn(type=type_, call_id="c1", line="hotline-1", caller_number="+49 30 999", at=first_at, **extra)
        intake.call_event(cmd, Metadata(command_id=f"s{n}", actor="phone-system", correlation_id="c1"))

    fn = aws.load_function("projector")
    assert fn.handler(stream_batch_sample, lambda_context) == {"batchItemFailures": []}

    row = aws.readmodel().get(f"case#{case_id}", "state")
    state = fold_case(aws.store().load(stream_id))
    assert row["version"] == state.version == 3
    assert row["case"] == state.model_dump(mode="json")
    assert row["case"]["calls"][0]["agent"] == "anna"


def test_read_api_answers_from_the_projected_table(aws, scenario, records, lambda_context, api_event):
    """The intake Lambda's GET routes on the DynamoDB read model (hours per month and family
    query a partition without a sort-key prefix, which DynamoDB must accept)."""
    deliver(aws.load_function("projector"), records, lambda_context)
    intake_fn = aws.load_function("intake")
    a = scenario.cases["A"]
    state = fold_case(aws.store().load(f"case-{a}"))
    months = minutes_by_month(state.need.window.start, state.need.window.expected_end)

    def get(path):
        response = intake_fn.handler(api_event("GET", path), lambda_context)
        assert response["statusCode"] == 200, response["body"]
        return json.loads(response["body"])

    case = get(f"/cases/{a}")
    assert case["hours"]["requested_minutes_by_month"] == months
    assert {k: v for k, v in case.items() if k != "hours"} == state.model_dump(mode="json")
    october = get("/hours/2026-10")
    assert (october["cases"], october["requested_minutes"]) == (1, months["2026-10"])
    family = get(f"/families/{state.family_id}/hours")
    assert [(m["month"], m["requested_minutes"]) for m in family["months"]] == sorted(months.items())
    assert [c["case_id"] for c in get("/cases")["cases"]] == [a]
    assert sorted(p["partner_id"] for p in get("/partners")["partners"]) == sorted(scenario.partner_ids)


def test_a_full_batch_adds_one_metric_value_per_outcome_and_prints_nothing_while_disabled(
    aws, records, lambda_context, capsys
):
    """powertools prints a metric by itself once it holds 100 values, disabled or not: a batch of
    150 records must add one value per outcome, the count, not one per record."""
    fn = aws.load_function("projector")
    batch = (records * (150 // len(records) + 1))[:150]  # redelivered records count as records too
    added: list[tuple[str, float]] = []
    add = fn.metrics.add_metric
    fn.metrics.add_metric = lambda name, unit, value: (added.append((name, value)), add(name, unit, value))[1]

    assert deliver(fn, batch, lambda_context) == {"batchItemFailures": []}

    assert sum(value for _, value in added) == 150
    assert len(added) == len({name for name, _ in added}) <= 2  # written, up-to-date: once each
    assert capsys.readouterr().out == ""
