"""Pages of the sweeps (清查): the list of sweeps in the user's territory with their progress and
a form to start a new one, and a sweep's page — its plan on the map (teams' routes by day), the
planning jobs with their progress bar, hand edits, coverage per team and the gap lists.

Everything the pages show or change goes through the API (``grid.api.sweeps``, ``grid.api.visits``);
the views only read what the first paint needs, scoped through ``visible_to(user)``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gis.models import Community
from gis.querysets import can_write
from grid.models import PlanReason, Staff, Sweep, SweepTarget, VisitOutcome
from layers import styles

from .views import _client_words, _map_urls


def _progress(sweeps: Any) -> list[dict[str, Any]]:
    """Each sweep with its target rooms, rooms visited (from its sweep counts: a few rows each),
    teams and plan version."""
    rows = sweeps.annotate(
        targets=Coalesce(Sum("counts__targets"), 0),
        visited=Coalesce(Sum("counts__visited"), 0),
    )
    teams = dict(sweeps.annotate(n=Count("teams")).values_list("pk", "n"))
    versions = dict(sweeps.annotate(v=Max("plans__version")).values_list("pk", "v"))
    return [
        {
            "sweep": sweep,
            "teams": teams.get(sweep.pk, 0),
            "version": versions.get(sweep.pk),
            "share": sweep.visited / sweep.targets if sweep.targets else None,
        }
        for sweep in rows
    ]


@login_required
@require_GET
def sweep_index(request: HttpRequest) -> HttpResponse:
    """The sweeps the user can see, newest first, and (for writers) the form of a new sweep."""
    sweeps = Sweep.objects.visible_to(request.user).order_by("closed_at", "-starts_on", "-pk")
    # The communities the user may sweep: those whose register they write.
    communities = [
        c
        for c in Community.objects.visible_to(request.user).order_by("code")
        if can_write(request.user, c.code)
    ]
    staff = (
        Staff.objects.visible_to(request.user)
        .filter(active=True)
        .order_by("name")
        .values("pk", "name", "community__code")
    )
    form = {
        "communities": [
            {
                "code": c.code,
                "name": c.name,
                # Where a team starts by default: a point inside the community (its office).
                "point": [round(v, 7) for v in c.geom.point_on_surface.coords],
            }
            for c in communities
        ],
        "staff": [
            {"id": s["pk"], "name": s["name"], "community": s["community__code"]} for s in staff
        ],
        "urls": {"api": _map_urls()["api"], "sweeps": reverse("sweeps")},
        "words": _client_words()
        | {
            "team": _("Team %(n)s"),
            "created": _("Sweep created; planning has started."),
            "pick_community": _("Choose at least one community."),
        },
    }
    return render(
        request,
        "web/sweeps/index.html",
        {
            "rows": _progress(sweeps),
            "can_create": bool(form["communities"]),
            "targets": SweepTarget.choices,
            "form": form,
        },
    )


@login_required
@require_GET
def sweep_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A sweep on the map: its area, each team's stops and routes by day, the plan's figures and
    versions, planning with a progress bar, hand edits, coverage and gaps (``sweeps.js``)."""
    sweep = get_object_or_404(Sweep.objects.visible_to(request.user), pk=pk)
    # As the API decides (grid.sweeps.sweep_for with Action.WRITE): the sweep's node.
    editable = sweep.closed_at is None and can_write(request.user, sweep.territory_code)
    config = {
        "sweep": {"id": sweep.pk, "name": sweep.name, "closed": sweep.closed_at is not None},
        "can_edit": editable,
        "urls": {**_map_urls(), "field": reverse("field"), "sheets": reverse("sheets")},
        "basemap": settings.PLATEGRID_BASEMAP,
        "team_colours": list(styles.ZONE_COLOURS),
        "outcomes": dict(VisitOutcome.choices),
        "reasons": dict(PlanReason.choices),
        "words": _client_words() | _detail_words(),
    }
    return render(request, "web/sweeps/detail.html", {"sweep": sweep, "config": config})


def _detail_words() -> dict[str, str]:
    return {
        "plan": _("Plan"),
        "rebalance": _("Re-balance"),
        "replan": _("Re-plan what is left"),
        "planning": _("Planning…"),
        "planned": _("New plan version %(v)s."),
        "no_plan": _("No plan yet: press Plan to split the buildings among the teams."),
        "version": _("Version"),
        "team": _("team"),
        "members": _("members"),
        "buildings": _("buildings"),
        "rooms": _("rooms"),
        "days": _("days"),
        "day": _("Day %(d)s"),
        "km": _("km"),
        "hours": _("hours"),
        "visited": _("visited"),
        "to_95": _("left to 95%"),
        "days_at_rate": _("days at the current rate"),
        "no_rate": _("no visit yet"),
        "balance": _("balance (max/mean team hours)"),
        "walk_km": _("walking km"),
        "fallback": _("legs on straight lines"),
        "move_to": _("Move to"),
        "move": _("Move"),
        "up": _("Earlier"),
        "down": _("Later"),
        "edited": _("Saved as plan version %(v)s."),
        "gaps": _("Gaps"),
        "unvisited_rooms": _("target rooms not visited"),
        "unvisited_buildings": _("buildings with no visit"),
        "revisits": _("rooms to revisit"),
        "flagged": _("rooms flagged for the responsible person"),
        "all_teams": _("all teams"),
        "none_left": _("Nothing in this list."),
        "more": _("More"),
        "coverage": _("Coverage"),
        "area": _("zone or community"),
        "start": _("start"),
        "old_version": _("An older version: edits apply to the plan in force."),
        "route_of": _("Route"),
        "print_day": _("Print this day's field pack"),
        "print_team": _("Print the team's field pack (all days)"),
        "closed": _("This sweep is closed."),
        "too_long": _(
            "The longest team walk takes %(days)s working days, but the sweep runs %(window)s "
            "days: add teams, extend the window or plan more hours a day."
        ),
    }
