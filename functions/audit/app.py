"""Auditors' Lambda: the history API, the statistics report (the period's cases from the read
model, folded as the log would be), and the nightly replay that checks the read model."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from notfall.api import statistics_routes
from notfall.api.audit_routes import register
from notfall.api.resolver import make_resolver
from notfall.projection.replay_check import compare
from notfall.settings import StatisticsSettings
from notfall.wiring import Wiring

logger = Logger()
tracer = Tracer()
metrics = Metrics()
wiring = Wiring()
app = make_resolver()
register(app, wiring.store)
statistics_settings = StatisticsSettings.from_env()
statistics_routes.register(
    app, wiring.store, wiring.readmodel, statistics_settings.city_municipality, statistics_settings.city_inhabitants
)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event, context):
    return app.resolve(event, context)


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def replay_check_handler(event, context):
    """Scheduled: a read model that drifts from its log is a bug; count it and log where."""
    report = compare(wiring.store, wiring.readmodel)
    metrics.add_metric(name="ReadModelDrift", unit=MetricUnit.Count, value=len(report["differing"]))
    if report["differing"]:
        logger.error("read model differs from the replayed log", extra=report)
    else:
        logger.info("read model equals the replayed log", extra=report)
    return report
