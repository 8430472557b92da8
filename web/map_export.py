"""``/map/export.html?bbox=…``: the map page's "export this view as an HTML map" download.

The file is built by ``layers.html_map`` from what the user may see; its only script and
stylesheet are Leaflet's, linked by absolute URLs of this server's static files, so it works when
opened on a machine that reaches this server and no other host. Every export (and every refusal)
is logged to ``plategrid.exports``: the user's id, the box and the counts, no personal data.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_GET

from gis.api.views import bbox_values
from gis.exceptions import PlategridError
from layers.html_map import Assets, html_map
from web.api.errors import domain_error

logger = logging.getLogger("plategrid.exports")


def _error(exc: PlategridError) -> JsonResponse:
    """The API's error shape (``detail`` in the request's language, both languages, ``code``)."""
    body, status = domain_error(exc)
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


@login_required
@require_GET
def export_html_map(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("bbox", "")
    assets = Assets(
        leaflet_js=request.build_absolute_uri(static("vendor/leaflet/leaflet.js")),
        leaflet_css=request.build_absolute_uri(static("vendor/leaflet/leaflet.css")),
    )
    try:
        bbox = bbox_values(text)
        result = html_map(
            user=request.user,
            bbox=bbox,
            assets=assets,
            max_buildings=settings.PLATEGRID_HTML_MAP_MAX_BUILDINGS,
        )
    except PlategridError as exc:
        logger.info(
            "html map export refused: user=%s bbox=%s code=%s",
            request.user.pk,
            text[:100],
            exc.code,
        )
        return _error(exc)
    logger.info(
        "html map export: user=%s bbox=%s communities=%s compounds=%s buildings=%s "
        "door_plates=%s bytes=%s",
        request.user.pk,
        ",".join(f"{v:.6f}" for v in bbox),
        result.communities,
        result.compounds,
        result.buildings,
        result.door_plates,
        len(result.html.encode()),
    )
    name = f"plategrid-map-{timezone.localtime():%Y%m%d-%H%M}.html"
    response = HttpResponse(result.html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
