"""Raw spatial SQL, only for what the ORM cannot say; ``%s`` parameters, one typed wrapper each."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import QuerySet


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
