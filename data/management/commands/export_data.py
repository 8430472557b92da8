"""Export a layer: ``manage.py export_data buildings --format gpkg --output FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from data.exports.vector import FORMATS, LAYERS, export_layer
from gis.commands import acting_user


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
        user = acting_user(options["user"])
        data, name = export_layer(options["layer"], options["format"], user)
        output: Path = options["output"] or Path(name)
        output.write_bytes(data)
        self.stdout.write(f"{output}: {len(data)} bytes")
