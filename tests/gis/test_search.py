"""The map's search box (``gis.search`` and ``GET /api/search/``): kinds, ranking, scope, errors.

The world: in the ``home`` community (人民路社区), 春园小区 with building 3 (plate 人民路12号,
rooms 2单元501 and 502, the latter with its own plate), building 120 on 人民路120号 (named
幸福大厦); in the ``away`` community (长虹社区), a building on 人民路12号长虹花园3栋 with room 501.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from gis import services
from gis.models import Building, DoorPlate, Role, Room
from gis.search import Kind, Match, search

from ..conftest import Territory
from ..factories import (
    BuildingFactory,
    CompoundFactory,
    EntranceFactory,
    RoomFactory,
    UserFactory,
    box,
    mbox,
)

HOME_PREFIX = "樊城区汉江街道人民路社区"


@dataclass
class World:
    building3: Building
    plate3: DoorPlate
    room501: Room
    room502: Room
    plate502: DoorPlate
    building120: Building
    plate120: DoorPlate
    away_building: Building
    away_room: Room


def _plate(building: Building, **data: Any) -> DoorPlate:
    return services.save_door_plate(actor=None, data={"building": building, **data})


@pytest.fixture
def world(territory: Territory) -> World:
    garden = CompoundFactory(
        community=territory.home, name="春园小区", geom=mbox(112.12, 32.02, 112.13, 32.03)
    )
    building3 = BuildingFactory(footprint=box(112.121, 32.021, 112.122, 32.022), compound=garden)
    plate3 = _plate(building3, road="人民路", number="12", building_number="3")
    entrance = EntranceFactory(building=building3, number="2")
    room501 = RoomFactory(building=building3, entrance=entrance, floor=5, number="501")
    room502 = RoomFactory(building=building3, entrance=entrance, floor=5, number="502")
    plate502 = _plate(building3, room=room502, road="人民路", number="12", building_number="3")
    building120 = BuildingFactory(footprint=box(112.131, 32.031, 112.132, 32.032), name="幸福大厦")
    plate120 = _plate(building120, road="人民路", number="120")
    flowers = CompoundFactory(
        community=territory.away, name="长虹花园", geom=mbox(112.12, 32.07, 112.13, 32.08)
    )
    away = BuildingFactory(footprint=box(112.121, 32.071, 112.122, 32.072), compound=flowers)
    _plate(away, road="人民路", number="12", building_number="3")
    away_room = RoomFactory(building=away, floor=5, number="501")
    return World(
        building3, plate3, room501, room502, plate502, building120, plate120, away, away_room
    )


@pytest.fixture
def worker(users: dict[str, Any]) -> Any:
    return users[Role.COMMUNITY_WORKER]


@pytest.fixture
def admin(users: dict[str, Any]) -> Any:
    return users[Role.DISTRICT_ADMIN]


def _found(hits: list[Any]) -> list[tuple[str, int]]:
    return [(hit.kind.value, hit.id) for hit in hits]


# ---------------------------------------------------------------------------------------------
# Kinds


def test_a_whole_address_is_an_exact_door_plate_and_hides_its_building(world, worker):
    hits = search(worker, "人民路12号春园小区3栋")
    first = hits[0]
    assert (first.kind, first.id, first.match) == (Kind.DOOR_PLATE, world.plate3.pk, Match.EXACT)
    assert first.label == f"{HOME_PREFIX}人民路12号春园小区3栋"
    assert first.detail == "人民路社区"
    assert first.building == world.building3.pk and first.room is None and first.code is None
    assert first.lon == pytest.approx(world.plate3.location.x)
    assert first.bbox == pytest.approx(world.building3.footprint.extent)
    # The building is the plate's: no second hit for it.
    assert (Kind.BUILDING.value, world.building3.pk) not in _found(hits)


@pytest.mark.parametrize("text", ["人民路12", "人民路 12", "人民路１２"])
def test_partial_address_finds_plates_beginning_with_it(world, worker, text):
    hits = [h for h in search(worker, text) if h.kind is Kind.DOOR_PLATE]
    # All begin the address after the community: the shorter first.
    assert [h.id for h in hits][:3] == [world.plate120.pk, world.plate3.pk, world.plate502.pk]
    assert {h.match for h in hits} == {Match.PREFIX}


def test_chinese_numerals_before_a_suffix(world, worker):
    hits = search(worker, "人民路十二号")
    assert (hits[0].id, hits[0].match) == (world.plate3.pk, Match.PREFIX)


def test_parts_with_something_left_out_between_them(world, worker):
    hits = search(worker, "12号3栋")
    assert (Kind.DOOR_PLATE.value, world.plate3.pk) in _found(hits)
    assert next(h for h in hits if h.id == world.plate3.pk).match is Match.PARTS


def test_building_by_name(world, worker):
    hit = search(worker, "幸福大厦")[0]
    assert (hit.kind, hit.id, hit.match) == (Kind.BUILDING, world.building120.pk, Match.EXACT)
    assert hit.label == f"{HOME_PREFIX}人民路120号"  # its standard address
    assert hit.detail == "住宅 · 幸福大厦"
    assert hit.lon == pytest.approx(world.building120.centroid.x)


def test_building_by_its_number_on_a_plate(world, worker, territory):
    """Building 7 has only an entrance's plate: "春园小区7栋" finds the building itself."""
    building7 = BuildingFactory(
        footprint=box(112.125, 32.025, 112.126, 32.026), compound=world.building3.compound
    )
    entrance = EntranceFactory(building=building7, number="1")
    plate = _plate(building7, entrance=entrance, road="人民路", number="12", building_number="7")
    hits = search(worker, "春园小区7栋")
    assert _found(hits)[:2] == [
        (Kind.BUILDING.value, building7.pk),
        (Kind.DOOR_PLATE.value, plate.pk),
    ]
    assert hits[0].label == plate.address == f"{HOME_PREFIX}人民路12号春园小区7栋1单元"
    assert hits[0].match is Match.CONTAINS


@pytest.mark.parametrize("text", ["3栋501", "3栋2单元501", "人民路12号3栋501室", "3-2-501"])
def test_room_within_the_buildings_the_text_names(world, worker, text):
    rooms = [h for h in search(worker, text) if h.kind is Kind.ROOM]
    assert [h.id for h in rooms] == [world.room501.pk]
    room = rooms[0]
    assert room.label == f"{HOME_PREFIX}人民路12号春园小区3栋2单元501室"
    assert room.building == world.building3.pk and room.room == world.room501.pk
    assert room.detail.startswith("自住 · ")
    assert room.bbox == pytest.approx(world.building3.footprint.extent)


def test_bare_room_number_is_an_exact_room(world, worker):
    hits = search(worker, "501")
    assert _found(hits)[0] == (Kind.ROOM.value, world.room501.pk)
    assert hits[0].match is Match.EXACT


def test_a_room_with_its_own_plate_is_found_as_the_plate(world, worker):
    hits = search(worker, "3栋2单元502")
    assert _found(hits) == [(Kind.DOOR_PLATE.value, world.plate502.pk)]
    assert hits[0].room == world.room502.pk


def test_community_by_name_comes_before_the_plates_that_contain_it(world, worker, territory):
    hits = search(worker, "人民路社区")
    first = hits[0]
    assert (first.kind, first.code, first.match) == (Kind.COMMUNITY, "420606001001", Match.EXACT)
    assert first.detail == "樊城区 · 汉江街道"
    assert first.bbox == pytest.approx((112.10, 32.00, 112.15, 32.05))
    assert {h.match for h in hits[1:]} == {Match.CONTAINS}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("420606", [("district", Match.EXACT), ("street_office", Match.PREFIX)]),
        ("420606001", [("street_office", Match.EXACT), ("community", Match.PREFIX)]),
        ("420606001001", [("community", Match.EXACT)]),
        ("4206", [("district", Match.PREFIX), ("street_office", Match.PREFIX)]),
    ],
)
def test_territory_code_or_its_beginning(world, worker, text, expected):
    hits = [h for h in search(worker, text) if h.code is not None]
    assert [(h.kind.value, h.match) for h in hits][: len(expected)] == expected
    assert all(h.code.startswith(text) for h in hits)


def test_territory_by_name(world, worker):
    assert search(worker, "樊城")[0].kind is Kind.DISTRICT
    hit = search(worker, "汉江街道")[0]
    assert (hit.kind, hit.code, hit.detail) == (Kind.STREET_OFFICE, "420606001", "樊城区")


# ---------------------------------------------------------------------------------------------
# Ranking, limit, scope


def test_exact_before_prefix_before_contains_before_parts(world, admin):
    exact = _plate(world.building120, road="春园路", number="1")  # 春园路1号
    prefix = _plate(world.building120, road="春园路", number="1", building_number="5")
    contains = _plate(world.building120, road="新春园路", number="1")  # 新春园路1号
    hits = [h for h in search(admin, "春园路1号") if h.kind is Kind.DOOR_PLATE]
    assert [(h.id, h.match) for h in hits] == [
        (exact.pk, Match.EXACT),
        (prefix.pk, Match.PREFIX),
        (contains.pk, Match.CONTAINS),
    ]
    # 新华路12号3栋 has "12号3栋" in one piece; 人民路12号春园小区3栋 only has its parts.
    in_one_piece = _plate(world.building120, road="新华路", number="12", building_number="3")
    hits = [h for h in search(admin, "12号3栋") if h.kind is Kind.DOOR_PLATE]
    assert (hits[0].id, hits[0].match) == (in_one_piece.pk, Match.CONTAINS)
    assert (world.plate3.pk, Match.PARTS) in [(h.id, h.match) for h in hits[1:]]
    assert {h.match for h in hits[1:]} == {Match.PARTS}


def test_limit(world, admin):
    assert len(search(admin, "人民路", limit=2)) == 2
    assert len(search(admin, "人民路", limit=50)) > 2


def test_out_of_scope_is_never_found(world, worker, admin):
    away = {("building", world.away_building.pk), ("room", world.away_room.pk)}
    for text in ("人民路12号长虹花园3栋", "长虹花园", "501", "长虹社区", "420606001002"):
        found = set(_found(search(worker, text)))
        assert not found & away, text
        assert not any(h.label.startswith("樊城区汉江街道长虹社区") for h in search(worker, text))
    assert ("room", world.away_room.pk) in set(_found(search(admin, "501")))
    assert search(admin, "长虹社区")[0].code == "420606001002"


def test_a_user_without_grants_finds_nothing(world):
    assert search(UserFactory(username="nobody"), "人民路") == []


def test_nothing_to_search_for_finds_nothing(world, admin):
    assert search(admin, "  ，。 ") == []


# ---------------------------------------------------------------------------------------------
# The endpoint


@pytest.fixture
def api(worker: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(worker)
    return client


def test_endpoint_answers_the_contract(world, api, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = api.get("/api/search/", {"q": "人民路12", "limit": 20})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert 0 < len(results) <= 20
    first = results[0]
    assert set(first) == {
        "kind",
        "id",
        "label",
        "detail",
        "building",
        "room",
        "code",
        "lon",
        "lat",
        "bbox",
        "match",
    }
    assert first["kind"] == "door_plate" and first["match"] == "prefix"
    assert len(first["bbox"]) == 4 and first["bbox"][0] <= first["lon"] <= first["bbox"][2]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "bad_query"),
        ({"q": ""}, "bad_query"),
        ({"q": "   "}, "bad_query"),
        ({"q": "，。"}, "bad_query"),
        ({"q": "路" * 101}, "bad_query"),
        ({"q": "人民路", "limit": "51"}, "bad_limit"),
        ({"q": "人民路", "limit": "0"}, "bad_limit"),
        ({"q": "人民路", "limit": "ten"}, "bad_limit"),
    ],
)
def test_endpoint_refuses_bad_input_in_both_languages(world, api, params, code):
    response = api.get("/api/search/", params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert body["detail"] == body["detail_en"] and body["detail_zh"]
