"""JSON rendering with orjson, so that GeoJSON produced by PostGIS is embedded without re-parsing."""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable
from typing import Any

import orjson
from django.contrib.gis.geos import GEOSGeometry
from django.utils.functional import Promise
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


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


#: The media type of an XLSX workbook (every download of one: coverage lists, registers).
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Rows of one workbook at most (a district's overdue rooms can be many): a larger list is
#: refused with what to narrow.
MAX_XLSX_ROWS = 50_000


class FormatIsOurs(DefaultContentNegotiation):
    """Content negotiation of a view whose ``?format=`` names the file it sends (the gap lists,
    the dashboard's workbook, the monthly report, the registers), not a DRF renderer: the view's first
    renderer is taken whatever ``?format=`` or ``Accept`` say, so its errors are JSON."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, str(renderer.media_type)
