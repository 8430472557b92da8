"""API of the gap layers (docs/coverage.md): ``GET gaps/?code=&kind=&days=&page=&bbox=&format=``.

``format=json`` (the default): ``{count, next, previous, results, kind, code, name, days,
since}``, paginated like the other lists (``?page=``, ``?page_size=`` up to 1000);
``format=geojson``: the same page as a FeatureCollection (building centroids, zone boundaries;
WGS84); ``format=xlsx``: every row as a workbook with Chinese headers. A thin view over
``layers.coverage.gaps``.
"""

from __future__ import annotations

import io

from django.http import FileResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis.api.pagination import CheckedPagination
from gis.api.renderers import MAX_XLSX_ROWS, XLSX, FastJSONRenderer, FormatIsOurs
from gis.api.views import bbox_values
from gis.exceptions import InvalidInputError
from grid.coverage import parse_days

from . import gaps

FORMATS = ("json", "geojson", "xlsx")


def _format(value: str | None) -> str:
    if value in (None, ""):
        return "json"
    if value not in FORMATS:
        raise InvalidInputError(
            _("format is json, geojson or xlsx, not %(value)s."),
            code="bad_format",
            field="format",
            value=repr(value)[:20],
        )
    return str(value)


class GapListView(APIView):
    """A gap layer of a territory node in the user's territory: buildings never visited,
    buildings with rooms unseen in the window, rented buildings without the "人口" plate, zones
    without a responsible person, rooms overdue for a revisit or flagged."""

    renderer_classes = [FastJSONRenderer]
    content_negotiation_class = FormatIsOurs

    @extend_schema(
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, required=True),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(gaps.KINDS), required=True),
            OpenApiParameter("days", OpenApiTypes.STR, enum=["7", "30", "90", "all"]),
            OpenApiParameter("bbox", OpenApiTypes.STR, description="minLon,minLat,maxLon,maxLat"),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(FORMATS)),
        ],
        responses={200: OpenApiTypes.OBJECT, (200, XLSX): OpenApiTypes.BINARY},
    )
    def get(self, request: Request) -> Response | FileResponse:
        params = request.query_params
        fmt = _format(params.get("format"))
        bbox_text = params.get("bbox")
        found = gaps.gap_list(
            request.user,
            params.get("code", ""),
            params.get("kind", ""),
            days=parse_days(params.get("days")),
            bbox=bbox_values(bbox_text) if bbox_text else None,
        )
        if fmt == "xlsx":
            return self._workbook(found)
        paginator = CheckedPagination()
        page = paginator.paginate_queryset(found.rows, request, view=self) or []
        if fmt == "geojson":
            key = gaps.id_key(found.kind)
            response = paginator.get_paginated_response(
                [gaps.feature(found.kind, row, key) for row in page]
            )
            data = response.data
            response.data = {
                "type": "FeatureCollection",
                **found.as_body(),
                "count": data["count"],
                "next": data["next"],
                "previous": data["previous"],
                "features": data["results"],
            }
            response.content_type = "application/geo+json"
            return response
        response = paginator.get_paginated_response([gaps.row_body(found.kind, r) for r in page])
        response.data.update(found.as_body())
        return response

    def _workbook(self, found: gaps.GapList) -> FileResponse:
        rows = list(found.rows[: MAX_XLSX_ROWS + 1])
        if len(rows) > MAX_XLSX_ROWS:
            raise InvalidInputError(
                _(
                    "The list holds more than %(max)s rows: choose a smaller territory node or "
                    "a box (bbox) for the workbook."
                ),
                code="too_many_rows",
                field="code",
                max=MAX_XLSX_ROWS,
            )
        name = f"{found.kind}-{found.code}-{timezone.localdate():%Y%m%d}.xlsx"
        response = FileResponse(
            io.BytesIO(gaps.workbook(found, rows)),
            as_attachment=True,
            filename=name,
            content_type=XLSX,
        )
        response["Cache-Control"] = "private, no-store"
        return response


urlpatterns: list[URLPattern] = [
    path("gaps/", GapListView.as_view(), name="coverage-gaps"),
]
