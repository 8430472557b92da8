"""Loading the demo city: our loader against a plain COPY of the same rows, in the same run.

For the ``city`` size (500,000 buildings; ``demo``, 2,000 buildings, with --quick) it
  - generates the city (``generate_s``),
  - loads it with ``data.city.load.load_city`` (``load_s``): the territory through the services,
    the rest with COPY into the register's tables, with their triggers (community of a building,
    floors of a room), constraints and indexes, the history events, and the foreign keys checked
    at commit; one transaction, committed;
  - COPYs the very rows the loader copied (same columns, same values, same batches, the same
    psycopg ``write_row``) into tables made by ``CREATE TABLE … AS TABLE … WITH NO DATA`` (the
    same column types; no triggers, constraints, indexes or history; logged like ours), in one
    transaction (``plain_copy_s``),
and prints rows per second, seconds, the write-ahead log written and the ``ratio`` of the two times
(targets: ``city`` loaded in 10 minutes or less on the 2-core development machine, ratio ≤ 2).

Runs on a scratch database of its own (created from scratch and migrated, dropped at the end unless
--keep), on the server Django is configured for: never on the development database.
Usage: .venv/bin/python benchmarks/load_city.py [--quick] [--size demo|district|city] [--keep]
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Sequence
from typing import Any

from _setup import figure, setup_django

SCRATCH_DATABASE = "plategrid_bench_load_city"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the demo size (about 20 s)")
    parser.add_argument("--size", choices=("demo", "district", "city"), default=None)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    size = args.size or ("demo" if args.quick else "city")
    setup_django()

    import psycopg
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections, models, transaction
    from psycopg import sql

    from data.city.copy import Copier, copy_statement
    from data.city.generate import generate
    from data.city.load import load_city

    class RecordingCopier(Copier):
        """The loader's copier, keeping what it copied (references to the loader's lists)."""

        def __init__(self) -> None:
            super().__init__()
            self.copied: list[tuple[type[models.Model], Sequence[str], Sequence[Any]]] = []

        def copy(
            self,
            model: type[models.Model],
            fields: Sequence[str],
            rows: Sequence[tuple[Any, ...]],
        ) -> int:
            self.copied.append((model, fields, rows))
            return super().copy(model, fields, rows)

    # The scratch database, on the configured server; Django is pointed at it before connecting.
    connections.close_all()
    params = dict(connection.get_connection_params())
    params.pop("cursor_factory", None)
    params.pop("context", None)
    development_database = params.pop("dbname", None)
    if development_database == SCRATCH_DATABASE:
        raise SystemExit(f"{SCRATCH_DATABASE} is the configured database: choose another one")
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as server:
        server.execute(
            sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(SCRATCH_DATABASE))
        )
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SCRATCH_DATABASE)))
    connection.settings_dict["NAME"] = SCRATCH_DATABASE
    assert settings.DATABASES["default"]["NAME"] == SCRATCH_DATABASE
    try:
        call_command("migrate", verbosity=0)

        started = time.perf_counter()
        city = generate(size, metric_srid=settings.METRIC_SRID)
        generate_s = time.perf_counter() - started

        copier = RecordingCopier()
        wal_before = _wal_lsn(connection)
        started = time.perf_counter()
        counts = load_city(city, copier=copier)  # its own transaction, committed on return
        load_s = time.perf_counter() - started
        load_wal_mb = _wal_mb(connection, wal_before)

        # The same rows into bare tables, created (and committed) beforehand.
        plain = {model: f"plain_{model._meta.db_table}" for model, _, _ in copier.copied}
        with connection.cursor() as cursor:
            for model, table in plain.items():
                cursor.execute(
                    sql.SQL("CREATE TABLE {} AS TABLE {} WITH NO DATA")
                    .format(sql.Identifier(table), sql.Identifier(model._meta.db_table))
                    .as_string()
                )
        copied_rows = 0
        wal_before = _wal_lsn(connection)
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for model, fields, rows in copier.copied:
                statement = copy_statement(model, fields, table=plain[model])
                with cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
                copied_rows += len(rows)
        plain_copy_s = time.perf_counter() - started
        plain_wal_mb = _wal_mb(connection, wal_before)
    finally:
        connections.close_all()
        if not args.keep:
            with psycopg.connect(**params, dbname="postgres", autocommit=True) as server:
                server.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(SCRATCH_DATABASE))
                )

    figure("size", size)
    for name in ("communities", "compounds", "buildings", "entrances", "rooms", "door_plates"):
        figure(name, counts[name])
    figure("copied_rows", copied_rows)
    figure("generate_s", f"{generate_s:.1f}")
    figure("load_s", f"{load_s:.1f}")
    figure("buildings_per_s", f"{counts['buildings'] / load_s:.0f}")
    figure("rooms_per_s", f"{counts['rooms'] / load_s:.0f}")
    figure("plain_copy_s", f"{plain_copy_s:.1f}")
    figure("plain_rows_per_s", f"{copied_rows / plain_copy_s:.0f}")
    figure("load_wal_mb", f"{load_wal_mb:.0f}")
    figure("plain_wal_mb", f"{plain_wal_mb:.0f}")
    figure("peak_rss_mb", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    figure("total_s", f"{generate_s + load_s:.1f}")
    figure("ratio", f"{load_s / plain_copy_s:.2f}")


def _wal_lsn(connection: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return str(cursor.fetchone()[0])


def _wal_mb(connection: Any, since: str) -> float:
    """Write-ahead log written since the position ``since`` (by every session of the server)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [since])
        return float(cursor.fetchone()[0]) / 2**20


if __name__ == "__main__":
    main()
