"""Splitting a room in two: ``gis.services.split_room`` and ``POST /api/rooms/{id}/split/``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.gis.geos import GEOSGeometry
from rest_framework.test import APIClient

from gis import history, services
from gis.exceptions import ConflictError, InvalidInputError, ScopeError
from gis.models import DoorPlate, Role, Room

from ..conftest import Territory
from ..factories import EntranceFactory, LandlordFactory, RoomFactory, UserFactory


def plan(wkt: str) -> GEOSGeometry:
    geom = GEOSGeometry(wkt)
    geom.srid = 0
    return geom


ROOM_PLAN = "POLYGON((0 0,10 0,10 4,0 4,0 0))"
# Walking north along x = 6: the room keeps the western 6 m (24 m²), the new room the rest.
CUT = "LINESTRING(6 -1,6 5)"


@pytest.fixture
def room(territory: Territory) -> Room:
    building = territory.home_building
    return RoomFactory(
        building=building,
        entrance=EntranceFactory(building=building, number="2"),
        floor=5,
        number="501",
        use="rented_whole",
        area_m2=Decimal("40.00"),
        plan_geom=plan(ROOM_PLAN),
        landlord=LandlordFactory(community=territory.home),
    )


@pytest.fixture
def worker(users: dict[str, Any]) -> Any:
    return users[Role.COMMUNITY_WORKER]


def _state(room: Room) -> tuple[Any, ...]:
    room.refresh_from_db()
    return (room.number, room.area_m2, room.plan_geom.wkt if room.plan_geom else None)


# ---------------------------------------------------------------------------------------------
# The service


def test_a_line_cuts_the_plan_and_the_areas_follow(room, worker):
    kept, new = services.split_room(
        actor=worker, room=room, numbers=("501", "501-1"), line=plan(CUT)
    )
    assert kept.pk == room.pk and kept.number == "501"
    assert kept.plan_geom.equals(plan("POLYGON((0 0,6 0,6 4,0 4,0 0))"))
    assert new.plan_geom.equals(plan("POLYGON((6 0,10 0,10 4,6 4,6 0))"))
    assert kept.plan_geom.extent == pytest.approx((0, 0, 6, 4))
    assert new.plan_geom.extent == pytest.approx((6, 0, 10, 4))
    assert (kept.area_m2, new.area_m2) == (Decimal("24.00"), Decimal("16.00"))
    new.refresh_from_db()
    assert new.number == "501-1"
    assert (new.building_id, new.entrance_id, new.floor) == (
        room.building_id,
        room.entrance_id,
        5,
    )
    assert (new.use, new.landlord_id) == ("rented_whole", room.landlord_id)
    assert new.plan_geom.srid in (0, None)


def test_without_a_line_the_plan_is_halved_across_its_longer_side(room, worker):
    kept, new = services.split_room(actor=worker, room=room, numbers=("501A", "501B"))
    assert kept.plan_geom.extent == pytest.approx((0, 0, 5, 4))
    assert new.plan_geom.extent == pytest.approx((5, 0, 10, 4))
    assert (kept.area_m2, new.area_m2) == (Decimal("20.00"), Decimal("20.00"))
    assert (kept.number, new.number) == ("501A", "501B")


@pytest.mark.parametrize(
    ("area", "halves"),
    [
        (Decimal("85.50"), (Decimal("42.75"), Decimal("42.75"))),
        (Decimal("85.55"), (Decimal("42.78"), Decimal("42.77"))),
        (None, (None, None)),
    ],
)
def test_without_a_plan_the_area_is_halved(territory, worker, area, halves):
    room = RoomFactory(building=territory.home_building, floor=2, number="201", area_m2=area)
    kept, new = services.split_room(actor=worker, room=room, numbers=("201", "202"))
    assert (kept.area_m2, new.area_m2) == halves
    assert kept.plan_geom is None and new.plan_geom is None


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("LINESTRING(6 1,6 3)", "line_does_not_split"),  # stops inside the room
        ("LINESTRING(20 -1,20 5)", "line_does_not_split"),  # misses it
        ("LINESTRING(3 -1,3 5,7 5,7 -1)", "line_does_not_split"),  # in and out twice
        ("POINT(6 2)", "invalid_line"),
    ],
)
def test_a_line_that_does_not_cut_the_room_in_two_changes_nothing(room, worker, line, code):
    before, rooms = _state(room), Room.objects.count()
    with pytest.raises(InvalidInputError) as err:
        services.split_room(actor=worker, room=room, numbers=("501", "501-1"), line=plan(line))
    assert err.value.code == code and err.value.field == "line"
    assert _state(room) == before and Room.objects.count() == rooms
    if code == "line_does_not_split":
        assert "does not cut room 501 in two" in err.value.render("en")
        assert err.value.render("zh-hans")


def test_a_line_for_a_room_without_a_plan_is_refused(territory, worker):
    room = RoomFactory(building=territory.home_building, floor=2, number="201")
    with pytest.raises(InvalidInputError, match="no plan to cut along a line") as err:
        services.split_room(actor=worker, room=room, numbers=("201", "202"), line=plan(CUT))
    assert err.value.code == "no_plan"


@pytest.mark.parametrize("numbers", [("501", "502"), ("501", "501"), ("502", "501")])
def test_duplicate_numbers_are_a_conflict_and_change_nothing(room, worker, numbers):
    RoomFactory(building=room.building, entrance=room.entrance, floor=5, number="502")
    before, rooms = _state(room), Room.objects.count()
    with pytest.raises(ConflictError) as err:
        services.split_room(actor=worker, room=room, numbers=numbers, line=plan(CUT))
    assert err.value.code == "duplicate"
    assert _state(room) == before and Room.objects.count() == rooms


def test_blank_numbers_are_refused(room, worker):
    with pytest.raises(InvalidInputError) as err:
        services.split_room(actor=worker, room=room, numbers=("501", "  "))
    assert err.value.code == "split_numbers"


@pytest.mark.parametrize(
    ("role", "code"),
    [(Role.READ_ONLY, "420606001001"), (Role.COMMUNITY_WORKER, "420606001002")],
)
def test_outside_the_write_scope_is_refused(room, role, code):
    actor = UserFactory(username="someone", grants=[(role, code)])
    before = _state(room)
    with pytest.raises(ScopeError):
        services.split_room(actor=actor, room=room, numbers=("501", "501-1"))
    assert _state(room) == before


def test_both_changes_are_in_the_history_with_the_actor(room, worker):
    kept, new = services.split_room(
        actor=worker, room=room, numbers=("501", "501-1"), line=plan(CUT)
    )
    update = history.changes_of(Room, kept.pk)[-1]
    assert (update.label, update.user_id) == ("update", worker.pk)
    assert set(update.diff) == {"area_m2", "plan_geom"}
    assert update.diff["area_m2"] == (Decimal("40.00"), Decimal("24.00"))
    insert = history.changes_of(Room, new.pk)[-1]
    assert (insert.label, insert.user_id) == ("insert", worker.pk)
    assert insert.diff["number"] == (None, "501-1")


def test_the_rooms_own_plate_takes_its_new_number(room, worker):
    plate = services.save_door_plate(
        actor=None, data={"building": room.building, "room": room, "road": "人民路", "number": "12"}
    )
    assert plate.address.endswith("2单元501室")
    services.split_room(actor=worker, room=room, numbers=("501A", "501B"))
    plate.refresh_from_db()
    assert plate.address.endswith("2单元501A室") and plate.room_number == "501A"
    assert DoorPlate.objects.filter(room__number="501B").count() == 0


# ---------------------------------------------------------------------------------------------
# The endpoint


def _api(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def test_endpoint_returns_both_rooms_and_their_history(room, worker):
    client = _api(worker)
    line = {"type": "LineString", "coordinates": [[6, -1], [6, 5]]}
    response = client.post(
        f"/api/rooms/{room.pk}/split/", {"numbers": ["501", "501-1"], "line": line}, format="json"
    )
    assert response.status_code == 201, response.content
    rooms = response.json()["rooms"]
    assert [r["number"] for r in rooms] == ["501", "501-1"]
    assert rooms[0]["id"] == room.pk and rooms[1]["id"] != room.pk
    assert [float(r["area_m2"]) for r in rooms] == [24.0, 16.0]
    assert rooms[1]["plan_geom"]["type"] == "Polygon"
    assert {r["floor"] for r in rooms} == {5} and {r["entrance"] for r in rooms} == {
        room.entrance_id
    }
    changes = client.get(f"/api/rooms/{room.pk}/history/").json()
    assert changes[-1]["label"] == "update" and changes[-1]["user_id"] == worker.pk
    changes = client.get(f"/api/rooms/{rooms[1]['id']}/history/").json()
    assert [c["label"] for c in changes] == ["insert"]


def test_endpoint_without_a_line_halves(room, worker):
    response = _api(worker).post(
        f"/api/rooms/{room.pk}/split/", {"numbers": ["501A", "501B"]}, format="json"
    )
    assert response.status_code == 201
    assert [float(r["area_m2"]) for r in response.json()["rooms"]] == [20.0, 20.0]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"numbers": ["501", "502"]}, 409, "duplicate"),
        ({"numbers": ["501"]}, 400, "min_length"),
        ({"numbers": ["501", "502", "503"]}, 400, "max_length"),
        ({}, 400, "required"),
        ({"numbers": ["501", "501-1"], "line": {"type": "LineString"}}, 400, "malformed_geojson"),
        (
            {
                "numbers": ["501", "501-1"],
                "line": {"type": "LineString", "coordinates": [[6, 1], [6, 3]]},
            },
            400,
            "line_does_not_split",
        ),
    ],
)
def test_endpoint_refusals(room, worker, body, status, code):
    RoomFactory(building=room.building, entrance=room.entrance, floor=5, number="502")
    before = _state(room)
    response = _api(worker).post(f"/api/rooms/{room.pk}/split/", body, format="json")
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert _state(room) == before


def test_endpoint_scope(room, territory, users):
    away = RoomFactory(building=territory.away_building, floor=3, number="301")
    worker, reader = users[Role.COMMUNITY_WORKER], users[Role.READ_ONLY]
    body = {"numbers": ["301", "302"]}
    assert _api(worker).post(f"/api/rooms/{away.pk}/split/", body, format="json").status_code == 404
    assert _api(reader).post(f"/api/rooms/{room.pk}/split/", body, format="json").status_code == 403
    assert APIClient().post(f"/api/rooms/{room.pk}/split/", body, format="json").status_code == 403
