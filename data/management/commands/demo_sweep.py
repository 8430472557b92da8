"""Create the demo sweep (``make run``): ``manage.py demo_sweep``; nothing when a sweep exists."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from data.city.demo_sweep import create_demo_sweep


class Command(BaseCommand):
    help = "Create a planned demo sweep with its first days walked (once; demo data only)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        sweep = create_demo_sweep()
        if sweep is None:
            self.stdout.write(
                "demo sweep: a sweep exists already (or no demo worker): nothing done"
            )
            return
        visited = sum(c.visited for c in sweep.counts.all())
        targets = sum(c.targets for c in sweep.counts.all())
        self.stdout.write(
            f"demo sweep {sweep.pk} «{sweep.name}»: {sweep.teams.count()} teams, "
            f"{visited} of {targets} target rooms visited, in {time.perf_counter() - started:.1f} s"
        )
