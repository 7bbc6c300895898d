"""API Lambda of call intake: phone-system call events, the hotline's case work, partners."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from notfall.api import intake_routes, openapi, partner_routes
from notfall.api.resolver import make_resolver
from notfall.app.intake import Intake
from notfall.app.partners import Partners
from notfall.wiring import Wiring

logger = Logger()
wiring = Wiring()
app = make_resolver()
intake_routes.register(app, Intake(wiring.store), wiring.readmodel)
partner_routes.register(app, Partners(wiring.store), wiring.readmodel)
openapi.register(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event, context):
    return app.resolve(event, context)
