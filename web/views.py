"""HTML pages: the entry page, the map and the zone editor."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gis.models import Building, BuildingUse, Community, CompoundKind, DoorPlate, Room, RoomUse
from gis.querysets import can_write
from grid.models import AssignmentRole, WorkloadMeasure, ZoneKind
from layers import styles


def index(request: HttpRequest) -> HttpResponse:
    counts = None
    if request.user.is_authenticated:
        user = request.user
        counts = {
            "communities": Community.objects.visible_to(user).count(),
            "buildings": Building.objects.visible_to(user).count(),
            "rooms": Room.objects.visible_to(user).count(),
            "door_plates": DoorPlate.objects.visible_to(user).count(),
        }
    return render(request, "web/index.html", {"counts": counts})


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    """The full-window map: territory, compounds, buildings, plates, building plans, edits."""
    return render(request, "web/map.html", {"config": map_config()})


def map_config() -> dict[str, Any]:
    """What the map's script needs: URLs, the basemap, the code lists and its words."""
    return {
        "urls": {**_map_urls(), "export": reverse("map-export"), "sheets": reverse("sheets")},
        "basemap": settings.PLATEGRID_BASEMAP,
        "building_uses": dict(BuildingUse.choices),
        "room_uses": dict(RoomUse.choices),
        "compound_kinds": dict(CompoundKind.choices),
        "colours": styles.palette(),
        "words": _words(),
    }


def _map_urls() -> dict[str, str]:
    """The API's root and the vector tiles' template, for every map page's script."""
    # Reversed, with the tile's numbers as the placeholders OpenLayers fills in.
    tiles = reverse("layers:tile", kwargs={"z": 0, "x": 1, "y": 2})
    return {
        "api": reverse("me").removesuffix("me/"),
        "tiles": tiles.replace("0/1/2", "{z}/{x}/{y}"),
    }


def _client_words() -> dict[str, str]:
    """The words common.js's API client and both map pages use."""
    return {
        "not_found": _("Not found, or outside your territory."),
        "error": _("The change was refused"),
        "offline": _("The server cannot be reached."),
        "saved": _("Saved."),
        "close": _("Close"),
        "read_only": _("Read-only: outside the territory you may edit."),
    }


def _words() -> dict[str, str]:
    return _client_words() | {
        "print_pack": _("Print field pack"),
        "no_results": _("Nothing found."),
        "boundaries": _("Boundaries"),
        "compounds": _("Compounds"),
        "buildings": _("Buildings"),
        "streets": _("Streets"),
        "plates": _("Door plates"),
        "basemap": _("Intranet basemap"),
        "colour_by": _("Colour buildings by"),
        "by_use": _("use"),
        "by_plate": _("plate status"),
        "plate_none": _("no door plate"),
        "plate_plate": _("door plate"),
        "plate_population": _("door plate and 人口 plate"),
        "district": _("district"),
        "street_office": _("street office"),
        "community": _("community"),
        "building": _("building"),
        "room": _("room"),
        "door_plate": _("door plate"),
        "compound": _("compound"),
        "use": _("use"),
        "floors": _("floors"),
        "floor": _("floor"),
        "area_m2": _("area (m²)"),
        "landlords": _("landlords"),
        "landlord": _("landlord"),
        "entrance": _("entrance (unit)"),
        "unit_label": _("Unit %(number)s"),
        "number": _("room number"),
        "plan": _("Building plan"),
        "plan_note": _("Rooms without a drawn plan are shown as cells."),
        "save": _("Save"),
        "cancel": _("Cancel"),
        "history": _("History"),
        "undo": _("Undo"),
        "undone": _("Undone."),
        "no_history": _("No changes recorded."),
        "by": _("by"),
        "system": _("system"),
        "move_plate": _("Move plate"),
        "move_hint": _("Click the plate's new position on the map (Esc cancels)."),
        "fix_address": _("Fix address"),
        "road": _("road"),
        "door_number": _("door number"),
        "building_number": _("building number"),
        "add_room": _("Add a room"),
        "split_room": _("Split room"),
        "split_numbers": _("Numbers of the two rooms"),
        "population_plate": _("人口 plate"),
        "created": _("created"),
        "deleted": _("deleted"),
    }


@login_required
@require_GET
def grid_edit(request: HttpRequest, code: str) -> HttpResponse:
    """The zone editor of one community: draw, cut, merge, check and save its zones, split it
    automatically, and assign the responsibility chain (``web/static/web/grids.js``)."""
    community = get_object_or_404(Community.objects.visible_to(request.user), code=code)
    return render(
        request,
        "web/grids/edit.html",
        {"community": community, "config": grid_config(request, community)},
    )


def grid_config(request: HttpRequest, community: Community) -> dict[str, Any]:
    return {
        "community": {"id": community.pk, "code": community.code, "name": community.name},
        "can_edit": can_write(request.user, community.code),
        "urls": {
            **_map_urls(),
            "network": reverse("grid-network", kwargs={"code": community.code}),
            "sheets": reverse("sheets"),
        },
        "basemap": settings.PLATEGRID_BASEMAP,
        "zone_colours": list(styles.ZONE_COLOURS),
        "zone_kinds": dict(ZoneKind.choices),
        "roles": dict(AssignmentRole.choices),
        # Every role a zone may hold: all but the building head, who holds a building.
        "chain_roles": [r for r in AssignmentRole if r != AssignmentRole.BUILDING_HEAD],
        "workloads": dict(WorkloadMeasure.choices),
        "words": _grid_words(),
    }


def _grid_words() -> dict[str, str]:
    return _client_words() | {
        "zones": _("Zones"),
        "print_pack": _("Print field pack"),
        "new_zone": _("New zone"),
        "name": _("name"),
        "kind": _("kind"),
        "check": _("Check"),
        "checking": _("Checking…"),
        "overlap": _("Zones %(zones)s overlap by %(area)s m²."),
        "check_ok": _("No overlaps, nothing outside the community, no building cut."),
        "uncovered": _("Not covered by any zone: %(area)s m²"),
        "no_zone": _("Buildings in no zone: %(count)s"),
        "cut": _("Buildings cut by a zone boundary: %(count)s"),
        "pending": _("Save %(count)s changes"),
        "discard_confirm": _("Discard the unsaved changes?"),
        "save_before_renumber": _("Save or discard the changes before renumbering."),
        "renumber_confirm": _(
            "Number the zones 001, 002, … from west to east, then north to south? Their codes "
            "change; history and assignments stay."
        ),
        "renumbered": _("Renumbered: %(count)s codes changed."),
        "retire_confirm": _("Retire zone %(zone)s? Its history and assignments are kept."),
        "draw_hint": _(
            "Click the corners of the new zone; double-click the last one (Esc cancels)."
        ),
        "cut_hint": _(
            "Draw a line across the selected zone; double-click to end it (Esc cancels)."
        ),
        "merge_hint": _("Select two or more neighbouring zones (Shift+click or tap), then Merge."),
        "select_first": _("Select a zone first."),
        "chain": _("Responsibility chain"),
        "no_responsible": _("No responsible person"),
        "save_zone_first": _("Save the zone before assigning people to it."),
        "staff": _("staff member"),
        "role": _("role"),
        "since": _("since"),
        "assign": _("Assign"),
        "new_staff": _("New staff member"),
        "phone": _("phone"),
        "add": _("Add"),
        "end": _("End"),
        "partition": _("Split automatically"),
        "partition_into": _("Split into"),
        "by_count": _("a number of zones"),
        "by_workload": _("zones of a workload"),
        "zone_count": _("number of zones"),
        "per_zone": _("workload per zone"),
        "workload": _("workload"),
        "start": _("Start"),
        "queued": _("Waiting for the worker…"),
        "proposal": _("Proposal"),
        "max_mean": _("balance (max/mean workload)"),
        "pp_median": _("compactness (median Polsby–Popper)"),
        "buildings_cut": _("buildings cut"),
        "apply": _("Replace the current zones with these"),
        "apply_confirm": _(
            "Replace all current zones of this community? They are retired (history kept); "
            "unsaved changes are lost."
        ),
        "discard": _("Discard"),
    }
