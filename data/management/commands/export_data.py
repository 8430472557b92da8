"""Export a layer: ``manage.py export_data buildings --format gpkg --output FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from data.exports.vector import FORMATS, LAYERS, export_layer


class Command(BaseCommand):
    help = "Export buildings, streets or boundaries as GeoPackage, GeoJSON or XLSX (re-importable)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("layer", choices=LAYERS)
        parser.add_argument("--format", choices=list(FORMATS), default="gpkg")
        parser.add_argument(
            "--output", type=Path, help="file to write (default: ./plategrid-LAYER.FORMAT)"
        )
        parser.add_argument("--user", help="only this user's territory (default: everything)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"Unknown user {options['user']} / 无此用户")
        data, name = export_layer(options["layer"], options["format"], user)
        output: Path = options["output"] or Path(name)
        output.write_bytes(data)
        self.stdout.write(f"{output}: {len(data)} bytes")
