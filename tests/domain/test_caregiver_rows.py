# Proves the caregiver rows (state and register list) and that caregiver and case streams share
# the caregiver partition safely.
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from domain_builders import berlin
from row_builders import assigned, caregiver, caregiver_steps, emergency, recorded, stamped, window

from notfall.domain import caregiver as cg
from notfall.projection.caregiver_rows import caregiver_rows
from notfall.projection.projector import PROJECTIONS, projection_for, rows_for_stream, write_rows
from notfall.projection.readmodel import MemoryReadModel

TRAININGS = [
    cg.TrainingAttended(title="Grundkurs Notfallbetreuung", kind="initial", on=date(2026, 9, 5), days=Decimal("1.5")),
    cg.TrainingAttended(title="Erste Hilfe am Kind", kind="further", on=date(2026, 9, 12), days=Decimal("0.5")),
]


def bookings(*families: str) -> list[cg.BookingMade]:
    start = berlin(2026, 10, 1, 8, 0)
    return [
        cg.BookingMade(
            assignment_id=f"a{i}",
            case_id=f"c{i}",
            family_id=family,
            start=start + timedelta(days=i),
            end=start + timedelta(days=i, hours=4),
        )
        for i, family in enumerate(families)
    ]


def test_the_state_row_holds_the_caregiver_and_derived_figures() -> None:
    state = caregiver(
        *TRAININGS,
        *bookings("fam-a", "fam-b", "fam-a"),
        cg.BookingReleased(assignment_id="a1", reason="cancelled by family: x"),
    )
    first, _listed = caregiver_rows(state)
    assert (first["pk"], first["sk"], first["version"]) == ("caregiver#helga", "state", 7)
    assert first["caregiver"] == state.model_dump(mode="json")
    assert first["caregiver"]["trainings"][0]["days"] == "1.5"
    assert first["training_days"] == "2.0"
    assert first["families_known"] == 2  # fam-a twice; a released booking still made them known


def test_the_list_row_carries_the_full_caregiver_and_a_summary() -> None:
    state = caregiver(cg.StatusChanged(status="paused", reason="holiday"))
    _, listed = caregiver_rows(state)
    assert {k: v for k, v in listed.items() if k != "caregiver"} == {
        "pk": "caregivers",
        "sk": "helga",
        "caregiver_id": "helga",
        "name": "Helga Brandt",
        "status": "paused",
        "qualification": "pedagogical",
        "age_groups": ["infant", "preschool", "school"],
        "home_municipality": "laatzen",
        "municipalities_served": ["laatzen", "hemmingen"],
    }
    assert listed["caregiver"] == state.model_dump(mode="json")
    assert cg.CaregiverState.model_validate(listed["caregiver"]) == state  # matching can rebuild the state


def test_caregiver_streams_are_projected_with_their_prefix() -> None:
    assert projection_for("caregiver-helga") in PROJECTIONS
    assert projection_for("caregiver-helga").prefix == "caregiver-"
    assert projection_for("case-c1").prefix == "case-"  # "caregiver-" and "case-" do not shadow each other
    pk, version, rows = rows_for_stream("caregiver-helga", stamped("caregiver-helga", caregiver_steps()))
    assert (pk, version, [(r["pk"], r["sk"]) for r in rows]) == (
        "caregiver#helga",
        1,
        [("caregiver#helga", "state"), ("caregivers", "helga")],
    )


def test_case_rows_and_caregiver_rows_share_the_partition_without_touching_each_other() -> None:
    """A case writes offers, assignments and month rows into caregiver#helga; the caregiver's
    own stream replaces only its own rows there, and the other way round."""
    readmodel = MemoryReadModel()
    cg_envelopes = stamped("caregiver-helga", [*caregiver_steps(), TRAININGS[0], TRAININGS[1]])
    start, end = berlin(2026, 11, 2, 8, 0), berlin(2026, 11, 2, 14, 0)
    case_steps = [
        *emergency(need_at=berlin(2026, 11, 2, 6, 30), window=window(start, end)),
        assigned("a1", "helga", berlin(2026, 11, 2, 7, 0), start, end),
        recorded("s1", "a1", "helga", start, berlin(2026, 11, 2, 13, 0), km="6"),
    ]
    case_envelopes = stamped("case-c1", case_steps)

    write_rows(readmodel, *rows_for_stream("caregiver-helga", cg_envelopes[:2]))
    write_rows(readmodel, *rows_for_stream("case-c1", case_envelopes))
    write_rows(readmodel, *rows_for_stream("caregiver-helga", cg_envelopes))  # a newer caregiver version

    assert [r["sk"] for r in readmodel.query("caregiver#helga")] == [
        "assignment#c1#a1",
        "month#2026-11#case#c1",
        "state",
    ]
    assert readmodel.get("caregiver#helga", "state")["training_days"] == "2.0"
    month = readmodel.get("caregiver#helga", "month#2026-11#case#c1")
    assert (month["cared_minutes"], month["travel_cents"], month["allowance_cents"]) == (300, 180, 1000)
    assert [r["caregiver_id"] for r in readmodel.query("caregivers")] == ["helga"]
