"""Thin API views of the grids: scoped querysets in, ``grid.services`` for writes and reports."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis.api.renderers import FastJSONRenderer
from gis.api.views import LayerViewSet, RegisterViewSet
from gis.exceptions import InvalidInputError, NotFoundError

from .. import jobs, services, shapes
from ..models import Assignment, PartitionJob, Staff, WorkloadMeasure, Zone
from ..querysets import AssignmentQuerySet
from . import serializers as s

CODE_PARAM = OpenApiParameter(
    "code", OpenApiTypes.STR, required=True, description="district, street office or community code"
)


def _filter_by(queryset: QuerySet[Any], lookup: str, value: str | None) -> QuerySet[Any]:
    """``queryset`` narrowed to ``lookup=value`` (a code or an id given as a query parameter);
    no value leaves it whole, a value that is not digits matches nothing (a NUL byte or letters
    would be a database error, a 500)."""
    if not value:
        return queryset
    if not (value.isascii() and value.isdigit()):
        return queryset.none()
    return queryset.filter(**{lookup: value})


class ZoneViewSet(LayerViewSet):
    """Current responsibility zones as a GeoJSON FeatureCollection (``?bbox=``, ``?zoom=``,
    ``?community=``); writes validated by ``grid.services.save_zone``."""

    model, saver, geo_field = Zone, staticmethod(services.save_zone), "geom"
    serializer_class = s.ZoneSerializer

    def get_queryset(self) -> QuerySet[Any]:
        queryset = Zone.objects.visible_to(self.request.user)
        if self.action == "list":
            queryset = queryset.current()
        return queryset

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        community = self.request.query_params.get("community")
        return super().filter_queryset(_filter_by(queryset, "community_id", community))


class StaffViewSet(RegisterViewSet):
    """Staff of the communities in scope; ``?community=`` (code) and ``?active=1`` narrow the list."""

    model, saver = Staff, staticmethod(services.save_staff)
    serializer_class = s.StaffSerializer

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        params = self.request.query_params
        queryset = _filter_by(queryset, "community__code", params.get("community"))
        if params.get("active") in ("1", "true"):
            queryset = queryset.filter(active=True)
        return super().filter_queryset(queryset).order_by("name", "pk")


class AssignmentViewSet(RegisterViewSet):
    """Assignments in scope; ``?zone=`` (id), ``?staff=`` (id) and ``?current=1`` (started, not
    ended, staff active) narrow the list."""

    model, saver = Assignment, staticmethod(services.save_assignment)
    serializer_class = s.AssignmentSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("staff", "zone")

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        params = self.request.query_params
        for field in ("zone", "staff"):
            queryset = _filter_by(queryset, f"{field}_id", params.get(field))
        if params.get("current") in ("1", "true"):
            queryset = cast(AssignmentQuerySet, queryset).current()
        return super().filter_queryset(queryset).order_by("role", "starts_on", "pk")


def _code(request: Request) -> str:
    code = request.query_params.get("code", "")
    if not code:
        raise InvalidInputError(
            _("Give a district, street office or community code in ?code=."),
            code="bad_code",
            field="code",
        )
    return code


def _community(community: Any) -> dict[str, Any]:
    """One community of a coverage or staffing report, with its derived ``ok`` and ``missing``."""
    body = dataclasses.asdict(community)
    body["ok"] = community.ok
    for shortage, row in zip(
        getattr(community, "shortages", []), body.get("shortages", []), strict=True
    ):
        row["missing"] = shortage.missing
    return body


def _report(report: Any) -> dict[str, Any]:
    return {
        "code": report.code,
        "communities": [_community(c) for c in report.communities],
        "ok": report.ok,
    }


class CoverageView(APIView):
    """The coverage check of a district, street office or community: per community the uncovered
    area (m², GeoJSON), zone overlaps, buildings in no zone and buildings cut by a boundary."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(parameters=[CODE_PARAM], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response(_report(services.coverage_check(_code(request), user=request.user)))


class StaffingGapsView(APIView):
    """Zones without a responsible person, buildings without a building head and the roles each
    community is short of."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(parameters=[CODE_PARAM], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response(_report(services.staffing_gaps(_code(request), user=request.user)))


def _body(request: Request) -> dict[str, Any]:
    """The JSON object posted (anything else: an empty one, whose fields are then missing)."""
    return request.data if isinstance(request.data, dict) else {}


class ZoneChangesView(APIView):
    """Several zone updates, creations and retirements in one transaction, every problem
    reported at once (``grid.services.apply_zone_changes``); ``dry_run`` only validates."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        body = _body(request)
        dry_run = body.get("dry_run", False)
        if not isinstance(dry_run, bool):
            raise InvalidInputError(
                _("dry_run is true or false, not %(value)s."),
                code="bad_dry_run",
                field="dry_run",
                value=repr(dry_run)[:30],
            )
        result = services.apply_zone_changes(
            actor=request.user,
            community=body.get("community", ""),
            changes=body.get("changes"),
            dry_run=dry_run,
        )
        errors = [
            {**p.error.as_body(), "zones": p.zones, "change": p.change} for p in result.problems
        ]
        payload = {
            "ok": result.ok,
            "saved": result.saved,
            "errors": errors,
            "coverage": _community(result.coverage),
            "zones": result.zones,
        }
        failed = not result.ok and not dry_run
        return Response(payload, status=400 if failed else 200)


class ZoneRenumberView(APIView):
    """Number a community's current zones 001, 002, … west → east, then north → south
    (``grid.services.renumber_zones``): ``{"community": code}`` → the codes that changed and
    the zones as they are now."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        community = services.community_in_scope(request.user, _body(request).get("community"))
        codes = services.renumber_zones(actor=request.user, community=community)
        zones = Zone.objects.current().filter(community=community)
        return Response({"codes": codes, "zones": services.zone_collection(zones)})


class ZoneCutView(APIView):
    """Cut a zone along a line (``grid.shapes.cut_zone``): the pieces, largest first. Writes
    nothing, so any signed-in user may use it."""

    renderer_classes = [FastJSONRenderer]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        body = _body(request)
        pieces = shapes.cut_zone(body.get("geom"), body.get("line"))
        return Response({"pieces": [shapes.geojson(piece) for piece in pieces]})


class ZoneMergeView(APIView):
    """Merge neighbouring zones into one polygon (``grid.shapes.merge_zones``). Writes nothing."""

    renderer_classes = [FastJSONRenderer]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        body = _body(request)
        return Response({"geom": shapes.geojson(shapes.merge_zones(body.get("geoms")))})


def _partition_body(job: PartitionJob) -> dict[str, Any]:
    english = (translation.get_language() or "").startswith("en")
    error = job.error_en if english else job.error_zh
    result = job.result or {}
    zones = result.get("zones")
    return {
        "id": str(job.pk),
        "community": job.community_id,
        **job.status_body(),
        "error": error or None,
        "parameters": {
            "zones": job.zones,
            "target_workload": job.target_workload,
            "workload": job.workload,
            "compound": job.compound_id,
        },
        "report": result.get("report"),
        "zones": shapes.rounded(zones) if zones else None,
        "applied": job.applied_at is not None,
    }


def _job(request: Request, pk: Any) -> PartitionJob:
    job = PartitionJob.objects.visible_to(request.user).filter(pk=pk).first()
    if job is None:
        raise NotFoundError(_("No partition %(value)s in your territory."), value=str(pk))
    return job


class PartitionListView(APIView):
    """Submit an automatic partition of a community (``grid.jobs.submit_partition``): 202 with
    the job's URL to poll."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        body = _body(request)
        job = jobs.submit_partition(
            actor=request.user,
            community=body.get("community", ""),
            zones=body.get("zones"),
            target_workload=body.get("target_workload"),
            workload=body.get("workload", WorkloadMeasure.ROOMS),
            compound=body.get("compound"),
        )
        url = reverse("partition-detail", kwargs={"pk": job.pk})
        return Response({"id": str(job.pk), "status": job.status, "url": url}, status=202)


class PartitionDetailView(APIView):
    """A partition job: status, progress, report and proposed zones (GeoJSON, 7 decimals)."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: Any) -> Response:
        return Response(_partition_body(_job(request, pk)))


class PartitionApplyView(APIView):
    """Replace the current zones by the job's proposal (``grid.jobs.apply_partition``)."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: Any) -> Response:
        zones = jobs.apply_partition(actor=request.user, job=_job(request, pk))
        saved = Zone.objects.filter(pk__in=[zone.pk for zone in zones])
        return Response({"zones": services.zone_collection(saved)})
