"""Background tasks of the grids (django-tasks; the worker is ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task

from . import jobs


@task()
def run_partition_task(job_id: str) -> str:
    return jobs.run_partition(job_id).status
