"""Time is an input: each use case and the event store read the clock they are given, never the
machine's; "today" is the Berlin day of that clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from care_builders import ALL_WEEK, profile
from domain_builders import call_in, need_in

from notfall.app.care import Care
from notfall.app.caregivers import Caregivers, RegisterIn
from notfall.app.intake import Intake
from notfall.app.tariffs import TariffRegister
from notfall.clock import berlin_today
from notfall.domain.caregiver import ClearanceRules
from notfall.domain.envelope import Metadata
from notfall.domain.tariffs import TariffIn, Tier
from notfall.projection.readmodel import MemoryReadModel
from notfall.store.memory import MemoryEventStore

LATE = datetime(2030, 12, 31, 23, 30, tzinfo=UTC)  # already 1 January 2031 in Berlin


def meta(n: int) -> Metadata:
    return Metadata(command_id=f"cmd-{n}", actor="staff", correlation_id=f"corr-{n}")


def test_berlin_today_is_the_berlin_day_of_the_clock() -> None:
    assert berlin_today(lambda: LATE) == date(2031, 1, 1)
    assert berlin_today(lambda: datetime(2027, 3, 28, 0, 59, tzinfo=UTC)) == date(2027, 3, 28)


def test_intake_the_register_and_the_store_stamp_the_clock_they_are_given() -> None:
    clock = lambda: LATE  # noqa: E731
    store = MemoryEventStore(clock)
    intake = Intake(store, new_id=lambda: "c1", clock=clock)
    case_id = intake.call_event(call_in("started"), meta(1))["case_id"]
    intake.need(case_id, need_in(), meta(2))
    Caregivers(store, clock).register(RegisterIn(caregiver_id="helga", profile=profile(), weekly=ALL_WEEK), meta(3))

    case = intake.load_case(case_id)
    assert case is not None and case.need_at is None  # a need alone is no emergency yet
    need = store.load(f"case-{case_id}")[-1]
    assert (need.event_type, need.occurred_at, need.recorded_at) == ("NeedClarified", LATE, LATE)
    [registered, *_] = store.load("caregiver-helga")
    assert (registered.occurred_at, registered.recorded_at) == (LATE, LATE)


def test_clearances_and_todays_prices_are_read_on_the_clocks_day() -> None:
    store = MemoryEventStore()
    # police clearance of 1 May 2024: valid five years, until 30 April 2029; first aid two years, until 31 May 2027
    helga = Caregivers(store, lambda: datetime(2027, 5, 30, 12, 0, tzinfo=UTC))
    helga.register(RegisterIn(caregiver_id="helga", profile=profile(), weekly=ALL_WEEK), meta(1))
    registered = helga.load("helga")
    assert registered is not None
    assert helga.clearance_problems(registered, ClearanceRules()) == []
    later = Caregivers(store, lambda: LATE)
    assert later.clearance_problems(registered, ClearanceRules()) == [
        "police clearance expired on 2029-05-01",
        "first-aid course expired on 2027-06-01",
    ]

    tariffs = TariffRegister(store, MemoryReadModel(), lambda: LATE)
    tariffs.publish_defaults()
    tariffs.set_tariff(TariffIn(tier=Tier.PARTNER, cents_per_hour=350, valid_from=date(2031, 1, 1)), meta(2))
    _, today, prices = tariffs.valid_today()
    assert today == date(2031, 1, 1)  # Berlin's day, though UTC still says 31 December
    assert prices["partner"] is not None and prices["partner"].cents_per_hour == 350


def test_an_open_offer_past_its_expiry_shows_timed_out_on_the_clock() -> None:
    offer = {"offer_id": "o1", "status": "open", "expires_at": LATE.isoformat()}
    assert Care(MemoryEventStore(), clock=lambda: LATE - timedelta(seconds=1)).offer_as_seen(offer)["status"] == "open"
    assert Care(MemoryEventStore(), clock=lambda: LATE).offer_as_seen(offer)["status"] == "timed_out"
