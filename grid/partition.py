"""Automatic partition of an area into responsibility zones (pure: shapely, numpy, scipy).

The algorithm, in five steps:

1. **Assign buildings to zones by recursive bisection.** Buildings that overlap one another are
   first merged into one unit (so that no boundary can ever separate them). The units of a region
   that must become ``k`` zones are sorted along a cutting direction and cut where the cumulative
   workload reaches ``k1/k`` of the region's workload (``k1 = k // 2``); each side is split again
   into ``k1`` and ``k - k1`` zones. The cutting direction is the principal axis of the units'
   weighted centroids (cutting across the long side keeps the pieces compact). Any cut whose
   workload lies within ``balance_tolerance`` of a zone's mean from the ideal one is acceptable;
   among those the algorithm picks the one along a barrier (see below), else the one through the
   widest gap between buildings.
2. **Turn the assignment into a tiling.** Points are sampled on every building's outline
   (``sample_spacing_m``); their Voronoi cells, clipped to the area, are unioned per zone. Zone
   boundaries therefore run midway between buildings of different zones. The sampling leaves a
   small error where buildings of different zones nearly touch, so each zone then takes its own
   footprints whole and gives up the footprints of other zones: no building is cut, exactly.
3. **Make every zone one polygon.** A zone made of several parts keeps the part holding most of
   its workload; every other part (with the buildings in it) goes to the neighbouring zone with
   which it shares the longest boundary. This repeats until every zone is a single polygon.
4. **Rebalance.** Step 3 (and buildings too large for an exact cut) can leave a zone much heavier
   than the mean. While the heaviest zone is more than 5 % (or ``balance_tolerance``, if larger)
   above the mean, a unit (buildings merged in step 1) whose Voronoi cells touch a lighter
   neighbouring zone moves to it, with its cells less any other footprint, if the moved workload
   leaves both zones below the heavier one's old workload (so the sum of squared workloads falls
   and the largest never grows), both zones stay one polygon and compactness holds: the median
   Polsby–Popper stays at 0.45 or above (or within 0.02 of its value before step 4, when that
   was lower) and neither zone falls below 0.2 (or below its own, when that was lower). Units
   jutting out into the other zone (the largest share of their cell boundary on it) are tried
   first. The heaviest zone that can move does, so lighter zones make room for a heavy zone
   whose neighbours are full. At most ``8 × zones + 40`` moves.
5. **Compact.** Zone boundaries made of Voronoi cells meander around the buildings next to them.
   A unit most of whose cell boundary with other units lies on a neighbouring zone (it juts
   out) moves to that zone when this raises the two zones' summed Polsby–Popper, keeps both one
   polygon and each at 0.2 or above, and leaves the neighbour's workload at most the largest
   workload or 5 % (or ``balance_tolerance``) above the mean, whichever is higher. At most
   ``4 × zones + 40`` moves and ``12 × zones + 40`` tries; reported as ``buildings_compacted``.

**Barriers** (streets, compound walls) are used only when choosing a cut: among the balanced
cuts, in the principal direction and in the two dominant directions of the barriers (when the
points' extent in that direction is at least 3/4 of the largest one), the cut whose gap between
buildings holds the most barrier length (parallel to the cut, as a share of the cut's span) wins.
The zone boundary then runs midway between the buildings on either side of the gap, which for a
street lined with buildings on both sides is close to the street, but is not snapped onto it.

Guarantees: the zones tile the area (up to floating-point tolerance), no building is cut, every
zone holds at least one building (before island repair, which may only move whole parts; steps
4 and 5 never empty a zone), and every zone is a single :class:`shapely.Polygon` when the area is
one polygon. Balance and compactness are targets, not guarantees; both are measured in
:class:`PartitionReport`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

__all__ = [
    "Partition",
    "PartitionError",
    "PartitionReport",
    "partition_area",
    "polsby_popper",
]

#: Relative area under which an overlap between two buildings is ignored (touching walls).
_OVERLAP_EPS = 1e-6
#: Progress steps after the bisection's zones: tiling, whole buildings, contiguity, rebalancing,
#: compaction, report.
_LATER_STEPS = 6


class PartitionError(ValueError):
    """Input that cannot be partitioned; ``code`` names the kind of problem."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class PartitionReport:
    """Figures of a partition: one entry per zone in ``workloads`` and ``polsby_popper``."""

    workloads: tuple[float, ...]
    polsby_popper: tuple[float, ...]  # 4πA/P² per zone: 1 for a disc, 0.785 for a square
    buildings_cut: int  # buildings whose footprint lies in more than one zone
    area_error_m2: float  # |area of the union of the zones − area of the area|
    overlap_m2: float  # sum of the zone areas − area of their union
    parts_moved: int  # disconnected parts given to a neighbour in step 3
    buildings_moved: int  # boundary buildings (overlapping groups) moved by step 4, rebalancing
    buildings_compacted: int = 0  # boundary buildings (groups) moved by step 5, compaction

    @property
    def zones(self) -> int:
        return len(self.workloads)

    @property
    def max_mean(self) -> float:
        """The largest zone workload over the mean one (1 when there is no workload)."""
        mean = float(np.mean(self.workloads))
        return max(self.workloads) / mean if mean > 0 else 1.0

    @property
    def pp_median(self) -> float:
        return float(np.median(self.polsby_popper))


@dataclass(frozen=True)
class Partition:
    """The zones (polygons in the area's CRS), the zone index of every building and the report."""

    zones: list[shapely.Polygon]
    assignment: NDArray[np.int64]
    report: PartitionReport


def polsby_popper(geometries: Sequence[shapely.Geometry] | NDArray[np.object_]) -> NDArray:
    """Polsby–Popper compactness ``4πA / P²`` of each geometry (0 for an empty one).

    Examples
    --------
    >>> import shapely
    >>> float(polsby_popper([shapely.box(0, 0, 1, 1)])[0].round(3))
    0.785
    """
    geoms = np.asarray(geometries, dtype=object)
    area = shapely.area(geoms)
    perimeter = shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4 * np.pi * area / perimeter**2, 0.0)


def partition_area(
    area: shapely.Polygon | shapely.MultiPolygon,
    buildings: Sequence[shapely.Polygon] | NDArray[np.object_],
    weights: Sequence[float] | NDArray | None = None,
    *,
    zones: int | None = None,
    target_workload: float | None = None,
    barriers: Sequence[shapely.LineString | shapely.MultiLineString] | None = None,
    balance_tolerance: float = 0.02,
    sample_spacing_m: float = 4.0,
    tolerance_m: float = 0.5,
    rebalance: bool = True,
    compact: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Partition:
    """Split ``area`` into zones that tile it, each a single polygon, cutting no building.

    Parameters
    ----------
    area : Polygon or MultiPolygon of one part
        The area to split, in a projected CRS in metres.
    buildings : sequence of Polygon
        Footprints in the same CRS, each within the area (up to ``tolerance_m``).
    weights : sequence of float, optional
        Workload of each building (households, rooms); 1 each when omitted.
    zones : int, optional
        Number of zones, from 1 to the number of buildings.
    target_workload : float, optional
        Workload per zone instead of ``zones``: ``round(total / target_workload)`` zones (≥ 1).
    barriers : sequence of LineString, optional
        Streets, walls: lines that zone boundaries should preferably follow.
    balance_tolerance : float
        A cut is acceptable when its workload is within this share of one zone's mean workload
        from the ideal; the widest or best barrier-aligned acceptable cut is chosen.
    sample_spacing_m : float
        Spacing of the points sampled on footprints for the Voronoi tiling.
    tolerance_m : float
        How far a footprint may stick out of the area.
    rebalance : bool
        Whether step 4 moves boundary buildings from heavier to lighter zones when the heaviest
        is more than 5 % above the mean (see the module's documentation); without it, the zones
        are those of steps 1 to 3.
    compact : bool
        Whether step 5 makes the zones more compact: boundary buildings that jut out into a
        neighbouring zone move to it when that raises the two zones' summed Polsby–Popper,
        within the balance of step 4 (see the module's documentation).
    progress : callable, optional
        Called as ``progress(done, total)`` after each zone of step 1 is assigned and after each
        later step; ``total`` is the same in every call (the number of zones plus the later
        steps), ``done`` grows and the last call is ``(total, total)``.

    Returns
    -------
    Partition

    Raises
    ------
    PartitionError
        On bad input: no or both of ``zones``/``target_workload``, ``zones`` < 1 or more than the
        buildings, an empty, invalid or multi-part area, an invalid or empty footprint, a
        footprint outside the area, negative or misaligned weights.

    Examples
    --------
    >>> import shapely
    >>> area = shapely.box(0, 0, 100, 50)
    >>> houses = [shapely.box(x + 2, y + 2, x + 8, y + 8) for x in range(0, 100, 10)
    ...           for y in range(0, 50, 10)]
    >>> result = partition_area(area, houses, zones=2)
    >>> [round(z.area) for z in result.zones], result.report.buildings_cut
    ([2500, 2500], 0)
    """
    area_poly = _check_area(area)
    footprints = _check_buildings(buildings, area_poly, tolerance_m)
    weight = _check_weights(weights, len(footprints))
    n_zones = _zone_count(zones, target_workload, float(weight.sum()), len(footprints))

    unit_of, unit_xy, unit_weight = _merge_overlapping(footprints, weight)
    if n_zones > len(unit_weight):
        raise PartitionError(
            f"{n_zones} zones asked for but the {len(footprints)} buildings form only "
            f"{len(unit_weight)} separate groups (overlapping footprints stay together); "
            "ask for fewer zones",
            code="too_many_zones",
        )
    total_steps = n_zones + _LATER_STEPS
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total_steps)

    segments = _barrier_segments(barriers, area_poly)
    unit_zone = np.zeros(len(unit_weight), dtype=np.int64)
    balance_weight = unit_weight if unit_weight.sum() > 0 else np.ones_like(unit_weight)
    _bisect(
        np.arange(len(unit_weight)),
        n_zones,
        0,
        unit_xy,
        balance_weight,
        segments,
        balance_tolerance,
        unit_zone,
        step,
    )
    assignment = unit_zone[unit_of]

    geoms, cells = _tile(area_poly, footprints, assignment, n_zones, sample_spacing_m)
    step()
    geoms = _keep_buildings_whole(geoms, footprints, assignment, area_poly)
    step()
    geoms, assignment, moved = _make_contiguous(geoms, footprints, assignment, weight)
    step()
    units: list[_Units] = []

    def make_units() -> _Units:
        if not units:
            units.append(_Units(unit_of, weight, footprints, cells, area_poly))
        return units[0]

    moves = 0
    tolerance = max(balance_tolerance, 0.0)
    if rebalance:
        geoms, assignment, moves = _rebalance(geoms, assignment, weight, make_units, tolerance)
    step()
    compacting = 0
    if compact and n_zones > 1:
        geoms, assignment, compacting = _compact(geoms, assignment, weight, make_units, tolerance)
    step()
    report = _report(area_poly, geoms, footprints, weight, assignment, moved, moves, compacting)
    step()
    return Partition(zones=list(geoms), assignment=assignment, report=report)


# ---------------------------------------------------------------------------------------------
# Input checks


def _check_area(area: shapely.Geometry) -> shapely.Polygon:
    if area is None or not isinstance(area, shapely.Polygon | shapely.MultiPolygon):
        raise PartitionError(
            f"the area must be a Polygon, got {type(area).__name__}", code="area_type"
        )
    if not area.is_valid:
        raise PartitionError(
            f"the area is not a valid polygon ({shapely.is_valid_reason(area)}); "
            "repair it first (shapely.make_valid)",
            code="area_invalid",
        )
    if area.is_empty or area.area <= 0:
        raise PartitionError("the area is empty: give a polygon with an area", code="area_empty")
    if isinstance(area, shapely.MultiPolygon):
        if len(area.geoms) != 1:
            raise PartitionError(
                f"the area has {len(area.geoms)} separate parts; zones must be contiguous, "
                "so partition each part on its own",
                code="area_multipart",
            )
        return area.geoms[0]
    return area


def _check_buildings(
    buildings: Sequence[shapely.Polygon] | NDArray[np.object_],
    area: shapely.Polygon,
    tolerance_m: float,
) -> NDArray[np.object_]:
    footprints = np.asarray(buildings, dtype=object)
    if footprints.ndim != 1 or len(footprints) == 0:
        raise PartitionError("no buildings given: a zone needs buildings", code="no_buildings")
    for i, footprint in enumerate(footprints):
        if not isinstance(footprint, shapely.Polygon) or footprint.is_empty:
            raise PartitionError(
                f"building {i} is not a non-empty Polygon: {str(footprint)[:80]}",
                code="building_type",
            )
    bad = np.flatnonzero(~shapely.is_valid(footprints))
    if len(bad):
        raise PartitionError(
            f"building {bad[0]} is not a valid polygon "
            f"({shapely.is_valid_reason(footprints[bad[0]])}); repair it first "
            f"({len(bad)} invalid in all)",
            code="building_invalid",
        )
    zone_of_tolerance = shapely.buffer(area, tolerance_m)
    shapely.prepare(zone_of_tolerance)
    outside = np.flatnonzero(~shapely.covers(zone_of_tolerance, footprints))
    if len(outside):
        raise PartitionError(
            f"building {outside[0]} ({footprints[outside[0]].wkt[:80]}) is not inside the area "
            f"({len(outside)} such buildings); pass only the buildings of the area",
            code="building_outside",
        )
    return footprints


def _check_weights(weights: Sequence[float] | NDArray | None, count: int) -> NDArray:
    if weights is None:
        return np.ones(count)
    weight = np.asarray(weights, dtype=float)
    if weight.shape != (count,):
        raise PartitionError(
            f"{weight.size} weights for {count} buildings: give one weight per building",
            code="weights_length",
        )
    if not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise PartitionError("weights must be finite and not negative", code="weights_negative")
    return weight


def _zone_count(
    zones: int | None, target_workload: float | None, total: float, buildings: int
) -> int:
    if (zones is None) == (target_workload is None):
        raise PartitionError(
            "give either zones (a number of zones) or target_workload, not both or neither",
            code="zones_or_target",
        )
    if target_workload is not None:
        if not target_workload > 0:
            raise PartitionError(
                f"target_workload must be positive, got {target_workload}", code="target"
            )
        zones = min(buildings, max(1, round(total / target_workload)))
    if zones is None or int(zones) != zones or zones < 1:
        raise PartitionError(f"zones must be a whole number ≥ 1, got {zones}", code="zones")
    if zones > buildings:
        raise PartitionError(
            f"{zones} zones asked for but there are only {buildings} buildings; "
            "every zone needs at least one building",
            code="too_many_zones",
        )
    return int(zones)


# ---------------------------------------------------------------------------------------------
# Step 1: assignment


def _merge_overlapping(
    footprints: NDArray[np.object_], weight: NDArray
) -> tuple[NDArray[np.int64], NDArray, NDArray]:
    """Group footprints whose interiors overlap; the unit of each building, the units' centroids
    (area-weighted) and workloads."""
    n = len(footprints)
    left, right = shapely.STRtree(footprints).query(footprints, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.area(shapely.intersection(footprints[left], footprints[right]))
    smaller = np.minimum(shapely.area(footprints[left]), shapely.area(footprints[right]))
    linked = shared > _OVERLAP_EPS * smaller
    overlaps = coo_array((np.ones(int(linked.sum())), (left[linked], right[linked])), shape=(n, n))
    n_units, unit_of = connected_components(overlaps, directed=False)
    centroid = shapely.get_coordinates(shapely.centroid(footprints))
    mass = np.maximum(shapely.area(footprints), 1e-9)
    total_mass = np.bincount(unit_of, mass, n_units)
    unit_xy = np.column_stack(
        [np.bincount(unit_of, centroid[:, d] * mass, n_units) / total_mass for d in (0, 1)]
    )
    return unit_of.astype(np.int64), unit_xy, np.bincount(unit_of, weight, n_units)


def _barrier_segments(
    barriers: Sequence[shapely.Geometry] | None, area: shapely.Polygon
) -> NDArray | None:
    """Barrier lines within the area as segments of at most 10 m: rows (mid x, mid y, dx, dy)."""
    if not barriers:
        return None
    lines = shapely.intersection(np.asarray(barriers, dtype=object), area)
    lines = shapely.segmentize(lines[~shapely.is_empty(lines)], 10.0)
    coords, index = shapely.get_coordinates(shapely.get_parts(lines), return_index=True)
    # Consecutive coordinates of the same part form a segment.
    same = index[1:] == index[:-1]
    start, end = coords[:-1][same], coords[1:][same]
    if len(start) == 0:
        return None
    return np.column_stack([(start + end) / 2, end - start])


def _directions(xy: NDArray, w: NDArray, segments: NDArray | None) -> list[NDArray]:
    """Candidate cutting directions (unit vectors; points are sorted along them)."""
    mean = np.average(xy, axis=0, weights=w + 1e-12)
    centred = xy - mean
    cov = (centred * (w + 1e-12)[:, None]).T @ centred
    _, vectors = np.linalg.eigh(cov)
    principal = vectors[:, -1]
    if segments is None:
        return [principal]
    angle = np.arctan2(segments[:, 3], segments[:, 2]) % np.pi
    length = np.hypot(segments[:, 2], segments[:, 3])
    hist, edges = np.histogram(angle, bins=36, range=(0, np.pi), weights=length)
    top = (edges[np.argmax(hist)] + edges[np.argmax(hist) + 1]) / 2
    candidates = [principal]
    for theta in (top, top + np.pi / 2):
        candidates.append(np.array([np.cos(theta), np.sin(theta)]))
    extent = [np.ptp(xy @ d) for d in candidates]
    return [d for d, e in zip(candidates, extent, strict=True) if e >= 0.75 * max(extent)]


def _bisect(
    idx: NDArray,
    k: int,
    first_zone: int,
    xy: NDArray,
    weight: NDArray,
    segments: NDArray | None,
    tolerance: float,
    out: NDArray,
    step: Callable[[], None],
) -> None:
    """Assign zones ``first_zone … first_zone + k - 1`` to the units ``idx``; ``step()`` is called
    once per zone assigned."""
    if k == 1:
        out[idx] = first_zone
        step()
        return
    k1 = k // 2
    pts, w = xy[idx], weight[idx]
    total = float(w.sum())
    ideal = total * k1 / k
    best: tuple[tuple[float, float, float], NDArray, int] | None = None
    for direction in _directions(pts, w, segments):
        proj = pts @ direction
        order = np.argsort(proj, kind="stable")
        sorted_proj = proj[order]
        left_weight = np.cumsum(w[order])
        # c units on the left: c in [k1, n - (k - k1)].
        cuts = np.arange(k1, len(idx) - (k - k1) + 1)
        error = np.abs(left_weight[cuts - 1] - ideal)
        ok = cuts[error <= tolerance * total / k]
        if len(ok) == 0:
            ok = cuts[[int(np.argmin(error))]]
        gap = sorted_proj[ok] - sorted_proj[ok - 1]
        along = 0.0 * gap
        if segments is not None:
            along = _barrier_share(pts, direction, sorted_proj, ok, segments)
        # Barrier share in steps of 10 %, then the widest gap (to 10 cm), then the best balance.
        share, width = np.round(along, 1), np.round(gap, 1)
        pick = int(np.lexsort((-error[ok - k1], width, share))[-1])
        key = (float(share[pick]), float(width[pick]), -float(error[ok[pick] - k1]))
        if best is None or key > best[0]:
            best = (key, order, int(ok[pick]))
    if best is None:  # pragma: no cover - there is always at least one direction
        raise PartitionError("no cutting direction", code="direction")
    _, order, cut = best
    _bisect(idx[order[:cut]], k1, first_zone, xy, weight, segments, tolerance, out, step)
    _bisect(idx[order[cut:]], k - k1, first_zone + k1, xy, weight, segments, tolerance, out, step)


def _barrier_share(
    pts: NDArray, direction: NDArray, sorted_proj: NDArray, cuts: NDArray, segments: NDArray
) -> NDArray:
    """For each cut, the barrier length inside its gap, roughly parallel to the cut, over the
    span of the points across the cut direction."""
    normal = np.array([-direction[1], direction[0]])
    across = pts @ normal
    lo_n, hi_n = across.min(), across.max()
    span = max(hi_n - lo_n, 1e-9)
    mid_proj = segments[:, :2] @ direction
    mid_across = segments[:, :2] @ normal
    seg_len = np.hypot(segments[:, 2], segments[:, 3])
    parallel = np.abs(segments[:, 2:] @ normal) >= 0.7 * seg_len
    useful = parallel & (mid_across >= lo_n) & (mid_across <= hi_n)
    mid_proj, seg_len = mid_proj[useful], seg_len[useful]
    if len(mid_proj) == 0:
        return np.zeros(len(cuts))
    lo = sorted_proj[cuts - 1][:, None]
    hi = sorted_proj[cuts][:, None]
    inside = (mid_proj[None, :] > lo) & (mid_proj[None, :] < hi)
    return np.minimum((inside * seg_len[None, :]).sum(axis=1) / span, 1.0)


# ---------------------------------------------------------------------------------------------
# Step 2: tiling


def _tile(
    area: shapely.Polygon,
    footprints: NDArray[np.object_],
    assignment: NDArray[np.int64],
    n_zones: int,
    spacing_m: float,
) -> tuple[NDArray[np.object_], _Cells]:
    """Voronoi cells of points sampled on the footprints, unioned per zone, clipped to the area;
    also the cells themselves."""
    if n_zones == 1:
        empty = np.empty(0, dtype=np.int64)
        return np.array([area], dtype=object), _Cells(np.empty(0, object), empty, np.empty((0, 2)))
    rings = shapely.segmentize(shapely.get_exterior_ring(footprints), spacing_m)
    coords, owner = shapely.get_coordinates(rings, return_index=True)
    # Drop duplicate points (closing vertices, shared walls): the first owner keeps them.
    _, first = np.unique(np.round(coords, 3), axis=0, return_index=True)
    first.sort()
    coords, owner = coords[first], owner[first]
    # Evenly spaced collinear points are a degenerate input for GEOS's Voronoi diagram (it then
    # returns self-intersecting cells); a fixed 1 cm jitter breaks the degeneracy. The exact
    # footprints are restored afterwards (_keep_buildings_whole).
    coords = coords + np.random.default_rng(0).uniform(-0.01, 0.01, coords.shape)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(coords), extend_to=area, ordered=True)
    )
    if len(cells) != len(coords):  # pragma: no cover - GEOS merges only exact duplicates
        raise PartitionError("the Voronoi diagram lost points", code="voronoi")
    # Should a cell still be degenerate, repair it.
    invalid = ~shapely.is_valid(cells)
    cells[invalid] = shapely.make_valid(cells[invalid])
    cell_zone = assignment[owner]
    zones = np.empty(n_zones, dtype=object)
    for z in range(n_zones):
        zones[z] = shapely.union_all(cells[cell_zone == z])
    return shapely.intersection(zones, area), _Cells(cells, owner.astype(np.int64), coords)


@dataclass(frozen=True)
class _Cells:
    """The Voronoi cells of step 2, the building owning each, and their points."""

    cells: NDArray[np.object_]
    owner: NDArray[np.int64]
    points: NDArray

    def touching(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Pairs of cells that touch: their points share an edge of the Delaunay triangulation."""
        ends = shapely.get_coordinates(
            shapely.delaunay_triangles(shapely.multipoints(self.points), only_edges=True)
        )
        # The triangulation keeps the input coordinates, which the jitter made distinct.
        by_x = np.argsort(self.points[:, 0])
        found = np.clip(np.searchsorted(self.points[by_x, 0], ends[:, 0]), 0, len(by_x) - 1)
        index = by_x[found]
        same = np.all(self.points[index] == ends, axis=1).reshape(-1, 2).all(axis=1)
        index = index.reshape(-1, 2)[same]
        return index[:, 0], index[:, 1]


def _keep_buildings_whole(
    zones: NDArray[np.object_],
    footprints: NDArray[np.object_],
    assignment: NDArray[np.int64],
    area: shapely.Polygon,
) -> NDArray[np.object_]:
    """Each zone takes its own footprints whole and gives up those of other zones."""
    if len(zones) == 1:
        return zones
    clipped = shapely.intersection(footprints, area)
    tree = shapely.STRtree(clipped)
    fixed = zones.copy()
    for z in range(len(zones)):
        near = tree.query(zones[z], predicate="intersects")
        own = np.flatnonzero(assignment == z)
        others = near[assignment[near] != z]
        geom = shapely.union_all(np.concatenate([[zones[z]], clipped[own]]))
        if len(others):
            geom = shapely.difference(geom, shapely.union_all(clipped[others]))
        fixed[z] = _polygonal(geom)
    return fixed


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygons of a geometry (an intersection may leave lines and points)."""
    if isinstance(geom, shapely.Polygon | shapely.MultiPolygon):
        return geom
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon)]
    return shapely.MultiPolygon(parts) if parts else shapely.Polygon()


# ---------------------------------------------------------------------------------------------
# Step 3: contiguity


def _make_contiguous(
    zones: NDArray[np.object_],
    footprints: NDArray[np.object_],
    assignment: NDArray[np.int64],
    weight: NDArray,
) -> tuple[NDArray[np.object_], NDArray[np.int64], int]:
    zones = zones.copy()
    assignment = assignment.copy()
    points = shapely.point_on_surface(footprints)
    moved = 0
    for _ in range(10):
        pending = False
        for z in range(len(zones)):
            parts = shapely.get_parts(zones[z])
            if len(parts) <= 1:
                continue
            pending = True
            held = [
                np.flatnonzero(shapely.contains(part, points) & (assignment == z)) for part in parts
            ]
            # Keep the part with the most workload (then buildings, then area).
            keep = max(
                range(len(parts)),
                key=lambda i: (weight[held[i]].sum(), len(held[i]), parts[i].area),
            )
            zones[z] = parts[keep]
            for i, part in enumerate(parts):
                if i == keep:
                    continue
                workloads = np.bincount(assignment, weight, len(zones))
                target = _best_neighbour(part, zones, z, workloads if len(held[i]) else None)
                zones[target] = _polygonal(shapely.union(zones[target], part))
                assignment[held[i]] = target
                moved += 1
        if not pending:
            break
    return np.array([_single(z) for z in zones], dtype=object), assignment, moved


def _best_neighbour(
    part: shapely.Geometry, zones: NDArray[np.object_], own: int, workloads: NDArray | None
) -> int:
    """The zone (other than ``own``) to give ``part`` to: with ``workloads``, the least loaded
    of those sharing at least a tenth of the longest shared boundary; else the one sharing the
    longest boundary."""
    scale = max(np.sqrt(part.area), 1.0) * 1e-6 + 1e-6
    grown = shapely.buffer(part, scale)
    shared = shapely.area(shapely.intersection(grown, zones))
    shared[own] = -1
    if shared.max() <= 0:
        distance = shapely.distance(part, zones)
        distance[own] = np.inf
        return int(np.argmin(distance))
    if workloads is None:
        return int(np.argmax(shared))
    candidates = np.flatnonzero(shared >= 0.1 * shared.max())
    return int(candidates[np.argmin(workloads[candidates])])


def _single(geom: shapely.Geometry) -> shapely.Geometry:
    if isinstance(geom, shapely.MultiPolygon) and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom


# ---------------------------------------------------------------------------------------------
# Step 4: rebalancing

#: Step 4 runs while the largest workload is more than this share (or ``balance_tolerance``, if
#: larger) above the mean: each move costs some compactness, so it stops short of perfection.
_REBALANCE_ABOVE = 0.05
#: Step 4 makes at most this many moves per zone, plus _MOVES_EXTRA.
_MOVES_PER_ZONE = 8
_MOVES_EXTRA = 40
#: Compactness that step 4 may not go below: the median over zones (or, when it is lower to begin
#: with, the median at the start less _PP_SLACK); each zone's.
_PP_MEDIAN_TARGET = 0.45
_PP_SLACK = 0.02
_PP_FLOOR = 0.2
#: Boundary units tried per zone and per move.
_TRIES = 8
#: A moved zone must stay valid with its coordinates rounded to this grid (no near-degenerate
#: spikes).
_ROBUST_GRID_M = 1e-6


class _Units:
    """The units (groups of overlapping buildings) with their Voronoi cells, for step 4."""

    def __init__(
        self,
        unit_of: NDArray[np.int64],
        weight: NDArray,
        footprints: NDArray[np.object_],
        cells: _Cells,
        area: shapely.Polygon,
    ) -> None:
        n_units = int(unit_of.max()) + 1
        self.unit_of = unit_of
        self.weight = np.bincount(unit_of, weight, n_units)
        self.footprints = footprints
        self.clipped = shapely.intersection(footprints, area)
        self.points = shapely.point_on_surface(self.clipped)
        self.tree = shapely.STRtree(self.clipped)
        self.cells = cells.cells
        cell_unit = unit_of[cells.owner] if len(cells.owner) else cells.owner
        by_unit = np.argsort(cell_unit, kind="stable")
        bounds = np.searchsorted(cell_unit[by_unit], np.arange(n_units + 1))
        self._cells_of = [by_unit[bounds[u] : bounds[u + 1]] for u in range(n_units)]
        # Touching cells of different units, both ways: the longer the boundary two units share,
        # the more such pairs.
        touch_a, touch_b = cells.touching()
        a, b = cell_unit[touch_a], cell_unit[touch_b]
        a, b = a[a != b], b[a != b]
        self.touch_a = np.concatenate([a, b])
        self.touch_b = np.concatenate([b, a])
        self.touch_count = np.bincount(self.touch_a, minlength=n_units)
        pairs, count = np.unique(
            np.column_stack([self.touch_a, self.touch_b]), axis=0, return_counts=True
        )
        # Each pair of touching units once per direction, with its number of touching cells.
        self.pair_a, self.pair_b, self.pair_count = pairs[:, 0], pairs[:, 1], count
        self._regions: dict[int, shapely.Geometry] = {}

    def region(self, u: int) -> shapely.Geometry:
        """The unit's Voronoi cells and footprints, less the footprints of other units."""
        if u not in self._regions:
            members = np.flatnonzero(self.unit_of == u)
            own = shapely.union_all(
                np.concatenate([self.cells[self._cells_of[u]], self.clipped[members]])
            )
            near = self.tree.query(own, predicate="intersects")
            others = near[self.unit_of[near] != u]
            if len(others):
                own = shapely.difference(own, shapely.union_all(self.clipped[others]))
            self._regions[u] = own
        return self._regions[u]


@dataclass(frozen=True)
class _Move:
    unit: int
    source: int
    target: int
    source_geom: shapely.Polygon
    target_geom: shapely.Polygon
    pp: NDArray  # Polsby–Popper of the source and the target after the move


def _rebalance(
    zones: NDArray[np.object_],
    assignment: NDArray[np.int64],
    weight: NDArray,
    make_units: Callable[[], _Units],
    tolerance: float,
) -> tuple[NDArray[np.object_], NDArray[np.int64], int]:
    """Move whole units lying on a zone boundary from heavier to lighter zones.

    A move takes the unit's Voronoi cells (less other footprints) out of its zone and gives them
    to a neighbour; it is made only when both zones stay single polygons and the moved workload
    leaves both below the heavier zone's old workload, so the sum of squared workloads falls at
    each move and the largest never grows. The heaviest zone that can move does: when the
    heaviest cannot, lighter ones make room for it. Stops when the largest workload is within
    ``tolerance`` of the mean, when nothing can move, or after a fixed number of moves.
    """
    n = len(zones)
    workloads = np.bincount(assignment, weight, n)
    mean = float(workloads.mean())
    goal = (1 + max(tolerance, _REBALANCE_ABOVE)) * mean
    if n == 1 or mean <= 0 or workloads.max() <= goal:
        return zones, assignment, 0
    units = make_units()
    zones = zones.copy()
    assignment = assignment.copy()
    unit_zone = np.zeros(len(units.weight), dtype=np.int64)
    unit_zone[units.unit_of] = assignment
    pp = polsby_popper(zones)
    start = float(np.median(pp))
    floor = _PP_MEDIAN_TARGET if start >= _PP_MEDIAN_TARGET else start - _PP_SLACK
    moves = 0
    stuck: set[int] = set()  # zones with no move, until they or a neighbour change
    for _ in range(_MOVES_PER_ZONE * n + _MOVES_EXTRA):
        if workloads.max() <= goal:
            break
        move = None
        for z in np.argsort(-workloads, kind="stable"):
            if int(z) in stuck:
                continue
            move = _best_move(int(z), zones, workloads, unit_zone, pp, floor, units, mean)
            if move is not None:
                break
            stuck.add(int(z))
        if move is None:
            break
        for z in (move.source, move.target):
            stuck.discard(z)
            stuck.difference_update(_neighbours(z, unit_zone, units).tolist())
        zones[move.source], zones[move.target] = move.source_geom, move.target_geom
        pp[[move.source, move.target]] = move.pp
        unit_zone[move.unit] = move.target
        assignment[units.unit_of == move.unit] = move.target
        workloads[move.source] -= units.weight[move.unit]
        workloads[move.target] += units.weight[move.unit]
        moves += 1
    return zones, assignment, moves


def _neighbours(z: int, unit_zone: NDArray[np.int64], units: _Units) -> NDArray[np.int64]:
    """The zones whose units touch those of zone ``z``, the longest shared boundary first."""
    near = unit_zone[units.touch_b[unit_zone[units.touch_a] == z]]
    near = near[near != z]
    zones, count = np.unique(near, return_counts=True)
    return zones[np.argsort(-count, kind="stable")]


def _best_move(
    source: int,
    zones: NDArray[np.object_],
    workloads: NDArray,
    unit_zone: NDArray[np.int64],
    pp: NDArray,
    floor: float,
    units: _Units,
    mean: float,
) -> _Move | None:
    """A move of a unit of zone ``source`` to a neighbouring zone that leaves both workloads
    below the source's. Units are tried by the share of their boundary that they share with the
    other zone (moving a unit that juts out makes both zones more compact), at most ``_TRIES``
    of them; the first whose move keeps both zones one polygon, the median Polsby–Popper at
    ``floor`` or above and each zone's at 0.2 or above (or at its own, if it was lower already)
    is taken."""
    own = unit_zone == source
    if np.count_nonzero(own) < 2:
        return None
    across = own[units.touch_a] & (unit_zone[units.touch_b] != source)
    unit, target = units.touch_a[across], unit_zone[units.touch_b[across]]
    if len(unit) == 0:
        return None
    pairs, count = np.unique(np.column_stack([unit, target]), axis=0, return_counts=True)
    unit, target = pairs[:, 0], pairs[:, 1]
    w = units.weight[unit]
    fits = (w > 0) & (workloads[target] + w < workloads[source])
    if not np.any(fits):
        return None
    unit, target, w = unit[fits], target[fits], w[fits]
    share = count[fits] / units.touch_count[unit]
    gain = (workloads[source] - np.maximum(workloads[source] - w, workloads[target] + w)) / mean
    for pick in np.lexsort((-gain, -np.round(share, 1)))[:_TRIES]:
        u, t = int(unit[pick]), int(target[pick])
        move = _try_move(u, source, t, zones, unit_zone, units)
        if move is None:
            continue
        new_pp = polsby_popper([move[0], move[1]])
        after = pp.copy()
        after[[source, t]] = new_pp
        if new_pp.min() < min(_PP_FLOOR, pp[source], pp[t]) or np.median(after) < floor:
            continue
        return _Move(u, source, t, move[0], move[1], new_pp)
    return None


def _try_move(
    u: int, source: int, target: int, zones: NDArray[np.object_], unit_zone: NDArray, units: _Units
) -> tuple[shapely.Polygon, shapely.Polygon] | None:
    """The two zones after moving unit ``u``, or None when either would not be one polygon."""
    piece = shapely.intersection(units.region(u), zones[source])
    rest = [
        p
        for p in shapely.get_parts(shapely.difference(zones[source], piece))
        if isinstance(p, shapely.Polygon) and not p.is_empty
    ]
    if not rest:
        return None
    keep = max(rest, key=lambda p: p.area)
    staying = np.flatnonzero(
        (unit_zone[units.unit_of] == source)
        & (units.unit_of != u)
        & ~shapely.is_empty(units.points)
    )
    shapely.prepare(keep)
    if not np.all(shapely.contains(keep, units.points[staying])):
        return None  # the unit joins two parts of its zone
    # Slivers left by the difference go with the unit, so the zones still tile the area.
    given = shapely.union_all([piece, *(p for p in rest if p is not keep)])
    merged = _single(_polygonal(shapely.union(zones[target], given)))
    if not isinstance(merged, shapely.Polygon):
        return None
    # A piece meeting the area's outline at a grazing angle can leave a spike only nanometres
    # wide: valid here, but not once the zone is reprojected for storage.
    rounded = shapely.set_precision([keep, merged], _ROBUST_GRID_M, mode="pointwise")
    if not shapely.is_valid(rounded).all():
        return None
    return keep, merged


# ---------------------------------------------------------------------------------------------
# Step 5: compaction

#: Step 5 makes at most this many moves per zone, plus _MOVES_EXTRA, and tries at most
#: _COMPACT_TRIES_PER_ZONE times as many.
_COMPACT_MOVES_PER_ZONE = 4
_COMPACT_TRIES_PER_ZONE = 12
#: A unit is a candidate when at least this share of its cells' boundary with other units is
#: shared with the other zone (it juts out).
_COMPACT_SHARE = 0.5
#: A move is made when it raises the two zones' summed Polsby–Popper by at least this much.
_COMPACT_GAIN = 0.002


def _compact(
    zones: NDArray[np.object_],
    assignment: NDArray[np.int64],
    weight: NDArray,
    make_units: Callable[[], _Units],
    tolerance: float,
) -> tuple[NDArray[np.object_], NDArray[np.int64], int]:
    """Move units that jut out into a neighbouring zone to it, when that raises the summed
    Polsby–Popper of the two zones, keeps both one polygon and each at 0.2 or above (or its
    own, when lower), and leaves the neighbour's workload at most the largest workload or 5 %
    (or ``tolerance``) above the mean, whichever is higher: the largest workload never grows
    past that. The most jutting units are tried first."""
    n = len(zones)
    workloads = np.bincount(assignment, weight, n)
    mean = float(workloads.mean())
    if n == 1 or mean <= 0:
        return zones, assignment, 0
    cap = max(float(workloads.max()), (1 + max(tolerance, _REBALANCE_ABOVE)) * mean)
    units = make_units()
    zones = zones.copy()
    assignment = assignment.copy()
    unit_zone = np.zeros(len(units.weight), dtype=np.int64)
    unit_zone[units.unit_of] = assignment
    units_per_zone = np.bincount(unit_zone, minlength=n)
    pp = polsby_popper(zones)
    tries = _COMPACT_TRIES_PER_ZONE * n + _MOVES_EXTRA
    failed: set[tuple[int, int, int]] = set()  # (unit, source, target), until either changes
    moves = 0
    while moves < _COMPACT_MOVES_PER_ZONE * n + _MOVES_EXTRA and tries > 0:
        source_of, target_of = unit_zone[units.pair_a], unit_zone[units.pair_b]
        across = source_of != target_of
        # Per (unit, neighbouring zone): its cells touching that zone, as a share of all its
        # cells touching other units.
        key, index = np.unique(units.pair_a[across] * n + target_of[across], return_inverse=True)
        unit, target = key // n, key % n
        shared = np.bincount(index, units.pair_count[across], len(key))
        share = shared / np.maximum(units.touch_count[unit], 1)
        source = unit_zone[unit]
        fits = (
            (share >= _COMPACT_SHARE)
            & (workloads[target] + units.weight[unit] <= cap)
            & (units_per_zone[source] >= 2)
        )
        move = None
        for pick in np.flatnonzero(fits)[np.argsort(-share[fits], kind="stable")]:
            u, s, t = int(unit[pick]), int(source[pick]), int(target[pick])
            if (u, s, t) in failed:
                continue
            if tries <= 0:
                break
            tries -= 1
            geoms = _try_move(u, s, t, zones, unit_zone, units)
            new_pp = polsby_popper(geoms) if geoms is not None else None
            if (
                geoms is None
                or new_pp is None
                or new_pp.sum() < pp[s] + pp[t] + _COMPACT_GAIN
                or new_pp.min() < min(_PP_FLOOR, pp[s], pp[t])
            ):
                failed.add((u, s, t))
                continue
            move = _Move(u, s, t, geoms[0], geoms[1], new_pp)
            break
        if move is None:
            break
        zones[move.source], zones[move.target] = move.source_geom, move.target_geom
        pp[[move.source, move.target]] = move.pp
        unit_zone[move.unit] = move.target
        assignment[units.unit_of == move.unit] = move.target
        workloads[move.source] -= units.weight[move.unit]
        workloads[move.target] += units.weight[move.unit]
        units_per_zone[move.source] -= 1
        units_per_zone[move.target] += 1
        changed = {move.source, move.target}
        failed = {f for f in failed if not changed & {f[1], f[2]}}
        moves += 1
    return zones, assignment, moves


# ---------------------------------------------------------------------------------------------
# Report


def _report(
    area: shapely.Polygon,
    zones: NDArray[np.object_],
    footprints: NDArray[np.object_],
    weight: NDArray,
    assignment: NDArray[np.int64],
    moved: int,
    moves: int,
    compacting: int,
) -> PartitionReport:
    workloads = np.bincount(assignment, weight, len(zones))
    tree = shapely.STRtree(zones)
    b, z = tree.query(footprints, predicate="intersects")
    inside = shapely.area(shapely.intersection(footprints[b], zones[z]))
    counted = inside > 1e-6 * np.maximum(shapely.area(footprints[b]), 1e-6)
    zones_per_building = np.bincount(b[counted], minlength=len(footprints))
    union_area = shapely.union_all(zones).area
    return PartitionReport(
        workloads=tuple(float(x) for x in workloads),
        polsby_popper=tuple(float(x) for x in polsby_popper(zones)),
        buildings_cut=int(np.count_nonzero(zones_per_building > 1)),
        area_error_m2=float(abs(union_area - area.area)),
        overlap_m2=float(shapely.area(zones).sum() - union_area),
        parts_moved=moved,
        buildings_moved=moves,
        buildings_compacted=compacting,
    )
