"""grid.sweep_plan: a sweep split among teams, walked in order, cut into days (no database; the
real solvers, with short time limits)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely

from grid import sweep_plan
from grid.sweep_plan import (
    SweepPlanError,
    SweepPlanResult,
    leg_walks,
    order_team,
    plan_sweep,
    plan_team,
    split_days,
)
from grid.walking import walking_matrix


def street_grid(size: float = 2000.0, spacing: float = 100.0) -> list[shapely.LineString]:
    ticks = np.arange(0, size + spacing / 2, spacing)
    rows = [shapely.LineString([(0, y), (size, y)]) for y in ticks]
    columns = [shapely.LineString([(x, 0), (x, size)]) for x in ticks]
    return rows + columns


def P(x: float, y: float) -> shapely.Point:
    return shapely.Point(x, y)


CORNERS = [(300.0, 300.0), (1700.0, 300.0), (300.0, 1700.0), (1700.0, 1700.0)]


def four_towns(per_town: int, seed: int = 0) -> tuple[list[shapely.Point], np.ndarray, np.ndarray]:
    """``per_town`` buildings around each corner of a 2 km street grid (town of each), work of
    1–8 rooms × 6 minutes."""
    rng = np.random.default_rng(seed)
    xy = np.concatenate([rng.normal(c, 150, size=(per_town, 2)) for c in CORNERS])
    xy = np.clip(xy, 5, 1995)
    work = rng.integers(1, 9, size=len(xy)) * 6.0
    return [P(x, y) for x, y in xy], work, np.repeat(np.arange(4), per_town)


def check_plan(
    result: SweepPlanResult, n: int, depots: list[shapely.Point], day_min: float
) -> None:
    """What every plan must be: each stop once, days within the budget, lines through the stops."""
    served = sorted(s for team in result.teams for s in team.stops)
    assert served == list(range(n))
    for team in result.teams:
        assert len(team.day) == len(team.walk_m) == len(team.fallback) == len(team.stops)
        assert team.day == sorted(team.day)
        assert [d.day for d in team.days] == list(range(1, team.day_count + 1))
        assert sum(d.stops for d in team.days) == len(team.stops)
        assert team.walk_total_m == pytest.approx(sum(team.walk_m))
        if team.days:  # the walk starts at the team's own station
            assert team.days[0].line.coords[0] == depots[team.team].coords[0]
        for d in team.days:
            assert d.total_min <= day_min + 1e-9 or d.stops == 1
            assert d.total_min == pytest.approx(d.walk_min + d.service_min)


# --- the whole sweep -----------------------------------------------------------------------------


def test_balanced_split_of_four_towns_each_team_in_its_own() -> None:
    points, work, town = four_towns(40)
    depots = [P(*c) for c in CORNERS]
    result = plan_sweep(
        points, work, depots, streets=street_grid(), time_limit_s=1.5, day_minutes=240
    )
    assert result.method == "direct"
    check_plan(result, len(points), depots, 240)
    assert result.max_mean <= 1.10
    hours = [team.hours for team in result.teams]
    assert max(hours) / np.mean(hours) == pytest.approx(result.max_mean)
    assert result.fallback_share == 0.0
    for team in result.teams:  # each team walks its own town, from its own station
        assert np.mean(town[team.stops] == team.team) > 0.9
        assert team.days[0].line.coords[0] == depots[team.team].coords[0]


def test_unbalanced_towns_are_balanced_by_moving_work() -> None:
    """Twice as many buildings around one station: the others take part of its town."""
    points, work, _ = four_towns(30, seed=2)
    rng = np.random.default_rng(5)
    extra = np.clip(rng.normal(CORNERS[0], 150, size=(90, 2)), 5, 1995)
    points += [P(x, y) for x, y in extra]
    work = np.r_[work, rng.integers(1, 9, size=90) * 6.0]
    depots = [P(*c) for c in CORNERS]
    result = plan_sweep(points, work, depots, streets=street_grid(), time_limit_s=1.5)
    check_plan(result, len(points), depots, 360)
    assert result.max_mean <= 1.10


def test_clustered_split_when_the_sweep_is_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep_plan, "DIRECT_MAX_STOPS", 100)
    monkeypatch.setattr(sweep_plan, "STOPS_PER_CLUSTER", 10)
    points, work, town = four_towns(100, seed=3)
    depots = [P(*c) for c in CORNERS]
    steps: list[tuple[int, int]] = []
    result = plan_sweep(
        points,
        work,
        depots,
        streets=street_grid(),
        time_limit_s=2.0,
        order_time_s=0.3,
        progress=lambda done, total: steps.append((done, total)),
    )
    assert result.method == "clustered" and 32 <= result.clusters <= 40
    check_plan(result, len(points), depots, 360)
    assert result.max_mean <= 1.10
    assert steps[-1] == (6, 6) and [d for d, _ in steps] == sorted(d for d, _ in steps)
    for team in result.teams:
        assert np.mean(town[team.stops] == team.team) > 0.8


def test_fixed_stops_stay_with_their_team() -> None:
    points, work, _ = four_towns(20, seed=4)
    fixed = np.full(len(points), -1)
    fixed[:5] = 3  # town 0's first five buildings go to the team of the far corner
    fixed[30] = 0
    depots = [P(*c) for c in CORNERS]
    result = plan_sweep(
        points, work, depots, streets=street_grid(), time_limit_s=1.0, fixed_team=fixed
    )
    check_plan(result, len(points), depots, 360)
    assert set(range(5)) <= set(result.teams[3].stops)
    assert 30 in result.teams[0].stops


def test_teams_sharing_a_station_and_no_streets_fall_back_to_straight_lines() -> None:
    points, work, _ = four_towns(10, seed=6)
    depots = [P(1000, 1000)] * 3
    result = plan_sweep(points, work, depots, streets=[], time_limit_s=1.0)
    check_plan(result, len(points), depots, 360)
    assert result.fallback_share == 1.0
    for team in result.teams:
        if team.stops:
            first = points[team.stops[0]]
            assert team.walk_m[0] == pytest.approx(first.distance(depots[0]))
            assert team.days[0].line.coords[0] == (1000.0, 1000.0)


def test_route_lines_follow_the_streets_through_the_stops_in_order() -> None:
    points, work, _ = four_towns(15, seed=7)
    depots = [P(*c) for c in CORNERS[:2]]
    streets = street_grid()
    result = plan_sweep(points, work, depots, streets=streets, time_limit_s=1.0, day_minutes=90)
    network = shapely.union_all(streets)
    for team in result.teams:
        assert team.day_count > 1
        start = depots[team.team]
        for d in team.days:
            stops = [points[s] for s, day in zip(team.stops, team.day, strict=True) if day == d.day]
            assert d.line.coords[0] == start.coords[0]
            assert d.line.coords[-1] == stops[-1].coords[0]
            along = [d.line.project(stop) for stop in stops]
            assert along == sorted(along)
            assert all(d.line.distance(stop) < 1e-6 for stop in stops)
            assert d.line.length == pytest.approx(d.walk_m)
            # Between the buildings, the line runs on the streets: its vertices other than the
            # stops and their feet on the streets lie on a street.
            vertices = shapely.points(shapely.get_coordinates(d.line))
            off = shapely.distance(vertices, network) > 1e-6
            stop_points = shapely.points([s.coords[0] for s in [start, *stops]])
            assert all(
                min(shapely.distance(v, stop_points)) < 1e-6 for v in vertices[off]
            )  # only the buildings themselves are off the streets
            start = stops[-1]


# --- the pieces ----------------------------------------------------------------------------------


def test_stops_on_a_street_are_walked_in_line_order() -> None:
    xs = np.random.default_rng(8).permutation(np.arange(10, 500, 20))
    points = [P(x, 3) for x in xs]
    order = order_team(points, P(0, 0), streets=[shapely.LineString([(0, 0), (600, 0)])])
    assert [xs[i] for i in order] == sorted(xs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_order_team_finds_the_shortest_walk_of_a_few_stops(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = [P(x, y) for x, y in rng.uniform(0, 600, size=(7, 2))]
    depot = P(20, 580)
    streets = street_grid(600, 100)
    d = walking_matrix([depot, *points], streets).distances

    def length(order: tuple[int, ...]) -> float:
        path = [0, *(i + 1 for i in order)]
        return float(sum(d[a, b] for a, b in itertools.pairwise(path)))

    best = min(length(order) for order in itertools.permutations(range(7)))
    order = order_team(points, depot, streets=streets, time_limit_s=0.5)
    assert sorted(order) == list(range(7))
    assert length(tuple(order)) == pytest.approx(best)
    legs = leg_walks(points, order, depot, streets=streets)
    assert legs.metres.sum() == pytest.approx(best)
    assert not legs.fallback.any()


def test_split_days_fills_each_day_and_isolates_overlong_stops() -> None:
    rng = np.random.default_rng(9)
    walk = rng.uniform(0, 20, size=200)
    service = rng.uniform(5, 90, size=200)
    service[[17, 120]] = 400
    days, overlong = split_days(walk, service, day_minutes=300)
    assert overlong == [17, 120]
    total = walk + service
    day = np.array(days)
    assert day[0] == 1 and np.all(np.diff(day) >= 0) and np.all(np.diff(day) <= 1)
    for d in range(1, day.max() + 1):
        at = np.flatnonzero(day == d)
        assert total[at].sum() <= 300 or list(at) in ([17], [120])
        if at[-1] + 1 < len(day):  # the next stop did not fit (the fewest days)
            assert total[at].sum() + total[at[-1] + 1] > 300
    assert split_days([], [], day_minutes=60) == ([], [])


def test_plan_team_keeps_a_hand_made_order() -> None:
    points = [P(100, 5), P(300, 5), P(200, 5)]
    street = [shapely.LineString([(0, 0), (400, 0)])]
    team = plan_team(points, [10, 20, 30], P(0, 0), streets=street, order=[1, 0, 2], team=4)
    assert team.team == 4 and team.stops == [1, 0, 2] and team.day == [1, 1, 1]
    assert team.walk_m == pytest.approx([300 + 5, 5 + 200 + 5, 5 + 100 + 5])  # access legs
    assert team.service_min == 60
    assert team.hours == pytest.approx((625 / 70 + 60) / 60)
    assert team.walk_km == pytest.approx(0.625)
    assert team.days[0].line.length == pytest.approx(625)
    assert plan_team(points, [10, 20, 30], P(0, 0), streets=street).stops == [0, 2, 1]


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"points": []}, "empty"),
        ({"points": [P(0, 0), shapely.LineString([(0, 0), (1, 1)])]}, "not_point"),
        ({"points": [P(0, 0), P(np.nan, 0)]}, "not_finite"),
        ({"work_min": [1.0]}, "mismatched"),
        ({"work_min": [1.0, -2.0]}, "bad_work"),
        ({"depots": []}, "no_teams"),
        ({"speed_m_per_min": 0}, "bad_speed"),
        ({"day_minutes": -5}, "bad_budget"),
        ({"balance_slack": -0.1}, "bad_slack"),
        ({"time_limit_s": 0}, "bad_time_limit"),
        ({"fixed_team": [0, 2]}, "bad_fixed"),
        ({"fixed_team": [0]}, "bad_fixed"),
        ({"streets": [P(0, 0)]}, "not_line"),
    ],
)
def test_bad_input_is_refused_with_a_code(change: dict, code: str) -> None:
    kwargs: dict = {
        "points": [P(0, 0), P(10, 0)],
        "work_min": [1.0, 2.0],
        "depots": [P(0, 0), P(5, 5)],
        "streets": [],
    }
    kwargs.update(change)
    kwargs.setdefault("time_limit_s", 0.5)
    with pytest.raises(SweepPlanError) as error:
        plan_sweep(**kwargs)
    assert error.value.code == code
    assert isinstance(error.value, ValueError)


def test_bad_order_is_refused() -> None:
    with pytest.raises(SweepPlanError, match="each at most once") as error:
        plan_team([P(0, 0), P(1, 1)], [1, 1], P(0, 0), streets=[], order=[0, 0])
    assert error.value.code == "bad_order"
    with pytest.raises(SweepPlanError, match="give each once"):
        plan_team([P(0, 0), P(1, 1)], [1, 1], P(0, 0), streets=[], order=[1])


@pytest.mark.parametrize("direct_max", [1_500, 10])
def test_every_stop_fixed_needs_no_split(monkeypatch: pytest.MonkeyPatch, direct_max: int) -> None:
    monkeypatch.setattr(sweep_plan, "DIRECT_MAX_STOPS", direct_max)
    points, work, town = four_towns(8, seed=10)
    fixed = (town + 1) % 4  # each town to the team of the next corner
    depots = [P(*c) for c in CORNERS]
    result = plan_sweep(
        points, work, depots, streets=street_grid(), time_limit_s=0.5, fixed_team=fixed
    )
    check_plan(result, len(points), depots, 360)
    for team in result.teams:
        assert sorted(team.stops) == sorted(np.flatnonzero(fixed == team.team))
