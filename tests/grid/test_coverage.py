"""Coverage kept incrementally (migration 0004's triggers, grid.coverage) against a brute-force
recount by plain SQL over rooms, buildings, zones and visits; the coverage and sweep reads, the
gap lists and their API."""

from __future__ import annotations

import datetime
import json
import random
import uuid
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from gis import services as gis_services
from gis.models import Building, Role, Room, RoomUse
from grid import coverage, services, visits
from grid.models import (
    CoverageCount,
    PlanReason,
    PlanStop,
    Sweep,
    SweepCount,
    SweepPlan,
    SweepRoom,
    SweepTeam,
    VisitOutcome,
    Zone,
)

from ..conftest import Territory
from ..factories import BuildingFactory, RoomFactory, box, mbox
from .factories import StaffFactory, draw_zone

TZ = datetime.timezone(datetime.timedelta(hours=8))

BRUTE_COVERAGE = """
    SELECT area, rented, day, count(*)
      FROM (SELECT COALESCE(
                     (SELECT z.code FROM grid_zone z
                       WHERE z.community_code = c.code AND z.valid_to IS NULL
                         AND ST_Covers(z.geom, ST_PointOnSurface(b.footprint))
                       ORDER BY z.code LIMIT 1),
                     c.code) AS area,
                   r.use IN ('rented_whole', 'rented_shared') AS rented,
                   ((SELECT max(v.visited_at) FROM grid_visit v
                      WHERE v.room_id = r.id AND v.outcome NOT IN ('not_at_home', 'refused'))
                    AT TIME ZONE 'Asia/Shanghai')::date AS day
              FROM geo_room r JOIN geo_building b ON b.id = r.building_id
              JOIN geo_community c ON c.id = b.community_id) x
     GROUP BY 1, 2, 3
"""

BRUTE_SWEEP = """
    WITH plan AS (SELECT id FROM grid_sweepplan WHERE sweep_id = %(sweep)s
                   ORDER BY version DESC LIMIT 1)
    SELECT ps.team_id, sr.area_code, count(*),
           count(*) FILTER (WHERE v.seen > 0),
           count(*) FILTER (WHERE v.seen = 0 AND v.n > 0 AND v.n < %(n)s),
           count(*) FILTER (WHERE v.seen = 0 AND v.n >= %(n)s)
      FROM grid_sweeproom sr
      LEFT JOIN grid_planstop ps
             ON ps.plan_id = (SELECT id FROM plan) AND ps.building_id = sr.building_id
     CROSS JOIN LATERAL (
            SELECT count(*) AS n,
                   count(*) FILTER (WHERE outcome NOT IN ('not_at_home', 'refused')) AS seen
              FROM grid_visit WHERE sweep_id = sr.sweep_id AND room_id = sr.room_id) v
     WHERE sr.sweep_id = %(sweep)s
     GROUP BY 1, 2
"""


def kept_coverage() -> set[tuple[Any, ...]]:
    rows = CoverageCount.objects.values_list("area_code", "rented", "last_visited_on", "rooms")
    assert all(r[3] > 0 for r in rows), "rows at 0 are deleted"
    return set(rows)


def recounted_coverage() -> set[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(BRUTE_COVERAGE)
        return set(cursor.fetchall())


def kept_sweep(sweep: Sweep) -> set[tuple[Any, ...]]:
    rows = SweepCount.objects.filter(sweep=sweep, targets__gt=0)
    return set(rows.values_list("team", "area_code", "targets", "visited", "revisits", "flagged"))


def recounted_sweep(sweep: Sweep) -> set[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(BRUTE_SWEEP, {"sweep": sweep.pk, "n": sweep.revisit_attempts})
        return set(cursor.fetchall())


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def visit(room: Room, outcome: str, when: datetime.datetime, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "room": room.pk,
        "outcome": outcome,
        "visited_at": when.isoformat(),
        **extra,
    }


def strip(a: int, b: int) -> Any:
    """The home community (112.10–112.15) cut in 5 strips of 0.01°: strips a..b-1."""
    return mbox(112.10 + 0.01 * a, 32.00, 112.10 + 0.01 * b, 32.05)


def slot(k: int) -> Any:
    """Building slots: 3 per strip, never cut by a strip boundary."""
    x = 112.1015 + 0.01 * (k // 3) + 0.003 * (k % 3)
    return box(x, 32.02, x + 0.001, 32.021)


def make_sweep(territory: Territory, rooms: list[Room], **fields: Any) -> Sweep:
    sweep = Sweep.objects.create(
        name="清查",
        territory_code=territory.office.code,
        area=mbox(112.10, 32.00, 112.15, 32.10),
        starts_on=datetime.date(2026, 11, 1),
        ends_on=datetime.date(2026, 11, 30),
        **fields,
    )
    SweepRoom.objects.bulk_create(
        SweepRoom(
            sweep=sweep,
            room=room,
            building=room.building,
            area_code=room.building.community.code,
        )
        for room in rooms
    )
    coverage.rebuild_sweep_counts(sweep)
    return sweep


def plan(sweep: Sweep, version: int, teams: dict[Building, SweepTeam]) -> None:
    version_row = SweepPlan.objects.create(sweep=sweep, version=version, reason=PlanReason.PLANNED)
    for seq, (building, team) in enumerate(teams.items(), start=1):
        PlanStop.objects.create(
            plan=version_row,
            team=team,
            building=building,
            day=1,
            seq=seq,
            rooms=1,
            walk_m=0,
            work_min=6,
        )
    coverage.rebuild_sweep_counts(sweep)


# ---------------------------------------------------------------------------------------------
# The brute-force comparison


def test_the_comparison_can_fail(territory: Territory) -> None:
    RoomFactory(building=territory.home_building, floor=1, number="101")
    assert kept_coverage() == recounted_coverage() == {(territory.home.code, False, None, 1)}
    CoverageCount.objects.update(rooms=2)
    assert kept_coverage() != recounted_coverage()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_match_a_recount_after_random_changes(
    seed: int, territory: Territory, users: dict[str, Any]
) -> None:
    rng = random.Random(seed)
    admin = users[Role.DISTRICT_ADMIN]
    uses = list(RoomUse.values)
    free = list(range(15))
    rng.shuffle(free)
    buildings = [BuildingFactory(footprint=slot(free.pop())) for _ in range(5)]
    buildings.append(territory.away_building)
    numbers = iter(range(100, 10**6))

    def new_room(building: Building | None = None) -> Room:
        return RoomFactory(
            building=building or rng.choice(buildings),
            floor=1,
            number=str(next(numbers)),
            use=rng.choice(uses),
        )

    rooms = [new_room() for _ in range(20)]
    staff = StaffFactory(community=territory.home, user=admin)
    sweep = make_sweep(territory, rooms[:12], revisit_attempts=2)
    teams = [
        SweepTeam.objects.create(sweep=sweep, name=n, start="SRID=4326;POINT(112.1 32.0)")
        for n in ("一组", "二组")
    ]
    plan(sweep, 1, {b: rng.choice(teams) for b in buildings[:4]})
    versions = 1
    for _step in range(70):
        op = rng.choice(
            ["visit"] * 6
            + ["add", "bulk_add", "delete", "use", "bulk_use", "move_room", "move_building"]
            + ["zones", "renumber", "plan"]
        )
        live = list(Room.objects.filter(pk__in=[r.pk for r in rooms]))
        if op == "visit" and live:
            batch = [
                visit(
                    rng.choice(live),
                    rng.choice([o for o in VisitOutcome.values if o != "new_room"]),
                    at(rng.randint(1, 25), rng.randint(7, 21), rng.randint(0, 59)),
                    **({"sweep": sweep.pk} if rng.random() < 0.7 else {}),
                )
                for _ in range(rng.randint(1, 4))
            ]
            results = visits.record_visits(admin, batch)
            assert all(r.status != "error" for r in results), [r.as_body() for r in results]
        elif op == "add":
            rooms.append(new_room())
        elif op == "bulk_add":
            building = rng.choice(buildings)
            made = Room.objects.bulk_create(
                Room(building=building, floor=1, number=str(next(numbers)), use=rng.choice(uses))
                for _ in range(rng.randint(1, 5))
            )
            rooms.extend(made)
        elif op == "delete" and live:
            rng.choice(live).delete()  # a sweep target too: out of its sweep's counts
        elif op == "use" and live:
            room = rng.choice(live)
            room.use = rng.choice(uses)
            room.save()
        elif op == "bulk_use" and live:
            chosen = rng.sample(live, min(len(live), 4))
            Room.objects.filter(pk__in=[r.pk for r in chosen]).update(use=rng.choice(uses))
        elif op == "move_room" and live:
            room = rng.choice(live)
            room.building = rng.choice(buildings)
            room.save()
        elif op == "move_building" and free:
            building = rng.choice(buildings[:5])
            free.append(_slot_of(building))
            rng.shuffle(free)
            building.footprint = slot(free.pop())
            building.save()
        elif op == "zones":
            for zone in Zone.objects.current().filter(community=territory.home):
                services.retire_zone(actor=admin, zone=zone)
            cuts = sorted(rng.sample(range(1, 5), rng.randint(0, 4)))
            for a, b in zip([0, *cuts], [*cuts, 5], strict=True):
                if rng.random() < 0.7:
                    draw_zone(territory.home, strip(a, b))
        elif op == "renumber":
            services.renumber_zones(actor=admin, community=territory.home)
        elif op == "plan":
            versions += 1
            plan(sweep, versions, {b: rng.choice(teams) for b in rng.sample(buildings, 3)})
    assert staff.visits.exists()
    assert kept_coverage() == recounted_coverage()
    assert kept_sweep(sweep) == recounted_sweep(sweep)
    # And the recounts from scratch agree with what was kept.
    before = kept_coverage()
    coverage.rebuild_all()
    assert kept_coverage() == before
    kept = kept_sweep(sweep)
    coverage.rebuild_sweep_counts(sweep)
    assert kept_sweep(sweep) == kept


def _slot_of(building: Building) -> int:
    building.refresh_from_db()
    x = building.footprint.extent[0]
    return min(range(15), key=lambda k: abs(slot(k).extent[0] - x))


def test_zone_changes_recount_their_community(territory: Territory, users: dict[str, Any]) -> None:
    west = BuildingFactory(footprint=slot(0))
    east = BuildingFactory(footprint=slot(12))
    for building in (west, east):
        RoomFactory(building=building, floor=1, number="1", use=RoomUse.RENTED_WHOLE)
    zone = draw_zone(territory.home, strip(0, 2))
    assert kept_coverage() == recounted_coverage()
    assert (zone.code, True, None, 1) in kept_coverage()
    services.save_zone(actor=None, data={"geom": strip(3, 5)}, instance=zone)
    assert (zone.code, True, None, 1) in kept_coverage()
    assert (territory.home.code, True, None, 1) in kept_coverage()
    assert kept_coverage() == recounted_coverage()
    services.retire_zone(actor=None, zone=zone)
    assert kept_coverage() == recounted_coverage()
    assert (territory.home.code, True, None, 2) in kept_coverage()
    # A zone deleted outright (the API's DELETE): recounted by the database.
    doomed = draw_zone(territory.home, strip(0, 1))
    assert (doomed.code, True, None, 1) in kept_coverage()
    gis_services.delete_object(actor=None, instance=doomed)
    assert kept_coverage() == recounted_coverage()
    assert (territory.home.code, True, None, 2) in kept_coverage()
    # Several changes at once: one recount at the end.
    result = services.apply_zone_changes(
        actor=users[Role.DISTRICT_ADMIN],
        community=territory.home.code,
        changes=[{"geom": json.loads(strip(0, 1).json), "name": "西"}],
        dry_run=False,
    )
    assert result.saved, [p.error for p in result.problems]
    assert kept_coverage() == recounted_coverage()


# ---------------------------------------------------------------------------------------------
# Reads


@pytest.fixture
def city(territory: Territory, users: dict[str, Any]) -> dict[str, Any]:
    """Two zones in the home community, rooms in each and in no zone, and in the away one."""
    west_zone = draw_zone(territory.home, strip(0, 2), name="西网格")
    east_zone = draw_zone(territory.home, strip(2, 4), name="东网格")
    west = BuildingFactory(footprint=slot(0))
    east = BuildingFactory(footprint=slot(7))
    nozone = BuildingFactory(footprint=slot(13))
    rooms = {
        "west": [RoomFactory(building=west, floor=1, number=f"{i}") for i in range(4)],
        "east": [
            RoomFactory(building=east, floor=1, number=f"{i}", use=RoomUse.RENTED_SHARED)
            for i in range(2)
        ],
        "nozone": [RoomFactory(building=nozone, floor=1, number="1")],
        "away": [RoomFactory(building=territory.away_building, floor=1, number="1")],
    }
    return {
        "zones": (west_zone, east_zone),
        "buildings": (west, east, nozone),
        "rooms": rooms,
        "admin": users[Role.DISTRICT_ADMIN],
    }


def test_territory_coverage_per_child_and_window(
    territory: Territory, city: dict[str, Any], users: dict[str, Any]
) -> None:
    rooms, admin = city["rooms"], city["admin"]
    today = timezone.localtime()
    visits.record_visits(
        admin,
        [
            visit(rooms["west"][0], "registered", today - datetime.timedelta(days=2)),
            visit(rooms["west"][1], "registered", today - datetime.timedelta(days=20)),
            visit(rooms["west"][2], "not_at_home", today - datetime.timedelta(days=1)),
            visit(rooms["east"][0], "vacant", today - datetime.timedelta(days=60)),
            visit(rooms["away"][0], "registered", today - datetime.timedelta(days=1)),
        ],
    )
    office = coverage.territory_coverage(admin, territory.office.code)
    assert (office.total.rooms, office.total.seen) == (8, 4)
    assert [(c.code, c.rooms, c.seen) for c in office.children] == [
        (territory.home.code, 7, 3),
        (territory.away.code, 1, 1),
    ]
    week = coverage.territory_coverage(admin, territory.home.code, days=7)
    west_zone, east_zone = city["zones"]
    assert [(c.code, c.rooms, c.seen) for c in week.children] == [
        (west_zone.code, 4, 1),
        (east_zone.code, 2, 0),
        (territory.home.code, 1, 0),  # no zone
    ]
    assert week.children[0].name == "西网格" and week.total.share == round(1 / 7, 4)
    month = coverage.territory_coverage(admin, territory.home.code, days=30)
    assert month.total.seen == 2
    rented = coverage.territory_coverage(admin, territory.home.code, days=90, rented=True)
    assert (rented.total.rooms, rented.total.seen) == (2, 1)
    district = coverage.territory_coverage(admin, territory.office.code[:6])
    assert [(c.code, c.rooms) for c in district.children] == [(territory.office.code, 8)]
    zone = coverage.territory_coverage(admin, west_zone.code, days=30)
    assert (zone.total.rooms, zone.total.seen, zone.children) == (4, 2, [])
    # A worker of the home community asking for the street office sees their part only.
    worker = users[Role.COMMUNITY_WORKER]
    mine = coverage.territory_coverage(worker, territory.office.code)
    assert (mine.total.rooms, [c.code for c in mine.children]) == (7, [territory.home.code])
    with pytest.raises(coverage.NotFoundError):
        coverage.territory_coverage(worker, territory.away.code)
    with pytest.raises(coverage.InvalidInputError):
        coverage.territory_coverage(worker, "42x")


def test_sweep_coverage_gaps_and_what_is_left(
    territory: Territory, city: dict[str, Any], users: dict[str, Any]
) -> None:
    rooms, admin = city["rooms"], city["admin"]
    west, east, nozone = city["buildings"]
    targets = rooms["west"] + rooms["east"] + rooms["nozone"] + rooms["away"]
    sweep = make_sweep(territory, targets, revisit_attempts=2)
    one = SweepTeam.objects.create(sweep=sweep, name="一组", start="SRID=4326;POINT(112.1 32.0)")
    two = SweepTeam.objects.create(sweep=sweep, name="二组", start="SRID=4326;POINT(112.1 32.0)")
    plan(sweep, 1, {west: one, east: two, territory.away_building: two})
    results = visits.record_visits(
        admin,
        [
            visit(rooms["west"][0], "registered", at(2, 9), sweep=sweep.pk),
            visit(rooms["west"][1], "registered", at(2, 9), sweep=sweep.pk),
            visit(rooms["west"][2], "not_at_home", at(2, 9), sweep=sweep.pk),
            visit(rooms["east"][0], "not_at_home", at(2, 9), sweep=sweep.pk),
            visit(rooms["east"][0], "refused", at(3, 15), sweep=sweep.pk),
        ],
    )
    assert [r.status for r in results] == ["created"] * 5
    figures = coverage.sweep_coverage(admin, sweep, today=datetime.date(2026, 11, 4))
    totals = figures["totals"]
    assert (totals["targets"], totals["visited"], totals["revisits"], totals["flagged"]) == (
        8,
        2,
        1,
        1,
    )
    assert figures["sweep"]["days_elapsed"] == 4
    assert totals["to_95"] == {"rooms": 6, "days": 12, "rate": 0.5}
    by_team = {t["name"]: t for t in figures["teams"]}
    assert by_team["一组"]["targets"] == 4 and by_team["一组"]["to_95"]["rooms"] == 2
    assert by_team["二组"]["to_95"] == {"rooms": 3, "days": None, "rate": None}
    assert by_team[""]["targets"] == 1  # the no-zone building has no team in the plan
    assert {a["code"] for a in figures["areas"]} == {territory.home.code, territory.away.code}

    def gaps(kind: str, user: Any = admin, team: str | None = None) -> list[dict[str, Any]]:
        return list(coverage.sweep_gaps(user, sweep, kind, team=team))

    assert {g["room_id"] for g in gaps("unvisited_rooms")} == {
        r.pk for r in targets if r not in rooms["west"][:2]
    }
    assert {g["building_id"] for g in gaps("unvisited_buildings")} == {
        east.pk,
        nozone.pk,
        territory.away_building.pk,
    }
    [revisit] = gaps("revisits")
    assert revisit["room_id"] == rooms["west"][2].pk and revisit["team_name"] == "一组"
    assert revisit["room__visit_state__revisit_part"] == "afternoon"
    [flagged] = gaps("flagged")
    assert flagged["room_id"] == rooms["east"][0].pk and flagged["team_id"] == two.pk
    assert {g["room_id"] for g in gaps("unvisited_rooms", team=str(one.pk))} == {
        r.pk for r in rooms["west"][2:]
    }
    assert [g["room_id"] for g in gaps("unvisited_rooms", team="none")] == [rooms["nozone"][0].pk]
    # The worker sees the sweep (their street office's) and their community's part of it only.
    worker = users[Role.COMMUNITY_WORKER]
    assert territory.away_building.pk not in {
        g["building_id"] for g in gaps("unvisited_buildings", user=worker)
    }
    mine = coverage.sweep_coverage(worker, sweep, today=datetime.date(2026, 11, 4))
    assert mine["totals"]["targets"] == 7
    with pytest.raises(coverage.InvalidInputError):
        gaps("everything")


def test_coverage_api(territory: Territory, city: dict[str, Any], users: dict[str, Any]) -> None:
    rooms, admin = city["rooms"], city["admin"]
    sweep = make_sweep(territory, rooms["west"])
    visits.record_visits(
        admin,
        [
            visit(rooms["west"][0], "registered", at(2, 9), sweep=sweep.pk),
            visit(rooms["west"][1], "not_at_home", at(2, 9), sweep=sweep.pk),
        ],
    )
    worker = APIClient()
    worker.force_authenticate(users[Role.COMMUNITY_WORKER])
    body = worker.get(reverse("territory-coverage"), {"code": territory.home.code}).json()
    assert (body["rooms"], body["seen"], len(body["children"])) == (7, 1, 3)
    assert (
        worker.get(reverse("territory-coverage"), {"code": territory.away.code}).status_code == 404
    )
    bad = worker.get(reverse("territory-coverage"), {"code": territory.home.code, "days": "5"})
    assert bad.status_code == 400 and bad.json()["code"] == "bad_days"
    body = worker.get(reverse("sweep-coverage", args=[sweep.pk])).json()
    assert body["totals"]["visited"] == 1 and body["totals"]["targets"] == 4
    assert body["totals"]["revisits"] == 1
    gaps = worker.get(reverse("sweep-gaps", args=[sweep.pk]), {"kind": "unvisited_rooms"})
    assert gaps.status_code == 200 and gaps.json()["count"] == 3
    first = gaps.json()["results"][0]
    assert {"room_id", "room_number", "address", "door_plate", "area_code", "team_id"} <= set(first)
    revisits = worker.get(reverse("sweep-gaps", args=[sweep.pk]), {"kind": "revisits"}).json()
    [row] = revisits["results"]
    assert (row["room_id"], row["revisit_part"], row["due"]) == (
        rooms["west"][1].pk,
        "afternoon",
        True,
    )
    assert row["revisit_after"] == "2026-11-03T12:00:00+08:00"
    assert worker.get(reverse("sweep-gaps", args=[sweep.pk]), {"kind": "x"}).status_code == 400
    assert worker.get(reverse("sweep-gaps", args=[10**9]), {"kind": "flagged"}).status_code == 404


def test_deleting_target_rooms_takes_them_out_of_the_sweep_counts(
    territory: Territory, city: dict[str, Any]
) -> None:
    rooms, admin = city["rooms"], city["admin"]
    west = city["buildings"][0]
    sweep = make_sweep(territory, rooms["west"] + rooms["east"], revisit_attempts=1)
    team = SweepTeam.objects.create(sweep=sweep, name="一组", start="SRID=4326;POINT(112.1 32.0)")
    plan(sweep, 1, {west: team})
    visits.record_visits(
        admin,
        [
            visit(rooms["west"][0], "registered", at(2, 9), sweep=sweep.pk),
            visit(rooms["west"][1], "refused", at(2, 9), sweep=sweep.pk),
            visit(rooms["east"][0], "registered", at(2, 9), sweep=sweep.pk),
        ],
    )
    assert kept_sweep(sweep) == recounted_sweep(sweep)
    rooms["west"][0].delete()
    rooms["west"][1].delete()
    Room.objects.filter(pk=rooms["east"][0].pk).delete()
    assert (
        kept_sweep(sweep)
        == recounted_sweep(sweep)
        == {
            (team.pk, territory.home.code, 2, 0, 0, 0),
            (None, territory.home.code, 1, 0, 0, 0),
        }
    )
    assert kept_coverage() == recounted_coverage()


def test_rebuild_coverage_command(territory: Territory, city: dict[str, Any]) -> None:
    from io import StringIO

    from django.core.management import call_command

    expected = kept_coverage()
    CoverageCount.objects.all().delete()
    out = StringIO()
    call_command("rebuild_coverage", "--sweeps", stdout=out)
    assert kept_coverage() == expected == recounted_coverage()
    assert "2 communities" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_concurrent_visits_in_one_zone_keep_the_counts_exact(territory: Territory) -> None:
    """Six connections record visits to the rooms of one zone at once (same rows of
    CoverageCount and SweepCount, double taps, conflicts): no deadlock, no error, and the
    counts equal a recount."""
    import threading

    from django.db import connection as default_connection

    from ..factories import UserFactory

    admin = UserFactory(username="root6", is_superuser=True)
    draw_zone(territory.home, strip(0, 5))
    building = BuildingFactory(footprint=slot(4))
    rooms = [RoomFactory(building=building, floor=1, number=str(i)) for i in range(12)]
    sweep = make_sweep(territory, rooms[:8], revisit_attempts=2)
    outcomes = ["registered", "not_at_home", "refused", "vacant", "changed"]
    errors: list[BaseException] = []
    statuses: list[str] = []
    barrier = threading.Barrier(6)

    def client(seed: int) -> None:
        rng = random.Random(seed)
        try:
            barrier.wait()
            for _ in range(8):
                batch = [
                    visit(
                        rng.choice(rooms),
                        rng.choice(outcomes),
                        at(rng.randint(1, 3), 9, rng.randint(0, 2)),
                        sweep=sweep.pk,
                    )
                    for _ in range(4)
                ]
                results = visits.record_visits(admin, batch + batch[:1])  # one retry each
                statuses.extend(r.status for r in results)
        except BaseException as error:
            errors.append(error)
        finally:
            default_connection.close()

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert "error" not in statuses and statuses.count("duplicate") >= 48
    assert kept_coverage() == recounted_coverage()
    assert kept_sweep(sweep) == recounted_sweep(sweep)
