"""The services: domain rules with clear errors, scope, history and undo."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection

from gis import history, services
from gis.exceptions import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ScopeError,
    TerritoryError,
)
from gis.models import Building, Community, DoorPlate, Role, Room

from ..factories import CompoundFactory, EntranceFactory, LandlordFactory, RoomFactory, box, mbox


def test_community_code_must_extend_street_office_code(territory):
    with pytest.raises(TerritoryError, match="does not extend its parent's code 420606001") as err:
        services.save_community(
            actor=None,
            data={
                "code": "420606002001",
                "name": "新社区",
                "street_office": territory.office,
                "geom": mbox(112.10, 32.00, 112.11, 32.01),
            },
        )
    assert err.value.code == "code_not_extending_parent"
    assert "上级代码" in err.value.render("zh-hans")


@pytest.mark.parametrize("code", ["42060600100", "4206060010011", "42060600100x"])
def test_community_code_must_have_twelve_digits(territory, code):
    with pytest.raises(TerritoryError, match="exactly 12 digits"):
        services.save_community(
            actor=None,
            data={
                "code": code,
                "name": "x",
                "street_office": territory.office,
                "geom": mbox(112.1, 32.0, 112.11, 32.01),
            },
        )


def test_child_may_stick_out_by_a_sliver_but_not_more(territory):
    # The office spans lon 112.10–112.15; 0.00001° of a 0.01°-wide community is a 0.1 % sliver.
    sliver = services.save_community(
        actor=None,
        data={
            "code": "420606001003",
            "name": "边缘社区",
            "street_office": territory.office,
            "geom": mbox(112.14, 32.00, 112.15001, 32.01),
        },
    )
    assert sliver.pk
    with pytest.raises(
        TerritoryError, match=r"is not inside 汉江街道: 9\.\d\d% of its area"
    ) as err:
        services.save_community(
            actor=None,
            data={
                "code": "420606001004",
                "name": "越界社区",
                "street_office": territory.office,
                "geom": mbox(112.14, 32.01, 112.151, 32.02),
            },
        )
    assert err.value.code == "outside_parent"
    assert err.value.geometry["type"] in {"Polygon", "MultiPolygon"}
    assert not Community.objects.filter(code="420606001004").exists()


def test_official_code_cannot_change(territory):
    with pytest.raises(TerritoryError, match="cannot be changed"):
        services.save_community(actor=None, data={"code": "420606001009"}, instance=territory.home)


def test_building_outside_every_community_gets_a_clear_error(territory):
    before = Building.objects.count()
    with pytest.raises(TerritoryError, match=r"lies outside every community") as err:
        services.save_building(actor=None, data={"footprint": box(113.0, 33.0, 113.001, 33.001)})
    assert err.value.code == "outside_every_community"
    assert Building.objects.count() == before


def test_building_gets_its_community_and_centroid(territory):
    building = services.save_building(
        actor=None, data={"footprint": box(112.121, 32.021, 112.122, 32.022), "floors_above": 5}
    )
    assert building.community == territory.home
    assert building.centroid.within(building.footprint)


def test_building_cannot_join_a_compound_of_another_community(territory):
    compound = CompoundFactory(community=territory.away, geom=mbox(112.11, 32.06, 112.12, 32.07))
    with pytest.raises(TerritoryError, match="belongs to another community"):
        services.save_building(
            actor=None,
            data={"footprint": box(112.111, 32.011, 112.112, 32.012), "compound": compound},
        )


def test_room_on_a_missing_floor_is_refused_with_the_building_floors(territory):
    with pytest.raises(InvalidInputError, match=r"no .*floor 9|Floor 9 does not exist") as err:
        services.save_room(
            actor=None, data={"building": territory.home_building, "floor": 9, "number": "901"}
        )
    assert err.value.field == "floor"
    assert "1 to 6" in str(err.value)


def test_duplicate_room_is_a_conflict(territory):
    data = {"building": territory.home_building, "floor": 2, "number": "201"}
    services.save_room(actor=None, data=data)
    with pytest.raises(ConflictError, match="already exists"):
        services.save_room(actor=None, data=data)
    assert Room.objects.filter(building=territory.home_building, number="201").count() == 1


def test_reducing_floors_below_existing_rooms_is_refused(territory):
    RoomFactory(building=territory.home_building, floor=6, number="601")
    with pytest.raises(InvalidInputError, match="still has rooms on floors 6"):
        services.save_building(
            actor=None, data={"floors_above": 4}, instance=territory.home_building
        )


def test_landlord_of_another_community_cannot_own_the_room(territory):
    landlord = LandlordFactory(community=territory.away)
    with pytest.raises(InvalidInputError, match="registered in another community"):
        services.save_room(
            actor=None,
            data={
                "building": territory.home_building,
                "floor": 1,
                "number": "101",
                "landlord": landlord,
            },
        )


def test_room_plan_must_be_a_valid_polygon(territory):
    bowtie = GEOSGeometry("POLYGON((0 0,4 4,0 4,4 0,0 0))")
    with pytest.raises(InvalidInputError, match="valid polygon in metres"):
        services.save_room(
            actor=None,
            data={
                "building": territory.home_building,
                "floor": 1,
                "number": "101",
                "plan_geom": bowtie,
            },
        )


def test_door_plate_builds_the_standard_address(territory):
    compound = CompoundFactory(community=territory.home, name="春园小区")
    building = services.save_building(
        actor=None,
        data={
            "footprint": box(112.111, 32.011, 112.112, 32.012),
            "compound": compound,
            "floors_above": 6,
        },
    )
    entrance = EntranceFactory(building=building, number="2")
    room = RoomFactory(building=building, entrance=entrance, floor=5, number="501")
    plate = services.save_door_plate(
        actor=None,
        data={
            "building": building,
            "room": room,
            "road": "人民路",
            "number": "12",
            "building_number": "3",
        },
    )
    assert plate.address == "樊城区汉江街道人民路社区人民路12号春园小区3栋2单元501室"
    assert plate.location.within(building.footprint)
    assert DoorPlate.objects.matching("人民路12号3栋").get() == plate
    assert DoorPlate.objects.matching("人民路 12 号 3幢").get() == plate

    # Renumbering the room (as the map's room form does) re-addresses its plate, with history.
    services.save_room(actor=None, data={"number": "502"}, instance=room)
    plate.refresh_from_db()
    assert plate.address == "樊城区汉江街道人民路社区人民路12号春园小区3栋2单元502室"
    assert DoorPlate.objects.matching("3栋502").get() == plate
    assert history.changes_of(DoorPlate, plate.pk)[-1].diff["room_number"] == ("501", "502")


def test_writes_outside_the_actor_scope_are_refused(territory, users):
    worker = users[Role.COMMUNITY_WORKER]
    with pytest.raises(ScopeError, match="420606001002"):
        services.save_room(
            actor=worker, data={"building": territory.away_building, "floor": 1, "number": "101"}
        )
    with pytest.raises(ScopeError):
        services.save_room(
            actor=users[Role.READ_ONLY],
            data={"building": territory.home_building, "floor": 1, "number": "101"},
        )
    with pytest.raises(ScopeError):  # territory edits need a district administrator
        services.save_community(actor=worker, data={"name": "改名"}, instance=territory.home)
    assert services.save_room(
        actor=worker, data={"building": territory.home_building, "floor": 1, "number": "101"}
    ).pk


def test_history_records_the_actor_and_undo_restores(territory, users):
    worker = users[Role.COMMUNITY_WORKER]
    room = services.save_room(
        actor=worker, data={"building": territory.home_building, "floor": 1, "number": "101"}
    )
    services.save_room(actor=worker, data={"use": "rented_shared", "floor": 2}, instance=room)
    changes = history.changes_of(Room, room.pk)
    assert [c.label for c in changes] == ["insert", "update"]
    assert changes[1].user_id == worker.pk
    assert changes[1].diff["use"] == ("owner_occupied", "rented_shared")
    assert changes[1].diff["floor"] == (1, 2)

    restored = history.undo_change(
        actor=worker, model=Room, pk=room.pk, event_id=changes[1].event_id
    )
    assert (restored.use, restored.floor) == ("owner_occupied", 1)
    assert [c.label for c in history.changes_of(Room, room.pk)] == ["insert", "update", "update"]


def test_undo_of_a_delete_restores_the_object_with_its_id(territory, users):
    admin = users[Role.DISTRICT_ADMIN]
    room = services.save_room(
        actor=admin, data={"building": territory.home_building, "floor": 1, "number": "101"}
    )
    pk = room.pk
    services.delete_object(actor=admin, instance=room)
    deletion = history.changes_of(Room, pk)[-1]
    assert deletion.label == "delete"
    restored = history.undo_change(actor=admin, model=Room, pk=pk, event_id=deletion.event_id)
    assert restored.pk == pk and Room.objects.get(pk=pk).number == "101"


def test_undo_of_an_insert_deletes(territory, users):
    admin = users[Role.DISTRICT_ADMIN]
    room = services.save_room(
        actor=admin, data={"building": territory.home_building, "floor": 1, "number": "101"}
    )
    insert = history.changes_of(Room, room.pk)[0]
    assert (
        history.undo_change(actor=admin, model=Room, pk=room.pk, event_id=insert.event_id) is None
    )
    assert not Room.objects.filter(pk=room.pk).exists()


def test_undo_is_scoped(territory, users):
    room = services.save_room(
        actor=None, data={"building": territory.away_building, "floor": 1, "number": "101"}
    )
    services.save_room(actor=None, data={"number": "102"}, instance=room)
    update = history.changes_of(Room, room.pk)[1]
    with pytest.raises(ScopeError):
        history.undo_change(
            actor=users[Role.COMMUNITY_WORKER], model=Room, pk=room.pk, event_id=update.event_id
        )


def test_undo_only_takes_a_change_of_the_named_object(territory):
    room = services.save_room(
        actor=None, data={"building": territory.home_building, "floor": 1, "number": "101"}
    )
    other = services.save_room(
        actor=None, data={"building": territory.home_building, "floor": 1, "number": "102"}
    )
    services.save_room(actor=None, data={"use": "vacant"}, instance=other)
    change = history.changes_of(Room, other.pk)[-1]
    with pytest.raises(NotFoundError):
        history.undo_change(actor=None, model=Room, pk=room.pk, event_id=change.event_id)
    other.refresh_from_db()
    assert other.use == "vacant"


def test_deleting_a_community_with_buildings_is_a_conflict(territory):
    with pytest.raises(ConflictError, match="depend"):
        services.delete_object(actor=None, instance=territory.home)
    assert Community.objects.filter(pk=territory.home.pk).exists()


def test_moving_a_community_boundary_rederives_building_communities(territory):
    # Give the home community the whole west half: the away building now lies in both; the
    # database picks the lowest code.
    services.save_community(
        actor=None,
        data={"geom": MultiPolygon(box(112.10, 32.00, 112.15, 32.10))},
        instance=territory.home,
    )
    territory.away_building.refresh_from_db()
    assert territory.away_building.community == territory.home


def test_areas_are_measured_in_the_metric_srid():
    from gis.crs import area_m2

    # 0.001° × 0.001° at 32°N is about 111 m × 94 m.
    area = area_m2(box(112.111, 32.011, 112.112, 32.012))
    assert area == pytest.approx(111_000 * 0.001 * 94_400 * 0.001, rel=0.02)
    assert connection.vendor == "postgresql"
