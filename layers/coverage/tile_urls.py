"""Coverage tiles under ``/tiles/coverage/`` (included by layers.urls): a thin view around
``layers.coverage.tiles``.

``GET /tiles/coverage/{z}/{x}/{y}.mvt?days=7|30|90|all&rented=0|1`` — the gap heatmap (layer
``gap_cells``) below z14, building footprints with their figures (layer ``buildings``) from z14
(docs/coverage.md). Signed-in users only (403 otherwise), each seeing only buildings of their
territory; refusals are the API's bilingual error body.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import URLPattern, path
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from gis.exceptions import NotFoundError, PlategridError, ScopeError
from layers import tiles as map_tiles
from layers.views import BROWSER_MAX_AGE_S
from web.api.errors import domain_error

from . import tiles


def _error(exc: PlategridError) -> JsonResponse:
    body, status = domain_error(exc)
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


@require_safe
def coverage_tile(request: HttpRequest, z: int, x: int, y: int) -> HttpResponseBase:
    """``GET /tiles/coverage/{z}/{x}/{y}.mvt``: the coverage tile for the signed-in user."""
    try:
        if not request.user.is_authenticated:
            raise ScopeError(_("Sign in to see the coverage map."), code="not_authenticated")
        if not map_tiles.in_range(z, x, y):
            raise NotFoundError(
                _(
                    "There is no tile %(z)s/%(x)s/%(y)s: z goes from 0 to %(max)s, x and y from "
                    "0 to 2^z - 1."
                ),
                code="no_tile",
                z=z,
                x=x,
                y=y,
                max=map_tiles.MAX_ZOOM,
            )
        window = tiles.parse_window(request.GET.get("days"), request.GET.get("rented"))
    except PlategridError as exc:
        return _error(exc)
    found = tiles.coverage_tile_for(request.user, z, x, y, window)
    response = HttpResponse(found.body, content_type=map_tiles.CONTENT_TYPE)
    response["ETag"] = found.etag
    patch_cache_control(response, private=True, max_age=BROWSER_MAX_AGE_S)
    return get_conditional_response(request, etag=found.etag, response=response) or response


urlpatterns: list[URLPattern] = [
    path("<int:z>/<int:x>/<int:y>.mvt", coverage_tile, name="coverage-tile"),
]
