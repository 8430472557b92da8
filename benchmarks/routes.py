"""Route solvers (``grid.routing``) on public TSPLIB and CVRPLIB instances: length, gap, time.

Usage: .venv/bin/python benchmarks/routes.py [FILE...] [--opt VALUE] [--quick] [--time-limit S]

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
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _setup import ROOT, figure
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help=".tsp or .vrp files")
    parser.add_argument(
        "--opt", type=float, help="optimum of the (one) file the script does not know"
    )
    parser.add_argument("--quick", action="store_true", help="the small instances, short limits")
    parser.add_argument("--time-limit", type=float, help="seconds per instance")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
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


if __name__ == "__main__":
    main()
