"""Plan a sweep: split its buildings among teams, order each team's walk, cut it into days (pure).

What a sweep (issue 6) needs from the solvers, with no Django: the caller reads one point per
building (``grid.sweep_input``), the minutes of service each building takes (rooms × minutes per
room) and one start point per team (its service station), and gets back per team its buildings
in walking order, the day each is visited on, the walk from the previous stop, per-day and
per-team totals, and a route line per day that follows the streets.

Work is what is balanced: service minutes plus walking minutes (metres / speed), i.e. team hours.

**Two sizes, one method.** The teams' split is a multi-depot vehicle routing problem solved by
PyVRP through :func:`grid.routing.split_among_depots`; each team's walk is then ordered by
fast-tsp (:func:`grid.routing.order_stops`) on that team's own walking matrix
(:func:`grid.walking.walking_matrix`). Up to :data:`DIRECT_MAX_STOPS` stops the split is made on
the stops themselves, with one walking matrix of all stops and depots. Above that a dense matrix
is out of the question (50,000 stops: 20 GB), so the free stops are first grouped by k-means into
clusters of about :data:`STOPS_PER_CLUSTER` (a few hundred to a few thousand); a cluster's work is
its service plus an estimate of the walk inside it (Beardwood–Halton–Hammersley,
``0.7124 √(n·A)``, times the walking detour :data:`DETOUR`), the clusters are split among the teams
on the walking matrix of one representative building each, and only the per-team matrices (a
few thousand points) are ever built.

**Repair.** The split balances estimates; the real figures come from the ordered walks. While the
heaviest team is above ``1 + 2 × balance_slack`` times the mean (1.10 by default), the clusters
(or stops) of the heaviest team that lie nearest a lighter neighbouring team are handed to it,
about half the gap's worth, and both teams are re-ordered; a move is kept only if it lowers the
larger of the two teams' hours.

**Days.** A team's walk is one open path from its depot (it need not come back); it is cut into
working days greedily, in walking order: a stop starts a new day when the day's walk plus service
would exceed ``day_minutes`` (the fewest days for that order). A stop that alone takes longer than
a day gets a day of its own and is listed in ``TeamPlan.overlong``. Day *d* continues where day
*d − 1* stopped: its first leg is from the previous day's last stop (the first day's from the
depot), and so does its route line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.cluster.vq import kmeans2
from scipy.spatial import cKDTree

from .routing import RoutingError, order_stops, split_among_depots
from .walking import WalkingError, WalkingMatrix, walking_matrix, walking_paths

__all__ = [
    "DETOUR",
    "DIRECT_MAX_STOPS",
    "STOPS_PER_CLUSTER",
    "DayPlan",
    "LegWalks",
    "SweepPlanError",
    "SweepPlanResult",
    "TeamPlan",
    "leg_walks",
    "order_team",
    "plan_sweep",
    "plan_team",
    "split_days",
]

#: Sweeps of up to this many stops are split stop by stop on one walking matrix of them all.
DIRECT_MAX_STOPS = 1_500
#: Above that, stops are grouped into clusters of about this many before the split.
STOPS_PER_CLUSTER = 50
#: Walking over straight-line metres assumed inside a cluster (1.4–1.5 in the generated city,
#: ``docs/routing.md``); only the split's estimate uses it, the reported figures are walked.
DETOUR = 1.4
#: Beardwood–Halton–Hammersley constant: the shortest tour through n random points of area A is
#: about ``0.7124 √(n·A)``.
_BHH = 0.7124
#: Streets farther than this from a team's stops are left out of its walking matrix (the snap
#: limit of ``walking_matrix``, so nothing it could snap to is lost).
_STREET_MARGIN_M = 150.0


class SweepPlanError(ValueError):
    """Input a sweep cannot be planned from; ``code`` names the kind of problem."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class DayPlan:
    """One team's working day: its stops' count and the day's walk and work.

    ``line`` (metres, the caller's SRID) is the day's walk along the streets, from where the
    day starts (the depot on day 1, else the previous day's last stop) through its stops in
    order; straight where there are no streets.
    """

    day: int
    stops: int
    walk_m: float
    walk_min: float
    service_min: float
    total_min: float
    line: shapely.LineString


@dataclass(frozen=True)
class TeamPlan:
    """One team's part of the sweep.

    ``stops``: indices into the caller's ``points`` in walking order from the depot.
    ``day[k]``: the day (1, 2, …) of ``stops[k]``; ``walk_m[k]``: metres walked to ``stops[k]``
    from the stop before it (from the depot for the first); ``fallback[k]``: that leg is the
    straight line (no street connection). ``overlong``: stops whose walk plus service alone is
    longer than a day (each got a day of its own).
    """

    team: int
    stops: list[int]
    day: list[int]
    walk_m: list[float]
    fallback: list[bool]
    days: list[DayPlan]
    overlong: list[int]
    walk_total_m: float
    service_min: float

    @property
    def walk_km(self) -> float:
        return self.walk_total_m / 1000

    @property
    def hours(self) -> float:
        """Walking plus service, in hours (what the split balances)."""
        return sum(d.total_min for d in self.days) / 60

    @property
    def day_count(self) -> int:
        return len(self.days)


@dataclass(frozen=True)
class SweepPlanResult:
    """A planned sweep: one :class:`TeamPlan` per team, in the order of ``depots``.

    ``max_mean``: the largest team's hours over the mean team hours (1.0 is perfect balance).
    ``fallback_share``: the share of walked legs that are straight lines. ``method``:
    ``"direct"`` (split stop by stop) or ``"clustered"`` (``clusters`` clusters split).
    ``moves``: repair moves kept. ``split_feasible``: whether the solver kept every team within
    its work limit (the repair may still have fixed what it did not).
    """

    teams: list[TeamPlan]
    max_mean: float
    fallback_share: float
    method: str
    clusters: int
    moves: int
    split_feasible: bool

    @property
    def walk_km(self) -> float:
        return sum(team.walk_km for team in self.teams)

    @property
    def hours(self) -> float:
        return sum(team.hours for team in self.teams)

    @property
    def overlong(self) -> list[int]:
        return [stop for team in self.teams for stop in team.overlong]


@dataclass(frozen=True)
class LegWalks:
    """Per stop of an ordered walk: metres from the stop before (the depot for the first) and
    whether that leg is the straight line."""

    metres: NDArray[np.float64]
    fallback: NDArray[np.bool_]


# --- the pieces a hand edit needs -----------------------------------------------------------


def order_team(
    points: Iterable[shapely.Point],
    depot: shapely.Point,
    *,
    streets: Iterable[shapely.Geometry],
    time_limit_s: float = 2.0,
) -> list[int]:
    """Order one team's ``points`` into a short open walk from ``depot`` (ends anywhere).

    Returns the indices into ``points`` in walking order. For a re-plan after a hand edit (a
    building moved to another team).
    """
    pts = _check_points(points, "points", allow_empty=True)
    _check_points([depot], "depots")
    if not len(pts):
        return []
    matrix = _walk_matrix([depot, *pts], streets)
    return _order(matrix.distances, time_limit_s)


def leg_walks(
    points: Iterable[shapely.Point],
    order: Iterable[int],
    depot: shapely.Point,
    *,
    streets: Iterable[shapely.Geometry],
) -> LegWalks:
    """Metres walked to each stop of ``order`` (indices into ``points``) from the one before it,
    the first from ``depot``; for a walk reordered by hand."""
    pts = _check_points(points, "points", allow_empty=True)
    _check_points([depot], "depots")
    index = _check_order(order, len(pts))
    if not len(index):
        return LegWalks(np.empty(0), np.empty(0, dtype=bool))
    matrix = _walk_matrix([depot, *pts[index]], streets)
    path = np.arange(len(index) + 1)
    return LegWalks(
        matrix.distances[path[:-1], path[1:]].copy(), matrix.fallback[path[:-1], path[1:]].copy()
    )


def split_days(
    walk_min: ArrayLike, service_min: ArrayLike, *, day_minutes: float
) -> tuple[list[int], list[int]]:
    """Cut a walk into working days: per stop (in walking order) its day, 1, 2, …, and the
    positions of the stops that alone exceed a day.

    ``walk_min[k]`` is the walk to stop ``k`` from the one before, ``service_min[k]`` the time
    spent there. Greedy in walking order: a stop opens a new day when the day's total would
    exceed ``day_minutes``, which gives the fewest days for that order; a stop longer than a
    day gets a day of its own.

    Examples
    --------
    >>> split_days([10, 10, 10, 500, 10], [100, 100, 100, 0, 10], day_minutes=300)
    ([1, 1, 2, 3, 4], [3])
    """
    walk = _check_minutes(walk_min, "walk_min")
    service = _check_minutes(service_min, "service_min")
    if walk.shape != service.shape:
        raise SweepPlanError(
            f"walk_min has {len(walk)} values but service_min {len(service)}: give one each "
            "per stop",
            code="mismatched",
        )
    _check_positive(day_minutes, "day_minutes", "bad_budget")
    days: list[int] = []
    overlong: list[int] = []
    day, used = 0, math.inf
    for k, minutes in enumerate(walk + service):
        if used + minutes > day_minutes:
            day, used = day + 1, 0.0
        used += minutes
        days.append(day)
        if minutes > day_minutes:
            overlong.append(k)
            used = math.inf  # nothing else that day
    return days, overlong


def plan_team(
    points: Iterable[shapely.Point],
    work_min: ArrayLike,
    depot: shapely.Point,
    *,
    streets: Iterable[shapely.Geometry],
    order: Iterable[int] | None = None,
    speed_m_per_min: float = 70.0,
    day_minutes: float = 360.0,
    time_limit_s: float = 2.0,
    team: int = 0,
) -> TeamPlan:
    """One team's full plan (walk, days, totals, route lines) from its ``points``, ordered by
    :func:`order_team` unless ``order`` (indices into ``points``, every one once) is given: what
    a hand edit rebuilds. ``TeamPlan.stops`` index ``points``."""
    pts = _check_points(points, "points", allow_empty=True)
    work = _check_minutes(work_min, "work_min")
    if len(work) != len(pts):
        raise SweepPlanError(
            f"{len(pts)} points but {len(work)} work_min values: give one per point",
            code="mismatched",
        )
    _check_points([depot], "depots")
    _check_positive(speed_m_per_min, "speed_m_per_min", "bad_speed")
    _check_positive(day_minutes, "day_minutes", "bad_budget")
    street_array = _check_streets(streets)
    if order is None:
        index = np.array(
            order_team(pts, depot, streets=street_array, time_limit_s=time_limit_s), dtype=np.intp
        )
    else:
        index = _check_order(order, len(pts))
        if len(index) != len(pts):
            raise SweepPlanError(
                f"order has {len(index)} stops but there are {len(pts)} points: give each once",
                code="bad_order",
            )
    legs = (
        leg_walks(pts, index, depot, streets=street_array)
        if len(index)
        else LegWalks(np.empty(0), np.empty(0, dtype=bool))
    )
    return _build_team(
        team,
        index,
        pts[index],
        work[index],
        depot,
        legs,
        street_array,
        speed_m_per_min,
        day_minutes,
    )


# --- the whole sweep ---------------------------------------------------------------------------


def plan_sweep(
    points: Iterable[shapely.Point],
    work_min: ArrayLike,
    depots: Iterable[shapely.Point],
    *,
    streets: Iterable[shapely.Geometry],
    speed_m_per_min: float = 70.0,
    day_minutes: float = 360.0,
    balance_slack: float = 0.05,
    time_limit_s: float = 20.0,
    order_time_s: float | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    fixed_team: ArrayLike | None = None,
) -> SweepPlanResult:
    """Split ``points`` among the teams of ``depots``, order each team's walk, cut it into days.

    Parameters
    ----------
    points : sequence of shapely Point
        One per building (the stops), in metres (the metric SRID).
    work_min : (n,) array of float
        Minutes of service per stop (rooms × minutes per room), ≥ 0.
    depots : sequence of shapely Point
        One start point per team (its service station), in metres; teams may share one.
    streets : sequence of shapely LineString
        Street centrelines in metres; none at all gives straight lines (flagged).
    speed_m_per_min : float
        Walking speed, for walking minutes (70 m/min: 4.2 km/h).
    day_minutes : float
        Working time per team and day (walk + service).
    balance_slack : float
        Slack of the split's work limits (0.05: 5 % above the mean); the repair aims at twice
        that (1.10).
    time_limit_s : float
        PyVRP's time for the split.
    order_time_s : float, optional
        fast-tsp's time per team; by default 0.5–5 s growing with the team's stops.
    seed : int
        Seed of k-means and the split.
    progress : callable, optional
        Called as ``progress(done, total)`` after the split, each team's walk and the end.
    fixed_team : (n,) array of int, optional
        −1 for a free stop, else the team (index into ``depots``) the stop must stay with.

    Returns
    -------
    SweepPlanResult

    Raises
    ------
    SweepPlanError
        With ``code``: ``empty``, ``not_point``, ``not_finite``, ``not_line``, ``mismatched``,
        ``bad_work``, ``no_teams``, ``bad_speed``, ``bad_budget``, ``bad_slack``,
        ``bad_time_limit``, ``bad_fixed``.
    """
    pts = _check_points(points, "points")
    n = len(pts)
    work = _check_minutes(work_min, "work_min")
    if len(work) != n:
        raise SweepPlanError(
            f"{n} points but {len(work)} work_min values: give one per point", code="mismatched"
        )
    depot_list = list(depots)
    if not depot_list:
        raise SweepPlanError("No depots: give one start point per team.", code="no_teams")
    depot_pts = _check_points(depot_list, "depots")
    teams = len(depot_pts)
    _check_positive(speed_m_per_min, "speed_m_per_min", "bad_speed")
    _check_positive(day_minutes, "day_minutes", "bad_budget")
    _check_positive(time_limit_s, "time_limit_s", "bad_time_limit")
    if order_time_s is not None:
        _check_positive(order_time_s, "order_time_s", "bad_time_limit")
    if not (isinstance(balance_slack, (int, float)) and 0 <= balance_slack < 10):
        raise SweepPlanError(
            f"balance_slack = {balance_slack!r} must be from 0 to 10 (0.05 is 5 %)",
            code="bad_slack",
        )
    fixed = _check_fixed(fixed_team, n, teams)
    street_array = _check_streets(streets)
    planner = _Planner(
        pts, work, depot_pts, street_array, speed_m_per_min, order_time_s, seed, progress
    )
    try:
        return planner.plan(fixed, balance_slack, time_limit_s, day_minutes)
    except (RoutingError, WalkingError) as error:
        raise SweepPlanError(str(error), code=error.code) from error


class _Planner:
    """The state of one :func:`plan_sweep` call: inputs, units (clusters or stops), teams."""

    def __init__(
        self,
        pts: NDArray[np.object_],
        work: NDArray[np.float64],
        depots: NDArray[np.object_],
        streets: NDArray[np.object_],
        speed: float,
        order_time_s: float | None,
        seed: int,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.pts, self.work, self.depots, self.streets = pts, work, depots, streets
        self.xy = shapely.get_coordinates(pts)
        self.speed, self.order_time_s, self.seed = speed, order_time_s, seed
        self.progress = progress
        self.teams = len(depots)
        self.tree = shapely.STRtree(streets) if len(streets) else None
        self.full: NDArray[np.float64] | None = None  # direct: metres among stops + depots
        self.full_fallback: NDArray[np.bool_] | None = None
        self.steps = 0

    def _step(self) -> None:
        self.steps += 1
        if self.progress is not None:
            self.progress(min(self.steps, self.teams + 2), self.teams + 2)

    def plan(
        self, fixed: NDArray[np.intp], slack: float, time_limit_s: float, day_minutes: float
    ) -> SweepPlanResult:
        n, teams = len(self.pts), self.teams
        free = np.flatnonzero(fixed < 0)
        direct = n <= DIRECT_MAX_STOPS
        if direct:
            matrix = walking_matrix([*self.pts, *self.depots], self.streets)
            self.full, self.full_fallback = matrix.distances, matrix.fallback
            units = [np.array([i]) for i in free]
            unit_work = self.work[free]
            unit_matrix = self.full[
                np.ix_([*range(n, n + teams), *free], [*range(n, n + teams), *free])
            ]
        elif not len(free):  # every stop fixed by hand: nothing to split
            units, unit_work, reps = [], np.empty(0), np.empty(0, dtype=np.intp)
            unit_matrix = walking_matrix(self.depots, []).distances
        else:
            units, unit_work, reps = self._clusters(free)
            rep_matrix = walking_matrix([*self.depots, *self.pts[reps]], self.streets)
            unit_matrix = rep_matrix.distances
        start_work = np.zeros(teams)
        np.add.at(start_work, fixed[fixed >= 0], self.work[fixed >= 0])
        durations = unit_matrix / self.speed
        service = np.r_[np.zeros(teams), unit_work]
        split = split_among_depots(
            durations,
            service,
            depots=list(range(teams)),
            start_work=start_work,
            balance_slack=slack,
            time_limit_s=time_limit_s,
            seed=self.seed,
        )
        self._step()
        owner = np.full(len(units), -1)
        for team, route in enumerate(split.routes):
            owner[np.asarray(route, dtype=np.intp) - teams] = team
        fixed_of = [np.flatnonzero(fixed == t) for t in range(teams)]
        routes: list[tuple[NDArray[np.intp], LegWalks]] = []
        for team in range(teams):
            routes.append(self._walk(team, self._stops_of(team, owner, units, fixed_of)))
            self._step()
        moves = self._repair(owner, units, unit_work, fixed_of, routes, 1 + 2 * slack)
        plans = [
            _build_team(
                team,
                index,
                self.pts[index],
                self.work[index],
                self.depots[team],
                legs,
                self._streets_near(index, team),
                self.speed,
                day_minutes,
            )
            for team, (index, legs) in enumerate(routes)
        ]
        self._step()
        hours = np.array([plan.hours for plan in plans])
        legs_all = np.concatenate([legs.fallback for _, legs in routes])
        return SweepPlanResult(
            teams=plans,
            max_mean=float(hours.max() / hours.mean()) if hours.sum() > 0 else 1.0,
            fallback_share=float(legs_all.mean()) if len(legs_all) else 0.0,
            method="direct" if direct else "clustered",
            clusters=0 if direct else len(units),
            moves=moves,
            split_feasible=split.feasible,
        )

    def _clusters(
        self, free: NDArray[np.intp]
    ) -> tuple[list[NDArray[np.intp]], NDArray[np.float64], NDArray[np.intp]]:
        """k-means clusters of the free stops, each cluster's estimated work (service plus the
        walk inside it) and its representative stop (the one nearest its centre)."""
        k = min(len(free), max(self.teams * 8, round(len(free) / STOPS_PER_CLUSTER)))
        xy = self.xy[free]
        origin = xy.mean(axis=0)
        # Random points as the first centres: scipy's k-means++ start costs k² · n (1,000 clusters
        # of 50,000 points: minutes).
        centres, label = kmeans2(xy - origin, k, iter=20, minit="points", seed=self.seed)
        units: list[NDArray[np.intp]] = []
        unit_work: list[float] = []
        reps: list[int] = []
        for c in range(k):
            members = np.flatnonzero(label == c)
            if not len(members):
                continue
            stops = free[members]
            box = np.ptp(xy[members], axis=0)
            area = float(box[0] * box[1])
            walk_m = DETOUR * _BHH * math.sqrt(len(members) * area)
            units.append(stops)
            unit_work.append(float(self.work[stops].sum()) + walk_m / self.speed)
            nearest = np.argmin(np.hypot(*(xy[members] - origin - centres[c]).T))
            reps.append(int(stops[nearest]))
        return units, np.array(unit_work), np.array(reps, dtype=np.intp)

    @staticmethod
    def _stops_of(
        team: int,
        owner: NDArray[np.intp],
        units: list[NDArray[np.intp]],
        fixed_of: list[NDArray[np.intp]],
    ) -> NDArray[np.intp]:
        parts = [units[u] for u in np.flatnonzero(owner == team)]
        return np.concatenate([fixed_of[team], *parts]).astype(np.intp)

    def _streets_near(self, index: NDArray[np.intp], team: int) -> NDArray[np.object_]:
        if self.tree is None:
            return self.streets
        around = [*self.pts[index], self.depots[team]]
        area = shapely.envelope(shapely.multipoints(around)).buffer(_STREET_MARGIN_M)
        return self.streets[np.sort(self.tree.query(area, predicate="intersects"))]

    def _walk(self, team: int, stops: NDArray[np.intp]) -> tuple[NDArray[np.intp], LegWalks]:
        """Order ``stops`` from the team's depot; the stops in walking order and their legs."""
        if not len(stops):
            return stops, LegWalks(np.empty(0), np.empty(0, dtype=bool))
        if self.full is not None and self.full_fallback is not None:
            at = np.r_[len(self.pts) + team, stops]
            distances = self.full[np.ix_(at, at)]
            fallback = self.full_fallback[np.ix_(at, at)]
        else:
            matrix = _walk_matrix(
                [self.depots[team], *self.pts[stops]], self._streets_near(stops, team)
            )
            distances, fallback = matrix.distances, matrix.fallback
        limit = self.order_time_s or min(5.0, max(0.5, len(stops) / 500))
        order = np.asarray(_order(distances, limit), dtype=np.intp)
        path = np.r_[0, order + 1]
        legs = LegWalks(distances[path[:-1], path[1:]], fallback[path[:-1], path[1:]])
        return stops[order], legs

    def _hours(self, routes: list[tuple[NDArray[np.intp], LegWalks]]) -> NDArray[np.float64]:
        return np.array(
            [
                (legs.metres.sum() / self.speed + self.work[index].sum()) / 60
                for index, legs in routes
            ]
        )

    def _repair(
        self,
        owner: NDArray[np.intp],
        units: list[NDArray[np.intp]],
        unit_work: NDArray[np.float64],
        fixed_of: list[NDArray[np.intp]],
        routes: list[tuple[NDArray[np.intp], LegWalks]],
        target: float,
    ) -> int:
        """Hand border units from the heaviest team to lighter neighbours (see the module's
        notes); ``routes`` is updated in place. The number of moves kept."""
        moves = 0
        tried: set[tuple[int, int, int]] = set()
        unit_xy = np.array([self.xy[u].mean(axis=0) for u in units]) if units else np.empty((0, 2))
        for _ in range(3 * self.teams):
            hours = self._hours(routes)
            mean = hours.mean()
            heavy = int(np.argmax(hours))
            if mean <= 0 or hours[heavy] <= target * mean:
                break
            mine = np.flatnonzero(owner == heavy)
            others = np.flatnonzero((owner >= 0) & (owner != heavy))
            if not len(mine) or not len(others):
                break
            tree = cKDTree(unit_xy[others])
            gap_m, nearest = tree.query(unit_xy[mine])
            neighbour = owner[others[nearest]]
            candidates = [
                int(t)
                for t in np.unique(neighbour)
                if hours[t] < mean and (heavy, int(t), moves) not in tried
            ]
            if not candidates:
                break
            light = min(candidates, key=lambda t: hours[t])
            tried.add((heavy, light, moves))
            border = mine[neighbour == light][np.argsort(gap_m[neighbour == light])]
            want = (hours[heavy] - hours[light]) / 2 * 60  # minutes
            moved: list[int] = []
            for u in border:
                if moved and unit_work[moved].sum() + unit_work[u] > want:
                    break
                moved.append(int(u))
                if len(moved) == len(mine):
                    break
            before = (owner.copy(), routes[heavy], routes[light])
            owner[moved] = light
            routes[heavy] = self._walk(heavy, self._stops_of(heavy, owner, units, fixed_of))
            routes[light] = self._walk(light, self._stops_of(light, owner, units, fixed_of))
            after = self._hours(routes)
            if max(after[heavy], after[light]) < hours[heavy] - 1e-9:
                moves += 1
            else:
                owner[:] = before[0]
                routes[heavy], routes[light] = before[1], before[2]
        return moves


# --- helpers --------------------------------------------------------------------------------


def _build_team(
    team: int,
    index: NDArray[np.intp],
    stops: NDArray[np.object_],
    work: NDArray[np.float64],
    depot: shapely.Point,
    legs: LegWalks,
    streets: NDArray[np.object_],
    speed: float,
    day_minutes: float,
) -> TeamPlan:
    """A :class:`TeamPlan` from the team's ordered stops (``index`` into the caller's points,
    ``stops`` their points) and their legs: days, totals and route lines."""
    walk_min = legs.metres / speed
    day, overlong = split_days(walk_min, work, day_minutes=day_minutes) if len(index) else ([], [])
    lines = (
        walking_paths([depot, *stops], streets, [(k, k + 1) for k in range(len(stops))])
        if len(stops)
        else []
    )
    day_array = np.asarray(day, dtype=np.intp)
    days: list[DayPlan] = []
    for d in range(1, (max(day) if day else 0) + 1):
        at = np.flatnonzero(day_array == d)
        walk_m = float(legs.metres[at].sum())
        service = float(work[at].sum())
        days.append(
            DayPlan(
                day=d,
                stops=len(at),
                walk_m=walk_m,
                walk_min=walk_m / speed,
                service_min=service,
                total_min=walk_m / speed + service,
                line=_join([lines[k] for k in at]),
            )
        )
    return TeamPlan(
        team=team,
        stops=[int(i) for i in index],
        day=[int(d) for d in day],
        walk_m=[float(m) for m in legs.metres],
        fallback=[bool(f) for f in legs.fallback],
        days=days,
        overlong=[int(index[k]) for k in overlong],
        walk_total_m=float(legs.metres.sum()),
        service_min=float(work.sum()),
    )


def _join(lines: list[shapely.LineString]) -> shapely.LineString:
    """Consecutive legs (each starting where the one before ended) as one line."""
    coords = np.concatenate([shapely.get_coordinates(line) for line in lines])
    keep = np.r_[True, np.any(np.diff(coords, axis=0) != 0, axis=1)]
    coords = coords[keep]
    return shapely.LineString(coords if len(coords) > 1 else np.concatenate([coords, coords]))


def _walk_matrix(
    points: Iterable[shapely.Point], streets: Iterable[shapely.Geometry]
) -> WalkingMatrix:
    try:
        return walking_matrix(points, streets)
    except WalkingError as error:
        raise SweepPlanError(str(error), code=error.code) from error


def _order(distances: NDArray[np.float64], time_limit_s: float) -> list[int]:
    """Indices (0-based among the stops) of an open walk from point 0 (the depot)."""
    route = order_stops(distances, start=0, end=None, time_limit_s=time_limit_s)
    return [k - 1 for k in route.order[1:]]


def _check_points(
    points: Iterable[shapely.Point], name: str, *, allow_empty: bool = False
) -> NDArray[np.object_]:
    array = np.asarray(list(points), dtype=object)
    if len(array) == 0:
        if allow_empty:
            return np.empty(0, dtype=object)
        raise SweepPlanError(f"No {name}: give at least one.", code="empty")
    if array.ndim != 1 or not all(isinstance(p, shapely.Point) for p in array):
        bad = next(i for i, p in enumerate(array) if not isinstance(p, shapely.Point))
        raise SweepPlanError(
            f"{name}[{bad}] is {array[bad]!r}, not a point: give shapely Points in metres.",
            code="not_point",
        )
    coords = shapely.get_coordinates(array)
    if len(coords) != len(array) or not np.isfinite(coords).all():
        raise SweepPlanError(
            f"A point of {name} is empty or not finite: every point needs x and y in metres.",
            code="not_finite",
        )
    return array


def _check_streets(streets: Iterable[shapely.Geometry]) -> NDArray[np.object_]:
    array = np.asarray(list(streets), dtype=object)
    if not len(array):
        return np.empty(0, dtype=object)
    kinds = shapely.get_type_id(array)
    bad = np.flatnonzero(
        (kinds != shapely.GeometryType.LINESTRING) & (kinds != shapely.GeometryType.MULTILINESTRING)
    )
    if len(bad):
        raise SweepPlanError(
            f"Street {bad[0]} is {array[bad[0]]!r}, not a line: give street centrelines.",
            code="not_line",
        )
    return array


def _check_minutes(values: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        array = np.array(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as error:
        raise SweepPlanError(f"{name} are not numbers: {error}", code="bad_work") from error
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise SweepPlanError(
            f"{name}[{i}] = {array[i]} must be a finite number of minutes ≥ 0", code="bad_work"
        )
    return array


def _check_positive(value: float, name: str, code: str) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise SweepPlanError(f"{name} = {value!r} must be a positive number", code=code)


def _check_fixed(fixed_team: ArrayLike | None, n: int, teams: int) -> NDArray[np.intp]:
    if fixed_team is None:
        return np.full(n, -1, dtype=np.intp)
    array = np.asarray(fixed_team)
    if array.shape != (n,) or not np.issubdtype(array.dtype, np.integer):
        raise SweepPlanError(
            f"fixed_team must be {n} whole numbers (−1: free), got shape {array.shape} of "
            f"{array.dtype}",
            code="bad_fixed",
        )
    bad = np.flatnonzero((array < -1) | (array >= teams))
    if len(bad):
        raise SweepPlanError(
            f"fixed_team[{bad[0]}] = {array[bad[0]]} is not a team: give −1 or 0 to {teams - 1}",
            code="bad_fixed",
        )
    return array.astype(np.intp)


def _check_order(order: Iterable[int], n: int) -> NDArray[np.intp]:
    index = np.asarray(list(order), dtype=np.intp)
    if len(index) and (
        index.min() < 0 or index.max() >= n or len(set(index.tolist())) < len(index)
    ):
        raise SweepPlanError(
            f"order {list(order)[:10]}… must name points 0 to {n - 1}, each at most once",
            code="bad_order",
        )
    return index
