"""Layers tests: the tile cache switched on, in a folder of each test's own (the coverage tiles'
one on request), and tile helpers;
a planned sweep for the field-pack tests."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import LineString, Point
from django.core.cache import BaseCache, caches
from django.test import Client

from gis import services
from gis.models import Role, Street, StreetKind
from grid import sweep_jobs
from grid.models import Sweep
from web.settings import base

from ..conftest import Territory
from ..grid.test_sweeps import Street as Row
from ..grid.test_sweeps import make_street, new_sweep, team


@pytest.fixture(autouse=True)
def tile_cache(settings: Any, tmp_path: Path) -> BaseCache:
    """The tiles' cache of the base settings (the test settings keep none), in ``tmp_path``."""
    settings.CACHES = {
        **settings.CACHES,
        "tiles": {**base.CACHES["tiles"], "LOCATION": str(tmp_path / "tiles")},
    }
    return caches["tiles"]


@pytest.fixture
def coverage_tile_cache(settings: Any, tmp_path: Path) -> BaseCache:
    """The coverage tiles' cache of the base settings, in ``tmp_path`` (the test settings keep
    none)."""
    settings.CACHES = {
        **settings.CACHES,
        "coverage_tiles": {
            **base.CACHES["coverage_tiles"],
            "LOCATION": str(tmp_path / "coverage_tiles"),
        },
    }
    return caches["coverage_tiles"]


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The tile z/x/y holding (lon, lat)."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees."""
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def decode(body: bytes) -> dict[str, list[dict[str, Any]]]:
    """Layer name → features (geometry in tile units, y down as in the tile)."""
    layers = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})
    return {name: layer["features"] for name, layer in layers.items()}


def get_tile(client: Client, z: int, x: int, y: int, **headers: str) -> Any:
    return client.get(f"/tiles/{z}/{x}/{y}.mvt", headers=headers)


def fetch(client: Client, z: int, x: int, y: int) -> dict[str, list[dict[str, Any]]]:
    response = get_tile(client, z, x, y)
    assert response.status_code == 200, response.content[:200]
    return decode(response.content)


def properties(layers: dict[str, list[dict[str, Any]]], layer: str) -> list[dict[str, Any]]:
    return [f["properties"] for f in layers.get(layer, [])]


# ---- field packs (map sheets) ----------------------------------------------------------------


@pytest.fixture
def quick_solver(settings: Any) -> None:
    settings.SWEEP_PLAN_TIME_LIMIT_S = 0.3
    settings.SWEEP_ORDER_TIME_S = 0.05


@pytest.fixture
def row(territory: Territory) -> Row:
    """The row of tests/grid/test_sweeps.py, each building with its door plate "人民路<k>号<k>栋",
    and the street along it."""
    street = make_street(territory)
    for k, building in enumerate(street.home + street.away, start=1):
        services.save_door_plate(
            actor=None,
            data={
                "building": building,
                "road": "人民路",
                "number": str(k),
                "building_number": str(k),
            },
        )
    Street.objects.create(
        name="人民路",
        kind=StreetKind.LOCAL,
        district=territory.office.district,
        centerline=LineString((112.10, 32.0195), (112.145, 32.0195), srid=4326),
    )
    return street


def planned(user: Any, **options: Any) -> Sweep:
    sweep = new_sweep(user, **options)
    job = sweep_jobs.submit_plan(user, sweep, "plan", queue=False)
    job = sweep_jobs.run_plan(str(job.pk))
    assert job.status == "succeeded", job.error_en
    return sweep


@pytest.fixture
def sweep(row: Row, users: dict[str, Any], quick_solver: None) -> Sweep:
    """A planned sweep of the row with two teams (一队 west, 二队 east)."""
    teams = [
        team("一队", [row.staff[0].pk], start=Point(112.104, 32.0197, srid=4326)),
        team("二队", [row.staff[1].pk], start=Point(112.125, 32.0197, srid=4326)),
    ]
    return planned(users[Role.COMMUNITY_WORKER], teams=teams, day_minutes=45)
