"""GET /tiles/{z}/{x}/{y}.mvt: layers, zooms, scope, cache and epoch, ETag, the GCJ-02 shift."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.gis.geos import LineString
from django.test import Client

from gis import coords, history, services
from gis.models import Building, DoorPlate, Role, ScopeGrant, Street
from layers import tiles

from ..conftest import Territory
from ..factories import BuildingFactory, CompoundFactory, UserFactory, box, mbox
from .conftest import decode, fetch, get_tile, properties, tile_bounds, tile_of


@dataclass
class MapData:
    territory: Territory
    plated: Building  # a door plate (building number 3)
    population: Building  # a door plate with the 人口 plate put up
    bare: Building  # no door plate
    plate: DoorPlate
    street: Street


@pytest.fixture
def map_data(territory: Territory, django_capture_on_commit_callbacks: Any) -> MapData:
    with django_capture_on_commit_callbacks(execute=True):
        return _map_data(territory)


def _map_data(territory: Territory) -> MapData:
    home = territory.home
    compound = CompoundFactory(
        community=home, name="春园小区", geom=mbox(112.1105, 32.0105, 112.1150, 32.0125)
    )
    plated = territory.home_building
    plated.compound = compound
    plated.name = "春园小区3栋"
    plated.save()
    population = BuildingFactory(footprint=box(112.1125, 32.011, 112.1135, 32.012), name="2栋")
    bare = BuildingFactory(footprint=box(112.1140, 32.011, 112.1148, 32.012))
    plate = services.save_door_plate(
        actor=None,
        data={"building": plated, "road": "人民路", "number": "12", "building_number": "3"},
    )
    services.save_door_plate(
        actor=None,
        data={"building": population, "road": "人民路", "number": "14", "population_plate": True},
    )
    street = services.save_street(
        actor=None,
        data={
            "name": "人民路",
            "kind": "arterial",
            "centerline": LineString((112.105, 32.0107), (112.118, 32.0107), srid=4326),
        },
    )
    return MapData(territory, plated, population, bare, plate, street)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def buildings_tile(z: int = 16) -> tuple[int, int, int]:
    """The tile holding the three buildings of ``map_data`` (checked by the tests using it)."""
    return tile_of(112.1125, 32.0115, z)


# ---------------------------------------------------------------------------------------------
# HTTP


def test_anonymous_is_refused(client, territory):
    assert get_tile(client, *buildings_tile()).status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/21/0/0.mvt",
        "/tiles/3/8/0.mvt",
        "/tiles/3/0/8.mvt",
        "/tiles/0/1/0.mvt",
        "/tiles/-1/0/0.mvt",
        "/tiles/a/0/0.mvt",
        "/tiles/3/0/0.png",
    ],
)
def test_tiles_outside_the_grid_are_not_found(users, path):
    assert signed_in(users[Role.READ_ONLY]).get(path).status_code == 404


def test_tile_is_a_mapbox_vector_tile_privately_cached(map_data, users):
    response = get_tile(signed_in(users[Role.COMMUNITY_WORKER]), *buildings_tile())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert "private" in response["Cache-Control"]
    assert "max-age=60" in response["Cache-Control"]
    assert response["ETag"].startswith('"')
    assert set(decode(response.content)) >= {"boundary", "compound", "street", "building"}


def test_empty_tile_is_an_empty_200(users):
    response = get_tile(signed_in(users[Role.DISTRICT_ADMIN]), 16, 0, 0)
    assert response.status_code == 200
    assert response.content == b""


def test_matching_etag_answers_304_and_another_200(map_data, users):
    client = signed_in(users[Role.COMMUNITY_WORKER])
    first = get_tile(client, *buildings_tile())
    etag = first["ETag"]
    again = get_tile(client, *buildings_tile(), if_none_match=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert "private" in again["Cache-Control"]
    other = get_tile(client, *buildings_tile(), if_none_match='"something-else"')
    assert other.status_code == 200
    assert other.content == first.content


def test_head_and_no_post(map_data, users):
    client = signed_in(users[Role.COMMUNITY_WORKER])
    assert client.head(f"/tiles/{'/'.join(map(str, buildings_tile()))}.mvt").status_code == 200
    assert client.post(f"/tiles/{'/'.join(map(str, buildings_tile()))}.mvt").status_code == 405


# ---------------------------------------------------------------------------------------------
# Layers, properties and zooms


def test_building_properties_and_plate_status(map_data, users):
    assert tile_of(112.111, 32.011, 16) == tile_of(112.1148, 32.012, 16) == buildings_tile()
    layers = fetch(signed_in(users[Role.COMMUNITY_WORKER]), *buildings_tile())
    found = {p["id"]: p for p in properties(layers, "building")}
    home = map_data.territory.home.code
    assert found[map_data.plated.pk] == {
        "id": map_data.plated.pk,
        "use": "residential",
        "plate": "plate",
        "floors": 6,
        "name": "春园小区3栋",
        "number": "3",
        "community": home,
    }
    assert found[map_data.population.pk]["plate"] == "population"
    assert found[map_data.population.pk]["number"] == ""  # its plate names no building number
    assert found[map_data.bare.pk]["plate"] == "none"
    assert found[map_data.bare.pk]["number"] == ""
    # The feature id is the building's id too (OpenLayers: feature.getId()).
    assert {f["id"] for f in layers["building"]} == set(found)
    assert all(f["geometry"]["type"] == "Polygon" for f in layers["building"])


def test_compound_street_and_boundary_properties(map_data, users):
    layers = fetch(signed_in(users[Role.COMMUNITY_WORKER]), *buildings_tile())
    compound = map_data.plated.compound
    assert properties(layers, "compound") == [
        {"id": compound.pk, "name": "春园小区", "kind": "closed_property"}
    ]
    assert properties(layers, "street") == [
        {"id": map_data.street.pk, "name": "人民路", "kind": "arterial"}
    ]
    assert layers["street"][0]["geometry"]["type"] == "LineString"
    boundaries = {(p["level"], p["code"], p["name"]) for p in properties(layers, "boundary")}
    assert boundaries == {
        ("district", "420606", "樊城区"),
        ("street_office", "420606001", "汉江街道"),
        ("community", "420606001001", "人民路社区"),
    }


def test_a_compound_is_named_in_one_tile_only(map_data, users):
    """The compound spans several z17 tiles; its name is a label point in exactly one of them."""
    client = signed_in(users[Role.COMMUNITY_WORKER])
    (x0, y1), (x1, y0) = tile_of(112.1105, 32.0105, 17)[1:], tile_of(112.1150, 32.0125, 17)[1:]
    named = []
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            labels = properties(fetch(client, 17, x, y), "label")
            named += [(x, y) for p in labels if p["level"] == "compound"]
            assert all(p["name"] == "春园小区" for p in labels if p["level"] == "compound")
    assert (x1 - x0 + 1) * (y1 - y0 + 1) > 1
    assert len(named) == 1
    # Not before compounds are drawn, nor for a user who cannot see them.
    elsewhere = signed_in(
        UserFactory(username="elsewhere", grants=[(Role.DISTRICT_ADMIN, "420602")])
    )
    for reader, (z, x, y) in [
        (client, tile_of(112.112, 32.011, 12)),
        (elsewhere, (17, *named[0])),
    ]:
        assert not [
            p for p in properties(fetch(reader, z, x, y), "label") if p["level"] == "compound"
        ]


def test_a_building_number_is_a_label_in_one_tile_only(map_data, users):
    """A building across a tile edge is drawn in both tiles; its number is labelled in one."""
    client = signed_in(users[Role.COMMUNITY_WORKER])
    plated = map_data.plated  # 112.111–112.112: straddles a z18 tile edge
    _, x0, y = tile_of(112.111, 32.0115, 18)
    _, x1, _ = tile_of(112.112, 32.0115, 18)
    assert x1 > x0
    drawn, numbered = 0, []
    for x in range(x0, x1 + 1):
        layers = fetch(client, 18, x, y)
        drawn += sum(p["id"] == plated.pk for p in properties(layers, "building"))
        numbered += [p for p in properties(layers, "label") if p["level"] == "building"]
    assert drawn == x1 - x0 + 1
    assert numbered == [{"level": "building", "code": plated.community.code, "name": "3"}]
    # Only buildings whose own plate has a number, and only from the buildings' zoom.
    low = properties(fetch(client, *tile_of(112.1115, 32.0115, 13)), "label")
    assert not [p for p in low if p["level"] == "building"]


def test_plate_points_from_zoom_17(map_data, users):
    client = signed_in(users[Role.COMMUNITY_WORKER])
    location = map_data.plate.location
    layers = fetch(client, *tile_of(location.x, location.y, 17))
    plates = {p["id"]: p for p in properties(layers, "plate")}
    assert plates[map_data.plate.pk] == {
        "id": map_data.plate.pk,
        "building": map_data.plated.pk,
        "label": "",  # the building number is drawn on the footprint instead
        "population": False,
    }
    assert "plate" not in fetch(client, *tile_of(location.x, location.y, 16))


def test_a_plate_without_a_building_number_shows_its_door_number(map_data, users):
    plate = map_data.plate
    DoorPlate.objects.filter(pk=plate.pk).update(building_number="")
    layers = fetch(
        signed_in(users[Role.COMMUNITY_WORKER]), *tile_of(plate.location.x, plate.location.y, 17)
    )
    assert {p["id"]: p["label"] for p in properties(layers, "plate")}[plate.pk] == "12"


@pytest.mark.parametrize(
    ("z", "expected"),
    [
        (9, {"boundary", "label"}),
        (12, {"boundary", "street"}),
        (13, {"boundary", "street", "compound"}),
        (14, {"boundary", "street", "compound", "building"}),
        (17, {"boundary", "street", "compound", "building", "plate"}),
    ],
)
def test_layers_start_at_their_zoom(map_data, users, z, expected):
    location = map_data.plate.location
    layers = fetch(signed_in(users[Role.COMMUNITY_WORKER]), *tile_of(location.x, location.y, z))
    assert set(layers) - {"label"} == expected - {"label"}
    if "label" in expected:
        assert "label" in layers


@pytest.mark.parametrize(
    ("z", "levels"),
    [
        (0, {"district"}),
        (9, {"district"}),
        (10, {"district", "street_office"}),
        (11, {"district", "street_office", "community"}),
        (18, {"district", "street_office", "community"}),
    ],
)
def test_boundary_levels_by_zoom(map_data, users, z, levels):
    layers = fetch(signed_in(users[Role.COMMUNITY_WORKER]), *tile_of(112.1125, 32.0115, z))
    assert {p["level"] for p in properties(layers, "boundary")} == levels


def test_each_boundary_has_its_label_in_exactly_one_tile(map_data, users):
    client = signed_in(users[Role.DISTRICT_ADMIN])
    z = 14  # the community (0.05° square) spans several tiles
    _, x0, y1 = tile_of(112.10, 32.00, z)
    _, x1, y0 = tile_of(112.15, 32.05, z)
    assert (x1 - x0 + 1) * (y1 - y0 + 1) >= 9
    counts: dict[str, int] = {}
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            for label in properties(fetch(client, z, x, y), "label"):
                if label["level"] in ("district", "street_office", "community"):
                    counts[label["code"]] = counts.get(label["code"], 0) + 1
    home, away = map_data.territory.home.code, map_data.territory.away.code
    assert counts[home] == 1
    assert away not in counts or counts[away] == 1


# ---------------------------------------------------------------------------------------------
# Scope


def test_worker_tile_holds_only_their_community(territory, users):
    # Two buildings either side of the border between ``home`` and ``away`` (lat 32.05), in one
    # tile.
    south = BuildingFactory(footprint=box(112.120, 32.0490, 112.1205, 32.0495))
    north = BuildingFactory(footprint=box(112.120, 32.0505, 112.1205, 32.0510))
    assert south.community == territory.home and north.community == territory.away
    tile = tile_of(112.12025, 32.0495, 15)
    assert tile == tile_of(112.12025, 32.0505, 15)

    worker = fetch(signed_in(users[Role.COMMUNITY_WORKER]), *tile)
    assert {p["id"] for p in properties(worker, "building")} == {south.pk}
    assert {p["community"] for p in properties(worker, "building")} == {territory.home.code}
    assert {p["code"] for p in properties(worker, "boundary")} == {
        "420606",
        "420606001",
        territory.home.code,  # its own node and its ancestors; not the neighbour
    }

    supervisor = fetch(signed_in(users[Role.STREET_SUPERVISOR]), *tile)
    assert {p["id"] for p in properties(supervisor, "building")} == {south.pk, north.pk}
    assert {p["code"] for p in properties(supervisor, "boundary")} >= {
        territory.home.code,
        territory.away.code,  # descendants of the office
    }


@pytest.mark.parametrize(
    ("role", "sees_away"),
    [
        (Role.DISTRICT_ADMIN, True),
        (Role.STREET_SUPERVISOR, True),
        (Role.COMMUNITY_WORKER, False),
        (Role.READ_ONLY, False),
    ],
)
def test_every_role_reads_its_territory_only(map_data, users, role, sees_away):
    client = signed_in(users[role])
    away = map_data.territory.away_building
    away_tile = tile_of(away.centroid.x, away.centroid.y, 16)
    home_ids = {p["id"] for p in properties(fetch(client, *buildings_tile()), "building")}
    away_ids = {p["id"] for p in properties(fetch(client, *away_tile), "building")}
    assert map_data.plated.pk in home_ids
    assert (away.pk in away_ids) is sees_away


def test_streets_of_the_users_district_only(map_data, users):
    elsewhere = UserFactory(username="elsewhere", grants=[(Role.DISTRICT_ADMIN, "420602")])
    assert "street" not in fetch(signed_in(elsewhere), *buildings_tile())
    assert "street" in fetch(signed_in(users[Role.READ_ONLY]), *buildings_tile())


def test_user_without_grants_gets_empty_tiles(map_data):
    nobody = UserFactory(username="nobody")
    for z in (0, 11, 16):
        response = get_tile(signed_in(nobody), *tile_of(112.1125, 32.0115, z))
        assert response.status_code == 200
        assert response.content == b""


def test_superuser_sees_everything(map_data):
    root = UserFactory(username="root", is_superuser=True)
    away = map_data.territory.away_building
    layers = fetch(signed_in(root), *tile_of(away.centroid.x, away.centroid.y, 16))
    assert away.pk in {p["id"] for p in properties(layers, "building")}


# ---------------------------------------------------------------------------------------------
# Cache and epoch


def test_edit_through_the_services_shows_in_the_next_tile(
    map_data, users, django_capture_on_commit_callbacks
):
    worker = users[Role.COMMUNITY_WORKER]
    client = signed_in(worker)
    before = get_tile(client, *buildings_tile())
    names = {p["id"]: p["name"] for p in properties(decode(before.content), "building")}
    assert names[map_data.bare.pk] == ""

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.save_building(
            actor=worker, data={"name": "新楼", "use": "commercial"}, instance=map_data.bare
        )
    assert len(callbacks) == 1

    after = get_tile(client, *buildings_tile(), if_none_match=before["ETag"])
    assert after.status_code == 200
    found = {p["id"]: p for p in properties(decode(after.content), "building")}
    assert found[map_data.bare.pk]["name"] == "新楼"
    assert found[map_data.bare.pk]["use"] == "commercial"


def test_a_change_outside_the_services_waits_for_the_epoch(map_data, users):
    client = signed_in(users[Role.COMMUNITY_WORKER])
    fetch(client, *buildings_tile())
    Building.objects.filter(pk=map_data.bare.pk).update(name="改名")  # no signal: cached tile
    names = {p["id"]: p["name"] for p in properties(fetch(client, *buildings_tile()), "building")}
    assert names[map_data.bare.pk] == ""
    tiles.bump_epoch()
    names = {p["id"]: p["name"] for p in properties(fetch(client, *buildings_tile()), "building")}
    assert names[map_data.bare.pk] == "改名"


def test_undo_and_delete_bump_the_epoch(map_data, users, django_capture_on_commit_callbacks):
    worker = users[Role.COMMUNITY_WORKER]
    client = signed_in(worker)

    def names() -> dict[int, str]:
        return {
            p["id"]: p["name"] for p in properties(fetch(client, *buildings_tile()), "building")
        }

    with django_capture_on_commit_callbacks(execute=True):
        services.save_building(actor=worker, data={"name": "新楼"}, instance=map_data.bare)
    assert names()[map_data.bare.pk] == "新楼"
    change = history.changes_of(Building, map_data.bare.pk)[-1]
    with django_capture_on_commit_callbacks(execute=True):
        history.undo_change(
            actor=worker, model=Building, pk=map_data.bare.pk, event_id=change.event_id
        )
    assert names()[map_data.bare.pk] == ""
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_object(actor=worker, instance=Building.objects.get(pk=map_data.bare.pk))
    assert map_data.bare.pk not in names()


def test_users_with_the_same_scope_share_tiles_and_others_do_not(tile_cache, map_data, users):
    worker, reader = users[Role.COMMUNITY_WORKER], users[Role.READ_ONLY]
    fetch(signed_in(worker), *buildings_tile())
    fetch(signed_in(reader), *buildings_tile())  # same prefix (the home community): same key
    fetch(signed_in(users[Role.STREET_SUPERVISOR]), *buildings_tile())
    epoch = tiles.current_epoch()
    keys = {
        tiles.cache_key(prefixes, *buildings_tile(), shift="wgs84", epoch=epoch)
        for prefixes in (["420606001001"], ["420606001"])
    }
    assert len(keys) == 2
    assert all(tile_cache.get(key) is not None for key in keys)


def test_cache_key_names_scope_tile_shift_and_epoch():
    key = tiles.cache_key(["420606001", "420602"], 16, 1, 2, shift="wgs84", epoch="e1")
    assert key == tiles.cache_key(["420602", "420606001"], 16, 1, 2, shift="wgs84", epoch="e1")
    assert key != tiles.cache_key(["420602"], 16, 1, 2, shift="wgs84", epoch="e1")
    assert key != tiles.cache_key(["420606001", "420602"], 16, 1, 2, shift="gcj02", epoch="e1")
    assert key != tiles.cache_key(["420606001", "420602"], 16, 1, 2, shift="wgs84", epoch="e2")
    assert key != tiles.cache_key(["420606001", "420602"], 16, 2, 1, shift="wgs84", epoch="e1")
    assert tiles.scope_key(None) == "*"


def test_epoch_is_fresh_after_a_bump_and_when_lost(tile_cache):
    first = tiles.current_epoch()
    assert tiles.current_epoch() == first
    tiles.bump_epoch()
    second = tiles.current_epoch()
    assert second != first
    tile_cache.clear()
    assert tiles.current_epoch() not in {first, second}


# ---------------------------------------------------------------------------------------------
# GCJ-02 display shift


def test_gcj02_basemap_shifts_the_tiles_not_the_data(map_data, users, settings):
    client = signed_in(users[Role.COMMUNITY_WORKER])
    location = map_data.plate.location
    settings.PLATEGRID_BASEMAP = {**settings.PLATEGRID_BASEMAP, "crs": "gcj02"}
    lon, lat = coords.wgs84_to_gcj02(location.x, location.y)
    assert (lon - location.x) * 94_000 > 500  # ~570 m east at Xiangyang: another z17 tile
    z, x, y = tile_of(lon, lat, 17)
    layers = fetch(client, z, x, y)
    plate = next(f for f in layers["plate"] if f["id"] == map_data.plate.pk)
    west, south, east, north = tile_bounds(z, x, y)
    expected = ((lon - west) / (east - west) * 4096, (north - lat) / (north - south) * 4096)
    got = plate["geometry"]["coordinates"]
    assert got[0] == pytest.approx(expected[0], abs=1)
    assert got[1] == pytest.approx(expected[1], abs=1)
    # The stored plate has not moved, and the WGS84 tile (another cache key) is unchanged.
    assert DoorPlate.objects.get(pk=map_data.plate.pk).location.equals_exact(location, 1e-12)
    settings.PLATEGRID_BASEMAP = {**settings.PLATEGRID_BASEMAP, "crs": "wgs84"}
    unshifted = fetch(client, *tile_of(location.x, location.y, 17))
    assert map_data.plate.pk in {p["id"] for p in properties(unshifted, "plate")}


def test_a_changed_grant_applies_to_the_next_tile(
    map_data, users, django_capture_on_commit_callbacks
):
    worker = users[Role.COMMUNITY_WORKER]
    client = signed_in(worker)
    away = map_data.territory.away_building
    away_tile = tile_of(away.centroid.x, away.centroid.y, 16)
    assert "building" not in fetch(client, *away_tile)
    with django_capture_on_commit_callbacks(execute=True):
        grant = ScopeGrant.objects.create(
            user=worker, role=Role.COMMUNITY_WORKER, territory_code=map_data.territory.away.code
        )
    assert away.pk in {p["id"] for p in properties(fetch(client, *away_tile), "building")}
    with django_capture_on_commit_callbacks(execute=True):
        grant.delete()
    assert "building" not in fetch(client, *away_tile)
    # Deactivated: signed out by Django's authentication, whatever was remembered.
    worker.is_active = False
    worker.save()
    assert get_tile(client, *away_tile).status_code == 403
