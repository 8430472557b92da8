"""Make a field pack here and now, with a progress bar:
``manage.py map_sheets --sweep ID [--team ID [--day N]] | --zone CODE | --building ID
[--paper auto|a4|a3] [--user NAME] [--output FILE.pdf]``; the GeoPackage is written beside the
PDF (same name, ``.gpkg``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gis.commands import acting_user, domain_errors, run_with_bar
from layers.models import PackKindChoice, PaperChoice
from layers.sheets.jobs import run_pack, submit_pack


class Command(BaseCommand):
    help = "Make a field pack (map sheets, registers, building plans) as PDF and GeoPackage."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--sweep", help="a sweep's id: its atlas, or one team's pack")
        which.add_argument("--zone", help="a current zone's 15-digit code")
        which.add_argument("--building", help="a building's id")
        parser.add_argument("--team", help="with --sweep: the team's id")
        parser.add_argument("--day", help="with --team: one day of its route")
        parser.add_argument("--paper", choices=PaperChoice.values, default=PaperChoice.AUTO)
        parser.add_argument(
            "--user", help="act as this user, within their territory (default: no limit)"
        )
        parser.add_argument("--output", "-o", help="the PDF's path (default: the job's file)")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = acting_user(options["user"])
        if options["sweep"]:
            kind = PackKindChoice.TEAM_DAY if options["team"] else PackKindChoice.SWEEP
        elif options["zone"]:
            kind = PackKindChoice.ZONE
        else:
            kind = PackKindChoice.BUILDING
        if options["day"] and not options["team"]:
            raise CommandError("--day needs --team / 指定日期时须指定小组")
        with domain_errors():
            job, _created = submit_pack(
                actor,
                {
                    "kind": kind,
                    "sweep": options["sweep"],
                    "team": options["team"],
                    "day": options["day"],
                    "zone": options["zone"],
                    "building": options["building"],
                    "paper": options["paper"],
                },
                queue=False,
            )
        job = run_with_bar(run_pack, job, unit="%", total=100, verbosity=options["verbosity"])
        pdf_path, gpkg_path = Path(job.pdf.path), Path(job.gpkg.path)
        if options["output"]:
            pdf_path = Path(options["output"])
            gpkg_path = pdf_path.with_suffix(".gpkg")
            for field, path in ((job.pdf, pdf_path), (job.gpkg, gpkg_path)):
                with field.open("rb") as source:
                    path.write_bytes(source.read())
        self.stdout.write(
            f"{job.title}: {job.pages} pages, {job.sheets} map sheets, {job.seconds:.1f} s\n"
            f"  {pdf_path}\n  {gpkg_path}"
        )
