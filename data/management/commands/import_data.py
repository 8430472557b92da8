"""Import a file as a job, here and now, with a progress bar: ``manage.py import_data KIND FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from data.jobs import CONVENTIONS, run_import, submit_import, write_issues_csv
from data.models import ImportKind
from gis.commands import acting_user, domain_errors, run_with_bar


class Command(BaseCommand):
    help = (
        "Import buildings, streets, boundaries (GeoJSON, GeoPackage, Shapefile .zip, XLSX with "
        "WKT, OpenStreetMap .pbf) or rooms (XLSX/CSV register) in one transaction, with a report."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", type=Path)
        parser.add_argument("--crs", help="EPSG code of a file that does not name its own")
        parser.add_argument(
            "--convention",
            choices=CONVENTIONS,
            default="wgs84",
            help="the file's longitude/latitude are GCJ-02 or BD-09 offsets",
        )
        parser.add_argument("--layer", help="layer of a GeoPackage with several")
        parser.add_argument(
            "--source",
            help="name of the source, for the ids of its rows "
            "(default: the file name); use the same name for every re-import",
        )
        parser.add_argument(
            "--user",
            help="act as this user, within their territory "
            "(default: a system import, no territory limit)",
        )
        parser.add_argument(
            "--report", type=Path, help="write every rejected or repaired row to this CSV file"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path} / 文件不存在：{path}")
        actor = acting_user(options["user"])
        read = {
            "source_crs": options["crs"],
            "convention": options["convention"],
            "layer": options["layer"],
            "source": options["source"],
        }
        with domain_errors(), path.open("rb") as handle:
            job = submit_import(
                actor=actor,
                file=File(handle),
                name=path.name,
                kind=options["kind"],
                options=read,
                queue=False,
            )
        job = run_with_bar(run_import, job, unit="rows", verbosity=options["verbosity"])
        self.stdout.write(
            f"import {job.pk}: read {job.rows_read}, created {job.rows_created}, updated "
            f"{job.rows_updated}, unchanged {job.rows_unchanged}, rejected {job.rows_rejected}"
        )
        issues = job.issues.all()
        if options["report"]:
            with options["report"].open("w", newline="", encoding="utf-8") as out:
                write_issues_csv(job, out)
        for issue in issues[:20]:
            self.stdout.write(
                f"  row {issue.row} {issue.severity} {issue.code}: {issue.message_en}"
            )
        if job.issues.count() > 20:
            self.stdout.write(f"  … {job.issues.count() - 20} more (--report FILE writes them all)")
