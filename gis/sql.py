"""Raw spatial SQL, only for what the ORM cannot say; ``%s`` parameters, one typed wrapper each."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet

from . import coords
from .querysets import ancestor_codes


def building_geojson_rows(bbox: tuple[float, float, float, float]) -> list[tuple[int, str]]:
    """``(id, ST_AsGeoJSON(footprint))`` of the buildings whose footprint box meets ``bbox``.

    The bare-SQL baseline of the building layer (``benchmarks/api_buildings.py``): the same rows
    and geometry text the API's list endpoint embeds, with no properties and no HTTP.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, ST_AsGeoJSON(footprint, 7) FROM geo_building "
            "WHERE footprint && ST_MakeEnvelope(%s, %s, %s, %s, 4326) ORDER BY id",
            list(bbox),
        )
        return cursor.fetchall()


def fetch_rows(queryset: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """The rows of a ``values_list`` queryset as plain driver tuples.

    The SQL is the ORM's own (filters, scope and slicing included); only Django's per-row
    iteration and converters are skipped, which is what dominates a list of a few thousand rows.
    Use it for columns whose driver types are final (numbers, text, GeoJSON text).
    """
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # .none(), or a filter that can match nothing: no query to run
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def write_progress(
    db: BaseDatabaseWrapper, table: str, pk_column: str, pk: Any, done: int, total: int
) -> None:
    """Set ``progress_done`` and ``progress_total`` of the row ``pk`` of the job table ``table``
    through the connection ``db`` (``gis.progress.ProgressWriter``'s own, in autocommit), waiting
    at most 200 ms for a lock. ``table`` and ``pk_column`` come from a model's meta, never from
    input."""
    quote = db.ops.quote_name
    with db.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")
        cursor.execute(
            f"UPDATE {quote(table)} SET progress_done = %s, progress_total = %s "  # noqa: S608 - names from the model's meta
            f"WHERE {quote(pk_column)} = %s",
            [done, total, pk],
        )


# ---------------------------------------------------------------------------------------------
# Vector tiles of the map (``layers.tiles``): one statement, one ``ST_AsMVT`` per layer.

#: Tile size in MVT units and the buffer around it (units), as the map page expects them.
MVT_EXTENT = 4096
MVT_BUFFER = 64
#: Lowest zoom at which each layer (or boundary level) is in a tile.
MIN_ZOOM = {
    "district": 0,
    "street_office": 10,
    "community": 11,
    "street": 12,
    "compound": 13,
    "building": 14,
    "plate": 17,
}
#: Boundaries are simplified to this many MVT units (half a pixel of a 512-px tile) below
#: ``SIMPLIFY_BELOW_ZOOM``; from there on that is under a metre, not worth the time.
SIMPLIFY_UNITS = 4
SIMPLIFY_BELOW_ZOOM = 16
#: From this zoom on, geometries go into the tile without ST_Transform (see ``tile_geometry``).
LINEAR_FROM_ZOOM = 12
#: Largest change of the GCJ-02 offset (degrees) per degree of distance anywhere in China
#: (``gis.coords``; 0.0069 measured on a 0.01° grid), and its largest size: the search boxes of a
#: shifted tile are widened by them.
GCJ02_GRADIENT = 0.0075
GCJ02_MAX_OFFSET_DEG = 0.011
#: Features are shifted by the offset at their own centroid: the search box allows for features
#: up to this far (degrees, ~6 km) from the box's middle.
GCJ02_FEATURE_REACH_DEG = 0.06

_MVT_SQL_TEMPLATE = """
WITH
tile AS (
  SELECT env, ST_Transform(env, 4326)::box2d AS bounds
    FROM ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env
),
box AS (
  SELECT ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326) AS property,
         ST_MakeEnvelope(%(tx0)s, %(ty0)s, %(tx1)s, %(ty1)s, 4326) AS territory
),
node AS (  -- boundaries of the user's nodes, their descendants and their ancestors
  SELECT n.level, n.code, n.name, ST_ClipByBox2D(n.geom, box.territory) AS geom
    FROM (
      SELECT 'district' AS level, d.code, d.name, d.geom FROM geo_district d
       WHERE %(z)s >= %(district_zoom)s
      UNION ALL
      SELECT 'street_office', o.code, o.name, o.geom FROM geo_streetoffice o
       WHERE %(z)s >= %(street_office_zoom)s
      UNION ALL
      SELECT 'community', c.code, c.name, c.geom FROM geo_community c
       WHERE %(z)s >= %(community_zoom)s
    ) n, box
   WHERE n.geom && box.territory
     AND (n.code LIKE ANY (%(patterns)s::text[]) OR n.code = ANY (%(ancestors)s::text[]))
),
boundary AS (
  SELECT level, code, name,
         {g} AS geom
    FROM (SELECT level, code, name,
                 CASE WHEN %(tolerance)s > 0 THEN ST_SimplifyPreserveTopology(geom, %(tolerance)s)
                      ELSE geom END AS g
            FROM node WHERE NOT ST_IsEmpty(geom)) s, tile
),
building_row AS (  -- the tile's buildings with their plates summed up: the layer and the labels
  SELECT b.id, b.use,
         CASE WHEN p.population THEN 'population' WHEN p.plates > 0 THEN 'plate'
              ELSE 'none' END AS plate,
         b.floors_above AS floors, b.name, coalesce(p.number, '') AS number,
         c.code AS community, b.footprint
    FROM geo_building b JOIN geo_community c ON c.id = b.community_id
    CROSS JOIN LATERAL (
      SELECT count(*) AS plates, bool_or(d.population_plate) AS population,
             (array_agg(d.building_number ORDER BY d.id)
               FILTER (WHERE d.entrance_id IS NULL AND d.room_id IS NULL))[1] AS number
        FROM geo_doorplate d WHERE d.building_id = b.id
    ) p, box
   WHERE b.footprint && box.property AND %(z)s >= %(building_zoom)s
     AND c.code LIKE ANY (%(patterns)s::text[])
),
label AS (
  SELECT level, code, name,
         CASE WHEN %(linear)s THEN ST_AsMVTGeom(point, tile.bounds, %(extent)s, 0, false)
              ELSE ST_AsMVTGeom(ST_Transform(point, 3857), tile.env, %(extent)s, 0, false)
         END AS geom
    FROM (
      SELECT n.level, n.code, n.name,
             CASE WHEN %(gcj02)s THEN plategrid_gcj02_shift(ST_PointOnSurface(g.geom))
                  ELSE ST_PointOnSurface(g.geom) END AS point
        FROM node n
        JOIN (SELECT 'district' AS level, code, geom FROM geo_district
              UNION ALL SELECT 'street_office', code, geom FROM geo_streetoffice
              UNION ALL SELECT 'community', code, geom FROM geo_community) g
          ON g.level = n.level AND g.code = n.code
      UNION ALL  -- compounds' names: once each, not in every tile their polygon reaches
      SELECT 'compound', c.code, k.name,
             CASE WHEN %(gcj02)s THEN plategrid_gcj02_shift(ST_PointOnSurface(k.geom))
                  ELSE ST_PointOnSurface(k.geom) END
        FROM geo_compound k JOIN geo_community c ON c.id = k.community_id, box
       WHERE k.geom && box.property AND %(z)s >= %(compound_zoom)s
         AND c.code LIKE ANY (%(patterns)s::text[])
      UNION ALL  -- buildings' numbers (楼栋号), likewise once each
      SELECT 'building', r.community, r.number,
             CASE WHEN %(gcj02)s THEN plategrid_gcj02_shift(ST_PointOnSurface(r.footprint))
                  ELSE ST_PointOnSurface(r.footprint) END
        FROM building_row r WHERE r.number <> ''
    ) p, tile
   -- half-open tile: a point on the edge between two tiles is in one of them. In degrees: the
   -- tile's edges are meridians and parallels, and the points are not projected at all.
   WHERE ST_X(p.point) >= ST_XMin(tile.bounds) AND ST_X(p.point) < ST_XMax(tile.bounds)
     AND ST_Y(p.point) > ST_YMin(tile.bounds) AND ST_Y(p.point) <= ST_YMax(tile.bounds)
),
compound AS (
  SELECT k.id AS fid, k.id, k.name, k.kind,
         {k.geom} AS geom
    FROM geo_compound k JOIN geo_community c ON c.id = k.community_id, box, tile
   WHERE k.geom && box.property AND %(z)s >= %(compound_zoom)s
     AND c.code LIKE ANY (%(patterns)s::text[])
),
street AS (
  SELECT s.id AS fid, s.id, s.name, s.kind,
         {s.centerline} AS geom
    FROM geo_street s, box, tile
   WHERE s.centerline && box.property AND %(z)s >= %(street_zoom)s
     AND s.district_id LIKE ANY (%(district_patterns)s::text[])
),
building AS (
  SELECT r.id AS fid, r.id, r.use, r.plate, r.floors, r.name, r.number, r.community,
         {r.footprint} AS geom
    FROM building_row r, tile
),
plate AS (
  SELECT d.id AS fid, d.id, d.building_id AS building,
         -- A building's number is drawn on its footprint: its own plate's point stays unlabelled.
         -- Plates of houses on a lane (no building number) and of rooms show their door number.
         CASE WHEN d.building_number <> '' AND d.room_id IS NULL THEN ''
              ELSE coalesce(nullif(d.number, ''), d.building_number) END AS label,
         d.population_plate AS population,
         {d.location} AS geom
    FROM geo_doorplate d JOIN geo_building b ON b.id = d.building_id
    JOIN geo_community c ON c.id = b.community_id, box, tile
   WHERE d.location && box.property AND %(z)s >= %(plate_zoom)s
     AND c.code LIKE ANY (%(patterns)s::text[])
)
-- ST_AsMVT skips rows whose geometry ST_AsMVTGeom clipped away (NULL), and gives '' for a layer
-- without rows: no filter on them here (the planner would compute every ST_AsMVTGeom twice).
SELECT
  coalesce((SELECT ST_AsMVT(q, 'boundary', %(extent)s, 'geom') FROM boundary q), '')
  || coalesce((SELECT ST_AsMVT(q, 'label', %(extent)s, 'geom') FROM label q), '')
  || coalesce((SELECT ST_AsMVT(q, 'compound', %(extent)s, 'geom', 'fid') FROM compound q), '')
  || coalesce((SELECT ST_AsMVT(q, 'street', %(extent)s, 'geom', 'fid') FROM street q), '')
  || coalesce((SELECT ST_AsMVT(q, 'building', %(extent)s, 'geom', 'fid') FROM building q), '')
  || coalesce((SELECT ST_AsMVT(q, 'plate', %(extent)s, 'geom', 'fid') FROM plate q), '')
"""


def tile_geometry(column: str) -> str:
    """The SQL of ``column`` as an MVT geometry of the tile (``{column}`` in the template).

    From ``LINEAR_FROM_ZOOM`` on, the geometry goes into the tile straight from degrees: the
    tile's corners in degrees (``tile.bounds``) are mapped to its corners in MVT units and
    latitude in between linearly, as Mercator is within so small a tile. This saves
    ``ST_Transform`` (about 12 µs a geometry, three quarters of a building tile's time) and is off by
    less than one MVT unit, the rounding of the tile itself (0.4 units at z12, 0.1 at z14 at
    32°N; 0.6 and 0.16 at 53°N). Below it the geometry is projected to EPSG:3857.
    """
    shifted = f"CASE WHEN %(gcj02)s THEN plategrid_gcj02_shift({column}) ELSE {column} END"
    return (
        f"CASE WHEN %(linear)s"
        f" THEN ST_AsMVTGeom({shifted}, tile.bounds, %(extent)s, %(buffer)s, true)"
        f" ELSE ST_AsMVTGeom(ST_Transform({shifted}, 3857), tile.env, %(extent)s, %(buffer)s, true)"
        " END"
    )


_MVT_SQL = re.sub(r"\{([a-z_.]+)\}", lambda m: tile_geometry(m.group(1)), _MVT_SQL_TEMPLATE)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of tile z/x/y in degrees (Web Mercator tiling)."""
    n = 2.0**z

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * row / n))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


def _scope_params(prefixes: Sequence[str] | None) -> dict[str, list[str]]:
    """The scope as the statement filters it (territory codes are digits: no LIKE escapes).

    Property (compounds, buildings, plates): communities whose code starts with a prefix.
    Boundaries: those nodes, their descendants and their ancestors (``ancestor_codes``, as
    ``visible_to``).
    Streets: the districts of the prefixes.
    """
    if prefixes is None:
        return {"patterns": ["%"], "ancestors": [], "district_patterns": ["%"]}
    return {
        "patterns": [f"{p}%" for p in prefixes],
        "ancestors": ancestor_codes(prefixes),
        "district_patterns": sorted({p[:6] for p in prefixes}),
    }


def map_tile_query(
    z: int, x: int, y: int, *, prefixes: Sequence[str] | None, gcj02: bool = False
) -> tuple[str, dict[str, Any]]:
    """The statement and parameters of :func:`map_tile` (the benchmark runs them bare)."""
    buffer_share = MVT_BUFFER / MVT_EXTENT
    west, south, east, north = tile_bounds(z, x, y)
    # The buffer around the tile in degrees (an upper bound in latitude: Mercator stretches it).
    pad_x = (east - west) * buffer_share
    pad_y = (north - south) * buffer_share * 2
    box = (west - pad_x, max(south - pad_y, -90.0), east + pad_x, min(north + pad_y, 90.0))
    territory = box
    if gcj02:
        # Look where the features come from: the tile moved back by the offset at its middle,
        # widened by how much the offset can change between there and a feature's centroid.
        # Boundaries (few, large, shifted by the offset at their far-away centroids) are looked
        # for in the tile widened by the largest offset.
        mid_lon, mid_lat = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        shifted_lon, shifted_lat = coords.wgs84_to_gcj02(mid_lon, mid_lat)
        d_lon, d_lat = shifted_lon - mid_lon, shifted_lat - mid_lat
        reach = max(box[2] - box[0], box[3] - box[1]) / 2 + GCJ02_FEATURE_REACH_DEG
        slack = GCJ02_GRADIENT * reach
        x0, y0, x1, y1 = box
        box = (x0 - d_lon - slack, y0 - d_lat - slack, x1 - d_lon + slack, y1 - d_lat + slack)
        pad = GCJ02_MAX_OFFSET_DEG
        territory = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    tolerance = 0.0
    if z < SIMPLIFY_BELOW_ZOOM:
        tolerance = (east - west) / MVT_EXTENT * SIMPLIFY_UNITS
    params: dict[str, Any] = {
        "z": z,
        "x": x,
        "y": y,
        "x0": box[0],
        "y0": box[1],
        "x1": box[2],
        "y1": box[3],
        "tx0": territory[0],
        "ty0": territory[1],
        "tx1": territory[2],
        "ty1": territory[3],
        **_scope_params(prefixes),
        "gcj02": gcj02,
        "linear": z >= LINEAR_FROM_ZOOM,
        "tolerance": tolerance,
        "extent": MVT_EXTENT,
        "buffer": MVT_BUFFER,
        **{f"{name}_zoom": zoom for name, zoom in MIN_ZOOM.items()},
    }
    return _MVT_SQL, params


def map_tile(
    z: int, x: int, y: int, *, prefixes: Sequence[str] | None, gcj02: bool = False
) -> bytes:
    """The map's vector tile z/x/y (Mapbox Vector Tile bytes; ``b""`` when nothing is in it).

    Layers ``boundary``, ``label``, ``compound``, ``street``, ``building`` and ``plate`` from the
    zooms in :data:`MIN_ZOOM` (docs/map.md lists their properties), drawn from what the
    territory code ``prefixes`` let a user read (``gis.querysets.territory_prefixes``: ``None``
    is everything, ``[]`` nothing); ``gcj02`` shifts every feature by the GCJ-02 offset at its
    centroid (``plategrid_gcj02_shift``) for a GCJ-02 basemap.
    """
    if prefixes is not None and not prefixes:
        return b""
    sql, params = map_tile_query(z, x, y, prefixes=prefixes, gcj02=gcj02)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bytes(cursor.fetchone()[0])
