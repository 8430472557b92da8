"""Coverage maps at city scale: the choropleth, the dashboard and the coverage tiles on the `city`
demo (≈500,000 buildings, 2.7 million rooms) beside the same requests on the `demo` size, in the
same run, over a realistic visit history of 90 days; and recording a visit with the coverage
upkeep against without it.

Data (each size on a scratch database of its own, ``plategrid_bench_coverage_<size>``, loaded once
and reused, see ``_setup.scratch_city``): the demo city, then a visit history written in bulk
(:func:`load_history`, kept until the day changes or ``--fresh-history``):
  - every community is swept by its teams (one per ~2,500 rooms, two staff each), building after
    building in walking order (compound, then building), all rooms of a building on the same
    working day (Monday to Friday), at a pace that fits 1–3 sweeps into the 90 days; the last
    sweep may still be running today;
  - blind spots: about 12 % of the communities get through only 15–50 % of their buildings once;
    about 1 % of the rooms (whole buildings and single rooms) are never visited;
  - outcomes by the room's use (seen or updated most; not at home ~14 %, refused ~3 %; vacant
    rooms mostly "vacant"); a failed visit is revisited (90 %) the next working day or within 4,
    at the next part of the day (morning → afternoon → evening), up to 3 attempts (then flagged);
  - visits generated with numpy and COPYed into ``grid_visit`` (its secondary indexes and foreign
    keys dropped for the COPY and made again after, in the same transaction); then
    ``grid_roomvisitstate`` derived in one ``INSERT … SELECT`` by the rules of ``grid.visits``
    (checked against ``grid.visits.update_room_state`` on a sample of rooms), with its triggers
    (the coverage upkeep) off, then ``grid.coverage.rebuild_all()`` recounting ``CoverageCount``
    and the per-building coverage of layers/0002 recounted; the same rows of a 2 % sample of rooms
    inserted with the triggers on and off give the triggers' cost per row, for comparison; then
    the snapshots (Sundays and month ends) of the horizon, ``grid.snapshots.take_missing``.

Requests (``benchmarks._setup.wsgi_get``: the whole WSGI stack, DEBUG off, signed-in session),
each ``--reps`` times per size after one warm-up, as a superuser and as a street supervisor of
the street office with the most rooms (``_sup``): the choropleth of that office's communities for
7/30/90 days and of its district's communities; the office's dashboard; the gap-heatmap tile at
z12 and the building tile at z14 over the office's z14 tile with the most rooms, warm (served
from the cache: fetched once, untimed, before each timing) and cold. The caches are those of the
base settings (files under var/cache/bench-coverage-*), not the test settings' dummies. The warm
requests are timed round by round, interleaved; then the cold ones (``…_cold``: every cache
cleared before each timing, outside it — tiles, the tile epoch, the choropleth's cached
boundaries, which the epoch keys, remembered grants). Prints p50/p95 ms per size, ``<name>_ratio``
(city p95 / demo p95) and ``<name>_ratio_p50`` (the sizes run one after the other, so p95 also
carries the load of the shared machine at the time); a route not there yet prints ``n/a``. Targets (printed, not asserted):
choropleth p95 ≤ 50 ms at city size and ≤ 2× the demo's.

Recording visits (city database): ``grid.visits.record_visits`` (what ``POST /api/visits/``
calls) for ``--visits`` visits of a sweep's target rooms, one visit per call and transaction, in
blocks of 20 alternating with the coverage upkeep on — every trigger on ``grid_roomvisitstate``
(CoverageCount: grid/0004; per-building coverage: layers/0002) and the sweep's ``SweepCount``
moves of ``grid.visits`` — and off (those triggers disabled, ``grid.visits._move_sweep_count`` a
no-op; what the off blocks left uncounted is recounted afterwards); p50/p95 ms per visit and
``visit_upkeep_ratio`` (p50 on / p50 off; target ≤ 2). Each run adds these visits (of today) to
the city's history.

    .venv/bin/python benchmarks/coverage.py            # demo and city (the city's first load
                                                       # takes ~12 min, its history ~11 min)
    .venv/bin/python benchmarks/coverage.py --quick    # demo beside demo, under a minute
    .venv/bin/python benchmarks/coverage.py --prepare  # only load the databases and histories
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from _setup import ROOT, figure, percentile, scratch_city, session_key, setup_django, wsgi_get

SEED = 20091  # data.city.visit_history.SEED
#: Bump when the history's generator changes: kept histories are made again.
HISTORY_VERSION = 1
HISTORY_DAYS = 90
STAFF_PREFIX = "覆盖压测"
CHOROPLETH_TARGET_MS = 50.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="demo beside demo, under a minute")
    parser.add_argument("--reps", type=int, default=None, help="timings per request (30)")
    parser.add_argument("--visits", type=int, default=None, help="visits recorded (400)")
    parser.add_argument("--fresh", action="store_true", help="reload the scratch databases")
    parser.add_argument("--fresh-history", action="store_true", help="make the histories again")
    parser.add_argument("--prepare", action="store_true", help="only load databases, histories")
    parser.add_argument(
        "--hold-back", action="append", default=[], help="a migration not to apply (app/name)"
    )
    args = parser.parse_args()
    sizes = ("demo", "demo") if args.quick else ("demo", "city")
    reps = args.reps or (5 if args.quick else 30)
    visits = args.visits or (60 if args.quick else 400)
    setup_django()

    from django.conf import settings
    from django.db import connection

    from web.settings import base

    # Before the caches are first used: the file caches of the base settings (the map's tiles,
    # the coverage tiles; the test settings keep none), each in a folder of the benchmark's own;
    # emptied whenever the database changes.
    for alias, config in base.CACHES.items():
        if alias != "default" and "LOCATION" in config:
            settings.CACHES[alias] = {
                **config,
                "LOCATION": str(ROOT / "var" / "cache" / f"bench-coverage-{alias}"),
            }
    figure("sizes", "/".join(sizes))
    results: dict[str, dict[str, list[float] | str]] = {}
    # Figures are named by the role of the size ("demo", "city"), the same with --quick.
    for label, size in zip(("demo", "city"), sizes, strict=True):
        use_database(connection, size)
        reset_caches()  # nothing of the other size stays
        again = label == "city" and sizes[0] == sizes[1]  # --quick: the demo's database again
        started = time.perf_counter()
        loaded = scratch_city(
            connection,
            benchmark="coverage",
            size=size,
            fresh=args.fresh and not again,
            hold_back=tuple(args.hold_back),
        )
        figure(f"{label}_load_s", f"{loaded:.0f}" if loaded is not None else "kept")
        prepare_history(label, fresh=args.fresh_history and not again)
        figure(f"{label}_prepare_s", f"{time.perf_counter() - started:.0f}")
        if args.prepare:
            continue
        results[label] = time_requests(label, reps)
        if label == "city":
            time_recording(visits)
    if not args.prepare:
        print_requests(results)


# ---------------------------------------------------------------------------------------------
# Databases


def use_database(connection: Any, size: str) -> None:
    """Point Django's connection at the size's scratch database (never the configured one)."""
    connection.close()
    connection.settings_dict["NAME"] = f"plategrid_bench_coverage_{size}"


def reset_caches() -> None:
    """Empty every cache (tiles, their epoch, the choropleth's boundaries, remembered grants,
    sessions' cached copies) and Django's content types."""
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import caches

    for alias in settings.CACHES:
        caches[alias].clear()
    ContentType.objects.clear_cache()


def table_exists(name: str) -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return bool(cursor.fetchone()[0])


def prepare_history(label: str, *, fresh: bool) -> None:
    """The visit history of the size's database: kept when made today by this generator, else
    made again (:func:`load_history`); its figures printed either way."""
    from django.db import connection
    from django.utils import timezone

    signature = f"v{HISTORY_VERSION} seed {SEED} days {HISTORY_DAYS} until {timezone.localdate()}"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_coverage_history (signature text, figures text, "
            "made_at timestamptz DEFAULT now())"
        )
        cursor.execute("SELECT signature, figures FROM bench_coverage_history")
        row = cursor.fetchone()
    if row is not None and row[0] == signature and not fresh:
        figures = json.loads(row[1])
        figures = {**figures, "history": "kept"}
    else:
        figures = {**load_history(), "history": "made"}
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM bench_coverage_history")
            cursor.execute(
                "INSERT INTO bench_coverage_history (signature, figures) VALUES (%s, %s)",
                [signature, json.dumps(figures)],
            )
    for name, value in figures.items():
        figure(f"{label}_{name}", value)
    for name, value in database_sizes().items():
        figure(f"{label}_{name}", value)


def database_sizes() -> dict[str, Any]:
    from django.db import connection

    counts: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for name, table in (
            ("buildings", "geo_building"),
            ("rooms", "geo_room"),
            ("visits", "grid_visit"),
            ("visit_states", "grid_roomvisitstate"),
            ("coverage_rows", "grid_coveragecount"),
            ("snapshot_rows", "grid_coveragesnapshot"),
        ):
            if not table_exists(table):
                counts[name] = "n/a"
                continue
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (our own names)
            counts[name] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FILTER (WHERE flagged) FROM grid_roomvisitstate")
        counts["flagged_rooms"] = cursor.fetchone()[0]
        # Every room counted once in CoverageCount, every seen room with its day (a check).
        cursor.execute(
            "SELECT sum(rooms), sum(rooms) FILTER (WHERE last_visited_on IS NOT NULL)"
            " FROM grid_coveragecount"
        )
        counts["coverage_rooms"], counts["coverage_rooms_seen"] = cursor.fetchone()
        cursor.execute("SELECT count(last_seen_on) FROM grid_roomvisitstate")
        counts["rooms_seen"] = cursor.fetchone()[0]
    return counts


# ---------------------------------------------------------------------------------------------
# The visit history


def state_triggers() -> list[str]:
    """The triggers on ``grid_roomvisitstate`` (all of them coverage upkeep: CoverageCount by
    grid/0004, per-building coverage by layers/0002 where applied)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'grid_roomvisitstate'::regclass"
            " AND NOT tgisinternal ORDER BY tgname"
        )
        return [row[0] for row in cursor.fetchall()]


def rebuild_building_coverage(building_ids: list[int] | None = None) -> float | None:
    """Recount the per-building coverage of layers/0002 (``layers.coverage.tiles.
    recount_buildings``; all buildings by default) when the database has it: the seconds it
    took, else None."""
    from django.db import transaction

    if not table_exists("layers_buildingcoverage"):
        return None
    from layers.coverage.tiles import recount_buildings

    started = time.perf_counter()
    with transaction.atomic():
        recount_buildings(building_ids)
    return time.perf_counter() - started


def load_history() -> dict[str, Any]:
    """Generate and write the visit history of the size's database with the generator of
    ``data.city.visit_history`` (the demo's too), timing each part and the row triggers' cost on
    a sample of rooms; its figures."""
    from django.db import connection, transaction
    from django.utils import timezone

    from data.city import visit_history
    from grid import coverage

    figures: dict[str, Any] = {}
    today = timezone.localdate()
    rng = np.random.default_rng(SEED)
    clear_history()

    started = time.perf_counter()
    rooms = visit_history.read_rooms()
    figures["read_rooms_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    history = visit_history.generate_history(rooms, today, rng, HISTORY_DAYS)
    figures["generate_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    staff_ids = visit_history.write_staff(rooms, history[4], STAFF_PREFIX)
    figures.update(visit_history.copy_visits(rooms, history, staff_ids, rng))
    n = len(history[0])
    figures["visits_load_s"] = round(time.perf_counter() - started, 1)
    figures["visits_per_s"] = round(n / (time.perf_counter() - started))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE grid_visit")

    # The rooms' states, in one INSERT … SELECT; a 2 % sample of rooms with the triggers on too.
    params = visit_history.state_params()
    figures["state_triggers"] = " ".join(state_triggers())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")  # the window's sort of every visit
        cursor.execute("ALTER TABLE grid_roomvisitstate DISABLE TRIGGER USER")
        started = time.perf_counter()
        cursor.execute(visit_history.STATES_SQL.format(sample="mod(room_id, 50) <> 0"), params)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys checked now
        figures["states_insert_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        cursor.execute(visit_history.STATES_SQL.format(sample="mod(room_id, 50) = 0"), params)
        sample = cursor.rowcount
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        off_s = time.perf_counter() - started
        cursor.execute("DELETE FROM grid_roomvisitstate WHERE mod(room_id, 50) = 0")
        cursor.execute("ALTER TABLE grid_roomvisitstate ENABLE TRIGGER USER")
        started = time.perf_counter()
        cursor.execute(visit_history.STATES_SQL.format(sample="mod(room_id, 50) = 0"), params)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        on_s = time.perf_counter() - started
    figures["states_sample_rows"] = sample
    figures["states_sample_triggers_off_s"] = round(off_s, 2)
    figures["states_sample_triggers_on_s"] = round(on_s, 2)
    figures["state_trigger_us_per_row"] = round((on_s - off_s) / max(sample, 1) * 1e6)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE grid_roomvisitstate")
        cursor.execute("SELECT count(*) FROM grid_roomvisitstate")
        states = cursor.fetchone()[0]
    figures["states_all_by_triggers_est_s"] = round(
        figures["states_insert_s"] + states * figures["state_trigger_us_per_row"] / 1e6
    )
    started = time.perf_counter()
    with transaction.atomic():
        coverage.rebuild_all()
    figures["coverage_rebuild_s"] = round(time.perf_counter() - started, 1)
    building_s = rebuild_building_coverage()
    figures["building_coverage_rebuild_s"] = "n/a" if building_s is None else round(building_s, 1)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE grid_coveragecount")
    figures["state_check_mismatches"] = check_states(rng)

    # The weekly snapshots of the history's days.
    figures["snapshots_s"] = "n/a"
    if table_exists("grid_coveragesnapshot"):
        from grid import snapshots

        # Every missing day of the horizon (the history's Sundays and month ends, and the empty
        # ones before it), so that no request queues the snapshot job.
        started = time.perf_counter()
        taken = snapshots.take_missing(today)
        figures["snapshot_days"] = len(taken)
        figures["snapshots_s"] = round(time.perf_counter() - started, 1)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE grid_coveragesnapshot")
    return figures


def clear_history() -> None:
    """Remove an earlier history (visits, states, snapshots, the benchmark's staff and sweeps)
    and recount coverage."""
    from django.db import connection, transaction

    from grid.models import Staff, Sweep

    tables = ["grid_visit", "grid_roomvisitstate"]
    tables += [t for t in ("grid_coveragesnapshot", "grid_coveragesnapshotday") if table_exists(t)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}")
        Sweep.objects.filter(name__startswith=STAFF_PREFIX).delete()
        Staff.objects.filter(name__startswith=STAFF_PREFIX).delete()
        cursor.execute("DELETE FROM grid_coveragecount")
        cursor.execute("SELECT grid_coverage_rebuild(code) FROM geo_community ORDER BY code")


def check_states(rng: np.random.Generator, sample: int = 300) -> int:
    """Rooms (of a random sample) whose state the bulk statement derived differently from
    ``grid.visits.update_room_state`` (run in a transaction rolled back)."""
    from django.db import connection

    from data.city import visit_history

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT room_id FROM grid_roomvisitstate TABLESAMPLE SYSTEM (5) LIMIT %s", [sample]
        )
        rooms = [row[0] for row in cursor.fetchall()]
    # Rooms with failed visits too (revisits and flags), where the rules have most to get wrong.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT room_id FROM grid_roomvisitstate WHERE failed_attempts > 0 LIMIT %s",
            [sample // 2],
        )
        rooms += [row[0] for row in cursor.fetchall()]
    differences = visit_history.state_differences(rooms)
    for room_id, name, bulk, services in differences[:3]:
        print(
            f"state of room {room_id}: {name} bulk {bulk}, grid.visits {services}", file=sys.stderr
        )
    return len({room_id for room_id, *_ in differences})


# ---------------------------------------------------------------------------------------------
# Requests


@dataclass
class Request:
    name: str
    path: str
    query: str
    #: Timed apart, after the others, with every cache cleared before each timing (outside it):
    #: see :func:`reset_caches`.
    cold: bool = False


@dataclass
class Place:
    """Where the requests look: the street office with the most rooms, its district, and the
    z14 tile with the most rooms in it (and the z12 tile holding that one)."""

    office: str
    district: str
    z14: tuple[int, int]
    z12: tuple[int, int]
    #: buildings and rooms in the z14 tile, then in the z12 tile (all of them, any scope)
    counts: list[int]


def find_place() -> Place:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT left(c.code, 9) FROM geo_room r JOIN geo_building b ON b.id = r.building_id
                 JOIN geo_community c ON c.id = b.community_id
                GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"""
        )
        office = cursor.fetchone()[0]
        # Rooms per z14 tile (of the buildings' centroids), over the whole city.
        cursor.execute(
            """CREATE TEMP TABLE IF NOT EXISTS bench_tile_rooms AS
               SELECT floor((ST_X(b.centroid) + 180) / 360 * 16384)::int AS x,
                      floor((1 - ln(tan(radians(ST_Y(b.centroid)))
                                    + 1 / cos(radians(ST_Y(b.centroid)))) / pi()) / 2
                            * 16384)::int AS y,
                      left(c.code, 9) AS office, count(DISTINCT b.id) AS buildings,
                      count(r.id) AS rooms
                 FROM geo_building b JOIN geo_community c ON c.id = b.community_id
                 LEFT JOIN geo_room r ON r.building_id = b.id
                GROUP BY 1, 2, 3"""
        )
        cursor.execute(
            """SELECT x, y FROM bench_tile_rooms WHERE office = %s
                ORDER BY rooms DESC, x, y LIMIT 1""",
            [office],
        )
        x, y = cursor.fetchone()
        cursor.execute(
            """SELECT sum(buildings) FILTER (WHERE x = %(x)s AND y = %(y)s),
                      sum(rooms) FILTER (WHERE x = %(x)s AND y = %(y)s),
                      sum(buildings), sum(rooms)
                 FROM bench_tile_rooms WHERE x / 4 = %(x)s / 4 AND y / 4 = %(y)s / 4""",
            {"x": x, "y": y},
        )
        counts = [int(n) for n in cursor.fetchone()]
    return Place(office, office[:6], (x, y), (x >> 2, y >> 2), counts)


def requests_of(place: Place) -> list[Request]:
    office, district = place.office, place.district
    (x14, y14), (x12, y12) = place.z14, place.z12
    requests = [
        Request(f"choropleth_{days}d", "/api/coverage/map/", f"code={office}&days={days}")
        for days in (7, 30, 90)
    ]
    requests += [
        Request("choropleth_district", "/api/coverage/map/", f"code={district}&level=community"),
        Request("choropleth_30d_cold", "/api/coverage/map/", f"code={office}&days=30", cold=True),
        Request(
            "choropleth_district_cold",
            "/api/coverage/map/",
            f"code={district}&level=community",
            cold=True,
        ),
        Request("dashboard", "/api/coverage/dashboard/", f"code={office}"),
    ]
    for name, z, x, y in (("gap_tile_z12", 12, x12, y12), ("building_tile_z14", 14, x14, y14)):
        path = f"/tiles/coverage/{z}/{x}/{y}.mvt"
        requests += [
            Request(f"{name}_cold", path, "days=30", cold=True),
            Request(f"{name}_warm", path, "days=30"),
        ]
    return requests


def bench_users(office: str) -> dict[str, Any]:
    """A superuser and a street supervisor of ``office`` (``_sup``), made once."""
    from django.contrib.auth import get_user_model

    from gis.models import Role, ScopeGrant

    users = get_user_model().objects
    admin, _ = users.update_or_create(
        username="bench-coverage-admin",
        defaults={"is_superuser": True, "is_staff": True, "is_active": True},
    )
    supervisor, _ = users.update_or_create(
        username="bench-coverage-supervisor", defaults={"is_active": True}
    )
    ScopeGrant.objects.filter(user=supervisor).exclude(territory_code=office).delete()
    ScopeGrant.objects.update_or_create(
        user=supervisor, territory_code=office, defaults={"role": Role.STREET_SUPERVISOR}
    )
    return {"": admin, "_sup": supervisor}


def routed(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def time_requests(label: str, reps: int) -> dict[str, list[float] | str]:
    """Each request (as each user) ``reps`` times, interleaved round by round, after one
    warm-up call: ms per call; a string (``n/a`` and why) for a request that cannot be timed."""
    from django.core.handlers.wsgi import WSGIHandler

    place = find_place()
    figure(f"{label}_office", place.office)
    figure(f"{label}_tile_z14", "{}/{}".format(*place.z14))
    figure(f"{label}_tile_z14_buildings", place.counts[0])
    figure(f"{label}_tile_z14_rooms", place.counts[1])
    figure(f"{label}_tile_z12_buildings", place.counts[2])
    figure(f"{label}_tile_z12_rooms", place.counts[3])
    users = bench_users(place.office)
    sessions = {suffix: session_key(user) for suffix, user in users.items()}
    application = WSGIHandler()
    times: dict[str, list[float] | str] = {}
    runnable: list[tuple[str, Request, str]] = []
    for request in requests_of(place):
        for suffix, session in sessions.items():
            key = request.name + suffix
            if not routed(request.path):
                times[key] = "n/a (no route yet)"
                continue
            try:
                wsgi_get(application, request.path, session=session, query=request.query)
            except AssertionError as error:
                times[key] = f"n/a ({str(error)[:200]})"
                continue
            times[key] = []
            runnable.append((key, request, session))
    # Warm requests first, round by round; then the cold ones, whose clearing of the caches would
    # make the next round's warm requests miss (the tile epoch also keys the choropleth's
    # boundaries).
    for cold in (False, True):
        for _round in range(reps):
            for key, request, session in runnable:
                timings = times[key]
                if request.cold != cold or not isinstance(timings, list):
                    continue
                if cold:
                    reset_caches()
                try:
                    if not cold and request.path.startswith("/tiles/"):
                        # In the cache for certain (made once, untimed, before its timing).
                        wsgi_get(application, request.path, session=session, query=request.query)
                    started = time.perf_counter()
                    wsgi_get(application, request.path, session=session, query=request.query)
                    timings.append((time.perf_counter() - started) * 1000)
                except AssertionError as error:  # an answer other than 200: not timed further
                    times[key] = f"n/a ({str(error)[:200]})"
    return times


def print_requests(results: dict[str, dict[str, list[float] | str]]) -> None:
    """p50/p95 per request and size, and ``<name>_ratio``: city p95 / demo p95."""
    small, large = results["demo"], results["city"]
    for key in small:
        for label, times in (("demo", small[key]), ("city", large.get(key, "n/a"))):
            for q in (50, 95):
                value = f"{percentile(times, q):.1f}" if isinstance(times, list) else times
                figure(f"{key}_{label}_p{q}_ms", value)
        a, b = small[key], large.get(key)
        ratio = ratio_p50 = "n/a"
        if isinstance(a, list) and isinstance(b, list):
            ratio = f"{percentile(b, 95) / percentile(a, 95):.2f}"
            # The sizes are timed one after the other: p95 carries the machine's load of the
            # moment, p50 less so.
            ratio_p50 = f"{percentile(b, 50) / percentile(a, 50):.2f}"
        figure(f"{key}_ratio_p50", ratio_p50)
        figure(f"{key}_ratio", ratio)
    figure("choropleth_target_city_p95_ms", f"{CHOROPLETH_TARGET_MS:.0f}")
    figure("choropleth_target_ratio", "2")
    worst = [large.get(f"choropleth_{d}d") for d in (7, 30, 90)]
    if all(isinstance(t, list) for t in worst):
        p95 = max(percentile(t, 95) for t in worst if isinstance(t, list))
        worst_ratio = max(
            percentile(b, 95) / percentile(a, 95)
            for d in (7, 30, 90)
            if isinstance(a := small[f"choropleth_{d}d"], list)
            and isinstance(b := large[f"choropleth_{d}d"], list)
        )
        figure("choropleth_city_worst_p95_ms", f"{p95:.1f}")
        figure("choropleth_worst_ratio", f"{worst_ratio:.2f}")
        figure(
            "choropleth_meets_targets",
            "yes" if p95 <= CHOROPLETH_TARGET_MS and worst_ratio <= 2 else "no",
        )


# ---------------------------------------------------------------------------------------------
# Recording visits with and without the coverage upkeep


@contextlib.contextmanager
def upkeep(on: bool) -> Iterator[None]:
    """The coverage upkeep of visits on (as always) or off: every trigger on
    ``grid_roomvisitstate`` disabled (:func:`state_triggers`), the SweepCount moves of
    ``grid.visits`` skipped. Committed switches (each visit commits, as in the API)."""
    from django.db import connection

    from grid import visits

    if on:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE grid_roomvisitstate DISABLE TRIGGER USER")
    move = visits._move_sweep_count
    visits._move_sweep_count = lambda *args, **kwargs: None
    try:
        yield
    finally:
        visits._move_sweep_count = move
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE grid_roomvisitstate ENABLE TRIGGER USER")


def time_recording(count: int) -> None:
    """Record ``count`` visits (plus 10 to warm up) of a sweep's target rooms with
    ``grid.visits.record_visits``, in blocks of 20 alternating upkeep on and off."""
    import datetime as dt_

    from django.db import connection
    from django.utils import timezone

    from data.city import visit_history
    from gis.models import Community, Room
    from grid import coverage
    from grid.models import Staff
    from grid.sweeps import create_sweep
    from grid.visits import record_visits

    place = find_place()
    supervisor = bench_users(place.office)["_sup"]
    community = (
        Community.objects.filter(
            code__startswith=place.office, staff__name__startswith=STAFF_PREFIX
        )
        .order_by("code")
        .first()
    )
    assert community is not None, "no community with the history's staff"
    staff = list(Staff.objects.filter(community=community, name__startswith=STAFF_PREFIX))
    today = timezone.localdate()
    sweep = create_sweep(
        None,
        name=f"{STAFF_PREFIX} recording {timezone.now().isoformat()}",
        area_codes=[community.code],
        starts_on=today,
        ends_on=today + dt_.timedelta(days=30),
        teams=[
            {
                "name": "1组",
                "members": [s.pk for s in staff[:2]],
                "start": community.geom.point_on_surface,
            }
        ],
    )
    rng = np.random.default_rng()
    now = timezone.now()
    # Rooms no visit reached in the last day (an earlier run's visits of the same community
    # would make visits of the same minute duplicates or conflicts).
    rooms = list(
        Room.objects.filter(sweep_targets__sweep=sweep)
        .exclude(visit_state__last_visited_at__gte=now - dt_.timedelta(days=1))
        .values_list("pk", "building__centroid")
    )
    picked = rng.choice(len(rooms), min(len(rooms), count + 10), replace=False)
    outcomes = visit_history.OUTCOMES
    weights = np.array(visit_history.OUTCOME_WEIGHTS["owner_occupied"], float)

    def item(k: int, n: int) -> dict[str, Any]:
        pk, centroid = rooms[int(picked[k])]
        return {
            "id": str(uuid.uuid4()),
            "room": pk,
            "outcome": outcomes[int(rng.choice(len(outcomes), p=weights / weights.sum()))],
            "visited_at": (now - dt_.timedelta(seconds=(n - k) * 61)).isoformat(),
            "sweep": sweep.pk,
            "staff": staff[k % 2].pk,
            "location": {
                "type": "Point",
                "coordinates": [centroid.x + rng.normal(0, 5e-5), centroid.y + rng.normal(0, 5e-5)],
            },
        }

    n = len(picked)
    times: dict[bool, list[float]] = {True: [], False: []}
    block = 20
    # 10 visits to warm up, then blocks of ``block`` visits, upkeep on and off in turn.
    blocks = [(None, range(0, min(10, n)))] + [
        ((b // block) % 2 == 0, range(b, min(n, b + block))) for b in range(10, n, block)
    ]
    for on, ks in blocks:
        with upkeep(on is not False):
            for k in ks:
                body = item(k, n)
                started = time.perf_counter()
                (result,) = record_visits(supervisor, [body])
                elapsed = (time.perf_counter() - started) * 1000
                assert result.status == "created", result.as_body()
                if on is not None:
                    times[on].append(elapsed)
    # What the visits recorded with the upkeep off left uncounted: recounted.
    coverage.rebuild_communities([community.code])
    coverage.rebuild_sweep_counts(sweep)
    rebuild_building_coverage(
        list(
            Room.objects.filter(sweep_targets__sweep=sweep)
            .values_list("building_id", flat=True)
            .distinct()
        )
    )
    figure("visit_upkeep_triggers", " ".join(state_triggers()))
    connection.close()
    for on, name in ((True, "on"), (False, "off")):
        figure(f"visit_upkeep_{name}_p50_ms", f"{percentile(times[on], 50):.1f}")
        figure(f"visit_upkeep_{name}_p95_ms", f"{percentile(times[on], 95):.1f}")
    figure("visit_upkeep_visits", f"{len(times[True])}+{len(times[False])}")
    figure(
        "visit_upkeep_ratio",
        f"{percentile(times[True], 50) / percentile(times[False], 50):.2f}",
    )
    figure("visit_upkeep_target_ratio", "2")


if __name__ == "__main__":
    main()
