"""Import jobs: submit a file, run it in the background in one transaction, keep its report.

``submit_import`` stores the file with a new job and queues it (django-tasks, database backend:
the worker is ``manage.py db_worker``). ``run_import`` is what the worker runs: the whole import
is one transaction, so a crash or an unreadable file leaves the register as it was; only the
job's status and its error are written then. While the transaction runs, progress is written
through a second connection so that the page polling it sees it.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from gis.exceptions import InvalidInputError
from gis.progress import ProgressWriter, claim_job, fail_job, fail_job_for, succeed_job

from .imports import vector
from .imports.report import Report
from .imports.sources import OsmLayer, ReadOptions, read_features
from .models import ImportIssue, ImportJob, ImportKind

if TYPE_CHECKING:
    from _typeshed import SupportsWrite


# What each kind of import accepts (lower-case file name endings).
ACCEPTED_SUFFIXES = {
    ImportKind.BUILDINGS: (".geojson", ".json", ".gpkg", ".zip", ".shp", ".xlsx", ".pbf"),
    ImportKind.STREETS: (".geojson", ".json", ".gpkg", ".zip", ".shp", ".xlsx", ".pbf"),
    ImportKind.BOUNDARIES: (".geojson", ".json", ".gpkg", ".zip", ".shp", ".xlsx"),
    ImportKind.ROOMS: (".xlsx", ".csv"),
}
CONVENTIONS = ("wgs84", "gcj02", "bd09")


def _check_options(kind: str, name: str, size: int, options: dict[str, Any]) -> dict[str, Any]:
    if kind not in ImportKind.values:
        raise InvalidInputError(
            _("Unknown import kind %(value)s: use one of %(allowed)s."),
            code="unknown_kind",
            field="kind",
            value=kind,
            allowed=", ".join(ImportKind.values),
        )
    suffixes = ACCEPTED_SUFFIXES[ImportKind(kind)]
    if not name.lower().endswith(suffixes):
        raise InvalidInputError(
            _("%(file)s is not a file this import reads: use %(allowed)s."),
            code="unsupported_format",
            field="file",
            file=name,
            allowed=", ".join(suffixes),
        )
    if size == 0:
        raise InvalidInputError(_("%(file)s is empty."), code="empty_file", field="file", file=name)
    limit = settings.PLATEGRID_IMPORT_MAX_BYTES
    if size > limit:
        raise InvalidInputError(
            _("%(file)s is %(size)s MB, more than the %(limit)s MB an import may be: split it."),
            code="file_too_large",
            field="file",
            file=name,
            size=f"{size / 2**20:.0f}",
            limit=f"{limit / 2**20:.0f}",
        )
    clean: dict[str, Any] = {}
    crs = options.get("source_crs")
    if crs not in (None, ""):
        text = str(crs).upper().removeprefix("EPSG:")
        if not text.isdigit():
            raise InvalidInputError(
                _("%(value)s is not an EPSG code: write a number such as 4326 or 4546."),
                code="unknown_crs",
                field="source_crs",
                value=repr(crs),
            )
        clean["source_crs"] = int(text)
    convention = options.get("convention") or "wgs84"
    if convention not in CONVENTIONS:
        raise InvalidInputError(
            _("Unknown coordinate offset %(value)s: use one of %(allowed)s."),
            code="unknown_convention",
            field="convention",
            value=convention,
            allowed=", ".join(CONVENTIONS),
        )
    clean["convention"] = convention
    for key in ("layer", "source"):
        if options.get(key):
            clean[key] = str(options[key]).strip()[:100]
    clean.setdefault("source", Path(name).name.split(".")[0] or "file")
    return clean


def submit_import(
    *,
    actor: Any,
    file: File,
    name: str,
    kind: str,
    options: dict[str, Any] | None = None,
    queue: bool = True,
) -> ImportJob:
    """Keep ``file`` with a new queued job and hand it to the worker once the transaction
    commits (``queue=False``: the caller runs it, as the CLI does)."""
    clean = _check_options(kind, name, file.size or 0, options or {})
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    if actor is None:
        clean["system"] = True  # the CLI without --user: no territory limit
    job = ImportJob(
        kind=kind,
        file_name=Path(name).name[:255],
        file_size=file.size or 0,
        file_sha256=digest.hexdigest(),
        options=clean,
        created_by=actor,
    )
    job.file.save(job.file_name, file, save=False)
    job.save()
    if queue:
        from .tasks import run_import_task

        transaction.on_commit(lambda: run_import_task.enqueue(str(job.pk)))
    return job


Runner = Callable[[Path, ImportJob, Report, vector.Options, Callable[[int, int], None]], None]


def _vector_runner(kind: str) -> Runner:
    importer = {
        ImportKind.BUILDINGS: vector.import_buildings,
        ImportKind.STREETS: vector.import_streets,
        ImportKind.BOUNDARIES: vector.import_boundaries,
    }[ImportKind(kind)]

    def run(
        path: Path, job: ImportJob, report: Report, options: vector.Options, progress: Any
    ) -> None:
        read = ReadOptions(
            source_crs=job.options.get("source_crs"),
            convention=job.options.get("convention", "wgs84"),
            layer=job.options.get("layer"),
        )
        osm_layer: OsmLayer = "streets" if kind == ImportKind.STREETS else "buildings"
        features = read_features(path, read, name=job.file_name, osm_layer=osm_layer)
        progress(0, len(features))
        importer(features, report, options, progress)

    return run


def _rooms_runner(path: Path, job: ImportJob, report: Report, options: Any, progress: Any) -> None:
    from .imports.registers import import_register

    import_register(path, job.file_name, report, options, progress, sheet=job.options.get("layer"))


def _runner(kind: str) -> Runner:
    return _rooms_runner if kind == ImportKind.ROOMS else _vector_runner(kind)


def _store(job: ImportJob, report: Report) -> None:
    job.rows_read = report.read
    job.rows_created = report.created
    job.rows_updated = report.updated
    job.rows_unchanged = report.unchanged
    job.rows_rejected = report.rejected
    job.progress_done = job.progress_total = report.read
    ImportIssue.objects.bulk_create(
        [
            ImportIssue(
                job=job,
                row=issue.row,
                source_id=issue.source_id[:100],
                severity=issue.severity,
                code=issue.code[:50],
                field=issue.field[:50],
                message_zh=issue.message_zh,
                message_en=issue.message_en,
                data=issue.data,
            )
            for issue in report.issues
        ],
        batch_size=1000,
    )


def run_import(job_id: str, *, progress: Callable[[int, int], None] | None = None) -> ImportJob:
    """Run a queued job (the worker calls this); returns it finished. Running a job that is not
    queued does nothing: a task delivered twice does not import twice."""
    claimed = claim_job(ImportJob, job_id)
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job
    writer = ProgressWriter(ImportJob, job.pk, also=progress)
    if job.created_by is None and not job.options.get("system"):
        # The submitter was deleted while the job waited: never run it without a territory.
        fail_job(
            job,
            "提交此导入的用户已被删除，导入未运行，数据未作任何更改。",
            "The user who submitted this import was deleted: it did not run and changed nothing.",
        )
        writer.close()
        return job
    options = vector.Options(actor=job.created_by, source=job.options.get("source", "file"))
    try:
        with transaction.atomic():
            report = Report()
            _runner(job.kind)(Path(job.file.path), job, report, options, writer)
            if not report.accounted():  # a bug, not a user error: keep nothing
                raise RuntimeError(f"import {job.pk}: rows read and outcomes disagree")
            _store(job, report)
            succeed_job(job)
    except Exception as error:
        fail_job_for(
            job,
            error,
            zh="导入出错，数据库未作任何更改：",
            en="The import failed and changed nothing: ",
        )
    finally:
        writer.close()
    return job


ISSUE_COLUMNS = (
    "行 row",
    "来源编号 source_id",
    "处理 severity",
    "代码 code",
    "字段 field",
    "原因",
    "reason",
    "原始数据 data",
)


def write_issues_csv(job: ImportJob, out: SupportsWrite[str]) -> None:
    """Write every rejected or repaired row of ``job`` to ``out`` as CSV, with the row as read
    (the report page's download and ``import_data --report``), the row as JSON. Starts with a byte order mark:
    Excel on Chinese Windows reads UTF-8 only with one."""
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(ISSUE_COLUMNS)
    for issue in job.issues.all():
        writer.writerow(
            [
                issue.row,
                issue.source_id,
                issue.severity,
                issue.code,
                issue.field,
                issue.message_zh,
                issue.message_en,
                json.dumps(issue.data, ensure_ascii=False, default=str),
            ]
        )
