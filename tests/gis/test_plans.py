"""Cutting a room's plan in two (``gis.plans``): shapely only, no database."""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, Polygon, box

from gis.plans import CutError, cut_with_line, halve

ROOM = box(0, 0, 10, 4)


@pytest.mark.parametrize(
    ("line", "first", "second"),
    [
        # Walking north along x = 6, the left (west) part comes first; walking south, the east.
        ([(6, -1), (6, 5)], (0, 0, 6, 4), (6, 0, 10, 4)),
        ([(6, 5), (6, -1)], (6, 0, 10, 4), (0, 0, 6, 4)),
        # A bent line: the two parts still come apart at it.
        ([(3, -1), (3, 2), (7, 2), (7, 5)], (0, 0, 7, 4), (3, 0, 10, 4)),
    ],
)
def test_cut_with_line_keeps_the_left_part_first(line, first, second):
    a, b = cut_with_line(ROOM, LineString(line))
    assert a.bounds == pytest.approx(first) and b.bounds == pytest.approx(second)
    assert a.area + b.area == pytest.approx(ROOM.area)


@pytest.mark.parametrize(
    ("line", "parts"),
    [
        ([(6, 1), (6, 3)], 1),  # stops inside the room
        ([(20, -1), (20, 5)], 1),  # misses it
        ([(0, 0), (10, 0)], 1),  # runs along a wall
        ([(3, -1), (3, 5), (7, 5), (7, -1)], 3),  # crosses it twice
    ],
)
def test_a_line_that_does_not_cut_in_two_is_refused(line, parts):
    with pytest.raises(CutError) as err:
        cut_with_line(ROOM, LineString(line))
    assert err.value.parts == parts


def test_a_sliver_is_not_a_part():
    with pytest.raises(CutError):
        cut_with_line(ROOM, LineString([(0.001, -1), (0.001, 5)]))


@pytest.mark.parametrize(
    ("plan", "first"),
    [
        (box(0, 0, 10, 4), (0, 0, 5, 4)),  # longer east-west: the western half
        (box(0, 0, 4, 10), (0, 0, 4, 5)),  # longer north-south: the southern half
    ],
)
def test_halve_cuts_across_the_longer_side(plan, first):
    a, b = halve(plan)
    assert a.bounds == pytest.approx(first)
    assert a.area == pytest.approx(b.area)


def test_halve_gives_equal_areas_for_any_shape():
    triangle = Polygon([(0, 0), (10, 0), (0, 4)])
    a, b = halve(triangle)
    assert a.area == pytest.approx(triangle.area / 2, rel=1e-9)
    assert a.union(b).area == pytest.approx(triangle.area)


def test_halve_refuses_a_plan_a_straight_cut_breaks_in_more_pieces():
    # A U open to the north, longer north-south: the cut across at mid-height meets both arms.
    u = Polygon([(0, 0), (4, 0), (4, 12), (3, 12), (3, 1), (1, 1), (1, 12), (0, 12)])
    with pytest.raises(CutError) as err:
        halve(u)
    assert err.value.parts == 3
