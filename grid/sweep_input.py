"""What a sweep's walking distances (``grid.walking.walking_matrix``) need, read from the database
in ``settings.METRIC_SRID``: one point per building and the streets around them.

A building's point is its first door plate's location (where a visitor stands), else its
footprint's point on surface. Geometries come out of PostGIS already projected, as WKB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from django.contrib.gis.db.models import PointField
from django.contrib.gis.db.models.functions import AsWKB, Transform
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from numpy.typing import NDArray

from gis.crs import STORAGE_SRID, metric_srid, transformed
from gis.geometry import from_shapely
from gis.models import Building, DoorPlate, Street

from .partition_input import shapes_from_wkb

#: Streets this far (metres) around the buildings are read: as far as a point may be snapped.
STREET_MARGIN_M = 150.0


@dataclass(frozen=True)
class WalkingInput:
    #: The buildings in primary-key order, one point each (metres).
    building_ids: NDArray[np.int64]
    points: NDArray[np.object_]
    #: Street centrelines within ``margin_m`` of a building point (metres).
    streets: NDArray[np.object_]


def building_points_and_streets(
    buildings: QuerySet[Building], *, margin_m: float = STREET_MARGIN_M
) -> WalkingInput:
    """Read one point per building of ``buildings`` and the streets within ``margin_m`` of them,
    all in the metric SRID. Three queries."""
    srid = metric_srid()
    plate = Subquery(
        DoorPlate.objects.filter(building=OuterRef("pk")).order_by("pk").values("location")[:1],
        output_field=PointField(srid=STORAGE_SRID),
    )
    rows = list(
        buildings.annotate(wkb=AsWKB(Transform(Coalesce(plate, "centroid"), srid)))
        .order_by("pk")
        .values_list("pk", "wkb")
    )
    points = shapes_from_wkb([r[1] for r in rows])
    streets = np.empty(0, dtype=object)
    if len(points):
        # The points' bounding box grown by margin_m (metres), queried in storage SRID. (A
        # buffer of the points' union costs time quadratic in the points: minutes for 50,000.)
        minx, miny, maxx, maxy = shapely.total_bounds(points)
        area = shapely.box(minx - margin_m, miny - margin_m, maxx + margin_m, maxy + margin_m)
        area_stored = transformed(from_shapely(area, srid=srid), STORAGE_SRID)
        lines = Street.objects.filter(centerline__intersects=area_stored).annotate(
            wkb=AsWKB(Transform("centerline", srid))
        )
        streets = shapes_from_wkb(list(lines.order_by("pk").values_list("wkb", flat=True)))
    return WalkingInput(
        building_ids=np.array([r[0] for r in rows], dtype=np.int64),
        points=points,
        streets=streets,
    )
