"""Route solvers (``grid.routing``) on public TSPLIB and CVRPLIB instances: length, gap, time.

Usage: .venv/bin/python benchmarks/routes.py [FILE...] [--opt VALUE] [--quick] [--time-limit S]
                                            [--no-sweep | --sweep-only]

Reads the ``.tsp`` and ``.vrp`` files given (all of ``../shared/bench/`` when none), solves each
with :func:`grid.routing.order_stops` (TSP: a closed tour from stop 0) or
:func:`grid.routing.split_among_teams` (CVRP: the file's capacity as a hard limit, closed routes,
as many teams as needed), and prints per instance ``NAME.stops``, ``NAME.length``,
``NAME.optimum``, ``NAME.gap`` (% above the optimum), ``NAME.time_s`` and for a CVRP
``NAME.routes``. The optima of the bundled instances are known (see ``OPTIMA``, from the bench
README); for any other file give ``--opt VALUE`` (with one file) or the gap is printed as ``n/a``.

Targets (issue 6): TSP up to 1,000 stops within 0.5 % of the optimum in ≤ 5 s; CVRP of ~500
stops within 1 % of the best known in ≤ 60 s. Default time limits: 4.5 s per TSP, 55 s per CVRP
(``--time-limit`` sets both). ``--quick`` runs berlin52, kroA100 and X-n101-k25 with 1 s / 5 s.
The TSP solver runs on one thread; PyVRP is single-threaded.

**The sweep case** (when no files are given, or with ``--sweep-only``): a ``district``-size sweep
planned by :func:`grid.sweep_plan.plan_sweep`: every building of the generated ``district``-size
city (about 50,000; the ``demo`` city with --quick), read from a scratch database of its own
(``plategrid_bench_routes_<size>``, created, migrated and loaded by ``demo_city`` on the server
Django is configured for, kept and reused while its comment names the size; never the
development database) by :func:`grid.sweep_input.building_points_and_streets`, community by
community (the streets near two communities kept once); work = rooms ×
6 minutes per room (``MINUTES_PER_ROOM``); 20 teams, whose service stations are the buildings
nearest the 20 k-means centres (seeded) of all building points; 70 m/min, 6-hour days. Printed:
``sweep_buildings``, ``sweep_rooms``, ``sweep_teams``, ``sweep_streets``, ``sweep_read_s``,
``sweep_time_s`` (planning alone, wall clock), ``sweep_cpu_s`` (its CPU time), ``sweep_method``, ``sweep_clusters``, ``sweep_moves``,
``sweep_max_mean`` (team hours, target ≤ 1.10), ``sweep_walk_km``, ``sweep_hours``,
``sweep_days_max``, ``sweep_fallback_share``, ``sweep_overlong``, ``sweep_peak_mb``; and
``sweep_progress`` after the split and each team.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from typing import Any

from _setup import ROOT, figure, scratch_city, setup_django
from _tsplib import Instance, read_instance

BENCH = ROOT.parent / "shared" / "bench"
#: Optimal (or, for X-n502-k39, best known) lengths, from ../shared/bench/README.md.
OPTIMA = {
    "berlin52": 7542,
    "kroA100": 21282,
    "att532": 27686,
    "pr1002": 259045,
    "X-n101-k25": 27591,
    "X-n502-k39": 69230,
}
QUICK = ("berlin52", "kroA100", "X-n101-k25")
MINUTES_PER_ROOM = 6.0
SWEEP_TEAMS = 20
SWEEP_SEED = 20091
READ_CHUNK = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help=".tsp or .vrp files")
    parser.add_argument(
        "--opt", type=float, help="optimum of the (one) file the script does not know"
    )
    parser.add_argument("--quick", action="store_true", help="the small instances, short limits")
    parser.add_argument("--time-limit", type=float, help="seconds per instance")
    sweep = parser.add_mutually_exclusive_group()
    sweep.add_argument("--no-sweep", action="store_true", help="skip the district sweep")
    sweep.add_argument("--sweep-only", action="store_true", help="only the district sweep")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.sweep_only:
        run_sweep("demo" if args.quick else "district", quick=args.quick)
        return
    files = args.files or sorted([*BENCH.rglob("*.tsp"), *BENCH.rglob("*.vrp")])
    if args.quick and not args.files:
        files = [path for path in files if path.stem in QUICK]
    if args.opt is not None and len(files) != 1:
        parser.error(f"--opt gives one optimum but {len(files)} files are to be solved")
    for path in files:
        instance = read_instance(path)
        optimum = args.opt if args.opt is not None else OPTIMA.get(instance.name)
        if instance.kind == "TSP":
            limit = args.time_limit or (1.0 if args.quick else 4.5)
            run_tsp(instance, optimum, limit)
        else:
            limit = args.time_limit or (5.0 if args.quick else 55.0)
            run_cvrp(instance, optimum, limit)
    if not args.files and not args.no_sweep:
        run_sweep("demo" if args.quick else "district", quick=args.quick)


def run_tsp(instance: Instance, optimum: float | None, time_limit_s: float) -> None:
    from grid.routing import order_stops

    started = time.perf_counter()
    route = order_stops(instance.distances, start=0, end=0, time_limit_s=time_limit_s)
    seconds = time.perf_counter() - started
    assert sorted(route.order) == list(range(len(instance.distances)))
    _print(instance.name, len(route.order), route.length, optimum, seconds)


def run_cvrp(instance: Instance, optimum: float | None, time_limit_s: float) -> None:
    from grid.routing import split_among_teams

    assert instance.demands is not None and instance.capacity is not None
    stops = len(instance.distances) - 1
    started = time.perf_counter()
    split = split_among_teams(
        instance.distances,
        instance.demands,
        teams=stops,
        capacity=instance.capacity,
        depot=instance.depot,
        time_limit_s=time_limit_s,
    )
    seconds = time.perf_counter() - started
    served = sorted(stop for route in split.routes for stop in route)
    assert served == [i for i in range(stops + 1) if i != instance.depot]
    assert split.feasible and max(split.loads) <= instance.capacity
    _print(instance.name, stops, split.objective, optimum, seconds)
    figure(f"{instance.name}.routes", sum(1 for route in split.routes if route))


def _print(name: str, stops: int, length: float, optimum: float | None, seconds: float) -> None:
    figure(f"{name}.stops", stops)
    figure(f"{name}.length", f"{length:.0f}")
    figure(f"{name}.optimum", "n/a" if optimum is None else f"{optimum:g}")
    gap = "n/a" if optimum is None else f"{100 * (length - optimum) / optimum:.2f}"
    figure(f"{name}.gap", gap)
    figure(f"{name}.time_s", f"{seconds:.2f}")


def run_sweep(size: str, *, quick: bool) -> None:
    """Plan a sweep of every building of the generated ``size`` city (see the module's notes)."""
    setup_django()
    from django.db import connection
    from django.db.models import Count

    # The scratch database, named before the first connection: never the configured database.
    connection.settings_dict["NAME"] = f"plategrid_bench_routes_{size}"
    prepare_database(connection, size)

    import numpy as np
    import shapely
    from scipy.cluster.vq import kmeans2

    from gis.models import Building
    from grid.sweep_input import WalkingInput, building_points_and_streets
    from grid.sweep_plan import plan_sweep

    started = time.perf_counter()
    # Community by community, 300 buildings at a time: building_points_and_streets buffers the
    # union of its points, which grows about quadratically (5,000 points: 16 s; 50,000: minutes
    # and gigabytes). The streets read near two chunks are kept once.
    by_community: dict[int, list[int]] = {}
    for pk, community in Building.objects.order_by("pk").values_list("pk", "community"):
        by_community.setdefault(community, []).append(pk)
    ids, points, streets = [], [], []
    for members in by_community.values():
        for at in range(0, len(members), READ_CHUNK):
            chunk = Building.objects.filter(pk__in=members[at : at + READ_CHUNK])
            part = building_points_and_streets(chunk)
            ids.append(part.building_ids)
            points.append(part.points)
            streets.append(part.streets)
    all_streets = np.concatenate(streets)
    _, first = np.unique(shapely.to_wkb(all_streets), return_index=True)
    read = WalkingInput(
        building_ids=np.concatenate(ids),
        points=np.concatenate(points),
        streets=all_streets[np.sort(first)],
    )
    rooms_of = dict(Building.objects.annotate(n=Count("rooms")).values_list("pk", "n"))
    rooms = np.array([rooms_of[pk] for pk in read.building_ids], dtype=float)
    figure("sweep_size", size)
    figure("sweep_read_s", f"{time.perf_counter() - started:.1f}")
    xy = shapely.get_coordinates(read.points)
    centres, _ = kmeans2(xy - xy.mean(axis=0), SWEEP_TEAMS, minit="++", seed=SWEEP_SEED)
    stations = [
        read.points[int(np.argmin(np.hypot(*(xy - xy.mean(axis=0) - c).T)))] for c in centres
    ]
    figure("sweep_buildings", len(read.points))
    figure("sweep_rooms", int(rooms.sum()))
    figure("sweep_minutes_per_room", f"{MINUTES_PER_ROOM:g}")
    figure("sweep_teams", SWEEP_TEAMS)
    figure("sweep_streets", len(read.streets))

    started = time.perf_counter()
    cpu = time.process_time()

    def progress(done: int, total: int) -> None:
        figure("sweep_progress", f"{done}/{total} at {time.perf_counter() - started:.0f} s")

    plan = plan_sweep(
        read.points,
        rooms * MINUTES_PER_ROOM,
        stations,
        streets=read.streets,
        time_limit_s=10.0 if quick else 60.0,
        seed=SWEEP_SEED,
        progress=progress,
    )
    figure("sweep_time_s", f"{time.perf_counter() - started:.1f}")
    # The machine is shared: the process's own CPU time says what the planning costs.
    figure("sweep_cpu_s", f"{time.process_time() - cpu:.1f}")
    assert sorted(s for team in plan.teams for s in team.stops) == list(range(len(read.points)))
    figure("sweep_method", plan.method)
    figure("sweep_clusters", plan.clusters)
    figure("sweep_moves", plan.moves)
    figure("sweep_max_mean", f"{plan.max_mean:.3f}")
    figure("sweep_walk_km", f"{plan.walk_km:.1f}")
    figure("sweep_hours", f"{plan.hours:.0f}")
    figure("sweep_team_hours_min", f"{min(t.hours for t in plan.teams):.1f}")
    figure("sweep_team_hours_max", f"{max(t.hours for t in plan.teams):.1f}")
    figure("sweep_days_max", max(t.day_count for t in plan.teams))
    figure("sweep_fallback_share", f"{plan.fallback_share:.3f}")
    figure("sweep_overlong", len(plan.overlong))
    figure("sweep_peak_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def prepare_database(connection: Any, size: str) -> None:
    """The scratch database with the demo city of ``size`` (``_setup.scratch_city``)."""
    loaded = scratch_city(connection, benchmark="routes", size=size)
    if loaded is not None:
        figure("sweep_load_s", f"{loaded:.0f}")


if __name__ == "__main__":
    main()
