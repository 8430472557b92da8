"""A small territory with rooms, visit states, plates and zones for the coverage tile and gap
tests, and the figures the tests expect computed in Python from the rows themselves."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from gis import services as gis_services
from gis.models import RENTED_USES, Building, Room, RoomUse
from grid.models import AssignmentRole, RoomVisitState, VisitOutcome, Zone

from ..conftest import Territory
from ..factories import BuildingFactory, RoomFactory, box, mbox
from ..grid.factories import AssignmentFactory, StaffFactory, draw_zone


@dataclass
class CoverageData:
    territory: Territory
    today: datetime.date
    #: name → building: a1, a2, a3 (a cluster in the home community's west zone), b (alone
    #: in the east zone), c (the away community)
    buildings: dict[str, Building]
    west: Zone  # no responsible person
    east: Zone  # with one
    rooms: dict[str, list[Room]] = field(default_factory=dict)


def _building(lon: float, lat: float, name: str) -> Building:
    return BuildingFactory(footprint=box(lon, lat, lon + 0.0004, lat + 0.0003), name=name)


def _state(room: Room, today: datetime.date, seen_days_ago: int | None, **extra: Any) -> None:
    """A visit state: seen ``seen_days_ago`` days ago (None: visited, never seen)."""
    seen = None if seen_days_ago is None else today - datetime.timedelta(days=seen_days_ago)
    visited = seen or today - datetime.timedelta(days=1)
    RoomVisitState.objects.create(
        room=room,
        last_visited_at=timezone.make_aware(datetime.datetime.combine(visited, datetime.time(10))),
        last_visited_on=visited,
        last_outcome=VisitOutcome.REGISTERED if seen else VisitOutcome.NOT_AT_HOME,
        last_seen_on=seen,
        failed_attempts=0 if seen else 1,
        **extra,
    )


def make_coverage_data(territory: Territory) -> CoverageData:
    today = timezone.localdate()
    home = territory.home
    west = draw_zone(home, mbox(112.10, 32.00, 112.125, 32.05), name="西网格")
    east = draw_zone(home, mbox(112.125, 32.00, 112.15, 32.05), name="东网格")
    staff = StaffFactory(community=home)
    AssignmentFactory(staff=staff, role=AssignmentRole.RESPONSIBLE, zone=east)
    buildings = {
        "a1": _building(112.1200, 32.0200, "甲1栋"),
        "a2": _building(112.1206, 32.0204, "甲2栋"),
        "a3": _building(112.1212, 32.0196, "甲3栋"),
        "b": _building(112.1400, 32.0400, "乙栋"),
        "c": _building(112.1200, 32.0700, "丙栋"),
    }
    data = CoverageData(territory, today, buildings, west, east)
    uses = {
        "a1": [RoomUse.RENTED_WHOLE, RoomUse.RENTED_SHARED, *[RoomUse.OWNER_OCCUPIED] * 4],
        "a2": [RoomUse.RENTED_WHOLE, *[RoomUse.OWNER_OCCUPIED] * 3],
        "a3": [RoomUse.RENTED_SHARED, RoomUse.OWNER_OCCUPIED, RoomUse.VACANT],
        "b": [RoomUse.OWNER_OCCUPIED] * 3,
        "c": [RoomUse.RENTED_WHOLE, *[RoomUse.OWNER_OCCUPIED] * 4],
    }
    for name, building in buildings.items():
        data.rooms[name] = [
            RoomFactory(
                building=building, floor=1 + k // 4, number=f"{1 + k // 4}0{k % 4 + 1}", use=use
            )
            for k, use in enumerate(uses[name])
        ]
    a1, a2, a3, b, c = (data.rooms[n] for n in ("a1", "a2", "a3", "b", "c"))
    past = timezone.now() - datetime.timedelta(hours=5)
    future = timezone.now() + datetime.timedelta(days=2)
    _state(a1[0], today, 2)  # rented, seen this week
    _state(a1[1], today, 20)  # rented, seen this month
    _state(a1[2], today, 60)
    _state(a1[3], today, None, revisit_after=past)  # overdue
    _state(a1[4], today, None, revisit_after=future)  # not yet due
    for room in a2:
        _state(room, today, 1)
    _state(a3[0], today, None, flagged=True)  # flagged, never seen
    _state(b[0], today, 10)
    _state(c[0], today, 3)
    _state(c[1], today, 40, revisit_after=past)  # overdue, in the away community
    # Plates: a2 has the 人口 plate; a1 a plain one; a3 none; c a plain one.
    for k, (name, population) in enumerate((("a1", False), ("a2", True), ("c", False))):
        gis_services.save_door_plate(
            actor=None,
            data={
                "building": buildings[name],
                "road": "人民路",
                "number": str(10 + k),
                "building_number": str(k + 1),
                "population_plate": population,
            },
        )
    return data


# ---- expected figures, from the rows -----------------------------------------------------------


def building_figures(
    building: Building, *, since: datetime.date | None, rented: bool = False
) -> dict[str, Any]:
    """Rooms, rooms seen since ``since`` (None: ever), gaps, ever seen, of a building."""
    rooms = list(Room.objects.filter(building=building))
    if rented:
        rooms = [r for r in rooms if r.use in RENTED_USES]
    states = {s.room_id: s for s in RoomVisitState.objects.filter(room__in=rooms)}
    days = [states[r.pk].last_seen_on for r in rooms if r.pk in states]
    days = [d for d in days if d is not None]
    seen = len([d for d in days if since is None or d >= since])
    return {
        "rooms": len(rooms),
        "seen": seen,
        "gaps": len(rooms) - seen,
        "ever": len(days),
        "last_seen_on": max(days) if days else None,
    }


def since_of(today: datetime.date, days: int | None) -> datetime.date | None:
    return None if days is None else today - datetime.timedelta(days=days - 1)
