"""COPY rows into the register's tables through Django's connection, inside its transaction.

The fast path of bulk loads: PostgreSQL ``COPY … FROM STDIN`` with psycopg 3's ``cursor.copy()``
on the connection Django already holds, so copied rows belong to the caller's transaction. COPY
fires the tables' row triggers and checks their constraints like INSERT does (a building's
community derived from its footprint, rooms on floors of their building, uniqueness, foreign keys,
valid geometry); the history of the rows is written set-based (see :class:`Copier`). What the
services do in Python before saving is the caller's part: :func:`geometry_ewkb` checks
geometries the way ``gis.geometry.clean_geometry`` does; door plates are composed by
``gis.services``.

Raw SQL lives in ``gis/sql.py`` by the house style; this module is the demo city's own until the
register has other bulk loads.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pghistory.config
import pghistory.trigger
import pgtrigger
import shapely
from django.db import DEFAULT_DB_ALIAS, connections, models
from psycopg import sql

from gis.geometry import clean_geometry, from_shapely
from gis.services import database_rules

_TYPE_IDS = {
    "Point": shapely.GeometryType.POINT,
    "LineString": shapely.GeometryType.LINESTRING,
    "Polygon": shapely.GeometryType.POLYGON,
    "MultiPolygon": shapely.GeometryType.MULTIPOLYGON,
}


class Copier:
    """COPY rows of one model at a time into its table, on the connection ``using``.

    History: inside :meth:`row_history_off` (a bulk load), the insert event of each copied row
    is written by one ``INSERT … SELECT`` after the COPY (what pghistory's statement-level
    trigger does) instead of by the row-level trigger once per row, which costs ~10 times more
    (the trigger also upserts the history context per row). Outside it, COPY fires the row
    trigger like any insert. Every other trigger fires. Errors the database raises (a rule the
    rows break) come out as the services' domain errors (``gis.exceptions``), and the
    transaction is left as it was before the COPY.
    """

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.connection = connections[using]
        self._row_history_off: dict[type[models.Model], _InsertHistory] = {}

    @contextlib.contextmanager
    def row_history_off(self, tracked: Iterable[type[models.Model]]) -> Iterator[None]:
        """Switch the row-level insert-event triggers of ``tracked`` off inside the block, for a
        bulk load into their tables: ``ALTER TABLE … DISABLE TRIGGER`` in the caller's
        transaction (undone with it if anything fails; the tables are locked against other
        writers until it ends), then ``ENABLE`` at the end of the block. Only rows copied by
        this copier may be written inside the block: their events are written by :meth:`copy`;
        any other insert would go unrecorded.

        Deferred constraints are checked at the end of the block (``SET CONSTRAINTS ALL
        IMMEDIATE``): PostgreSQL alters no table with checks still pending."""
        histories = {model: h for model in tracked if (h := _InsertHistory.of(model))}
        with self.connection.cursor() as cursor:
            for model, history in histories.items():
                cursor.execute(history.switch(model, on=False))
        self._row_history_off = histories
        try:
            yield
        finally:
            self._row_history_off = {}
        with self.connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for model, history in histories.items():
                cursor.execute(history.switch(model, on=True))

    def copy(
        self, model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> int:
        """COPY ``rows`` (one value per field of ``fields``, in that order; foreign keys as the
        referenced key) into ``model``'s table; returns the number of rows. ``fields`` include
        the primary key (see :meth:`reserve_ids`): the history events are found by it."""
        if not rows:
            return 0
        history = self._row_history_off.get(model)
        with database_rules(), self.connection.wrap_database_errors:
            with self.connection.cursor() as cursor:
                with cursor.copy(copy_statement(model, fields)) as copy:
                    for row in rows:
                        copy.write_row(row)
                if history:
                    pk = fields.index(model._meta.pk.name)
                    keys = [row[pk] for row in rows]
                    cursor.execute(history.statement, [min(keys), max(keys), keys])
        return len(rows)

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        """``count`` new primary keys from ``model``'s identity sequence, so that rows copied
        later can be referenced before they are stored."""
        if count == 0:
            return []
        table = model._meta.db_table
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, _column(model, model._meta.pk.name), count],
            )
            return [row[0] for row in cursor.fetchall()]

    def attach_history_context(self, context: Any) -> None:
        """Let the history events of copied rows carry ``context`` (what ``pghistory.context``
        returns). pghistory sets its context in front of each statement Django executes; the
        events written after a COPY read it from the transaction, so it is set here for the
        rest of the transaction."""
        metadata = json.dumps(context.metadata, cls=pghistory.config.json_encoder())
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('pghistory.context_id', %s, true), "
                "set_config('pghistory.context_metadata', %s, true)",
                [str(context.id), metadata],
            )


@dataclass(frozen=True)
class _InsertHistory:
    """The row-level insert-event trigger of a tracked model (pghistory), and the statement
    that writes the same events for a set of rows given by their keys."""

    name: str  # the trigger's name in the database, e.g. "pgtrigger_insert_insert_a4ce4"
    statement: str  # a string: Django's execute wrappers (pghistory's) expect one

    def switch(self, model: type[models.Model], *, on: bool) -> str:
        return (
            sql.SQL("ALTER TABLE {} {} TRIGGER {}")
            .format(
                sql.Identifier(model._meta.db_table),
                sql.SQL("ENABLE" if on else "DISABLE"),
                sql.Identifier(self.name),
            )
            .as_string()
        )

    @classmethod
    @functools.cache
    def of(cls, model: type[models.Model]) -> _InsertHistory | None:
        for tracked, trigger in pgtrigger.registered():
            if (
                tracked is model
                and isinstance(trigger, pghistory.trigger.Event)
                and trigger.label == "insert"
                and trigger.event_model is not None
            ):
                name = trigger.get_pgid(model)  # type: ignore[arg-type]  # takes the class
                return cls(name, _insert_events(model, trigger.event_model))
        return None


def _insert_events(model: type[models.Model], event_model: type[models.Model]) -> str:
    """``INSERT INTO <events> … SELECT … FROM <table> WHERE pk …``: the columns the row trigger
    fills, from the same sources (pghistory's ``Event.get_func``), the context attached once
    (as pghistory's statement-level trigger does).

    The rows are found by their keys (``= ANY``, as ``bigint[]`` so that PostgreSQL hashes the
    array) within the keys' range: the table is not analysed during a load, and without the
    range the planner reads the whole table for every batch."""
    tracked = {f.name for f in model._meta.fields}
    row = sql.Identifier("new_values")
    pk = sql.Identifier(_column(model, model._meta.pk.name))
    values: dict[str, sql.Composable] = {}
    for f in event_model._meta.concrete_fields:
        if f.name in tracked and not isinstance(f, models.AutoField | models.GeneratedField):
            column = _column(event_model, f.name)
            values[column] = sql.SQL("{}.{}").format(row, sql.Identifier(column))
    values["pgh_created_at"] = sql.SQL(pghistory.config.created_at_function())
    values["pgh_label"] = sql.Literal("insert")
    values["pgh_obj_id"] = sql.SQL("{}.{}").format(row, pk)
    values["pgh_context_id"] = sql.SQL("_pgh_attached_context.value")
    expected = {
        _column(event_model, f.name)
        for f in event_model._meta.concrete_fields
        if not isinstance(f, models.AutoField | models.GeneratedField)
    }
    if set(values) != expected:
        raise ValueError(
            f"{event_model.__name__} has columns the demo city's COPY does not fill: "
            f"{sorted(expected ^ set(values))}; update data.city.copy._insert_events"
        )
    return (
        sql.SQL(
            "WITH _pgh_attached_context AS (SELECT _pgh_attach_context() AS value) "
            "INSERT INTO {events} ({columns}) SELECT {values} "
            "FROM {table} AS {row}, _pgh_attached_context "
            "WHERE {row}.{pk} BETWEEN %s AND %s AND {row}.{pk} = ANY(%s::bigint[])"
        )
        .format(
            events=sql.Identifier(event_model._meta.db_table),
            columns=sql.SQL(", ").join(map(sql.Identifier, values)),
            values=sql.SQL(", ").join(values.values()),
            table=sql.Identifier(model._meta.db_table),
            row=row,
            pk=pk,
        )
        .as_string()
    )


def copy_statement(
    model: type[models.Model], fields: Sequence[str], *, table: str | None = None
) -> sql.Composed:
    """``COPY <table> (<columns of fields>) FROM STDIN`` for ``model``'s table, or for ``table``
    (a table with the same columns)."""
    columns = [sql.Identifier(_column(model, name)) for name in fields]
    return sql.SQL("COPY {table} ({columns}) FROM STDIN").format(
        table=sql.Identifier(table or model._meta.db_table), columns=sql.SQL(", ").join(columns)
    )


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or field.column is None:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field.column


def geometry_ewkb(
    geometries: Iterable[shapely.Geometry], *, geom_type: str, srid: int = 4326
) -> list[str]:
    """Hex EWKB of ``geometries`` for COPY, after the checks ``clean_geometry`` makes (type, a
    polygon promoted to a multipolygon, not empty, two-dimensional, longitude/latitude range,
    valid), vectorised.

    ``srid=0`` is for plans in metres (no range check, no SRID written). The first geometry
    that fails is handed to ``clean_geometry`` (or, for plans, reported as invalid), so the error
    is the one the services raise for it.
    """
    array = np.asarray(list(geometries), dtype=object)
    if array.size == 0:
        return []
    if geom_type == "MultiPolygon":  # a polygon is stored as a multipolygon of one
        polygons = np.flatnonzero(shapely.get_type_id(array) == shapely.GeometryType.POLYGON)
        array[polygons] = shapely.multipolygons(array[polygons], indices=np.arange(polygons.size))
    bad = (
        (shapely.get_type_id(array) != _TYPE_IDS[geom_type])
        | shapely.is_empty(array)
        | shapely.has_z(array)
        | ~shapely.is_valid(array)
    )
    if srid == 4326:
        bounds = shapely.bounds(array)
        with np.errstate(invalid="ignore"):  # empty geometries have NaN bounds
            bad |= (np.abs(bounds[:, [0, 2]]) > 180).any(axis=1)
            bad |= (np.abs(bounds[:, [1, 3]]) > 90).any(axis=1)
    if bad.any():
        first = array[np.flatnonzero(bad)[0]]
        if srid:
            clean_geometry(from_shapely(first, srid=srid), geom_type=geom_type)
        reason = shapely.is_valid_reason(first) if first.geom_type == geom_type else first.geom_type
        raise ValueError(f"not a storable {geom_type}: {reason} ({first.wkt[:200]})")
    if srid:
        return list(shapely.to_wkb(shapely.set_srid(array, srid), hex=True, include_srid=True))
    return list(shapely.to_wkb(array, hex=True))
