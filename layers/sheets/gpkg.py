"""The pack as a GeoPackage for QField and other mobile GIS: the same buildings, route, stops,
sheets and rooms as the PDF, in the metric SRID (``settings.METRIC_SRID``; QField reprojects).

Layers: ``buildings`` (footprints with door plate, address, stop, day, team, grid reference and
room counts), ``stops`` (points at the buildings, in walking order), ``route`` (the walking lines
per team and day), ``sheets`` (each map sheet's core with its number, paper and scale), ``zones``,
``communities``, ``streets``, and ``rooms`` (an attribute table: the register, keyed by building).
Written with pyogrio (GDAL) into a temporary file and returned as bytes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely.geometry import box

from gis.crs import metric_srid

from .layout import Sheet
from .pack import Pack


def _frame(rows: list[dict[str, Any]], columns: Sequence[str], crs: str) -> gpd.GeoDataFrame:
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=crs)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def write_gpkg(pack: Pack, sheets: Sequence[Sheet], refs: dict[int, str]) -> bytes:
    crs = f"EPSG:{metric_srid()}"
    layers: dict[str, gpd.GeoDataFrame] = {
        "buildings": _frame(
            [
                {
                    "building_id": b.id,
                    "door_plate": b.label,
                    "address": b.address,
                    "name": b.name,
                    "community": b.community,
                    "zone": b.zone,
                    "floors": b.floors,
                    "use": b.use,
                    "stop": b.stop,
                    "day": b.day,
                    "team": b.team,
                    "grid_ref": refs.get(b.id, ""),
                    "rooms": len(b.rooms),
                    "rented_rooms": sum(1 for r in b.rooms if r.rented),
                    "url": b.url,
                    "geometry": b.footprint,
                }
                for b in pack.buildings
            ],
            ["building_id"],
            crs,
        ),
        "stops": _frame(
            [
                {
                    "stop": b.stop,
                    "day": b.day,
                    "team": b.team,
                    "building_id": b.id,
                    "door_plate": b.label,
                    "grid_ref": refs.get(b.id, ""),
                    "geometry": b.footprint.representative_point(),
                }
                for b in pack.buildings
                if b.stop is not None
            ],
            ["stop"],
            crs,
        ),
        "route": _frame(
            [{"team": r.team, "day": r.day, "geometry": r.line} for r in pack.routes],
            ["team", "day"],
            crs,
        ),
        "sheets": _frame(
            [
                {
                    "sheet": s.number,
                    "paper": s.paper,
                    "landscape": s.landscape,
                    "scale": s.scale,
                    "geometry": box(*s.core),
                }
                for s in sheets
            ],
            ["sheet"],
            crs,
        ),
        "zones": _frame(
            [{"code": z.code, "name": z.name, "geometry": z.geom} for z in pack.zones],
            ["code"],
            crs,
        ),
        "communities": _frame(
            [{"code": c.code, "name": c.name, "geometry": c.geom} for c in pack.communities],
            ["code"],
            crs,
        ),
        "streets": _frame(
            [{"name": s.name, "kind": s.kind, "geometry": s.line} for s in pack.streets],
            ["name"],
            crs,
        ),
    }
    rooms = pd.DataFrame(
        [
            {
                "building_id": b.id,
                "room_id": r.room_id,
                "entrance": r.entrance,
                "floor": r.floor,
                "number": r.number,
                "door_plate": r.plate,
                "use": r.use,
                "rented": r.rented,
                "last_visit": r.last_visit.isoformat() if r.last_visit else None,
                "last_outcome": r.last_outcome,
            }
            for b in pack.buildings
            for r in b.rooms
        ],
        columns=[
            "building_id",
            "room_id",
            "entrance",
            "floor",
            "number",
            "door_plate",
            "use",
            "rented",
            "last_visit",
            "last_outcome",
        ],
    )
    handle, path = tempfile.mkstemp(suffix=".gpkg")
    os.close(handle)
    try:
        os.unlink(path)
        for name, frame in layers.items():
            if len(frame):
                pyogrio.write_dataframe(
                    frame, path, layer=name, driver="GPKG", append=os.path.exists(path)
                )
        pyogrio.write_dataframe(
            rooms, path, layer="rooms", driver="GPKG", append=os.path.exists(path)
        )
        with open(path, "rb") as handle_:
            return handle_.read()
    finally:
        if os.path.exists(path):
            os.unlink(path)
