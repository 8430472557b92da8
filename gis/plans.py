"""Cutting a room's floor plan in two: shapely only, in metres in the building's own frame.

Used by ``gis.services.split_room``; no Django here, so the geometry is tested on its own.
"""

from __future__ import annotations

import shapely
from shapely.geometry import LineString, Polygon, box
from shapely.ops import split

#: A part smaller than this (m²) is a sliver, not a room.
MIN_PART_M2 = 0.01
_BISECTIONS = 60


class CutError(ValueError):
    """The plan cannot be cut in two as asked; ``parts`` is how many pieces the cut gave."""

    def __init__(self, parts: int) -> None:
        self.parts = parts
        super().__init__(f"the cut gives {parts} part(s), not 2")


def _two_polygons(pieces: list[shapely.Geometry]) -> tuple[Polygon, Polygon]:
    """The two polygons of a cut, or :class:`CutError` with how many there are (slivers and
    lines left out)."""
    polygons = [
        part
        for piece in pieces
        for part in shapely.get_parts(piece)
        if isinstance(part, Polygon) and part.area >= MIN_PART_M2
    ]
    if len(polygons) != 2 or len(pieces) != 2:
        raise CutError(len(polygons))
    return polygons[0], polygons[1]


def cut_with_line(plan: Polygon, line: LineString) -> tuple[Polygon, Polygon]:
    """The two parts ``line`` cuts ``plan`` into: first the part on the line's left (walking
    from its first point to its last), then the other.

    Raises :class:`CutError` unless the line cuts the plan into exactly two parts of at least
    :data:`MIN_PART_M2` (a line that stops inside the plan, misses it, or crosses it more than
    once does not).

    >>> room = box(0, 0, 10, 4)
    >>> left, right = cut_with_line(room, LineString([(6, -1), (6, 5)]))
    >>> left.bounds, right.bounds
    ((0.0, 0.0, 6.0, 4.0), (6.0, 0.0, 10.0, 4.0))
    """
    first, second = _two_polygons(list(split(plan, line).geoms))
    # Far enough to cover the plan on the line's left side (flat ends, left for a positive
    # distance): the part that overlaps it more is the left one.
    x0, y0, x1, y1 = plan.bounds
    reach = 2 * ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 + 1
    left = line.buffer(reach, single_sided=True)
    if first.intersection(left).area < second.intersection(left).area:
        first, second = second, first
    return first, second


def halve(plan: Polygon) -> tuple[Polygon, Polygon]:
    """``plan`` cut across its longer side (of its bounding box) into two parts of equal area:
    first the western (or southern, for a plan longer north-south) part.

    Raises :class:`CutError` when a straight cut across gives more than two pieces (a U-shaped
    plan): draw the line instead.

    >>> a, b = halve(box(0, 0, 10, 4))
    >>> a.bounds, b.bounds
    ((0.0, 0.0, 5.0, 4.0), (5.0, 0.0, 10.0, 4.0))
    """
    x0, y0, x1, y1 = plan.bounds
    across_x = (x1 - x0) >= (y1 - y0)

    def parts(at: float) -> tuple[shapely.Geometry, shapely.Geometry]:
        if across_x:
            low, high = box(x0 - 1, y0 - 1, at, y1 + 1), box(at, y0 - 1, x1 + 1, y1 + 1)
        else:
            low, high = box(x0 - 1, y0 - 1, x1 + 1, at), box(x0 - 1, at, x1 + 1, y1 + 1)
        return plan.intersection(low), plan.intersection(high)

    lo, hi = (x0, x1) if across_x else (y0, y1)
    half = plan.area / 2
    for _ in range(_BISECTIONS):
        middle = (lo + hi) / 2
        if parts(middle)[0].area < half:
            lo = middle
        else:
            hi = middle
    return _two_polygons(list(parts((lo + hi) / 2)))
