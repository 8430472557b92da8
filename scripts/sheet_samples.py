#!/usr/bin/env python3
"""Sample pages of the field packs for docs/screenshots/, from the demo database.

Makes two packs of the demo sweep as the worker would (``layers.sheets.jobs``): team 一组's first
day, and the whole sweep's atlas; rasterises their cover, a map sheet, a register page and a
building plan page with pdftoppm into ``docs/screenshots/sheet-*.png``.

    DJANGO_SETTINGS_MODULE=web.settings.demo .venv/bin/python scripts/sheet_samples.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
DPI = "110"
PDFTOPPM = shutil.which("pdftoppm") or "/usr/bin/pdftoppm"  # poppler-utils


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings.demo")
    import django

    django.setup()
    from django.utils import translation

    from grid.models import Sweep
    from layers.sheets import jobs

    translation.activate("zh-hans")
    sweep = Sweep.objects.filter(name__contains="清查").order_by("pk").first()
    if sweep is None:
        raise SystemExit("no demo sweep: run `make run` (or manage.py demo_sweep) first")
    team = sweep.teams.order_by("pk").first()
    packs = {
        "team": {
            "kind": "team_day",
            "sweep": sweep.pk,
            "team": team.pk if team else None,
            "day": 1,
        },
        "atlas": {"kind": "sweep", "sweep": sweep.pk},
    }
    with tempfile.TemporaryDirectory() as scratch:
        for name, options in packs.items():
            job, _created = jobs.submit_pack(None, options, queue=False)
            job = jobs.run_pack(str(job.pk))
            if job.status != "succeeded":
                raise SystemExit(f"{name}: {job.error_en}")
            parts = job.report["parts"]
            first = {"cover": 1}
            page = 1
            for part in ("cover", "maps", "registers", "plans"):
                first[part] = page
                page += parts[part][0]
            wanted = (
                {
                    "cover": 1,
                    "map": first["maps"],
                    "register": first["registers"],
                    "plan": first["plans"],
                }
                if name == "team"
                else {"map": first["maps"]}
            )
            pdf = Path(scratch) / f"{name}.pdf"
            with job.pdf.open("rb") as source:
                pdf.write_bytes(source.read())
            for label, number in wanted.items():
                target = OUT / f"sheet-{name}-{label}"
                subprocess.run(  # noqa: S603 - our own file names, no shell
                    [
                        PDFTOPPM,
                        "-png",
                        "-r",
                        DPI,
                        "-f",
                        str(number),
                        "-l",
                        str(number),
                        "-singlefile",
                        str(pdf),
                        str(target),
                    ],
                    check=True,
                )
                print(f"{target}.png")
            jobs.delete_files(job)
            job.delete()


if __name__ == "__main__":
    main()
