"""Department exchange API (``/api/exchange/``; included by web/api/urls.py).

- ``POST files/`` (``exchange-file-list``): upload a file (multipart ``file``): 202 with the job;
  a bad file or a duplicate is refused (400 / 409, both languages). Writers only.
- ``GET files/``: the files the user may open (their uploads, their territory's, files with a
  row in their territory), newest first.
- ``GET files/{id}/`` (``exchange-file-detail``): the job's progress and the counts by outcome
  of the rows the user sees.
- ``GET files/{id}/rows/?outcome=&undecided=1`` (``exchange-rows``): the rows the user sees,
  paginated; identity numbers masked.
- ``POST rows/{id}/decide/`` (``exchange-decide``): ``{"action": "accept" | "register" |
  "pick" | "reject", "candidate": id, "note": "…"}``; a row decided before answers 409.

Every read runs inside ``registry.privacy.personal(user)`` (row-level security); a file or row
outside the user's territory answers 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis.api.pagination import PagePagination
from gis.exceptions import InvalidInputError, NotFoundError
from gis.querysets import territory_prefixes
from registry.api import NoStore
from registry.privacy import personal

from . import exchange
from .models import ExchangeFile, ExchangeOutcome, ExchangeRow

LIST_LIMIT = 200


def file_body(job: ExchangeFile, user: Any, *, with_counts: bool = True) -> dict[str, Any]:
    """A file as the user may read it (call inside ``personal(user)``). Its figures are those of
    the rows the user sees, unless their scope is everywhere: the file's own totals (rows read,
    steps, size) would tell a community worker how many rows went to other communities — a
    one-row upload of a number registered elsewhere would say so."""
    body: dict[str, Any] = {
        "id": str(job.pk),
        "file_name": job.file_name,
        "file_size": job.file_size,
        "submitted_by": job.created_by.username if job.created_by else None,
        "submitted_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "rows_read": job.rows_read,
        "file_kept": bool(job.file),
        "error_zh": job.error_zh,
        "error_en": job.error_en,
        "url": reverse("exchange-file-detail", kwargs={"pk": job.pk}),
        "rows_url": reverse("exchange-rows", kwargs={"pk": job.pk}),
        **job.status_body(),
    }
    counts = exchange.counts(job, user) if with_counts or job.finished else None
    if territory_prefixes(user) is not None:
        seen = counts["total"] if counts is not None else None
        body["rows_read"] = seen if job.finished else None
        body["done"] = body["total"] = seen if job.finished else None
        if job.created_by_id != getattr(user, "pk", None):
            body["file_size"] = None
    if with_counts and counts is not None:
        body["counts"] = counts
    return body


class PrivateView(NoStore, APIView):
    """Every answer of these routes names people or their houses."""


def _file(request: Request, pk: Any) -> ExchangeFile:
    job = exchange.visible_files(request.user).filter(pk=pk).first()
    if job is None:
        raise NotFoundError(_("No such exchange file in your territory."), code="not_found")
    return job


class FileListView(PrivateView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="exchange_files_list", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        with personal(request.user):
            files = list(exchange.visible_files(request.user)[:LIST_LIMIT])
            body = [file_body(job, request.user) for job in files]
        return Response({"results": body})

    @extend_schema(
        request=inline_serializer("ExchangeUpload", {"file": serializers.FileField()}),
        responses=OpenApiTypes.OBJECT,
    )
    @sensitive_variables("data")
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInputError(
                _("Choose the file to upload."), code="file_missing", field="file"
            )
        exchange.check_file(upload.name or "", upload.size or 0)
        data = upload.read()
        job = exchange.submit_exchange(actor=request.user, data=data, name=upload.name or "")
        with personal(request.user):
            body = file_body(job, request.user, with_counts=False)
        return Response(body, status=202)


class FileDetailView(PrivateView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: Any) -> Response:
        with personal(request.user):
            body = file_body(_file(request, pk), request.user)
        return Response(body)


class RowListView(PrivateView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: Any) -> Response:
        outcome = request.query_params.get("outcome") or ""
        if outcome and outcome not in ExchangeOutcome.values:
            raise InvalidInputError(
                _("Unknown outcome %(value)s: use one of %(allowed)s."),
                code="unknown_outcome",
                field="outcome",
                value=outcome,
                allowed=", ".join(ExchangeOutcome.values),
            )
        with personal(request.user):
            job = _file(request, pk)
            rows = (
                ExchangeRow.objects.visible_to(request.user)
                .filter(file=job)
                .select_related("decided_by")
                .order_by("row")
            )
            if outcome:
                rows = rows.filter(outcome=outcome)
            if request.query_params.get("undecided") in ("1", "true"):
                rows = rows.filter(decision="")
            paginator = PagePagination()
            page = paginator.paginate_queryset(rows, request, view=self) or []
            body = [exchange.row_body(row, request.user) for row in page]
            return paginator.get_paginated_response(body)


class DecideView(PrivateView):
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        request=inline_serializer(
            "ExchangeDecision",
            {
                "action": serializers.ChoiceField(choices=exchange.ACTIONS),
                "candidate": serializers.IntegerField(required=False),
                "note": serializers.CharField(required=False, max_length=200),
            },
        ),
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        row = exchange.decide(
            request.user,
            pk,
            action=str(data.get("action") or ""),
            candidate=data.get("candidate"),
            note=str(data.get("note") or ""),
        )
        with personal(request.user):
            fresh = (
                ExchangeRow.objects.visible_to(request.user)
                .select_related("decided_by")
                .filter(Q(pk=row.pk))
                .first()
            )
            body = exchange.row_body(fresh or row, request.user)
        return Response(body)


urlpatterns: list[URLPattern] = [
    path("files/", FileListView.as_view(), name="exchange-file-list"),
    path("files/<uuid:pk>/", FileDetailView.as_view(), name="exchange-file-detail"),
    path("files/<uuid:pk>/rows/", RowListView.as_view(), name="exchange-rows"),
    path("rows/<int:pk>/decide/", DecideView.as_view(), name="exchange-decide"),
]
