"""Serializer fields for geometry input: every geometry passes through ``clean_geometry``."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.gis.gdal.error import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils.encoding import smart_str
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField

from ..exceptions import GeometryError
from ..geometry import clean_geometry

_GEOJSON_SCHEMA = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"type": "string"},
        "coordinates": {"type": "array", "items": {}},
    },
    "description": "GeoJSON geometry in EPSG:4326 (longitude, latitude).",
}


@extend_schema_field(_GEOJSON_SCHEMA)
class CleanGeometryField(GeometryField):
    """GeoJSON in, EPSG:4326 GEOS out, of one geometry type, valid and not empty."""

    def __init__(self, geom_type: str, **kwargs: Any) -> None:
        self.geom_type = geom_type
        super().__init__(precision=7, **kwargs)

    def to_internal_value(self, value: Any) -> GEOSGeometry:
        return clean_geometry(value, geom_type=self.geom_type)


@extend_schema_field({**_GEOJSON_SCHEMA, "description": "Polygon in metres, floor-plan frame."})
class PlanGeometryField(GeometryField):
    """A room plan: a GeoJSON Polygon in metres in the building's own frame (no SRID)."""

    unreadable = _("The room plan cannot be read as a GeoJSON polygon: %(reason)s.")

    def to_internal_value(self, value: Any) -> GEOSGeometry:
        try:
            text = value if isinstance(value, str) else json.dumps(value)
            geom = GEOSGeometry(text)
        except (GEOSException, GDALException, ValueError, TypeError) as exc:
            raise GeometryError(
                self.unreadable,
                code="malformed_geojson",
                field=self.field_name,
                reason=str(exc)[:200],
            ) from exc
        geom.srid = 0
        return geom

    def to_representation(self, value: Any) -> Any:
        return None if value is None else json.loads(value.json)


@extend_schema_field({**_GEOJSON_SCHEMA, "description": "LineString in metres, floor-plan frame."})
class PlanLineField(PlanGeometryField):
    """A cut line across a room plan: a GeoJSON LineString in the same frame as the plan."""

    unreadable = _("The cut line cannot be read as a GeoJSON LineString: %(reason)s.")


class CodeRelatedField(serializers.SlugRelatedField):
    """A territory node named by its official code (digits only).

    Anything else is "does not exist" before the database is asked: a NUL byte in the lookup
    would otherwise be a database error (500) instead of a 400.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="code", **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        text = str(data) if isinstance(data, int) and not isinstance(data, bool) else data
        if not isinstance(text, str) or not (text.isascii() and text.isdigit()):
            self.fail("does_not_exist", slug_name=self.slug_field, value=smart_str(data))
        return super().to_internal_value(text)
