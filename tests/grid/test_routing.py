"""grid.routing: walking orders (fast-tsp) and splits among teams (PyVRP), no database."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import vrplib

from grid.routing import RoutingError, order_stops, split_among_depots, split_among_teams

HERE = Path(__file__).resolve().parent


def euclidean(xy: np.ndarray) -> np.ndarray:
    return np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))


def circle(n: int, radius: float = 100.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on a circle in shuffled order, and each point's position around it."""
    position = np.random.default_rng(seed).permutation(n)
    angle = 2 * np.pi * position / n
    return radius * np.column_stack([np.cos(angle), np.sin(angle)]), position


def is_around_circle(order: list[int], position: np.ndarray) -> bool:
    """Whether consecutive stops of the tour are neighbours on the circle (either direction)."""
    steps = {
        int((position[b] - position[a]) % len(position))
        for a, b in itertools.pairwise([*order, order[0]])
    }
    return steps in ({1}, {len(position) - 1})


def berlin52() -> np.ndarray:
    xy = vrplib.read_instance(HERE / "berlin52.tsp", compute_edge_weights=False)["node_coord"]
    return np.floor(euclidean(xy) + 0.5)  # TSPLIB's EUC_2D rounding


# --- order_stops --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [5, 8, 30, 120])
@pytest.mark.parametrize("radius", [1e-3, 100.0, 1e6])  # the scaling to integers, both ways
def test_closed_tour_on_a_circle_is_the_polygon(n: int, radius: float) -> None:
    xy, position = circle(n, radius)
    route = order_stops(euclidean(xy), start=3, end=3, time_limit_s=0.5)
    assert route.closed and route.order[0] == 3
    assert sorted(route.order) == list(range(n))
    assert is_around_circle(route.order, position)
    assert route.length == pytest.approx(2 * n * radius * np.sin(np.pi / n), rel=1e-9)


def test_closed_tour_of_a_grid_has_the_optimal_length() -> None:
    xy = np.array([(x, y) for x in range(6) for y in range(6)], dtype=float) * 10
    route = order_stops(euclidean(xy), start=0, end=0, time_limit_s=0.5)
    assert sorted(route.order) == list(range(36))
    assert route.length == pytest.approx(360.0)  # 36 unit steps: a Hamiltonian cycle of the grid


def test_open_path_on_a_line_walks_it_once() -> None:
    x = np.random.default_rng(2).permutation(40).astype(float)
    distances = np.abs(x[:, None] - x[None, :])
    leftmost, rightmost = int(np.argmin(x)), int(np.argmax(x))
    route = order_stops(distances, start=leftmost, time_limit_s=0.5)
    assert not route.closed
    assert [x[i] for i in route.order] == sorted(x)
    assert route.length == 39.0
    free = order_stops(distances, start=None, end=None, time_limit_s=0.5)
    assert free.length == 39.0 and {free.order[0], free.order[-1]} == {leftmost, rightmost}
    ending = order_stops(distances, start=None, end=leftmost, time_limit_s=0.5)
    assert ending.order[-1] == leftmost and ending.length == 39.0


def test_open_path_is_shorter_than_the_closed_tour_by_the_way_back() -> None:
    xy, _ = circle(20)
    distances = euclidean(xy)
    closed = order_stops(distances, start=0, end=0, time_limit_s=0.5)
    opened = order_stops(distances, start=0, time_limit_s=0.5)
    assert opened.order[0] == 0
    # The best path from a point on a circle drops one polygon side.
    assert opened.length == pytest.approx(closed.length * 19 / 20, rel=1e-9)


def test_path_with_both_ends_fixed() -> None:
    x = np.arange(12, dtype=float)
    distances = np.abs(x[:, None] - x[None, :])
    route = order_stops(distances, start=4, end=7, time_limit_s=0.5)
    assert route.order[0] == 4 and route.order[-1] == 7 and sorted(route.order) == list(range(12))
    assert route.length == 4 + 11 + 4  # 4 → 0, 0 → 11, 11 → 7 (the shortest such walk)


@pytest.mark.parametrize(
    ("xs", "start", "end", "order", "length"),
    [
        ([], None, None, [], 0.0),
        ([5.0], 0, None, [0], 0.0),
        ([5.0], 0, 0, [0], 0.0),
        ([0.0, 2.0], 1, None, [1, 0], 2.0),
        ([0.0, 2.0], 0, 0, [0, 1], 4.0),
        ([0.0, 4.0, 1.0], 0, None, [0, 2, 1], 4.0),
        ([0.0, 4.0, 1.0], 2, None, [2, 0, 1], 5.0),
        ([0.0, 4.0, 1.0], None, None, [0, 2, 1], 4.0),
        ([0.0, 4.0, 1.0], None, 0, [1, 2, 0], 4.0),
        ([0.0, 4.0, 1.0], 1, 1, [1, 0, 2], 8.0),
    ],
)
def test_tiny_inputs(xs: list[float], start, end, order: list[int], length: float) -> None:
    x = np.array(xs)
    route = order_stops(
        np.abs(x[:, None] - x[None, :]).reshape(len(x), len(x)), start=start, end=end
    )
    assert (route.order, route.length) == (order, length)


def test_berlin52_reaches_the_optimum() -> None:
    route = order_stops(berlin52(), start=0, end=0, time_limit_s=1.0)
    assert sorted(route.order) == list(range(52))
    assert 7542 <= route.length <= 7542 * 1.005  # optimal: 7542 (TSPLIB)


# --- split_among_teams --------------------------------------------------------------------------


def town(n: int = 60, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Integer distances between ``n`` points (0 the depot) and integer demands (depot 0)."""
    rng = np.random.default_rng(seed)
    distances = np.rint(euclidean(rng.random((n, 2)) * 1000))
    demands = rng.integers(1, 10, n).astype(float)
    demands[0] = 0
    return distances, demands


def served_once(split, n: int, depot: int = 0) -> bool:
    served = sorted(stop for route in split.routes for stop in route)
    return served == [i for i in range(n) if i != depot]


def test_split_with_a_hard_capacity() -> None:
    distances, demands = town()
    split = split_among_teams(distances, demands, teams=6, capacity=80, time_limit_s=1.0)
    assert len(split.routes) == 6 and served_once(split, 60)
    assert split.feasible and max(split.loads) <= 80
    assert split.loads == [demands[route].sum() for route in split.routes]
    lengths = [
        sum(distances[a, b] for a, b in zip([0, *route], [*route, 0], strict=True)) if route else 0
        for route in split.routes
    ]
    assert split.lengths == pytest.approx(lengths) and split.objective == pytest.approx(
        sum(lengths)
    )


@pytest.mark.parametrize("teams", [2, 4, 7])
def test_balanced_split_keeps_every_load_within_the_slack(teams: int) -> None:
    distances, demands = town()
    split = split_among_teams(
        distances, demands, teams=teams, capacity=None, balance_slack=0.05, time_limit_s=1.0
    )
    assert served_once(split, 60) and split.feasible
    mean = demands.sum() / teams
    assert split.capacity == pytest.approx(1.05 * mean)
    assert max(split.loads) <= 1.05 * mean


def test_balanced_by_work_with_service_times() -> None:
    distances, demands = town(80, seed=3)
    service = demands * 120  # rooms × 2 minutes, in the unit of the distances (metres ~ seconds)
    split = split_among_teams(
        distances, demands, teams=5, capacity=None, service_times=service, time_limit_s=3.0, seed=1
    )
    assert served_once(split, 80) and split.feasible
    assert split.work_limit is not None and max(split.works) <= split.work_limit
    assert max(split.works) / np.mean(split.works) <= 1.10  # the balance target
    assert split.works == pytest.approx(
        [
            length + service[route].sum()
            for length, route in zip(split.lengths, split.routes, strict=True)
        ]
    )


def test_open_routes_end_at_the_last_stop() -> None:
    distances, demands = town()
    closed = split_among_teams(distances, demands, teams=3, capacity=None, time_limit_s=1.0)
    opened = split_among_teams(
        distances, demands, teams=3, capacity=None, closed=False, time_limit_s=1.0
    )
    assert served_once(opened, 60)
    for route, length in zip(opened.routes, opened.lengths, strict=True):
        walk = [0, *route]
        assert length == pytest.approx(sum(distances[a, b] for a, b in itertools.pairwise(walk)))
    assert opened.objective < closed.objective


def test_split_is_deterministic_with_a_seed() -> None:
    distances, demands = town(40, seed=5)
    runs = [
        split_among_teams(
            distances, demands, teams=3, capacity=None, time_limit_s=60, max_iterations=300, seed=7
        )
        for _ in range(2)
    ]
    assert runs[0].routes == runs[1].routes and runs[0].objective == runs[1].objective


def test_split_of_a_depot_alone_and_non_zero_depot() -> None:
    empty = split_among_teams([[0.0]], [0.0], teams=2, capacity=None)
    assert empty.routes == [[], []] and empty.objective == 0.0
    distances, demands = town(20)
    demands[[0, 5]] = demands[[5, 0]]
    split = split_among_teams(distances, demands, teams=2, capacity=None, depot=5, time_limit_s=0.5)
    assert served_once(split, 20, depot=5)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code", "quoted"),
    [
        ({"distances": np.zeros((3, 2))}, "not_square", "(3, 2)"),
        ({"distances": [[0, -4], [-4, 0]]}, "bad_distance", "-4"),
        ({"distances": [[0, np.nan], [np.nan, 0]]}, "bad_distance", "nan"),
        ({"distances": [[0, 1], [2, 0]]}, "asymmetric", "= 2.0"),
        ({"start": 7}, "bad_index", "start = 7"),
        ({"end": -1}, "bad_index", "end = -1"),
        ({"time_limit_s": 0}, "bad_time_limit", "time_limit_s = 0"),
    ],
)
def test_order_stops_rejects_bad_input(kwargs: dict, code: str, quoted: str) -> None:
    call = {"distances": np.ones((3, 3)) - np.eye(3), **kwargs}
    with pytest.raises(
        RoutingError, match=quoted.replace("(", r"\(").replace(")", r"\)")
    ) as caught:
        order_stops(call.pop("distances"), **call)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("kwargs", "code", "quoted"),
    [
        ({"teams": 0}, "bad_teams", "teams = 0"),
        ({"capacity": 0}, "bad_capacity", "capacity = 0"),
        ({"demands": [0, 3, 12]}, "demand_too_large", "demand 12"),
        ({"demands": [0, 9, 9], "teams": 1}, "infeasible", "total demand 18"),
        ({"demands": [0, -1, 1]}, "bad_demand", "-1"),
        ({"demands": [0, 1]}, "bad_demand", "shape"),
        ({"demands": [2, 1, 1]}, "depot_demand", "demands\\[0\\] = 2"),
        ({"depot": 3}, "bad_index", "depot = 3"),
        ({"distances": [[0, 1], [1, 0]]}, "bad_demand", "one value per point"),
        ({"service_times": [0, 1, np.inf]}, "bad_demand", "inf"),
    ],
)
def test_split_rejects_bad_input(kwargs: dict, code: str, quoted: str) -> None:
    call = {
        "distances": np.ones((3, 3)) - np.eye(3),
        "demands": [0, 1, 1],
        "teams": 2,
        "capacity": 10,
        **kwargs,
    }
    with pytest.raises(RoutingError, match=quoted) as caught:
        split_among_teams(call.pop("distances"), call.pop("demands"), **call)
    assert caught.value.code == code
    assert isinstance(caught.value, ValueError)


# --- split_among_depots -------------------------------------------------------------------------


def four_towns(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four depots at the corners of a 1 km square (points 0–3), then 25 stops around each."""
    rng = np.random.default_rng(seed)
    corners = np.array([(0, 0), (1000, 0), (0, 1000), (1000, 1000)], dtype=float)
    stops = np.concatenate([c + rng.normal(0, 60, size=(25, 2)) for c in corners])
    service = np.r_[np.zeros(4), rng.uniform(5, 30, size=100)]
    return euclidean(np.concatenate([corners, stops])) / 70, service


def test_each_team_takes_the_town_of_its_own_depot() -> None:
    minutes, service = four_towns()
    split = split_among_depots(
        minutes, service, depots=[0, 1, 2, 3], time_limit_s=1.0, max_iterations=2_000
    )
    assert sorted(s for route in split.routes for s in route) == list(range(4, 104))
    for team, route in enumerate(split.routes):
        towns = {(stop - 4) // 25 for stop in route}
        assert team in towns
    assert split.feasible
    assert max(split.works) <= split.work_limit + 1e-6
    assert split.works == pytest.approx(
        [
            sum(minutes[a, b] for a, b in itertools.pairwise([t, *r])) + service[r].sum()
            for t, r in enumerate(split.routes)
        ]
    )


def test_shared_depot_and_start_work_balance_the_total() -> None:
    minutes, service = four_towns(1)
    start = [300.0, 0.0, 0.0, 0.0]
    split = split_among_depots(
        minutes, service, depots=[0, 0, 0, 0], start_work=start, time_limit_s=1.0
    )
    total = np.array(split.works) + start
    # The team that already has 300 minutes gets clearly less new work than the others.
    assert split.works[0] < min(split.works[1:]) - 100
    assert max(total) <= split.work_limit * 1.001


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"depots": []}, "bad_teams"),
        ({"depots": [200]}, "bad_index"),
        ({"depots": [4]}, "depot_demand"),
        ({"depots": [0], "start_work": [1.0, 2.0]}, "bad_demand"),
        ({"depots": [0], "balance_slack": -1}, "bad_slack"),
        ({"depots": [0], "time_limit_s": 0}, "bad_time_limit"),
    ],
)
def test_split_among_depots_rejects(kwargs: dict, code: str) -> None:
    minutes, service = four_towns()
    with pytest.raises(RoutingError) as error:
        split_among_depots(minutes, service, **kwargs)
    assert error.value.code == code
