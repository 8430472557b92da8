"""Tile tests: the tile cache switched on, in a folder of each test's own, and tile helpers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
from django.core.cache import BaseCache, caches
from django.test import Client

from web.settings import base


@pytest.fixture(autouse=True)
def tile_cache(settings: Any, tmp_path: Path) -> BaseCache:
    """The tiles' cache of the base settings (the test settings keep none), in ``tmp_path``."""
    settings.CACHES = {
        **settings.CACHES,
        "tiles": {**base.CACHES["tiles"], "LOCATION": str(tmp_path / "tiles")},
    }
    return caches["tiles"]


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
