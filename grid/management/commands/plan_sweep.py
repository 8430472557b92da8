"""Plan a sweep here and now, with a progress bar:
``manage.py plan_sweep SWEEP_ID [--kind plan|rebalance|replan] [--user NAME]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gis.commands import acting_user, domain_errors, run_with_bar
from grid.models import PlanKind
from grid.sweep_jobs import run_plan, submit_plan
from grid.sweeps import sweep_for


class Command(BaseCommand):
    help = "Plan a sweep: split its buildings among its teams, order their walks, cut days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sweep", help="the sweep's id")
        parser.add_argument("--kind", choices=PlanKind.values, default=PlanKind.PLAN)
        parser.add_argument(
            "--user",
            help="act as this user, within their territory (default: no territory limit)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = acting_user(options["user"])
        with domain_errors():
            sweep = sweep_for(actor, options["sweep"])
            job = submit_plan(actor, sweep, options["kind"], queue=False)
        job = run_with_bar(run_plan, job, unit="%", total=100, verbosity=options["verbosity"])
        plan = job.plan
        if plan is None:  # a job that succeeded has written its version
            raise CommandError(f"planning job {job.pk} wrote no plan")
        summary = plan.summary
        self.stdout.write(
            f"sweep {sweep.pk}: version {plan.version} ({plan.reason}), "
            f"{summary['buildings']} buildings, {summary['rooms']} rooms, "
            f"{summary['hours']:.1f} h, {summary['walk_km']:.2f} km walked, "
            f"max/mean {summary['max_mean']:.3f}, straight legs {summary['fallback_share']:.1%}, "
            f"{summary.get('seconds', 0):.1f} s"
        )
        for team in summary["teams"]:
            self.stdout.write(
                f"  {team['name']}: {team['buildings']} buildings, {team['rooms']} rooms, "
                f"{team['days']} days, {team['hours']:.1f} h, {team['walk_km']:.2f} km"
            )
