"""Turning user input into a storable geometry, or a clear error that changes nothing.

Accepted input: a GeoJSON geometry (dict or string, optionally with a legacy ``crs`` member naming
an EPSG code from :data:`gis.crs.ALLOWED_SRIDS`) or a GEOS geometry with an SRID. The result is in
EPSG:4326, of the requested type (a Polygon is promoted to a MultiPolygon where one is stored),
valid and not empty.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, overload

import shapely
from django.contrib.gis.gdal.error import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Point, Polygon
from django.utils.translation import gettext_lazy as _

from .crs import ALLOWED_SRIDS, STORAGE_SRID
from .exceptions import GeometryError

_GEOJSON_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}
_EPSG = re.compile(r"(?:EPSG:{1,2}|EPSG::|urn:ogc:def:crs:EPSG::?)(\d+)$", re.IGNORECASE)
_CRS84 = re.compile(r"(?:urn:ogc:def:crs:OGC:1\.3:)?CRS84$", re.IGNORECASE)


def _srid_of_crs_member(crs: Any) -> int:
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if not isinstance(name, str):
        raise GeometryError(
            _(
                "The GeoJSON 'crs' member is not understood: %(value)s. Give coordinates in "
                "EPSG:4326 (longitude, latitude) and leave 'crs' out."
            ),
            code="unknown_crs",
            value=json.dumps(crs, ensure_ascii=False)[:200],
        )
    if _CRS84.search(name):
        return STORAGE_SRID
    match = _EPSG.search(name)
    if not match or int(match.group(1)) not in ALLOWED_SRIDS:
        raise GeometryError(
            _("Coordinate system %(value)s is not accepted. Use one of: %(allowed)s."),
            code="wrong_srid",
            value=name[:100],
            allowed=", ".join(f"EPSG:{s}" for s in ALLOWED_SRIDS),
        )
    return int(match.group(1))


def _from_geojson(value: Any) -> GEOSGeometry:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise GeometryError(
                _("The geometry is not valid JSON: %(reason)s."),
                code="malformed_geojson",
                reason=str(exc),
            ) from exc
    if not isinstance(value, dict) or str(value.get("type")) not in _GEOJSON_TYPES:
        kind = value.get("type") if isinstance(value, dict) else type(value).__name__
        raise GeometryError(
            _("Expected a GeoJSON geometry object (Point, Polygon, MultiPolygon…), got %(value)s."),
            code="malformed_geojson",
            value=str(kind)[:50],
        )
    if value.get("coordinates") == [] or value.get("geometries") == []:
        raise GeometryError(
            _("The geometry is empty: draw at least one shape."), code="empty_geometry"
        )
    srid = _srid_of_crs_member(value["crs"]) if "crs" in value else STORAGE_SRID
    body = {k: v for k, v in value.items() if k != "crs"}
    try:
        geom = GEOSGeometry(json.dumps(body))
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        raise GeometryError(
            _(
                "The GeoJSON geometry cannot be read: %(reason)s. Check that coordinates are "
                "[longitude, latitude] pairs and rings are closed."
            ),
            code="malformed_geojson",
            reason=str(exc)[:200],
        ) from exc
    geom.srid = srid
    return geom


@overload
def clean_geometry(value: Any, *, geom_type: Literal["Polygon"]) -> Polygon: ...
@overload
def clean_geometry(value: Any, *, geom_type: Literal["MultiPolygon"]) -> MultiPolygon: ...
@overload
def clean_geometry(value: Any, *, geom_type: Literal["Point"]) -> Point: ...
@overload
def clean_geometry(value: Any, *, geom_type: str) -> GEOSGeometry: ...


def clean_geometry(value: Any, *, geom_type: str) -> GEOSGeometry:
    """Validate ``value`` and return it in EPSG:4326 as ``geom_type`` ("Polygon", "MultiPolygon",
    "Point", "LineString").

    Raises :class:`GeometryError` with a code: ``malformed_geojson``, ``wrong_srid``,
    ``unknown_crs``, ``wrong_type``, ``empty_geometry``, ``out_of_range``, ``invalid_geometry``.
    """
    geom = value.clone() if isinstance(value, GEOSGeometry) else _from_geojson(value)
    if geom.srid is None:
        geom.srid = STORAGE_SRID
    if geom.srid not in ALLOWED_SRIDS:
        raise GeometryError(
            _("Coordinate system EPSG:%(value)s is not accepted. Use one of: %(allowed)s."),
            code="wrong_srid",
            value=geom.srid,
            allowed=", ".join(f"EPSG:{s}" for s in ALLOWED_SRIDS),
        )
    if geom.empty:
        raise GeometryError(
            _("The geometry is empty: draw at least one shape."), code="empty_geometry"
        )
    if geom.hasz:
        raise GeometryError(
            _(
                "Coordinates must be two-dimensional (longitude, latitude): remove the third "
                "value (height) from every position."
            ),
            code="three_dimensional",
        )
    if geom.srid != STORAGE_SRID:
        try:
            geom.transform(STORAGE_SRID)
        except (GDALException, GEOSException) as exc:
            raise GeometryError(
                _(
                    "The coordinates cannot be transformed from EPSG:%(value)s: %(reason)s. Check "
                    "that they really are in that coordinate system."
                ),
                code="wrong_srid",
                value=geom.srid,
                reason=str(exc)[:100],
            ) from exc
    lon_min, lat_min, lon_max, lat_max = geom.extent
    if lon_min < -180 or lon_max > 180 or lat_min < -90 or lat_max > 90:
        raise GeometryError(
            _(
                "Coordinates %(value)s are not longitude/latitude degrees: they look projected. "
                "Send EPSG:4326 or name the coordinate system (for example EPSG:4546)."
            ),
            code="out_of_range",
            value=f"({lon_min:.1f}, {lat_min:.1f})",
        )
    if geom_type == "MultiPolygon" and isinstance(geom, Polygon):
        geom = MultiPolygon(geom, srid=geom.srid)
    if geom.geom_type != geom_type:
        raise GeometryError(
            _("Expected a %(expected)s, got a %(value)s."),
            code="wrong_type",
            expected=geom_type,
            value=geom.geom_type,
        )
    if not geom.valid:
        raise GeometryError(
            _(
                "The %(kind)s is not valid: %(reason)s. Remove self-intersections and duplicate "
                "points, and make sure holes lie inside their shell."
            ),
            code="invalid_geometry",
            kind=geom.geom_type,
            reason=geom.valid_reason,
            geometry=json.loads(geom.json),
        )
    return geom


def from_shapely(geom: shapely.Geometry, *, srid: int = STORAGE_SRID) -> GEOSGeometry:
    """The GEOS twin of a shapely geometry (its own subclass: Polygon, LineString…), in
    ``srid``: where vectorised work (shapely) hands a geometry to the ORM. Not checked: what is
    stored goes through :func:`clean_geometry` or the services."""
    return GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=srid)


def to_shapely(geom: GEOSGeometry | None) -> shapely.Geometry:
    """The shapely twin of a GEOS geometry (SRID dropped), an empty polygon for None: where a
    geometry read through the ORM goes on to vectorised work."""
    if geom is None:
        return shapely.Polygon()
    return shapely.from_wkb(bytes(geom.wkb))
