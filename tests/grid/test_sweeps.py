"""Sweeps: creation from community codes, zone codes or a drawn polygon, each target, bad input,
teams, editing, closing and the sweep API (``grid.sweeps``, ``grid.api.sweeps``).

The ``home`` community is the box 112.10–112.15 E × 32.00–32.05 N, ``away`` the box north of it.
The ``street`` fixture puts nine buildings in a row in ``home`` (y 32.02, x 112.105 + 0.004 k),
each with rooms 101 (owner-occupied), 102 (rented whole) and 103 (vacant), and two in ``away``.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.gis.geos import GEOSGeometry, Point
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from gis.exceptions import GeometryError, NotFoundError, ScopeError
from gis.models import Building, Role, Room, RoomUse
from grid import sweep_jobs, sweeps
from grid.exceptions import SweepClosedError, SweepError
from grid.models import RoomVisitState, Staff, Sweep, SweepCount, SweepRoom, SweepTeam

from ..conftest import Territory
from ..factories import BuildingFactory, RoomFactory, UserFactory, box
from .factories import StaffFactory, draw_zone

WINDOW = {"starts_on": datetime.date(2026, 1, 5), "ends_on": datetime.date(2026, 1, 30)}


@dataclass
class Street:
    home: list[Building]
    away: list[Building]
    staff: list[Staff]


@pytest.fixture
def street(territory: Territory) -> Street:
    return make_street(territory)


def make_street(territory: Territory) -> Street:
    home = []
    for k in range(9):
        x = 112.105 + 0.004 * k
        home.append(BuildingFactory(footprint=box(x, 32.02, x + 0.0005, 32.0205)))
    away = [
        BuildingFactory(footprint=box(112.105 + 0.004 * k, 32.07, 112.1055 + 0.004 * k, 32.0705))
        for k in range(2)
    ]
    for building in home + away:
        RoomFactory(building=building, number="101", floor=1, use=RoomUse.OWNER_OCCUPIED)
        RoomFactory(building=building, number="102", floor=1, use=RoomUse.RENTED_WHOLE)
        RoomFactory(building=building, number="103", floor=1, use=RoomUse.VACANT)
    staff = [StaffFactory(community=territory.home, name=f"队员{i}") for i in range(3)]
    return Street(home, away, staff)


def start(x: float = 112.10, y: float = 32.02) -> Point:
    return Point(x, y, srid=4326)


def team(name: str = "一队", members: list[int] | None = None, **more: Any) -> dict[str, Any]:
    return {"name": name, "members": members or [], "start": start(), **more}


def new_sweep(user: Any, **options: Any) -> Sweep:
    data: dict[str, Any] = {"name": "春季清查", **WINDOW, "teams": [team()]}
    data.update(options)
    if "area" not in data and "area_codes" not in data:
        data["area_codes"] = ["420606001001"]
    return sweeps.create_sweep(user, **data)


def _rooms(sweep: Sweep) -> set[int]:
    return set(SweepRoom.objects.filter(sweep=sweep).values_list("room_id", flat=True))


def _home_rooms(street: Street, *uses: str) -> set[int]:
    rooms = Room.objects.filter(building__in=street.home)
    if uses:
        rooms = rooms.filter(use__in=uses)
    return set(rooms.values_list("pk", flat=True))


def _client(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


# ---------------------------------------------------------------------------------------------
# Creating a sweep


def test_a_sweep_of_a_community_targets_its_rooms(
    territory: Territory, street: Street, users: dict[str, Any]
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    sweep = new_sweep(worker, teams=[team(members=[street.staff[0].pk])])
    assert sweep.territory_code == territory.home.code
    assert sweep.area_codes == [territory.home.code]
    assert sweep.area.equals_exact(territory.home.geom, 1e-9)
    assert sweep.created_by == worker
    # The community's own building has no rooms; the nine of the street have three each.
    assert _rooms(sweep) == _home_rooms(street)
    assert set(SweepRoom.objects.filter(sweep=sweep).values_list("area_code", flat=True)) == {
        territory.home.code
    }
    (only,) = sweep.teams.all()
    assert (only.name, list(only.members.all())) == ("一队", [street.staff[0]])
    # Counted once created (grid.coverage): all 27 target rooms, none visited, no team yet.
    counts = SweepCount.objects.filter(sweep=sweep)
    assert sum(c.targets for c in counts) == 27
    assert {c.team_id for c in counts} == {None}


def test_a_sweep_of_zones_targets_the_rooms_inside_them_with_their_zone(
    territory: Territory, street: Street, users: dict[str, Any]
) -> None:
    west = draw_zone(territory.home, box(112.10, 32.00, 112.115, 32.05), "西")
    draw_zone(territory.home, box(112.115, 32.00, 112.15, 32.05), "东")
    sweep = new_sweep(users[Role.COMMUNITY_WORKER], area_codes=[west.code])
    inside = [b for b in street.home if b.centroid.x < 112.115]
    assert len(inside) == 3
    assert _rooms(sweep) == set(
        Room.objects.filter(building__in=inside).values_list("pk", flat=True)
    )
    assert set(SweepRoom.objects.filter(sweep=sweep).values_list("area_code", flat=True)) == {
        west.code
    }
    assert sweep.territory_code == territory.home.code
    assert sweep.area_codes == [west.code]


def test_a_drawn_polygon_over_two_communities_belongs_to_their_street_office(
    territory: Territory, street: Street, users: dict[str, Any]
) -> None:
    area = box(112.10, 32.015, 112.115, 32.08)  # three home buildings and both away ones
    sweep = new_sweep(users[Role.STREET_SUPERVISOR], area=json.loads(area.json))
    assert sweep.territory_code == territory.office.code
    assert sweep.area_codes == []
    assert len(_rooms(sweep)) == (3 + 2) * 3
    with pytest.raises(ScopeError):  # the worker may not write the away community
        new_sweep(users[Role.COMMUNITY_WORKER], area=area)


def test_targets(territory: Territory, street: Street, users: dict[str, Any]) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    rented = new_sweep(worker, target="rented")
    assert _rooms(rented) == _home_rooms(street, RoomUse.RENTED_WHOLE, RoomUse.RENTED_SHARED)

    now = timezone.now()
    today = timezone.localdate()
    recent, old, failed, flagged, revisit = Room.objects.filter(
        building__in=street.home, number="101"
    ).order_by("pk")[:5]

    def state(room: Room, seen: datetime.date | None, **more: Any) -> None:
        RoomVisitState.objects.create(
            room=room,
            last_visited_at=now,
            last_visited_on=today,
            last_outcome="registered" if seen else "not_at_home",
            last_seen_on=seen,
            **more,
        )

    state(recent, today - datetime.timedelta(days=5))
    state(old, today - datetime.timedelta(days=40))
    state(failed, None)  # only "not at home" so far: never seen
    state(flagged, today, flagged=True)
    state(revisit, today, revisit_after=now + datetime.timedelta(days=1))
    stale = new_sweep(worker, target="not_visited", not_visited_days=30)
    assert _rooms(stale) == _home_rooms(street) - {recent.pk, flagged.pk, revisit.pk}

    follow_up = new_sweep(worker, target="follow_up")
    assert _rooms(follow_up) == {flagged.pk, revisit.pk}


def _bowtie() -> dict[str, Any]:
    ring = [[112.10, 32.0], [112.12, 32.02], [112.12, 32.0], [112.10, 32.02], [112.10, 32.0]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.mark.parametrize(
    ("options", "error", "code"),
    [
        ({"area_codes": ["420606001099"]}, SweepError, "unknown_area_code"),
        ({"area_codes": ["420606001001999"]}, SweepError, "unknown_area_code"),
        ({"area_codes": ["420606001002"]}, ScopeError, "permission_denied"),
        ({"area": _bowtie()}, GeometryError, "invalid_geometry"),
        ({"area": {"type": "Polygon", "coordinates": []}}, GeometryError, None),
        (
            {"area": {"type": "Polygon", "coordinates": [[[0, 0], [1e6, 0], [1e6, 1e6], [0, 0]]]}},
            GeometryError,
            "out_of_range",
        ),
        ({"area_codes": ["420606001001"], "area": _bowtie()}, SweepError, "area_codes_or_area"),
        (
            {"starts_on": datetime.date(2026, 2, 1), "ends_on": datetime.date(2026, 1, 1)},
            SweepError,
            "window_reversed",
        ),
        ({"area": box(112.14, 32.04, 112.145, 32.045)}, SweepError, "no_rooms"),
        ({"target": "follow_up"}, SweepError, "no_rooms"),
        ({"target": "not_visited"}, SweepError, "bad_not_visited_days"),
        ({"target": "everyone"}, SweepError, "bad_target"),
        ({"teams": []}, SweepError, "no_teams"),
        ({"teams": [team(), team()]}, SweepError, "duplicate_team"),
        ({"teams": [team(members=[10**8])]}, SweepError, "unknown_staff"),
        ({"teams": [team(start={"type": "Point", "coordinates": [999, 0]})]}, GeometryError, None),
        ({"minutes_per_room": 0}, SweepError, "bad_number"),
        ({"name": " "}, SweepError, "bad_name"),
    ],
)
def test_bad_input_changes_nothing(
    territory: Territory,
    street: Street,
    users: dict[str, Any],
    options: dict[str, Any],
    error: type[Exception],
    code: str | None,
) -> None:
    if "area" in options and "area_codes" not in options:
        options = {**options}
    with pytest.raises(error) as raised:
        new_sweep(users[Role.COMMUNITY_WORKER], **options)
    if code:
        assert raised.value.code == code  # type: ignore[attr-defined]
    assert raised.value.render("zh-hans") and raised.value.render("en")  # type: ignore[attr-defined]
    assert not Sweep.objects.exists()
    assert not SweepRoom.objects.exists()
    assert not SweepTeam.objects.exists()


def test_territory_of() -> None:
    assert sweeps.territory_of(["420606001001"]) == "420606001001"
    assert sweeps.territory_of(["420606001001", "420606001002"]) == "420606001"
    assert sweeps.territory_of(["420606001001", "420606002001"]) == "420606"
    with pytest.raises(SweepError, match="more than one district"):
        sweeps.territory_of(["420606001001", "420602001001"])


# ---------------------------------------------------------------------------------------------
# Editing, teams, closing


def test_edit_window_teams_and_close(
    territory: Territory, street: Street, users: dict[str, Any]
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    sweep = new_sweep(worker)
    sweeps.update_sweep(worker, sweep, name="秋季清查", ends_on="2026-02-28")
    sweep.refresh_from_db()
    assert (sweep.name, sweep.ends_on) == ("秋季清查", datetime.date(2026, 2, 28))
    with pytest.raises(SweepError, match="before it starts"):
        sweeps.update_sweep(worker, sweep, starts_on="2026-03-01")
    sweep.refresh_from_db()
    assert sweep.starts_on == WINDOW["starts_on"]

    second = sweeps.add_team(
        worker, sweep, name="二队", members=[street.staff[1].pk], start=start(112.13)
    )
    sweeps.update_team(worker, second, {"members": [street.staff[1].pk, street.staff[2].pk]})
    assert set(second.members.all()) == set(street.staff[1:])
    with pytest.raises(SweepError, match="Two teams"):
        sweeps.update_team(worker, second, {"name": "一队"})
    sweeps.remove_team(worker, second)
    (first,) = sweep.teams.all()
    with pytest.raises(SweepError, match="at least one team"):
        sweeps.remove_team(worker, first)

    with pytest.raises(ScopeError):
        sweeps.update_sweep(users[Role.READ_ONLY], sweep, name="x")
    sweeps.close_sweep(worker, sweep)
    with pytest.raises(SweepClosedError):
        sweeps.update_sweep(worker, sweep, name="x")
    with pytest.raises(SweepClosedError):
        sweeps.add_team(worker, sweep, name="三队", start=start())


def test_scope_of_lookups(territory: Territory, street: Street, users: dict[str, Any]) -> None:
    office_sweep = new_sweep(
        users[Role.STREET_SUPERVISOR], area=box(112.10, 32.015, 112.115, 32.08)
    )
    worker = users[Role.COMMUNITY_WORKER]
    # A worker sees the street office's sweep (read-only) but cannot change it.
    assert sweeps.sweep_for(worker, office_sweep.pk) == office_sweep
    with pytest.raises(ScopeError):
        sweeps.sweep_for(worker, office_sweep.pk, action=sweeps.Action.WRITE)
    outsider = UserFactory(username="outsider", grants=[(Role.DISTRICT_ADMIN, "420602")])
    with pytest.raises(NotFoundError):
        sweeps.sweep_for(outsider, office_sweep.pk)
    with pytest.raises(NotFoundError):
        sweeps.sweep_for(worker, "1; DROP")


# ---------------------------------------------------------------------------------------------
# API


def _geo(geom: GEOSGeometry) -> dict[str, Any]:
    return json.loads(geom.json)


def test_api_create_read_edit_close(
    territory: Territory, street: Street, users: dict[str, Any]
) -> None:
    worker = _client(users[Role.COMMUNITY_WORKER])
    body = {
        "name": "春季清查",
        "starts_on": "2026-01-05",
        "ends_on": "2026-01-30",
        "target": "rented",
        "area_codes": [territory.home.code],
        "teams": [
            {
                "name": "一队",
                "members": [street.staff[0].pk],
                "start": _geo(start()),
                "start_name": "社区服务站",
            }
        ],
    }
    created = worker.post(reverse("sweep-list"), body, format="json")
    assert created.status_code == 201, created.content
    sweep = created.json()
    assert (sweep["territory_code"], sweep["target"], sweep["rooms"]) == (
        territory.home.code,
        "rented",
        9,
    )
    assert sweep["plan"] is None
    (first,) = sweep["teams"]
    assert first["members"] == [{"id": street.staff[0].pk, "name": street.staff[0].name}]
    assert first["start"]["coordinates"] == pytest.approx([112.10, 32.02])
    assert first["start_name"] == "社区服务站"

    listed = worker.get(reverse("sweep-list")).json()
    assert [s["id"] for s in listed] == [sweep["id"]]
    url = reverse("sweep-detail", args=[sweep["id"]])
    assert worker.get(url).json()["name"] == "春季清查"

    reversed_window = worker.patch(url, {"ends_on": "2025-12-31"}, format="json")
    assert reversed_window.status_code == 400
    assert reversed_window.json()["code"] == "window_reversed"
    assert reversed_window.json()["detail_zh"] and reversed_window.json()["detail_en"]
    assert worker.get(url).json()["ends_on"] == "2026-01-30"
    renamed = worker.patch(url, {"name": "冬季清查"}, format="json")
    assert (renamed.status_code, renamed.json()["name"]) == (200, "冬季清查")
    assert worker.patch(url, {"target": "all"}, format="json").status_code == 400

    teams_url = reverse("sweep-team-list", args=[sweep["id"]])
    added = worker.post(teams_url, {"name": "二队", "start": _geo(start(112.12))}, format="json")
    assert added.status_code == 201, added.content
    team_url = reverse("sweep-team-detail", args=[sweep["id"], added.json()["id"]])
    patched = worker.patch(team_url, {"members": [street.staff[2].pk]}, format="json")
    assert patched.json()["members"][0]["id"] == street.staff[2].pk
    assert len(worker.get(teams_url).json()) == 2
    assert worker.delete(team_url).status_code == 204
    assert worker.get(team_url).status_code == 404

    reader = _client(users[Role.READ_ONLY])
    assert reader.get(url).status_code == 200
    assert reader.patch(url, {"name": "x"}, format="json").status_code == 403
    assert reader.post(reverse("sweep-list"), body, format="json").status_code == 403

    closed = worker.post(reverse("sweep-close", args=[sweep["id"]]))
    assert (closed.status_code, closed.json()["closed"]) == (200, True)
    assert worker.patch(url, {"name": "x"}, format="json").status_code == 409
    assert worker.get(reverse("sweep-list"), {"open": "1"}).json() == []


def test_api_bad_create_is_400_and_writes_nothing(
    territory: Territory, street: Street, users: dict[str, Any]
) -> None:
    worker = _client(users[Role.COMMUNITY_WORKER])
    body = {"name": "x", "starts_on": "2026-01-05", "ends_on": "2026-01-30", "teams": []}
    for extra, code in [
        ({"area_codes": [territory.home.code]}, "no_teams"),
        ({"area": _bowtie(), "teams": [{"name": "a", "start": _geo(start())}]}, "invalid_geometry"),
        ({"area_codes": ["4206060010"], "teams": [{"name": "a", "start": _geo(start())}]}, None),
        ({"colour": "red"}, "unknown_field"),
    ]:
        response = worker.post(reverse("sweep-list"), {**body, **extra}, format="json")
        assert response.status_code == 400, response.content
        if code:
            assert response.json()["code"] == code
    assert not Sweep.objects.exists()
    outside = {**body, "area_codes": [territory.away.code], "teams": [team()]}
    outside["teams"][0]["start"] = _geo(start())
    assert worker.post(reverse("sweep-list"), outside, format="json").status_code == 403


def test_mine_lists_the_open_sweeps_of_my_teams(
    territory: Territory, street: Street, users: dict[str, Any]
) -> None:
    field_user = UserFactory(
        username="field", grants=[(Role.COMMUNITY_WORKER, territory.home.code)]
    )
    me = street.staff[0]
    Staff.objects.filter(pk=me.pk).update(user=field_user)
    worker = users[Role.COMMUNITY_WORKER]
    today = timezone.localdate()
    window = {"starts_on": today, "ends_on": today + datetime.timedelta(days=10)}
    mine = new_sweep(worker, **window, teams=[team(members=[me.pk]), team("二队")])
    new_sweep(worker, name="别队", **window, teams=[team(members=[street.staff[1].pk])])
    past = {
        "starts_on": today - datetime.timedelta(days=20),
        "ends_on": today - timezone.timedelta(days=1),
    }
    new_sweep(worker, name="已过", **past, teams=[team(members=[me.pk])])
    closed = new_sweep(worker, name="已结束", **window, teams=[team(members=[me.pk])])
    sweeps.close_sweep(worker, closed)

    answer = _client(field_user).get(reverse("sweep-mine"))
    assert answer.status_code == 200
    (row,) = answer.json()
    assert row["sweep"]["id"] == mine.pk
    assert row["team"]["name"] == "一队"
    assert row["team"]["members"] == [{"id": me.pk, "name": me.name}]
    assert (row["day"], row["days"]) == (None, 0)  # not planned yet
    assert _client(worker).get(reverse("sweep-mine")).json() == []


def test_admin_shows_a_sweep_and_saves_its_window_through_the_service(
    territory: Territory, street: Street, users: dict[str, Any], client: Any
) -> None:
    sweep = new_sweep(users[Role.COMMUNITY_WORKER])
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    assert client.get(reverse("admin:grid_sweep_changelist")).status_code == 200
    url = reverse("admin:grid_sweep_change", args=[sweep.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "一队" in page.content.decode()  # the teams inline
    assert territory.home.code in page.content.decode()  # a read-only field
    reversed_window = {"name": "x", "starts_on": "2026-02-01", "ends_on": "2026-01-01"}
    refused = client.post(url, {**reversed_window, **_inline_management()})
    assert refused.status_code == 200  # the form again, with the error
    sweep.refresh_from_db()
    assert sweep.name == "春季清查"
    saved = client.post(
        url,
        {
            "name": "改名",
            "starts_on": "2026-01-05",
            "ends_on": "2026-02-28",
            **_inline_management(),
        },
    )
    assert saved.status_code == 302, saved.content[:500]
    sweep.refresh_from_db()
    assert (sweep.name, sweep.ends_on) == ("改名", datetime.date(2026, 2, 28))


def _inline_management() -> dict[str, Any]:
    return {
        f"{prefix}-{key}": value
        for prefix in ("teams", "plans")
        for key, value in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0), ("MAX_NUM_FORMS", 1000))
    }


def test_team_patch_and_numbers_refuse_odd_input(street: Street, users: dict[str, Any]) -> None:
    """A team PATCH naming a key that is also a parameter name, and a number too large for a
    float, are refused (400), not server errors."""
    worker = users[Role.COMMUNITY_WORKER]
    sweep = new_sweep(worker)
    api = _client(worker)
    team_url = reverse("sweep-team-detail", args=[sweep.pk, sweep.teams.get().pk])
    for body in ({"user": 1}, {"team": 1}, {"changes": {}}):
        answer = api.patch(team_url, body, format="json")
        assert answer.status_code == 400, (body, answer.content)
        assert answer.json()["code"] == "bad_team"
    huge = (
        '{"name": "x", "starts_on": "2026-01-05", "ends_on": "2026-01-30", '
        '"area_codes": ["420606001001"], "day_minutes": ' + "9" * 400 + ", "
        '"teams": [{"name": "a", "members": [], "start": '
        '{"type": "Point", "coordinates": [112.1, 32.02]}}]}'
    )
    answer = api.post(reverse("sweep-list"), huge, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["code"] == "bad_number"
    assert Sweep.objects.count() == 1


def test_a_worker_sees_only_their_part_of_a_street_office_sweep(
    territory: Territory, street: Street, users: dict[str, Any], settings: Any
) -> None:
    """Staff names of other communities and route lines (they run past other communities'
    buildings) are not shown to a worker scoped below the sweep's node; the supervisor sees all."""
    settings.SWEEP_PLAN_TIME_LIMIT_S = 0.3
    settings.SWEEP_ORDER_TIME_S = 0.05
    supervisor = users[Role.STREET_SUPERVISOR]
    away_staff = StaffFactory(community=territory.away, name="长虹队员甲")
    sweep = new_sweep(
        supervisor,
        area_codes=[territory.home.code, territory.away.code],
        teams=[
            team("一队", [street.staff[0].pk], start=start(112.103, 32.0197)),
            team("北队", [away_staff.pk], start=start(112.105, 32.0702)),
        ],
    )
    job = sweep_jobs.submit_plan(supervisor, sweep, "plan", queue=False)
    sweep_jobs.run_plan(str(job.pk))
    for user, sees_all in ((users[Role.COMMUNITY_WORKER], False), (supervisor, True)):
        api = _client(user)
        detail = api.get(reverse("sweep-detail", args=[sweep.pk])).json()
        names = {m["name"] for t in detail["teams"] for m in t["members"]}
        assert ("长虹队员甲" in names) is sees_all
        assert detail["rooms"] == (33 if sees_all else 27)
        plan = api.get(reverse("sweep-plan", args=[sweep.pk])).json()
        lines = [f["geometry"] for f in plan["features"] if f["properties"]["kind"] == "route"]
        assert lines and all((line is not None) is sees_all for line in lines)
        north = sweep.teams.get(name="北队")
        route = api.get(reverse("sweep-team-route", args=[sweep.pk, north.pk])).json()
        assert (route["route"] is not None) is sees_all
        assert [m["name"] for m in route["team"]["members"]] == (["长虹队员甲"] if sees_all else [])
