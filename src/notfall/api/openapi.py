"""One OpenAPI document for the whole API, although several functions serve its routes, and
the Swagger UI that shows it (GET /swagger, beside GET /openapi.json).

Every route module lives in the shared layer, so any function can describe all of them:
the routes are registered on a resolver that only renders the document and the UI, and never
runs one.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from notfall.api.resolver import make_resolver

TITLE = "notfall API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Call intake, case work, caregivers and care, reports, partners, tariffs, invoicing and the "
    "auditors' history of notfall."
)
SWAGGER_PATH = "/swagger"
# What the describing resolver's routes get instead of their use cases: it never runs a route.
NEVER_RUN: Any = None


@cache
def describing() -> APIGatewayRestResolver:
    """A resolver with every route of the API and powertools' Swagger UI, which shows the
    document of the resolver it is enabled on: this one."""
    # Imported here, not at module load: only a request for the document needs every route
    # module, and the intake function's cold start should not pay for invoicing's.
    from notfall.api import (
        as_of_routes,
        audit_routes,
        billing_routes,
        care_routes,
        caregiver_routes,
        family_routes,
        intake_routes,
        partner_routes,
        report_routes,
        statement_routes,
        statistics_routes,
        tariff_routes,
    )

    app = make_resolver()
    intake_routes.register(app, intake=NEVER_RUN, readmodel=NEVER_RUN, rounding=NEVER_RUN)
    partner_routes.register(app, partners=NEVER_RUN, readmodel=NEVER_RUN)
    audit_routes.register(app, store=NEVER_RUN, checkpoints=NEVER_RUN)
    as_of_routes.register(app, store=NEVER_RUN, clock=NEVER_RUN)
    statistics_routes.register(app, store=NEVER_RUN, readmodel=NEVER_RUN, city="", city_inhabitants=0)
    care_routes.register(app, care=NEVER_RUN, readmodel=NEVER_RUN, rules=NEVER_RUN)
    caregiver_routes.register(app, caregivers=NEVER_RUN, care=NEVER_RUN, readmodel=NEVER_RUN, rules=NEVER_RUN)
    report_routes.register(app, readmodel=NEVER_RUN)
    tariff_routes.register(app, tariffs=NEVER_RUN)
    family_routes.register(app, families=NEVER_RUN)
    billing_routes.register(app, invoicing=NEVER_RUN)
    statement_routes.register(app, statements=NEVER_RUN, threshold=5)
    app.enable_swagger(path=SWAGGER_PATH, title=TITLE, version=VERSION, description=DESCRIPTION)
    return app


@cache
def document() -> str:
    return describing().get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION)


def register(app: APIGatewayRestResolver) -> None:
    @app.get("/openapi.json", include_in_schema=False)
    def openapi():  # no return annotation: powertools would try to validate a Response
        return Response(200, content_types.APPLICATION_JSON, document())

    @app.get(SWAGGER_PATH, include_in_schema=False)
    def swagger():
        # The describing resolver answers (the UI, or the document with ?format=json); its answer
        # is already a proxy response, handed on as it is.
        answer = describing().resolve(app.current_event.raw_event, app.lambda_context)
        return Response(answer["statusCode"], body=answer["body"], headers=answer.get("multiValueHeaders"))
