"""Load the demo data when the database holds no territory yet (idempotent)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from data.fixture import FixtureSize, load_fixture
from gis.models import District


class Command(BaseCommand):
    help = "Load the fixture district when the database is empty; do nothing otherwise."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--buildings-per-compound", type=int, default=FixtureSize.buildings_per_compound
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if District.objects.exists():
            self.stdout.write("demo data: already loaded")
            return
        started = time.perf_counter()
        counts = load_fixture(
            size=FixtureSize(buildings_per_compound=options["buildings_per_compound"])
        )
        summary = ", ".join(f"{k} {v}" for k, v in counts.items())
        self.stdout.write(f"demo data: loaded in {time.perf_counter() - started:.1f} s: {summary}")
