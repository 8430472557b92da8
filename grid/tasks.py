"""Background tasks of the grids (django-tasks; the worker is ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task

from . import jobs, snapshots, sweep_jobs


@task()
def run_partition_task(job_id: str) -> str:
    return jobs.run_partition(job_id).status


@task()
def run_sweep_plan_task(job_id: str) -> str:
    return sweep_jobs.run_plan(job_id).status


@task()
def take_coverage_snapshots_task() -> int:
    """Take the missing coverage snapshots (queued by the coverage reads)."""
    return len(snapshots.take_missing())
