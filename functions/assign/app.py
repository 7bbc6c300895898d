"""Care Lambda: candidates, offers, assignments, sessions, transport, the caregiver register
and caregivers' own routes, the care reports; and the scheduled sweep (sweep_handler)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from notfall.api import care_routes, caregiver_routes, report_routes
from notfall.api.resolver import make_resolver
from notfall.app.care import Care
from notfall.app.caregivers import Caregivers
from notfall.app.sweep import sweep
from notfall.settings import CareSettings
from notfall.wiring import Wiring

logger = Logger()
tracer = Tracer()
metrics = Metrics()
wiring = Wiring()
rules = CareSettings.from_env().rules()
care = Care(wiring.store, rules, clock=wiring.clock)
app = make_resolver()
care_routes.register(app, care, wiring.readmodel, rules)
caregiver_routes.register(app, Caregivers(wiring.store, wiring.clock), care, wiring.readmodel, rules)
report_routes.register(app, wiring.readmodel)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event, context):
    return app.resolve(event, context)


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def sweep_handler(event, context):
    """Scheduled every 5 minutes: offers time out, late needs are flagged unfilled."""
    result = sweep(care, wiring.readmodel, rules)
    metrics.add_metric(name="NeedsFlaggedUnfilled", unit=MetricUnit.Count, value=result["needs_flagged_unfilled"])
    metrics.add_metric(name="SweepFailures", unit=MetricUnit.Count, value=len(result["failed"]))
    logger.info("sweep done", extra=result)
    return result
