"""grid.walking: walking distances over hand-built street grids (no database), and
grid.sweep_input: the building points and streets read from PostGIS."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from django.contrib.gis.geos import LineString, Point

from gis.models import Building, DoorPlate, Street
from grid.sweep_input import building_points_and_streets
from grid.walking import WalkingError, walking_matrix, walking_paths


def grid_3x3(spacing: float = 100.0) -> list[shapely.LineString]:
    """Three east-west and three north-south streets, 0..2·spacing, crossing at 9 junctions
    (drawn as whole lines: the crossings are not vertices until noded)."""
    far = 2 * spacing
    rows = [shapely.LineString([(0, y), (far, y)]) for y in (0, spacing, far)]
    columns = [shapely.LineString([(x, 0), (x, far)]) for x in (0, spacing, far)]
    return rows + columns


def P(x: float, y: float) -> shapely.Point:
    return shapely.Point(x, y)


def test_manhattan_distances_on_a_grid() -> None:
    points = [P(50, 5), P(150, 195), P(55, -3), P(205, 100), P(100, 100)]
    m = walking_matrix(points, grid_3x3())
    # Access legs 5, 5, 3, 5, 0; snaps (50,0), (150,200), (55,0), (200,100), (100,100)
    # (a junction).
    expected = np.array(
        [
            [0, 5 + 300 + 5, 5 + 5 + 3, 5 + 250 + 5, 5 + 150],
            [310, 0, 3 + 295 + 5, 5 + 150 + 5, 5 + 150],
            [13, 303, 0, 3 + 245 + 5, 3 + 145],
            [260, 160, 253, 0, 5 + 100],
            [155, 155, 148, 105, 0],
        ],
        dtype=float,
    )
    assert m.distances == pytest.approx(expected)
    assert m.snapped.all()
    assert not m.fallback.any()
    assert m.access_m == pytest.approx([5, 5, 3, 5, 0])
    assert (m.nodes, m.edges) == (9, 12)


def test_two_points_on_the_same_street_piece_walk_along_it() -> None:
    m = walking_matrix([P(20, 4), P(80, -4)], grid_3x3())
    assert m.distances[0, 1] == pytest.approx(4 + 60 + 4)


def test_a_point_beyond_the_snap_limit_falls_back_to_the_straight_line() -> None:
    points = [P(50, 5), P(100, 400), P(150, 195)]
    m = walking_matrix(points, grid_3x3(), snap_limit_m=150)
    assert m.snapped.tolist() == [True, False, True]
    assert np.isnan(m.access_m[1])
    assert m.distances[0, 1] == pytest.approx(np.hypot(50, 395))
    assert m.distances[1, 2] == pytest.approx(np.hypot(50, 205))
    assert m.distances[0, 2] == pytest.approx(310)
    assert m.fallback.astype(int).tolist() == [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    assert m.fallback_pairs == 2
    assert m.fallback_share == pytest.approx(2 / 3)
    # A larger limit snaps it to the top street (200 m away) and walks.
    wide = walking_matrix(points, grid_3x3(), snap_limit_m=250)
    assert wide.snapped.all()
    assert wide.distances[1, 2] == pytest.approx(200 + 50 + 5)


def test_disconnected_streets_fall_back_only_between_components() -> None:
    island = [
        shapely.LineString([(1000, 0), (1000, 100)]),
        shapely.LineString([(950, 50), (1050, 50)]),
    ]
    points = [P(50, 5), P(150, 195), P(1005, 20), P(990, 60)]
    m = walking_matrix(points, grid_3x3() + island)
    assert m.snapped.all()
    assert m.distances[0, 1] == pytest.approx(310)
    # On the island: (1000,20) → (1000,50) → (990,50): 30 + 10, plus legs 5 and 10.
    assert m.distances[2, 3] == pytest.approx(5 + 30 + 10 + 10)
    assert m.distances[0, 2] == pytest.approx(np.hypot(955, 15))
    assert m.fallback[:2, 2:].all() and m.fallback[2:, :2].all()
    assert not m.fallback[:2, :2].any() and not m.fallback[2:, 2:].any()


def test_no_streets_at_all_gives_straight_lines() -> None:
    m = walking_matrix([P(0, 0), P(3, 4)], [])
    assert m.distances.tolist() == [[0, 5], [5, 0]]
    assert not m.snapped.any()
    assert m.fallback_pairs == 1


def test_symmetric_zero_diagonal_above_straight_line_and_triangle() -> None:
    rng = np.random.default_rng(6)
    xy = rng.uniform(-20, 220, size=(40, 2))
    streets = [*grid_3x3(), shapely.LineString([(0, 0), (200, 200)])]
    m = walking_matrix([P(x, y) for x, y in xy], streets)
    d = m.distances
    straight = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert np.array_equal(d, d.T)
    assert np.all(np.diag(d) == 0)
    assert np.all(d >= straight - 1e-9)
    assert m.snapped.all() and not m.fallback.any()
    for i, j, k in itertools.permutations(range(0, 40, 3), 3):
        assert d[i, k] <= d[i, j] + d[j, k] + 1e-9
    # The diagonal street makes some walks shorter than on the grid alone.
    grid_only = walking_matrix([P(x, y) for x, y in xy], grid_3x3()).distances
    assert np.any(d < grid_only - 1)


# --- walking_paths ------------------------------------------------------------------------------


def test_path_follows_the_streets_and_has_the_matrix_length() -> None:
    points = [P(50, 5), P(150, 195), P(105, 60)]
    streets = grid_3x3()
    legs = [(0, 1), (1, 2), (2, 0), (0, 0)]
    lines = walking_paths(points, streets, legs)
    m = walking_matrix(points, streets)
    for (a, b), line in zip(legs, lines, strict=True):
        assert line.coords[0] == points[a].coords[0]
        assert line.coords[-1] == points[b].coords[0]
        assert line.length == pytest.approx(m.distances[a, b])
    # Every vertex between the two access legs lies on a street.
    network = shapely.union_all(streets)
    for line in lines[:3]:
        inner = shapely.points(shapely.get_coordinates(line)[1:-1])
        assert all(shapely.distance(inner, network) < 1e-6)
    assert lines[0].length == pytest.approx(310)  # 5 + 50 + 200 + 50 + 5
    assert lines[3].length == 0
    # Same street piece: straight along it.
    assert walking_paths([P(10, 3), P(90, -4)], streets, [(0, 1)])[0].equals_exact(
        shapely.LineString([(10, 3), (10, 0), (90, 0), (90, -4)]), 1e-9
    )


def test_path_turns_at_the_junction() -> None:
    [line] = walking_paths([P(50, 10), P(10, 150)], grid_3x3(), [(0, 1)])
    assert line.equals_exact(
        shapely.LineString([(50, 10), (50, 0), (0, 0), (0, 100), (0, 150), (10, 150)]), 1e-9
    )


def test_path_is_straight_where_the_matrix_falls_back() -> None:
    island = [shapely.LineString([(1000, 0), (1000, 100)])]
    points = [P(50, 5), P(1005, 20), P(500, 500)]
    lines = walking_paths(points, grid_3x3() + island, [(0, 1), (0, 2), (2, 1)])
    for (a, b), line in zip([(0, 1), (0, 2), (2, 1)], lines, strict=True):
        assert line.equals_exact(shapely.LineString([points[a], points[b]]), 1e-9)
    assert walking_paths(points, [], [(1, 0)])[0].length == pytest.approx(np.hypot(955, 15))


def test_paths_in_many_batches_match_the_matrix() -> None:
    rng = np.random.default_rng(3)
    points = [P(x, y) for x, y in rng.uniform(0, 200, size=(300, 2))]
    legs = [(int(a), int(b)) for a, b in rng.integers(0, 300, size=(400, 2))]
    streets = [*grid_3x3(), shapely.LineString([(0, 0), (200, 200)])]
    m = walking_matrix(points, streets)
    lines = walking_paths(points, streets, legs)
    lengths = np.array([line.length for line in lines])
    expected = np.array([m.distances[a, b] for a, b in legs])
    assert lengths == pytest.approx(expected, abs=1e-6)


def test_bad_leg() -> None:
    with pytest.raises(WalkingError, match="not there") as error:
        walking_paths([P(0, 0)], [], [(0, 1)])
    assert error.value.code == "bad_leg"


@pytest.mark.parametrize(
    ("points", "streets", "code"),
    [
        ([], [], "empty"),
        ([P(0, 0), shapely.LineString([(0, 0), (1, 1)])], [], "not_point"),
        ([P(0, 0), P(float("nan"), 1)], [], "not_finite"),
        ([P(0, 0), shapely.Point()], [], "not_finite"),
        ([P(0, 0)], [shapely.Polygon([(0, 0), (1, 0), (1, 1)])], "not_line"),
    ],
)
def test_bad_input_is_refused_with_a_code(points: list, streets: list, code: str) -> None:
    with pytest.raises(WalkingError) as error:
        walking_matrix(points, streets)
    assert error.value.code == code


def test_a_negative_snap_limit_is_refused() -> None:
    with pytest.raises(WalkingError, match="snap_limit_m=-1"):
        walking_matrix([P(0, 0)], [], snap_limit_m=-1)


@pytest.mark.django_db
def test_reader_uses_door_plates_else_points_on_surface(territory) -> None:
    home = territory.home_building  # footprint box 112.111–112.112 E, 32.011–32.012 N
    DoorPlate.objects.create(
        building=home,
        district="樊城区",
        street_office="汉江街道",
        community="人民路社区",
        address="人民路1号",
        location=Point(112.1105, 32.0105, srid=4326),
    )
    Street.objects.create(
        name="人民路",
        kind="local",
        district=territory.office.district,
        centerline=LineString((112.110, 32.010), (112.113, 32.010), srid=4326),
    )
    Street.objects.create(
        name="远路",
        kind="local",
        district=territory.office.district,
        centerline=LineString((112.140, 32.040), (112.141, 32.040), srid=4326),
    )
    read = building_points_and_streets(
        Building.objects.filter(pk__in=[home.pk, territory.away_building.pk])
    )
    assert read.building_ids.tolist() == sorted([home.pk, territory.away_building.pk])
    plate = Point(112.1105, 32.0105, srid=4326).transform(4546, clone=True)
    away = territory.away_building.centroid.transform(4546, clone=True)
    first, second = (0, 1) if home.pk < territory.away_building.pk else (1, 0)
    assert read.points[first].equals_exact(shapely.Point(plate.x, plate.y), 0.01)
    assert read.points[second].equals_exact(shapely.Point(away.x, away.y), 0.01)
    # The near street only (the far one is 3 km away), in metres.
    assert len(read.streets) == 1
    assert read.streets[0].length == pytest.approx(283, abs=2)
    m = walking_matrix(read.points, read.streets)
    assert m.snapped.tolist() == ([True, False] if first == 0 else [False, True])


def test_a_lane_drawn_short_of_the_road_is_joined_by_a_connector() -> None:
    road = shapely.LineString([(0, 0), (200, 0)])
    lane = shapely.LineString([(100, 7), (100, 107)])  # ends 7 m short of the road
    points = [P(20, -5), P(95, 100)]
    m = walking_matrix(points, [road, lane])
    # (20,0) → (100,0) → connector 7 → lane up to (100,100); legs 5 and 5.
    assert m.distances[0, 1] == pytest.approx(5 + 80 + 7 + 93 + 5)
    assert not m.fallback.any()
    apart = walking_matrix(points, [road, lane], junction_tolerance_m=0)
    assert apart.fallback[0, 1]
    assert apart.distances[0, 1] == pytest.approx(np.hypot(75, 105))
    near = walking_matrix(points, [road, lane], junction_tolerance_m=5)
    assert near.fallback[0, 1]
