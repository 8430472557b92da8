"""Recount the coverage counts from scratch: ``manage.py rebuild_coverage [CODE...] [--sweeps]``:
the areas' ``CoverageCount`` (grid 0004) and the buildings' ``BuildingCoverage`` (layers 0002).

The triggers of those migrations keep them exact; this is for after a restore or a bulk change
made with the triggers disabled, and it is what the error "coverage count … missing" asks for.
It lives in ``layers``, which reads ``grid`` (``grid`` imports no ``layers``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from gis.models import Building
from grid import coverage
from grid.models import Sweep
from layers.coverage.tiles import recount_buildings


class Command(BaseCommand):
    help = (
        "Recount CoverageCount and BuildingCoverage (all communities, or those given) and, with "
        "--sweeps, the open sweeps' SweepCount."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("codes", nargs="*", help="community codes (default: every community)")
        parser.add_argument(
            "--sweeps", action="store_true", help="also recount the counts of every open sweep"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            if options["codes"]:
                coverage.rebuild_communities(options["codes"])
                done = len(set(options["codes"]))
                in_codes = Building.objects.filter(community__code__in=options["codes"])
                buildings = recount_buildings(in_codes.values_list("pk", flat=True))
            else:
                done = coverage.rebuild_all()
                buildings = recount_buildings()
        self.stdout.write(f"coverage recounted: {done} communities, {buildings} buildings")
        if options["sweeps"]:
            sweeps = Sweep.objects.filter(closed_at__isnull=True).order_by("pk")
            for sweep in sweeps:
                with transaction.atomic():
                    coverage.rebuild_sweep_counts(sweep)
            self.stdout.write(f"sweep counts recounted: {sweeps.count()} sweeps")
