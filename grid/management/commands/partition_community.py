"""Partition a community into zones here and now, with a progress bar:
``manage.py partition_community CODE (--zones N | --target W) [--workload rooms] [--apply]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gis.commands import acting_user, domain_errors, run_with_bar
from grid.jobs import apply_partition, run_partition, submit_partition
from grid.models import WorkloadMeasure


class Command(BaseCommand):
    help = "Partition a community (or a compound of it) into responsibility zones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="the community's 12-digit code")
        count = parser.add_mutually_exclusive_group(required=True)
        count.add_argument("--zones", type=int, help="number of zones")
        count.add_argument("--target", type=float, help="workload per zone")
        parser.add_argument(
            "--workload", choices=WorkloadMeasure.values, default=WorkloadMeasure.ROOMS
        )
        parser.add_argument("--compound", type=int, help="partition only this compound (id)")
        parser.add_argument(
            "--apply", action="store_true", help="replace the current zones by the proposal"
        )
        parser.add_argument(
            "--user",
            help="act as this user, within their territory (default: no territory limit)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = acting_user(options["user"])
        with domain_errors():
            job = submit_partition(
                actor=actor,
                community=options["code"],
                zones=options["zones"],
                target_workload=options["target"],
                workload=options["workload"],
                compound=options["compound"],
                queue=False,
            )
        job = run_with_bar(run_partition, job, unit="%", total=100, verbosity=options["verbosity"])
        report = (job.result or {})["report"]
        workloads = ", ".join(f"{w:g}" for w in report["workloads"])
        self.stdout.write(
            f"partition {job.pk}: {report['zones']} zones, max/mean {report['max_mean']:.3f}, "
            f"median Polsby-Popper {report['pp_median']:.3f}, buildings cut "
            f"{report['buildings_cut']}, area error {report['area_error_m2']:.3f} m², "
            f"buildings {report['buildings']} (outside the area: {report['buildings_outside']})"
        )
        self.stdout.write(f"  workloads ({job.workload}): {workloads}")
        if options["apply"]:
            with domain_errors():
                zones = apply_partition(actor=actor, job=job)
            self.stdout.write(f"applied: {len(zones)} zones, {zones[0].code}–{zones[-1].code}")
