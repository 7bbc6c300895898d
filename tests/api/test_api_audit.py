# Proves the auditors' history pages through every event in gapless global order, records readable back as
# envelopes, and the read models as of a past day or position answer as the live routes did.
from __future__ import annotations

from api_harness import Api, sample, sample_body

from notfall.domain.envelope import Envelope


def some_history(api: Api) -> int:
    """Two cases: a morning call that became an emergency (the caller works at a partner
    company), and a night voicemail called back."""
    case_id = api.open_case()  # 4 events
    api.call("call_answered")  # 1
    api.call("need", case_id=case_id)  # 1
    api.register_sample_employer()  # 2: the partner company and its contract
    api.call("outcome_care_need", case_id=case_id)  # 2: the outcome and the eligibility
    night = api.call("call_voicemail").body["case_id"]  # 4
    api.call("callback", case_id=night)  # 1
    assert api.log_length() == 15
    return 15


def page(audit_api: Api, after: int, limit: int) -> dict:
    reply = audit_api.call("audit_events", query={"after": str(after), "limit": str(limit)})
    assert reply.status == 200, reply.body
    return reply.body


def test_pages_follow_each_other_in_position_order(api: Api, audit_api: Api) -> None:
    total = some_history(api)
    seen, after, pages = [], 0, 0
    while True:
        body = page(audit_api, after, 6)
        pages += 1
        positions = [e["position"] for e in body["events"]]
        assert positions == list(range(after + 1, after + 1 + len(positions)))
        seen += body["events"]
        assert body["next_after"] == (positions[-1] if positions else after)
        assert body["complete"] is (len(positions) < 6)
        if body["complete"]:
            break
        after = body["next_after"]
    assert pages == 3  # 6 + 6 + 3
    assert [e["position"] for e in seen] == list(range(1, total + 1))
    assert seen == [e.to_record() for e in api.log()]


def test_records_are_complete_and_load_back_as_envelopes(api: Api, audit_api: Api) -> None:
    some_history(api)
    records = page(audit_api, 0, 100)["events"]
    assert [r["event_type"] for r in records[:4]] == ["CallerCaseOpened", "CallRouted", "CaseOpened", "CallStarted"]
    for record in records:
        assert {
            "event_id",
            "stream_id",
            "version",
            "position",
            "event_type",
            "schema_version",
            "occurred_at",
            "recorded_at",
            "actor",
            "correlation_id",
            "causation_id",
            "command_id",
            "data",
        } <= record.keys()
        assert Envelope.from_record(record).to_record() == record
    need = next(r for r in records if r["event_type"] == "NeedClarified")
    assert need["schema_version"] == 2 and need["correlation_id"] == sample("need")["requestContext"]["requestId"]
    assert need["data"]["need"]["municipality"] == sample_body("need")["municipality"]


def test_a_page_exactly_full_is_followed_by_an_empty_complete_one(api: Api, audit_api: Api) -> None:
    total = some_history(api)
    full = page(audit_api, 0, total)
    assert len(full["events"]) == total and full["complete"] is False and full["next_after"] == total
    rest = page(audit_api, total, total)
    assert rest == {"events": [], "next_after": total, "complete": True}


def test_the_sample_request_reads_from_the_start(api: Api, audit_api: Api) -> None:
    assert audit_api.call("audit_events").body == {"events": [], "next_after": 0, "complete": True}
    total = some_history(api)
    body = audit_api.call("audit_events").body  # after=0, limit=100
    assert len(body["events"]) == total and body["complete"] is True


def test_audit_function_serves_no_intake_routes(audit_api: Api) -> None:
    assert audit_api.call("open_cases").status == 404
    assert audit_api.call("call_started").status == 404
    assert audit_api.log_length() == 0


# --- the read models as of a past day (GET /audit/as-of) ---------------------------------------
# Every event of these tests is recorded at RUN_AT (2 April 2026, 08:00 Berlin): "today".


def test_as_of_today_shows_the_open_cases_as_the_hotline_sees_them(api: Api, audit_api: Api) -> None:
    some_history(api)
    api.project()
    hotline_sees = api.call("open_cases").body["cases"]
    assert len(hotline_sees) == 2  # the emergency and the voicemail

    reply = audit_api.call("audit_as_of", query={"date": "2026-04-02", "view": "open-cases"})

    assert reply.status == 200, reply.body
    assert reply.body["cases"] == hotline_sees
    assert reply.body["as_of"] == {
        "date": "2026-04-02",
        "position": 15,
        "recorded_at": "2026-04-02T06:00:00+00:00",
        "until": "2026-04-02T22:00:00+00:00",  # midnight in Berlin (CEST)
        "events": 15,
    }
    by_position = audit_api.call("audit_as_of", query={"position": "4", "view": "open-cases"})
    morning_case = next(e.stream_id for e in api.log() if e.stream_id.startswith("case-")).removeprefix("case-")
    assert by_position.status == 200 and [c["case_id"] for c in by_position.body["cases"]] == [morning_case]
    callbacks = audit_api.call("audit_as_of", query={"position": "15", "view": "callbacks"}).body
    assert callbacks["queue"] == "callback" and callbacks["cases"] == []  # the voicemail was called back


def test_bad_as_of_query_parameters_name_the_field(api: Api, audit_api: Api) -> None:
    some_history(api)
    for query, field in [
        ({"date": "2026-4-2", "view": "open-cases"}, "query.date"),
        ({"date": "2026-02-30", "view": "open-cases"}, "query.date"),
        ({"date": "2026-04-03", "view": "open-cases"}, "query.date"),  # after today
        ({"date": "2026-04-01", "view": "open-cases"}, "query.date"),  # before the first event
        ({"view": "open-cases"}, "query.date"),  # neither a date nor a position
        ({"date": "2026-04-02", "position": "3", "view": "open-cases"}, "query.date"),
        ({"position": "0", "view": "open-cases"}, "query.position"),
        ({"position": "drei", "view": "open-cases"}, "query.position"),
        ({"position": "16", "view": "open-cases"}, "query.position"),  # beyond the last event
        ({"date": "2026-04-02"}, "query.view"),
        ({"date": "2026-04-02", "view": "everything"}, "query.view"),
        ({"date": "2026-04-02", "view": "open-cases", "limit": "0"}, "query.limit"),
    ]:
        reply = audit_api.call("audit_as_of", query=query)
        assert reply.status == 422 and reply.fields() == [field], (query, reply.body)
    assert api.log_length() == 15  # read-only


def test_as_of_on_an_empty_log_is_refused(audit_api: Api) -> None:
    reply = audit_api.call("audit_as_of")
    assert reply.status == 422 and reply.fields() == ["query.date"]
