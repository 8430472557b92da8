"""``/coverage/export.html`` and ``/coverage/export.png``: the coverage map's "export this view".

Both take the query of ``/api/coverage/map/`` (``code``, ``level``, ``days``, ``sweep``,
``rented``, ``scheme``, ``at``; parsed by ``layers.coverage.map_api.parse_query``), read the
choropleth the user may see and answer it as a download named
``覆盖率-<node name>-<day>.html|png``. Signed-in users only; a bad parameter answers a 400 page and
a node outside the user's territory a 404 page, each with the message in Chinese and English.
Every export and every refusal is logged to ``plategrid.exports`` (user id, query, size).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gis.exceptions import PlategridError
from layers.coverage import export
from layers.coverage.map_api import parse_query
from web.api.errors import domain_error

logger = logging.getLogger("plategrid.exports")

QUERY_KEYS = ("code", "level", "days", "sweep", "rented", "scheme", "at")
Render = Callable[[dict[str, Any], str, str], bytes | str]


def _user_name(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


def _refused(request: HttpRequest, exc: PlategridError, kind: str) -> HttpResponse:
    body, status = domain_error(exc)
    logger.info(
        "coverage %s export refused: user=%s query=%s code=%s",
        kind,
        request.user.pk,
        _query_text(request),
        exc.code,
    )
    context = {
        "title": _("Export this view"),
        "zh": body["detail_zh"],
        "en": body["detail_en"],
        "code": body["code"],
    }
    return render(request, "web/coverage/refused.html", context, status=status)


def _query_text(request: HttpRequest) -> str:
    return "&".join(f"{k}={request.GET[k][:30]}" for k in QUERY_KEYS if k in request.GET)


def _export(request: HttpRequest, kind: str, content_type: str, draw: Render) -> HttpResponse:
    try:
        collection = parse_query(request.user, request.GET).choropleth(request.user)
    except PlategridError as exc:
        return _refused(request, exc, kind)
    node = collection["node"]
    title = _("Coverage of %(name)s") % {"name": node["name"] or node["code"]}
    exported = _("exported on %(day)s by %(user)s") % {
        "day": timezone.localdate().isoformat(),
        "user": _user_name(request.user),
    }
    subtitle = f"{export.window_text(collection['window'])} · {exported}"
    content = draw(collection, title, subtitle)
    logger.info(
        "coverage %s export: user=%s query=%s features=%s bytes=%s",
        kind,
        request.user.pk,
        _query_text(request),
        len(collection["features"]),
        len(content.encode() if isinstance(content, str) else content),
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        True, export.file_name(collection, kind)
    )
    return response


@login_required
@require_GET
def export_html(request: HttpRequest) -> HttpResponse:
    """The view as a standalone HTML map (Leaflet inside the file, no outside host)."""
    return _export(
        request,
        "html",
        "text/html; charset=utf-8",
        lambda c, title, subtitle: export.html_view(c, title=title, subtitle=subtitle),
    )


@login_required
@require_GET
def export_png(request: HttpRequest) -> HttpResponse:
    """The view as a 1600 × 1200 PNG drawn on the server."""
    return _export(
        request,
        "png",
        "image/png",
        lambda c, title, subtitle: export.png_view(c, title=title, subtitle=subtitle),
    )


urlpatterns: list[URLPattern] = [
    path("export.html", export_html, name="coverage-export-html"),
    path("export.png", export_png, name="coverage-export-png"),
]
