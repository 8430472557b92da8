"""``GET /api/coverage/map/``: the coverage choropleth of a territory node (docs/coverage.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis.api.renderers import FastJSONRenderer
from gis.exceptions import InvalidInputError
from grid.coverage import parse_days
from grid.models import Sweep

from . import choropleth
from .tiles import parse_rented


@dataclass(frozen=True)
class MapQuery:
    """The query of a coverage view, as the API, the page and the exports take it."""

    code: str
    level: str | None
    days: int | None
    sweep: Sweep | None
    rented: bool
    scheme: str
    at: Any

    def choropleth(self, user: Any) -> dict[str, Any]:
        return choropleth.choropleth(
            user,
            self.code,
            level=self.level,
            days=self.days,
            sweep=self.sweep,
            rented=self.rented,
            scheme=self.scheme,
            at=self.at,
        )


def parse_query(user: Any, params: Any) -> MapQuery:
    """``code`` (required), ``level``, ``days`` (7/30/90/all; default 30), ``sweep``,
    ``rented`` (0/1), ``scheme`` (targets/natural), ``at`` (YYYY-MM-DD) from a query dict."""
    code = params.get("code") or ""
    if not code:
        raise InvalidInputError(_("code is required."), code="required", field="code")
    return MapQuery(
        code=code,
        level=params.get("level") or None,
        days=parse_days(params.get("days", "30")),
        sweep=choropleth.visible_sweep(user, params.get("sweep")),
        rented=parse_rented(params.get("rented")),
        scheme=choropleth.parse_scheme(params.get("scheme")),
        at=choropleth.parse_at(params.get("at")),
    )


class CoverageMapView(APIView):
    """The coverage choropleth of a district, street office, community or zone (``?code=``):
    its nodes of ``?level=`` (default: its children) as a GeoJSON FeatureCollection with rooms,
    rooms seen in the window (``?days=`` 7/30/90/all, default 30; or ``?sweep=<id>``; or as it
    was on a past ``?at=`` snapshot day), share, class and colour (``?scheme=`` targets: < 85 %,
    85–95 %, ≥ 95 %; natural: Fisher-Jenks breaks), the legend, the node and the replay's days."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, required=True),
            OpenApiParameter("level", OpenApiTypes.STR, required=False),
            OpenApiParameter("days", OpenApiTypes.STR, required=False),
            OpenApiParameter("sweep", OpenApiTypes.INT, required=False),
            OpenApiParameter("rented", OpenApiTypes.STR, required=False),
            OpenApiParameter("scheme", OpenApiTypes.STR, required=False),
            OpenApiParameter("at", OpenApiTypes.DATE, required=False),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        return Response(parse_query(request.user, request.query_params).choropleth(request.user))


urlpatterns: list[URLPattern] = [
    path("map/", CoverageMapView.as_view(), name="coverage-map"),
]
