"""GCJ-02 / BD-09 conversions: reference values, round trips below 1 cm, geometries."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely import LineString, MultiPolygon, Point, Polygon

from gis import coords

GEOD = Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def _grid_in_china(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.linspace(73, 135, n), np.linspace(18, 53, n))
    lon, lat = lon.ravel(), lat.ravel()
    rng = np.random.default_rng(20091)
    lon = np.concatenate([lon, rng.uniform(73, 135, 20_000), rng.uniform(111.9, 112.4, 5_000)])
    lat = np.concatenate([lat, rng.uniform(18, 53, 20_000), rng.uniform(31.9, 32.2, 5_000)])
    return lon, lat


def test_doctests():
    assert doctest.testmod(coords).failed == 0


def test_published_reference_values():
    # The example of the widely used coordtransform libraries (a point at 128.543°E 37.065°N).
    assert coords.wgs84_to_gcj02(128.543, 37.065) == pytest.approx(
        (128.54820547949757, 37.065651049489816), abs=1e-12
    )
    assert coords.gcj02_to_bd09(128.543, 37.065) == pytest.approx(
        (128.54944656269413, 37.07113427883019), abs=1e-12
    )


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84),
        (coords.gcj02_to_bd09, coords.bd09_to_gcj02),
        (coords.wgs84_to_bd09, coords.bd09_to_wgs84),
    ],
)
def test_round_trip_below_one_centimetre(forward, inverse):
    lon, lat = _grid_in_china()
    back_lon, back_lat = inverse(*forward(lon, lat))
    error_m = _metres(lon, lat, back_lon, back_lat)
    assert lon.size > 60_000
    assert error_m.max() < 0.01


def test_inverse_then_forward_recovers_the_input():
    lon, lat = _grid_in_china(50)
    again = coords.wgs84_to_gcj02(*coords.gcj02_to_wgs84(lon, lat))
    assert _metres(lon, lat, *again).max() < 0.01


def test_gcj02_offset_is_plausible_inside_and_absent_outside():
    lon, lat = _grid_in_china(100)
    shift_m = _metres(lon, lat, *coords.wgs84_to_gcj02(lon, lat))
    inside = coords.in_china(lon, lat)
    assert inside.all()
    assert 1 < shift_m.min() and shift_m.max() < 1_000
    # Xiangyang: a few hundred metres.
    assert 300 < _metres(112.14, 32.04, *coords.wgs84_to_gcj02(112.14, 32.04)) < 800
    paris = (2.3522, 48.8566)
    assert coords.wgs84_to_gcj02(*paris) == paris
    assert coords.gcj02_to_wgs84(*paris) == paris


def test_scalars_in_scalars_out_arrays_in_arrays_out():
    lon, lat = coords.wgs84_to_gcj02(112.14, 32.04)
    assert type(lon) is float and type(lat) is float
    lons, lats = coords.bd09_to_wgs84(np.array([112.1, 112.2]), np.array([32.0, 32.1]))
    assert isinstance(lons, np.ndarray) and lons.shape == lats.shape == (2,)


@pytest.mark.parametrize(
    "geom",
    [
        Point(112.14, 32.04),
        LineString([(112.1, 32.0), (112.2, 32.1), (112.3, 32.05)]),
        Polygon(
            [(112.1, 32.0), (112.2, 32.0), (112.2, 32.1), (112.1, 32.1)],
            holes=[[(112.12, 32.02), (112.14, 32.02), (112.14, 32.04), (112.12, 32.02)]],
        ),
        MultiPolygon(
            [
                Polygon([(112.1, 32.0), (112.11, 32.0), (112.11, 32.01)]),
                Polygon([(112.2, 32.0), (112.21, 32.0), (112.21, 32.01)]),
            ]
        ),
    ],
    ids=lambda g: g.geom_type,
)
def test_geometries_keep_type_and_match_pointwise_conversion(geom):
    shifted = coords.convert(geom, source="wgs84", target="gcj02")
    assert shifted.geom_type == geom.geom_type and shifted.is_valid
    original, converted = shapely.get_coordinates(geom), shapely.get_coordinates(shifted)
    expected = np.column_stack(coords.wgs84_to_gcj02(original[:, 0], original[:, 1]))
    assert np.allclose(converted, expected, atol=1e-12)
    if isinstance(geom, Polygon):
        assert len(shifted.interiors) == 1 and shifted.exterior.is_ring
    back = coords.convert(shifted, source="gcj02", target="wgs84")
    assert back.equals_exact(geom, 1e-9)


def test_unknown_system_is_named():
    with pytest.raises(
        ValueError, match=r"unknown coordinate system 'baidu': use one of wgs84, gcj02, bd09"
    ):
        coords.convert(Point(112.1, 32.0), source="baidu", target="wgs84")
