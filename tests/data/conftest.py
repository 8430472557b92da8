"""Fixtures for imports: uploads kept in a fresh folder per test, and a way to run a job."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File

from data.jobs import submit_import
from data.models import ImportJob

RunImport = Callable[..., ImportJob]


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def run_import(db: None, django_capture_on_commit_callbacks: Any) -> RunImport:
    """Submit ``path`` as an import of ``kind`` and run it (the test settings' task backend runs
    jobs where they are queued); returns the finished job."""

    def run(
        kind: str, path: Path, *, actor: Any = None, name: str | None = None, **options: Any
    ) -> ImportJob:
        with path.open("rb") as handle, django_capture_on_commit_callbacks(execute=True):
            job = submit_import(
                actor=actor, file=File(handle), name=name or path.name, kind=kind, options=options
            )
        job.refresh_from_db()
        return job

    return run


def issues(job: ImportJob) -> dict[int, str]:
    """Rejected rows of a job: row number → reason code."""
    return dict(job.issues.filter(severity="rejected").values_list("row", "code"))
