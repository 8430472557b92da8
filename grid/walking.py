"""Walking distances between points over a street network (pure: shapely, numpy and scipy).

:func:`walking_matrix` answers "how far does one walk from building *i* to building *j*?" for
every pair, in metres, as the distance matrix that :mod:`grid.routing` orders and splits.

The network is the street centrelines, noded so that every crossing is a junction. Each point is
snapped to its nearest street (the perpendicular foot on the nearest piece); a walk is the straight
*access leg* from the point to its snap, the shortest way along the streets, and the other point's
access leg. Snapping a point splits its street piece ``(u, v)`` at offset ``t`` from ``u``; rather
than rebuilding the graph, the split is accounted for exactly: from the snap one reaches ``u`` after
``t`` metres and ``v`` after ``length - t``, and two snaps on the same piece are also
``|t_a - t_b|`` apart along it. Dijkstra (``scipy.sparse.csgraph``) runs from each junction that
ends a snapped piece.

Straight-line metres are used only where the network cannot answer: for a point farther than
``snap_limit_m`` from every street (all its pairs), and for two points whose streets are not
connected. Those pairs are flagged in :attr:`WalkingMatrix.fallback`.

Coordinates must be in metres (the metric SRID); junctions are matched to the centimetre.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring

__all__ = ["WalkingError", "WalkingMatrix", "walking_matrix", "walking_paths"]

#: Junction coordinates are matched after rounding to this many decimals of a metre.
_NODE_DECIMALS = 2


class WalkingError(ValueError):
    """Input whose walking distances cannot be computed; ``code`` names the kind of problem."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class WalkingMatrix:
    """Walking distances between ``points`` (metres) and how each was obtained.

    ``distances[i, j]``: metres, symmetric, zero on the diagonal, never below the straight line.
    ``snapped[i]``: point ``i`` lies within the snap limit of a street; ``access_m[i]`` its
    straight leg to that street (``nan`` when not snapped). ``fallback[i, j]``: the pair's
    distance is the straight line (an unsnapped point, or no connection between the two streets).
    """

    distances: NDArray[np.float64]
    snapped: NDArray[np.bool_]
    access_m: NDArray[np.float64]
    fallback: NDArray[np.bool_]
    nodes: int
    edges: int

    @property
    def points(self) -> int:
        return len(self.snapped)

    @property
    def fallback_pairs(self) -> int:
        """Unordered pairs of distinct points whose distance is the straight line."""
        return int(np.triu(self.fallback, k=1).sum())

    @property
    def fallback_share(self) -> float:
        pairs = self.points * (self.points - 1) // 2
        return self.fallback_pairs / pairs if pairs else 0.0


def _check_points(points: Iterable[shapely.Geometry]) -> NDArray[np.object_]:
    array = np.asarray(list(points), dtype=object)
    if array.ndim != 1 or len(array) == 0:
        raise WalkingError("No points to measure: give at least one point.", code="empty")
    kinds = shapely.get_type_id(array)
    bad = np.flatnonzero(kinds != shapely.GeometryType.POINT)
    if len(bad):
        raise WalkingError(
            f"Point {bad[0]} is {array[bad[0]]!r}, not a point: give building entrances or "
            "footprint points on surface.",
            code="not_point",
        )
    coords = shapely.get_coordinates(array)
    if len(coords) != len(array) or not np.isfinite(coords).all():
        bad_index = next(
            i for i, p in enumerate(array) if p.is_empty or not np.isfinite(p.coords[0]).all()
        )
        raise WalkingError(
            f"Point {bad_index} ({array[bad_index]!r}) is empty or not finite: every point needs "
            "real x and y in metres.",
            code="not_finite",
        )
    return array


def _street_pieces(streets: Iterable[shapely.Geometry], tolerance: float) -> NDArray[np.object_]:
    array = np.asarray(list(streets), dtype=object)
    if len(array) == 0:
        return np.empty(0, dtype=object)
    kinds = shapely.get_type_id(array)
    lines = (kinds == shapely.GeometryType.LINESTRING) | (
        kinds == shapely.GeometryType.MULTILINESTRING
    )
    bad = np.flatnonzero(~lines)
    if len(bad):
        raise WalkingError(
            f"Street {bad[0]} is {array[bad[0]]!r}, not a line: give street centrelines.",
            code="not_line",
        )
    coords = shapely.get_coordinates(array)
    if not np.isfinite(coords).all():
        raise WalkingError("A street has coordinates that are not finite.", code="not_finite")
    lines = shapely.force_2d(shapely.get_parts(array))
    lines = np.concatenate([lines, _connectors(lines, tolerance)])
    # A street end on another street (a T junction, or a connector's foot) lies on it only to
    # floating-point precision: snapping every line to all ends (1 mm) makes it a shared vertex.
    ends = shapely.multipoints(
        np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
    )
    lines = shapely.snap(lines, ends, 0.001)
    noded = shapely.node(shapely.multilinestrings(lines))
    pieces = shapely.get_parts(noded)
    return pieces[shapely.length(pieces) > 0]


def _connectors(lines: NDArray[np.object_], tolerance: float) -> NDArray[np.object_]:
    """Short lines joining each street end to the nearest other street within ``tolerance``
    metres that it does not already touch (a lane drawn a few metres short of the road)."""
    if tolerance <= 0 or len(lines) < 2:
        return np.empty(0, dtype=object)
    ends = np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
    owner = np.tile(np.arange(len(lines)), 2)
    end_index, line_index = shapely.STRtree(lines).query(
        ends, predicate="dwithin", distance=tolerance
    )
    keep = line_index != owner[end_index]
    end_index, line_index = end_index[keep], line_index[keep]
    if len(end_index) == 0:
        return np.empty(0, dtype=object)
    gap = shapely.distance(ends[end_index], lines[line_index])
    # The nearest other street per end; none for an end that already touches one.
    order = np.lexsort((gap, end_index))
    first = order[np.r_[True, end_index[order][1:] != end_index[order][:-1]]]
    first = first[gap[first] > 0.001]
    feet = shapely.line_interpolate_point(
        lines[line_index[first]],
        shapely.line_locate_point(lines[line_index[first]], ends[end_index[first]]),
    )
    return shapely.linestrings(
        np.stack(
            [shapely.get_coordinates(ends[end_index[first]]), shapely.get_coordinates(feet)],
            axis=1,
        )
    )


@dataclass(frozen=True)
class _Network:
    """The noded streets as a graph, and each point's snap onto it."""

    pieces: NDArray[np.object_]
    lengths: NDArray[np.float64]
    #: Junction index of each piece's first and last vertex, shape (pieces, 2).
    ends_node: NDArray[np.intp]
    #: The shortest piece between two junctions, as an undirected sparse graph.
    graph: csr_array
    #: Which piece each graph edge ``(u, v)`` with ``u < v`` is (the shortest of parallel ones).
    edge_piece: dict[tuple[int, int], int]
    nodes: int
    snapped: NDArray[np.bool_]
    access: NDArray[np.float64]
    piece_of: NDArray[np.intp]
    offset: NDArray[np.float64]


def _check_limit(snap_limit_m: float) -> None:
    if not (isinstance(snap_limit_m, (int, float)) and snap_limit_m >= 0):
        raise WalkingError(
            f"snap_limit_m={snap_limit_m!r}: give a non-negative number of metres.",
            code="bad_limit",
        )


def _network(
    pts: NDArray[np.object_],
    streets: Iterable[shapely.Geometry],
    snap_limit_m: float,
    junction_tolerance_m: float,
) -> _Network:
    pieces = _street_pieces(streets, junction_tolerance_m)
    n = len(pts)
    # Junctions: the pieces' end points, matched to the centimetre.
    ends = np.round(
        np.stack([shapely.get_coordinates(shapely.get_point(pieces, i)) for i in (0, -1)], axis=1)
        if len(pieces)
        else np.empty((0, 2, 2)),
        _NODE_DECIMALS,
    )
    keys, inverse = np.unique(ends.reshape(-1, 2), axis=0, return_inverse=True)
    ends_node = inverse.reshape(-1, 2)
    lengths = shapely.length(pieces)
    # The street graph: the shortest piece between two junctions (a sparse matrix would add up
    # parallel pieces), none from a junction to itself.
    u, v = np.sort(ends_node, axis=1).T
    keep = np.flatnonzero(u != v)
    order = keep[np.lexsort((lengths[keep], v[keep], u[keep]))]
    u, v, w = u[order], v[order], lengths[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    graph = csr_array((w[first], (u[first], v[first])), shape=(len(keys), len(keys)))
    edge_piece = {
        (int(a), int(b)): int(p) for a, b, p in zip(u[first], v[first], order[first], strict=True)
    }

    snapped = np.zeros(n, dtype=bool)
    access = np.full(n, np.nan)
    piece_of = np.full(n, -1)
    if len(pieces):
        tree = shapely.STRtree(pieces)
        (which, nearest), gap = tree.query_nearest(
            pts, max_distance=snap_limit_m, return_distance=True, all_matches=False
        )
        snapped[which] = True
        access[which] = gap
        piece_of[which] = nearest
    idx = np.flatnonzero(snapped)
    offset = np.zeros(n)
    if len(idx):
        offset[idx] = shapely.line_locate_point(pieces[piece_of[idx]], pts[idx])
    return _Network(
        pieces=pieces,
        lengths=lengths,
        ends_node=ends_node,
        graph=graph,
        edge_piece=edge_piece,
        nodes=len(keys),
        snapped=snapped,
        access=access,
        piece_of=piece_of,
        offset=offset,
    )


def walking_matrix(
    points: Iterable[shapely.Geometry],
    streets: Iterable[shapely.Geometry],
    *,
    snap_limit_m: float = 150.0,
    junction_tolerance_m: float = 10.0,
) -> WalkingMatrix:
    """Walking distances in metres between every pair of ``points`` over ``streets``.

    Parameters
    ----------
    points : sequence of shapely Point
        Building entrances, door plates or footprint points, in metres (the metric SRID).
    streets : sequence of shapely LineString or MultiLineString
        Street centrelines in the same SRID; they are noded, so crossings become junctions.
        None at all is allowed: every distance is then the straight line.
    snap_limit_m : float
        A point farther than this from every street is not snapped; its distances are straight.
    junction_tolerance_m : float
        A street end this close to another street it does not touch is joined to it by a short
        straight connector (a lane drawn a few metres short of the road); 0 joins nothing.

    Examples
    --------
    >>> grid = [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(0, 0), (0, 100)])]
    >>> m = walking_matrix([shapely.Point(50, 10), shapely.Point(10, 50)], grid)
    >>> float(m.distances[0, 1])
    120.0
    """
    _check_limit(snap_limit_m)
    pts = _check_points(points)
    net = _network(pts, streets, snap_limit_m, junction_tolerance_m)
    xy = shapely.get_coordinates(pts)
    straight = np.hypot(xy[:, 0, None] - xy[None, :, 0], xy[:, 1, None] - xy[None, :, 1])
    n = len(pts)
    snapped, access, piece_of, offset = net.snapped, net.access, net.piece_of, net.offset
    idx = np.flatnonzero(snapped)
    ends_node, lengths, graph = net.ends_node, net.lengths, net.graph

    distances = straight.copy()
    if len(idx):
        # Junction-to-junction distances among the ends of the snapped pieces (inf: unreached).
        ends_used, position = np.unique(ends_node[piece_of[idx]], return_inverse=True)
        between = dijkstra(graph, directed=False, indices=ends_used)[:, ends_used]
        between = np.minimum(between, between.T)
        start, end = position.reshape(-1, 2).T
        t = offset[idx]
        rest = lengths[piece_of[idx]] - t
        # From snap a to snap b through a's end (u or v) and b's end (u or v).
        to_end = (t, rest)
        node_of = (start, end)
        along_net = np.full((len(idx), len(idx)), np.inf)
        for ea in (0, 1):
            for eb in (0, 1):
                via = (
                    to_end[ea][:, None]
                    + between[node_of[ea][:, None], node_of[eb][None, :]]
                    + to_end[eb][None, :]
                )
                along_net = np.minimum(along_net, via)
        same_piece = piece_of[idx][:, None] == piece_of[idx][None, :]
        along_net = np.where(same_piece, np.minimum(along_net, np.abs(t[:, None] - t)), along_net)
        walk = access[idx][:, None] + along_net + access[idx][None, :]
        walk = np.minimum(walk, walk.T)
        distances[np.ix_(idx, idx)] = np.where(
            np.isfinite(walk),
            np.maximum(walk, straight[np.ix_(idx, idx)]),
            straight[np.ix_(idx, idx)],
        )
        reached = np.zeros((n, n), dtype=bool)
        reached[np.ix_(idx, idx)] = np.isfinite(walk)
    else:
        reached = np.zeros((n, n), dtype=bool)
    np.fill_diagonal(distances, 0.0)
    fallback = ~reached
    np.fill_diagonal(fallback, False)
    return WalkingMatrix(
        distances=distances,
        snapped=snapped,
        access_m=access,
        fallback=fallback,
        nodes=net.nodes,
        edges=len(net.pieces),
    )


def walking_paths(
    points: Iterable[shapely.Geometry],
    streets: Iterable[shapely.Geometry],
    legs: Iterable[tuple[int, int]],
    *,
    snap_limit_m: float = 150.0,
    junction_tolerance_m: float = 10.0,
) -> list[shapely.LineString]:
    """The line walked on each leg ``(i, j)`` from ``points[i]`` to ``points[j]`` over ``streets``.

    The same walk as :func:`walking_matrix` measures: the access leg to the street, the shortest
    way along the streets (reconstructed from Dijkstra's predecessors), the access leg to the
    other point; a straight segment where the matrix falls back to the straight line (a point
    not snapped, or no connection). Each line starts exactly at ``points[i]`` and ends exactly
    at ``points[j]``, in metres; what a team's route line on the map is made of. A leg from a
    point to itself is that point, twice (the matrix's 0).

    Dijkstra runs from the junctions around the legs' first points, a batch at a time, so that
    thousands of legs never hold a junction × junction array.

    Examples
    --------
    >>> grid = [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(0, 0), (0, 100)])]
    >>> [line] = walking_paths([shapely.Point(50, 10), shapely.Point(10, 50)], grid, [(0, 1)])
    >>> line.wkt
    'LINESTRING (50 10, 50 0, 0 0, 0 50, 10 50)'
    """
    _check_limit(snap_limit_m)
    pts = _check_points(points)
    pairs = np.asarray(list(legs), dtype=np.intp).reshape(-1, 2)
    n = len(pts)
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= n):
        bad = pairs[(pairs < 0).any(axis=1) | (pairs >= n).any(axis=1)][0]
        raise WalkingError(
            f"Leg {tuple(int(x) for x in bad)} names a point that is not there: give indices "
            f"from 0 to {n - 1}.",
            code="bad_leg",
        )
    net = _network(pts, streets, snap_limit_m, junction_tolerance_m)
    xy = shapely.get_coordinates(pts)
    lines: list[shapely.LineString] = [
        shapely.LineString([xy[a], xy[b]]) for a, b in pairs
    ]  # straight unless the streets answer below
    on_street = (
        np.flatnonzero(
            net.snapped[pairs[:, 0]] & net.snapped[pairs[:, 1]] & (pairs[:, 0] != pairs[:, 1])
        )
        if len(pairs)
        else np.empty(0, dtype=np.intp)
    )
    for batch in np.array_split(on_street, max(1, -(-len(on_street) // _PATH_BATCH))):
        if not len(batch):
            continue
        sources = np.unique(net.ends_node[net.piece_of[pairs[batch, 0]]])
        between, predecessors = dijkstra(
            net.graph, directed=False, indices=sources, return_predecessors=True
        )
        row = {int(s): k for k, s in enumerate(sources)}
        for leg in batch:
            a, b = (int(x) for x in pairs[leg])
            path = _leg_path(net, xy, a, b, between, predecessors, row)
            if path is not None:
                lines[leg] = path
    return lines


#: Legs whose Dijkstra runs are done together in :func:`walking_paths`.
_PATH_BATCH = 128


def _leg_path(
    net: _Network,
    xy: NDArray[np.float64],
    a: int,
    b: int,
    between: NDArray[np.float64],
    predecessors: NDArray[np.int32],
    row: dict[int, int],
) -> shapely.LineString | None:
    """The walk from snapped point ``a`` to snapped point ``b``; ``None`` when not connected."""
    pa, pb = int(net.piece_of[a]), int(net.piece_of[b])
    ta, tb = float(net.offset[a]), float(net.offset[b])
    la, lb = float(net.lengths[pa]), float(net.lengths[pb])
    best = np.inf
    choice: tuple[int, int] | None = None
    for ea, to_a in ((0, ta), (1, la - ta)):
        source = row[int(net.ends_node[pa, ea])]
        for eb, to_b in ((0, tb), (1, lb - tb)):
            cost = to_a + between[source, net.ends_node[pb, eb]] + to_b
            if cost < best:
                best, choice = cost, (ea, eb)
    if pa == pb and abs(ta - tb) <= best:
        middle = [_substring(net.pieces[pa], ta, tb)]
    elif choice is None or not np.isfinite(best):
        return None
    else:
        ea, eb = choice
        u, w = int(net.ends_node[pa, ea]), int(net.ends_node[pb, eb])
        middle = [_substring(net.pieces[pa], ta, 0.0 if ea == 0 else la)]
        hops: list[int] = [w]
        while hops[-1] != u:
            hops.append(int(predecessors[row[u], hops[-1]]))
        hops.reverse()
        for x, y in itertools.pairwise(hops):
            piece = net.edge_piece[(min(x, y), max(x, y))]
            coords = shapely.get_coordinates(net.pieces[piece])
            middle.append(coords if net.ends_node[piece, 0] == x else coords[::-1])
        middle.append(_substring(net.pieces[pb], 0.0 if eb == 0 else lb, tb))
    coords = np.concatenate([xy[a : a + 1], *middle, xy[b : b + 1]])
    keep = np.r_[True, np.any(np.diff(coords, axis=0) != 0, axis=1)]
    coords = coords[keep]
    if len(coords) < 2:
        coords = np.concatenate([coords, coords])
    return shapely.LineString(coords)


def _substring(line: shapely.LineString, start: float, end: float) -> NDArray[np.float64]:
    """Coordinates of ``line`` from ``start`` to ``end`` metres along it (backwards when
    ``end < start``)."""
    return shapely.get_coordinates(substring(line, start, end))
