"""DynamoDB requests per command of intake, care and tariffs (exact), and time per command on moto.

Run: make bench   (or .venv/bin/python -m bench.commands)
The request counts are what a Lambda makes against real DynamoDB too; the times are moto's
and only compare commands with each other.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal

from bench.harness import stack, table
from notfall.app.care import Care
from notfall.app.caregivers import Caregivers, RegisterIn
from notfall.app.eligibility import assessor
from notfall.app.intake import Intake
from notfall.app.tariffs import TariffRegister
from notfall.domain.care import CaregiverRef, CheckInIn, CheckOutIn, ReassignIn
from notfall.domain.caregiver import Profile, WeeklyWindow
from notfall.domain.commands import CallEventIn, CloseIn, ConsultationIn, NeedIn, OutcomeIn
from notfall.domain.envelope import Metadata
from notfall.domain.errors import Rejected
from notfall.domain.tariffs import TariffIn, Tier
from notfall.settings import EligibilitySettings

RUNS = 50
T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


PROFILE = Profile(
    name="Bench Caregiver",
    qualification="both",
    certificate_level=2,
    age_groups=["infant", "preschool", "school", "adult"],
    home_municipality="hannover",
    municipalities_served=["hannover"],
    police_clearance_on=date(2025, 1, 1),
    first_aid_on=date(2026, 1, 1),
)
ALL_WEEK = [WeeklyWindow(weekday=d, start=clock_time(0), end=clock_time(0)) for d in range(7)]


def meta(command_id: str, actor: str = "bench", fingerprint: str | None = None) -> Metadata:
    """`fingerprint`: the request a client's Idempotency-Key came with, as the API passes it."""
    return Metadata(command_id=command_id, actor=actor, correlation_id=command_id, request_fingerprint=fingerprint)


def refused(run) -> dict:
    try:
        return run()
    except Rejected as err:
        return {"refused": err.field}


def need() -> NeedIn:
    return NeedIn.model_validate(
        {
            "persons": [{"kind": "child", "age": 4}],
            "location": {"kind": "home"},
            "window": {
                "start": (T0 + timedelta(hours=2)).isoformat(),
                "expected_end": (T0 + timedelta(hours=6)).isoformat(),
            },
            "reasons": ["childcare_ill"],
            "municipality": "hannover",
        }
    )


def main() -> None:
    with stack() as (wiring, counter, _):
        # As the intake function wires it: a care need is assessed from the partner list.
        intake = Intake(wiring.store, assess=assessor(wiring.readmodel, EligibilitySettings().rules()))
        samples: dict[str, list[tuple[int, dict[str, int], float]]] = {}

        def measure(name: str, run) -> dict:
            counter.reset()
            started = time.perf_counter()
            result = run()
            elapsed = time.perf_counter() - started
            samples.setdefault(name, []).append((counter.total, dict(counter.ops), elapsed))
            return result

        for i in range(RUNS):
            number = f"+49 511 {7000000 + i}"
            call = {"call_id": f"bench-{i}", "line": "hotline", "caller_number": number, "at": T0}
            opened = measure(
                "call opens a case",
                lambda: intake.call_event(CallEventIn(type="started", **call), meta(f"s-{i}", "phone-system")),
            )
            case_id = opened["case_id"]
            measure(
                "call event of a routed call",
                lambda: intake.call_event(
                    CallEventIn(type="answered", agent="anna", **{**call, "at": T0 + timedelta(seconds=20)}),
                    meta(f"a-{i}", "phone-system"),
                ),
            )
            measure(
                "phone event resent (same command id)",
                lambda: intake.call_event(
                    CallEventIn(type="answered", agent="anna", **{**call, "at": T0 + timedelta(seconds=20)}),
                    meta(f"a-{i}", "phone-system"),
                ),
            )
            measure(
                "second call attaches to open case",
                lambda: intake.call_event(
                    CallEventIn(type="started", **{**call, "call_id": f"bench-{i}-b", "at": T0 + timedelta(minutes=9)}),
                    meta(f"s2-{i}", "phone-system"),
                ),
            )
            measure(
                "consultation",
                lambda: intake.consultation(
                    case_id,
                    ConsultationIn(agent="anna", started_at=T0, ended_at=T0 + timedelta(minutes=12)),
                    meta(f"c-{i}"),
                ),
            )
            measure("need", lambda: intake.need(case_id, need(), meta(f"n-{i}", fingerprint="need")))
            measure(
                "need retried with its key (same request)",
                lambda: intake.need(case_id, need(), meta(f"n-{i}", fingerprint="need")),
            )
            measure(
                "need's key sent with another request (422)",
                lambda: refused(lambda: intake.need(case_id, need(), meta(f"n-{i}", fingerprint="another need"))),
            )
            measure(
                "outcome care_need", lambda: intake.outcome(case_id, OutcomeIn(outcome="care_need"), meta(f"o-{i}"))
            )
            measure(
                "close",
                lambda: intake.close(case_id, CloseIn(reason="done", at=T0 + timedelta(hours=7)), meta(f"x-{i}")),
            )
            measure(
                "close retried (same command id)",
                lambda: intake.close(case_id, CloseIn(reason="done", at=T0 + timedelta(hours=7)), meta(f"x-{i}")),
            )
            measure(
                "close's key sent with another request (422)",
                lambda: refused(
                    lambda: intake.close(
                        case_id, CloseIn(reason="done", at=T0 + timedelta(hours=7)), meta(f"x-{i}", fingerprint="other")
                    )
                ),
            )

        care = Care(wiring.store, clock=lambda: T0)
        register = Caregivers(wiring.store)
        for i in range(RUNS // 5):
            for who in (f"anna-{i}", f"bert-{i}"):
                measure(
                    "register a caregiver",
                    lambda: register.register(
                        RegisterIn(caregiver_id=who, profile=PROFILE, weekly=ALL_WEEK), meta(f"r-{who}")
                    ),
                )
            number = f"+49 511 {7100000 + i}"
            case_id = intake.call_event(
                CallEventIn(type="started", call_id=f"care-{i}", line="hotline", caller_number=number, at=T0),
                meta(f"cs-{i}"),
            )["case_id"]
            intake.need(case_id, need(), meta(f"cn-{i}"))
            intake.outcome(case_id, OutcomeIn(outcome="care_need"), meta(f"co-{i}"))
            offer = measure(
                "offer", lambda: care.offer(case_id, CaregiverRef(caregiver_id=f"anna-{i}"), meta(f"of-{i}"))
            )
            measure("accept", lambda: care.accept(case_id, f"anna-{i}", offer["offer_id"], meta(f"ac-{i}")))
            measure(
                "reassign",
                lambda: care.reassign(
                    case_id, ReassignIn(caregiver_id=f"bert-{i}", by="caregiver", reason="ill"), meta(f"ra-{i}")
                ),
            )
            care.clock = lambda: T0 + timedelta(hours=8)
            measure(
                "check-in",
                lambda: care.check_in(case_id, f"bert-{i}", CheckInIn(at=T0 + timedelta(hours=2)), meta(f"ci-{i}")),
            )
            measure(
                "check-out",
                lambda: care.check_out(
                    case_id,
                    f"bert-{i}",
                    CheckOutIn(at=T0 + timedelta(hours=6), travel_km=Decimal("4.5")),
                    meta(f"co2-{i}"),
                ),
            )
            care.clock = lambda: T0

        # A price change reads the tariffs and the latest invoiced day of its tier, then appends.
        tariffs = TariffRegister(wiring.store, wiring.readmodel, clock=lambda: T0)
        tariffs.publish_defaults()
        for i in range(RUNS):
            price = TariffIn(
                tier=Tier.STANDARD, cents_per_hour=500 + i, valid_from=date(2027, 1, 1) + timedelta(days=i)
            )
            measure("set a tariff", lambda: tariffs.set_tariff(price, meta(f"t-{i}")))

        rows = []
        for name, runs in samples.items():
            requests = {r[0] for r in runs}
            ops = runs[0][1]
            ms = statistics.median(r[2] for r in runs) * 1000
            rows.append(
                (
                    name,
                    "/".join(map(str, sorted(requests))),
                    ", ".join(f"{op} {n}" for op, n in sorted(ops.items())),
                    f"{ms:.1f}",
                )
            )
        print(f"DynamoDB requests per command ({RUNS} runs each; moto in-process)\n")
        print(table(rows, ("command", "requests", "by operation", "median ms (moto)")))


if __name__ == "__main__":
    main()
