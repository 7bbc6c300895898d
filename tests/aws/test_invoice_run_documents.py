# Proves on moto: a run's report counts the documents it stored and those already stored apart; a rerun stores none.
from __future__ import annotations

import json
from typing import Any

from invoice_setup import monthly_companies

RUN = {"kind": "partner-monthly", "period": "2026-10"}


def two_companies(aws) -> None:
    """Two partner companies with a monthly fee for October 2026 and billing details, projected."""
    monthly_companies(aws, ["acme", "bolt"])


def test_a_rerun_reports_documents_already_stored_and_none_stored_by_it(
    aws, lambda_context, api_event, monkeypatch
) -> None:
    two_companies(aws)
    runner = aws.load_function("invoice")
    metrics: dict[str, float] = {}
    monkeypatch.setattr(runner.metrics, "add_metric", lambda name, unit, value: metrics.__setitem__(name, value))

    # By hand: two companies, each a PDF and an EN 16931 XML: 4 documents stored by the first run.
    first = runner.run_handler(RUN, lambda_context)
    assert len(first["issued"]) == 2
    assert (first["documents_stored"], first["documents_already_stored"]) == (4, 0)
    assert (metrics["DocumentsStored"], metrics["DocumentsAlreadyStored"]) == (4, 0)

    # The rerun issues nothing and stores nothing: the 4 documents were there already.
    rerun = runner.run_handler(RUN, lambda_context)
    assert rerun["issued"] == [] and len(rerun["already_billed"]) == 2
    assert (rerun["documents_stored"], rerun["documents_already_stored"]) == (0, 4)
    assert (metrics["DocumentsStored"], metrics["DocumentsAlreadyStored"]) == (0, 4)
    assert "documents" not in rerun  # the old count, which added both, is gone

    # The same through POST /invoice-runs.
    response = runner.handler(api_event("POST", "/invoice-runs", body=RUN), lambda_context)
    answer: dict[str, Any] = json.loads(response["body"])
    assert response["statusCode"] == 200, answer
    assert (answer["documents_stored"], answer["documents_already_stored"]) == (0, 4)
