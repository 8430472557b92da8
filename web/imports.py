"""Pages for imports and exports: upload → job with a progress bar → report; layer downloads.

A user sees the jobs they submitted (a superuser sees all); the rows an import may touch are
limited by the services to the submitter's territory, and exports hold only what they may read.
"""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from data.exports.registers import export_register
from data.exports.vector import FORMATS, LAYERS, export_layer
from data.jobs import ACCEPTED_SUFFIXES, CONVENTIONS, submit_import, write_issues_csv
from data.models import ImportJob, ImportKind, IssueSeverity, JobStatus
from gis.exceptions import PlategridError
from gis.models import Room
from gis.querysets import writes_somewhere

CONVENTION_LABELS = {
    "wgs84": _("WGS84 / CGCS2000 (GPS, Tianditu, OpenStreetMap)"),
    "gcj02": _("GCJ-02 (AMap, Tencent maps)"),
    "bd09": _("BD-09 (Baidu maps)"),
}


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(label=_("File"))
    source_crs = forms.CharField(
        label=_("Coordinate system (EPSG code)"),
        required=False,
        help_text=_("Only for files that do not name their own, e.g. 4546 or 4326."),
    )
    convention = forms.ChoiceField(
        label=_("Longitude/latitude offset"),
        choices=[(c, CONVENTION_LABELS[c]) for c in CONVENTIONS],
        initial="wgs84",
    )
    layer = forms.CharField(
        label=_("Layer or sheet"),
        required=False,
        help_text=_("A GeoPackage with several layers, or the sheet of a register workbook."),
    )
    source = forms.CharField(
        label=_("Source name"),
        required=False,
        help_text=_(
            "Names the ids of the file's rows; give the same name each time you import a new "
            "version of the same data (default: the file name)."
        ),
    )


def _jobs(user: Any) -> Any:
    jobs = ImportJob.objects.select_related("created_by")
    return jobs if user.is_superuser else jobs.filter(created_by=user)


def _job(request: HttpRequest, pk: Any) -> ImportJob:
    job = _jobs(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


def _both(error: PlategridError) -> str:
    """The message in the page's language, then in the other one."""
    first, second = (
        ("zh-hans", "en") if (get_language() or "").startswith("zh") else ("en", "zh-hans")
    )
    return f"{error.render(first)} / {error.render(second)}"


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    allowed = writes_somewhere(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not allowed:
            raise Http404
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = submit_import(
                    actor=request.user,
                    file=upload,
                    name=upload.name,
                    kind=form.cleaned_data["kind"],
                    options={
                        k: form.cleaned_data[k]
                        for k in ("source_crs", "convention", "layer", "source")
                    },
                )
            except PlategridError as error:
                form.add_error(error.field if error.field in form.fields else None, _both(error))
            else:
                return redirect("import-detail", pk=job.pk)
    jobs = Paginator(_jobs(request.user), 20).get_page(request.GET.get("page"))
    accepted = {ImportKind(k).label: ", ".join(v) for k, v in ACCEPTED_SUFFIXES.items()}
    return render(
        request,
        "web/imports/list.html",
        {"form": form, "jobs": jobs, "allowed": allowed, "accepted": accepted},
        status=400 if form.errors else 200,
    )


@login_required
def import_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    job = _job(request, pk)
    severity = request.GET.get("severity") or ""
    issues = job.issues.all()
    if severity in IssueSeverity.values:
        issues = issues.filter(severity=severity)
    earlier = (
        _jobs(request.user)
        .filter(
            file_sha256=job.file_sha256,
            kind=job.kind,
            status=JobStatus.SUCCEEDED,
            created_at__lt=job.created_at,
        )
        .first()
    )
    return render(
        request,
        "web/imports/detail.html",
        {
            "job": job,
            "issues": Paginator(issues, 100).get_page(request.GET.get("page")),
            "severity": severity,
            "earlier": earlier,
            "status": job.status_body(),
        },
    )


@login_required
@require_GET
def import_status(request: HttpRequest, pk: Any) -> JsonResponse:
    return JsonResponse(_job(request, pk).status_body())


@login_required
@require_GET
def import_issues_csv(request: HttpRequest, pk: Any) -> HttpResponse:
    job = _job(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
    write_issues_csv(job, response)
    return response


@login_required
@require_GET
def import_file(request: HttpRequest, pk: Any) -> FileResponse:
    """The file exactly as it was submitted."""
    job = _job(request, pk)
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.file_name)


LAYER_LABELS = {
    "buildings": _("buildings"),
    "streets": _("streets"),
    "boundaries": _("boundaries (districts, street offices, communities)"),
}
FORMAT_LABELS = {
    "gpkg": "GeoPackage (QGIS, QField)",
    "geojson": "GeoJSON",
    "xlsx": "Excel (XLSX, WKT)",
}


@login_required
@require_GET
def export_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/imports/exports.html",
        {"layers": [(k, LAYER_LABELS[k]) for k in LAYERS], "formats": FORMAT_LABELS},
    )


@login_required
@require_GET
def export_download(request: HttpRequest, layer: str, fmt: str) -> HttpResponse:
    if layer == "rooms" and fmt == "xlsx":
        return _rooms_register(request)
    if layer not in LAYERS or fmt not in FORMATS:
        raise Http404
    data, name = export_layer(layer, fmt, request.user)
    response = HttpResponse(data, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _rooms_register(request: HttpRequest) -> HttpResponse:
    """The user's rooms as the register table (phones masked), importable again."""
    data = io.BytesIO()
    export_register(Room.objects.visible_to(request.user), data, actor=request.user)
    response = HttpResponse(data.getvalue(), content_type=FORMATS["xlsx"])
    response["Content-Disposition"] = 'attachment; filename="plategrid-rooms.xlsx"'
    return response
