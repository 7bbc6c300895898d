"""GET /reports/statistics: the report of tests/domain/statistics_history.py as JSON and CSV,
read from the read model built from that log, who may read it, and bad input (4xx, the field named)."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest
from api_harness import Api, role_claims, sample

from notfall.api import statistics_routes
from notfall.api.resolver import make_resolver
from notfall.domain.envelope import Envelope
from notfall.projection.projector import rebuild
from notfall.projection.readmodel import MemoryReadModel
from notfall.store.base import LogPage

sys.path.insert(0, str(Path(__file__).parents[1] / "domain"))
from statistics_history import history


class LogOnly:
    """The history as the global order index hands it out, page by page, and stream by stream."""

    def __init__(self) -> None:
        self.events = history().envelopes

    def read_all(self, after: int = 0, limit: int = 500) -> LogPage:
        page = self.events[after : after + limit]
        return LogPage(page, after + len(page))

    def load(self, stream_id: str) -> list[Envelope]:
        return [e for e in self.events if e.stream_id == stream_id]


class StreamsOnly(LogOnly):
    """The route's store: the whole log outgrows the API's time limit, so it must read streams only."""

    def read_all(self, after: int = 0, limit: int = 500) -> LogPage:
        raise AssertionError("the statistics route read the whole log")


@pytest.fixture(scope="module")
def stats_api() -> Api:
    app = make_resolver()
    store = StreamsOnly()
    readmodel = MemoryReadModel()
    rebuild(LogOnly(), readmodel)  # type: ignore[arg-type]
    statistics_routes.register(app, store, readmodel, "hannover", 539_641)  # type: ignore[arg-type]
    return Api(app, store, readmodel)  # type: ignore[arg-type]


def ask(api: Api, role: str = "auditor", **query: str):
    return api.send(
        sample("report_statistics", query={"from": "2026-03", "to": "2026-03", **query}, claims=role_claims(role))
    )


@pytest.mark.parametrize("role", ["hotline", "accounting", "admin", "auditor"])
def test_staff_accounting_admin_and_auditors_read_the_report(stats_api: Api, role: str) -> None:
    reply = ask(stats_api, role)
    assert reply.status == 200
    assert reply.body["figures"]["consultations"] == 3 and reply.body["figures"]["emergencies"] == 3


@pytest.mark.parametrize("role", ["caregiver", "partner"])
def test_caregivers_and_partner_users_do_not(stats_api: Api, role: str) -> None:
    assert ask(stats_api, role).status == 403


def test_csv_download(stats_api: Api) -> None:
    reply = ask(stats_api, format="csv")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.body)))
    figures = {r["figure"]: r["value"] for r in rows if r["section"] == "figures"}
    assert (figures["requests"], figures["care_minutes"], figures["transports"]) == ("4", "330", "1")


def test_one_partner(stats_api: Api) -> None:
    body = ask(stats_api, partner="firma-x").body
    assert body["figures"]["emergencies"] == 1 and body["figures"]["care_minutes"] == 120


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"from": "2026-04", "to": "2026-03"}, 422, "query.to"),
        ({"from": "2026-3", "to": "2026-03"}, 422, "query.from"),
        ({"from": "2000-01", "to": "2026-12"}, 422, "query.to"),
        ({"partner": "nobody"}, 422, "query.partner"),
        ({"partner": "Not An Id"}, 422, "query.partner"),
        ({"municipality": "Atlantis"}, 422, "query.municipality"),
        ({"format": "xml"}, 422, "query.format"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(stats_api: Api, query: dict[str, str], status: int, field: str) -> None:
    reply = ask(stats_api, **query)
    assert reply.status == status
    assert field in reply.fields()
