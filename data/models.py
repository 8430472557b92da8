"""Import jobs and their reports.

Every import is a job: the uploaded file is kept with it (nothing a user submitted is lost), a
background worker runs it in one transaction, and the report keeps the counts and one line per
rejected or repaired row, so that nothing is dropped or changed without a trace.
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gis.progress import JobProgress, JobStatus

__all__ = ["ImportIssue", "ImportJob", "ImportKind", "IssueSeverity", "JobStatus"]


class ImportKind(models.TextChoices):
    BUILDINGS = "buildings", _("buildings")
    STREETS = "streets", _("streets")
    BOUNDARIES = "boundaries", _("boundaries (districts, street offices, communities)")
    ROOMS = "rooms", _("rooms and door plates (register table)")


def _upload_to(job: ImportJob, filename: str) -> str:
    # One folder per job keeps the user's own file name and never overwrites another upload.
    return f"imports/{job.pk}/{PurePath(filename).name}"


class ImportJob(JobProgress):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    file = models.FileField(_("file"), upload_to=_upload_to, max_length=300)
    file_name = models.CharField(_("file name"), max_length=255)
    file_size = models.BigIntegerField(_("size (bytes)"))
    file_sha256 = models.CharField(max_length=64, db_index=True)
    # Reading options: source_crs (EPSG code), convention (wgs84 / gcj02 / bd09), layer, source.
    options = models.JSONField(_("options"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_jobs",
        verbose_name=_("submitted by"),
    )
    rows_read = models.PositiveIntegerField(_("read"), default=0)
    rows_created = models.PositiveIntegerField(_("created"), default=0)
    rows_updated = models.PositiveIntegerField(_("updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rejected"), default=0)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rows_read__gte=models.F("rows_created") + models.F("rows_updated")),
                name="import_job_counts_within_read",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.file_name}"


class IssueSeverity(models.TextChoices):
    REJECTED = "rejected", _("rejected")
    REPAIRED = "repaired", _("repaired")


class ImportIssue(models.Model):
    """One row of a report: a rejected row (not imported) or a row changed to be importable."""

    job = models.ForeignKey(ImportJob, models.CASCADE, related_name="issues")
    row = models.PositiveIntegerField(_("row"))
    source_id = models.CharField(_("source id"), max_length=100, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=IssueSeverity.choices)
    code = models.CharField(_("reason code"), max_length=50)
    field = models.CharField(_("field"), max_length=50, blank=True)
    message_zh = models.TextField()
    message_en = models.TextField()
    # The row as read from the file (attributes, geometry as WKT), to fix and submit again.
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("import issue")
        verbose_name_plural = _("import issues")
        ordering = ["job", "row", "id"]
        indexes = [models.Index(fields=["job", "severity", "row"], name="import_issue_job_row")]

    def __str__(self) -> str:
        return f"{self.row}: {self.code}"
