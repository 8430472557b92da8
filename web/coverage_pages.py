"""The coverage map (覆盖率地图, ``/coverage/``): where are we blind?

A choropleth of the share of rooms seen, by street office, community or zone of a node, for the
last 7/30/90 days, ever, or one sweep; a classed legend (the seeds' targets or natural breaks);
click a node to drill down, the path to go up; a slider that replays coverage week by week from
the snapshots; the gap heatmap (hexagons, then buildings from zoom 14) and the gap layers; links to
the dashboard and to the exports of the view. The query string holds the whole view
(``code``, ``level``, ``days``, ``sweep``, ``rented``, ``scheme``, ``at``, ``heat``, ``gaps``), so
a view is a link: the dashboard's figures link here.

The page reads only what the first paint needs (the user's top node and sweeps); the map, the
tiles and the lists come from the API, scoped there (``layers.coverage``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from grid.models import Sweep
from layers.coverage.choropleth import LEVELS, SCHEMES
from layers.coverage.dashboard import own_node
from layers.coverage.gaps import KINDS

from .views import _client_words, _map_urls

#: How many sweeps the window menu offers (open ones first, newest first).
SWEEP_CHOICES = 50


def _sweeps(user: Any) -> list[dict[str, Any]]:
    return [
        {"id": pk, "name": name}
        for pk, name in Sweep.objects.visible_to(user)
        .order_by(F("closed_at").desc(nulls_first=True), "-starts_on", "-pk")
        .values_list("pk", "name")[:SWEEP_CHOICES]
    ]


def _words() -> dict[str, str]:
    return _client_words() | {
        "days_7": _("7 days"),
        "days_30": _("30 days"),
        "days_90": _("90 days"),
        "days_all": _("ever"),
        "rented": _("Rented rooms only"),
        "scheme_targets": _("Targets (85 % / 95 %)"),
        "scheme_natural": _("Natural breaks"),
        "district": _("district"),
        "street_office": _("street office"),
        "community": _("community"),
        "zone": _("zone"),
        "rooms": _("rooms"),
        "now": _("now"),
        "play": _("Play"),
        "pause": _("Pause"),
        "as_of": _("as of %(day)s"),
        "last_days": _("seen in the %(days)s days up to %(until)s"),
        "ever": _("ever seen, up to %(until)s"),
        "of_sweep": _("visited in the sweep %(name)s"),
        "gap_never_visited_buildings": _("Buildings never visited"),
        "gap_unseen_buildings": _("Buildings with rooms not seen in the window"),
        "gap_no_plate_buildings": _("Buildings without the 人口 plate"),
        "gap_zones_without_responsible": _("Zones without a responsible person"),
        "gap_overdue_rooms": _("Rooms past their follow-up date"),
        "gap_rented_rooms_without_occupant": _(
            "Buildings with rented rooms where nobody is registered"
        ),
        "gap_more": _("%(shown)s of %(count)s shown: zoom in or open the list"),
        "children": _("By area, lowest first"),
    }


def _no_territory(language: str) -> str:
    with translation.override(language):
        return str(_("Your account has no territory."))


@login_required
@require_GET
def coverage_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    home = own_node(user)
    if home is None:
        context = {
            "title": _("Coverage"),
            "zh": _no_territory("zh-hans"),
            "en": _no_territory("en"),
        }
        return render(request, "web/coverage/refused.html", context, status=404)
    config = {
        "urls": {
            **_map_urls(),
            "gaps": reverse("coverage-gaps"),
            "heat": reverse("layers:coverage-tile", kwargs={"z": 0, "x": 1, "y": 2}).replace(
                "0/1/2", "{z}/{x}/{y}"
            ),
            "dashboard": reverse("coverage-dashboard"),
            "export_html": reverse("coverage-export-html"),
            "export_png": reverse("coverage-export-png"),
        },
        "basemap": settings.PLATEGRID_BASEMAP,
        "home": home,
        "levels": LEVELS,
        "schemes": list(SCHEMES),
        "gap_kinds": list(KINDS),
        "sweeps": _sweeps(user),
        "words": _words(),
    }
    return render(request, "web/coverage/map.html", {"config": config})


urlpatterns: list[URLPattern] = [
    path("", coverage_page, name="coverage-page"),
]
