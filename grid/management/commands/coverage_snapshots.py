"""Take the coverage snapshots of the days that ended: ``manage.py coverage_snapshots [--day D…]``.

Run it daily (cron, after midnight): it takes every Sunday and month's end of the last year not
taken yet (a first run over a history of visits takes them all). The coverage pages also queue it
when they find a day missing. ``--day`` takes given days (a snapshot day or not)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from grid import snapshots


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--day takes a date as YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = "Take the missing coverage snapshots (every Sunday and month end of the last year)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", action="append", type=_day, default=[], help="YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(done: int, total: int) -> None:
            if options["verbosity"] > 1:
                self.stdout.write(f"  {done}/{total}")

        if options["day"] and max(options["day"]) >= timezone.localdate():
            raise CommandError("--day takes days that have ended (before today)")
        if options["day"]:
            taken = snapshots.take_snapshots(options["day"], progress=progress)
        else:
            taken = snapshots.take_missing(progress=progress)
        days = ", ".join(day.isoformat() for day in taken) or "none"
        self.stdout.write(f"coverage snapshots taken: {len(taken)} ({days})")
