"""Writes a planned history (`notfall.history.plan`) through the real use cases, command by command,
in the order things happened, with the clock set to each moment.

Each case, caregiver and partner is a small script (a generator) that yields the moment of its next
step; a scheduler runs the earliest step first, so the log reads like the years it covers. All
choices come from one seeded random generator, ids included: the same seed and plan give the same
events (their ids and the store's `recorded_at` aside, which the store stamps).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import random
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from time import perf_counter
from typing import Any

from notfall.app.care import Care
from notfall.app.caregivers import Caregivers, RegisterIn, StatusIn, TrainingIn
from notfall.app.families import Families
from notfall.app.intake import Intake
from notfall.app.invoicing import Invoicing
from notfall.app.partners import Partners
from notfall.app.tariffs import TariffRegister
from notfall.domain import caregiver as cg
from notfall.domain import partners as p
from notfall.domain.care import (
    CaregiverRef,
    CareRules,
    CheckInIn,
    CheckOutIn,
    DeclineIn,
    SessionIn,
    TransportDoneIn,
    TransportIn,
)
from notfall.domain.case import CaseState
from notfall.domain.commands import CallbackIn, CallEventIn, CloseIn, ConsultationIn, NeedIn, OutcomeIn
from notfall.domain.eligibility import Assessment, EligibilityRules, assess
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError, Rejected
from notfall.domain.events import Need, Outcome
from notfall.domain.hours import BERLIN
from notfall.domain.invoice_events import Address
from notfall.domain.matching import rank
from notfall.domain.tariffs import PUBLISHED as PUBLISHED_TARIFFS
from notfall.history.plan import MAX_CARE_MINUTES, MonthPlan, Totals, allocate, day_weight, plan, public_holidays
from notfall.projection.projector import rows_for_stream, write_rows
from notfall.projection.readmodel import MemoryReadModel
from notfall.settings import BillingSettings
from notfall.store.base import EventStore, iter_log

# Coverage the service published: partner companies' employees and partner municipalities' inhabitants.
COMPANIES, COMPANY_EMPLOYEES = 48, 86_546
MUNICIPALITY_INHABITANTS = 464_949
CITY = "hannover"
# The towns of the region; the first fifteen become partner municipalities over the years.
TOWNS = (
    "Langenhagen",
    "Laatzen",
    "Garbsen",
    "Lehrte",
    "Burgdorf",
    "Seelze",
    "Hemmingen",
    "Isernhagen",
    "Ronnenberg",
    "Pattensen",
    "Gehrden",
    "Sehnde",
    "Burgwedel",
    "Wedemark",
    "Springe",
    "Wunstorf",
    "Neustadt am Rübenberge",
    "Barsinghausen",
    "Uetze",
    "Wennigsen",
)
PARTNER_TOWNS = 15
# The demo's partner company (infra/local/demo_data.json), whose demo user reads its statements.
DEMO_COMPANY = ("p-leine-logistik", "Leine Logistik GmbH (demo)", date(2015, 3, 1), 1200)
COMPANY_WORDS = (
    ("Leine", "Ihme", "Eilenriede", "Maschsee", "Herrenhausen", "Calenberg", "Deister", "Steinhuder", "Mittelland"),
    (
        "Logistik",
        "Kliniken",
        "Versicherung",
        "Stadtwerke",
        "Verlag",
        "Maschinenbau",
        "Pflegedienst",
        "Bank",
        "Verwaltung",
    ),
)
REFERRALS = ("Familienzentrum", "Jobcenter (feste Ansprechperson)", "Pflegestützpunkt", "Erziehungsberatung")
AGENTS = tuple(f"agent-{i:02d}" for i in range(1, 9))
PHONE = "phone-system"
STAFF_HOURS = (6, 22)  # the hotline answers from 06:00 to 22:00 Berlin time; earlier calls reach the voicemail


@dataclass
class Written:
    """What the generator wrote, counted as it went (the tests count the log itself)."""

    commands: int = 0
    consultations: int = 0
    emergencies: int = 0
    unfilled: int = 0
    refused: int = 0
    care_minutes: int = 0
    transports: int = 0
    caregivers: int = 0
    partners: int = 0
    recruited_on_demand: int = 0
    invoice_runs: int = 0
    invoices: int = 0
    read_model_seconds: float = 0.0  # bringing the writer's read model up to date before each run
    invoice_seconds: float = 0.0  # the runs themselves


@dataclass
class HistoryClock:
    """The clock of the history: the writer moves it to each moment; every use case, and the
    store that stamps `recorded_at`, reads it."""

    now: datetime = field(default_factory=lambda: datetime(2014, 9, 1, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


def _berlin(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


class HistoryWriter:
    """Writes the history of `totals` into `store`, seeded by `seed`."""

    def __init__(self, store: EventStore, totals: Totals, seed: int = 2014, clock: HistoryClock | None = None) -> None:
        self.store = store
        self.totals = totals
        self.months = plan(totals)
        self.rng = random.Random(seed)
        self._ids = random.Random(seed + 1)
        self.clock = clock or HistoryClock()
        self.clock.now = _berlin(totals.first_day, 0)
        self.rules = CareRules()
        self.eligibility = EligibilityRules()
        self.intake = Intake(store, new_id=lambda: self._hex(12), assess=self._assess, clock=self.clock)
        self.care = Care(store, self.rules, ids=lambda: self._hex(10), clock=self.clock)
        self.caregivers = Caregivers(store, self.clock)
        self.partners = Partners(store, self.clock)
        self.families = Families(store, self.clock)
        # The invoice runs read who might be billed from a read model; the writer keeps its own,
        # projected from the streams written since the last run. No documents are rendered (the
        # documents link renders and stores them when first asked for).
        self.readmodel = MemoryReadModel()
        self._projected = 0  # the log position the read model reflects
        billing = BillingSettings()
        # Addresses and invoice ids have seeded generators of their own, so the rest of the history
        # stays as it was without them.
        self._addresses = random.Random(seed + 2)
        invoice_ids = random.Random(seed + 3)
        self.invoicing = Invoicing(
            store,
            self.readmodel,
            None,
            billing.issuer(),
            billing.vat(),
            billing.rounding(),
            self.clock,
            ids=lambda: "".join(invoice_ids.choice("0123456789abcdef") for _ in range(10)),
            eligibility=self.eligibility,
        )
        self._addressed: set[str] = set()  # families whose address was asked for
        self.written = Written()
        self._queue: list[tuple[datetime, int, Iterator[datetime]]] = []
        self._seq = 0
        self._partner_states: dict[str, p.PartnerState] = {}
        self._register: dict[str, cg.CaregiverState] = {}
        self._families: list[str] = []  # phone numbers of families known so far
        self._open_families: set[str] = set()
        self._numbers = 0
        self._caregiver_no = 0
        self.end = datetime.combine(totals.last_day + timedelta(days=1), time(0), tzinfo=BERLIN).astimezone(UTC)

    # --- plumbing ------------------------------------------------------------------------------

    def _hex(self, n: int) -> str:
        return "".join(self._ids.choice("0123456789abcdef") for _ in range(n))

    def _meta(self, actor: str, correlation: str) -> Metadata:
        self.written.commands += 1
        return Metadata(command_id=f"history-{self.written.commands}", actor=actor, correlation_id=correlation)

    def _start(self, at: datetime, script: Iterator[datetime]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (at, self._seq, script))

    def steps(self) -> int:
        """How many scheduler steps `run` takes at most (for a progress bar: one per case and a few more)."""
        return sum(m.consultations for m in self.months)

    def run(self, progress: Callable[[int], None] | None = None) -> Written:
        """Writes the whole history; `progress(n)` is told of each request written."""
        self._tick = progress or (lambda n: None)
        self._start(self.clock.now, self._setup())
        for month in self.months:
            self._start(_berlin(month.first, 0, 1), self._month(month))
        self._start(self.clock.now, self._invoice_runs())
        while self._queue:
            at, _, script = heapq.heappop(self._queue)
            self.clock.now = max(at, self.clock.now)
            try:
                nxt = next(script)
            except StopIteration:
                continue
            if nxt >= self.end:
                raise RuntimeError(f"a step at {nxt.isoformat()} lies after the span: the plan does not fit it")
            self._start(max(nxt, self.clock.now), script)
        return self.written

    def _assess(self, need: Need, day: date) -> Assessment:
        return assess(need, day, list(self._partner_states.values()), self.eligibility)

    # --- partners and tariffs ------------------------------------------------------------------

    def _setup(self) -> Iterator[datetime]:
        """The published prices, then the partners, each on the day it joined (or at the span's
        start, if it joined before)."""
        TariffRegister(self.store, MemoryReadModel(), self.clock).publish_defaults(
            self._meta("admin", "history-tariffs")
        )
        for when, script in self._partner_scripts():
            self._start(max(when, self.clock.now), script)
        return
        yield  # a generator that takes no step after its first

    def _partner_scripts(self) -> list[tuple[datetime, Iterator[datetime]]]:
        """The register over the years: the demo's Leine Logistik (its partner user can read its
        statement), 47 more companies and 15 municipalities, joining from 2014 to mid-2021;
        employees and inhabitants add up to the published coverage."""
        rng = random.Random(self.rng.random())
        first_pid, first_name, first_joined, first_count = DEMO_COMPANY
        others = _split(COMPANY_EMPLOYEES - first_count, [rng.lognormvariate(0, 1.3) for _ in range(COMPANIES - 1)])
        inhabitants = _split(MUNICIPALITY_INHABITANTS, [rng.uniform(0.4, 1.6) for _ in range(PARTNER_TOWNS)])
        span_days = (date(2021, 6, 30) - date(2014, 9, 1)).days
        scripts = [(first_pid, "company", first_name, CITY, first_joined, first_count)]
        names = {"Leine Logistik"}
        for i, count in enumerate(others, start=1):
            while (name := f"{rng.choice(COMPANY_WORDS[0])} {rng.choice(COMPANY_WORDS[1])}") in names:
                pass
            names.add(name)
            joined = date(2014, 9, 1) + timedelta(days=int(span_days * (i / COMPANIES) ** 1.3))
            pid = "p-" + name.lower().replace(" ", "-")
            scripts.append((pid, "company", f"{name} GmbH", CITY, joined, count))
        for i, count in enumerate(inhabitants):
            town = TOWNS[i]
            joined = date(2014, 9, 1) + timedelta(days=int(span_days * 0.8 * i / PARTNER_TOWNS))
            pid = "m-" + town.lower().replace(" ", "-").replace("ü", "ue")
            scripts.append((pid, "municipality", f"Stadt {town}", town.lower(), joined, count))
        # Those joining after the span are not part of its history.
        return [(_berlin(s[4], 9), self._partner(*s)) for s in scripts if s[4] <= self.totals.last_day]

    def _partner(self, pid: str, kind: str, name: str, town: str, joined: date, count: int) -> Iterator[datetime]:
        figures: dict[str, Any] = (
            {"employees": count} if kind == "company" else {"inhabitants": count, "children_under_10": count * 9 // 100}
        )
        meta = self._meta("admin", f"history-{pid}")
        self.partners.register(
            p.PartnerIn(partner_id=pid, kind=kind, name=name, municipality=town, joined_on=joined, **figures),
            meta,
        )
        if kind == "company":
            monthly = joined.year < 2018  # companies first paid a monthly flat fee, later by headcount band
            contract = p.ContractIn(
                contract_id=f"rv-{joined.year}",
                fee_model="monthly" if monthly else "yearly_band",
                start=joined,
                monthly_fee_cents=10_000 if monthly else None,
                employees_covered=None if monthly else count,
            )
        else:
            contract = p.ContractIn(contract_id=f"rv-{joined.year}", fee_model="per_child", start=joined)
        self.partners.contract(pid, contract, self._meta("accounting", f"history-{pid}"))
        address = Address(
            name=name,
            street="Rathausplatz 1" if kind != "company" else "Am Markt 1",
            postcode="30159",
            city=town.title() if kind != "company" else "Hannover",
            country="DE",
        )
        self.partners.billing(pid, p.BillingIn(address=address), self._meta("accounting", f"history-{pid}"))
        self._partner_loaded(pid)
        self.written.partners += 1
        if kind == "municipality":
            # Each January the municipality reports its children up to 10 of the year.
            for year in range(max(joined.year, self.totals.first_day.year), self.totals.last_day.year + 1):
                moment = max(_berlin(date(year, 1, 10), 10), self.clock.now)
                if moment >= self.end:
                    break
                yield moment
                children = count * (9 + self.rng.randint(-1, 1)) // 100
                self.partners.child_count(pid, year, children, self._meta("accounting", f"history-{pid}"))
                self._partner_loaded(pid)

    def _partner_loaded(self, pid: str) -> None:
        state = self.partners.load(pid)
        assert state is not None
        self._partner_states[pid] = state

    # --- caregivers ----------------------------------------------------------------------------

    def _recruit(self, on: date, full_time: bool = False) -> str:
        """Registers a new caregiver now, with their first training; schedules their later years."""
        rng = self.rng
        self._caregiver_no += 1
        cid = f"cg-{self._caregiver_no:04d}"
        roll = rng.random()
        if full_time or roll < 0.15:
            qualification, groups = cg.Qualification.BOTH, list(cg.AgeGroup)
        elif roll < 0.35:
            qualification, groups = cg.Qualification.NURSING, [cg.AgeGroup.ADULT]
        else:
            qualification = cg.Qualification.PEDAGOGICAL
            groups = [cg.AgeGroup.INFANT, cg.AgeGroup.PRESCHOOL, cg.AgeGroup.SCHOOL]
            if rng.random() < 0.25:
                groups.remove(rng.choice(groups))
        home = CITY if rng.random() < 0.6 else TOWNS[rng.randrange(PARTNER_TOWNS)].lower()
        served = sorted({home, CITY, *(t.lower() for t in rng.sample(TOWNS[:PARTNER_TOWNS], 2))})
        drives = rng.random() < 0.5
        profile = cg.Profile(
            name=f"Betreuungsperson {self._caregiver_no:04d}",
            qualification=qualification,
            certificate_level=rng.choice((1, 1, 2, 2, 3)),
            age_groups=groups,
            home_municipality=home,
            municipalities_served=served,
            drives=drives,
            offers_transport=drives and rng.random() < 0.6,
            police_clearance_on=on - timedelta(days=rng.randint(5, 120)),
            first_aid_on=on - timedelta(days=rng.randint(5, 120)),
        )
        self.caregivers.register(
            RegisterIn(caregiver_id=cid, profile=profile, weekly=self._weekly(full_time)),
            self._meta("admin", f"history-{cid}"),
        )
        self.caregivers.training(
            cid,
            TrainingIn(title="Grundqualifizierung Notfallbetreuung", kind="initial", on=on, days=Decimal(3)),
            self._meta("hotline", f"history-{cid}"),
        )
        self._refresh(cid)
        self.written.caregivers += 1
        if self.clock.now + timedelta(days=365) < self.end:
            self._start(self.clock.now + timedelta(days=365), self._caregiver_years(cid, rng.randint(2, 9)))
        return cid

    def _weekly(self, full_time: bool) -> list[cg.WeeklyWindow]:
        roll = 0.0 if full_time else self.rng.random()
        if roll < 0.45:  # day and night, every day
            return [cg.WeeklyWindow(weekday=d, start=time(0), end=time(0)) for d in range(7)]
        if roll < 0.8:  # working days and Saturday mornings
            days = [cg.WeeklyWindow(weekday=d, start=time(6), end=time(20)) for d in range(5)]
            return [*days, cg.WeeklyWindow(weekday=5, start=time(8), end=time(14))]
        return [cg.WeeklyWindow(weekday=d, start=time(14), end=time(0)) for d in range(7)]  # afternoons and evenings

    def _caregiver_years(self, cid: str, years: int) -> Iterator[datetime]:
        """Once a year: first aid renewed, the police clearance every four years, a further
        training; after `years` the caregiver leaves."""
        for year in range(1, 100):
            today = self.clock.now.astimezone(BERLIN).date()
            state = self._register[cid]
            if year >= years and self.rng.random() < 0.5:
                self.caregivers.status(
                    cid, StatusIn(status="left", reason="moved away"), self._meta("hotline", f"history-{cid}")
                )
                self._refresh(cid)
                return
            police = state.profile.police_clearance_on
            renewed = state.profile.model_copy(
                update={
                    "first_aid_on": today,
                    "police_clearance_on": today if (today - police).days > 3 * 365 else police,
                }
            )
            self.caregivers.profile(cid, renewed, self._meta("hotline", f"history-{cid}"))
            self.caregivers.training(
                cid,
                TrainingIn(title="Fachtag Notfallbetreuung", kind="specialist_day", on=today, days=Decimal(1)),
                self._meta("hotline", f"history-{cid}"),
            )
            self._refresh(cid)
            if self.clock.now + timedelta(days=365) >= self.end:
                return
            yield self.clock.now + timedelta(days=365)

    def _refresh(self, cid: str) -> None:
        state = self.caregivers.load(cid)
        assert state is not None
        self._register[cid] = state

    def _active(self) -> int:
        return sum(1 for s in self._register.values() if s.status == "active")

    # --- invoice runs ---------------------------------------------------------------------------

    def _invoice_runs(self) -> Iterator[datetime]:
        """On the first working day of each month at 04:00 Berlin time, the family run and the
        partner-monthly run for the month before, and in January the partner-yearly run for the
        year before; for the periods the published tariffs cover and that lie in the span."""
        for month in self.months:
            if month.first < TARIFFS_FROM:
                continue
            # The calendar month after (a span may end before the month does).
            following = (month.first.replace(day=1) + timedelta(days=31)).replace(day=1)
            moment = max(_berlin(first_working_day(following.year, following.month), 4), self.clock.now)
            if moment >= self.end:
                return
            yield moment
            self._sync_read_model()
            runs = [("family", month.month), ("partner-monthly", month.month)]
            year = month.first.year
            if following.month == 1 and date(year, 1, 1) >= TARIFFS_FROM:
                runs.append(("partner-yearly", str(year)))
            started = perf_counter()
            for kind, period in runs:
                report = self.invoicing.run(kind, period, self._meta("invoice-run", f"invoice-run:{kind}:{period}"))
                self.written.invoice_runs += 1
                self.written.invoices += len(report["issued"])
            self.written.invoice_seconds += perf_counter() - started

    def _sync_read_model(self) -> None:
        """Project every stream written since the last run, each stream folded whole once (as the
        projector does), so the read model the runs read is as the stream Lambda would leave it."""
        started = perf_counter()
        changed: set[str] = set()
        for env in iter_log(self.store, after=self._projected, page_size=5000):
            changed.add(env.stream_id)
            self._projected = env.position
        for stream_id in sorted(changed):
            projected = rows_for_stream(stream_id, self.store.load(stream_id))
            if projected is not None:
                write_rows(self.readmodel, *projected)
        self.written.read_model_seconds += perf_counter() - started

    def _billing_address(self, family_id: str) -> None:
        """Staff ask a family with its first emergency for the address its invoices go to; one in
        ten gives none (their invoices are refused by the run until it is known)."""
        if family_id in self._addressed:
            return
        self._addressed.add(family_id)
        if self._addresses.random() < 0.1:
            return
        address = Address(
            name="Familie Muster",
            street=f"Musterweg {self._addresses.randint(1, 120)}",
            postcode=f"30{self._addresses.randint(159, 659)}",
            city="Hannover",
            country="DE",
        )
        self.families.billing(family_id, address, self._meta("hotline", f"history-{family_id}"))

    # --- the months ----------------------------------------------------------------------------

    def _month(self, month: MonthPlan) -> Iterator[datetime]:
        """Recruits caregivers as demand grows, then starts the month's requests at their moments."""
        rng = self.rng
        wanted = 10 + round(0.5 * month.emergencies)
        while self._active() < wanted:
            self._recruit(month.first)
        days = _days(month.first, month.last)
        weights = [_day_weight(d) for d in days]
        # Emergencies keep three days of room before the span ends: their care ends within it.
        latest = self.totals.last_day - timedelta(days=4)
        care_days = [d for d in days if d <= latest] or [month.first]
        care_weights = [_day_weight(d) for d in care_days]
        kinds = ["filled"] * month.filled + ["unfilled"] * month.unfilled + ["refused"] * month.refused
        kinds += ["advice"] * (month.consultations - len(kinds))
        rng.shuffle(kinds)
        durations = _durations(month.care_minutes, month.filled, rng)
        transports = set(rng.sample(range(month.filled), month.transports))
        filled_no = 0
        for kind in kinds:
            day = rng.choices(
                care_days if kind in ("filled", "unfilled") else days,
                care_weights if kind in ("filled", "unfilled") else weights,
            )[0]
            at = _moment(day, rng)
            if kind == "filled":
                self._start(at, self._request(at, kind, durations[filled_no], filled_no in transports))
                filled_no += 1
            else:
                self._start(at, self._request(at, kind, 0, False))
        return
        yield

    def _caller(self) -> str | None:
        rng = self.rng
        if rng.random() < 0.03:
            return None  # withheld number
        known = [n for n in self._families[-400:] if n not in self._open_families]
        if known and rng.random() < 0.2:
            return rng.choice(known)
        self._numbers += 1
        number = f"+49 511 {4_000_000 + self._numbers}"
        self._families.append(number)
        return number

    def _request(self, at: datetime, kind: str, minutes: int, transport: bool) -> Iterator[datetime]:
        """One request: the call (or a voicemail and a callback), the consultation, and what follows."""
        rng = self.rng
        number = self._caller()
        if number:
            self._open_families.add(number)
        call_id = f"call-{self._hex(10)}"
        corr = f"history-{call_id}"
        agent = rng.choice(AGENTS)
        local = at.astimezone(BERLIN)
        base = {"call_id": call_id, "line": f"hotline-{rng.randint(1, 2)}", "caller_number": number}
        if local.hour < STAFF_HOURS[0]:
            opened = self.intake.call_event(CallEventIn(type="voicemail", at=at, **base), self._meta(PHONE, corr))
            case_id = opened["case_id"]
            yield _berlin(local.date(), STAFF_HOURS[0], rng.randint(5, 40))
            reached = rng.random() > 0.25
            self.intake.callback(
                case_id, CallbackIn(agent=agent, at=self.clock.now, reached=reached), self._meta(agent, corr)
            )
            if not reached:
                yield self.clock.now + timedelta(minutes=rng.randint(30, 90))
                self.intake.callback(
                    case_id, CallbackIn(agent=agent, at=self.clock.now, reached=True), self._meta(agent, corr)
                )
            started = self.clock.now
            yield started + timedelta(minutes=rng.randint(8, 25))
        else:
            opened = self.intake.call_event(CallEventIn(type="started", at=at, **base), self._meta(PHONE, corr))
            case_id = opened["case_id"]
            started = at + timedelta(seconds=rng.randint(5, 90))
            yield started
            self.intake.call_event(
                CallEventIn(type="answered", at=started, agent=agent, **base), self._meta(PHONE, corr)
            )
            yield started + timedelta(minutes=rng.randint(8, 25))
            self.intake.call_event(CallEventIn(type="ended", at=self.clock.now, **base), self._meta(PHONE, corr))
        ended = self.clock.now
        self.intake.consultation(
            case_id, ConsultationIn(agent=agent, started_at=started, ended_at=ended), self._meta(agent, corr)
        )
        self.written.consultations += 1
        self._tick(1)
        yield ended + timedelta(minutes=1)
        if kind == "advice":
            if rng.random() < 0.35:
                outcome = OutcomeIn(outcome=Outcome.REFERRAL, referral_to=rng.choice(REFERRALS))
            else:
                outcome = OutcomeIn(outcome=Outcome.ADVICE)
            self.intake.outcome(case_id, outcome, self._meta(agent, corr))
            self._open_families.discard(number or "")
            return
        late = kind == "filled" and rng.random() < 0.08  # assigned only after the target time
        need = self._need(kind, minutes, late)
        self.intake.need(case_id, NeedIn(**need.model_dump()), self._meta(agent, corr))
        yield self.clock.now + timedelta(minutes=1)
        if kind == "refused":
            try:
                self.intake.outcome(case_id, OutcomeIn(outcome=Outcome.CARE_NEED), self._meta(agent, corr))
            except Rejected:
                self.written.refused += 1
            else:
                raise AssertionError(f"care for {need.municipality} was expected to be refused")
            referral = OutcomeIn(outcome=Outcome.REFERRAL, referral_to=rng.choice(REFERRALS))
            self.intake.outcome(case_id, referral, self._meta(agent, corr))
            self._open_families.discard(number or "")
            return
        self.intake.outcome(case_id, OutcomeIn(outcome=Outcome.CARE_NEED), self._meta(agent, corr))
        self.written.emergencies += 1
        yield from self._emergency(case_id, need, kind, minutes, transport, late, agent, corr)
        self._open_families.discard(number or "")

    def _need(self, kind: str, minutes: int, late: bool) -> Need:
        """Who, where, when and why; the window starts a while after now and lasts the planned care."""
        rng = self.rng
        now = self.clock.now
        if rng.random() < 0.8:
            persons = [{"kind": "child", "age": rng.randint(0, 13)} for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
            reasons = [
                rng.choice(
                    ("childcare_closed", "childcare_closed", "childcare_ill", "childcare_ill", "work_peak", "accident")
                )
            ]
        else:
            persons = [{"kind": "adult", "age": rng.randint(65, 95)}]
            reasons = [rng.choice(("hospital_stay", "hospital_stay", "accident", "other"))]
        day = now.astimezone(BERLIN).date()
        if kind == "refused":
            # Towns that never join: the care day may lie after today.
            municipality, employer = rng.choice(TOWNS[PARTNER_TOWNS:]).lower(), None
        else:
            towns = [t.lower() for t in TOWNS[:PARTNER_TOWNS] if self._partner_town(t.lower(), day)]
            municipality = rng.choice(towns) if towns and rng.random() < 0.45 else CITY
            companies = [
                pid for pid, s in self._partner_states.items() if s.partner.kind == "company" and s.contract_on(day)
            ]
            employer = rng.choice(companies) if companies and rng.random() < 0.4 else None
        lead = timedelta(minutes=5 * rng.randint(40 if late else 16, 48))
        start = _round5(now + lead)
        sessions = _split_sessions(start, minutes or 5 * rng.randint(24, 60))
        end = sessions[-1][0] + timedelta(minutes=sessions[-1][1])
        location = (
            {"kind": "home"}
            if rng.random() < 0.85
            else {"kind": "elsewhere", "address": "Notfallbetreuungsraum eines Partnerbetriebs"}
        )
        return Need.model_validate(
            {
                "persons": persons,
                "location": location,
                "window": {"start": start, "expected_end": end},
                "reasons": reasons,
                "municipality": municipality,
                "employer": employer,
                "student": municipality == CITY and employer is None and rng.random() < 0.05,
            }
        )

    def _partner_town(self, town: str, day: date) -> bool:
        return any(
            s.partner.kind == "municipality" and s.partner.municipality.lower() == town and s.contract_on(day)
            for s in self._partner_states.values()
        )

    def _candidates(self, case: CaseState) -> list[str]:
        assert case.need is not None
        register = [s for s in self._register.values() if s.status == "active"]
        return [c.caregiver_id for c in rank(case.need, case.family_id, register, self.rules.clearance).candidates]

    def _emergency(
        self,
        case_id: str,
        need: Need,
        kind: str,
        minutes: int,
        transport: bool,
        late: bool,
        agent: str,
        corr: str,
    ) -> Iterator[datetime]:
        rng = self.rng
        need_at = self.clock.now
        case = self.care.case(case_id)
        assert case is not None
        self._billing_address(case.family_id)
        candidates = self._candidates(case)
        start = need.window.start
        if kind == "unfilled":
            # Offers go out and come to nothing; the sweep flags the need; staff close the case.
            for cid in candidates[:2]:
                yield self.clock.now + timedelta(minutes=rng.randint(3, 15))
                try:
                    offer = self.care.offer(case_id, CaregiverRef(caregiver_id=cid), self._meta(agent, corr))
                except DomainError:
                    continue  # booked meanwhile
                if rng.random() < 0.5:
                    yield self.clock.now + timedelta(minutes=rng.randint(2, 10))
                    self.care.decline(
                        case_id, cid, offer["offer_id"], DeclineIn(reason="not free after all"), self._meta(cid, corr)
                    )
            yield need_at + self.rules.target_time + timedelta(minutes=rng.randint(1, 5))
            self.care.sweep_case(case_id, lambda c: self._why_unfilled(c, len(candidates)))
            self.written.unfilled += 1
            yield start + timedelta(minutes=30)
            self.intake.close(
                case_id,
                CloseIn(reason="no caregiver found; the family found another solution", at=self.clock.now),
                self._meta(agent, corr),
            )
            return
        if late:
            yield need_at + self.rules.target_time + timedelta(minutes=rng.randint(1, 5))
            self.care.sweep_case(case_id, lambda c: self._why_unfilled(c, len(candidates)))
        else:
            yield self.clock.now + timedelta(minutes=rng.randint(3, 20))
        caregiver = yield from self._assign(case_id, candidates, agent, corr)
        if transport:
            drivers = sorted(
                c for c, s in self._register.items() if s.status == "active" and s.profile.offers_transport
            )
            driver = caregiver if caregiver in drivers else (rng.choice(drivers) if drivers else None)
            trip = self.care.book_transport(
                case_id,
                TransportIn(from_place="Kita", to_place="Zuhause", at=start, persons=1, driver_id=driver),
                self._meta(agent, corr),
            )
            yield start + timedelta(minutes=rng.randint(20, 40))
            self.care.transport_done(
                case_id,
                trip["transport_id"],
                TransportDoneIn(at=self.clock.now, km=Decimal(rng.randint(20, 150)) / 10),
                self._meta(driver or agent, corr),
            )
            self.written.transports += 1
        for begin, length in _split_sessions(start, minutes):
            finish = begin + timedelta(minutes=length)
            km = Decimal(rng.randint(0, 200)) / 10
            if rng.random() < 0.5:
                yield begin
                self.care.check_in(case_id, caregiver, CheckInIn(at=begin), self._meta(caregiver, corr))
                yield finish
                self.care.check_out(
                    case_id, caregiver, CheckOutIn(at=finish, travel_km=km), self._meta(caregiver, corr)
                )
            else:
                yield finish + timedelta(minutes=rng.randint(10, 60))
                self.care.record_session(
                    case_id,
                    SessionIn(caregiver_id=caregiver, start=begin, end=finish, travel_km=km),
                    self._meta(agent, corr),
                )
            self.written.care_minutes += length
        yield max(self.clock.now, need.window.expected_end) + timedelta(minutes=rng.randint(15, 90))
        self.intake.close(case_id, CloseIn(reason="care given", at=self.clock.now), self._meta(agent, corr))

    def _assign(self, case_id: str, candidates: list[str], agent: str, corr: str) -> Generator[datetime, None, str]:
        """An offer to the best candidate, accepted within minutes (sometimes the first declines);
        when nobody fits, a caregiver is recruited (the generator never leaves planned care unmet)."""
        rng = self.rng
        for cid in candidates[:3]:
            try:
                offer = self.care.offer(case_id, CaregiverRef(caregiver_id=cid), self._meta(agent, corr))
            except DomainError:
                continue  # booked meanwhile
            yield self.clock.now + timedelta(minutes=rng.randint(1, 12))
            if rng.random() < 0.15 and cid != candidates[-1]:
                self.care.decline(case_id, cid, offer["offer_id"], DeclineIn(reason="not free"), self._meta(cid, corr))
                yield self.clock.now + timedelta(minutes=rng.randint(2, 8))
                continue
            try:
                self.care.accept(case_id, cid, offer["offer_id"], self._meta(cid, corr))
            except DomainError:
                continue
            self._refresh(cid)
            return cid
        case = self.care.case(case_id)
        assert case is not None
        for cid in self._candidates(case):
            try:
                self.care.assign(case_id, CaregiverRef(caregiver_id=cid), self._meta(agent, corr))
            except DomainError:
                continue
            self._refresh(cid)
            return cid
        cid = self._recruit(self.clock.now.astimezone(BERLIN).date(), full_time=True)
        self.written.recruited_on_demand += 1
        self.care.assign(case_id, CaregiverRef(caregiver_id=cid), self._meta(agent, corr))
        self._refresh(cid)
        return cid

    def _why_unfilled(self, case: CaseState, could: int) -> str:
        if not could:
            return "no caregiver could take this need"
        declined = sum(1 for o in case.offers if o.status == "declined")
        return f"{could} caregivers could take it; {len(case.offers)} offers made, {declined} declined, none accepted"


# --- helpers ------------------------------------------------------------------------------------


TARIFFS_FROM = min(t.valid_from for t in PUBLISHED_TARIFFS)  # the published prices start 2015-01-01


def first_working_day(year: int, month: int) -> date:
    """The month's first day that is no weekend and no public holiday in Lower Saxony."""
    day = date(year, month, 1)
    while day.weekday() >= 5 or day in public_holidays(year):
        day += timedelta(days=1)
    return day


def _split(total: int, weights: list[float]) -> list[int]:
    return allocate(total, weights, [total] * len(weights))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _day_weight(day: date) -> float:
    return day_weight(day)


# When calls come in, Berlin hour by hour: mornings when the Kita calls, weekends in the afternoon.
WEEKDAY_HOURS = (1, 1, 1, 1, 2, 4, 14, 16, 12, 9, 7, 6, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 0, 0)
WEEKEND_HOURS = (1, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 2, 0, 0)


def _moment(day: date, rng: random.Random) -> datetime:
    hours = WEEKDAY_HOURS if day.weekday() < 5 else WEEKEND_HOURS
    hour = rng.choices(range(24), hours)[0]
    return _berlin(day, hour, rng.randrange(60)) + timedelta(seconds=rng.randrange(60))


def _round5(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0, minute=moment.minute - moment.minute % 5)


def _durations(total: int, n: int, rng: random.Random) -> list[int]:
    """`n` care durations in minutes adding up to `total`: mostly quarter hours around four hours."""
    if n == 0:
        return []
    quarters = allocate(total // 15, [rng.gammavariate(4, 1) for _ in range(n)], [MAX_CARE_MINUTES // 15] * n)
    minutes = [q * 15 for q in quarters]
    # The last few minutes go to one emergency below the cap.
    rest = total - sum(minutes)
    room = next(i for i in range(n) if minutes[i] + rest <= MAX_CARE_MINUTES)
    minutes[room] += rest
    # Every emergency with care has some: at least a quarter of an hour, taken from the longest.
    for i in range(n):
        if minutes[i] < 15:
            longest = max(range(n), key=lambda j: minutes[j])
            moved = 15 - minutes[i]
            minutes[longest] -= moved
            minutes[i] += moved
    return minutes


DAY_SESSION = 540  # longer care is spread over days, a session a day


def _split_sessions(start: datetime, minutes: int) -> list[tuple[datetime, int]]:
    """The sessions of `minutes` of care from `start`: one, or one a day of at most DAY_SESSION
    minutes, the later ones at 07:30 Berlin time."""
    days = -(-minutes // DAY_SESSION)
    lengths = [minutes // days + (1 if i < minutes % days else 0) for i in range(days)]
    out = [(start, lengths[0])]
    for length in lengths[1:]:
        begin, before = out[-1]
        # The next morning at 07:30, and at least an hour after the last session ended.
        morning = _berlin(begin.astimezone(BERLIN).date() + timedelta(days=1), 7, 30)
        out.append((max(morning, begin + timedelta(minutes=before + 60)), length))
    return out


def log_digest(store: EventStore) -> str:
    """SHA-256 over every event's stream, version, type, time and payload, in log order: equal for
    equal histories (event ids and `recorded_at` differ between runs and are left out)."""
    digest = hashlib.sha256()
    for env in iter_log(store):
        record = [
            env.stream_id,
            env.version,
            env.event_type,
            env.occurred_at.isoformat(),
            env.data.model_dump(mode="json"),
        ]
        digest.update(json.dumps(record, sort_keys=True).encode())
    return digest.hexdigest()


def write_history(
    store: EventStore,
    totals: Totals,
    seed: int = 2014,
    clock: HistoryClock | None = None,
    progress: Callable[[int], None] | None = None,
) -> Written:
    """Writes the history into `store`; give the store `clock` too, so it records each event at
    the history's moment."""
    return HistoryWriter(store, totals, seed, clock).run(progress)
