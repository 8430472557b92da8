"""HTML pages. The interactive map comes with the map issue; this is the entry page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gis.models import Building, Community, DoorPlate, Room


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
