"""Background tasks of the map products (django-tasks; the worker is ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task

from .sheets import jobs


@task()
def run_sheet_task(job_id: str) -> str:
    return jobs.run_pack(job_id).status
