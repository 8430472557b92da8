"""Spatial SQL functions the ORM does not ship, one small ``Func`` each."""

from __future__ import annotations

from django.contrib.gis.db.models.functions import GeoFuncMixin, GeomOutputGeoFunc
from django.db.models import BooleanField, Func


class IsEmpty(GeoFuncMixin, Func):  # type: ignore[misc]
    """``ST_IsEmpty(geom)``: true for an empty geometry."""

    function = "ST_IsEmpty"
    output_field = BooleanField()


class SimplifyPreserveTopology(GeomOutputGeoFunc):
    """``ST_SimplifyPreserveTopology(geom, tolerance)``: tolerance in the geometry's units."""

    function = "ST_SimplifyPreserveTopology"
    arity = 2
