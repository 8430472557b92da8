"""Load months of visits into the demo city once: ``manage.py demo_history [--days N]``.

``make run`` calls it so the coverage maps have history to show (``data/city/visit_history.py``);
it does nothing when visits outside a sweep exist already."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from data.city import visit_history


class Command(BaseCommand):
    help = "Load a history of visits (months of field work) into the demo city, once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=visit_history.DAYS)
        parser.add_argument("--seed", type=int, default=20091)

    def handle(self, *args: Any, **options: Any) -> None:
        if visit_history.has_history():
            self.stdout.write("visit history: already loaded")
            return
        done = visit_history.load_history(days=options["days"], seed=options["seed"])
        self.stdout.write(
            f"visit history: {done['visits']} visits of {done['rooms_visited']} rooms by "
            f"{done['staff']} staff, {done['snapshot_days']} snapshots, {done['seconds']} s"
        )
