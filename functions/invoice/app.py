"""Invoicing Lambda: the staff's invoice routes and the partners' usage statements (handler),
and the scheduled invoice runs (run_handler: {"kind": ..., "period": "previous"} from
EventBridge Scheduler)."""

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config

from notfall.api import billing_routes, statement_routes
from notfall.api.invoice_schedule import ScheduledRun
from notfall.api.resolver import make_resolver
from notfall.app.invoicing import Invoicing
from notfall.app.statements import Statements
from notfall.documents.exports import ExportStore
from notfall.documents.storage import DocumentStore
from notfall.settings import BillingSettings, EligibilitySettings, StatementSettings
from notfall.wiring import Wiring

logger = Logger()
tracer = Tracer()
metrics = Metrics()
wiring = Wiring()
settings = BillingSettings.from_env()
s3 = boto3.client("s3", config=Config(signature_version="s3v4", retries={"mode": "standard", "max_attempts": 5}))
invoicing = Invoicing(
    wiring.store,
    wiring.readmodel,
    DocumentStore(s3, settings.bucket()),
    settings.issuer(),
    settings.vat(),
    settings.rounding(),
    wiring.clock,
    eligibility=EligibilitySettings.from_env().rules(),
    headcount_bands=settings.headcount_bands,
)
statement_settings = StatementSettings.from_env()
statements = Statements(
    wiring.store,
    wiring.readmodel,
    settings.rounding(),
    EligibilitySettings.from_env().rules(),
    ExportStore(s3, statement_settings.bucket()),
    bands=settings.headcount_bands,
)
app = make_resolver()
billing_routes.register(app, invoicing)
statement_routes.register(app, statements, statement_settings.threshold)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event, context):
    return app.resolve(event, context)


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def run_handler(event, context):
    """Scheduled: bill the period that just ended. A rerun is safe (each invoice is issued
    once), so documents that could not be stored fail the invocation and Lambda retries it."""
    scheduled = ScheduledRun.model_validate(event)
    report = invoicing.run(scheduled.kind, scheduled.resolve(invoicing.clock()))
    metrics.add_metric(name="InvoicesIssued", unit=MetricUnit.Count, value=len(report["issued"]))
    metrics.add_metric(name="InvoicesRefused", unit=MetricUnit.Count, value=len(report["refused"]))
    metrics.add_metric(name="DocumentsStored", unit=MetricUnit.Count, value=report["documents_stored"])
    metrics.add_metric(name="DocumentsAlreadyStored", unit=MetricUnit.Count, value=report["documents_already_stored"])
    metrics.add_metric(name="DocumentErrors", unit=MetricUnit.Count, value=len(report["document_errors"]))
    if report["refused"]:
        logger.warning("invoice run refused some debtors", extra=report)
    else:
        logger.info("invoice run done", extra=report)
    if report["document_errors"]:
        raise RuntimeError(f"documents not stored for {len(report['document_errors'])} invoices; a rerun stores them")
    return report
