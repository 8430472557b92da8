"""The phone page for field staff (外业): today's route of the signed-in user's sweep team, the
rooms of each building with outcome buttons, and a queue of visits kept in the browser so the
page keeps working offline (``web/static/web/field.js``).

The service worker (``web/static/web/field-sw.js``) is served from ``/field/sw.js`` so that its
scope covers the page; it keeps the page shell and its static files for a reload offline.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from grid.models import VisitOutcome
from web.views import _client_words

#: What the page needs to open offline, besides itself: kept by the service worker.
SHELL_STATIC = ("web/site.css", "web/field.css", "web/common.js", "web/field.js")
#: Bump when the worker's caching changes in a way the static files' contents do not show.
SW_VERSION = "1"


@login_required
@require_GET
@ensure_csrf_cookie
def field_page(request: HttpRequest) -> HttpResponse:
    """The field page. Everything it shows comes from the API (or the browser's copy of it)."""
    return render(request, "web/field.html", {"config": field_config(request)})


def field_config(request: HttpRequest) -> dict[str, Any]:
    """What field.js needs: URLs, whose queue it keeps, the outcomes and its words."""
    user = request.user
    return {
        "urls": {
            "api": reverse("me").removesuffix("me/"),
            "sw": reverse("field-sw"),
            "page": reverse("field"),
            "login": f"{reverse('login')}?next={reverse('field')}",
        },
        # The queue and the cached routes are kept per user: a shared phone must not send one
        # user's visits as another's.
        "user": {"id": user.pk, "name": user.get_username()},
        "lang": get_language() or settings.LANGUAGE_CODE,
        "outcomes": [
            {"value": value, "label": str(label)} for value, label in VisitOutcome.choices
        ],
        "failed_outcomes": [VisitOutcome.NOT_AT_HOME.value, VisitOutcome.REFUSED.value],
        "words": _field_words(),
    }


def _field_words() -> dict[str, str]:
    return _client_words() | {
        "my_sweeps": _("My sweeps"),
        "no_sweeps": _("You are in no team of an open sweep."),
        "team": _("team"),
        "day_of": _("Day %(day)s of %(days)s"),
        # /api/sweeps/mine/ lists a sweep before its first plan (day null, days 0).
        "no_plan": _("Not planned yet"),
        "prev_day": _("Previous day"),
        "next_day": _("Next day"),
        "change_sweep": _("Other sweep"),
        "next_building": _("Next building"),
        "all_done": _("Every room of this day has been visited."),
        "rooms_left": _("rooms left: %(count)s"),
        "walk_m": _("%(m)s m walk"),
        "stops": _("Stops"),
        "progress": _("%(done)s of %(total)s rooms done today"),
        "open_building": _("Rooms"),
        "back": _("Back"),
        "no_plates": _("no door plate"),
        "floor": _("floor %(floor)s"),
        "entrance": _("unit %(entrance)s"),
        "select_rooms": _("Tick the rooms, then tap what you found."),
        "select_all": _("Tick all not done"),
        "new_room": _("New room found"),
        "new_room_number": _("Number of the new room"),
        "record": _("Record"),
        "note": _("Note (optional)"),
        "use_gps": _("Record my position (GPS)"),
        "gps_off": _("GPS not available"),
        "gps_on": _("GPS ±%(m)s m"),
        "recorded": _("Recorded: %(count)s"),
        "done": _("done"),
        "revisit": _("revisit"),
        "flagged": _("flagged"),
        "waiting": _("%(count)s waiting to sync"),
        "offline_status": _("Offline"),
        "synced": _("All synced"),
        "syncing": _("Syncing…"),
        "sync_now": _("Sync now"),
        "sign_in_again": _("Signed out: sign in again to send the visits."),
        "refused": _("Refused by the server"),
        "refused_count": _("%(count)s refused"),
        "discard": _("Discard"),
        "discard_confirm": _("Discard this visit? It will not be recorded."),
        "conflict": _(
            "Another visit with a different outcome was recorded in the same minute; both are kept."
        ),
        "dismiss": _("OK"),
        "far": _("Recorded far from the building."),
        "cached": _("Shown from the copy on this phone (%(when)s)."),
        "no_route": _("No route for this day yet."),
        "loading": _("Loading…"),
    }


@require_GET
@never_cache
def field_service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker's script, served under /field/ so that its scope covers the page.

    The list of files to keep is written into the script: its text changes when they do, which
    makes the browser install the new worker (and drop the old cache)."""
    path = finders.find("web/field-sw.js")
    if not path or isinstance(path, list):
        raise FileNotFoundError("web/field-sw.js")
    with open(path, encoding="utf-8") as script:
        source = script.read()
    shell = {
        "version": SW_VERSION + "-" + _shell_fingerprint(),
        "page": reverse("field"),
        "static": [static(name) for name in SHELL_STATIC],
    }
    body = f"var FIELD_SHELL = {json.dumps(shell)};\n{source}"
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("field")
    return response


def _shell_fingerprint() -> str:
    """Changes whenever one of the shell's static files changes (their sizes and times)."""
    digest = hashlib.sha1(usedforsecurity=False)
    for name in (*SHELL_STATIC, "web/field-sw.js"):
        found = finders.find(name)
        if isinstance(found, str):
            stat = os.stat(found)
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:12]
