"""Faults injected into invoice runs and cancellations (functions/invoice/app.py) on moto: S3
puts of documents failing, the function killed while storing a PDF, DynamoDB writes throttled
before and after they committed. Each test names the invariant it asserts:

- every billing key billed by exactly one invoice, each number issued once;
- numbers gapless per series (1..n);
- every issued invoice and credit note has its documents (PDF; XML for companies);
- no command answers 5xx after it committed (a cancellation whose documents fail answers 201).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import boto3
import pytest
from faults import Inject, Killed
from invoice_setup import monthly_companies, project

from infra.local.aws import REGION
from notfall.app.invoicing import document_keys, wants_xml
from notfall.domain import invoicing as inv

RUN = {"kind": "partner-monthly", "period": "2026-10"}
COMPANIES = ["acme", "bolt", "cito"]


@pytest.fixture
def companies(aws) -> list[str]:
    """Three partner companies with a monthly fee of 100 EUR from January 2026 and billing details, projected."""
    return monthly_companies(aws, COMPANIES)


def invoice_violations(aws, s3) -> list[str]:
    """The invoice invariants, from the event log and the documents bucket."""
    store, problems = aws.store(), []
    streams = {i["stream_id"]["S"] for i in aws.event_items()}
    by_series: dict[str, list[int]] = defaultdict(list)
    for stream_id in sorted(s for s in streams if s.startswith("series-")):
        numbers = [e.data.number for e in store.load(stream_id)]
        by_series[stream_id] = [int(n.rsplit("-", 1)[1]) for n in numbers]
        if len(set(numbers)) != len(numbers):
            problems.append(f"{stream_id}: a number issued twice {numbers}")
    for stream_id, numbers in by_series.items():
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"{stream_id}: numbers not gapless {numbers}")
    for stream_id in sorted(s for s in streams if s.startswith("billing-")):
        billed = [e.data.number for e in store.load(stream_id) if e.event_type == "BillingAssigned"]
        released = [e for e in store.load(stream_id) if e.event_type != "BillingAssigned"]
        if len(billed) - len(released) > 1:
            problems.append(f"{stream_id}: billed by {billed}")
    stored = {o["Key"] for o in s3.list_objects_v2(Bucket=aws.documents_bucket).get("Contents", [])}
    for stream_id in sorted(s for s in streams if s.startswith("invoice-")):
        state = inv.fold_invoice(store.load(stream_id))
        pdf, xml = document_keys(state.invoice.number, state.invoice.issue_date)
        wanted = [pdf, xml] if wants_xml(state.invoice) else [pdf]
        missing = [k for k in wanted if k not in stored]
        if missing:
            problems.append(f"{state.invoice.number} lacks {missing}")
    return problems


def issued(aws) -> list[str]:
    """The numbers of the invoices in the log."""
    streams = {i["stream_id"]["S"] for i in aws.event_items()}
    return sorted(s.removeprefix("invoice-") for s in streams if s.startswith("invoice-"))


def load_runner(aws) -> Any:
    """The invoice function in a new process. Its PDFs are stand-ins: rendering is not what
    these tests are about, and the real renderer costs half a second per invoice."""
    runner = aws.load_function("invoice")
    runner.invoicing.render_pdf = lambda invoice: f"%PDF-1.7 {invoice.number}".encode()
    return runner


def run_with(aws, lambda_context, fault_of) -> Any:
    """One invocation of the scheduled run with a fault on the new function's clients; the
    error that ended it, or None."""
    runner = load_runner(aws)
    try:
        with fault_of(runner):
            runner.run_handler(RUN, lambda_context)
    except (Exception, Killed) as ended:
        return ended
    return None


def rerun(aws, lambda_context) -> dict[str, Any]:
    """Lambda retries the scheduled invocation (a new process)."""
    return load_runner(aws).run_handler(RUN, lambda_context)


def nth_call(n: int):
    return lambda calls, _params: calls == n


def nth_pdf(n: int):
    """The n-th PDF put of a run (the XML of each invoice follows its PDF)."""
    pdfs = []

    def hit(_calls: int, params: dict[str, Any]) -> bool:
        if params["Key"].endswith(".pdf"):
            pdfs.append(params["Key"])
            return len(pdfs) == n
        return False

    return hit


def _killed(_params: dict[str, Any]) -> BaseException:
    return Killed("the function timed out while storing a PDF")


# Each fault, and how many invoices the first run issued (by hand, of three).
FAULTS = {
    # the run goes on (one invoice lacks its documents) and fails at its end
    "s3-put-of-the-2nd-pdf-fails": (
        lambda fn: Inject(fn.s3, "PutObject", "SlowDown", hit=nth_pdf(2), service="s3"),
        3,
    ),
    "killed-while-storing-the-2nd-pdf": (
        lambda fn: Inject(fn.s3, "PutObject", _killed, hit=nth_pdf(2), service="s3"),
        2,
    ),
    "dynamodb-write-of-the-2nd-invoice-throttled": (
        lambda fn: Inject(
            fn.wiring.client, "TransactWriteItems", "ProvisionedThroughputExceededException", hit=nth_call(2)
        ),
        1,
    ),
    "answer-of-the-2nd-invoice-lost-after-commit": (
        lambda fn: Inject(fn.wiring.client, "TransactWriteItems", "ThrottlingException", after=True, hit=nth_call(2)),
        2,
    ),
}


@pytest.mark.usefixtures("companies")
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_run_ended_half_way_and_rerun_bills_each_once_gapless_with_all_documents(aws, lambda_context, fault) -> None:
    """Invariants: every key billed once, numbers gapless, every issued invoice has both its
    documents - after a run that ended half way (its error makes Lambda retry) and its rerun."""
    s3 = boto3.client("s3", region_name=REGION)
    fault_of, issued_first = FAULTS[fault]
    ended = run_with(aws, lambda_context, fault_of)
    assert ended is not None  # the fault ended the run: Lambda retries it
    first = issued(aws)
    assert len(first) == issued_first
    if "pdf" in fault:
        # the second invoice was issued, its documents were not: the checker sees it
        assert invoice_violations(aws, s3) != []

    report = rerun(aws, lambda_context)

    assert invoice_violations(aws, s3) == []
    assert len(issued(aws)) == len(COMPANIES)  # one invoice per company, numbers 1..3
    assert len(report["issued"]) == len(COMPANIES) - len(first)
    assert len(report["already_billed"]) == len(first)
    assert report["document_errors"] == []


# --- a cancellation whose credit note's documents fail -------------------------------------------


@pytest.mark.usefixtures("companies")
def test_a_cancel_whose_documents_fail_answers_201_and_the_documents_follow(aws, lambda_context, api_event) -> None:
    """Invariants: no command answers 5xx after it committed; every issued credit note gets its
    documents (on the cancellation's retry, or when its documents are asked for)."""
    runner = load_runner(aws)
    number = runner.run_handler(RUN, lambda_context)["issued"][0]["number"]
    project(aws)

    def cancel() -> dict[str, Any]:
        event = api_event(
            "POST", f"/invoices/{number}/cancel", body={"reason": "wrong fee"}, headers={"Idempotency-Key": "k-1"}
        )
        event["pathParameters"] = {"number": number}
        return runner.handler(event, lambda_context)

    with Inject(runner.s3, "PutObject", "InternalError", hit=lambda *_: True, service="s3"):
        response = cancel()
    answer = json.loads(response["body"])
    assert response["statusCode"] == 201, answer  # committed: never a 5xx
    credit = answer["credit_note"]
    assert answer["documents"] == "pending"
    assert invoice_violations(aws, runner.s3) == [f"{credit} lacks {list(document_keys(credit, None))}"]

    # The retry (same key) answers as the first time and stores the documents now.
    again = cancel()
    assert again["statusCode"] == 201 and json.loads(again["body"]) == {**answer, "documents": "stored"}
    assert invoice_violations(aws, runner.s3) == []


@pytest.mark.usefixtures("companies")
def test_missing_documents_are_stored_when_asked_for(aws, lambda_context, api_event) -> None:
    """Invariant: every issued invoice has its documents - a link asked for renders and stores
    a document that a failed run left out, so no link answers 404."""
    runner = load_runner(aws)
    failing = Inject(runner.s3, "PutObject", "InternalError", hit=lambda *_: True, service="s3")
    with failing, pytest.raises(RuntimeError, match="documents not stored"):
        runner.run_handler(RUN, lambda_context)
    assert len(invoice_violations(aws, runner.s3)) == len(COMPANIES)
    number = issued(aws)[0]

    event = api_event("GET", f"/invoices/{number}/documents")
    event["pathParameters"] = {"number": number}
    response = runner.handler(event, lambda_context)
    assert response["statusCode"] == 200, response["body"]
    pdf, xml = document_keys(number, None)
    assert runner.s3.head_object(Bucket=aws.documents_bucket, Key=pdf)["ContentType"] == "application/pdf"
    assert runner.s3.head_object(Bucket=aws.documents_bucket, Key=xml)["ContentType"] == "application/xml"
    assert len(invoice_violations(aws, runner.s3)) == len(COMPANIES) - 1
