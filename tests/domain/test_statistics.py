"""The statistics report against figures worked out by hand on a small history
(tests/domain/statistics_history.py, which says what each case holds)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from statistics_history import b, history

from notfall.domain.errors import Rejected
from notfall.domain.events import CaseOpened, Need, NeedClarified, Outcome, OutcomeRecorded
from notfall.domain.partners import ContractEnded
from notfall.reports.statistics import period, statistics, to_csv

MARCH = period("2026-03", "2026-03")


@pytest.fixture(scope="module")
def log():
    return history().envelopes


def test_the_main_figures_of_march(log):
    report = statistics(log, MARCH)
    assert report["figures"] == {
        "consultations": 3,  # c1, c3, c2 (c4's was in February, c6's in April)
        "calls": 4,  # c1, c2's voicemail, c3 twice
        "requests": 4,  # c1, c2, c3, c5 opened in March
        "emergencies": 3,  # c4 (1 March), c1, c2
        "care_minutes": 330,  # c1 210 after the correction, c2 22:00-24:00 on 31 March
        "transports": 1,  # c1's trip; c2's was cancelled
        "unfilled": 1,  # c2
        "refused": 1,  # c5
        "care_hours": 5.5,
        "emergency_share_percent": 75.0,  # 3 of 4
    }
    assert report["requests_by_channel"] == {"call": 2, "staff": 1, "voicemail": 1}


def test_unmet_demand_and_time_to_assignment(log):
    unmet = statistics(log, MARCH)["unmet_demand"]
    assert unmet["assigned"] == 2 and unmet["within_target"] == 1  # c1 after 60 minutes, c2 after 240
    assert unmet["minutes_to_assignment"] == {"median": 150, "mean": 150, "p90": 240, "max": 240}


def test_who_was_cared_for_and_why(log):
    report = statistics(log, MARCH)
    assert report["children_and_adults"] == {
        "emergencies": {"children": 2, "adults": 1, "both": 0},
        "persons": {"children": 3, "adults": 1},
        "care_minutes": {"children": 210, "adults": 120, "both": 0},
    }
    assert report["age_groups"] == {"adult": 1, "preschool": 1, "school": 2}
    assert report["reasons"] == {"childcare_closed": 1, "hospital_stay": 1, "work_peak": 1}


def test_load_by_weekday_and_hour_in_berlin_time(log):
    load = statistics(log, MARCH)["load"]
    assert load["grid"][0][7] == 2  # Monday 07:12 and 07:50
    assert load["grid"][2][22] == 1  # Wednesday 22:10
    assert load["grid"][1][10] == 1  # Tuesday 10:00
    assert sum(map(sum, load["grid"])) == 4
    assert load["peaks"][0] == {"weekday": 0, "hour": 7, "requests": 2}


def test_monthly_series_and_coverage(log):
    report = statistics(log, MARCH)
    assert report["monthly"] == [
        {"month": "2026-03", "requests": 4, "consultations": 3, "emergencies": 3, "care_minutes": 330, "transports": 1}
    ]
    # Sehnde's contract ended in February: on 31 March only Laatzen and the company are partners.
    assert report["coverage"] == {
        "partner_companies": 1,
        "employees": 120,
        "partner_municipalities": 1,
        "inhabitants": 43000,
        "city": "hannover",
        "city_inhabitants": 539641,
    }


def test_by_municipality_and_by_partner(log):
    report = statistics(log, MARCH)
    places = {row["municipality"]: row for row in report["by_municipality"]}
    assert set(places) == {"garbsen", "hannover", "laatzen", None}
    assert (places["laatzen"]["emergencies"], places["laatzen"]["requests"], places["laatzen"]["care_minutes"]) == (
        2,
        1,
        210,
    )
    assert places[None]["calls"] == 2 and places[None]["consultations"] == 1  # c3 never clarified a need
    partners = {row["partner_id"]: row for row in report["by_partner"]}
    assert set(partners) == {"firma-x", "laatzen"}  # c2 names the company; c1 and c4 live in Laatzen
    assert partners["firma-x"]["care_minutes"] == 120 and partners["firma-x"]["unfilled"] == 1


def test_one_partner_or_one_municipality(log):
    laatzen = statistics(log, MARCH, partner="laatzen")
    assert laatzen["figures"]["emergencies"] == 2 and laatzen["figures"]["consultations"] == 1
    assert laatzen["coverage"] == {
        "partner_companies": 0,
        "employees": 0,
        "partner_municipalities": 1,
        "inhabitants": 43000,
    }
    hannover = statistics(log, MARCH, municipality="Hannover")
    assert hannover["figures"]["requests"] == 1 and hannover["figures"]["care_minutes"] == 120
    assert hannover["coverage"]["city_inhabitants"] == 539641


def test_only_municipalities_and_partners_with_figures_get_a_row(log):
    february = statistics(log, period("2026-02", "2026-02"))
    assert [row["municipality"] for row in february["by_municipality"]] == ["laatzen"]  # c4 opened then
    assert [row["partner_id"] for row in february["by_partner"]] == ["laatzen"]


def test_the_period_spans_months_in_berlin_time(log):
    report = statistics(log, period("2026-02", "2026-04"))
    assert report["figures"]["requests"] == 6  # c4 in February, c6 in April too
    assert report["figures"]["consultations"] == 5
    assert report["figures"]["care_minutes"] == 450  # c2's April half counts now
    assert [m["requests"] for m in report["monthly"]] == [1, 4, 1]


def test_late_events_that_change_a_closed_period_are_listed(log):
    corrections = statistics(log, MARCH)["corrections"]
    # c1's session corrected on 5 April; c2's check-out after midnight of 31 March. c6 (April)
    # changes nothing of March, and neither does the end of Sehnde's contract (recorded in February).
    assert [c["stream_id"] for c in corrections] == ["case-c1", "case-c2"]
    assert [e["event_type"] for e in corrections[0]["events"]] == ["SessionCorrected"]
    assert "care_minutes" in corrections[0]["figures"]
    assert [e["event_type"] for e in corrections[1]["events"]] == ["SessionEnded"]


def test_a_contract_ended_late_is_a_correction_only_if_it_changes_the_period():
    later = history()
    # c7: a Laatzen household's care need for July, recorded in April.
    need = Need.model_validate(
        {
            "persons": [{"kind": "child", "age": 4}],
            "location": {"kind": "home"},
            "window": {"start": "2026-07-01T08:00:00+02:00", "expected_end": "2026-07-01T12:00:00+02:00"},
            "reasons": ["childcare_closed"],
            "municipality": "laatzen",
        }
    )
    later.add(
        "case-c7", CaseOpened(case_id="c7", family_id="fam-c7", channel="staff", opened_at=b(4, 9, 9)), b(4, 9, 9)
    )
    later.add("case-c7", NeedClarified(need=need), b(4, 9, 9))
    later.add("case-c7", OutcomeRecorded(outcome=Outcome.CARE_NEED), b(4, 9, 9))
    # Recorded in April: Laatzen's contract ends on 30 June (nothing of March changes: c7 is not
    # March's), the
    # company's on 15 March (c2's care on 31 March is no longer the company's, nor is the company
    # a partner on 31 March).
    later.add("partner-laatzen", ContractEnded(contract_id="laatzen-1", end=date(2026, 6, 30)), b(4, 10, 9))
    later.add("partner-firma-x", ContractEnded(contract_id="firma-x-1", end=date(2026, 3, 15)), b(4, 10, 9))
    report = statistics(later.envelopes, MARCH)
    late = {c["stream_id"]: c for c in report["corrections"]}
    assert set(late) == {"case-c1", "case-c2", "partner-firma-x"}
    assert late["partner-firma-x"]["figures"] == ["cases", "coverage"]
    assert [e["event_type"] for e in late["partner-firma-x"]["events"]] == ["ContractEnded"]
    assert report["by_partner"] == [row for row in report["by_partner"] if row["partner_id"] == "laatzen"]
    assert report["coverage"]["partner_companies"] == 0


def test_a_period_over_does_not_change_when_later_periods_grow(log):
    report = statistics(log, period("2026-02", "2026-02"))
    assert report["figures"]["requests"] == 1 and report["figures"]["consultations"] == 1
    assert report["corrections"] == []  # everything after February belongs to later months


def test_bad_input_names_the_field(log):
    with pytest.raises(Rejected) as err:
        period("2026-04", "2026-03")
    assert err.value.field == "query.to"
    with pytest.raises(Rejected):
        period("2000-01", "2026-03")
    with pytest.raises(Rejected):
        period("2026-13", "2026-12")
    with pytest.raises(Rejected) as missing:
        statistics(log, MARCH, partner="nobody")
    assert missing.value.field == "query.partner"
    with pytest.raises(Rejected) as nowhere:
        statistics(log, MARCH, municipality="Atlantis")
    assert nowhere.value.field == "query.municipality"


def test_csv_holds_the_same_figures(log):
    rows = list(csv.DictReader(io.StringIO(to_csv(statistics(log, MARCH)))))
    figures = {r["figure"]: r["value"] for r in rows if r["section"] == "figures"}
    assert figures["consultations"] == "3" and figures["care_hours"] == "5.5"
    assert {r["key"] for r in rows if r["section"] == "by_partner"} == {"firma-x", "laatzen"}
