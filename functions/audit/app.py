"""Auditors' Lambda: the history API (events, the export with its hash chain, the signed
checkpoints and their public key), the read models as of a past day, the statistics report (the
period's cases from the read model, folded as the log would be), the nightly replay that checks
the read model, and the hourly checkpoint that seals the log."""

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from notfall.api import as_of_routes, statistics_routes
from notfall.api.audit_routes import register
from notfall.api.resolver import make_resolver
from notfall.projection.replay_check import compare
from notfall.settings import CheckpointSettings, StatisticsSettings
from notfall.store.checkpoints import Checkpoints
from notfall.wiring import Wiring

logger = Logger()
tracer = Tracer()
metrics = Metrics()
wiring = Wiring()
sealing = CheckpointSettings.from_env()
checkpoints = Checkpoints(boto3.client("s3"), boto3.client("kms"), sealing.bucket, sealing.signing_key, wiring.clock)
app = make_resolver()
register(app, wiring.store, checkpoints, wiring.clock)
as_of_routes.register(app, wiring.store, wiring.clock)
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


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def checkpoint_handler(event, context):
    """Scheduled: sign the log's last position and hash, once per position."""
    sealed = checkpoints.seal(wiring.store)
    logger.info("checkpoint", extra=sealed)
    return sealed
