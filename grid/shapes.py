"""Geometry tools of the zone-drawing page: cut a zone along a line, merge neighbouring zones.

Nothing is written: the page shows the pieces and saves them through the zone changes
(``grid.services.apply_zone_changes``). Work happens in EPSG:4326 (where neighbouring zones share
identical vertices); sizes are checked in ``settings.METRIC_SRID``.
"""

from __future__ import annotations

import json
from typing import Any

import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.utils.translation import gettext_lazy as _
from shapely.ops import split

from gis.crs import STORAGE_SRID, to_metric
from gis.exceptions import PlategridError
from gis.geometry import clean_geometry, from_shapely, to_shapely

from .exceptions import ZoneShapeError

#: A piece of a cut must be larger than this (m²): smaller ones are slivers of a line that
#: grazes the zone's edge.
MIN_PIECE_M2 = 1.0

#: Decimal places of the coordinates returned (7: about 1 cm).
PRECISION = 7


def rounded(value: Any, digits: int = PRECISION) -> Any:
    """A GeoJSON object with every coordinate rounded to ``digits`` decimals."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, list | tuple):
        return [rounded(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v, digits) if k == "coordinates" else v for k, v in value.items()}
    return value


def geojson(geom: GEOSGeometry | shapely.Geometry) -> dict[str, Any]:
    """GeoJSON of ``geom`` with coordinates rounded to :data:`PRECISION` decimals."""
    text = geom.json if isinstance(geom, GEOSGeometry) else shapely.to_geojson(geom)
    return rounded(json.loads(text))


def _read(value: Any, geom_type: str, field: str) -> shapely.Geometry:
    """``value`` checked by ``clean_geometry``; its error names the request ``field``."""
    try:
        return to_shapely(clean_geometry(value, geom_type=geom_type))
    except PlategridError as error:
        error.field = field
        raise


def _area_m2(geom: shapely.Geometry) -> float:
    return float(to_metric(from_shapely(geom, srid=STORAGE_SRID)).area)


def cut_zone(geom: Any, line: Any) -> list[shapely.Polygon]:
    """The pieces of the Polygon or MultiPolygon ``geom`` cut by ``line`` (GeoJSON or GEOS, EPSG
    4326), largest first. Raises :class:`ZoneShapeError` ``line_does_not_cut`` when the line does
    not cross the zone from edge to edge (fewer than two pieces of more than
    :data:`MIN_PIECE_M2`)."""
    zone = _read(geom, "MultiPolygon", "geom")
    cut = _read(line, "LineString", "line")
    pieces = [p for p in shapely.get_parts(split(zone, cut)) if isinstance(p, shapely.Polygon)]
    parts = len(shapely.get_parts(zone))
    sized = sorted(((_area_m2(p), p) for p in pieces), key=lambda item: -item[0])
    if len(pieces) <= parts or any(area <= MIN_PIECE_M2 for area, _ in sized):
        raise ZoneShapeError(
            _(
                "The line does not cut the zone in two: draw it across the zone from one edge "
                "to the other, starting and ending outside it."
            ),
            code="line_does_not_cut",
            field="line",
            geometry=geojson(cut),
        )
    return [p for _, p in sized]


def merge_zones(geoms: Any) -> shapely.Polygon:
    """The union of two or more zones (GeoJSON or GEOS Polygons or MultiPolygons, EPSG 4326) as
    one Polygon. Raises :class:`ZoneShapeError` ``not_neighbours`` when the union is not one
    polygon (the zones share no boundary), with the union as the error's geometry."""
    if not isinstance(geoms, list) or len(geoms) < 2:
        raise ZoneShapeError(
            _("Give at least two zones to merge."), code="too_few_zones", field="geoms"
        )
    shapes = [_read(g, "MultiPolygon", f"geoms.{i}") for i, g in enumerate(geoms)]
    union = shapely.union_all(shapes)
    if not isinstance(union, shapely.Polygon):
        raise ZoneShapeError(
            _(
                "These %(count)s zones do not form one area: they share no boundary. Merge only "
                "zones that touch along an edge."
            ),
            code="not_neighbours",
            field="geoms",
            count=len(shapes),
            geometry=geojson(union),
        )
    return union
