"""JSON rendering with orjson, so that GeoJSON produced by PostGIS is embedded without re-parsing."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import orjson
from django.contrib.gis.geos import GEOSGeometry
from django.utils.functional import Promise
from rest_framework.renderers import BaseRenderer


def _default(value: Any) -> Any:
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, GEOSGeometry):
        return orjson.Fragment(value.json)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    raise TypeError(f"cannot serialise {type(value).__name__}")


class FastJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)


class GeoJSONRenderer(FastJSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"
