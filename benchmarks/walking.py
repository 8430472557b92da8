"""Walking distances over the street network (``grid.walking``): time, fallbacks, and what they
change in a route.

One community of the generated city (``data.city``, `district` size; `demo` with --quick), in
memory, no database: the community whose building count is closest to 500, one point per building
(its footprint's point on surface) and the streets within 150 m of them, in metres. Printed:

- walking.points, walking.nodes, walking.edges, walking.time_s, walking.fallback_share (pairs
  whose distance is the straight line), walking.unsnapped (points farther than 150 m from a street);
- ratio: mean walking distance over mean straight-line distance (pairs of distinct points);
- route.walking_m and route.straight_m: 30 of those buildings (a fixed random sample) ordered into
  a closed tour by ``grid.routing.order_stops`` on the walking matrix and on the straight-line
  matrix, each tour's length measured in walking metres (what the team actually walks).

Usage: .venv/bin/python benchmarks/walking.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict

import numpy as np
import shapely
from _setup import ROOT, figure
from pyproj import Transformer

METRIC_SRID = 4546  # the demo city's Gauss-Krüger zone
TARGET_BUILDINGS = 500
TEAM_STOPS = 30
SNAP_LIMIT_M = 150.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the demo city")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from data.city.generate import generate
    from grid.routing import order_stops
    from grid.walking import walking_matrix

    size = "demo" if args.quick else "district"
    started = time.perf_counter()
    city = generate(size, metric_srid=METRIC_SRID)
    figure("city.size", size)
    figure("city.generate_s", f"{time.perf_counter() - started:.1f}")
    forward = Transformer.from_crs(4326, METRIC_SRID, always_xy=True)

    def metric(geoms: list) -> np.ndarray:
        return shapely.transform(
            np.asarray(geoms, dtype=object), forward.transform, interleaved=False
        )

    by_community: dict[str, list[int]] = defaultdict(list)
    for i, b in enumerate(city.buildings):
        by_community[city.compounds[b.compound].community].append(i)
    code, members = min(by_community.items(), key=lambda kv: abs(len(kv[1]) - TARGET_BUILDINGS))
    figure("walking.community", code)
    points = shapely.point_on_surface(metric([city.buildings[i].footprint for i in members]))
    streets = metric([s.line for s in city.streets])
    area = shapely.buffer(shapely.multipoints(points), SNAP_LIMIT_M, quad_segs=4)
    streets = streets[shapely.STRtree(streets).query(shapely.envelope(area), "intersects")]

    started = time.perf_counter()
    walk = walking_matrix(points, streets, snap_limit_m=SNAP_LIMIT_M)
    seconds = time.perf_counter() - started
    xy = shapely.get_coordinates(points)
    straight = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    off_diagonal = ~np.eye(len(points), dtype=bool)
    figure("walking.points", walk.points)
    figure("walking.streets", len(streets))
    figure("walking.nodes", walk.nodes)
    figure("walking.edges", walk.edges)
    figure("walking.time_s", f"{seconds:.2f}")
    figure("walking.fallback_share", f"{walk.fallback_share:.3f}")
    figure("walking.unsnapped", int((~walk.snapped).sum()))
    figure("walking.access_m_median", f"{np.nanmedian(walk.access_m):.1f}")
    ratio = walk.distances[off_diagonal].mean() / straight[off_diagonal].mean()
    figure("ratio", f"{ratio:.3f}")

    team = np.sort(np.random.default_rng(6).choice(len(points), TEAM_STOPS, replace=False))
    on_walk = walk.distances[np.ix_(team, team)]
    on_straight = straight[np.ix_(team, team)]
    for name, matrix in (("walking", on_walk), ("straight", on_straight)):
        route = order_stops(matrix, start=0, end=0, time_limit_s=1.0)
        legs = zip(route.order, [*route.order[1:], route.order[0]], strict=True)
        figure(f"route.{name}_m", f"{sum(on_walk[a, b] for a, b in legs):.0f}")


if __name__ == "__main__":
    main()
