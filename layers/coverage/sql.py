"""The coverage tiles' statements (``layers.coverage.tiles``): one ``ST_AsMVT`` each.

Both read the per-building figures kept by triggers (``layers.models.BuildingCoverage``), one
row per building, never rooms or visit states. A building's rooms seen since a day ``since``
are its sorted ``seen`` days from ``since`` on: ``cardinality(seen) - width_bucket(since - 1,
seen)`` (a binary search); a room is a gap when it was never seen or last seen before ``since``.

* below :data:`BUILDINGS_FROM_ZOOM`: layer ``gap_cells``, hexagons of ``ST_HexagonGrid`` in Web
  Mercator (:func:`hexagon_size_m`: about :data:`CELLS_ACROSS` across a tile), each summing the
  buildings whose centroid (``PointOnSurface``) lies in it. A building is placed in its cell by
  arithmetic (its centroid projected by the Mercator formulas, the nearest of the two candidate
  hexagon centres of its column pair), not by a point-in-polygon join; the hexagon drawn is
  ``ST_Hexagon`` of that cell, so cells line up across tiles. Cells with fewer rooms than the
  threshold are left out.
* from :data:`BUILDINGS_FROM_ZOOM`: layer ``buildings``, each footprint with its figures; a
  building with fewer rooms (of the window's kind: rented rooms with ``rented``) than the
  threshold is sent as its footprint alone (``rooms``, ``seen``, ``gaps``, ``share`` and
  ``never_visited`` NULL, so not in the feature), as a cell that small is left out: a building of
  one or two households would tell whether they were seen.

With ``gcj02`` every footprint and every cell is shifted as one feature
(``plategrid_gcj02_shift``) as the map's tiles shift theirs, and the search box is moved back
by the offset at the tile's middle (``gis.sql``): a cell holds the buildings whose unshifted
centroid lies in the unshifted hexagon (a building and its cell move by offsets at most a few
metres apart).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from typing import Any

from django.db import connection

from gis import coords
from gis.sql import (
    GCJ02_FEATURE_REACH_DEG,
    GCJ02_GRADIENT,
    LINEAR_FROM_ZOOM,
    MVT_BUFFER,
    MVT_EXTENT,
    tile_bounds,
    tile_geometry,
)

#: From this zoom on the tiles hold building footprints, below it hexagon cells.
BUILDINGS_FROM_ZOOM = 14
#: Hexagons across a tile (of width 1.5 × size each): between 16 and 32.
CELLS_ACROSS = 24
#: Web Mercator's sphere radius (m) and the width of the world in its metres.
EARTH_RADIUS_M = 6378137.0
WORLD_WIDTH_M = 2 * math.pi * EARTH_RADIUS_M

# The per-building figures of the window (%(rented)s, %(before)s = the window's first day - 1,
# NULL for all time), as columns rooms, seen of the lateral subquery ``f``.
_FIGURES = """
CROSS JOIN LATERAL (
  SELECT n_rooms AS rooms,
         cardinality(days) - coalesce(width_bucket(%(before)s::date, days), 0) AS seen,
         cardinality(days) AS ever
    FROM (SELECT CASE WHEN %(rented)s THEN bc.rented_rooms ELSE bc.rooms END AS n_rooms,
                 CASE WHEN %(rented)s THEN bc.rented_seen ELSE bc.seen END AS days) d
) f
"""

_SCOPE = """
  (%(everywhere)s OR b.community_id IN (
     SELECT id FROM geo_community WHERE code LIKE ANY (%(patterns)s::text[])))
"""

GAP_CELLS_SQL = f"""
WITH
tile AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
building AS MATERIALIZED (  -- each expression once per building, not once per use
  SELECT f.rooms, f.seen,
         {EARTH_RADIUS_M} * radians(ST_X(b.centroid)) AS mx,
         {EARTH_RADIUS_M} * ln(tan(pi() / 4 + radians(ST_Y(b.centroid)) / 2)) AS my
    FROM geo_building b
    JOIN layers_buildingcoverage bc ON bc.building_id = b.id
    {_FIGURES}
   WHERE b.footprint && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)
     AND {_SCOPE}
     AND f.rooms > 0
),
placed AS (  -- the nearer of two hexagon centres: in column i and in column i + 1
  SELECT rooms, seen, CASE WHEN d0 <= d1 THEN i ELSE i + 1 END AS i,
         (CASE WHEN d0 <= d1 THEN j0 ELSE j1 END)::integer AS j
    FROM (
      SELECT rooms, seen, i, j0, j1,
             (mx - %(column_m)s::float8 * i) ^ 2
               + (my - %(row_m)s::float8 * (j0 + 0.5 * odd)) ^ 2 AS d0,
             (mx - %(column_m)s::float8 * (i + 1)) ^ 2
               + (my - %(row_m)s::float8 * (j1 + 0.5 * (1 - odd))) ^ 2 AS d1
        FROM (
          SELECT rooms, seen, mx, my, i, odd,
                 round(my / %(row_m)s::float8 - 0.5 * odd) AS j0,
                 round(my / %(row_m)s::float8 - 0.5 * (1 - odd)) AS j1
            FROM (SELECT *, floor(mx / %(column_m)s::float8)::integer AS i,
                         (floor(mx / %(column_m)s::float8)::integer & 1)::float8 AS odd
                    FROM building) c) d) e
),
cell AS (
  SELECT i, j, sum(rooms) AS rooms, sum(rooms - seen) AS gaps, count(*) AS buildings,
         count(*) FILTER (WHERE seen < rooms) AS gap_buildings,
         round(sum(seen)::numeric / sum(rooms), 4)::float8 AS share
    FROM placed GROUP BY i, j HAVING sum(rooms) >= %(min_rooms)s
),
shown AS (  -- on a GCJ-02 basemap a cell is shifted as one feature, as the map's are
  SELECT c.*,
         CASE WHEN %(gcj02)s
              THEN ST_Transform(plategrid_gcj02_shift(ST_Transform(h.geom, 4326)), 3857)
              ELSE h.geom END AS geom
    FROM cell c,
         ST_Hexagon(%(size)s::float8, c.i, c.j, 'SRID=3857;POINT(0 0)'::geometry) AS h(geom)
),
q AS (
  SELECT c.rooms::integer AS rooms, c.gaps::integer AS gaps,
         c.buildings::integer AS buildings, c.gap_buildings::integer AS gap_buildings, c.share,
         ST_AsMVTGeom(c.geom, tile.env, %(extent)s, %(buffer)s, true) AS geom
    FROM shown c, tile
   WHERE c.geom && tile.env
)
SELECT coalesce((SELECT ST_AsMVT(q, 'gap_cells', %(extent)s, 'geom') FROM q), '')
"""  # noqa: S608 - the parts are constants

BUILDINGS_SQL = f"""
WITH
tile AS (
  SELECT env, ST_Transform(env, 4326)::box2d AS bounds
    FROM ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env
),
q AS (  -- figures NULL (not in the feature) below the threshold: the footprint alone
  SELECT b.id AS fid, b.id,
         CASE WHEN s.shown THEN f.rooms END AS rooms,
         CASE WHEN s.shown THEN f.seen END AS seen,
         CASE WHEN s.shown THEN f.rooms - f.seen END AS gaps,
         CASE WHEN s.shown THEN round(f.seen::numeric / f.rooms, 4)::float8 END AS share,
         CASE WHEN s.shown THEN f.ever = 0 END AS never_visited,
         EXISTS (SELECT 1 FROM geo_doorplate d
                  WHERE d.building_id = b.id AND d.population_plate) AS plate,
         {tile_geometry("b.footprint")} AS geom
    FROM geo_building b
    JOIN layers_buildingcoverage bc ON bc.building_id = b.id
    {_FIGURES}
    CROSS JOIN LATERAL (SELECT f.rooms >= %(min_rooms)s AS shown) s, tile
   WHERE b.footprint && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)
     AND {_SCOPE}
     AND f.rooms > 0
)
SELECT coalesce((SELECT ST_AsMVT(q, 'buildings', %(extent)s, 'geom', 'fid') FROM q), '')
"""  # noqa: S608 - the parts are constants


def hexagon_size_m(z: int) -> float:
    """The hexagons' size (centre to corner, Web Mercator metres) at zoom ``z``: a tile is
    :data:`CELLS_ACROSS` hexagons across (each 1.5 × size wide)."""
    return WORLD_WIDTH_M / 2**z / (1.5 * CELLS_ACROSS)


def search_box(
    z: int, x: int, y: int, *, pad_m: float, gcj02: bool
) -> tuple[float, float, float, float]:
    """Where (WGS84 degrees) the features of tile z/x/y are looked for: the tile widened by
    ``pad_m`` Web Mercator metres (an upper bound in latitude) and, for a GCJ-02 display, moved
    back by the offset at its middle and widened by how much the offset may change there."""
    west, south, east, north = tile_bounds(z, x, y)
    pad_x = math.degrees(pad_m / EARTH_RADIUS_M)
    pad_y = pad_x * 2  # Mercator stretches latitude by 1/cos φ: ≤ 2 below 60°
    box = (west - pad_x, max(south - pad_y, -90.0), east + pad_x, min(north + pad_y, 90.0))
    if not gcj02:
        return box
    mid_lon, mid_lat = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    shifted_lon, shifted_lat = coords.wgs84_to_gcj02(mid_lon, mid_lat)
    d_lon, d_lat = shifted_lon - mid_lon, shifted_lat - mid_lat
    reach = max(box[2] - box[0], box[3] - box[1]) / 2 + GCJ02_FEATURE_REACH_DEG
    slack = GCJ02_GRADIENT * reach
    x0, y0, x1, y1 = box
    return (x0 - d_lon - slack, y0 - d_lat - slack, x1 - d_lon + slack, y1 - d_lat + slack)


def coverage_tile_query(
    z: int,
    x: int,
    y: int,
    *,
    prefixes: Sequence[str] | None,
    since: datetime.date | None,
    rented: bool,
    min_rooms: int,
    gcj02: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The statement and parameters of :func:`coverage_tile` (the benchmark runs them bare)."""
    buildings = z >= BUILDINGS_FROM_ZOOM
    size = hexagon_size_m(z)
    tile_m = WORLD_WIDTH_M / 2**z
    # Cells reaching into the tile have their centre within one size of it and their buildings
    # within two; footprints reach into the tile's buffer.
    pad_m = tile_m * MVT_BUFFER / MVT_EXTENT if buildings else 2 * size
    x0, y0, x1, y1 = search_box(z, x, y, pad_m=pad_m, gcj02=gcj02)
    params: dict[str, Any] = {
        "z": z,
        "x": x,
        "y": y,
        "x0": x0,
        "y0": y0,
        "x1": x1,
        "y1": y1,
        "everywhere": prefixes is None,
        "patterns": [f"{p}%" for p in prefixes or []],
        "before": since - datetime.timedelta(days=1) if since else None,
        "rented": rented,
        "gcj02": gcj02,
        "linear": z >= LINEAR_FROM_ZOOM,
        "size": size,
        "column_m": 1.5 * size,
        "row_m": math.sqrt(3) * size,
        "min_rooms": min_rooms,
        "extent": MVT_EXTENT,
        "buffer": MVT_BUFFER,
    }
    return (BUILDINGS_SQL if buildings else GAP_CELLS_SQL), params


def coverage_tile(
    z: int,
    x: int,
    y: int,
    *,
    prefixes: Sequence[str] | None,
    since: datetime.date | None,
    rented: bool,
    min_rooms: int,
    gcj02: bool = False,
) -> bytes:
    """The coverage tile z/x/y (Mapbox Vector Tile bytes; ``b""`` when nothing is in it) of the
    buildings whose community code starts with one of ``prefixes`` (``None``: all; ``[]``:
    none): rooms seen on or after ``since`` (``None``: ever), of rented rooms only with
    ``rented``; hexagon cells with fewer than ``min_rooms`` rooms are left out, buildings with
    fewer are sent without their figures."""
    if prefixes is not None and not prefixes:
        return b""
    sql, params = coverage_tile_query(
        z, x, y, prefixes=prefixes, since=since, rented=rented, min_rooms=min_rooms, gcj02=gcj02
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bytes(cursor.fetchone()[0])
