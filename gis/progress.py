"""Background jobs shared by the apps (imports, partitions): their status and their progress.

A job runs in the worker (django-tasks, ``manage.py db_worker``) often inside one long
transaction, which the page polling the job cannot see until it ends; :class:`ProgressWriter`
therefore writes the progress through a second, autocommit connection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connections, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .exceptions import PlategridError
from .sql import write_progress

logger = logging.getLogger("plategrid.jobs")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("finished")
    FAILED = "failed", _("failed")


class JobProgress(models.Model):
    """The state every background job keeps (import and partition jobs): its status, its
    progress in steps, why it failed (in both languages) and when it was submitted, started and
    finished; ``percent``, ``finished`` and ``status_body()`` read it. The submitter
    (``created_by``) stays with each job, under its own related name."""

    status = models.CharField(
        _("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    # Steps done of steps to do; written by the worker while it runs (ProgressWriter).
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # Why the job failed, in both languages.
    error_zh = models.TextField(blank=True)
    error_en = models.TextField(blank=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    def status_body(self) -> dict[str, Any]:
        """What a page polling the job reads: status (and its label), percent, steps, finished."""
        return {
            "status": self.status,
            "status_label": str(self.get_status_display()),
            "percent": self.percent,
            "done": self.progress_done,
            "total": self.progress_total,
            "finished": self.finished,
        }


class ProgressWriter:
    """Writes ``progress_done`` and ``progress_total`` of the row ``pk`` of ``model_class``
    through its own autocommit connection, at most every ``interval`` seconds (and always the
    last step), and passes every step on to ``also`` (a command's progress bar). Call it as
    ``writer(done, total)``; ``close()`` when the job ends."""

    def __init__(
        self,
        model_class: type[JobProgress],
        pk: Any,
        *,
        also: Callable[[int, int], None] | None = None,
        interval: float = 0.5,
    ) -> None:
        meta = model_class._meta
        self.table = meta.db_table
        self.pk_column = (meta.pk.column if meta.pk else None) or "id"
        self.pk = pk
        self.also = also
        self.interval = interval
        self.last = 0.0
        self.connection = connections.create_connection("default")

    def __call__(self, done: int, total: int) -> None:
        if self.also is not None:
            self.also(done, total)
        now = time.monotonic()
        if now - self.last < self.interval and done < total:
            return
        self.last = now
        try:
            write_progress(self.connection, self.table, self.pk_column, self.pk, done, total)
        except DatabaseError:  # progress is a courtesy: never fail a job over it
            logger.warning("%s %s: progress not written", self.table, self.pk, exc_info=True)

    def close(self) -> None:
        self.connection.close()


def claim_job(model_class: type[JobProgress], pk: Any) -> bool:
    """Mark the queued job ``pk`` running; False when it is not queued (a task delivered twice
    runs once)."""
    claimed = model_class._default_manager.filter(pk=pk, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    return bool(claimed)


def succeed_job(
    job: JobProgress, *, steps: int | None = None, also: Callable[[int, int], None] | None = None
) -> None:
    """Mark ``job`` succeeded and save it (with whatever else the caller set on it). ``steps``:
    its progress is full (``steps`` of ``steps``), also told to ``also`` (a command's bar)."""
    job.status = JobStatus.SUCCEEDED
    job.finished_at = timezone.now()
    if steps is not None:
        job.progress_done = job.progress_total = steps
    job.save()
    if steps is not None and also is not None:
        also(steps, steps)


def fail_job(job: JobProgress, zh: str, en: str) -> None:
    """Mark ``job`` failed with its error in both languages, and reload it."""
    type(job)._default_manager.filter(pk=job.pk).update(
        status=JobStatus.FAILED, error_zh=zh, error_en=en, finished_at=timezone.now()
    )
    job.refresh_from_db()


def fail_job_for(job: JobProgress, error: Exception, *, zh: str, en: str) -> None:
    """Mark ``job`` failed because of ``error``: a :class:`PlategridError` with its own message;
    anything else is a bug, logged with its traceback and shown after ``zh`` / ``en`` (what the
    job is and what it left changed), with the exception's type and text. Call it from the
    ``except`` block."""
    if isinstance(error, PlategridError):
        fail_job(job, error.render("zh-hans"), error.render("en"))
        return
    logger.exception("%s %s failed", job._meta.label, job.pk)
    reason = f"{type(error).__name__}: {error}"
    fail_job(job, f"{zh}{reason}"[:2000], f"{en}{reason}"[:2000])
