"""Shared start-up for benchmarks: Django on the demo settings and database."""

from __future__ import annotations

import io
import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    # DEBUG off (no query log), same database as the demo.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings.test")
    import django

    django.setup()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation."""
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[int(q) - 1]


def figure(name: str, value: object) -> None:
    print(f"{name}: {value}", flush=True)


def session_key(user: Any) -> str:
    """The session cookie's value of ``user`` signed in (Django must be set up)."""
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def wsgi_get(application: Any, path: str, *, session: str, query: str = "") -> bytes:
    """GET ``path`` through the whole WSGI stack (middleware, session, view) as a browser would,
    signed in with the session ``session`` (:func:`session_key`), without a socket; the body of
    a 200, else an assertion error with the status."""
    from django.conf import settings

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={session}",
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http",
    }
    status: list[str] = []

    def start_response(code: str, _headers: list[tuple[str, str]], _exc: Any = None) -> Any:
        status.append(code)

    body = b"".join(application(environ, start_response))
    assert status[0].startswith("200"), (path, status, body[:300])
    return body


def _migration_files(connection: Any, *, applied_only: bool) -> dict[str, str]:
    """The project's migration files (``app/name`` of their folder, e.g. ``grid/0004_coverage``)
    and a hash of each: every one on disk, or those applied to ``connection``'s database."""
    import hashlib

    from django.db.migrations.loader import MigrationLoader

    files = {
        f"{path.parent.parent.name}/{path.stem}": hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in sorted(ROOT.glob("*/migrations/[0-9]*.py"))
    }
    if not applied_only:
        return files
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = set()
    for app, name in loader.applied_migrations or {}:
        migration = loader.disk_migrations.get((app, name))
        module = sys.modules.get(type(migration).__module__) if migration else None
        path = Path(getattr(module, "__file__", "") or "")
        if path.is_relative_to(ROOT):
            applied.add(f"{path.parent.parent.name}/{path.stem}")
    return {key: digest for key, digest in files.items() if key in applied}


def _migrate(hold_back: tuple[str, ...]) -> None:
    """Apply the migrations on disk, except those not applied yet whose ``app/name`` starts with
    one of ``hold_back``, and those that depend on them."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    if not hold_back:
        call_command("migrate", verbosity=0)
        return
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    graph, applied = loader.graph, loader.applied_migrations or {}
    held: set[tuple[str, str]] = set()
    for node in graph.nodes:
        module = sys.modules.get(type(graph.nodes[node]).__module__)
        path = Path(getattr(module, "__file__", "") or "")
        # Only migrations not applied yet are held back: never a migration backwards.
        if node not in applied and f"{path.parent.parent.name}/{path.stem}".startswith(hold_back):
            held |= set(graph.backwards_plan(node))  # the node and what depends on it
    for app in sorted({app for app, _ in graph.nodes}):
        kept = sorted(name for a, name in graph.nodes if a == app and (a, name) not in held)
        if kept:
            call_command("migrate", app, kept[-1], verbosity=0)


def scratch_city(
    connection: Any,
    *,
    benchmark: str,
    size: str,
    fresh: bool = False,
    hold_back: tuple[str, ...] = (),
) -> float | None:
    """Create, migrate and load a benchmark's scratch database with the demo city of ``size``,
    or reuse it: the seconds the load took, ``None`` when reused.

    A finished load leaves a comment on the database naming the benchmark, the size, the seed
    and each migration applied (``app/name`` and a hash of its file). A database whose recorded
    migrations are all still there unchanged is reused: migrated forward when migrations were
    added since (and the comment brought up to date). Anything else (no comment, another size,
    an interrupted load, a migration changed or gone, ``fresh``) is dropped and loaded again.
    ``hold_back``: migrations not applied for now (``app/name`` prefixes, e.g.
    ``grid/0005``, with those depending on them), such as one still being written: a later call
    without them migrates the database forward. Only databases named ``plategrid_bench_…`` are
    ever dropped.
    """
    import time

    import psycopg
    from django.core.management import call_command
    from psycopg import sql

    head = f"plategrid {benchmark} benchmark: demo_city --size {size} --seed 20091, migrations"
    params = dict(connection.get_connection_params())
    for key in ("cursor_factory", "context"):
        params.pop(key, None)
    name = params.pop("dbname")
    if not name.startswith("plategrid_bench_"):
        raise SystemExit(f"refusing to drop or load {name}: not a benchmark's scratch database")
    on_disk = _migration_files(connection, applied_only=False)
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as server:
        row = server.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
        comment = (row[0] or "") if row else ""
        recorded = _recorded_migrations(comment, head)
        reuse = (
            not fresh
            and recorded is not None
            and all(on_disk.get(key) == digest for key, digest in recorded.items())
        )
        if not reuse:
            server.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    if reuse:
        added = [
            key
            for key in sorted(set(on_disk) - set(recorded or {}))
            if not (hold_back and key.startswith(hold_back))
        ]
        if added:
            print(f"{name}: migrating forward ({', '.join(added)})", file=sys.stderr, flush=True)
        _migrate(hold_back)
        _record_migrations(connection, name, head)
        return None
    _migrate(hold_back)
    started = time.perf_counter()
    call_command("demo_city", "--size", size, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    _record_migrations(connection, name, head)
    return time.perf_counter() - started


def _recorded_migrations(comment: str, head: str) -> dict[str, str] | None:
    """The migrations a scratch database's comment records (``None``: not a finished load of
    this benchmark and size)."""
    if not comment.startswith(head + " "):
        return None
    recorded = {}
    for entry in comment.removeprefix(head + " ").split():
        key, sep, digest = entry.partition("=")
        if not sep or not digest:
            return None  # an older comment (one hash of all migrations): load again
        recorded[key] = digest
    return recorded


def _record_migrations(connection: Any, name: str, head: str) -> None:
    """Comment the database with the migrations applied to it (see :func:`scratch_city`)."""
    from psycopg import sql

    applied = _migration_files(connection, applied_only=True)
    marker = " ".join([head, *(f"{key}={digest}" for key, digest in sorted(applied.items()))])
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}")
            .format(sql.Identifier(name), sql.Literal(marker))
            .as_string()
        )
