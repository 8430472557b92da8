"""Coordinate reference systems: what we accept, what we store, where we measure.

Storage is EPSG:4326 (identical to CGCS2000 EPSG:4490 at these scales). Lengths and areas are
measured in the metric CGCS2000 Gauss-Krüger zone named by ``settings.METRIC_SRID``. Only EPSG
codes from :data:`ALLOWED_SRIDS` are ever handed to GDAL/PROJ (never a user-supplied WKT string).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry

STORAGE_SRID = 4326

#: EPSG codes accepted on input, with a short name for messages.
ALLOWED_SRIDS: dict[int, str] = {
    4326: "WGS 84",
    4490: "CGCS2000",
    3857: "WGS 84 / Pseudo-Mercator",
    4545: "CGCS2000 / 3-degree Gauss-Kruger CM 108E",
    4546: "CGCS2000 / 3-degree Gauss-Kruger CM 111E",
    4547: "CGCS2000 / 3-degree Gauss-Kruger CM 114E",
}


def metric_srid() -> int:
    return int(settings.METRIC_SRID)


def to_metric(geom: GEOSGeometry) -> GEOSGeometry:
    """A copy of ``geom`` in the metric SRID (the original is left untouched)."""
    return geom.transform(metric_srid(), clone=True)


def area_m2(geom: GEOSGeometry) -> float:
    return float(to_metric(geom).area)
