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
from registry.querysets import PersonalQuerySet

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


# ---------------------------------------------------------------------------------------------
# Department exchange (部门数据交换): monthly files of marriages, births and household-
# registration moves from other offices, matched to the register row by row and decided by a
# person (data.exchange). The rows hold personal data: identity numbers are ciphertexts with a
# keyed hash and a masked form, as in registry.Resident, and the table is under the same
# row-level security (migration 0002_exchange).


class ExchangeEvent(models.TextChoices):
    MARRIAGE = "marriage", _("marriage")
    BIRTH = "birth", _("birth")
    MOVE_IN = "move_in", _("household registration moved in")
    MOVE_OUT = "move_out", _("household registration moved out")


class ExchangeOutcome(models.TextChoices):
    MATCHED = "matched", _("matched")
    PROBABLE = "probable", _("probable match")
    UPDATED = "updated", _("updated")
    NEW = "new", _("new")
    CONFLICT = "conflict", _("conflict")
    UNMATCHED = "unmatched", _("unmatched")
    INVALID = "invalid", _("invalid")


class ExchangeDecision(models.TextChoices):
    ACCEPTED = "accepted", _("accepted")
    REGISTERED = "registered", _("registered as new")
    PICKED = "picked", _("candidate picked")
    REJECTED = "rejected", _("rejected")


class ExchangeRowQuerySet(PersonalQuerySet):
    """Rows under row-level security, scoped by ranges of the code like the register's."""


def _exchange_upload_to(instance: ExchangeFile, filename: str) -> str:
    # The stored name says nothing of the content: the file is AES-GCM ciphertext.
    return f"exchange/{instance.pk}.bin"


class ExchangeFile(JobProgress):
    """One uploaded exchange file and the job matching its rows. The file is kept encrypted
    (``registry.crypto.encrypt_bytes``) until the retention job removes it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.FileField(_("file"), upload_to=_exchange_upload_to, max_length=300, blank=True)
    file_name = models.CharField(_("file name"), max_length=255)
    file_size = models.BigIntegerField(_("size (bytes)"))
    # Keyed HMAC of the file's SHA-256: the same file submitted again is refused.
    file_hash = models.CharField(max_length=64, db_index=True)
    # The uploader's territory code: rows with no place of their own get it.
    community_code = models.CharField(_("territory code"), max_length=12, blank=True)
    rows_read = models.PositiveIntegerField(_("read"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="exchange_files",
        verbose_name=_("submitted by"),
    )
    purged_at = models.DateTimeField(_("file removed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("exchange file")
        verbose_name_plural = _("exchange files")
        ordering = ["-created_at"]
        constraints = [
            # The same file is imported once (a failed job's file may be submitted again).
            models.UniqueConstraint(
                fields=["file_hash"],
                condition=~Q(status="failed"),
                name="exchange_file_once",
            )
        ]

    def __str__(self) -> str:
        return self.file_name


class ExchangeRow(models.Model):
    """One row of an exchange file: what it says (identity numbers encrypted), what it matched,
    the change it proposes, and the decision a person took on it (once)."""

    objects = ExchangeRowQuerySet.as_manager()

    file = models.ForeignKey(ExchangeFile, models.CASCADE, related_name="rows")
    row = models.PositiveIntegerField(_("row"))
    community_code = models.CharField(_("community code"), max_length=12, db_index=True)
    event = models.CharField(_("event"), max_length=10, choices=ExchangeEvent.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=ExchangeOutcome.choices)
    reason_code = models.CharField(max_length=50, blank=True)
    reason_zh = models.TextField(blank=True)
    reason_en = models.TextField(blank=True)
    name = models.CharField(_("name"), max_length=50, blank=True)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    id_number = models.TextField(blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_number_masked = models.CharField(_("identity number"), max_length=18, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    event_date = models.DateField(_("event date"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    other_name = models.CharField(_("spouse or parent"), max_length=50, blank=True)
    other_id_number = models.TextField(blank=True, editable=False)
    other_id_number_hash = models.CharField(max_length=64, blank=True, editable=False)
    other_id_number_masked = models.CharField(max_length=18, blank=True)
    resident = models.ForeignKey(
        "registry.Resident", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    room = models.ForeignKey("geo.Room", models.SET_NULL, null=True, blank=True, related_name="+")
    score = models.FloatField(_("score"), null=True, blank=True)
    # [{"id", "name", "id_number_masked", "community_code", "score"}], best first.
    candidates = models.JSONField(default=list, blank=True)
    # {"action": "update" | "move" | "move_out" | "join_household" | "register", ...}
    proposed = models.JSONField(default=dict, blank=True)
    decision = models.CharField(
        _("decision"), max_length=10, choices=ExchangeDecision.choices, blank=True
    )
    decision_note = models.CharField(_("note"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.DO_NOTHING,  # ON DELETE SET NULL in the database (migration 0005), as the register's
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("exchange row")
        verbose_name_plural = _("exchange rows")
        ordering = ["file", "row"]
        constraints = [
            models.UniqueConstraint(fields=["file", "row"], name="exchange_row_once"),
            models.CheckConstraint(
                condition=Q(decision="") | Q(decided_at__isnull=False),
                name="exchange_row_decided_when",
            ),
        ]
        indexes = [models.Index(fields=["file", "outcome"], name="exchange_row_outcome")]

    def __str__(self) -> str:
        return f"{self.file_id} #{self.row} {self.outcome}"
