"""The automatic partition (``grid.partition``): tiling, contiguity, no cut building, balance."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from grid.partition import PartitionError, partition_area, polsby_popper

AREA = shapely.box(0, 0, 600, 400)


def regular_grid(columns: int = 30, rows: int = 20) -> list[shapely.Polygon]:
    """Houses of 12 × 10 m on a 20 × 20 m grid filling ``AREA``."""
    return [
        shapely.box(x * 20 + 4, y * 20 + 5, x * 20 + 16, y * 20 + 15)
        for x in range(columns)
        for y in range(rows)
    ]


def irregular_grid(seed: int) -> list[shapely.Polygon]:
    """Houses of random sizes and positions, some of them rotated, some missing."""
    rng = np.random.default_rng(seed)
    houses = []
    for x in range(30):
        for y in range(20):
            if rng.random() < 0.15:
                continue
            cx, cy = x * 20 + 10 + rng.uniform(-2, 2), y * 20 + 10 + rng.uniform(-2, 2)
            w, h = rng.uniform(4, 14), rng.uniform(4, 14)
            house = shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            houses.append(shapely.affinity.rotate(house, rng.uniform(0, 40)))
    return [house for house in houses if AREA.contains(house)]


def check_tiling(area: shapely.Polygon, result, buildings: list[shapely.Polygon]) -> None:
    zones = np.array(result.zones, dtype=object)
    assert all(isinstance(z, shapely.Polygon) and not z.is_empty for z in zones)
    assert shapely.union_all(zones).area == pytest.approx(area.area, rel=1e-9)
    assert shapely.area(zones).sum() == pytest.approx(area.area, rel=1e-9)
    # No building intersects two zones' interiors.
    footprints = np.array(buildings, dtype=object)
    for z, zone in enumerate(zones):
        inside = shapely.area(shapely.intersection(footprints, zone))
        own = result.assignment == z
        assert np.allclose(inside[own], shapely.area(footprints[own]), rtol=1e-9)
        assert np.all(inside[~own] < 1e-6)
    assert result.report.buildings_cut == 0
    assert result.report.overlap_m2 < 1e-3
    assert result.report.area_error_m2 < 1e-3


@pytest.mark.parametrize("zones", [2, 3, 5, 8, 13, 20])
def test_regular_grid_is_tiled_balanced_and_compact(zones: int) -> None:
    houses = regular_grid()
    result = partition_area(AREA, houses, zones=zones)
    check_tiling(AREA, result, houses)
    assert result.report.zones == zones
    assert result.report.max_mean <= 1.10
    assert result.report.pp_median >= 0.45


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("zones", [2, 7, 20])
def test_irregular_weighted_buildings(seed: int, zones: int) -> None:
    houses = irregular_grid(seed)
    weights = np.random.default_rng(seed).integers(1, 40, len(houses))
    result = partition_area(AREA, houses, weights, zones=zones)
    check_tiling(AREA, result, houses)
    workloads = np.bincount(result.assignment, weights, zones)
    assert result.report.workloads == pytest.approx(workloads.tolist())
    assert result.report.max_mean <= 1.10
    assert len(result.report.polsby_popper) == zones
    assert result.report.pp_median >= 0.45


@pytest.mark.parametrize(("target", "zones"), [(100, 6), (150, 4), (600, 1)])
def test_target_workload_sets_the_number_of_zones(target: float, zones: int) -> None:
    houses = regular_grid()
    result = partition_area(AREA, houses, zones=None, target_workload=target)
    assert result.report.zones == zones
    check_tiling(AREA, result, houses)


def test_irregular_area_and_barrier_streets() -> None:
    """An L-shaped area with two streets; overlapping and wall-sharing houses stay whole."""
    area = shapely.Polygon([(0, 0), (600, 0), (600, 200), (300, 200), (300, 400), (0, 400)])
    houses = [h for h in regular_grid() if area.contains(h)]
    houses += [shapely.box(1, 1, 3.5, 3.5), shapely.box(2, 2, 3.9, 3.9)]  # overlapping pair
    streets = [
        shapely.LineString([(0, 100), (600, 100)]),
        shapely.LineString([(150, 0), (150, 400)]),
    ]
    result = partition_area(area, houses, zones=6, barriers=streets)
    check_tiling(area, result, houses)
    assert result.assignment[-1] == result.assignment[-2]


def test_barrier_is_preferred_within_the_balance_window() -> None:
    """Two zones of a 30 × 20 grid: without a barrier the cut is the weighted median (x = 300);
    with a street at x = 280 (within the window) the zone boundary follows the gap at x = 280."""
    houses = regular_grid()
    street = [shapely.LineString([(280, 0), (280, 400)])]
    plain = partition_area(AREA, houses, zones=2, balance_tolerance=0.1)
    along = partition_area(AREA, houses, zones=2, barriers=street, balance_tolerance=0.1)
    assert plain.report.max_mean == pytest.approx(1.0)
    assert plain.zones[0].intersection(plain.zones[1]).centroid.x == pytest.approx(300, abs=1)
    assert along.zones[0].intersection(along.zones[1]).centroid.x == pytest.approx(280, abs=1)


def test_one_zone_is_the_area() -> None:
    result = partition_area(AREA, regular_grid(), zones=1)
    assert result.zones[0].equals_exact(AREA, 1e-9)
    assert result.report.max_mean == 1.0


def test_polsby_popper_of_a_square_and_a_strip() -> None:
    values = polsby_popper([shapely.box(0, 0, 1, 1), shapely.box(0, 0, 10, 1)])
    assert values == pytest.approx([np.pi / 4, 4 * np.pi * 10 / 22**2])


@pytest.mark.parametrize(
    ("area", "buildings", "options", "code", "match"),
    [
        (AREA, regular_grid(2, 2), {"zones": 0}, "zones", "whole number"),
        (AREA, regular_grid(2, 2), {"zones": 5}, "too_many_zones", "only 4 buildings"),
        (AREA, regular_grid(2, 2), {}, "zones_or_target", "either zones"),
        (
            AREA,
            regular_grid(2, 2),
            {"zones": 2, "target_workload": 3},
            "zones_or_target",
            "not both",
        ),
        (AREA, regular_grid(2, 2), {"target_workload": 0}, "target", "positive"),
        (shapely.Polygon(), regular_grid(2, 2), {"zones": 2}, "area_empty", "empty"),
        (
            shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]),
            regular_grid(1, 1),
            {"zones": 1},
            "area_invalid",
            "Self-intersection",
        ),
        (
            shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6)]),
            regular_grid(1, 1),
            {"zones": 1},
            "area_multipart",
            "2 separate parts",
        ),
        (AREA, [], {"zones": 1}, "no_buildings", "no buildings"),
        (AREA, [shapely.box(700, 0, 710, 10)], {"zones": 1}, "building_outside", "building 0"),
        (
            AREA,
            [shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])],
            {"zones": 1},
            "building_invalid",
            "building 0 is not a valid polygon",
        ),
        (AREA, [shapely.Point(1, 1)], {"zones": 1}, "building_type", "building 0"),
        (AREA, regular_grid(2, 2), {"zones": 1, "weights": [1, 2]}, "weights_length", "2 weights"),
        (
            AREA,
            regular_grid(2, 2),
            {"zones": 1, "weights": [1, 2, -1, 0]},
            "weights_negative",
            "negative",
        ),
    ],
)
def test_bad_input_raises_partition_error(area, buildings, options, code, match) -> None:
    options = dict(options)  # the parameter is shared between runs: do not pop from it
    weights = options.pop("weights", None)
    with pytest.raises(PartitionError, match=match) as caught:
        partition_area(area, buildings, weights, **options)
    assert caught.value.code == code


def test_overlapping_buildings_count_as_one_for_the_number_of_zones() -> None:
    houses = [shapely.box(0, 0, 10, 10), shapely.box(5, 5, 15, 15), shapely.box(50, 50, 60, 60)]
    with pytest.raises(PartitionError, match="only 2 separate groups") as caught:
        partition_area(AREA, houses, zones=3)
    assert caught.value.code == "too_many_zones"


def test_docstring_examples() -> None:
    import doctest

    import grid.partition

    results = doctest.testmod(grid.partition)
    assert results.attempted > 0 and results.failed == 0


@pytest.mark.parametrize("zones", [1, 7])
def test_progress_is_called_in_order_and_ends_at_the_total(zones: int) -> None:
    calls: list[tuple[int, int]] = []
    partition_area(AREA, regular_grid(), zones=zones, progress=lambda d, t: calls.append((d, t)))
    totals = {total for _, total in calls}
    assert len(totals) == 1
    total = totals.pop()
    assert total > zones
    assert [done for done, _ in calls] == list(range(1, total + 1))
    assert calls[-1] == (total, total)


# A 600 × 400 area with a 40 m wide slot cut from the top down to y = 100: the straight Voronoi
# boundaries of a zone across the slot are cut by the outline, step 3 gives the detached part to
# a neighbour, and that neighbour is then far heavier than the mean.
SLOTTED = shapely.difference(AREA, shapely.box(280, 100, 320, 400))


def test_rebalancing_moves_boundary_buildings_to_lighter_neighbours() -> None:
    houses = [h for h in regular_grid() if SLOTTED.contains(h)]
    weights = np.random.default_rng(5).integers(1, 6, len(houses))
    plain = partition_area(SLOTTED, houses, weights, zones=7, rebalance=False, compact=False)
    result = partition_area(SLOTTED, houses, weights, zones=7)
    assert plain.report.parts_moved > 0
    assert plain.report.max_mean > 1.12
    assert plain.report.buildings_moved == 0
    check_tiling(SLOTTED, result, houses)
    assert result.report.buildings_moved > 0
    assert result.report.max_mean <= 1.05
    assert result.report.pp_median >= 0.45
    workloads = np.bincount(result.assignment, weights, 7)
    assert result.report.workloads == pytest.approx(workloads.tolist())


def test_rebalancing_does_not_trade_compactness_below_the_target() -> None:
    """A U of two long arms into two zones: balancing fully would take one zone down an arm and
    into the base (median Polsby–Popper below 0.3); step 4 stops at 0.02 below the start."""
    area = shapely.difference(shapely.box(0, 0, 200, 600), shapely.box(60, 200, 140, 600))
    houses = [h for h in regular_grid(10, 30) if area.contains(h)]
    plain = partition_area(area, houses, zones=2, rebalance=False, compact=False)
    result = partition_area(area, houses, zones=2)
    check_tiling(area, result, houses)
    assert plain.report.max_mean > 1.4
    assert 0 < result.report.buildings_moved
    assert result.report.max_mean < plain.report.max_mean
    assert result.report.pp_median >= plain.report.pp_median - 0.02


@pytest.mark.parametrize("seed", [1, 3])
def test_compaction_raises_polsby_popper_and_keeps_the_tiling(seed: int) -> None:
    """Zones of irregular houses have jagged boundaries (Voronoi cells of their outlines): step 5
    moves jutting boundary buildings across, raising every zone pair's compactness it touches,
    cutting no building and keeping the largest workload within 5 % of the mean."""
    houses = irregular_grid(seed)
    weights = np.random.default_rng(seed).integers(1, 40, len(houses))
    plain = partition_area(AREA, houses, weights, zones=7, compact=False)
    result = partition_area(AREA, houses, weights, zones=7)
    check_tiling(AREA, result, houses)
    assert plain.report.buildings_compacted == 0
    assert result.report.buildings_compacted > 0
    assert result.report.pp_median >= plain.report.pp_median + 0.03
    assert sum(result.report.polsby_popper) > sum(plain.report.polsby_popper) + 0.2
    assert min(result.report.polsby_popper) >= min(0.2, *plain.report.polsby_popper)
    assert result.report.max_mean <= max(plain.report.max_mean, 1.05)
    workloads = np.bincount(result.assignment, weights, 7)
    assert result.report.workloads == pytest.approx(workloads.tolist())
