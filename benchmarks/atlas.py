"""Field-pack atlas benchmark: a whole-sweep atlas of about 100 map sheets of the ``district``
demo (``--quick``: about 4 sheets of the ``demo`` city), made as the app makes it, on A4 by
default (``--paper``: the first district's buildings fill about 78 sheets on A3, the layout's
own choice for them, and about twice as many on A4).

On a scratch database of its own (``plategrid_bench_atlas_<size>``, loaded once and reused, see
``_setup.scratch_city``), the benchmark adds the first district's communities in code order until the layout of their
buildings needs ``--sheets`` map sheets, creates a sweep of them with one team per community (at
most 12), plans it with the app's planner (``grid.sweep_jobs``, its time limit from the
settings), then submits and runs the atlas job (``layers.sheets.jobs``): read the pack through
the system user's scope, lay it out, draw every page (cover, map sheets, the registers of every
target room, the building plans), write the PDF and the GeoPackage.

Figures: ``communities``, ``buildings``, ``rooms``, ``sheets`` (map sheets), ``pages`` (all
pages), ``read_s`` (reading the pack), ``render_s`` (layout and drawing), ``gpkg_s``, ``job_s``
(the whole job as the worker runs it, files saved), ``s_per_page`` (job seconds per page: the
issue's target is ≤ 0.3 s per page including registers), ``map_s_per_sheet`` (a map page
alone), ``register_s_per_page``, ``pdf_mb``, ``mb_per_page``, ``gpkg_mb``, ``peak_rss_mb``.

    .venv/bin/python benchmarks/atlas.py            # district, ~100 sheets
    .venv/bin/python benchmarks/atlas.py --quick    # demo city, ~4 sheets, under a minute
"""

from __future__ import annotations

import argparse
import resource
import time
from typing import Any

from _setup import figure, scratch_city, setup_django

MAX_TEAMS = 12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="demo city, about 4 sheets")
    parser.add_argument("--sheets", type=int, help="map sheets wanted (default 100, quick 4)")
    parser.add_argument(
        "--paper", choices=("auto", "a4", "a3"), default="a4", help="the atlas's paper (a4)"
    )
    parser.add_argument("--fresh", action="store_true", help="reload the scratch database")
    args = parser.parse_args()
    size = "demo" if args.quick else "district"
    wanted = args.sheets or (4 if args.quick else 100)

    setup_django()
    from django.conf import settings
    from django.db import connection

    from layers.sheets.pack import Paper

    connection.settings_dict["NAME"] = f"plategrid_bench_atlas_{size}"
    loaded = scratch_city(connection, benchmark="atlas", size=size, fresh=args.fresh)
    if loaded is not None:
        figure("load_s", f"{loaded:.0f}")
    settings.MEDIA_ROOT = str(settings.VAR_DIR / "bench-media")
    if args.quick:
        settings.SWEEP_PLAN_TIME_LIMIT_S = 5.0
    figure("size", size)

    figure("paper", args.paper)
    codes = communities_for(wanted, Paper(args.paper))
    sweep = planned_sweep(codes)
    run_atlas(sweep, args.paper)


def communities_for(wanted: int, paper: Any) -> list[str]:
    """Communities of the first district, in code order, until their buildings' layout needs
    ``wanted`` map sheets (or the district's end)."""
    import shapely
    from django.db import connection

    from gis.crs import metric_srid
    from gis.models import Community
    from layers.sheets import layout
    from layers.sheets.pack import BuildingItem, Pack, PackKind

    chosen: list[str] = []
    footprints: list[Any] = []
    sheets = 0
    codes = list(Community.objects.order_by("code").values_list("code", flat=True))
    # A sweep stays within one district: the first district's communities.
    for code in [c for c in codes if c[:6] == codes[0][:6]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ST_AsBinary(ST_Transform(b.footprint, %s)) FROM geo_building b"
                " JOIN geo_community c ON c.id = b.community_id WHERE c.code = %s",
                [metric_srid(), code],
            )
            footprints += [shapely.from_wkb(bytes(row[0])) for row in cursor.fetchall()]
        chosen.append(code)
        probe = Pack(
            kind=PackKind.SWEEP,
            paper=paper,
            title="",
            made_on=None,  # type: ignore[arg-type]
            buildings=[
                BuildingItem(
                    id=k,
                    footprint=f,
                    label="",
                    address="",
                    name="",
                    community="",
                    zone="",
                    floors=1,
                    use="",
                    url="",
                )
                for k, f in enumerate(footprints)
            ],
        )
        sheets = len(layout.plan_sheets(probe))
        if sheets >= wanted:
            break
    figure("communities", len(chosen))
    figure("sheets_estimated", sheets)
    return chosen


def planned_sweep(codes: list[str]) -> Any:
    import datetime

    from gis.models import Community
    from gis.progress import JobStatus
    from grid import sweep_jobs
    from grid.models import Sweep
    from grid.sweeps import create_sweep

    Sweep.objects.filter(name="atlas benchmark").delete()
    teams = [
        {
            "name": f"{k + 1}组",
            "members": [],
            "start": c.geom.point_on_surface,
            "start_name": c.name,
        }
        for k, c in enumerate(Community.objects.filter(code__in=codes[:MAX_TEAMS]).order_by("code"))
    ]
    today = datetime.date.today()
    sweep = create_sweep(
        None,
        name="atlas benchmark",
        area_codes=codes,
        starts_on=today,
        ends_on=today + datetime.timedelta(days=60),
        teams=teams,
    )
    started = time.perf_counter()
    job = sweep_jobs.submit_plan(None, sweep, "plan", queue=False)
    job = sweep_jobs.run_plan(str(job.pk))
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    figure("plan_s", f"{time.perf_counter() - started:.1f}")
    figure("teams", len(teams))
    return sweep


def run_atlas(sweep: Any, paper: str) -> None:
    from gis.progress import JobStatus
    from layers.sheets import jobs

    options = {"kind": "sweep", "sweep": sweep.pk, "paper": paper}
    job, _created = jobs.submit_pack(None, options, queue=False)
    started = time.perf_counter()
    job = jobs.run_pack(str(job.pk))
    job_s = time.perf_counter() - started
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    report = job.report
    parts = report["parts"]
    map_pages, map_s = parts["maps"]
    register_pages, register_s = parts["registers"]
    plan_pages, plan_s = parts["plans"]
    figure("buildings", report["buildings"])
    figure("rooms", report["rooms"])
    figure("sheets", job.sheets)
    figure("pages", job.pages)
    figure("read_s", f"{report['read_s']:.2f}")
    figure("render_s", f"{report['draw_s']:.2f}")
    figure("gpkg_s", f"{report['gpkg_s']:.2f}")
    figure("job_s", f"{job_s:.2f}")
    figure("s_per_page", f"{job_s / job.pages:.3f}")
    figure("map_s_per_sheet", f"{map_s / max(map_pages, 1):.3f}")
    figure("register_pages", register_pages)
    figure("register_s_per_page", f"{register_s / max(register_pages, 1):.4f}")
    figure("plan_pages", plan_pages)
    figure("plan_s_per_page", f"{plan_s / max(plan_pages, 1):.4f}")
    figure("pdf_mb", f"{report['pdf_bytes'] / 1e6:.2f}")
    figure("mb_per_page", f"{report['pdf_bytes'] / 1e6 / job.pages:.4f}")
    figure("gpkg_mb", f"{report['gpkg_bytes'] / 1e6:.2f}")
    figure("peak_rss_mb", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    jobs.delete_files(job)


if __name__ == "__main__":
    main()
