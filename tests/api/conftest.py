# Fixtures of the API tests: the intake, assign, audit and invoice functions' apps, wired as their
# handlers do, in memory.
"""`api` is the intake function's app exactly as functions/intake/app.py builds it, with the
in-memory event store and read model instead of DynamoDB; `assign_api`, `audit_api` and
`invoice_api` are the assign, audit and invoice functions' apps over the same store. The
sample loader and helpers live in api_harness.py."""

from __future__ import annotations

import pytest
from api_harness import RUN_AT, Api, Documents, Exports, SignedCheckpoints

from notfall.api import (
    as_of_routes,
    audit_routes,
    billing_routes,
    care_routes,
    caregiver_routes,
    family_routes,
    intake_routes,
    openapi,
    partner_routes,
    report_routes,
    statement_routes,
    statistics_routes,
    tariff_routes,
)
from notfall.api.resolver import make_resolver
from notfall.app.care import Care
from notfall.app.caregivers import Caregivers
from notfall.app.eligibility import assessor
from notfall.app.families import Families
from notfall.app.intake import Intake
from notfall.app.invoicing import Invoicing
from notfall.app.partners import Partners
from notfall.app.statements import Statements
from notfall.app.tariffs import TariffRegister
from notfall.clock import Clock
from notfall.projection.readmodel import MemoryReadModel
from notfall.settings import BillingSettings, CareSettings, EligibilitySettings, StatementSettings
from notfall.store.memory import MemoryEventStore


@pytest.fixture
def clock() -> Clock:
    """The apps' one clock, frozen at RUN_AT (after the samples' care): no API test reads today's date."""
    return lambda: RUN_AT


@pytest.fixture
def store(clock: Clock) -> MemoryEventStore:
    return MemoryEventStore(clock)


@pytest.fixture
def readmodel() -> MemoryReadModel:
    return MemoryReadModel()


@pytest.fixture
def api(store: MemoryEventStore, readmodel: MemoryReadModel, clock: Clock) -> Api:
    """The intake function's app, wired as functions/intake/app.py wires it: eligibility is
    assessed from the partner list of the read model (default rules: the city is hannover)."""
    app = make_resolver()
    intake = Intake(store, assess=assessor(readmodel, EligibilitySettings().rules()), clock=clock)
    intake_routes.register(app, intake, readmodel, BillingSettings().rounding())
    partner_routes.register(app, Partners(store, clock), readmodel)
    tariff_routes.register(app, TariffRegister(store, readmodel, clock))
    family_routes.register(app, Families(store, clock))
    openapi.register(app)
    return Api(app, store, readmodel)


@pytest.fixture
def assign_api(store: MemoryEventStore, readmodel: MemoryReadModel, clock: Clock) -> Api:
    """The assign function's app, wired as functions/assign/app.py wires it (default rules)."""
    rules = CareSettings().rules()
    care = Care(store, rules, clock=clock)
    app = make_resolver()
    care_routes.register(app, care, readmodel, rules)
    caregiver_routes.register(app, Caregivers(store, clock), care, readmodel, rules)
    report_routes.register(app, readmodel)
    return Api(app, store, readmodel)


@pytest.fixture
def checkpoints(clock: Clock) -> SignedCheckpoints:
    return SignedCheckpoints(clock)


@pytest.fixture
def audit_api(store: MemoryEventStore, readmodel: MemoryReadModel, checkpoints: SignedCheckpoints, clock: Clock) -> Api:
    """The audit function's app, wired as functions/audit/app.py wires it (checkpoints signed by a local key)."""
    app = make_resolver()
    audit_routes.register(app, store, checkpoints, clock)
    as_of_routes.register(app, store, clock)
    statistics_routes.register(app, store, readmodel, "hannover", 539_641)
    return Api(app, store, readmodel)


@pytest.fixture
def sample_employer(api: Api) -> None:
    """The samples' employer is a partner company with a contract: their care needs are entitled."""
    api.register_sample_employer()


@pytest.fixture
def documents() -> Documents:
    return Documents()


@pytest.fixture
def exports() -> Exports:
    return Exports()


@pytest.fixture
def invoice_api(
    store: MemoryEventStore, readmodel: MemoryReadModel, documents: Documents, exports: Exports, clock: Clock
) -> Api:
    """The invoice function's app, wired as functions/invoice/app.py wires it (default billing
    and statement settings), with the documents and downloads in memory and the clock on RUN_AT."""
    settings = BillingSettings()
    invoicing = Invoicing(
        store,
        readmodel,
        documents,
        settings.issuer(),
        settings.vat(),
        settings.rounding(),
        clock=clock,
        headcount_bands=settings.headcount_bands,
    )
    statements = Statements(
        store, readmodel, settings.rounding(), EligibilitySettings().rules(), exports, bands=settings.headcount_bands
    )
    app = make_resolver()
    billing_routes.register(app, invoicing)
    statement_routes.register(app, statements, StatementSettings().threshold)
    return Api(app, store, readmodel)
