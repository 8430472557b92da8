"""Walking routes: order a team's stops and split stops among teams (pure: numpy and solvers).

Two questions, one solver each, hidden behind this module so that the rest of the project never
imports a solver:

- :func:`order_stops` — in which order should one team walk its stops? A travelling salesman
  tour (closed) or path (open: a team starts at its service station and need not come back),
  found by fast-tsp (MIT), a local search with Or-opt and Lin–Kernighan style moves. Paths are
  turned into tours with one dummy node (see :func:`order_stops`).
- :func:`split_among_teams` — which stops does each team take, and in which order? A capacitated
  vehicle routing problem solved by PyVRP (MIT), an iterated local search, with every team's load
  (or work) bounded so that the teams are balanced.

Both solvers take **integer** distances. Matrices whose entries are already whole numbers (and
fit the solver's range) are passed unchanged, so the benchmark instances of TSPLIB and CVRPLIB are
solved on their own integer distances. Any other matrix is scaled so that its largest entry
becomes :data:`TSP_SCALE_MAX` (fast-tsp stores distances as 16-bit integers) or
:data:`VRP_SCALE_MAX` (PyVRP, 64-bit), then rounded: each distance is then known to
``max / 131,068`` (for a 5 km area: 4 cm) for ordering and ``max / 2,000,000`` for splitting.
Lengths reported back are always summed on the caller's own (unrounded) matrix.

The matrices are in any unit (metres, seconds of walking); they need not satisfy the triangle
inequality, but a solver's answer is best when they do (shortest-path distances always do).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import fast_tsp
import numpy as np
import pyvrp
from numpy.typing import ArrayLike, NDArray
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

__all__ = [
    "TSP_SCALE_MAX",
    "VRP_SCALE_MAX",
    "Route",
    "RoutingError",
    "Split",
    "order_stops",
    "split_among_depots",
    "split_among_teams",
]

#: Largest distance handed to fast-tsp (its matrices are 16-bit; one more is kept for the dummy
#: node of open paths).
TSP_SCALE_MAX = 65_534
#: Largest distance handed to PyVRP after scaling a non-integer matrix.
VRP_SCALE_MAX = 1_000_000
#: Inputs of up to this many stops are ordered by trying every order (exact, no solver).
_BRUTE_FORCE_MAX = 3


class RoutingError(ValueError):
    """Input that cannot be routed; ``code`` names the kind of problem."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Route:
    """One walking order: the stop indices in visiting order and its length.

    For a closed tour ``order`` starts at the start stop and does not repeat it at the end;
    ``length`` includes the way back.
    """

    order: list[int]
    length: float
    closed: bool


@dataclass(frozen=True)
class Split:
    """Stops split among teams: one entry per team in ``routes``, ``lengths``, ``loads``, ``works``.

    ``routes[t]`` holds team ``t``'s stops in visiting order (the depot excluded; empty for a team
    that gets nothing); ``lengths[t]`` its walking length from the depot (and back to it when
    the routes are closed); ``loads[t]`` the sum of its stops' demands; ``works[t]`` its length
    plus its stops' service times. ``objective`` is the sum of the lengths, ``feasible`` whether
    every team keeps within its capacity (and work limit, when balancing by work).
    """

    routes: list[list[int]]
    lengths: list[float]
    loads: list[float]
    works: list[float]
    objective: float
    capacity: float
    work_limit: float | None
    feasible: bool


def order_stops(
    distances: ArrayLike,
    *,
    start: int | None = 0,
    end: int | None = None,
    time_limit_s: float = 2.0,
) -> Route:
    """Order all stops of ``distances`` into a short walk (a travelling salesman tour or path).

    Parameters
    ----------
    distances : (n, n) array of float
        Symmetric, finite, non-negative distances between the stops (the diagonal is ignored).
    start : int or None
        The stop the walk starts from (a service station); ``None`` lets the solver choose.
    end : int or None
        The stop the walk ends at; ``None`` lets the solver choose. ``end == start`` asks for a
        closed tour (back to the start), anything else for an open path.
    time_limit_s : float
        Upper bound on the solver's time; it stops earlier once it no longer improves.

    Returns
    -------
    Route
        ``order`` holds every stop once, beginning with ``start`` and ending with ``end`` when
        they are given.

    Notes
    -----
    An open path is solved as a tour with one more node ``D``: for a free start and end, ``D``
    is 0 away from every stop (the tour's edges at ``D`` cost nothing, the rest is the best
    path). For a fixed start ``s`` (and end ``e``), ``D`` is 0 from ``s`` (and ``e``) and
    ``max + 1`` from every other stop, so that any tour not running ``s``–``D``–``e`` costs
    more than the best one that does (with the triangle inequality). Should the solver still
    answer otherwise, the path is cut at ``s`` and ``e`` moved to its end.

    Examples
    --------
    >>> xs = np.array([0.0, 3.0, 1.0, 2.0])
    >>> route = order_stops(np.abs(xs[:, None] - xs[None, :]))
    >>> route.order, route.length
    ([0, 2, 3, 1], 3.0)
    """
    matrix = _check_matrix(distances)
    n = len(matrix)
    if not np.allclose(matrix, matrix.T, rtol=1e-9, atol=0.0):
        i, j = np.unravel_index(np.argmax(np.abs(matrix - matrix.T)), matrix.shape)
        raise RoutingError(
            f"distances must be symmetric: d[{i}][{j}] = {matrix[i, j]} but d[{j}][{i}] = "
            f"{matrix[j, i]}; average the two directions or give walking (undirected) distances",
            code="asymmetric",
        )
    for name, index in (("start", start), ("end", end)):
        if index is not None and not 0 <= index < n:
            raise RoutingError(
                f"{name} = {index} is not a stop: give an index from 0 to {n - 1}", code="bad_index"
            )
    if not time_limit_s > 0:
        raise RoutingError(f"time_limit_s = {time_limit_s} must be positive", code="bad_time_limit")
    if start is None and end is not None:  # the same path, walked backwards
        backwards = order_stops(matrix, start=end, end=None, time_limit_s=time_limit_s)
        return Route(backwards.order[::-1], backwards.length, closed=False)
    closed = start is not None and end == start
    if n <= _BRUTE_FORCE_MAX:
        order = _best_order(matrix, start, end, closed)
    elif closed and start is not None:
        tour = fast_tsp.find_tour(_tsp_matrix(matrix), time_limit_s, stop_when_converged=True)
        at = tour.index(start)
        order = tour[at:] + tour[:at]
    else:
        order = _open_path(matrix, start, end, time_limit_s)
    return Route(order, _walk_length(matrix, order, closed), closed)


def split_among_teams(
    distances: ArrayLike,
    demands: ArrayLike,
    *,
    teams: int,
    capacity: float | None,
    depot: int = 0,
    service_times: ArrayLike | None = None,
    closed: bool = True,
    balance_slack: float = 0.05,
    time_limit_s: float = 10.0,
    max_iterations: int | None = None,
    seed: int = 0,
) -> Split:
    """Split the stops among ``teams`` teams leaving from ``depot`` and order each team's walk.

    Parameters
    ----------
    distances : (n, n) array of float
        Finite, non-negative distances (the depot is one of the n points); they may be
        asymmetric. The objective is the total walking length.
    demands : (n,) array of float
        Load of each stop (rooms to visit); the depot's must be 0.
    teams : int
        Number of teams, at least 1. A team may get no stop when that is shorter and balance
        allows it.
    capacity : float or None
        The most load a team may take (a hard limit, as in the CVRP). ``None`` balances the
        teams: see below.
    depot : int
        Index of the start point (the service station).
    service_times : (n,) array of float, optional
        Time spent at each stop (rooms × minutes per room), in the unit of ``distances`` (give
        walking times, not metres, when using it). With ``capacity=None`` it switches the
        balance from load to work; the depot's must be 0.
    closed : bool
        Whether each team walks back to the depot (``False``: it ends at its last stop).
    balance_slack : float
        How far above the mean a team may go when balancing (0.05: 5 %).
    time_limit_s : float
        The solver's time.
    max_iterations : int, optional
        Also stop after this many iterations of the search (per pass): with a seed, a run that
        stops on iterations rather than on the clock always gives the same split.
    seed : int
        Seed of the solver's random numbers.

    Returns
    -------
    Split

    Notes
    -----
    **Balance.** With ``capacity=None`` and no service times, every team's capacity is the
    balanced share ``total demand / teams × (1 + balance_slack)`` (at least the largest single
    demand): a hard limit for PyVRP, so every load is at most ``(1 + balance_slack)`` × the mean
    load (``Split.capacity`` is the bound). With service times, work is what the issue balances:
    a first pass (a third of the time) splits by load as above; its total work (walking +
    service) divided among the teams, plus the slack, becomes every team's duration limit
    (PyVRP's ``shift_duration``), and a second pass starting from the first split looks for
    the shortest split within that limit (``Split.work_limit``). Durations are a soft
    constraint in PyVRP: when no split within the limit is found in time, the best one found is
    returned with ``feasible=False``, never silently.

    **Scaling.** Distances, service times and demands are passed as they are when they are
    whole numbers, else scaled to :data:`VRP_SCALE_MAX` and rounded (see the module's notes).

    Raises
    ------
    RoutingError
        On a non-square or negative/non-finite matrix, misaligned or negative demands or service
        times, a depot with a demand, ``teams`` < 1, a non-positive capacity, a demand above the
        capacity (``demand_too_large``) or a total above ``teams × capacity`` (``infeasible``).
    """
    matrix = _check_matrix(distances)
    n = len(matrix)
    if not 0 <= depot < n:
        raise RoutingError(
            f"depot = {depot} is not a point: give an index from 0 to {n - 1}", code="bad_index"
        )
    if not isinstance(teams, int | np.integer) or teams < 1:
        raise RoutingError(f"teams = {teams!r} must be a whole number ≥ 1", code="bad_teams")
    if not time_limit_s > 0:
        raise RoutingError(f"time_limit_s = {time_limit_s} must be positive", code="bad_time_limit")
    if not 0 <= balance_slack < 10:
        raise RoutingError(
            f"balance_slack = {balance_slack} must be from 0 to 10 (0.05 is 5 %)", code="bad_slack"
        )
    demand = _check_per_stop(demands, n, depot, "demands")
    service = (
        np.zeros(n)
        if service_times is None
        else _check_per_stop(service_times, n, depot, "service_times")
    )
    stops = [i for i in range(n) if i != depot]
    total = float(demand.sum())
    if capacity is None:
        limit = max(total / teams * (1 + balance_slack), float(demand.max(initial=0.0)))
    else:
        if not (math.isfinite(capacity) and capacity > 0):
            raise RoutingError(
                f"capacity = {capacity} must be a positive number (or None to balance)",
                code="bad_capacity",
            )
        limit = float(capacity)
        worst = int(np.argmax(demand))
        if demand[worst] > limit:
            raise RoutingError(
                f"stop {worst} has demand {demand[worst]:g}, more than the capacity {limit:g}: "
                "split the stop or raise the capacity",
                code="demand_too_large",
            )
        if total > teams * limit:
            raise RoutingError(
                f"the total demand {total:g} is more than {teams} teams × capacity {limit:g}: "
                "add teams or raise the capacity",
                code="infeasible",
            )
    if not stops:
        empty: list[list[int]] = [[] for _ in range(teams)]
        return Split(empty, [0.0] * teams, [0.0] * teams, [0.0] * teams, 0.0, limit, None, True)

    dist_int, scale = _integer_matrix(np.hstack([matrix.ravel(), service]), VRP_SCALE_MAX)
    dist_int = dist_int[: n * n].reshape(n, n)
    service_int = np.rint(service * scale).astype(np.int64)
    demand_int, demand_scale = _integer_matrix(demand, VRP_SCALE_MAX)
    capacity_int = math.floor(limit * demand_scale + 1e-9)

    balance_work = capacity is None and service_times is not None
    first_limit = time_limit_s / 3 if balance_work else time_limit_s
    data = _vrp_data(
        dist_int, demand_int, service_int, stops, depot, teams, capacity_int, closed, None
    )
    result = pyvrp.solve(
        data, _stop(first_limit, max_iterations), seed=seed, display=False, collect_stats=False
    )
    best = result.best
    work_limit: float | None = None
    if balance_work:
        work_int = sum(route.duration() for route in best.routes())
        shift = math.ceil(work_int / teams * (1 + balance_slack))
        work_limit = shift / scale
        data = _vrp_data(
            dist_int, demand_int, service_int, stops, depot, teams, capacity_int, closed, shift
        )
        first = pyvrp.Solution(data, [_visits(route) for route in best.routes()])
        second = pyvrp.solve(
            data,
            _stop(time_limit_s - first_limit, max_iterations),
            seed=seed,
            display=False,
            collect_stats=False,
            initial_solution=first,
        )
        best = second.best
    routes = [[stops[i] for i in _visits(route)] for route in best.routes()]
    routes += [[] for _ in range(teams - len(routes))]
    lengths = [_team_length(matrix, depot, route, closed) for route in routes]
    loads = [float(demand[route].sum()) for route in routes]
    works = [
        length + float(service[route].sum()) for length, route in zip(lengths, routes, strict=True)
    ]
    return Split(
        routes=routes,
        lengths=lengths,
        loads=loads,
        works=works,
        objective=float(sum(lengths)),
        capacity=limit,
        work_limit=work_limit,
        feasible=bool(best.is_feasible()),
    )


def split_among_depots(
    durations: ArrayLike,
    service_times: ArrayLike,
    *,
    depots: Sequence[int],
    start_work: ArrayLike | None = None,
    balance_slack: float = 0.05,
    time_limit_s: float = 10.0,
    max_iterations: int | None = None,
    seed: int = 0,
) -> Split:
    """Split the stops among teams that each start from their own depot, balanced by work.

    Parameters
    ----------
    durations : (n, n) array of float
        Finite, non-negative walking times between all points (stops and depots), in the unit
        of ``service_times`` (minutes, say). The objective is the total walking time.
    service_times : (n,) array of float
        Time spent at each stop; the depots' must be 0.
    depots : sequence of int
        One point per team: the team's start (its service station). Teams may share a point.
        Every point that is not a depot is a stop. Teams end anywhere (open routes).
    start_work : (teams,) array of float, optional
        Work a team already has before the split (stops fixed to it by hand): the split gives
        it that much less.
    balance_slack, time_limit_s, max_iterations, seed
        As for :func:`split_among_teams`.

    Returns
    -------
    Split
        ``routes[t]`` are team ``t``'s stops in walking order from ``depots[t]``; ``loads``
        their service time; ``works`` walking plus service (``start_work`` not included).

    Notes
    -----
    The multi-depot form of :func:`split_among_teams`' work balance: one PyVRP vehicle type
    per team, starting at its depot and ending at a shared free end. A first pass (a third of
    the time) bounds every team's service time by the balanced share, ``(total service +
    start work) / teams × (1 + balance_slack)`` less the team's start work (a hard capacity);
    its total work then gives every team's work limit, the mean plus the slack less its start
    work (``shift_duration``, soft in PyVRP: ``feasible`` tells whether it was met), and a
    second pass from the first split looks for the shortest split within it.
    """
    matrix = _check_matrix(durations)
    n = len(matrix)
    teams = len(depots)
    if teams < 1:
        raise RoutingError("depots is empty: give one start point per team", code="bad_teams")
    for depot in depots:
        if not 0 <= depot < n:
            raise RoutingError(
                f"depot = {depot} is not a point: give an index from 0 to {n - 1}",
                code="bad_index",
            )
    if not time_limit_s > 0:
        raise RoutingError(f"time_limit_s = {time_limit_s} must be positive", code="bad_time_limit")
    if not 0 <= balance_slack < 10:
        raise RoutingError(
            f"balance_slack = {balance_slack} must be from 0 to 10 (0.05 is 5 %)", code="bad_slack"
        )
    depot_points = sorted({int(d) for d in depots})
    service = _check_per_stop(service_times, n, depot_points[0], "service_times")
    for depot in depot_points:
        if service[depot] != 0:
            raise RoutingError(
                f"service_times[{depot}] = {service[depot]:g} but {depot} is a depot, which must "
                "have 0",
                code="depot_demand",
            )
    fixed = np.zeros(teams) if start_work is None else np.array(start_work, dtype=np.float64)
    if fixed.shape != (teams,) or not np.isfinite(fixed).all() or (fixed < 0).any():
        raise RoutingError(
            f"start_work must be {teams} finite values ≥ 0, one per team, got {fixed!r}",
            code="bad_demand",
        )
    is_depot = set(depot_points)
    stops = [i for i in range(n) if i not in is_depot]
    if not stops:
        empty: list[list[int]] = [[] for _ in range(teams)]
        zeros = [0.0] * teams
        return Split(empty, zeros, zeros, zeros, 0.0, 0.0, None, True)

    # Locations: the depots, then the stops, then the shared free end.
    points = [*depot_points, *stops]
    size = len(points) + 1
    scaled, scale = _integer_matrix(
        np.hstack([matrix[np.ix_(points, points)].ravel(), service, fixed]), VRP_SCALE_MAX
    )
    grown = np.zeros((size, size), dtype=np.int64)
    grown[:-1, :-1] = scaled[: len(points) ** 2].reshape(len(points), len(points))
    grown[-1, :-1] = np.iinfo(np.int32).max  # nobody leaves from the end
    service_int = np.rint(service * scale).astype(np.int64)
    fixed_int = np.rint(fixed * scale).astype(np.int64)
    total = int(service_int.sum() + fixed_int.sum())
    share = math.ceil(total / teams * (1 + balance_slack))
    largest = int(service_int.max(initial=0))
    capacities = [max(share - int(f), largest) for f in fixed_int]
    at = {point: k for k, point in enumerate(depot_points)}

    def problem(shifts: list[int] | None) -> pyvrp.ProblemData:
        vehicles = [
            pyvrp.VehicleType(
                num_available=1,
                capacity=[capacities[t]],
                start_depot=at[int(depots[t])],
                end_depot=len(depot_points),  # the free end
                shift_duration=np.iinfo(np.int64).max if shifts is None else shifts[t],
                name=str(t),
            )
            for t in range(teams)
        ]
        clients = [
            pyvrp.Client(
                location=len(depot_points) + k,
                delivery=[int(service_int[i])],
                service_duration=int(service_int[i]),
            )
            for k, i in enumerate(stops)
        ]
        depot_list = [pyvrp.Depot(location=k) for k in range(len(depot_points))]
        depot_list.append(pyvrp.Depot(location=size - 1))
        locations = [pyvrp.Location(x=0.0, y=0.0) for _ in range(size)]
        matrices: list = [grown]  # PyVRP's stub types matrices as np.ndarray[int]
        return pyvrp.ProblemData(locations, clients, depot_list, vehicles, matrices, matrices)

    first_limit = time_limit_s / 3
    data = problem(None)
    result = pyvrp.solve(
        data, _stop(first_limit, max_iterations), seed=seed, display=False, collect_stats=False
    )
    best = result.best
    work_int = sum(route.duration() for route in best.routes()) + int(fixed_int.sum())
    limit = math.ceil(work_int / teams * (1 + balance_slack))
    shifts = [max(limit - int(f), 0) for f in fixed_int]
    data = problem(shifts)
    first = pyvrp.Solution(
        data,
        [pyvrp.Route(data, _visits(route), route.vehicle_type()) for route in best.routes()],
    )
    best = pyvrp.solve(
        data,
        _stop(time_limit_s - first_limit, max_iterations),
        seed=seed,
        display=False,
        collect_stats=False,
        initial_solution=first,
    ).best
    routes: list[list[int]] = [[] for _ in range(teams)]
    for route in best.routes():
        routes[route.vehicle_type()] = [stops[i] for i in _visits(route)]
    lengths = [
        _walk_length(matrix, [int(depots[t]), *route], closed=False) if route else 0.0
        for t, route in enumerate(routes)
    ]
    loads = [float(service[route].sum()) for route in routes]
    works = [length + load for length, load in zip(lengths, loads, strict=True)]
    return Split(
        routes=routes,
        lengths=lengths,
        loads=loads,
        works=works,
        objective=float(sum(lengths)),
        capacity=max(capacities) / scale,
        work_limit=limit / scale,
        feasible=bool(best.is_feasible()),
    )


def _check_matrix(distances: ArrayLike) -> NDArray[np.float64]:
    try:
        matrix = np.array(distances, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise RoutingError(f"distances are not numbers: {error}", code="not_numbers") from error
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise RoutingError(
            f"distances must be a square matrix, got shape {matrix.shape}", code="not_square"
        )
    bad = ~np.isfinite(matrix) | (matrix < 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise RoutingError(
            f"distance d[{i}][{j}] = {matrix[i, j]} must be finite and ≥ 0",
            code="bad_distance",
        )
    np.fill_diagonal(matrix, 0.0)
    return matrix


def _check_per_stop(values: ArrayLike, n: int, depot: int, name: str) -> NDArray[np.float64]:
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise RoutingError(f"{name} are not numbers: {error}", code="bad_demand") from error
    if array.shape != (n,):
        raise RoutingError(
            f"{name} must have one value per point ({n}), got shape {array.shape}",
            code="bad_demand",
        )
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise RoutingError(f"{name}[{i}] = {array[i]} must be finite and ≥ 0", code="bad_demand")
    if array[depot] != 0:
        raise RoutingError(
            f"{name}[{depot}] = {array[depot]:g} but {depot} is the depot, which must have 0",
            code="depot_demand",
        )
    return array


def _integer_matrix(values: NDArray[np.float64], largest: int) -> tuple[NDArray[np.int64], float]:
    """``values`` as integers and the factor applied: 1 for whole numbers up to ``largest``,
    else ``largest / max``."""
    top = float(values.max(initial=0.0))
    if top <= largest and np.array_equal(values, np.round(values)):
        return values.astype(np.int64), 1.0
    scale = largest / top if top > 0 else 1.0
    return np.rint(values * scale).astype(np.int64), scale


def _tsp_matrix(matrix: NDArray[np.float64]) -> NDArray[np.int64]:
    scaled, _ = _integer_matrix(matrix, TSP_SCALE_MAX)
    return np.maximum(scaled, scaled.T)  # rounding keeps symmetry; this guards float noise


def _walk_length(matrix: NDArray[np.float64], order: Sequence[int], closed: bool) -> float:
    if len(order) < 2:
        return 0.0
    index = np.asarray(order)
    length = float(matrix[index[:-1], index[1:]].sum())
    return length + float(matrix[index[-1], index[0]]) if closed else length


def _best_order(
    matrix: NDArray[np.float64], start: int | None, end: int | None, closed: bool
) -> list[int]:
    """The best order of a few stops, by trying every one."""
    candidates = [
        list(order)
        for order in itertools.permutations(range(len(matrix)))
        if (start is None or order[0] == start) and (closed or end is None or order[-1] == end)
    ]
    return min(candidates, key=lambda order: _walk_length(matrix, order, closed), default=[])


def _open_path(
    matrix: NDArray[np.float64], start: int | None, end: int | None, time_limit_s: float
) -> list[int]:
    n = len(matrix)
    scaled = _tsp_matrix(matrix)
    far = int(scaled.max()) + 1 if start is not None else 0
    dummy_row = np.full(n, far, dtype=np.int64)
    for fixed in (start, end):
        if fixed is not None:
            dummy_row[fixed] = 0
    with_dummy = np.zeros((n + 1, n + 1), dtype=np.int64)
    with_dummy[:n, :n] = scaled
    with_dummy[n, :n] = dummy_row
    with_dummy[:n, n] = dummy_row
    tour = fast_tsp.find_tour(with_dummy, time_limit_s, stop_when_converged=True)
    at = tour.index(n)
    path = tour[at + 1 :] + tour[:at]  # the tour cut open at the dummy node
    if start is not None and path[0] != start and path[-1] == start:
        path.reverse()
    if start is not None and path[0] != start:  # not expected with the triangle inequality
        at = path.index(start)
        path = path[at:] + path[:at]
    if end is not None and path[-1] != end:
        path.remove(end)
        path.append(end)
    return path


def _vrp_data(
    distances: NDArray[np.int64],
    demands: NDArray[np.int64],
    service: NDArray[np.int64],
    stops: list[int],
    depot: int,
    teams: int,
    capacity: int,
    closed: bool,
    shift_duration: int | None,
) -> pyvrp.ProblemData:
    """PyVRP's problem: location 0 the depot, 1… the stops, and for open routes one more depot
    at no distance from anything (the teams' end)."""
    points = [depot, *stops]
    matrix = distances[np.ix_(points, points)]
    depots = [pyvrp.Depot(location=0)]
    if not closed:
        size = len(points) + 1
        grown = np.zeros((size, size), dtype=np.int64)
        grown[:-1, :-1] = matrix
        grown[:-1, -1] = 0  # ending anywhere is free
        grown[-1, :-1] = np.iinfo(np.int32).max  # nobody leaves from the end
        matrix = grown
        depots.append(pyvrp.Depot(location=size - 1))
    locations = [pyvrp.Location(x=0.0, y=0.0) for _ in range(len(matrix))]
    clients = [
        pyvrp.Client(location=k + 1, delivery=[int(demands[i])], service_duration=int(service[i]))
        for k, i in enumerate(stops)
    ]
    vehicle = pyvrp.VehicleType(
        num_available=teams,
        capacity=[capacity],
        start_depot=0,
        end_depot=0 if closed else 1,
        shift_duration=np.iinfo(np.int64).max if shift_duration is None else shift_duration,
    )
    matrices: list = [matrix]  # PyVRP's stub types matrices as np.ndarray[int]
    return pyvrp.ProblemData(locations, clients, depots, [vehicle], matrices, matrices)


def _stop(time_limit_s: float, max_iterations: int | None) -> StoppingCriterion:
    if max_iterations is None:
        return MaxRuntime(time_limit_s)
    return MultipleCriteria([MaxRuntime(time_limit_s), MaxIterations(max_iterations)])


def _visits(route: pyvrp.Route) -> list[int]:
    """The client indices (0-based among the clients) of a PyVRP route, in order."""
    return [activity.idx for activity in route if activity.is_client()]


def _team_length(matrix: NDArray[np.float64], depot: int, route: list[int], closed: bool) -> float:
    if not route:
        return 0.0
    return _walk_length(matrix, [depot, *route], closed)
