# Proves on moto: a run's report counts the documents it stored and those already stored apart; a rerun stores none.
from __future__ import annotations

import json
from typing import Any

from notfall.app.partners import Partners
from notfall.domain.envelope import Metadata
from notfall.domain.partners import BillingIn, ContractIn, PartnerIn
from notfall.projection.projector import Projector
from notfall.store.base import iter_log

RUN = {"kind": "partner-monthly", "period": "2026-10"}


def meta(n: int) -> Metadata:
    return Metadata(command_id=f"setup-{n}", actor="staff", correlation_id=f"setup-{n}")


def two_companies(aws) -> None:
    """Two partner companies with a monthly fee for October 2026 and billing details, projected."""
    partners = Partners(aws.store())
    for n, partner_id in enumerate(("acme", "bolt"), start=1):
        partners.register(
            PartnerIn(
                partner_id=partner_id,
                kind="company",
                name=partner_id.upper(),
                municipality="hannover",
                joined_on="2026-01-01",
                employees=10,
            ),
            meta(n * 10),
        )
        partners.contract(
            partner_id,
            ContractIn(
                contract_id=f"rv-{partner_id}", fee_model="monthly", start="2026-01-01", monthly_fee_cents=10_000
            ),
            meta(n * 10 + 1),
        )
        partners.billing(
            partner_id,
            BillingIn(
                address={
                    "name": partner_id.upper(),
                    "street": "Lister Meile 12",
                    "postcode": "30161",
                    "city": "Hannover",
                }
            ),
            meta(n * 10 + 2),
        )
    store, projector = aws.store(), Projector(aws.store(), aws.readmodel())
    for env in iter_log(store):
        projector.project(env.stream_id, env.version)


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
