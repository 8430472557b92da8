"""Building import from a GeoPackage: rows/s of a first import and of a re-import, against a
batched insert of the same buildings (``services.bulk_add``) measured in the same run.

The territory and the buildings are those of the generated city (``data.city``: the `district`
size, or `demo` with --quick); its first N buildings (10,000; 500 with --quick) are written to a GeoPackage and imported as a job runs
it (``data.jobs.run_import``: one transaction, a savepoint, validation and history per row). The
baseline inserts the same buildings in batches with the same database rules and rolls back.
Runs on its own scratch database (created and migrated here), never the demo database.

Usage: .venv/bin/python benchmarks/import_buildings.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import cast

from _setup import figure, setup_django

SCRATCH_DB = "plategrid_bench_import"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 buildings")
    args = parser.parse_args()
    count, size = (500, "demo") if args.quick else (10_000, "district")
    if "DATABASE_URL" not in os.environ:
        socket = (Path(__file__).resolve().parents[1] / "var" / "pgsocket").read_text().strip()
        os.environ["DATABASE_URL"] = (
            f"postgis://postgres@{socket.replace('/', '%2F')}:55432/{SCRATCH_DB}"
        )
    setup_django()

    import geopandas as gpd
    from django.conf import settings
    from django.contrib.gis.geos import Polygon
    from django.core.files import File
    from django.core.management import call_command
    from django.db import connection, transaction

    from data.city.generate import generate
    from data.city.load import load_territory
    from data.jobs import run_import, submit_import
    from gis import services
    from gis.geometry import from_shapely
    from gis.models import Building, Community, District, StreetOffice

    _create_database(connection.settings_dict)
    call_command("migrate", verbosity=0)
    Building.objects.all().delete()
    city = generate(size, seed=20091, metric_srid=settings.METRIC_SRID)
    if StreetOffice.objects.count() != len(city.offices):
        Community.objects.all().delete()
        StreetOffice.objects.all().delete()
        District.objects.all().delete()
        load_territory(city)
    records = city.buildings[:count]
    figure("communities", Community.objects.count())
    figure("buildings", len(records))
    figure("offices", StreetOffice.objects.count())

    # Baseline: the same buildings in batches through the same database rules, rolled back.
    started = time.perf_counter()
    with transaction.atomic():
        services.bulk_add(
            [
                Building(
                    footprint=cast(Polygon, from_shapely(b.footprint)),
                    name=b.name,
                    floors_above=b.floors_above,
                    use=b.use,
                    source_id=b.source_id,
                )
                for b in records
            ]
        )
        baseline = time.perf_counter() - started
        transaction.set_rollback(True)

    frame = gpd.GeoDataFrame(
        {
            "source_id": [b.source_id for b in records],
            "name": [b.name for b in records],
            "floors_above": [b.floors_above for b in records],
            "use": [b.use for b in records],
        },
        geometry=[b.footprint for b in records],
        crs=4326,
    )
    with tempfile.TemporaryDirectory() as folder:
        settings.MEDIA_ROOT = Path(folder) / "media"
        path = Path(folder) / "buildings.gpkg"
        frame.to_file(path, driver="GPKG", layer="buildings")
        timings = []
        for _attempt in ("first", "again"):
            with path.open("rb") as handle:
                job = submit_import(
                    actor=None, file=File(handle), name=path.name, kind="buildings", queue=False
                )
            started = time.perf_counter()
            job = run_import(str(job.pk))
            timings.append(time.perf_counter() - started)
            assert job.status == "succeeded", job.error_en
            assert job.rows_rejected == 0, list(job.issues.values_list("row", "code")[:5])
    first, again = timings
    figure("import_s", f"{first:.2f}")
    figure("import_rows_per_s", f"{len(records) / first:.0f}")
    figure("reimport_s", f"{again:.2f}")
    figure("reimport_rows_per_s", f"{len(records) / again:.0f}")
    figure("bulk_insert_s", f"{baseline:.2f}")
    figure("bulk_insert_rows_per_s", f"{len(records) / baseline:.0f}")
    figure("ratio", f"{first / baseline:.2f}")
    Building.objects.all().delete()


def _create_database(settings_dict: dict) -> None:
    """Create the scratch database (with PostGIS) when it does not exist yet."""
    import psycopg

    params = {
        "host": settings_dict["HOST"],
        "port": settings_dict["PORT"],
        "user": settings_dict["USER"],
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**params) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [settings_dict["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{settings_dict["NAME"]}"')


if __name__ == "__main__":
    main()
