"""What a field pack holds, read from the database (``layers.sheets.content``), and the checks
of a pack's submission (``layers.sheets.jobs.submit_pack``): scope, order, rooms, plates, plans.

The ``street`` of tests/grid/test_sweeps.py puts nine buildings in a row in ``home`` with rooms
101 (owner-occupied), 102 (rented whole) and 103 (vacant), and two in ``away``; here each
building gets a door plate "人民路<k>号<k>栋" and the sweep is planned with tiny time limits.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.gis.geos import Polygon
from django.utils import translation

from gis.exceptions import InvalidInputError, NotFoundError
from gis.models import Role
from grid.models import AssignmentRole, PlanStop, Sweep, SweepRoom
from layers.models import SheetJob
from layers.sheets import content, jobs
from layers.sheets.pack import PackKind

from ..conftest import Territory
from ..factories import BuildingFactory, EntranceFactory, RoomFactory, box
from ..grid.factories import AssignmentFactory, StaffFactory, draw_zone
from ..grid.test_sweeps import Street as Row
from ..grid.test_sweeps import new_sweep, team
from .conftest import planned


def test_a_team_day_pack_follows_the_plan(sweep: Sweep, row: Row, users: dict[str, Any]) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    first = sweep.teams.order_by("pk").first()
    assert first is not None
    plan = content.plan_of(sweep)
    stops = list(PlanStop.objects.filter(plan=plan, team=first, day=1).order_by("seq"))
    # A building 20 m east of the first stop, not in the sweep: drawn as context.
    _x0, y0, x1, _y1 = stops[0].building.footprint.extent
    neighbour = BuildingFactory(footprint=box(x1 + 0.0002, y0, x1 + 0.0005, y0 + 0.0003))
    with translation.override("en"):
        pack = content.sweep_pack(worker, sweep.pk, team_id=first.pk, day=1)
    assert pack.kind is PackKind.TEAM_DAY
    assert "一队" in pack.title and sweep.name in pack.title
    assert [b.id for b in pack.buildings] == [s.building_id for s in stops]
    assert [b.stop for b in pack.buildings] == [s.seq for s in stops]
    assert {b.day for b in pack.buildings} == {1}
    number = {b.pk: k for k, b in enumerate(row.home + row.away, start=1)}
    for item in pack.buildings:
        k = number[item.id]
        assert item.label == f"{k}号{k}栋"
        assert item.address.endswith(f"人民路{k}号{k}栋")
        assert item.url.endswith(f"/map/#b={item.id}")
        assert item.community == "人民路社区"
        # The sweep's target rooms, top floor down (all on floor 1 here), by number.
        targets = set(
            SweepRoom.objects.filter(sweep=sweep, building_id=item.id).values_list(
                "room_id", flat=True
            )
        )
        assert {r.room_id for r in item.rooms} == targets
        assert [r.number for r in item.rooms] == ["101", "102", "103"]
        # No room plates here: each room's plate comes from its building's ("3栋101室").
        assert [r.plate for r in item.rooms] == [f"{k}栋{n}室" for n in ("101", "102", "103")]
        assert [r.rented for r in item.rooms] == [False, True, False]
        # In metres: a footprint of about 47 m × 55 m.
        assert 2_000 < item.footprint.area < 3_000
    # The worker's territory holds the whole sweep: the day's route line and the start point.
    assert [(r.team, r.day) for r in pack.routes] == [("一队", 1)]
    assert pack.start is not None and pack.start_name == ""
    assert [s.name for s in pack.streets] == ["人民路"]
    assert [c.name for c in pack.communities] == ["人民路社区"]
    facts = dict(pack.facts)
    assert facts["Team 一队"] == "队员0"
    totals = dict(pack.totals)
    assert totals["Buildings"] == str(len(stops))
    assert totals["Rooms"] == str(3 * len(stops))
    # Context: the buildings near by that are not the pack's (and only those).
    assert len(pack.context) == 1
    assert pack.context[0].centroid.distance(pack.buildings[0].footprint) < 60
    assert neighbour.pk not in {b.id for b in pack.buildings}


def test_the_whole_sweep_atlas_holds_every_team(sweep: Sweep, users: dict[str, Any]) -> None:
    pack = content.sweep_pack(users[Role.STREET_SUPERVISOR], sweep.pk)
    assert pack.kind is PackKind.SWEEP
    plan = content.plan_of(sweep)
    assert len(pack.buildings) == plan.stops.count() == 9
    assert {b.team for b in pack.buildings} == {"一队", "二队"}
    assert len(pack.routes) == plan.days.exclude(route=None).count()


def test_a_worker_in_a_street_offices_sweep_gets_their_own_part(
    territory: Territory, row: Row, users: dict[str, Any], quick_solver: None
) -> None:
    # A drawn area over both communities: the sweep belongs to the street office.
    area = Polygon.from_bbox((112.10, 32.015, 112.15, 32.08))
    sweep = planned(users[Role.STREET_SUPERVISOR], area=area.json, teams=[team()])
    worker_pack = content.sweep_pack(users[Role.COMMUNITY_WORKER], sweep.pk)
    assert {b.id for b in worker_pack.buildings} == {b.pk for b in row.home}
    assert worker_pack.routes == []  # the lines run past the other community's buildings
    assert all(c.code == territory.home.code for c in worker_pack.communities)
    whole = content.sweep_pack(users[Role.STREET_SUPERVISOR], sweep.pk)
    assert {b.id for b in whole.buildings} == {b.pk for b in row.home + row.away}
    assert whole.routes


def test_a_zone_pack_lists_its_buildings_and_chain(
    territory: Territory, row: Row, users: dict[str, Any]
) -> None:
    west = draw_zone(territory.home, Polygon.from_bbox((112.10, 32.00, 112.12, 32.05)), "西片")
    staff = StaffFactory(community=territory.home, name="李责任", phone="13912345678")
    AssignmentFactory(staff=staff, zone=west, role=AssignmentRole.RESPONSIBLE)
    pack = content.zone_pack(users[Role.COMMUNITY_WORKER], west.code)
    assert pack.kind is PackKind.ZONE
    inside = [territory.home_building] + [b for b in row.home if b.footprint.centroid.x < 112.12]
    assert {b.id for b in pack.buildings} == {b.pk for b in inside}
    assert all(b.zone == west.code and b.stop is None for b in pack.buildings)
    assert [b.address for b in pack.buildings] == sorted(b.address for b in pack.buildings)
    chain = " ".join(value for _label, value in pack.facts)
    assert "李责任" in chain and "139****5678" in chain and "13912345678" not in chain
    assert [z.code for z in pack.zones] == [west.code]
    with pytest.raises(NotFoundError):
        content.zone_pack(users[Role.COMMUNITY_WORKER], "420606001002001")


def test_a_building_pack_has_its_rooms_and_plan(
    territory: Territory, users: dict[str, Any]
) -> None:
    building = territory.home_building
    for k, number in enumerate(("101", "102")):
        RoomFactory(
            building=building,
            floor=1,
            number=number,
            plan_geom=Polygon.from_bbox((k * 5.0, 0.0, k * 5.0 + 5, 8.0)),
        )
    RoomFactory(building=building, floor=2, number="201")
    pack = content.building_pack(users[Role.READ_ONLY], building.pk)
    (item,) = pack.buildings
    assert pack.kind is PackKind.BUILDING
    assert [r.number for r in item.rooms] == ["201", "101", "102"]
    assert [(f.floor, [r.number for r in f.rooms]) for f in item.plan] == [(1, ["101", "102"])]
    assert item.plan[0].rooms[1].outline.bounds == (5.0, 0.0, 10.0, 8.0)
    for bad in (territory.away_building.pk, 10**9, "x"):
        with pytest.raises(NotFoundError):
            content.building_pack(users[Role.READ_ONLY], bad)


# ---- submitting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"kind": "map"}, "bad_kind"),
        ({"kind": "sweep"}, "required"),
        ({"kind": "team_day", "sweep": "SWEEP"}, "required"),
        ({"kind": "team_day", "sweep": "SWEEP", "team": "TEAM", "day": "x"}, "bad_day"),
        ({"kind": "team_day", "sweep": "SWEEP", "team": "TEAM", "day": 0}, "bad_day"),
        ({"kind": "team_day", "sweep": "SWEEP", "team": "TEAM", "day": 99}, "no_such_day"),
        ({"kind": "building", "building": "BUILDING", "paper": "a5"}, "bad_paper"),
    ],
)
def test_a_bad_submission_is_refused_and_stores_nothing(
    sweep: Sweep, users: dict[str, Any], territory: Territory, options: dict[str, Any], code: str
) -> None:
    first = sweep.teams.order_by("pk").first()
    assert first is not None
    real = {"SWEEP": sweep.pk, "TEAM": first.pk, "BUILDING": territory.home_building.pk}
    options = {k: real.get(v, v) if isinstance(v, str) else v for k, v in options.items()}
    with pytest.raises(InvalidInputError) as caught:
        jobs.submit_pack(users[Role.COMMUNITY_WORKER], options, queue=False)
    assert caught.value.code == code
    assert caught.value.render("zh-hans") != caught.value.render("en")
    assert not SheetJob.objects.exists()


def test_out_of_scope_or_unplanned_is_refused(
    territory: Territory, row: Row, users: dict[str, Any]
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    for options in (
        {"kind": "building", "building": territory.away_building.pk},
        {"kind": "zone", "zone": "420606001002001"},
        {"kind": "sweep", "sweep": 10**6},
    ):
        with pytest.raises(NotFoundError):
            jobs.submit_pack(worker, options, queue=False)
    unplanned = new_sweep(worker)
    with pytest.raises(InvalidInputError) as caught:
        jobs.submit_pack(worker, {"kind": "sweep", "sweep": unplanned.pk}, queue=False)
    assert caught.value.code == "not_planned"
    assert not SheetJob.objects.exists()


def test_the_same_pending_pack_is_not_submitted_twice(
    territory: Territory, users: dict[str, Any]
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    options = {"kind": "building", "building": territory.home_building.pk}
    first, created = jobs.submit_pack(worker, options, queue=False)
    again, created_again = jobs.submit_pack(worker, dict(options), queue=False)
    assert (created, created_again, again.pk) == (True, False, first.pk)
    other, created_other = jobs.submit_pack(worker, {**options, "paper": "a3"}, queue=False)
    assert created_other and other.pk != first.pk
    # Another user's identical pack is their own job.
    mine, created_mine = jobs.submit_pack(users[Role.READ_ONLY], options, queue=False)
    assert created_mine and mine.pk != first.pk


def test_plans_of_a_building_of_several_units_name_the_unit(
    territory: Territory, users: dict[str, Any]
) -> None:
    building = territory.home_building
    for unit in ("1", "2"):
        entrance = EntranceFactory(building=building, number=unit)
        RoomFactory(
            building=building,
            entrance=entrance,
            floor=1,
            number="101",
            plan_geom=Polygon.from_bbox((int(unit) * 6.0, 0.0, int(unit) * 6.0 + 6, 8.0)),
        )
    (item,) = content.building_pack(users[Role.COMMUNITY_WORKER], building.pk).buildings
    assert [r.number for r in item.plan[0].rooms] == ["1-101", "2-101"]
