"""API Lambda of call intake: phone-system call events, the hotline's case work (eligibility
assessed from the partner register when a care need is recorded), and the registers billing
builds on: partners with their contracts, tariffs, families' billing addresses."""

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths

from notfall.api import family_routes, intake_routes, openapi, partner_routes, tariff_routes
from notfall.api.resolver import make_resolver
from notfall.app.eligibility import assessor
from notfall.app.families import Families
from notfall.app.intake import Intake
from notfall.app.partners import Partners
from notfall.app.tariffs import TariffRegister
from notfall.settings import EligibilitySettings, RoundingSettings
from notfall.wiring import Wiring

logger = Logger()
tracer = Tracer()
wiring = Wiring()
eligibility = EligibilitySettings.from_env().rules()  # only what intake uses: billing settings are not read
app = make_resolver()
intake = Intake(wiring.store, assess=assessor(wiring.readmodel, eligibility), clock=wiring.clock)
intake_routes.register(app, intake, wiring.readmodel, RoundingSettings.from_env().rounding())
partner_routes.register(app, Partners(wiring.store, wiring.clock), wiring.readmodel)
tariff_routes.register(app, TariffRegister(wiring.store, wiring.readmodel, wiring.clock))
family_routes.register(app, Families(wiring.store, wiring.clock))
openapi.register(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event, context):
    return app.resolve(event, context)
