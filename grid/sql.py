"""Raw spatial SQL of the coverage check, for what the ORM cannot say in one statement:
a per-community union and difference, a self-join of zones and a building × zone area table;
and the INSERT … SELECT that fixes a sweep's target rooms.

Each function covers the communities named by ``codes`` in one query; ``%s`` parameters only;
areas in m² in ``settings.METRIC_SRID``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from gis.crs import metric_srid


def uncovered_rows(codes: Sequence[str]) -> list[tuple[str, str, int, float, float, str | None]]:
    """Per community: ``(code, name, current zones, area_m2, uncovered_m2, uncovered GeoJSON)``,
    where uncovered is the community's boundary minus the union of its current zones."""
    sql = """
        SELECT c.code, c.name, z.n,
               ST_Area(ST_Transform(c.geom, %s)),
               ST_Area(ST_Transform(u.geom, %s)),
               CASE WHEN ST_IsEmpty(u.geom) THEN NULL ELSE ST_AsGeoJSON(u.geom, 7) END
          FROM geo_community c
          CROSS JOIN LATERAL (
                SELECT count(*) AS n, ST_Union(g.geom) AS geom FROM grid_zone g
                 WHERE g.community_code = c.code AND g.valid_to IS NULL) z
          CROSS JOIN LATERAL (
                SELECT COALESCE(ST_Difference(c.geom, z.geom), c.geom) AS geom) u
         WHERE c.code = ANY(%s)
         ORDER BY c.code
    """
    srid = metric_srid()
    with connection.cursor() as cursor:
        cursor.execute(sql, [srid, srid, list(codes)])
        return cursor.fetchall()


def overlap_rows(codes: Sequence[str]) -> list[tuple[str, str, str, float, str]]:
    """Pairs of current zones of one community that overlap:
    ``(community code, zone code, other zone code, overlap_m2, overlap GeoJSON)``."""
    sql = """
        SELECT a.community_code, a.code, b.code,
               ST_Area(ST_Transform(o.geom, %s)), ST_AsGeoJSON(o.geom, 7)
          FROM grid_zone a
          JOIN grid_zone b ON b.community_code = a.community_code AND a.code < b.code
                          AND b.valid_to IS NULL AND ST_Intersects(a.geom, b.geom)
          CROSS JOIN LATERAL (
                SELECT ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3) AS geom) o
         WHERE a.valid_to IS NULL AND a.community_code = ANY(%s) AND NOT ST_IsEmpty(o.geom)
         ORDER BY a.community_code, a.code, b.code
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [metric_srid(), list(codes)])
        return cursor.fetchall()


def building_zone_rows(
    codes: Sequence[str],
) -> list[tuple[str, int, str, float, list[Any], list[Any]]]:
    """Every building of the communities with the current zones holding part of its footprint:
    ``(community code, building id, building name, footprint_m2, [zone codes], [part_m2])``,
    parts largest first (empty arrays for a building in no zone)."""
    sql = """
        WITH b AS (
            SELECT b.id, b.name, b.footprint, c.code AS community_code,
                   ST_Area(ST_Transform(b.footprint, %s)) AS area_m2
              FROM geo_building b JOIN geo_community c ON c.id = b.community_id
             WHERE c.code = ANY(%s)
        ), parts AS (
            SELECT b.id, z.code,
                   ST_Area(ST_Transform(ST_Intersection(b.footprint, z.geom), %s)) AS part_m2
              FROM b JOIN grid_zone z
                ON z.valid_to IS NULL AND ST_Intersects(z.geom, b.footprint)
        )
        SELECT b.community_code, b.id, b.name, b.area_m2,
               COALESCE(array_agg(p.code ORDER BY p.part_m2 DESC)
                        FILTER (WHERE p.code IS NOT NULL), '{}'),
               COALESCE(array_agg(p.part_m2 ORDER BY p.part_m2 DESC)
                        FILTER (WHERE p.code IS NOT NULL), '{}')
          FROM b LEFT JOIN parts p ON p.id = b.id
         GROUP BY b.community_code, b.id, b.name, b.area_m2
         ORDER BY b.community_code, b.id
    """
    srid = metric_srid()
    with connection.cursor() as cursor:
        cursor.execute(sql, [srid, list(codes), srid])
        return cursor.fetchall()


def insert_sweep_rooms(sweep_id: int, rooms: QuerySet[Any]) -> int:
    """Fix a sweep's target rooms in one ``INSERT … SELECT``: ``rooms`` is a room queryset
    annotated with ``room_ref``, ``building_ref`` and ``area_ref`` (the zone or community code);
    returns the number of rows inserted."""
    select, params = (
        rooms.order_by().values_list("room_ref", "building_ref", "area_ref").query.sql_with_params()
    )
    sql = f"""
        INSERT INTO grid_sweeproom
               (sweep_id, room_id, building_id, area_code, attempts, last_outcome)
        SELECT %s, q.room_ref, q.building_ref, q.area_ref, 0, ''
          FROM ({select}) AS q
    """  # noqa: S608 - the inner SELECT is compiled by the ORM, with its own %s parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [sweep_id, *params])
        return cursor.rowcount
