"""Planning sweeps (``grid.sweep_jobs``): the planning job end to end, re-plans that keep the
visits made, re-balances that keep hand moves, hand edits as new versions, the plan and route
endpoints and the ``plan_sweep`` command.

The ``row`` fixture (``make_street`` of tests/grid/test_sweeps.py) puts nine buildings in a row in ``home``
(y 32.02, about 380 m apart) with three rooms each; here a street runs along the row, and
three teams start at the west end of each third of it. Solver time limits are tiny.
"""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import numpy as np
import pytest
import shapely
from django.contrib.gis.geos import GEOSGeometry, LineString, Point
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from gis.models import Building, Role, Street, StreetKind
from gis.progress import JobStatus
from grid import sweep_jobs, sweeps
from grid.exceptions import SweepError
from grid.models import (
    PlanDay,
    PlanStop,
    Staff,
    Sweep,
    SweepPlan,
    SweepPlanJob,
    SweepRoom,
    Visit,
)
from grid.sweep_input import building_points_and_streets
from grid.walking import walking_matrix

from ..conftest import Territory
from ..factories import UserFactory
from .test_sweeps import Street as Row
from .test_sweeps import make_street, new_sweep, team

STARTS = (112.103, 112.115, 112.127)


@pytest.fixture(autouse=True)
def quick_solver(settings: Any) -> None:
    settings.SWEEP_PLAN_TIME_LIMIT_S = 0.3
    settings.SWEEP_ORDER_TIME_S = 0.05


@pytest.fixture
def row(territory: Territory) -> Row:
    return make_street(territory)


@pytest.fixture
def road(territory: Territory) -> Street:
    return Street.objects.create(
        name="人民路",
        kind=StreetKind.LOCAL,
        district=territory.office.district,
        centerline=LineString((112.10, 32.0195), (112.145, 32.0195), srid=4326),
    )


@pytest.fixture
def sweep(territory: Territory, row: Row, road: Street, users: dict[str, Any]) -> Sweep:
    teams = [
        team(name, [row.staff[i].pk], start=Point(x, 32.0197, srid=4326))
        for i, (name, x) in enumerate(zip(("一队", "二队", "三队"), STARTS, strict=True))
    ]
    # 3 rooms × 6 min and ~5 min walk per building: a 45-minute day holds one or two buildings.
    return new_sweep(users[Role.COMMUNITY_WORKER], teams=teams, day_minutes=45)


def _client(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _plan(user: Any, sweep: Sweep, kind: str = "plan") -> SweepPlanJob:
    job = sweep_jobs.submit_plan(user, sweep, kind, queue=False)
    job = sweep_jobs.run_plan(str(job.pk))
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    return job


def _snapshot(plan: SweepPlan) -> list[tuple[Any, ...]]:
    stops = plan.stops.order_by("team_id", "seq").values_list(
        "team_id", "building_id", "day", "seq", "rooms", "walk_m"
    )
    days = plan.days.order_by("team_id", "day").values_list("team_id", "day", "walk_m", "work_min")
    return [*stops, *days]


def _open_path_m(matrix: np.ndarray, order: list[int]) -> float:
    path = [0, *order]
    return float(sum(matrix[a, b] for a, b in itertools.pairwise(path)))


# ---------------------------------------------------------------------------------------------
# The planning job


def test_a_planning_job_splits_orders_and_cuts_days(
    sweep: Sweep, row: Row, users: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    worker = _client(users[Role.COMMUNITY_WORKER])
    with django_capture_on_commit_callbacks(execute=True):
        submitted = worker.post(
            reverse("sweep-plan-jobs", args=[sweep.pk]), {"kind": "plan"}, format="json"
        )
    assert submitted.status_code == 202, submitted.content
    body = worker.get(submitted.json()["url"]).json()
    assert (body["status"], body["percent"], body["finished"], body["error"]) == (
        "succeeded",
        100,
        True,
        None,
    )
    assert body["plan"]["version"] == 1
    assert body["plan"]["reason"] == "planned"

    plan = SweepPlan.objects.get(sweep=sweep)
    stops = list(plan.stops.order_by("team_id", "seq"))
    # Every target building in exactly one stop, with all its rooms.
    assert sorted(s.building_id for s in stops) == sorted(b.pk for b in row.home)
    assert {s.rooms for s in stops} == {3}
    # Balanced: three teams, three buildings each (the row splits evenly at the starts).
    teams = list(sweep.teams.order_by("pk"))
    per_team = {t.pk: [s for s in stops if s.team_id == t.pk] for t in teams}
    assert sorted(len(v) for v in per_team.values()) == [3, 3, 3]
    summary = plan.summary
    assert summary["max_mean"] <= 1.10
    assert summary["buildings"] == 9 and summary["rooms"] == 27
    assert summary["fallback_share"] == 0.0  # every leg walks the street
    assert [row["team"] for row in summary["teams"]] == [t.pk for t in teams]

    data = building_points_and_streets(Building.objects.filter(pk__in=[b.pk for b in row.home]))
    position = {int(b): i for i, b in enumerate(data.building_ids)}
    for team_, team_stops in per_team.items():
        assert [s.seq for s in team_stops] == list(range(1, len(team_stops) + 1))
        # The order is the shortest open walk from the start (brute force on the same matrix).
        start = sweep_jobs._team_points([sweep.teams.get(pk=team_)])[0]
        points = [start, *(data.points[position[s.building_id]] for s in team_stops)]
        matrix = walking_matrix(points, data.streets).distances
        planned = _open_path_m(matrix, list(range(1, len(points))))
        best = min(
            _open_path_m(matrix, list(p)) for p in itertools.permutations(range(1, len(points)))
        )
        assert planned <= best + 1.0
        assert sum(s.walk_m for s in team_stops) == pytest.approx(planned, abs=1.0)
        # Days: in walking order, each within the budget (45 min).
        days = list(plan.days.filter(team_id=team_).order_by("day"))
        assert [s.day for s in team_stops] == sorted(s.day for s in team_stops)
        assert [d.day for d in days] == sorted({s.day for s in team_stops})
        for day in days:
            on_day = [s for s in team_stops if s.day == day.day]
            assert day.stops == len(on_day) and day.rooms == 3 * len(on_day)
            assert day.work_min <= sweep.day_minutes + 1e-6
            assert day.work_min == pytest.approx(
                sum(s.work_min + s.walk_m / sweep.walking_speed_m_per_min for s in on_day)
            )
            assert day.route is not None and day.route.srid == 4326
            assert day.route.length > 0
    # Counted per team for coverage (grid.coverage).
    assert {c.team_id for c in sweep.counts.all()} == {t.pk for t in teams}


def test_the_plan_and_route_endpoints(
    sweep: Sweep, row: Row, users: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    _plan(worker, sweep)
    api = _client(worker)
    plan = api.get(reverse("sweep-plan", args=[sweep.pk])).json()
    assert plan["type"] == "FeatureCollection"
    stops = [f for f in plan["features"] if f["properties"]["kind"] == "stop"]
    routes = [f for f in plan["features"] if f["properties"]["kind"] == "route"]
    assert len(stops) == 9
    assert {f["geometry"]["type"] for f in stops} == {"Point"}
    assert {f["geometry"]["type"] for f in routes} == {"LineString"}
    assert len(routes) == PlanDay.objects.filter(plan__sweep=sweep).count()
    assert sum(len(d["buildings"]) for t in plan["teams"] for d in t["days"]) == 9
    assert plan["plan"]["version"] == 1

    first_team = sweep.teams.order_by("pk").first()
    assert first_team is not None
    url = reverse("sweep-team-route", args=[sweep.pk, first_team.pk])
    with django_assert_max_num_queries(16):
        route = api.get(url)
    assert route.status_code == 200, route.content
    body = route.json()
    assert set(body) == {
        "sweep",
        "team",
        "plan_version",
        "day",
        "days",
        "walk_m",
        "work_min",
        "hours",
        "route",
        "stops",
    }
    assert body["sweep"] == {
        "id": sweep.pk,
        "name": sweep.name,
        "starts_on": "2026-01-05",
        "ends_on": "2026-01-30",
    }
    assert body["team"]["start"]["type"] == "Point"
    assert body["team"]["members"] == [{"id": row.staff[0].pk, "name": row.staff[0].name}]
    assert (body["plan_version"], body["day"]) == (1, 1)
    day = PlanDay.objects.get(plan__sweep=sweep, team=first_team, day=1)
    assert body["days"] == PlanDay.objects.filter(plan__sweep=sweep, team=first_team).count()
    assert body["walk_m"] == pytest.approx(day.walk_m, abs=0.1)
    assert body["hours"] == pytest.approx(day.work_min / 60, abs=0.001)
    assert body["route"]["type"] == "LineString"
    day_stops = PlanStop.objects.filter(plan__sweep=sweep, team=first_team, day=1).order_by("seq")
    assert [s["building"] for s in body["stops"]] == [s.building_id for s in day_stops]
    first = body["stops"][0]
    assert set(first) == {"seq", "building", "address", "door_plates", "point", "walk_m", "rooms"}
    assert [r["number"] for r in first["rooms"]] == ["101", "102", "103"]
    assert set(first["rooms"][0]) >= {
        "id",
        "number",
        "floor",
        "entrance",
        "use",
        "visited",
        "last_outcome",
        "revisit",
        "flagged",
    }
    assert not any(r["visited"] for r in first["rooms"])

    # The first day visited: the default day moves on to the next one that has rooms left.
    SweepRoom.objects.filter(sweep=sweep, building__in=[s.building_id for s in day_stops]).update(
        first_visited_at=timezone.now(), last_outcome="registered"
    )
    if body["days"] > 1:
        assert api.get(url).json()["day"] == 2
        again = api.get(url, {"day": 1}).json()
        assert all(r["visited"] for s in again["stops"] for r in s["rooms"])
    assert api.get(url, {"day": 99}).status_code == 400
    assert api.get(url, {"day": "x"}).status_code == 400


def test_a_replan_keeps_the_visits_made(sweep: Sweep, row: Row, users: dict[str, Any]) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    first = _plan(worker, sweep).plan
    assert first is not None
    before = _snapshot(first)
    done, half = row.home[0], row.home[4]
    visit = Visit.objects.create(
        id="5b1b4c4e-8a73-4b8e-9a5f-2a7f7d0c1e01",
        room=done.rooms.first(),
        building=done,
        community_code=done.community.code,
        sweep=sweep,
        visited_at=timezone.now(),
        outcome="registered",
    )
    now = timezone.now()
    SweepRoom.objects.filter(sweep=sweep, building=done).update(first_visited_at=now)
    SweepRoom.objects.filter(sweep=sweep, building=half, room__number="101").update(
        first_visited_at=now
    )
    job = _plan(worker, sweep, "replan")
    plan = job.plan
    assert plan is not None
    assert (plan.version, plan.reason) == (2, "replanned")
    planned = dict(plan.stops.values_list("building_id", "rooms"))
    assert done.pk not in planned  # all its rooms visited: not planned again
    assert planned[half.pk] == 2  # one of three rooms visited
    assert len(planned) == 8
    assert Visit.objects.get(pk=visit.pk).outcome == "registered"  # visits untouched
    assert SweepRoom.objects.filter(sweep=sweep, first_visited_at=now).count() == 4
    assert _snapshot(first) == before  # version 1 unchanged
    assert [p.version for p in sweep_jobs.plan_versions(sweep)] == [2, 1]


def test_hand_edits_add_versions_and_a_rebalance_keeps_them(
    sweep: Sweep, row: Row, users: dict[str, Any]
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    v1 = _plan(worker, sweep).plan
    assert v1 is not None
    before = _snapshot(v1)
    west, middle, east = sweep.teams.order_by("pk")
    moved = v1.stops.filter(team=middle).order_by("seq").first()
    assert moved is not None

    v2 = sweep_jobs.move_buildings(worker, sweep, buildings=[moved.building_id], team=west)
    assert (v2.version, v2.reason) == (2, "edited")
    assert v2.stops.get(building_id=moved.building_id).team == west
    assert v2.stops.filter(team=west).count() == 4
    # The west team keeps its order; the building (the next one east) goes at the end.
    west_v1 = list(v1.stops.filter(team=west).order_by("seq").values_list("building_id", flat=True))
    west_v2 = list(v2.stops.filter(team=west).order_by("seq").values_list("building_id", flat=True))
    assert west_v2 == [*west_v1, moved.building_id]
    assert v2.stops.filter(team=middle).count() == 2
    # The east team is copied unchanged, the others recomputed and numbered 1, 2, …
    east_v1 = [row for row in before if row[0] == east.pk]
    assert [r for r in _snapshot(v2) if r[0] == east.pk] == east_v1
    for team_ in (west, middle):
        seqs = list(v2.stops.filter(team=team_).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))
        assert (
            v2.days.filter(team=team_).exclude(route=None).count()
            == v2.days.filter(team=team_).count()
        )
    assert v2.summary["buildings"] == 9 and v2.summary["from_version"] == 1

    order = list(v2.stops.filter(team=west).order_by("-seq").values_list("building_id", flat=True))
    v3 = sweep_jobs.reorder(worker, sweep, team=west, buildings_in_order=order)
    assert v3.version == 3
    assert (
        list(v3.stops.filter(team=west).order_by("seq").values_list("building_id", flat=True))
        == order
    )
    # Walking the row backwards is longer.
    walk = {p.version: p.summary["teams"][0]["walk_km"] for p in (v2, v3)}
    assert walk[3] > walk[2]
    assert _snapshot(v1) == before  # older versions never change

    with pytest.raises(SweepError, match="exactly once"):
        sweep_jobs.reorder(worker, sweep, team=west, buildings_in_order=order[:-1])
    with pytest.raises(SweepError, match="not in the plan"):
        sweep_jobs.move_buildings(worker, sweep, buildings=[row.away[0].pk], team=west)
    assert SweepPlan.objects.filter(sweep=sweep).count() == 3

    # A re-balance keeps the building moved by hand with the team it was moved to.
    v4 = _plan(worker, sweep, "rebalance").plan
    assert v4 is not None
    assert (v4.version, v4.reason, v4.summary["fixed"]) == (4, "rebalanced", 1)
    assert v4.stops.get(building_id=moved.building_id).team == west


def test_edits_through_the_api(sweep: Sweep, row: Row, users: dict[str, Any]) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    _plan(worker, sweep)
    api = _client(worker)
    url = reverse("sweep-plan-edits", args=[sweep.pk])
    west, middle, _ = sweep.teams.order_by("pk")
    building = PlanStop.objects.filter(plan__sweep=sweep, team=middle).first()
    assert building is not None
    moved = api.post(
        url,
        {"action": "move", "buildings": [building.building_id], "team": west.pk, "day": 1},
        format="json",
    )
    assert moved.status_code == 201, moved.content
    assert (moved.json()["version"], moved.json()["reason"]) == (2, "edited")
    for bad in (
        {"action": "swap"},
        {"action": "move", "buildings": "all", "team": west.pk},
        {"action": "move", "buildings": [building.building_id], "team": 10**8},
        {"action": "reorder", "team": west.pk, "buildings": [building.building_id]},
    ):
        response = api.post(url, bad, format="json")
        assert response.status_code in (400, 404), response.content
        assert response.json()["detail_zh"] and response.json()["detail_en"]
    versions = api.get(reverse("sweep-plans", args=[sweep.pk])).json()
    assert [v["version"] for v in versions] == [2, 1]
    old = api.get(reverse("sweep-plan", args=[sweep.pk]), {"version": 1}).json()
    assert old["plan"]["version"] == 1
    assert _client(users[Role.READ_ONLY]).post(url, {"action": "swap"}).status_code == 403


def test_submit_is_refused_when_it_cannot_run(
    sweep: Sweep, users: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    for kind, code in (("replan", "not_planned"), ("rebalance", "not_planned"), ("x", "bad_kind")):
        with pytest.raises(SweepError) as raised:
            sweep_jobs.submit_plan(worker, sweep, kind)
        assert raised.value.code == code
    _plan(worker, sweep)
    with pytest.raises(SweepError, match="has a plan already"):
        sweep_jobs.submit_plan(worker, sweep, "plan")
    SweepRoom.objects.filter(sweep=sweep).update(first_visited_at=timezone.now())
    with pytest.raises(SweepError, match="nothing is left"):
        sweep_jobs.submit_plan(worker, sweep, "replan")
    assert SweepPlanJob.objects.count() == 1
    reader = _client(users[Role.READ_ONLY])
    url = reverse("sweep-plan-jobs", args=[sweep.pk])
    assert reader.post(url, {"kind": "replan"}, format="json").status_code == 403


def test_the_command_plans_with_a_bar(sweep: Sweep, users: dict[str, Any]) -> None:
    out = io.StringIO()
    call_command("plan_sweep", str(sweep.pk), stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert f"sweep {sweep.pk}: version 1 (planned)" in text
    assert "max/mean" in text
    with pytest.raises(CommandError, match="has a plan already"):
        call_command("plan_sweep", str(sweep.pk), "--kind", "plan", stderr=io.StringIO())
    call_command("plan_sweep", str(sweep.pk), "--kind", "replan", stdout=out, stderr=io.StringIO())
    assert SweepPlan.objects.filter(sweep=sweep).count() == 2
    with pytest.raises(CommandError, match="No sweep"):
        call_command("plan_sweep", "999999", stderr=io.StringIO())


def test_a_route_line_is_stored_in_4326(sweep: Sweep, users: dict[str, Any]) -> None:
    plan = _plan(users[Role.COMMUNITY_WORKER], sweep).plan
    assert plan is not None
    day = plan.days.exclude(route=None).first()
    assert day is not None
    line = GEOSGeometry(json.dumps(json.loads(day.route.json)), srid=4326)
    x0, y0, x1, y1 = line.extent
    assert 112.10 <= x0 <= x1 <= 112.15 and 32.0 <= y0 <= y1 <= 32.05


def test_cheapest_insertion() -> None:
    start = shapely.Point(0, 0)
    points = [shapely.Point(x, 0) for x in (100, 200, 300, 150, 400, -50)]
    # Walk 0 → 1 → 2; 150 m goes between 100 and 200, 400 m at the end, −50 m first.
    assert sweep_jobs._cheapest_insertion(start, points, [0, 1, 2], [3, 4, 5]) == [
        5,
        0,
        3,
        1,
        2,
        4,
    ]
    assert sweep_jobs._cheapest_insertion(start, points, [], [2, 0]) == [0, 2]


def test_mine_names_the_day_to_walk(sweep: Sweep, row: Row, users: dict[str, Any]) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    today = timezone.localdate()
    sweeps.update_sweep(worker, sweep, starts_on=today, ends_on=today)
    _plan(worker, sweep)
    field_user = UserFactory(username="field")
    Staff.objects.filter(pk=row.staff[1].pk).update(user=field_user)
    middle = sweep.teams.order_by("pk")[1]
    days = PlanDay.objects.filter(plan__sweep=sweep, team=middle).count()
    (mine,) = _client(field_user).get(reverse("sweep-mine")).json()
    assert (mine["team"]["id"], mine["day"], mine["days"]) == (middle.pk, 1, days)
    first_day = PlanStop.objects.filter(plan__sweep=sweep, team=middle, day=1)
    SweepRoom.objects.filter(sweep=sweep, building__in=first_day.values("building_id")).update(
        first_visited_at=timezone.now()
    )
    (mine,) = _client(field_user).get(reverse("sweep-mine")).json()
    assert mine["day"] == (2 if days > 1 else 1)


def test_a_hand_edit_made_while_a_job_plans_is_not_undone(
    sweep: Sweep, row: Row, users: dict[str, Any]
) -> None:
    """A re-balance that read the plan before a hand move fails instead of saving over it."""
    worker = users[Role.COMMUNITY_WORKER]
    _plan(worker, sweep)
    teams = list(sweep.teams.order_by("pk"))
    first = sweep_jobs.current_plan(sweep)
    assert first is not None
    building = first.stops.filter(team=teams[0]).order_by("seq")[0].building_id
    job = sweep_jobs.submit_plan(worker, sweep, "rebalance", queue=False)
    edited: list[int] = []

    def edit_while_planning(done: int, total: int) -> None:
        if not edited:  # the first step: the job has read its input
            moved = sweep_jobs.move_buildings(worker, sweep, buildings=[building], team=teams[2].pk)
            edited.append(moved.version)

    job = sweep_jobs.run_plan(str(job.pk), progress=edit_while_planning)
    assert edited == [2]
    assert job.status == JobStatus.FAILED and "changed while it was being planned" in job.error_en
    final = sweep_jobs.current_plan(sweep)
    assert final is not None and final.version == 2 and final.reason == "edited"
    assert final.stops.get(building_id=building).team_id == teams[2].pk
