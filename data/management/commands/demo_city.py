"""Generate and load the demo city (deterministic): ``manage.py demo_city --size demo``."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from data.city.generate import SIZES, generate
from data.city.load import load_city
from gis.models import District


class Command(BaseCommand):
    help = "Generate the demo city on the real outline of 樊城区 and 襄城区 and load it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--size", choices=list(SIZES), default="demo")
        parser.add_argument("--seed", type=int, default=20091)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the database already holds a district (make run)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if District.objects.exists():
            if options["if_empty"]:
                self.stdout.write("demo city: already loaded")
                return
            raise CommandError(
                "The database already holds districts: the demo city loads into an empty "
                "register only. / 数据库中已有区级数据，示范城市只能载入空库。"
            )
        started = time.perf_counter()
        city = generate(options["size"], seed=options["seed"], metric_srid=settings.METRIC_SRID)
        generated = time.perf_counter() - started
        with tqdm(
            total=len(city.buildings), unit="buildings", disable=options["verbosity"] < 1
        ) as bar:
            counts = load_city(city, progress=bar.update)
        summary = ", ".join(f"{k} {v}" for k, v in counts.items())
        self.stdout.write(
            f"demo city ({options['size']}): generated in {generated:.1f} s, loaded in "
            f"{time.perf_counter() - started - generated:.1f} s: {summary}"
        )
