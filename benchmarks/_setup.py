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


def scratch_city(
    connection: Any, *, benchmark: str, size: str, fresh: bool = False
) -> float | None:
    """Create, migrate and load a benchmark's scratch database with the demo city of ``size``,
    or reuse it: the seconds the load took, ``None`` when reused.

    A finished load leaves a comment on the database naming the benchmark, the size, the seed
    and a hash of the migrations it was made with; anything else (no comment, another size, an
    interrupted load, a migration added or changed since, ``fresh``) is dropped and loaded again.
    Only databases named ``plategrid_bench_…`` are ever dropped.
    """
    import hashlib
    import time

    import psycopg
    from django.core.management import call_command
    from psycopg import sql

    migrations = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/[0-9]*.py")):
        migrations.update(path.name.encode() + path.read_bytes())
    marker = (
        f"plategrid {benchmark} benchmark: demo_city --size {size} --seed 20091, "
        f"migrations {migrations.hexdigest()[:16]}"
    )
    params = dict(connection.get_connection_params())
    for key in ("cursor_factory", "context"):
        params.pop(key, None)
    name = params.pop("dbname")
    if not name.startswith("plategrid_bench_"):
        raise SystemExit(f"refusing to drop or load {name}: not a benchmark's scratch database")
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as server:
        row = server.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
        reuse = row is not None and row[0] == marker and not fresh
        if not reuse:
            server.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    call_command("migrate", verbosity=0)
    if reuse:
        return None
    started = time.perf_counter()
    call_command("demo_city", "--size", size, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}")
            .format(sql.Identifier(name), sql.Literal(marker))
            .as_string()
        )
    return time.perf_counter() - started
