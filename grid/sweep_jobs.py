"""Planning a sweep: a background job that writes the next plan version, and hand edits.

``submit_plan`` checks the sweep and queues a :class:`SweepPlanJob` (django-tasks; the worker is
``manage.py db_worker``); ``run_plan`` is what the worker runs. It reads the buildings that still
have target rooms to visit (``SweepRoom.first_visited_at`` null: the very first plan plans them
all, a later one only what is left, so visits already made stay as they are), one point per
building and the streets around them (``grid.sweep_input``), each team's start point, and calls
the pure planner ``grid.sweep_plan.plan_sweep``. The result is saved as the next
:class:`SweepPlan` version with its stops and days (route lines in EPSG:4326), and the sweep's
counts per team are rebuilt (``grid.coverage.rebuild_sweep_counts``).

The three kinds (``PlanKind``):

* ``plan`` — the first plan of the sweep (refused once a plan exists): every building free.
* ``replan`` — plan what is left afresh: the buildings with rooms still to visit, every one free
  to go to any team (a team added since, or a start point moved, is taken into account).
* ``rebalance`` — even out the teams' hours over what is left, keeping the hand edits: a building
  that was moved by hand (its team in the plan in force differs from its team in the last plan
  the planner made) stays with the team it was moved to; every other building is free.

Hand edits (``move_buildings``, ``reorder``) are small and synchronous: they copy the plan in
force into the next version, change the teams concerned, and recompute those teams' walks, days
and route lines (``grid.sweep_plan.plan_team``). Versions never change once written.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Sum
from django.utils.translation import gettext_lazy as _

from gis.crs import STORAGE_SRID, metric_srid, to_metric, transformed
from gis.geometry import from_shapely, to_shapely
from gis.models import Building
from gis.progress import ProgressWriter, claim_job, fail_job, fail_job_for, succeed_job
from gis.querysets import Action

from .exceptions import SweepError
from .models import (
    PlanDay,
    PlanKind,
    PlanReason,
    PlanStop,
    Sweep,
    SweepPlan,
    SweepPlanJob,
    SweepRoom,
    SweepTeam,
)
from .sweep_input import building_points_and_streets
from .sweep_plan import SweepPlanError, TeamPlan, plan_sweep, plan_team
from .sweeps import require_open, sweep_for, team_for

Progress = Callable[[int, int], None]

#: Progress steps: the input read, the planner (follows its own progress), the plan stored.
LOADED, PLANNED, STORED = 5, 90, 100

REASONS = {
    PlanKind.PLAN: PlanReason.PLANNED,
    PlanKind.REPLAN: PlanReason.REPLANNED,
    PlanKind.REBALANCE: PlanReason.REBALANCED,
}
#: Versions the planner made (the others are hand edits).
MACHINE_REASONS = (PlanReason.PLANNED, PlanReason.REPLANNED, PlanReason.REBALANCED)


def time_limit_s() -> float:
    """PyVRP's time for a sweep's split (``settings.SWEEP_PLAN_TIME_LIMIT_S``, 20 s)."""
    return float(getattr(settings, "SWEEP_PLAN_TIME_LIMIT_S", 20.0))


def order_time_s() -> float | None:
    """fast-tsp's time per team (``settings.SWEEP_ORDER_TIME_S``; by default the planner's)."""
    value = getattr(settings, "SWEEP_ORDER_TIME_S", None)
    return None if value is None else float(value)


# ---------------------------------------------------------------------------------------------
# Reads


def current_plan(sweep: Sweep) -> SweepPlan | None:
    """The plan in force: the sweep's highest version (``None`` before the first plan)."""
    return SweepPlan.objects.filter(sweep=sweep).order_by("-version").first()


def plan_versions(sweep: Sweep) -> list[SweepPlan]:
    """Every plan version of the sweep, newest first, with its summary."""
    return list(
        SweepPlan.objects.filter(sweep=sweep).select_related("created_by").order_by("-version")
    )


def rooms_to_visit(sweep: Sweep) -> dict[int, int]:
    """Building id → target rooms not visited yet."""
    rows = (
        SweepRoom.objects.filter(sweep=sweep, first_visited_at__isnull=True)
        .values("building_id")
        .annotate(n=Count("pk"))
        .values_list("building_id", "n")
    )
    return dict(rows)


# ---------------------------------------------------------------------------------------------
# Submit


def submit_plan(user: Any, sweep: Sweep, kind: str, *, queue: bool = True) -> SweepPlanJob:
    """Check and queue a planning job of ``kind`` (``PlanKind``); the worker runs it once the
    transaction commits (``queue=False``: the caller runs it, as the command line does).

    :class:`NotFoundError` / :class:`ScopeError` outside the user's (write) scope,
    :class:`SweepClosedError` for a closed sweep, :class:`SweepError` for an unknown kind, a
    ``plan`` when a plan exists (use ``replan`` or ``rebalance``), a ``replan``/``rebalance``
    before any plan, or nothing left to visit.
    """
    sweep = sweep_for(user, sweep.pk, action=Action.WRITE)
    require_open(sweep)
    if kind not in PlanKind.values:
        raise SweepError(
            _("Unknown planning kind %(value)s: use one of %(allowed)s."),
            code="bad_kind",
            field="kind",
            value=repr(kind)[:30],
            allowed=", ".join(PlanKind.values),
        )
    planned = SweepPlan.objects.filter(sweep=sweep).exists()
    if kind == PlanKind.PLAN and planned:
        raise SweepError(
            _("This sweep has a plan already: submit a re-plan or a re-balance instead."),
            code="already_planned",
            field="kind",
        )
    if kind != PlanKind.PLAN and not planned:
        raise SweepError(
            _("This sweep has no plan yet: submit a plan first."),
            code="not_planned",
            field="kind",
        )
    if not SweepRoom.objects.filter(sweep=sweep, first_visited_at__isnull=True).exists():
        raise SweepError(
            _("Every target room of this sweep has been visited: nothing is left to plan."),
            code="nothing_left",
        )
    job = SweepPlanJob.objects.create(
        sweep=sweep, kind=kind, created_by=user if getattr(user, "pk", None) else None
    )
    if queue:
        from .tasks import run_sweep_plan_task

        transaction.on_commit(lambda: run_sweep_plan_task.enqueue(str(job.pk)))
    return job


# ---------------------------------------------------------------------------------------------
# Run


@dataclass(frozen=True)
class _Input:
    building_ids: list[int]
    rooms: list[int]
    points: Any
    streets: Any
    teams: list[SweepTeam]
    depots: list[shapely.Point]
    fixed_team: Any
    #: The version in force when the input was read (0: none).
    version: int


def _team_points(teams: Sequence[SweepTeam]) -> list[shapely.Point]:
    """Each team's start point in the metric SRID."""
    return [to_shapely(to_metric(t.start)) for t in teams]


def _load(sweep: Sweep, kind: str) -> _Input:
    version = _next_version(sweep) - 1
    left = rooms_to_visit(sweep)
    if not left:
        raise SweepError(
            _("Every target room of this sweep has been visited: nothing is left to plan."),
            code="nothing_left",
        )
    teams = list(sweep.teams.order_by("pk"))
    if not teams:
        raise SweepError(_("The sweep has no team: add one first."), code="no_teams")
    data = building_points_and_streets(Building.objects.filter(pk__in=left))
    ids = [int(i) for i in data.building_ids]
    fixed = np.full(len(ids), -1, dtype=np.intp)
    if kind == PlanKind.REBALANCE:
        index = {team.pk: i for i, team in enumerate(teams)}
        for position, team_id in enumerate(_moved_by_hand(sweep, ids)):
            if team_id is not None and team_id in index:
                fixed[position] = index[team_id]
    return _Input(
        building_ids=ids,
        rooms=[left[i] for i in ids],
        points=data.points,
        streets=data.streets,
        teams=teams,
        depots=_team_points(teams),
        fixed_team=fixed,
        version=version,
    )


def _moved_by_hand(sweep: Sweep, building_ids: list[int]) -> list[int | None]:
    """Per building: the team it was moved to by hand since the planner's last version (its
    team in the plan in force differs from that version's), else ``None``."""
    current = current_plan(sweep)
    machine = (
        SweepPlan.objects.filter(sweep=sweep, reason__in=MACHINE_REASONS)
        .order_by("-version")
        .first()
    )
    if current is None or machine is None or machine.pk == current.pk:
        return [None] * len(building_ids)
    now = dict(current.stops.values_list("building_id", "team_id"))
    before = dict(machine.stops.values_list("building_id", "team_id"))
    return [now.get(b) if now.get(b) != before.get(b) else None for b in building_ids]


def _check_job(job: SweepPlanJob, sweep: Sweep) -> None:
    """The submitter may still change the sweep, and it is still open."""
    if job.created_by is not None:
        sweep_for(job.created_by, sweep.pk, action=Action.WRITE)
    require_open(sweep)


def run_plan(job_id: str, *, progress: Progress | None = None) -> SweepPlanJob:
    """Run a queued planning job (the worker calls this); returns it finished. A job that is
    not queued is left as it is: a task delivered twice does not run twice."""
    claimed = claim_job(SweepPlanJob, job_id)
    job = SweepPlanJob.objects.select_related("sweep", "created_by").get(pk=job_id)
    if not claimed:
        return job
    report = ProgressWriter(SweepPlanJob, job.pk, also=progress)
    try:
        # Read and plan without holding locks (visits keep arriving meanwhile); the version is
        # written in one short transaction at the end.
        sweep = Sweep.objects.get(pk=job.sweep_id)
        _check_job(job, sweep)
        started = time.monotonic()
        data = _load(sweep, job.kind)
        report(LOADED, STORED)

        def planner_progress(done: int, total: int) -> None:
            report(LOADED + round((PLANNED - LOADED) * done / max(total, 1)), STORED)

        result = plan_sweep(
            data.points,
            np.asarray(data.rooms, dtype=np.float64) * sweep.minutes_per_room,
            data.depots,
            streets=data.streets,
            speed_m_per_min=sweep.walking_speed_m_per_min,
            day_minutes=float(sweep.day_minutes),
            time_limit_s=time_limit_s(),
            order_time_s=order_time_s(),
            progress=planner_progress,
            fixed_team=data.fixed_team,
        )
        report(PLANNED, STORED)
        with transaction.atomic():
            # FOR NO KEY UPDATE: serialises versions without blocking visits that name the sweep.
            sweep = Sweep.objects.select_for_update(no_key=True).get(pk=job.sweep_id)
            _check_job(job, sweep)
            if set(sweep.teams.values_list("pk", flat=True)) != {t.pk for t in data.teams}:
                raise SweepError(
                    _("The sweep's teams changed while it was being planned: plan it again."),
                    code="teams_changed",
                )
            if _next_version(sweep) - 1 != data.version:
                # A hand edit (or another job) wrote a version meanwhile: saving this one would
                # silently undo it.
                raise SweepError(
                    _("The plan was changed while it was being planned: plan it again."),
                    code="plan_changed",
                )
            plan = _save_plan(
                sweep,
                reason=REASONS[PlanKind(job.kind)],
                user=job.created_by,
                teams=[
                    (team, _TeamStops.of(plan_, data.building_ids, data.rooms))
                    for team, plan_ in zip(data.teams, result.teams, strict=True)
                ],
                extra={
                    "kind": job.kind,
                    "method": result.method,
                    "fallback_share": round(result.fallback_share, 4),
                    "split_feasible": result.split_feasible,
                    "fixed": int((data.fixed_team >= 0).sum()),
                    "seconds": round(time.monotonic() - started, 2),
                },
            )
        job.plan = plan
        succeed_job(job, steps=STORED, also=progress)
    except SweepPlanError as error:
        fail_job(job, f"无法规划：{error}", f"The sweep cannot be planned: {error}")
    except Exception as error:
        fail_job_for(
            job, error, zh="规划出错，未保存新的方案：", en="Planning failed, no plan saved: "
        )
    finally:
        report.close()
    return job


# ---------------------------------------------------------------------------------------------
# Writing a version


@dataclass(frozen=True)
class _TeamStops:
    """One team's part of a version: buildings in walking order with their figures, and its
    days (walk, work, route line in metres)."""

    buildings: list[int]
    rooms: list[int]
    day: list[int]
    walk_m: list[float]
    fallback: list[bool]
    days: list[tuple[int, int, int, float, float, shapely.LineString | None]]

    @classmethod
    def of(cls, plan: TeamPlan, building_ids: Sequence[int], rooms: Sequence[int]) -> _TeamStops:
        """From the planner's :class:`TeamPlan` whose ``stops`` index ``building_ids``."""
        buildings = [building_ids[i] for i in plan.stops]
        stop_rooms = [rooms[i] for i in plan.stops]
        per_day = Counter(zip(plan.day, stop_rooms, strict=True))
        days = [
            (
                d.day,
                d.stops,
                sum(n * count for (day, n), count in per_day.items() if day == d.day),
                d.walk_m,
                d.total_min,
                d.line,
            )
            for d in plan.days
        ]
        return cls(buildings, stop_rooms, plan.day, plan.walk_m, plan.fallback, days)


def _next_version(sweep: Sweep) -> int:
    top = SweepPlan.objects.filter(sweep=sweep).aggregate(v=Max("version"))["v"]
    return (top or 0) + 1


def _save_plan(
    sweep: Sweep,
    *,
    reason: str,
    user: Any,
    teams: Sequence[tuple[SweepTeam, _TeamStops]],
    extra: dict[str, Any],
    copied: Sequence[tuple[SweepTeam, SweepPlan]] = (),
) -> SweepPlan:
    """Write the next version: the stops and days of ``teams``, and those of the ``copied``
    teams taken unchanged from an earlier version; then its summary and the sweep's counts."""
    plan = SweepPlan.objects.create(
        sweep=sweep,
        version=_next_version(sweep),
        reason=reason,
        created_by=user if getattr(user, "pk", None) else None,
    )
    srid = metric_srid()
    stops: list[PlanStop] = []
    days: list[PlanDay] = []
    per_room = sweep.minutes_per_room
    for team, part in teams:
        for k, building in enumerate(part.buildings):
            stops.append(
                PlanStop(
                    plan=plan,
                    team=team,
                    building_id=building,
                    day=part.day[k],
                    seq=k + 1,
                    rooms=part.rooms[k],
                    walk_m=part.walk_m[k],
                    work_min=part.rooms[k] * per_room,
                )
            )
        for day, count, rooms, walk_m, work_min, line in part.days:
            route: Any = None
            if line is not None and not line.is_empty:
                route = transformed(from_shapely(line, srid=srid), STORAGE_SRID)
            days.append(
                PlanDay(
                    plan=plan,
                    team=team,
                    day=day,
                    stops=count,
                    rooms=rooms,
                    walk_m=walk_m,
                    work_min=work_min,
                    route=route,
                )
            )
    for team, source in copied:
        stops.extend(
            PlanStop(
                plan=plan,
                team=team,
                building_id=s.building_id,
                day=s.day,
                seq=s.seq,
                rooms=s.rooms,
                walk_m=s.walk_m,
                work_min=s.work_min,
            )
            for s in source.stops.filter(team=team).order_by("seq")
        )
        days.extend(
            PlanDay(
                plan=plan,
                team=team,
                day=d.day,
                stops=d.stops,
                rooms=d.rooms,
                walk_m=d.walk_m,
                work_min=d.work_min,
                route=d.route,
            )
            for d in source.days.filter(team=team).order_by("day")
        )
    copied_stops = len(stops) - sum(len(part.buildings) for _, part in teams)
    PlanStop.objects.bulk_create(stops, batch_size=2000)
    PlanDay.objects.bulk_create(days, batch_size=2000)
    # Straight-line legs: counted for the teams planned here; a copied team keeps the share of
    # the version it was copied from.
    fallback = float(sum(sum(part.fallback) for _, part in teams))
    legs = sum(len(part.fallback) for _, part in teams) + copied_stops
    if copied:
        fallback += copied_stops * float(copied[0][1].summary.get("fallback_share", 0.0))
    plan.summary = {
        **summarise(plan),
        "fallback_share": round(fallback / legs, 4) if legs else 0.0,
        **extra,
    }
    plan.save(update_fields=["summary"])
    _rebuild_counts(sweep)
    return plan


def summarise(plan: SweepPlan) -> dict[str, Any]:
    """The version's figures per team (hours, walking km, days, rooms, buildings) and overall
    (max/mean team hours, totals), read from its stops and days."""
    teams = list(plan.sweep.teams.order_by("pk"))
    per_team: dict[int, dict[str, Any]] = {
        row["team_id"]: dict(row)
        for row in plan.days.values("team_id").annotate(
            walk_m=Sum("walk_m"), work_min=Sum("work_min"), days=Count("pk")
        )
    }
    stops: dict[int, dict[str, Any]] = {
        row["team_id"]: dict(row)
        for row in plan.stops.values("team_id").annotate(rooms=Sum("rooms"), buildings=Count("pk"))
    }
    rows = []
    for team in teams:
        d, s = per_team.get(team.pk, {}), stops.get(team.pk, {})
        rows.append(
            {
                "team": team.pk,
                "name": team.name,
                "hours": round((d.get("work_min") or 0.0) / 60, 3),
                "walk_km": round((d.get("walk_m") or 0.0) / 1000, 3),
                "days": d.get("days", 0),
                "rooms": s.get("rooms") or 0,
                "buildings": s.get("buildings", 0),
            }
        )
    hours = [r["hours"] for r in rows]
    mean = sum(hours) / len(hours) if hours else 0.0
    return {
        "teams": rows,
        "max_mean": round(max(hours) / mean, 4) if mean > 0 else 1.0,
        "hours": round(sum(hours), 3),
        "walk_km": round(sum(r["walk_km"] for r in rows), 3),
        "rooms": sum(r["rooms"] for r in rows),
        "buildings": sum(r["buildings"] for r in rows),
        "days": max((r["days"] for r in rows), default=0),
    }


def _rebuild_counts(sweep: Sweep) -> None:
    from .coverage import rebuild_sweep_counts

    rebuild_sweep_counts(sweep)


# ---------------------------------------------------------------------------------------------
# Hand edits


def _plan_in_force(sweep: Sweep) -> SweepPlan:
    plan = current_plan(sweep)
    if plan is None:
        raise SweepError(
            _("This sweep has no plan yet: plan it before editing the plan."),
            code="not_planned",
        )
    return plan


def _ids(values: Any, field: str) -> list[int]:
    if (
        not isinstance(values, list | tuple)
        or not values
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        or len(set(values)) != len(values)
    ):
        raise SweepError(
            _("%(name)s must be a non-empty list of distinct building ids, not %(value)s."),
            code="bad_buildings",
            field=field,
            name=field,
            value=repr(values)[:60],
        )
    return list(values)


def _cheapest_insertion(
    start: shapely.Point, points: list[shapely.Point], order: list[int], insert: list[int]
) -> list[int]:
    """``order`` (indices into ``points``) with each of ``insert`` put where it adds the least
    straight-line walk (the open walk starts at ``start``)."""
    xy = shapely.get_coordinates(np.asarray([start, *points], dtype=object))
    path = [0, *(i + 1 for i in order)]
    for new in (i + 1 for i in insert):
        d = np.hypot(*(xy[path] - xy[new]).T)  # from each point of the path to the new one
        legs = np.hypot(*(xy[path[1:]] - xy[path[:-1]]).T)
        added = np.append(d[:-1] + d[1:] - legs, d[-1])  # between k and k + 1, or at the end
        path.insert(int(np.argmin(added)) + 1, new)
    return [k - 1 for k in path[1:]]


def _replanned_team(
    sweep: Sweep,
    plan: SweepPlan,
    team: SweepTeam,
    buildings: list[int],
    insert: list[int],
) -> _TeamStops:
    """A team's walk over ``buildings`` in this order, with each of ``insert`` put where it
    adds the least walk; walks, days and route lines recomputed; rooms as in the plan in
    force."""
    every = [*buildings, *insert]
    rooms = dict(plan.stops.filter(building_id__in=every).values_list("building_id", "rooms"))
    if not every:
        return _TeamStops([], [], [], [], [], [])
    data = building_points_and_streets(Building.objects.filter(pk__in=every))
    position = {int(b): i for i, b in enumerate(data.building_ids)}
    ids = [int(b) for b in data.building_ids]
    counts = [rooms[b] for b in ids]
    start = _team_points([team])[0]
    order = _cheapest_insertion(
        start, list(data.points), [position[b] for b in buildings], [position[b] for b in insert]
    )
    result = plan_team(
        data.points,
        np.asarray(counts, dtype=np.float64) * sweep.minutes_per_room,
        start,
        streets=data.streets,
        order=order,
        speed_m_per_min=sweep.walking_speed_m_per_min,
        day_minutes=float(sweep.day_minutes),
    )
    return _TeamStops.of(result, ids, counts)


def _edit(
    user: Any,
    sweep: Sweep,
    changes: dict[SweepTeam, tuple[list[int], list[int]]],
    extra: dict[str, Any],
) -> SweepPlan:
    """The next version: each team in ``changes`` walks its buildings in the order given,
    with the buildings to insert put where they add the least walk; the other teams are
    copied from the plan in force."""
    plan = _plan_in_force(sweep)
    try:
        edited = [
            (team, _replanned_team(sweep, plan, team, buildings, insert))
            for team, (buildings, insert) in changes.items()
        ]
    except SweepPlanError as error:
        raise SweepError(
            _("The edited walk cannot be planned: %(reason)s"), code="edit_failed", reason=error
        ) from error
    kept = [(t, plan) for t in sweep.teams.order_by("pk") if t not in changes]
    return _save_plan(
        sweep,
        reason=PlanReason.EDITED,
        user=user,
        teams=edited,
        copied=kept,
        extra={**extra, "from_version": plan.version},
    )


def _writable(user: Any, sweep: Sweep) -> Sweep:
    sweep = sweep_for(user, sweep.pk, action=Action.WRITE)
    sweep = Sweep.objects.select_for_update(no_key=True).get(pk=sweep.pk)
    require_open(sweep)
    return sweep


@transaction.atomic
def move_buildings(
    user: Any, sweep: Sweep, *, buildings: Sequence[int], team: Any, day: int | None = None
) -> SweepPlan:
    """Move ``buildings`` (stops of the plan in force) to ``team``: a new version, reason
    ``edited``. The teams they leave keep their order without them; the team they join keeps
    its order too and gets them at the end of its day ``day`` when given (days are then cut
    again from the walk), else each where it adds the least walk (straight-line estimate). Walks, days and route lines of those teams are
    recomputed; the other teams are copied unchanged."""
    sweep = _writable(user, sweep)
    target = team if isinstance(team, SweepTeam) else team_for(sweep, team)
    if target.sweep_id != sweep.pk:
        target = team_for(sweep, target.pk)
    moved = _ids(buildings, "buildings")
    plan = _plan_in_force(sweep)
    stops = list(plan.stops.order_by("team_id", "seq").values_list("team_id", "building_id", "day"))
    team_of = {b: t for t, b, _ in stops}
    missing = [b for b in moved if b not in team_of]
    if missing:
        raise SweepError(
            _("Buildings %(value)s are not in the plan in force: move only planned buildings."),
            code="not_planned_building",
            field="buildings",
            value=", ".join(map(str, missing))[:60],
        )
    if day is not None and (not isinstance(day, int) or isinstance(day, bool) or day < 1):
        raise SweepError(
            _("day must be a whole number of at least 1, not %(value)s."),
            code="bad_day",
            field="day",
            value=repr(day)[:20],
        )
    teams = {t.pk: t for t in sweep.teams.all()}
    changes: dict[SweepTeam, tuple[list[int], list[int]]] = {}
    for source in sorted({team_of[b] for b in moved} - {target.pk}):
        left = [b for t, b, _ in stops if t == source and b not in moved]
        changes[teams[source]] = (left, [])
    own = [(b, d) for t, b, d in stops if t == target.pk and b not in moved]
    if day is None:
        changes[target] = ([b for b, _ in own], moved)
    else:
        before = [b for b, d in own if d <= day]
        after = [b for b, d in own if d > day]
        changes[target] = ([*before, *moved, *after], [])
    return _edit(user, sweep, changes, {"edit": "move", "moved": moved, "to_team": target.pk})


@transaction.atomic
def reorder(user: Any, sweep: Sweep, *, team: Any, buildings_in_order: Sequence[int]) -> SweepPlan:
    """Give ``team``'s walk the order ``buildings_in_order`` (exactly its buildings in the plan
    in force): a new version, reason ``edited``, with that team's walks, days and route lines
    recomputed and the other teams copied unchanged."""
    sweep = _writable(user, sweep)
    target = team if isinstance(team, SweepTeam) else team_for(sweep, team)
    if target.sweep_id != sweep.pk:
        target = team_for(sweep, target.pk)
    order = _ids(buildings_in_order, "buildings_in_order")
    plan = _plan_in_force(sweep)
    own = list(plan.stops.filter(team=target).order_by("seq").values_list("building_id", flat=True))
    if sorted(own) != sorted(order):
        raise SweepError(
            _(
                "Give every building of team %(team)s exactly once (%(count)s buildings); "
                "to move buildings between teams, use a move."
            ),
            code="bad_order",
            field="buildings_in_order",
            team=target.name,
            count=len(own),
        )
    return _edit(
        user, sweep, {target: (order, [])}, {"edit": "reorder", "reordered_team": target.pk}
    )
