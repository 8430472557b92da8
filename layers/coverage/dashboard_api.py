"""API of the dashboard and the monthly report under ``/api/coverage/`` (docs/coverage.md):

* ``GET dashboard/?code=`` — the dashboard of a node as JSON (``layers.coverage.dashboard``);
* ``GET dashboard/xlsx/?code=`` — the same as a workbook (measures and children sheets);
* ``GET report/?code=&month=YYYY-MM&format=xlsx|pdf`` — the monthly report (信息月报).

Every signed-in user reads the nodes of their territory (and their part of a node above it); a
node beside it is a 404, a code or month that is no such thing a 400, in both languages.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis.api.renderers import XLSX, FastJSONRenderer, FormatIsOurs
from gis.exceptions import InvalidInputError

from . import report as reports
from .dashboard import dashboard

FORMATS = {"xlsx": XLSX, "pdf": "application/pdf"}
CODE = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    required=True,
    description="district, street office, community or zone code (6, 9, 12 or 15 digits)",
)


def _code(request: Request) -> str:
    code = request.query_params.get("code", "")
    if not code:
        raise InvalidInputError(
            _("Give a district, street office, community or zone code in ?code=."),
            code="bad_code",
            field="code",
        )
    return str(code)


def _download(content: bytes, name: str, fmt: str) -> HttpResponse:
    """The file made in memory, as a download (not streamed: it is whole already)."""
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    response["Cache-Control"] = "private, no-store"
    return response


class DashboardView(APIView):
    """The dashboard of a node: measures (value, numerator, denominator, target, status, links
    to the coverage map and to the list behind), sweeps in progress, figures per child node."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(parameters=[CODE], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response(dashboard(request.user, _code(request)))


class DashboardXlsxView(APIView):
    """The dashboard as an XLSX workbook: the measures sheet and the children sheet."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(parameters=[CODE], responses={(200, XLSX): OpenApiTypes.BINARY})
    def get(self, request: Request) -> HttpResponse:
        code = _code(request)
        data = dashboard(request.user, code)
        name = f"{data['node']['name'] or code}-{data['today']}.xlsx"
        return _download(reports.dashboard_xlsx(data), name, "xlsx")


class MonthlyReportView(APIView):
    """The monthly information report (信息月报) of a node as XLSX or PDF."""

    renderer_classes = [FastJSONRenderer]
    content_negotiation_class = FormatIsOurs

    @extend_schema(
        parameters=[
            CODE,
            OpenApiParameter("month", OpenApiTypes.STR, required=True, description="YYYY-MM"),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["xlsx", "pdf"], required=False),
        ],
        responses={
            (200, XLSX): OpenApiTypes.BINARY,
            (200, "application/pdf"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request) -> HttpResponse:
        params = request.query_params
        fmt = params.get("format") or "xlsx"
        if fmt not in FORMATS:
            raise InvalidInputError(
                _("format is xlsx or pdf, not %(value)s."),
                code="bad_format",
                field="format",
                value=repr(fmt)[:20],
            )
        report = reports.monthly_report(
            request.user, _code(request), params.get("month", ""), today=timezone.localdate()
        )
        content: Any = reports.report_pdf(report) if fmt == "pdf" else reports.report_xlsx(report)
        name = f"{report.title}-{report.name or report.code}-{report.month}.{fmt}"
        return _download(content, name, fmt)


urlpatterns: list[URLPattern] = [
    path("dashboard/", DashboardView.as_view(), name="coverage-dashboard-api"),
    path("dashboard/xlsx/", DashboardXlsxView.as_view(), name="coverage-dashboard-xlsx"),
    path("report/", MonthlyReportView.as_view(), name="coverage-report"),
]
