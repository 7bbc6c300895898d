# Fixtures of the API tests: the intake and audit functions' apps, wired as their handlers do, with in-memory parts.
"""`api` is the intake function's app exactly as functions/intake/app.py builds it, with the
in-memory event store and read model instead of DynamoDB; `audit_api` is the audit function's
app over the same store. The sample loader and helpers live in api_harness.py."""

from __future__ import annotations

import pytest
from api_harness import Api

from notfall.api import audit_routes, intake_routes, openapi, partner_routes
from notfall.api.resolver import make_resolver
from notfall.app.intake import Intake
from notfall.app.partners import Partners
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
def audit_api(store: MemoryEventStore, readmodel: MemoryReadModel) -> Api:
    """The audit function's app, wired as functions/audit/app.py wires it."""
    app = make_resolver()
    audit_routes.register(app, store)
    return Api(app, store, readmodel)
