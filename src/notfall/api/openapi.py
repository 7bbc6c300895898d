"""One OpenAPI document for the whole API, although several functions serve its routes.

Every route module lives in the shared layer, so any function can describe all of them:
the routes are registered on a resolver that only renders the document and never runs one.
"""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from notfall.api.resolver import make_resolver

TITLE = "notfall API"
VERSION = "1.0.0"


@cache
def document() -> str:
    # Imported here, not at module load: only a request for the document needs every route
    # module, and the intake function's cold start should not pay for invoicing's.
    from notfall.api import (audit_routes, billing_routes, care_routes, caregiver_routes, family_routes,
                             intake_routes, partner_routes, report_routes, tariff_routes)

    app = make_resolver()
    intake_routes.register(app, intake=None, readmodel=None, rounding=None)
    partner_routes.register(app, partners=None, readmodel=None)
    audit_routes.register(app, store=None)
    care_routes.register(app, care=None, readmodel=None, rules=None)
    caregiver_routes.register(app, caregivers=None, care=None, readmodel=None, rules=None)
    report_routes.register(app, readmodel=None)
    tariff_routes.register(app, tariffs=None)
    family_routes.register(app, families=None)
    billing_routes.register(app, invoicing=None)
    return app.get_openapi_json_schema(
        title=TITLE, version=VERSION,
        description="Call intake, case work, caregivers and care, reports, partners, tariffs, invoicing and the "
                    "auditors' history of notfall.",
    )


def register(app: APIGatewayRestResolver) -> None:
    @app.get("/openapi.json", include_in_schema=False)
    def openapi():  # no return annotation: powertools would try to validate a Response
        return Response(200, content_types.APPLICATION_JSON, document())
