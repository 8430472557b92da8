"""WGS84 ↔ GCJ-02 ↔ BD-09, for import and export edges only (never stored).

plategrid stores EPSG:4326 (= CGCS2000 at these scales). Data from Chinese web maps comes in
GCJ-02 (the published offset of Gaode, Tencent and others) or BD-09 (Baidu). The forward
formulas are public; their inverses have no closed form, so :func:`gcj02_to_wgs84` and
:func:`bd09_to_gcj02` iterate the forward formula until the round trip is below a micro-degree
fraction (well under 1 cm). Every function is vectorised: floats in → floats out, numpy arrays
in → arrays out.

GCJ-02 is defined only inside China; outside the box :data:`CHINA_BOX` (a coarse rectangle, as
the offset itself uses) points are returned unchanged. BD-09 is a pure formula applied everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import shapely

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 offset.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
#: (min lon, min lat, max lon, max lat) of the region where the GCJ-02 offset applies.
CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)
_TOLERANCE_DEG = 1e-10  # ~0.01 mm
_MAX_ITERATIONS = 30

T = TypeVar("T", float, np.ndarray)
Converter = Callable[[Any, Any], tuple[Any, Any]]


def _arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), scalar


def _out(lon: np.ndarray, lat: np.ndarray, scalar: bool) -> tuple[Any, Any]:
    return (float(lon), float(lat)) if scalar else (lon, lat)


def in_china(lon: Any, lat: Any) -> Any:
    """Whether the GCJ-02 offset applies at (lon, lat).

    >>> bool(in_china(112.14, 32.04)), bool(in_china(2.35, 48.86))
    (True, False)
    """
    x0, y0, x1, y1 = CHINA_BOX
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 shift (degrees) at WGS84 (lon, lat)."""
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += common
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += common
    d_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = d_lat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = d_lon * 180.0 / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, d_lon, 0.0), np.where(inside, d_lat, 0.0)


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS84 → GCJ-02.

    >>> lon, lat = wgs84_to_gcj02(112.14, 32.04)
    >>> round(lon - 112.14, 5), round(lat - 32.04, 5)
    (0.00605, -0.00199)
    """
    lon, lat, scalar = _arrays(lon, lat)
    d_lon, d_lat = _offset(lon, lat)
    return _out(lon + d_lon, lat + d_lat, scalar)


def _invert(forward: Converter, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x) = (lon, lat) by fixed-point iteration from x = (lon, lat)."""
    x, y = lon.copy(), lat.copy()
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x, y = x - ex, y - ey
        if np.all(np.abs(ex) < _TOLERANCE_DEG) and np.all(np.abs(ey) < _TOLERANCE_DEG):
            break
    return x, y


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 → WGS84, iterated until the round trip is below 1e-10° (far below 1 cm).

    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(112.14, 32.04))
    >>> round(lon, 9), round(lat, 9)
    (112.14, 32.04)
    """
    lon, lat, scalar = _arrays(lon, lat)
    x, y = _invert(lambda a, b: wgs84_to_gcj02(a, b), lon, lat)
    return _out(x, y, scalar)


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 → BD-09.

    >>> lon, lat = gcj02_to_bd09(112.14577, 32.03798)
    >>> round(lon - 112.14577, 4), round(lat - 32.03798, 4)
    (0.0066, 0.0057)
    """
    lon, lat, scalar = _arrays(lon, lat)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return _out(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006, scalar)


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """BD-09 → GCJ-02, iterated (the usual one-step formula is off by up to a few decimetres)."""
    lon, lat, scalar = _arrays(lon, lat)
    x, y = _invert(lambda a, b: gcj02_to_bd09(a, b), lon, lat)
    return _out(x, y, scalar)


def wgs84_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


SYSTEMS = ("wgs84", "gcj02", "bd09")
CONVERTERS: dict[tuple[str, str], Converter] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def transform_geometry(geom: shapely.Geometry, func: Converter) -> shapely.Geometry:
    """Apply a converter to every coordinate of a shapely geometry (one vectorised call)."""

    def apply(coords: np.ndarray) -> np.ndarray:
        lon, lat = func(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, apply)


def convert(geom: shapely.Geometry, *, source: str, target: str) -> shapely.Geometry:
    """Convert ``geom`` between "wgs84", "gcj02" and "bd09".

    >>> from shapely import Point
    >>> convert(Point(112.14, 32.04), source="wgs84", target="wgs84").x
    112.14
    """
    for name in (source, target):
        if name not in SYSTEMS:
            raise ValueError(f"unknown coordinate system {name!r}: use one of {', '.join(SYSTEMS)}")
    if source == target:
        return geom
    return transform_geometry(geom, CONVERTERS[(source, target)])
