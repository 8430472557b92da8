"""The field-pack page (打印图册): choose what to print — a team's day (or all its days) of a
sweep, a whole sweep as an atlas, a responsibility zone or one building — and the paper, submit,
watch the job's progress bar, then download the PDF and the GeoPackage (QField). Below, the user's
own packs, newest first.

Everything is submitted and polled through the API (``layers.api``: ``/api/sheets/``); the view
reads only what the first paint needs, scoped through ``visible_to(user)``: the sweeps with their
teams and planned days, the current zones, the building named in the query string, and the
user's packs. Read-only accounts see their packs but no form (the API refuses them a POST).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import F, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from gis.models import Building, DoorPlate
from gis.querysets import writes_somewhere
from grid.models import PlanDay, Sweep, SweepPlan, SweepTeam, Zone
from layers.api import job_body, own_packs
from layers.models import PackKindChoice, PaperChoice

from .views import _client_words, _map_urls

#: How many of the user's sweeps the form offers (the newest, open ones first).
SWEEP_CHOICES = 100


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None


def _sweeps(user: Any) -> list[dict[str, Any]]:
    """The sweeps ``user`` sees, each with its teams and their days in the plan in force (none
    before the first plan). Four queries whatever the number of sweeps."""
    sweeps = list(
        Sweep.objects.visible_to(user)
        .order_by(F("closed_at").desc(nulls_first=True), "-starts_on", "-pk")
        .values("pk", "name", "starts_on", "closed_at")[:SWEEP_CHOICES]
    )
    ids = [s["pk"] for s in sweeps]
    teams: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for pk, sweep_id, name in (
        SweepTeam.objects.filter(sweep_id__in=ids)
        .order_by("pk")
        .values_list("pk", "sweep_id", "name")
    ):
        teams[sweep_id].append({"id": pk, "name": name, "days": []})
    # The plan in force is each sweep's latest version (content.plan_of).
    plans = dict(
        SweepPlan.objects.filter(sweep_id__in=ids)
        .order_by("sweep_id", "-version")
        .distinct("sweep_id")
        .values_list("pk", "sweep_id")
    )
    days: dict[int, list[int]] = defaultdict(list)
    for team_id, day in (
        PlanDay.objects.filter(plan_id__in=list(plans))
        .order_by("team_id", "day")
        .values_list("team_id", "day")
    ):
        days[team_id].append(day)
    for rows in teams.values():
        for team in rows:
            team["days"] = days.get(team["id"], [])
    planned = set(plans.values())
    return [
        {
            "id": s["pk"],
            "name": s["name"],
            "starts_on": s["starts_on"],
            "closed": s["closed_at"] is not None,
            "planned": s["pk"] in planned,
            "teams": teams.get(s["pk"], []),
        }
        for s in sweeps
    ]


def _zones(user: Any) -> list[dict[str, str]]:
    rows = (
        Zone.objects.visible_to(user)
        .current()
        .order_by("code")
        .values_list("code", "name", "community__name")
    )
    return [{"code": code, "name": name, "community": community} for code, name, community in rows]


def _building(user: Any, pk: int | None) -> dict[str, Any] | None:
    if pk is None:
        return None
    building = (
        Building.objects.visible_to(user)
        .filter(pk=pk)
        .select_related("community")
        .annotate(address=DoorPlate.objects.building_address(OuterRef("pk")))
        .first()
    )
    if building is None:
        return None
    return {
        "id": building.pk,
        # As the pack's title prints it: the building's plate, else its name.
        "address": building.address or building.name or _("building %(id)s") % {"id": pk},
        "community": building.community.name,
        "map": f"{reverse('map')}#b={building.pk}",
    }


def _prefill(request: HttpRequest) -> dict[str, Any]:
    """What the query string asks for: ``?sweep=&team=&day=`` (a team's day; ``day`` absent or
    empty: all its days), ``?sweep=`` alone (the whole sweep), ``?zone=``, ``?building=``;
    ``kind=`` and ``paper=`` override."""
    query = request.GET
    sweep, team, day = _int(query.get("sweep")), _int(query.get("team")), _int(query.get("day"))
    building, zone = _int(query.get("building")), (query.get("zone") or "")[:15]
    kind = query.get("kind")
    if kind not in PackKindChoice.values:
        if building is not None:
            kind = PackKindChoice.BUILDING
        elif zone:
            kind = PackKindChoice.ZONE
        elif sweep is not None and team is None:
            kind = PackKindChoice.SWEEP
        else:
            kind = PackKindChoice.TEAM_DAY
    paper = query.get("paper")
    return {
        "kind": str(kind),
        "sweep": sweep,
        "team": team,
        "day": day,
        "zone": zone,
        "building": building,
        "paper": paper if paper in PaperChoice.values else PaperChoice.AUTO.value,
    }


@login_required
@require_GET
def sheet_page(request: HttpRequest) -> HttpResponse:
    """The form of a new pack (for accounts that may submit) and the user's packs."""
    user = request.user
    writer = writes_somewhere(user)
    prefill = _prefill(request)
    packs = [job_body(job) for job in own_packs(user)]
    config: dict[str, Any] = {
        "prefill": prefill,
        "packs": packs,
        "sweeps": _sweeps(user) if writer else [],
        "zones": _zones(user) if writer else [],
        "building": _building(user, prefill["building"]) if writer else None,
        "urls": {"api": _map_urls()["api"]},
        "words": _client_words() | _words(),
    }
    context = {
        "config": config,
        "can_submit": writer,
        "kinds": PackKindChoice.choices,
        "papers": PaperChoice.choices,
        "building": config["building"],
        "prefill": prefill,
    }
    return render(request, "web/sheets/index.html", context)


def _plural(one: str, other: str) -> dict[str, str]:
    """A count's two forms for the script (English has two; Chinese one, the same for both):
    ``one`` and ``other`` are ``ngettext(…, 1)`` and ``ngettext(…, 2)`` (written out at each call,
    so that makemessages finds them)."""
    return {"one": one, "other": other}


def _words() -> dict[str, Any]:
    return {
        "all_days": _("all days"),
        "day": _("Day %(d)s"),
        "days": _plural(
            ngettext("%(n)s day", "%(n)s days", 1), ngettext("%(n)s day", "%(n)s days", 2)
        ),
        "not_planned": _("not planned yet"),
        "closed": _("closed"),
        "no_team": _("This sweep has no team."),
        "no_sweep": _("No sweep in your territory yet."),
        "no_zone": _("No zone in your territory yet."),
        "pick_sweep": _("Choose a sweep."),
        "pick_team": _("Choose a team."),
        "pick_zone": _("Choose a zone."),
        "pick_building": _("Enter a building number, or open a building on the map."),
        "zone_missing": _("Zone %(code)s is not a current zone of your territory."),
        "submitted": _("Pack submitted: it is being made."),
        "same_job": _("The same pack is already being made."),
        "refused": _("Your account may not print field packs (read-only)."),
        "pdf": _("PDF"),
        "gpkg": _("GeoPackage (QField)"),
        "pages": _plural(
            ngettext("%(n)s page", "%(n)s pages", 1), ngettext("%(n)s page", "%(n)s pages", 2)
        ),
        "sheets": _plural(
            ngettext("%(n)s map sheet", "%(n)s map sheets", 1),
            ngettext("%(n)s map sheet", "%(n)s map sheets", 2),
        ),
        "seconds": _("%(s)s s"),
        "no_packs": _("No field pack yet."),
        "paper_auto": _("paper chosen by the extent"),
        "failed": _("The pack failed"),
        "zone_of": _("zone %(code)s"),
        "building_of": _("building %(id)s"),
    }
