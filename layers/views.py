"""Map products over HTTP: thin views around ``layers.tiles``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from . import tiles

#: How long a browser keeps a tile without asking again. Short: an edit made in another browser
#: shows within a minute; the page that made an edit reloads its tiles at once.
BROWSER_MAX_AGE_S = 60


@require_safe
def tile(request: HttpRequest, z: int, x: int, y: int) -> HttpResponseBase:
    """``GET /tiles/{z}/{x}/{y}.mvt``: the map's vector tile for the signed-in user."""
    if not request.user.is_authenticated:
        raise PermissionDenied(_("Sign in to see the map."))
    if not tiles.in_range(z, x, y):
        raise Http404(
            _(
                "There is no tile %(z)s/%(x)s/%(y)s: z goes from 0 to %(max)s, x and y from 0 to 2^z - 1."
            )
            % {"z": z, "x": x, "y": y, "max": tiles.MAX_ZOOM}
        )
    found = tiles.tile_for(request.user, z, x, y)
    response = HttpResponse(found.body, content_type=tiles.CONTENT_TYPE)
    response["ETag"] = found.etag
    patch_cache_control(response, private=True, max_age=BROWSER_MAX_AGE_S)
    return get_conditional_response(request, etag=found.etag, response=response) or response
