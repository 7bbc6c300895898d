# Proves stored events load back unchanged, old NeedClarified v1 payloads upcast to v2, newer ones
# are refused, and all times are UTC.
from __future__ import annotations

import json
from datetime import UTC, date, timedelta

import pytest
from domain_builders import at, berlin, call_in, envelopes, facts, need, opened, utc
from pydantic import ValidationError

from notfall.domain import events as ev
from notfall.domain.commands import CallbackIn, CloseIn, ConsultationIn
from notfall.domain.envelope import Envelope, event_types, load_event
from notfall.domain.events import NeedClarified, Person


def v1_record() -> dict:
    """A NeedClarified as the first schema stored it: children as ages, an adult as a flag."""
    return {
        "event_id": "2b0f6a8e-4c1d-4f51-9d7e-0e1a2b3c4d5e",
        "stream_id": "case-5e0c2b7a91d4",
        "version": 4,
        "position": 17,
        "event_type": "NeedClarified",
        "schema_version": 1,
        "occurred_at": "2026-03-02T07:35:00+01:00",
        "recorded_at": "2026-03-02T06:35:00.120000Z",
        "actor": "hotline-schulz",
        "correlation_id": "corr-1",
        "causation_id": "cmd-9",
        "command_id": "cmd-9",
        "data": {
            "need": {
                "children_ages": [2, 7],
                "adult_relative": True,
                "location": {"kind": "home"},
                "window": {"start": "2026-03-03T06:30:00+01:00", "expected_end": "2026-03-03T11:00:00+01:00"},
                "reasons": ["childcare_ill"],
                "municipality": "garbsen",
            }
        },
    }


def test_need_v1_loads_as_v2_with_persons() -> None:
    env = Envelope.from_record(v1_record())
    assert isinstance(env.data, NeedClarified)
    assert env.schema_version == NeedClarified.schema_version == 2
    assert env.data.need.persons == [Person(kind="child", age=2), Person(kind="child", age=7), Person(kind="adult")]
    assert env.data.need.municipality == "garbsen"
    assert (env.version, env.position, env.command_id) == (4, 17, "cmd-9")


def test_need_v1_without_adult_relative_has_children_only() -> None:
    payload = v1_record()["data"]
    del payload["need"]["adult_relative"]
    event = load_event("NeedClarified", 1, payload)
    assert [(p.kind, p.age) for p in event.need.persons] == [("child", 2), ("child", 7)]


def test_upcasting_does_not_change_the_stored_payload() -> None:
    record = v1_record()
    before = json.dumps(record, sort_keys=True)
    Envelope.from_record(record)
    assert json.dumps(record, sort_keys=True) == before


def test_upcast_event_writes_back_as_v2() -> None:
    record = Envelope.from_record(v1_record()).to_record()
    assert record["schema_version"] == 2
    assert "children_ages" not in record["data"]["need"]
    assert record["data"]["need"]["persons"][2] == {"kind": "adult", "age": None}


def test_a_payload_newer_than_the_code_is_refused() -> None:
    record = v1_record() | {"schema_version": 3}
    with pytest.raises(ValueError, match="newer than this code"):
        Envelope.from_record(record)


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        load_event("CaseTeleported", 1, {})


def test_a_v1_payload_that_breaks_todays_rules_is_refused() -> None:
    payload = v1_record()["data"]
    payload["need"]["children_ages"] = [2, 15]
    with pytest.raises(ValidationError):
        load_event("NeedClarified", 1, payload)


def every_event() -> list[ev.Event]:
    return [
        opened(),
        ev.CallStarted(call=facts("k1", 0)),
        ev.CallAnswered(call=facts("k1", 1, agent="hotline-schulz")),
        ev.CallEnded(call=facts("k1", 20, agent="hotline-schulz")),
        ev.VoicemailLeft(call=facts("v1", 30, number=None), recording_ref="vm/v1.wav"),
        ev.CallbackMade(agent="hotline-yilmaz", at=at(40), reached=False),
        ev.ConsultationRecorded(agent="hotline-schulz", started_at=at(1), ended_at=at(20), notes="Kita zu"),
        ev.NeedClarified(need=need(location={"kind": "elsewhere", "address": "Marktstr. 5, 30880 Laatzen"})),
        ev.OutcomeRecorded(outcome=ev.Outcome.REFERRAL, referral_to="Familienzentrum", note="n"),
        ev.CaseClosed(reason="outcome: referral", closed_at=at(50)),
        ev.CallerCaseOpened(case_id="c1"),
        ev.CallRouted(call_id="k1", case_id="c1"),
        ev.EligibilityAssessed(
            entitled=True,
            tier="partner",
            basis="beschäftigt bei Partner Leine Logistik GmbH (demo)",
            day=date(2026, 3, 3),
        ),
        ev.CareRefused(
            refused="care_need",
            day=date(2026, 3, 3),
            basis="Celle is neither hannover nor a partner "
            "municipality on 2026-03-03, and no employer with a partner contract was named",
            refused_at=at(45),
        ),
    ]


def test_every_event_type_is_covered_here() -> None:
    assert {e.event_type for e in every_event()} == {
        name for name, cls in event_types().items() if cls.__module__ == "notfall.domain.events"
    }


@pytest.mark.parametrize("event", every_event(), ids=lambda e: e.event_type)
def test_envelope_round_trips_through_its_record(event: ev.Event) -> None:
    env = envelopes("case-c1", [event], when=berlin(2026, 3, 2, 7, 12))[0]
    record = env.to_record()
    assert json.loads(json.dumps(record)) == record  # plain JSON, as stored
    back = Envelope.from_record(json.loads(json.dumps(record)))
    assert back == env
    assert type(back.data) is type(event)
    assert back.to_record() == record


def test_timestamps_given_with_an_offset_are_kept_in_utc() -> None:
    cmd = call_in("started")  # built from a Berlin time
    assert cmd.at == utc(2026, 3, 2, 6, 12) and cmd.at.tzinfo is UTC
    window = ev.Window(start="2026-03-03T06:30:00+01:00", expected_end="2026-03-03T11:00:00+01:00")
    assert (window.start, window.expected_end) == (utc(2026, 3, 3, 5, 30), utc(2026, 3, 3, 10))
    consult = ConsultationIn(agent="a", started_at="2026-03-02T07:12:31+01:00", ended_at="2026-03-02T07:31:10+01:00")
    callback = CallbackIn(agent="a", at="2026-07-02T06:05:00+02:00", reached=True)
    close = CloseIn(reason="r", at="2026-03-02T09:00:00+01:00")
    values = [consult.started_at, consult.ended_at, callback.at, close.at]
    assert values == [utc(2026, 3, 2, 6, 12, 31), utc(2026, 3, 2, 6, 31, 10), utc(2026, 7, 2, 4, 5), utc(2026, 3, 2, 8)]
    assert all(v.tzinfo is UTC for v in values)


def test_envelope_and_folded_state_times_are_utc() -> None:
    env = envelopes("case-c1", [opened()], when=berlin(2026, 10, 25, 2, 30))[0]
    record = Envelope.from_record(v1_record())
    for dt in (
        env.occurred_at,
        env.recorded_at,
        record.occurred_at,
        record.recorded_at,
        env.data.opened_at,
        record.data.need.window.start,
    ):
        assert dt.tzinfo is UTC and dt.utcoffset() == timedelta(0)
    assert record.occurred_at == utc(2026, 3, 2, 6, 35)
    assert env.to_record()["occurred_at"].endswith(("Z", "+00:00"))


def test_a_time_without_zone_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        CloseIn(reason="r", at="2026-03-02T09:00:00")
    assert err.value.errors()[0]["loc"] == ("at",)
