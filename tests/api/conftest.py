# Fixtures of the API tests: the intake, assign and audit functions' apps, wired as their handlers do, in memory.
"""`api` is the intake function's app exactly as functions/intake/app.py builds it, with the
in-memory event store and read model instead of DynamoDB; `assign_api` and `audit_api` are
the assign and audit functions' apps over the same store. The sample loader and helpers live
in api_harness.py."""

from __future__ import annotations

import pytest
from api_harness import Api

from notfall.api import (audit_routes, care_routes, caregiver_routes, intake_routes, openapi, partner_routes,
                         report_routes)
from notfall.api.resolver import make_resolver
from notfall.app.care import Care
from notfall.app.caregivers import Caregivers
from notfall.app.intake import Intake
from notfall.app.partners import Partners
from notfall.settings import CareSettings
from notfall.projection.readmodel import MemoryReadModel
from notfall.store.memory import MemoryEventStore


@pytest.fixture
def store() -> MemoryEventStore:
    return MemoryEventStore()


@pytest.fixture
def readmodel() -> MemoryReadModel:
    return MemoryReadModel()


@pytest.fixture
def api(store: MemoryEventStore, readmodel: MemoryReadModel) -> Api:
    """The intake function's app, wired as functions/intake/app.py wires it."""
    app = make_resolver()
    intake_routes.register(app, Intake(store), readmodel)
    partner_routes.register(app, Partners(store), readmodel)
    openapi.register(app)
    return Api(app, store, readmodel)


@pytest.fixture
def assign_api(store: MemoryEventStore, readmodel: MemoryReadModel) -> Api:
    """The assign function's app, wired as functions/assign/app.py wires it (default rules)."""
    rules = CareSettings().rules()
    care = Care(store, rules)
    app = make_resolver()
    care_routes.register(app, care, readmodel, rules)
    caregiver_routes.register(app, Caregivers(store), care, readmodel, rules)
    report_routes.register(app, readmodel)
    return Api(app, store, readmodel)


@pytest.fixture
def audit_api(store: MemoryEventStore, readmodel: MemoryReadModel) -> Api:
    """The audit function's app, wired as functions/audit/app.py wires it."""
    app = make_resolver()
    audit_routes.register(app, store)
    return Api(app, store, readmodel)
