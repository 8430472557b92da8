"""What the automatic partition (``grid.partition.partition_area``) needs, read from the database
in ``settings.METRIC_SRID``: the area's parts, the footprints with their workloads, and the
barriers (streets and compound outlines).

Geometries come out of PostGIS already projected, as WKB, and become shapely arrays in one call
each: no per-row GEOS objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from django.contrib.gis.db.models.functions import AsWKB, Transform
from django.db.models import Count, IntegerField, Q, QuerySet, Value
from numpy.typing import NDArray

from gis.crs import metric_srid, transformed
from gis.geometry import from_shapely, to_shapely
from gis.models import Building, Community, Compound, Street

from .models import WorkloadMeasure
from .services import HOUSEHOLD_USES

#: Longest edge of the area before it is projected (about 10 m).
DENSIFY_DEGREES = 0.0001


@dataclass(frozen=True)
class PartitionInput:
    #: The area (the community or the compound), one polygon per part, in metres.
    parts: list[shapely.Polygon]
    building_ids: NDArray[np.int64]
    footprints: NDArray[np.object_]
    weights: NDArray[np.float64]
    #: Street centrelines and compound outlines crossing the area.
    barriers: list[shapely.Geometry]


def area_buildings(community: Community, compound: Compound | None = None) -> QuerySet[Building]:
    """The buildings of the community (the database derives it from each footprint's point on
    surface), or of those whose point on surface lies in ``compound``."""
    queryset = Building.objects.filter(community=community)
    if compound is not None:
        queryset = queryset.filter(centroid__intersects=compound.geom)
    return queryset


def _weight(workload: str) -> Count | Value:
    if workload == WorkloadMeasure.ROOMS:
        return Count("rooms")
    if workload == WorkloadMeasure.HOUSEHOLDS:
        return Count("rooms", filter=Q(rooms__use__in=HOUSEHOLD_USES))
    return Value(1, output_field=IntegerField())


def shapes_from_wkb(values: list[bytes | memoryview]) -> NDArray[np.object_]:
    """The shapely geometries of a column of ``AsWKB`` values, in one call (an object array: a
    NumPy bytes array would drop each value's trailing zero bytes)."""
    return shapely.from_wkb(np.array([bytes(v) for v in values], dtype=object))


def load_partition_input(
    community: Community, *, compound: Compound | None = None, workload: str = "rooms"
) -> PartitionInput:
    """Read the partition input of ``community`` (or of ``compound`` in it); workload per
    building: its rooms, its lived-in dwelling rooms (``households``, as ``staffing_gaps``
    counts them) or 1 (``buildings``). Three queries."""
    srid = metric_srid()
    owner = compound if compound is not None else community
    # Densified first: a straight edge in EPSG:4326 is a curve in metres, and the zones go back
    # to 4326 vertex by vertex, so long edges would leave slivers outside the community.
    outline = shapely.segmentize(to_shapely(owner.geom), DENSIFY_DEGREES)
    area = to_shapely(transformed(from_shapely(outline), srid))
    rows = list(
        area_buildings(community, compound)
        .annotate(wkb=AsWKB(Transform("footprint", srid)), weight=_weight(workload))
        .order_by("pk")
        .values_list("pk", "wkb", "weight")
    )
    streets = Street.objects.filter(centerline__intersects=owner.geom).annotate(
        wkb=AsWKB(Transform("centerline", srid))
    )
    compounds = Compound.objects.filter(community=community, geom__intersects=owner.geom)
    if compound is not None:
        compounds = compounds.exclude(pk=compound.pk)
    outlines = compounds.annotate(wkb=AsWKB(Transform("geom", srid)))
    street_lines = shapes_from_wkb(list(streets.values_list("wkb", flat=True)))
    compound_lines = shapely.boundary(shapes_from_wkb(list(outlines.values_list("wkb", flat=True))))
    return PartitionInput(
        parts=list(shapely.get_parts(area)),
        building_ids=np.array([r[0] for r in rows], dtype=np.int64),
        footprints=shapes_from_wkb([r[1] for r in rows]),
        weights=np.array([r[2] for r in rows], dtype=float),
        barriers=[*street_lines, *compound_lines],
    )
