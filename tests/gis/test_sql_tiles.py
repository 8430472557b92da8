"""gis.sql.map_tile and the plategrid_gcj02_shift SQL function."""

from __future__ import annotations

import math

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from django.db import connection

from gis import coords
from gis.sql import map_tile, map_tile_query, tile_bounds

from ..factories import box


def _tile(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, int((lon + 180.0) / 360.0 * n), y


def test_no_scope_no_query(territory, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert map_tile(16, 53177, 26611, prefixes=[]) == b""


def test_tile_holds_the_building_layer(territory):
    building = territory.home_building
    body = map_tile(*_tile(building.centroid.x, building.centroid.y, 16), prefixes=None)
    layers = mapbox_vector_tile.decode(body)
    assert building.pk in {f["id"] for f in layers["building"]["features"]}
    assert layers["building"]["extent"] == 4096


def test_scope_prefixes_filter_property(territory):
    building = territory.home_building
    tile = _tile(building.centroid.x, building.centroid.y, 16)
    assert b"building" in map_tile(*tile, prefixes=["420606001001"])
    assert b"building" not in map_tile(*tile, prefixes=["420606001002"])


@pytest.mark.parametrize("z", [0, 5, 12, 16, 20])
def testtile_bounds_are_postgis_tile_envelope(db, z):
    tile = _tile(112.14, 32.04, z)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            "FROM ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326) e",
            list(tile),
        )
        expected = cursor.fetchone()
    assert tile_bounds(*tile) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("z", [12, 14, 17])
def test_linear_placement_is_within_a_unit_of_web_mercator(territory, z):
    """From z12 on geometries go into the tile from degrees; Web Mercator would put them within
    one MVT unit of the same place."""
    footprint = territory.home_building.footprint
    z, x, y = _tile(footprint.centroid.x, footprint.centroid.y, z)
    _sql, params = map_tile_query(z, x, y, prefixes=None)
    assert params["linear"] is True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsText(ST_AsMVTGeom(%(g)s::geometry,"
            " ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326)::box2d, 4096, 64, false)),"
            " ST_AsText(ST_AsMVTGeom(ST_Transform(%(g)s::geometry, 3857),"
            " ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 64, false))",
            {"g": footprint.ewkt, "z": z, "x": x, "y": y},
        )
        linear, mercator = (shapely.from_wkt(text) for text in cursor.fetchone())
    assert shapely.get_coordinates(linear) == pytest.approx(
        shapely.get_coordinates(mercator), abs=1
    )


def _shift(wkt: str) -> shapely.Geometry:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsBinary(plategrid_gcj02_shift(ST_GeomFromText(%s, 4326)))", [wkt]
        )
        return shapely.from_wkb(bytes(cursor.fetchone()[0]))


def test_gcj02_shift_of_points_matches_gis_coords(db):
    rng = np.random.default_rng(7)
    points = np.column_stack([rng.uniform(74, 134, 60), rng.uniform(18, 53, 60)]).tolist()
    lon, lat = coords.wgs84_to_gcj02(*np.array(points).T)
    for (x, y), ex, ey in zip(points, lon, lat, strict=True):
        (sx, sy), *_ = shapely.get_coordinates(_shift(f"POINT({x!r} {y!r})"))
        assert abs(sx - ex) < 1e-9 and abs(sy - ey) < 1e-9  # 1e-9° ≈ 0.1 mm


def test_gcj02_shift_leaves_points_outside_china(db):
    (x, y), *_ = shapely.get_coordinates(_shift("POINT(2.35 48.86)"))
    assert (x, y) == (2.35, 48.86)


def test_gcj02_shift_of_a_community_sized_polygon(db):
    """A 1-km square (a demo community) moves by the offset at its centroid: its corners are
    within 2 m of their own conversion at Xiangyang (docs/map.md)."""
    square = box(112.14, 32.04, 112.1506, 32.049)  # ~1,000 m × 1,000 m
    shifted = shapely.get_coordinates(_shift(square.wkt))
    corners = shapely.get_coordinates(shapely.from_wkt(square.wkt))
    lon, lat = coords.wgs84_to_gcj02(corners[:, 0], corners[:, 1])
    error_m = np.hypot(
        (shifted[:, 0] - lon) * 111_320 * math.cos(math.radians(32.04)),
        (shifted[:, 1] - lat) * 110_574,
    )
    assert error_m.max() < 2.0
    assert shapely.from_wkb(shapely.to_wkb(shapely.Polygon(shifted))).is_valid  # same shape
