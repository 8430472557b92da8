"""Spatial SQL functions the ORM does not ship, one small ``Func`` each."""

from __future__ import annotations

from django.contrib.gis.db.models import PolygonField
from django.contrib.gis.db.models.functions import GeoFuncMixin, GeomOutputGeoFunc
from django.db.models import BooleanField, Func, Value


class IsEmpty(GeoFuncMixin, Func):  # type: ignore[misc]
    """``ST_IsEmpty(geom)``: true for an empty geometry."""

    function = "ST_IsEmpty"
    output_field = BooleanField()


class SimplifyPreserveTopology(GeomOutputGeoFunc):
    """``ST_SimplifyPreserveTopology(geom, tolerance)``: tolerance in the geometry's units."""

    function = "ST_SimplifyPreserveTopology"
    arity = 2


class MakeEnvelope(GeomOutputGeoFunc):
    """``ST_MakeEnvelope(xmin, ymin, xmax, ymax, 4326)``: a box from four numbers, no GEOS
    object to build and serialise per request."""

    function = "ST_MakeEnvelope"
    geom_param_pos = ()

    def __init__(self, x0: float, y0: float, x1: float, y1: float, srid: int = 4326) -> None:
        super().__init__(
            *(Value(float(v)) for v in (x0, y0, x1, y1)),
            Value(srid),
            output_field=PolygonField(srid=srid),
        )
