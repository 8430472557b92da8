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
