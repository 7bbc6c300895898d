"""The statistics report from the read model: the cases listed in the period's months and every
partner stream (notfall.projection.case_log), folded by the same pure report as the whole log
(notfall.reports.statistics), so both give the same figures.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from notfall.projection.case_log import case_streams, named_place, partner_streams, place_key
from notfall.projection.readmodel import ReadModel
from notfall.reports.statistics import CITY_INHABITANTS, Period, statistics
from notfall.store.base import EventStore


def report(
    readmodel: ReadModel,
    store: EventStore,
    p: Period,
    *,
    partner: str | None = None,
    municipality: str | None = None,
    city: str = "hannover",
    city_inhabitants: int = CITY_INHABITANTS,
) -> dict[str, Any]:
    """The report of period `p`, overall or for one partner or municipality (422 if unknown)."""
    streams = {**partner_streams(readmodel, store), **case_streams(readmodel, store, p.months)}
    # A municipality only cases of other periods name is known all the same (zeros, not 422).
    places = []
    if municipality is not None and place_key(municipality) != place_key(city) and named_place(readmodel, municipality):
        places.append(municipality)
    return statistics(
        chain.from_iterable(streams.values()),
        p,
        partner=partner,
        municipality=municipality,
        city=city,
        city_inhabitants=city_inhabitants,
        places=places,
    )
