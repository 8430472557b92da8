"""What the management commands share: the acting user named by ``--user``, a domain error as a
``CommandError`` in both languages, and a job run here and now with a progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from tqdm import tqdm

from .exceptions import PlategridError
from .progress import JobProgress, JobStatus

J = TypeVar("J", bound=JobProgress)


def acting_user(username: str | None) -> Any:
    """The user ``--user`` names (``None`` without it: the system, no territory limit)."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"Unknown user {username} / 无此用户")
    return user


@contextmanager
def domain_errors() -> Iterator[None]:
    """A :class:`PlategridError` raised inside becomes a ``CommandError`` in English and Chinese."""
    try:
        yield
    except PlategridError as error:
        raise CommandError(f"{error.render('en')}\n{error.render('zh-hans')}") from error


def run_with_bar(
    run: Callable[..., J], job: JobProgress, *, unit: str, verbosity: int, total: int | None = None
) -> J:
    """Run ``job`` with ``run(job_id, progress=…)`` and a tqdm bar that follows its progress; a
    failed job is a ``CommandError`` with its message in both languages."""
    with tqdm(unit=unit, total=total, disable=verbosity < 1) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        finished = run(str(job.pk), progress=progress)
    if finished.status == JobStatus.FAILED:
        raise CommandError(f"{finished.error_en}\n{finished.error_zh}")
    return finished
