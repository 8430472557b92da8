"""Tolerances and ratios of the grids, each overridable by a Django setting of the same name."""

from __future__ import annotations

from django.conf import settings

DEFAULTS: dict[str, float] = {
    # Area of a zone allowed outside its community (digitising slivers), m².
    "GRID_OUTSIDE_TOLERANCE_M2": 1.0,
    # Overlap between two current zones of a community that is still accepted, m².
    "GRID_OVERLAP_TOLERANCE_M2": 1.0,
    # Part of a footprint allowed outside the zone that holds most of it, m².
    "GRID_BUILDING_CUT_TOLERANCE_M2": 1.0,
    # Uncovered community area below this is not reported, m².
    "GRID_UNCOVERED_TOLERANCE_M2": 1.0,
    # People per household (7th national census, 2020: 2.62), for residents = households × this.
    "GRID_HOUSEHOLD_SIZE": 2.62,
    # The seeds' ratios: one yard propagandist per N residents, one central household head per N
    # households, N information officers per community.
    "GRID_RESIDENTS_PER_PROPAGANDIST": 3000,
    "GRID_HOUSEHOLDS_PER_CENTRAL_HEAD": 100,
    "GRID_INFORMATION_OFFICERS_PER_COMMUNITY": 2,
}


def value(name: str) -> float:
    return float(getattr(settings, name, DEFAULTS[name]))
