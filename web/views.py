"""HTML pages: the entry page and the map."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from gis.models import Building, BuildingUse, Community, CompoundKind, DoorPlate, Room, RoomUse
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
    return render(request, "web/map.html", {"map_config": map_config()})


def map_config() -> dict[str, Any]:
    """What the map's script needs: URLs, the basemap, the code lists and its words."""
    # Reversed, with the tile's numbers as the placeholders OpenLayers fills in.
    tiles = reverse("layers:tile", kwargs={"z": 0, "x": 1, "y": 2})
    return {
        "urls": {
            "api": reverse("me").removesuffix("me/"),
            "tiles": tiles.replace("0/1/2", "{z}/{x}/{y}"),
            "export": reverse("map-export"),
        },
        "basemap": settings.PLATEGRID_BASEMAP,
        "building_uses": dict(BuildingUse.choices),
        "room_uses": dict(RoomUse.choices),
        "compound_kinds": dict(CompoundKind.choices),
        "colours": styles.palette(),
        "words": _words(),
    }


def _words() -> dict[str, str]:
    return {
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
        "close": _("Close"),
        "save": _("Save"),
        "cancel": _("Cancel"),
        "history": _("History"),
        "undo": _("Undo"),
        "undone": _("Undone."),
        "saved": _("Saved."),
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
        "read_only": _("Read-only: outside the territory you may edit."),
        "not_found": _("Not found, or outside your territory."),
        "error": _("The change was refused"),
        "offline": _("The server cannot be reached."),
        "population_plate": _("人口 plate"),
        "created": _("created"),
        "deleted": _("deleted"),
    }
