"""Delete personal data past its retention period (registry.retention), history and files too."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry.retention import purge


class Command(BaseCommand):
    help = "Delete residents who left long ago, old history of personal records, and old files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", type=date.fromisoformat, default=None)
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args: Any, today: date | None, dry_run: bool, **options: Any) -> None:
        counts = purge(today, dry_run=dry_run)
        for key, value in counts.items():
            self.stdout.write(f"{key}: {value}")
