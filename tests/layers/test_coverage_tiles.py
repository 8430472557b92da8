"""GET /tiles/coverage/{z}/{x}/{y}.mvt: the per-building figures kept by triggers (migration
layers 0002) against a recount in Python, gap cells and building footprints against figures
computed from the rows, suppression, windows, scope and cache, ETag, bad parameters."""

from __future__ import annotations

import datetime
import io
import json
import math
from typing import Any

import numpy as np
import pytest
import shapely
from django.core.cache import BaseCache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gis import coords
from gis.exceptions import InvalidInputError
from gis.models import Building, DoorPlate, Role, RoomUse
from grid.models import RoomVisitState
from layers import tiles as map_tiles
from layers.coverage import sql as coverage_sql
from layers.coverage import tiles
from layers.models import BuildingCoverage

from ..conftest import Territory
from ..factories import RoomFactory, UserFactory
from .conftest import decode, tile_of
from .coverage_data import CoverageData, building_figures, make_coverage_data, since_of

R = 6378137.0
WORLD = 2 * math.pi * R


@pytest.fixture
def data(territory: Territory) -> CoverageData:
    return make_coverage_data(territory)


@pytest.fixture
def admin(users: dict[str, Any]) -> Any:
    return users[Role.DISTRICT_ADMIN]


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(z: int, x: int, y: int, **params: Any) -> str:
    path = reverse("layers:coverage-tile", kwargs={"z": z, "x": x, "y": y})
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{path}?{query}" if query else path


def get_layers(client: Client, z: int, x: int, y: int, **params: Any) -> dict[str, Any]:
    response = client.get(url(z, x, y, **params))
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return decode(response.content)


def tile_units(lon: float, lat: float, z: int, x: int, y: int) -> tuple[float, float]:
    """(lon, lat) in the tile's MVT units, y down (Web Mercator by its formulas)."""
    size = WORLD / 2**z
    mx = R * math.radians(lon) + WORLD / 2
    my = WORLD / 2 - R * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return (mx - x * size) / size * 4096, (my - y * size) / size * 4096


# ---- the per-building figures kept by triggers ---------------------------------------------


def kept(building: Building) -> tuple[int, int, list[datetime.date], list[datetime.date]]:
    row = BuildingCoverage.objects.get(building=building)
    return row.rooms, row.rented_rooms, row.seen, row.rented_seen


def recounted(building: Building) -> tuple[int, int, list[datetime.date], list[datetime.date]]:
    states = RoomVisitState.objects.filter(room__building=building, last_seen_on__isnull=False)
    rented = ("rented_whole", "rented_shared")
    return (
        building.rooms.count(),
        building.rooms.filter(use__in=rented).count(),
        sorted(s.last_seen_on for s in states),
        sorted(s.last_seen_on for s in states.filter(room__use__in=rented)),
    )


def test_building_figures_follow_rooms_and_visits(data: CoverageData) -> None:
    for building in data.buildings.values():
        assert kept(building) == recounted(building)
    a1, c = data.buildings["a1"], data.buildings["c"]
    room = data.rooms["a1"][4]  # never seen yet
    state = RoomVisitState.objects.get(room=room)
    state.last_seen_on = data.today
    state.save()
    assert kept(a1) == recounted(a1)
    RoomVisitState.objects.filter(room=data.rooms["a1"][0]).update(
        last_seen_on=data.today - datetime.timedelta(days=5)
    )
    assert kept(a1) == recounted(a1)
    RoomVisitState.objects.filter(room=data.rooms["a1"][1]).delete()
    assert kept(a1) == recounted(a1)
    moved = data.rooms["a1"][2]  # seen 60 days ago, to the away building, rented
    moved.building = c
    moved.use = RoomUse.RENTED_SHARED
    moved.floor, moved.number = 6, "601"
    moved.save()
    assert kept(a1) == recounted(a1) and kept(c) == recounted(c)
    data.rooms["c"][0].delete()
    assert kept(c) == recounted(c)
    RoomFactory(building=c, floor=5, number="501")
    assert kept(c) == recounted(c)
    before = BuildingCoverage.objects.count()
    data.buildings["b"].delete()
    assert BuildingCoverage.objects.count() == before - 1


def test_migration_counts_what_is_there(data: CoverageData) -> None:
    """The migration's initial count (layers_coverage_rows) is the triggers' figures."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT building_id, rooms, rented_rooms, seen, rented_seen "
            "FROM layers_coverage_rows(%s) ORDER BY 1",
            [[b.pk for b in data.buildings.values()]],
        )
        counted = {row[0]: tuple(row[1:]) for row in cursor.fetchall()}
    assert counted == {b.pk: kept(b) for b in data.buildings.values()}


def test_dates_move_keeps_one_sorted_day_per_room(db: None) -> None:
    day = datetime.date(2026, 5, 1)
    days = [day, day, day + datetime.timedelta(days=3)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT layers_dates_move(%s::date[], %s, %s), layers_dates_move(%s::date[], NULL, %s)",
            [days, day, day + datetime.timedelta(days=9), days, day - datetime.timedelta(days=1)],
        )
        moved, added = cursor.fetchone()
    assert moved == [day, day + datetime.timedelta(days=3), day + datetime.timedelta(days=9)]
    assert added == [day - datetime.timedelta(days=1), *days]


# ---- gap cells -----------------------------------------------------------------------------


def _cells(layers: dict[str, Any]) -> list[tuple[shapely.Geometry, dict[str, Any]]]:
    return [
        (shapely.geometry.shape(f["geometry"]), f["properties"])
        for f in layers.get("gap_cells", [])
    ]


def expected_cells(
    data: CoverageData,
    cells: list[tuple[shapely.Geometry, dict[str, Any]]],
    names: list[str],
    z: int,
    x: int,
    y: int,
    *,
    days: int | None,
    rented: bool = False,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The figures each drawn cell should have, summed in Python over the buildings whose
    centroid lies in its polygon, and the buildings in no drawn cell."""
    since = since_of(data.today, days)
    sums = [{"rooms": 0, "gaps": 0, "buildings": 0, "gap_buildings": 0, "seen": 0} for _ in cells]
    outside = []
    for name in names:
        building = Building.objects.get(pk=data.buildings[name].pk)
        figures = building_figures(building, since=since, rented=rented)
        if not figures["rooms"]:
            continue
        point = shapely.Point(tile_units(building.centroid.x, building.centroid.y, z, x, y))
        holders = [k for k, (polygon, _) in enumerate(cells) if polygon.covers(point)]
        assert len(holders) <= 1
        if not holders:
            outside.append(name)
            continue
        distance = cells[holders[0]][0].exterior.distance(point)
        assert distance > 2, "a centroid this near a cell's edge is a test set-up problem"
        cell = sums[holders[0]]
        cell["rooms"] += figures["rooms"]
        cell["gaps"] += figures["gaps"]
        cell["seen"] += figures["seen"]
        cell["buildings"] += 1
        cell["gap_buildings"] += figures["gaps"] > 0
    for cell in sums:
        cell["share"] = round(cell.pop("seen") / cell["rooms"], 4) if cell["rooms"] else None
    return sums, outside


@pytest.mark.parametrize("days", [7, 30, 90, None])
def test_gap_cells_sum_the_buildings_in_them(data: CoverageData, admin: Any, days: int | None):
    z, x, y = tile_of(112.12, 32.02, 12)
    layers = get_layers(client_of(admin), z, x, y, days=days or "all")
    assert set(layers) == {"gap_cells"}
    cells = _cells(layers)
    home = ["a1", "a2", "a3", "b"]
    expected, outside = expected_cells(data, cells, home, z, x, y, days=days)
    assert [props for _, props in cells] == expected
    assert outside == ["b"]  # in the tile to the north
    assert all(props["rooms"] >= 5 for _, props in cells)


def test_rented_rooms_only(data: CoverageData, admin: Any, settings: Any) -> None:
    settings.PLATEGRID_GAP_MIN_CELL = 1  # the home cluster has 4 rented rooms
    z, x, y = tile_of(112.12, 32.02, 12)
    layers = get_layers(client_of(admin), z, x, y, days=30, rented=1)
    cells = _cells(layers)
    names = ["a1", "a2", "a3", "b"]
    expected, outside = expected_cells(data, cells, names, z, x, y, days=30, rented=True)
    assert [props for _, props in cells] == expected
    assert outside == [] and sum(p["rooms"] for p in expected) == 2 + 1 + 1  # rented rooms


def test_cells_below_the_threshold_are_left_out(
    data: CoverageData, users: dict[str, Any], settings: Any
) -> None:
    """b's cell holds its 3 rooms only: not drawn at the default threshold (5), drawn at 3
    (seen by the home community's worker: the tile also holds c's cell, of the away one)."""
    worker = users[Role.COMMUNITY_WORKER]
    b = Building.objects.get(pk=data.buildings["b"].pk)
    z, x, y = tile_of(b.centroid.x, b.centroid.y, 12)
    assert "b" in expected_cells(data, [], ["b"], z, x, y, days=30)[1]
    assert get_layers(client_of(worker), z, x, y, days=30) == {}
    settings.PLATEGRID_GAP_MIN_CELL = 3
    cells = _cells(get_layers(client_of(worker), z, x, y, days=30))
    expected, outside = expected_cells(data, cells, ["b"], z, x, y, days=30)
    assert (
        [props for _, props in cells]
        == expected
        == [{"rooms": 3, "gaps": 2, "buildings": 1, "gap_buildings": 1, "share": 0.3333}]
    )
    assert outside == []
    settings.PLATEGRID_GAP_MIN_CELL = 4
    assert get_layers(client_of(worker), z, x, y, days=30) == {}


def test_hexagons_line_up_across_tiles(data: CoverageData, admin: Any) -> None:
    """A building is placed in the ST_HexagonGrid cell that covers its centroid, whichever
    tile asks (PostGIS's own grid against the arithmetic placement)."""
    z = 13
    size = coverage_sql.hexagon_size_m(z)
    with connection.cursor() as cursor:
        for name in ("a1", "a2", "a3"):
            building = Building.objects.get(pk=data.buildings[name].pk)
            cursor.execute(
                "SELECT ST_AsText(h.geom) FROM ST_HexagonGrid(%s, ST_Expand("
                "ST_Transform(%s::geometry, 3857), 1)) h "
                "WHERE ST_Covers(h.geom, ST_Transform(%s::geometry, 3857))",
                [size, building.centroid.ewkt, building.centroid.ewkt],
            )
            (grid_cell,) = [shapely.from_wkt(r[0]) for r in cursor.fetchall()]
            _z, x, y = tile_of(building.centroid.x, building.centroid.y, z)
            cells = _cells(get_layers(client_of(admin), z, x, y, days="all"))
            point = shapely.Point(tile_units(building.centroid.x, building.centroid.y, z, x, y))
            (drawn,) = [polygon for polygon, _ in cells if polygon.covers(point)]
            x0, y0 = x * WORLD / 2**z - WORLD / 2, WORLD / 2 - y * WORLD / 2**z
            scale = 4096 / (WORLD / 2**z)
            corners = (shapely.get_coordinates(grid_cell) - [x0, y0]) * [scale, -scale]
            expected = shapely.Polygon(corners)
            assert drawn.symmetric_difference(expected).area < 0.01 * expected.area


def test_gap_cells_are_shifted_as_features(data: CoverageData, admin: Any, settings: Any):
    """On a GCJ-02 basemap a cell keeps its buildings and moves by the offset at its centre."""
    z, x, y = tile_of(112.12, 32.02, 12)
    plain = _cells(get_layers(client_of(admin), z, x, y, days=30))
    settings.PLATEGRID_BASEMAP = {**settings.PLATEGRID_BASEMAP, "crs": "gcj02"}
    shifted = _cells(get_layers(client_of(admin), z, x, y, days=30))
    assert [p for _, p in shifted] == [p for _, p in plain] != []
    lon, lat = coords.wgs84_to_gcj02(112.12, 32.02)
    dx, dy = np.subtract(tile_units(lon, lat, z, x, y), tile_units(112.12, 32.02, z, x, y))
    for (before, _), (after, _) in zip(plain, shifted, strict=True):
        moved = np.subtract(after.centroid.coords[0], before.centroid.coords[0])
        assert moved == pytest.approx([dx, dy], abs=1.5)


# ---- building footprints -------------------------------------------------------------------


def expected_buildings(
    data: CoverageData, *, days: int | None, rented: bool, min_rooms: int
) -> dict[int, dict[str, Any]]:
    """The home cluster's features as the tile should hold them: a building with fewer rooms
    (of the window's kind) than ``min_rooms`` has its id and plate only."""
    since = since_of(data.today, days)
    expected: dict[int, dict[str, Any]] = {}
    for name in ("a1", "a2", "a3"):
        building = data.buildings[name]
        figures = building_figures(building, since=since, rented=rented)
        if not figures["rooms"]:
            continue
        plate = DoorPlate.objects.filter(building=building, population_plate=True).exists()
        expected[building.pk] = {"id": building.pk, "plate": plate}
        if figures["rooms"] >= min_rooms:
            expected[building.pk] |= {
                "rooms": figures["rooms"],
                "seen": figures["seen"],
                "gaps": figures["gaps"],
                "share": round(figures["seen"] / figures["rooms"], 4),
                "never_visited": figures["ever"] == 0,
            }
    return expected


def buildings_of(client: Client, **params: Any) -> dict[int, dict[str, Any]]:
    layers = get_layers(client, *tile_of(112.1205, 32.0201, 14), **params)
    assert set(layers) == {"buildings"}
    return {f["id"]: f["properties"] for f in layers["buildings"]}


@pytest.mark.parametrize(("days", "rented"), [(7, False), (30, True), (None, False)])
def test_buildings_layer(
    data: CoverageData, admin: Any, settings: Any, days: int | None, rented: bool
) -> None:
    settings.PLATEGRID_GAP_MIN_CELL = 1  # every building's figures
    got = buildings_of(client_of(admin), days=days or "all", rented=int(rented))
    assert got == expected_buildings(data, days=days, rented=rented, min_rooms=1)
    assert all("rooms" in props for props in got.values())
    assert data.territory.home_building.pk not in got  # no rooms


def test_small_buildings_are_footprints_only(data: CoverageData, admin: Any, settings: Any):
    """A building with fewer rooms than PLATEGRID_GAP_MIN_CELL is drawn without its figures, as
    a cell that small is left out: a1 (6 rooms, 2 rented), a2 (4, 1), a3 (3, 1)."""
    a1, a2, a3 = (data.buildings[n].pk for n in ("a1", "a2", "a3"))
    client = client_of(admin)
    got = buildings_of(client, days=30)
    assert got == expected_buildings(data, days=30, rented=False, min_rooms=5)
    assert set(got[a1]) == {"id", "plate", "rooms", "seen", "gaps", "share", "never_visited"}
    assert set(got[a2]) == set(got[a3]) == {"id", "plate"}
    # Rented rooms only: a1's 2 rented rooms are below 5 too; a3's one rented room was never
    # seen, which a footprint with figures would tell.
    got = buildings_of(client, days=30, rented=1)
    assert got == expected_buildings(data, days=30, rented=True, min_rooms=5)
    assert {pk: set(props) for pk, props in got.items()} == {
        a1: {"id", "plate"},
        a2: {"id", "plate"},
        a3: {"id", "plate"},
    }
    settings.PLATEGRID_GAP_MIN_CELL = 2
    got = buildings_of(client, days="all", rented=1)
    assert got == expected_buildings(data, days=None, rented=True, min_rooms=2)
    assert "rooms" in got[a1] and set(got[a2]) == set(got[a3]) == {"id", "plate"}


def test_buildings_layer_is_shifted_like_the_map(
    data: CoverageData, admin: Any, settings: Any
) -> None:
    """With a GCJ-02 basemap the footprints are where the map's tiles draw them."""
    settings.PLATEGRID_BASEMAP = {**settings.PLATEGRID_BASEMAP, "crs": "gcj02"}
    building = data.buildings["a1"]
    z, x, y = tile_of(building.centroid.x + 0.006, building.centroid.y - 0.002, 16)
    client = client_of(admin)
    coverage = {f["id"]: f["geometry"] for f in get_layers(client, z, x, y)["buildings"]}
    response = client.get(f"/tiles/{z}/{x}/{y}.mvt")
    mapped = {f["id"]: f["geometry"] for f in decode(response.content)["building"]}
    assert building.pk in coverage
    assert coverage[building.pk] == mapped[building.pk]


# ---- scope and cache -----------------------------------------------------------------------


def test_worker_sees_nothing_of_another_community(
    data: CoverageData, users: dict[str, Any]
) -> None:
    admin, worker = users[Role.DISTRICT_ADMIN], users[Role.COMMUNITY_WORKER]
    z, x, y = tile_of(112.125, 32.05, 10)  # both communities
    everything = get_layers(client_of(admin), z, x, y, days="all")  # cached first
    # a1, a2, a3 (home) and c (away); b's cell, 3 rooms, is below the threshold
    rooms_all = sum(f["properties"]["rooms"] for f in everything["gap_cells"])
    assert rooms_all == 6 + 4 + 3 + 5
    own = get_layers(client_of(worker), z, x, y, days="all")
    assert sum(f["properties"]["rooms"] for f in own["gap_cells"]) == 6 + 4 + 3
    c = data.buildings["c"]
    z, x, y = tile_of(c.centroid.x, c.centroid.y, 16)
    assert c.pk in {f["id"] for f in get_layers(client_of(admin), z, x, y)["buildings"]}
    assert get_layers(client_of(worker), z, x, y) == {}


def test_user_without_grants_gets_an_empty_tile(data: CoverageData) -> None:
    nobody = UserFactory(username="nobody")
    response = client_of(nobody).get(url(*tile_of(112.12, 32.02, 12)))
    assert response.status_code == 200 and response.content == b""


def test_cache_keys_by_scope_window_and_time_bucket(
    data: CoverageData,
    users: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    coverage_tile_cache: BaseCache,
    tile_cache: BaseCache,
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    z, x, y = tile_of(112.12, 32.02, 12)
    monkeypatch.setattr(tiles, "time_bucket", lambda: 100)
    first = client_of(worker).get(url(z, x, y, days=7)).content
    # In the coverage tiles' own cache, not the map's (whose culling it would feed).
    window = tiles.Window(7, False, timezone.localdate())
    key = tiles.cache_key(
        map_tiles.scope_of(worker),
        z,
        x,
        y,
        window=window,
        shift="wgs84",
        epoch=map_tiles.current_epoch(),
        bucket=100,
        min_rooms=5,
    )
    assert coverage_tile_cache.get(key).body == first
    assert tile_cache.get(key) is None
    assert client_of(worker).get(url(z, x, y, days=30)).content != first
    # A visit: the tile of this bucket is served from the cache, the next bucket's is new.
    RoomVisitState.objects.filter(room__building=data.buildings["a3"]).delete()
    for room in data.rooms["a3"]:
        RoomVisitState.objects.create(
            room=room,
            last_visited_at=timezone.now(),
            last_visited_on=data.today,
            last_outcome="registered",
            last_seen_on=data.today,
        )
    assert client_of(worker).get(url(z, x, y, days=7)).content == first
    monkeypatch.setattr(tiles, "time_bucket", lambda: 101)
    fresh = get_layers(client_of(worker), z, x, y, days=7)
    assert sum(f["properties"]["gaps"] for f in fresh["gap_cells"]) < sum(
        f["properties"]["gaps"] for f in decode(first)["gap_cells"]
    )


def test_cache_key_parts() -> None:
    window = tiles.Window(30, True, datetime.date(2026, 12, 3))
    common = {"window": window, "shift": "wgs84", "epoch": "e", "bucket": 1, "min_rooms": 5}
    keys = {
        tiles.cache_key(["420606001001"], 12, 1, 2, **common),
        tiles.cache_key(["420606001002"], 12, 1, 2, **common),
        tiles.cache_key(None, 12, 1, 2, **common),
        tiles.cache_key(None, 12, 1, 2, **{**common, "bucket": 2}),
        tiles.cache_key(None, 12, 1, 2, **{**common, "epoch": "f"}),
        tiles.cache_key(None, 12, 1, 2, **{**common, "shift": "gcj02"}),
        tiles.cache_key(None, 12, 1, 2, **{**common, "min_rooms": 6}),
        tiles.cache_key(
            None, 12, 1, 2, **{**common, "window": tiles.Window(30, False, window.today)}
        ),
        tiles.cache_key(
            None, 12, 1, 2, **{**common, "window": tiles.Window(7, True, window.today)}
        ),
        tiles.cache_key(
            None,
            12,
            1,
            2,
            **{**common, "window": tiles.Window(30, True, datetime.date(2026, 12, 4))},
        ),
    }
    assert len(keys) == 10


def test_etag_and_conditional_get(data: CoverageData, admin: Any) -> None:
    client = client_of(admin)
    z, x, y = tile_of(112.12, 32.02, 12)
    response = client.get(url(z, x, y, days=30))
    etag = response["ETag"]
    assert etag and "private" in response["Cache-Control"]
    again = client.get(url(z, x, y, days=30), headers={"If-None-Match": etag})
    assert again.status_code == 304


# ---- refusals ------------------------------------------------------------------------------


def test_anonymous_is_refused(data: CoverageData) -> None:
    response = Client().get(url(*tile_of(112.12, 32.02, 12)))
    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("params", "code", "word"),
    [
        ({"days": 5}, "bad_days", "days"),
        ({"days": "x"}, "bad_days", "days"),
        ({"rented": "x"}, "bad_rented", "rented"),
        ({"rented": "2"}, "bad_rented", "rented"),
    ],
)
def test_bad_parameters(admin: Any, params: dict[str, Any], code: str, word: str) -> None:
    response = client_of(admin).get(url(12, 3323, 1662, **params))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and body["field"] == word
    assert word in body["detail_en"] and body["detail_zh"]


@pytest.mark.parametrize(
    ("value", "rented"),
    [(None, False), ("", False), ("0", False), ("false", False), ("1", True), ("true", True)],
)
def test_parse_rented(value: str | None, rented: bool) -> None:
    assert tiles.parse_rented(value) is rented


@pytest.mark.parametrize("value", ["2", "yes", "True", "01", " 1", 1, ["1"]])
def test_parse_rented_refuses(value: Any) -> None:
    with pytest.raises(InvalidInputError) as refused:
        tiles.parse_rented(value)
    assert refused.value.code == "bad_rented" and refused.value.field == "rented"


def test_rented_true_is_rented_one(data: CoverageData, admin: Any, settings: Any) -> None:
    settings.PLATEGRID_GAP_MIN_CELL = 1
    z, x, y = tile_of(112.12, 32.02, 12)
    client = client_of(admin)

    # The same cells, in whatever order the aggregate gave them (ST_AsMVT keeps the rows' order,
    # and a GROUP BY promises none).
    def cells(**params: Any) -> list[str]:
        found = get_layers(client, z, x, y, **params).get("gap_cells", [])
        return sorted(json.dumps(f["properties"], sort_keys=True) for f in found)

    assert cells(rented="true") == cells(rented=1)
    assert cells(rented="false") == cells()
    assert cells(rented=1) != cells()


@pytest.mark.parametrize(("z", "x", "y"), [(21, 0, 0), (12, 4096, 0), (3, 1, 8)])
def test_tiles_out_of_range(admin: Any, z: int, x: int, y: int) -> None:
    response = client_of(admin).get(url(z, x, y))
    assert response.status_code == 404
    assert response.json()["code"] == "no_tile"
    assert f"{z}/{x}/{y}" in response.json()["detail_en"]


def test_only_safe_methods(admin: Any) -> None:
    assert client_of(admin).post(url(12, 3323, 1662)).status_code == 405


def test_no_grants_no_query(db: None, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        body = coverage_sql.coverage_tile(
            12, 1, 1, prefixes=[], since=None, rented=False, min_rooms=5
        )
    assert body == b""
    assert map_tiles.EMPTY.body == b""


# ---- recount ---------------------------------------------------------------------------------


def test_rebuild_coverage_recounts_buildings(data: CoverageData) -> None:
    """``manage.py rebuild_coverage`` fixes rows broken by hand (no trigger fires on
    layers_buildingcoverage itself) and makes the missing ones; with community codes, only
    theirs."""
    a1, b, c = (data.buildings[n] for n in ("a1", "b", "c"))
    expected = {pk: kept(building) for pk, building in [(a1.pk, a1), (b.pk, b), (c.pk, c)]}
    BuildingCoverage.objects.filter(building__in=[a1, c]).update(rooms=99, seen=[], rented_seen=[])
    BuildingCoverage.objects.filter(building=b).delete()
    out = io.StringIO()
    call_command("rebuild_coverage", data.territory.home.code, stdout=out)
    assert kept(a1) == expected[a1.pk] == recounted(a1)
    assert kept(b) == expected[b.pk] == recounted(b)
    assert kept(c)[0] == 99  # the away community: not asked for
    home_buildings = Building.objects.filter(community=data.territory.home).count()
    assert f"1 communities, {home_buildings} buildings" in out.getvalue()
    call_command("rebuild_coverage", stdout=io.StringIO())
    assert kept(c) == expected[c.pk] == recounted(c)
    assert tiles.recount_buildings([]) == 0
    for building in data.buildings.values():
        assert kept(building) == recounted(building)
