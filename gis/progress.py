"""Background jobs shared by the apps (imports, partitions): their status and their progress.

A job runs in the worker (django-tasks, ``manage.py db_worker``) often inside one long
transaction, which the page polling the job cannot see until it ends; :class:`ProgressWriter`
therefore writes the progress through a second, autocommit connection.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import DatabaseError, connections, models
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("plategrid.jobs")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("finished")
    FAILED = "failed", _("failed")


class ProgressWriter:
    """Writes ``progress_done`` and ``progress_total`` of the row ``pk`` of ``model_class``
    through its own autocommit connection, at most every ``interval`` seconds (and always the
    last step). Call it as ``writer(done, total)``; ``close()`` when the job ends."""

    def __init__(self, model_class: type[models.Model], pk: Any, interval: float = 0.5) -> None:
        meta = model_class._meta
        self.table = meta.db_table
        self.pk_column = (meta.pk.column if meta.pk else None) or "id"
        self.pk = pk
        self.interval = interval
        self.last = 0.0
        self.connection = connections.create_connection("default")

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < self.interval and done < total:
            return
        self.last = now
        quote = self.connection.ops.quote_name
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '200ms'")
                cursor.execute(
                    f"UPDATE {quote(self.table)} SET progress_done = %s, progress_total = %s "  # noqa: S608 - names from the model's meta
                    f"WHERE {quote(self.pk_column)} = %s",
                    [done, total, self.pk],
                )
        except DatabaseError:  # progress is a courtesy: never fail a job over it
            logger.warning("%s %s: progress not written", self.table, self.pk, exc_info=True)

    def close(self) -> None:
        self.connection.close()
