"""Database rules: constraints and triggers hold even when Python is bypassed."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.db import IntegrityError, transaction

from gis.models import Building, Room, StreetOffice

from ..factories import EntranceFactory, RoomFactory, box, mbox


def _violates(constraint: str):
    return pytest.raises(IntegrityError, match=constraint)


def test_building_community_is_derived_from_footprint(territory):
    assert territory.home_building.community == territory.home
    assert territory.away_building.community == territory.away


def test_building_community_follows_a_moved_footprint(territory):
    building = territory.home_building
    building.footprint = box(112.121, 32.071, 112.122, 32.072)
    building.save()
    building.refresh_from_db()
    assert building.community == territory.away


def test_building_outside_every_community_is_refused(territory):
    with _violates("outside every community"):
        Building.objects.create(footprint=box(113.0, 33.0, 113.001, 33.001))


def test_room_unique_per_building_entrance_floor_number_even_without_entrance(territory):
    RoomFactory(building=territory.home_building, floor=2, number="201")
    with transaction.atomic(), _violates("room_unique_in_building"):
        RoomFactory(building=territory.home_building, floor=2, number="201")
    entrance = EntranceFactory(building=territory.home_building, number="2")
    RoomFactory(building=territory.home_building, entrance=entrance, floor=2, number="201")


@pytest.mark.parametrize("floor", [0, 7, -2])
def test_room_floor_must_exist_in_building(territory, floor):
    # The factory building has 6 floors above ground and 1 below.
    with _violates("room floor is not a floor of its building|room_floor_not_zero"):
        Room.objects.create(building=territory.home_building, floor=floor, number="x1")


def test_basement_room_is_allowed(territory):
    assert RoomFactory(building=territory.home_building, floor=-1, number="B01").pk


def test_building_cannot_lose_floors_that_hold_rooms(territory):
    RoomFactory(building=territory.home_building, floor=6, number="601")
    Building.objects.filter(pk=territory.home_building.pk).update(floors_above=6)
    with _violates("rooms on floors it would no longer have"):
        Building.objects.filter(pk=territory.home_building.pk).update(floors_above=5)


def test_room_entrance_must_belong_to_its_building(territory):
    other = EntranceFactory(building=territory.away_building, number="1")
    with _violates("room entrance belongs to another building"):
        Room.objects.create(building=territory.home_building, entrance=other, floor=1, number="101")


def test_street_office_code_must_extend_district_code(territory):
    with _violates("street_office_code_extends_district"):
        StreetOffice.objects.create(
            code="420607001",
            name="错",
            district=territory.office.district,
            geom=mbox(112.1, 32.0, 112.11, 32.01),
        )


def test_invalid_geometry_is_refused_by_the_database(territory):
    bowtie = GEOSGeometry(
        "SRID=4326;POLYGON((112.11 32.01,112.12 32.02,112.11 32.02,112.12 32.01,112.11 32.01))"
    )
    with _violates("building_footprint_valid"):
        Building.objects.create(footprint=bowtie)


def test_geometry_columns_are_typed_4326(territory):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT f_table_name, f_geometry_column, srid FROM geometry_columns "
            "WHERE f_table_name LIKE 'geo\\_%%' AND f_table_name NOT LIKE '%%event'"
        )
        rows = cursor.fetchall()
    srids = {(table, column): srid for table, column, srid in rows}
    assert srids[("geo_building", "footprint")] == 4326
    assert srids[("geo_community", "geom")] == 4326
    assert srids[("geo_room", "plan_geom")] == 0  # local floor-plan frame, in metres
    assert {s for (t, c), s in srids.items() if c != "plan_geom"} == {4326}
