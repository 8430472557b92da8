"""A field pack as plain data: what the renderers draw and the GeoPackage holds.

No Django and no database here. Geometries are shapely, in metres of the metric SRID
(``settings.METRIC_SRID``, x east, y north); room plans are in metres of the building's own frame.
Every string is final text (names as stored, phones masked); the renderers escape nothing, PDF
text needs no escaping.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from enum import StrEnum

from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry


class PackKind(StrEnum):
    TEAM_DAY = "team_day"  # one team's route on one day of a sweep (or all its days)
    ZONE = "zone"  # a responsibility zone, for its responsible person
    BUILDING = "building"  # one building
    SWEEP = "sweep"  # the whole sweep: every team, every day (an atlas)


class Paper(StrEnum):
    AUTO = "auto"
    A4 = "a4"
    A3 = "a3"


@dataclass(frozen=True)
class RoomRow:
    """One line of the register: a room to visit."""

    room_id: int
    entrance: str  # unit (单元) number, "" when none
    floor: int
    number: str  # room number as on the door ("501")
    plate: str  # the room's door plate, short ("3栋2单元501室"): its own, else from its building's
    use: str  # the use's label ("住宅")
    rented: bool
    last_visit: datetime.date | None
    last_outcome: str  # label of the last visit's outcome, "" when never visited


@dataclass(frozen=True)
class PlanRoom:
    number: str  # as printed: the room number, with its unit in a building of several ("2-501")
    outline: Polygon  # metres, the building's own frame


@dataclass(frozen=True)
class PlanFloor:
    floor: int
    rooms: tuple[PlanRoom, ...]


@dataclass(frozen=True)
class BuildingItem:
    """A building of the pack (its rooms are on the register pages)."""

    id: int
    footprint: Polygon
    label: str  # the number printed on the map: the building's door plate, short ("12号3栋")
    address: str  # its full standard address ("樊城区…人民路12号3栋")
    name: str
    community: str  # community name
    zone: str  # zone code or ""
    floors: int
    use: str  # label
    url: str  # its page in the app (for the QR code)
    stop: int | None = None  # order on the route (1-based, counted over the pack) or None
    day: int | None = None  # sweep day of that stop
    team: str = ""  # team name (whole-sweep atlases colour by team)
    rooms: tuple[RoomRow, ...] = ()
    plan: tuple[PlanFloor, ...] = ()  # floors with room plans, lowest first; () when none


@dataclass(frozen=True)
class NamedLine:
    name: str
    line: LineString
    kind: str = ""  # street kind ("main", "secondary", "alley", …)


@dataclass(frozen=True)
class NamedArea:
    code: str
    name: str
    geom: BaseGeometry  # Polygon or MultiPolygon


@dataclass(frozen=True)
class RouteLeg:
    """The walking route of one team on one day, as drawn (along the streets)."""

    team: str
    day: int
    line: LineString


@dataclass
class Pack:
    """Everything one PDF (and one GeoPackage) shows."""

    kind: PackKind
    title: str  # "2026年冬季清查 · 一组 · 第2天"
    made_on: datetime.date
    # The cover's fields, in order: (label, value), e.g. ("清查", name), ("成员", "张三、李四").
    facts: list[tuple[str, str]] = field(default_factory=list)
    # The cover's totals: (label, value), e.g. ("楼栋", "23"), ("步行", "4.2 km").
    totals: list[tuple[str, str]] = field(default_factory=list)
    # The pack's buildings, in route order when there is a route (stop 1, 2, …), else by address.
    buildings: list[BuildingItem] = field(default_factory=list)
    # Footprints around them that are not part of the pack, drawn lightly for orientation.
    context: list[Polygon] = field(default_factory=list)
    streets: list[NamedLine] = field(default_factory=list)
    zones: list[NamedArea] = field(default_factory=list)
    communities: list[NamedArea] = field(default_factory=list)
    routes: list[RouteLeg] = field(default_factory=list)
    start: Point | None = None  # where the team starts (service station)
    start_name: str = ""
    # The whole area the pack is part of (the sweep's or the community's), for the cover's
    # overview and each sheet's inset; the pack's own part is ``buildings``.
    overview: BaseGeometry | None = None
    paper: Paper = Paper.AUTO
