# Proves the read routes show the projected state: a case, the queues oldest first, hour sums per
# month and family, the OpenAPI document.
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from api_harness import Api, sample, sample_body, template_routes

from notfall.domain.commands import e164

LAATZEN = "+49 511 76023145"
GARBSEN = "+49 5131 448210"
HEMMINGEN = "+49 511 2340078"


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def start_call(api: Api, call_id: str, number: str | None, at: str) -> str:
    body = {**sample_body("call_started"), "call_id": call_id, "caller_number": number, "at": at}
    reply = api.call("call_started", body=body)
    assert reply.status in (200, 201), reply.body
    return reply.body["case_id"]


def voicemail(api: Api, call_id: str, number: str, at: str) -> str:
    body = {**sample_body("call_voicemail"), "call_id": call_id, "caller_number": number, "at": at}
    return api.call("call_voicemail", body=body).body["case_id"]


def emergency(api: Api, case_id: str, start: str, end: str, municipality: str = "laatzen") -> None:
    need = {**sample_body("need"), "window": {"start": start, "expected_end": end}, "municipality": municipality}
    assert api.call("need", case_id=case_id, body=need).status == 200
    assert api.call("outcome_care_need", case_id=case_id).status == 200


@pytest.mark.usefixtures("sample_employer")
def test_get_case_shows_the_projected_case(api: Api) -> None:
    case_id = api.open_case()
    assert api.call("get_case", case_id=case_id).status == 404  # not projected yet
    api.call("call_answered")
    api.call("need", case_id=case_id)
    api.call("outcome_care_need", case_id=case_id)
    api.project()
    reply = api.call("get_case", case_id=case_id)
    assert reply.status == 200
    case = reply.body
    assert (case["case_id"], case["status"], case["version"]) == (case_id, "emergency", 6)  # with eligibility
    assert case["caller_number"] == e164(LAATZEN) and case["family_id"].startswith("fam-")
    assert case["opened_at"] == "2026-03-02T06:12:04Z"
    assert case["calls"][0]["agent"] == "hotline-schulz"
    assert case["need"]["persons"] == [{"kind": "child", "age": 3}, {"kind": "child", "age": 6}]
    assert case["need"]["window"] == {"start": "2026-03-03T05:30:00Z", "expected_end": "2026-03-03T10:00:00Z"}
    # 06:30 to 11:00 Berlin on 3 March: 4.5 hours
    assert case["hours"]["requested_minutes_by_month"] == {"2026-03": 270}


@pytest.mark.usefixtures("sample_employer")
def test_open_queue_is_oldest_first_and_leaves_out_closed_cases(api: Api) -> None:
    middle = start_call(api, "pbx-b", GARBSEN, "2026-03-02T08:00:00+01:00")
    oldest = start_call(api, "pbx-a", LAATZEN, "2026-03-02T07:00:00+01:00")
    newest = start_call(api, "pbx-c", HEMMINGEN, "2026-03-02T09:00:00+01:00")
    closed = start_call(api, "pbx-d", None, "2026-03-02T06:00:00+01:00")
    api.call("close", case_id=closed)
    emergency(api, newest, "2026-03-02T12:00:00+01:00", "2026-03-02T16:00:00+01:00", "hemmingen")
    api.project()
    reply = api.call("open_cases")
    assert reply.status == 200 and reply.body["queue"] == "open"
    rows = reply.body["cases"]
    assert [r["case_id"] for r in rows] == [oldest, middle, newest]  # an emergency stays open
    assert rows[2]["status"] == "emergency" and rows[2]["municipality"] == "hemmingen"
    assert instant(rows[0]["opened_at"]) == datetime(2026, 3, 2, 6, tzinfo=UTC) and rows[0]["caller_number"] == e164(
        LAATZEN
    )
    assert all(not {"pk", "sk", "queue", "queue_at"} & r.keys() for r in rows)
    assert [r["case_id"] for r in api.call("open_cases", query={"limit": "2"}).body["cases"]] == [oldest, middle]


def test_callback_queue_lists_waiting_voicemails_oldest_first(api: Api) -> None:
    later = voicemail(api, "pbx-vm-2", GARBSEN, "2026-03-02T05:48:20+01:00")
    earlier = voicemail(api, "pbx-vm-1", LAATZEN, "2026-03-01T22:10:00+01:00")
    reached = voicemail(api, "pbx-vm-3", HEMMINGEN, "2026-03-02T01:30:00+01:00")
    api.call("callback", case_id=reached)
    api.project()
    reply = api.call("callbacks")
    assert reply.status == 200 and reply.body["queue"] == "callback"
    assert [r["case_id"] for r in reply.body["cases"]] == [earlier, later]
    assert instant(reply.body["cases"][0]["callback_pending_since"]) == datetime(2026, 3, 1, 21, 10, tzinfo=UTC)
    # the Laatzen caller rings again in the morning and is answered: the callback is settled
    start_call(api, "pbx-morning", LAATZEN, "2026-03-02T07:05:00+01:00")
    answered = {**sample_body("call_answered"), "call_id": "pbx-morning", "at": "2026-03-02T07:05:20+01:00"}
    assert api.call("call_answered", body=answered).body["case_id"] == earlier
    api.project()
    assert [r["case_id"] for r in api.call("callbacks").body["cases"]] == [later]
    # all three are still open cases
    assert len(api.call("open_cases").body["cases"]) == 3


@pytest.mark.usefixtures("sample_employer")
def test_hours_are_summed_per_berlin_month_and_per_family(api: Api) -> None:
    # Laatzen: 3 March 06:30-11:00 (270 min); the case is closed after the care
    first = start_call(api, "pbx-1", LAATZEN, "2026-03-02T07:12:04+01:00")
    emergency(api, first, "2026-03-03T06:30:00+01:00", "2026-03-03T11:00:00+01:00")
    api.call("close", case_id=first)
    # Laatzen again, a new case: 31 March 20:00 to 1 April 02:00 (summer time): 240 min + 120 min
    second = start_call(api, "pbx-2", LAATZEN, "2026-03-30T18:00:00+02:00")
    assert second != first
    emergency(api, second, "2026-03-31T20:00:00+02:00", "2026-04-01T02:00:00+02:00")
    # Garbsen: 10 March 14:00-17:00 (180 min)
    third = start_call(api, "pbx-3", GARBSEN, "2026-03-09T10:00:00+01:00")
    emergency(api, third, "2026-03-10T14:00:00+01:00", "2026-03-10T17:00:00+01:00", "garbsen")
    # Hemmingen: a need, but advice only: no care time
    advice = start_call(api, "pbx-4", HEMMINGEN, "2026-03-11T10:00:00+01:00")
    api.call("need", case_id=advice)
    api.call("outcome_advice", case_id=advice)
    api.project()

    march = api.call("month_hours")
    assert march.status == 200
    assert march.body == {
        "month": "2026-03",
        "cases": 3,
        "requested_minutes": 270 + 240 + 180,
        "requested_hours": "11.50",
        "cared_minutes": 0,
        "cared_hours": "0.00",
        "billed_minutes": 0,
        "billed_hours": "0.00",
    }
    april = api.call("month_hours", path_params={"month": "2026-04"}).body
    assert (april["cases"], april["requested_minutes"], april["requested_hours"]) == (1, 120, "2.00")
    may = api.call("month_hours", path_params={"month": "2026-05"}).body
    assert (may["cases"], may["requested_minutes"], may["requested_hours"]) == (0, 0, "0.00")

    laatzen = api.call("get_case", case_id=first).body["family_id"]
    garbsen = api.call("get_case", case_id=third).body["family_id"]
    assert laatzen == sample("family_hours")["pathParameters"]["family_id"]  # the sample asks for this family
    reply = api.call("family_hours")
    assert reply.status == 200 and reply.body["family_id"] == laatzen
    assert [(m["month"], m["cases"], m["requested_minutes"], m["requested_hours"]) for m in reply.body["months"]] == [
        ("2026-03", 2, 510, "8.50"),
        ("2026-04", 1, 120, "2.00"),
    ]
    months = api.call("family_hours", path_params={"family_id": garbsen}).body["months"]
    assert [(m["month"], m["requested_hours"]) for m in months] == [("2026-03", "3.00")]
    assert api.call("family_hours", path_params={"family_id": "fam-000000000000"}).body["months"] == []


def test_openapi_document_lists_every_route_of_the_template(api: Api) -> None:
    reply = api.call("openapi")
    assert reply.status == 200
    doc = reply.body
    assert doc["openapi"].startswith("3.")
    routes = {(r.path, r.method.lower()) for r in template_routes()} - {("/openapi.json", "get"), ("/swagger", "get")}
    assert {r[0] for r in routes} >= {"/calls/events", "/audit/events", "/partners"}
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert documented == routes  # one document for the whole API, whichever function serves a route
    bodiless = {
        "/caregivers/{caregiver_id}/cases/{case_id}/offers/{offer_id}/accept",  # the path says it all
        "/tariffs/published",
    }
    for path, method in routes:
        if method in ("post", "put") and path not in bodiless:
            assert "requestBody" in doc["paths"][path][method], path
    # the error shape of a case command is documented as a 422 response
    assert "422" in doc["paths"]["/cases/{case_id}/need"]["post"]["responses"]


def test_swagger_ui_shows_the_whole_api_beside_the_document(api: Api) -> None:
    reply = api.call("swagger")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/html"
    page = reply.body
    assert "SwaggerUIBundle" in page
    # the page carries the same document as /openapi.json, routes of every function included ...
    doc = api.call("openapi").body
    assert doc["paths"].keys() >= {"/audit/events", "/invoices/{number}", "/cases/{case_id}/offers"}
    for path in doc["paths"]:
        assert f'"{path}"' in page, path
    assert f'"title": "{doc["info"]["title"]}"' in page
    # ... and "Try it out" sends its requests to the stage the page came from
    assert '"url": "/v1"' in page
