"""API of the field packs (map sheets): submit a pack, poll its job, download its PDF and its
GeoPackage (docs/sheets.md). A pack is its submitter's alone."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis.api.renderers import FastJSONRenderer
from gis.exceptions import InvalidInputError, NotFoundError
from gis.progress import JobStatus

from .models import SheetJob
from .sheets import jobs

#: How many of the user's packs the list shows, newest first.
LIST_SIZE = 50
FORMATS = {"pdf": "application/pdf", "gpkg": "application/geopackage+sqlite3"}


def job_body(job: SheetJob) -> dict[str, Any]:
    english = (translation.get_language() or "").startswith("en")
    error = job.error_en if english else job.error_zh
    done = job.status == JobStatus.SUCCEEDED
    return {
        "id": str(job.pk),
        "url": reverse("sheet-detail", kwargs={"pk": job.pk}),
        "kind": job.kind,
        "kind_label": str(job.get_kind_display()),
        "sweep": job.sweep_id,
        "team": job.team_id,
        "day": job.day,
        "zone": job.zone_code or None,
        "building": job.building_id,
        "paper": job.paper,
        "title": job.title,
        "created_at": job.created_at,
        **job.status_body(),
        "error": error or None,
        "pages": job.pages if done else None,
        "sheets": job.sheets if done else None,
        "seconds": job.seconds if done else None,
        "pdf": reverse("sheet-file", kwargs={"pk": job.pk, "fmt": "pdf"}) if done else None,
        "gpkg": reverse("sheet-file", kwargs={"pk": job.pk, "fmt": "gpkg"}) if done else None,
    }


def own_packs(user: Any) -> Any:
    """The user's packs the list shows, newest first (the page's first paint reads the same)."""
    return SheetJob.objects.visible_to(user).order_by("-created_at")[:LIST_SIZE]


def _job(request: Request, pk: Any) -> SheetJob:
    job = SheetJob.objects.visible_to(request.user).filter(pk=pk).first()
    if job is None:
        raise NotFoundError(_("No field pack %(value)s of yours."), value=str(pk)[:40])
    return job


class SheetListView(APIView):
    """``GET``: the user's packs, newest first. ``POST {"kind": "team_day" | "sweep" | "zone" |
    "building", "sweep", "team", "day", "zone", "building", "paper": "auto" | "a4" | "a3"}``:
    202 with the job to poll; 200 with the same job when an identical one is still pending.
    Submitting is a write like a planning job: read-only accounts get 403."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(operation_id="sheets_list", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response([job_body(job) for job in own_packs(request.user)])

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise InvalidInputError(
                _("Send the pack as a JSON object."), code="bad_body", value=type(body).__name__
            )
        job, created = jobs.submit_pack(request.user, body)
        return Response(job_body(job), status=202 if created else 200)


class SheetDetailView(APIView):
    """A pack's job: status, progress, error; pages and the download links once made."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: Any) -> Response:
        return Response(job_body(_job(request, pk)))


class SheetFileView(APIView):
    """A made pack's PDF (``pdf``) or GeoPackage (``gpkg``), as a download."""

    @extend_schema(
        operation_id="sheets_file_retrieve",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, pk: Any, fmt: str) -> FileResponse:
        job = _job(request, pk)
        field = {"pdf": job.pdf, "gpkg": job.gpkg}.get(fmt)
        if field is None or job.status != JobStatus.SUCCEEDED or not field:
            raise NotFoundError(
                _("Pack %(value)s has no %(fmt)s file (yet)."), value=str(pk)[:40], fmt=fmt[:10]
            )
        name = f"{job.title or 'plategrid'}.{fmt}"
        return FileResponse(
            field.open("rb"), as_attachment=True, filename=name, content_type=FORMATS[fmt]
        )
