"""Vector tiles of the map: the view against the bare SQL of the same tiles, in the same run.

On the `district` demo size (50,000 buildings; `demo` with --quick) it samples tiles that hold
buildings of a district administrator's district (40 per zoom at z14, z15 and z16, or all there
are; 10 with --quick) and times, tile by tile and interleaved,
  - the bare SQL: the very statement of ``gis.sql.map_tile`` (``map_tile_query``) executed
    through a cursor and fetched (``sql``);
  - the view ``GET /tiles/{z}/{x}/{y}.mvt`` called as a WSGI server calls it (the whole Django
    stack: middleware, session cookie, user, scope, epoch, cache miss, the SQL, the cache
    write, headers), signed in as that administrator, with the tile not in the cache
    (``view``: the epoch is bumped before each call, outside the timing);
  - the same request again, answered from the cache (``cached``);
and prints p50/p95 per zoom and for all tiles, ``ratio`` (view p50 / sql p50 over all the sampled
tiles; targets: ratio ≤ 1.3, cached under 5 ms) and ``ratio_p95``. The same tiles' bare SQL with
the GCJ-02 display shift is timed too (``gcj_sql``).

Runs on a scratch database of its own (``plategrid_bench_tiles_<size>`` on the configured server:
created, migrated and loaded with the demo city on first use, reused afterwards), with
the tiles cached under var/cache/bench-tiles.
Usage: .venv/bin/python benchmarks/map_tiles.py [--quick] [--size demo|district|city]
       [--tiles N] [--rounds R] [--fresh]
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from _setup import (
    ROOT,
    figure,
    percentile,
    scratch_city,
    session_key,
    setup_django,
    wsgi_get,
)

ZOOMS = (14, 15, 16)
SEED = 20091


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="demo size, 10 tiles per zoom")
    parser.add_argument("--size", choices=("demo", "district", "city"), default=None)
    parser.add_argument("--tiles", type=int, default=None, help="tiles per zoom (40)")
    parser.add_argument("--rounds", type=int, default=None, help="timings per tile (3)")
    parser.add_argument("--fresh", action="store_true", help="reload the scratch database")
    args = parser.parse_args()
    size = args.size or ("demo" if args.quick else "district")
    per_zoom = args.tiles or (10 if args.quick else 40)
    rounds = args.rounds or (2 if args.quick else 3)
    setup_django()

    from django.conf import settings
    from django.db import connection

    # The scratch database, on the server Django is configured for (the local cluster, or
    # DATABASE_URL's), named before the first connection: never the configured database.
    connection.settings_dict["NAME"] = f"plategrid_bench_tiles_{size}"

    cache_dir = ROOT / "var" / "cache" / "bench-tiles"
    # Before the cache is first used: the tiles' cache of the base settings (the test settings,
    # which the benchmarks start from, keep no tiles), in a folder of its own.
    from web.settings import base

    settings.CACHES["tiles"] = {**base.CACHES["tiles"], "LOCATION": str(cache_dir)}

    from django.contrib.auth import get_user_model
    from django.core.handlers.wsgi import WSGIHandler

    from gis.models import Building, Role, ScopeGrant
    from gis.querysets import territory_prefixes
    from gis.sql import map_tile_query
    from layers import tiles

    prepare_database(connection, size, fresh=args.fresh)
    shutil.rmtree(cache_dir, ignore_errors=True)

    # The district administrator of the district with the most buildings.
    district = max(
        {c[:6] for c in Building.objects.values_list("community__code", flat=True).distinct()},
        key=lambda code: Building.objects.filter(community__code__startswith=code).count(),
    )
    user, _ = get_user_model().objects.get_or_create(username="benchmark-tiles-district")
    ScopeGrant.objects.get_or_create(user=user, role=Role.DISTRICT_ADMIN, territory_code=district)
    session = session_key(user)
    prefixes = territory_prefixes(user)

    # Tiles that hold buildings of the district: those of a random sample of its buildings.
    points = list(
        Building.objects.filter(community__code__startswith=district).values_list(
            "centroid", flat=True
        )
    )
    rng = random.Random(SEED)
    sample: list[tuple[int, int, int]] = []
    for z in ZOOMS:
        holding = sorted({_tile_of(p.x, p.y, z) for p in points})
        sample += [(z, x, y) for x, y in rng.sample(holding, min(per_zoom, len(holding)))]

    application = WSGIHandler()

    def view(z: int, x: int, y: int) -> bytes:
        return wsgi_get(application, f"/tiles/{z}/{x}/{y}.mvt", session=session)

    def bare_sql(z: int, x: int, y: int, *, gcj02: bool = False) -> bytes:
        sql, params = map_tile_query(z, x, y, prefixes=prefixes, gcj02=gcj02)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return bytes(cursor.fetchone()[0])

    # Warm-up: every tile once each way (server buffers, PROJ, the process's imports).
    sizes = {}
    for tile in sample:
        tiles.bump_epoch()
        body = view(*tile)
        assert body == bare_sql(*tile), f"the view's tile {tile} differs from the SQL's"
        sizes[tile] = len(body)
        bare_sql(*tile, gcj02=True)

    times: dict[str, dict[int, list[float]]] = {
        name: {z: [] for z in ZOOMS} for name in ("sql", "view", "cached", "gcj_sql")
    }

    def timed(name: str, z: int, fn: Callable[[], object]) -> None:
        started = time.perf_counter()
        fn()
        times[name][z].append((time.perf_counter() - started) * 1000)

    for round_ in range(rounds):
        for tile in sample:
            z = tile[0]
            tiles.bump_epoch()  # the next view call misses the cache
            steps: list[tuple[str, Callable[[], object]]] = [
                ("sql", partial(bare_sql, *tile)),
                ("view", partial(view, *tile)),
            ]
            # Alternate which goes first, so that neither always meets warmer buffers.
            for name, fn in steps if round_ % 2 == 0 else steps[::-1]:
                timed(name, z, fn)
            timed("cached", z, partial(view, *tile))
            timed("gcj_sql", z, partial(bare_sql, *tile, gcj02=True))

    figure("size", size)
    figure("buildings", Building.objects.count())
    figure("district", district)
    figure("tiles", len(sample))
    figure("rounds", rounds)
    figure("tile_kb_p50", f"{percentile([s / 1024 for s in sizes.values()], 50):.1f}")
    for z in ZOOMS:
        for name in ("view", "sql", "cached", "gcj_sql"):
            values = times[name][z]
            figure(f"z{z}_{name}_p50_ms", f"{percentile(values, 50):.1f}")
            figure(f"z{z}_{name}_p95_ms", f"{percentile(values, 95):.1f}")
    every = {name: [t for z in ZOOMS for t in times[name][z]] for name in times}
    for name in ("view", "sql", "gcj_sql"):
        figure(f"{name}_p50_ms", f"{percentile(every[name], 50):.1f}")
        figure(f"{name}_p95_ms", f"{percentile(every[name], 95):.1f}")
    figure("cached_p50_ms", f"{percentile(every['cached'], 50):.2f}")
    figure("cached_p95_ms", f"{percentile(every['cached'], 95):.2f}")
    figure("ratio_p95", f"{percentile(every['view'], 95) / percentile(every['sql'], 95):.2f}")
    figure("ratio", f"{percentile(every['view'], 50) / percentile(every['sql'], 50):.2f}")


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def prepare_database(connection: Any, size: str, *, fresh: bool) -> None:
    """The scratch database with the demo city of ``size`` (``_setup.scratch_city``)."""
    loaded = scratch_city(connection, benchmark="map_tiles", size=size, fresh=fresh)
    if loaded is not None:
        figure("load_s", f"{loaded:.0f}")


if __name__ == "__main__":
    main()
