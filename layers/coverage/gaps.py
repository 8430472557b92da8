"""Gap layers of the coverage maps: what a territory node still misses, as rows for a paginated
list, a GeoJSON layer or a workbook (docs/coverage.md).

Kinds (:data:`KINDS`):

* ``never_visited_buildings``: buildings with rooms none of which was ever seen;
* ``unseen_buildings``: buildings with rooms not seen in the window (never seen, or last seen
  before its first day), the most gaps first;
* ``no_plate_buildings``: buildings with rented rooms and no door plate with the "人口" plate
  put up (every rented house gets one: Xiangfan's 一牌; the dashboard's plate rate counts the
  same buildings);
* ``zones_without_responsible``: current zones without a current responsible person (责任人)
  (``grid.services.staffing_gaps``'s rule), with their rooms;
* ``overdue_rooms``: rooms whose revisit is due (``revisit_after`` passed) and rooms flagged for
  their responsible person after failed visits;
* ``rented_rooms_without_occupant``: buildings with rented rooms (let whole or shared) in which
  nobody is registered as living now (no current occupancy in the people register), with how
  many, the most first.

Building rows read the per-building figures kept by triggers (``layers.models.BuildingCoverage``);
no query scans visits. A node above the user's territory gives the user's part of it, a node
beside it is not found (``grid.coverage.scope_condition``). The rented rooms without an
occupant read the people register's occupancies (``registry.registers.unoccupied_rented_rooms``,
a count per building) inside ``personal(user)``: the rows are read page by page through
``registry.registers.PersonalRows``, and no personal row leaves the count.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.geos import Polygon
from django.db.models import (
    BooleanField,
    CharField,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from gis.exceptions import InvalidInputError, NotFoundError
from gis.models import Building, DoorPlate, Room
from grid.coverage import check_code, node_name, scope_condition, window_since
from grid.models import Assignment, AssignmentRole, CoverageCount, Zone
from registry.registers import PersonalRows, unoccupied_rented_rooms

KINDS = (
    "never_visited_buildings",
    "unseen_buildings",
    "no_plate_buildings",
    "zones_without_responsible",
    "overdue_rooms",
    "rented_rooms_without_occupant",
)

#: Each kind's columns: row key and Chinese header (the workbook's header row).
_BUILDING_COLUMNS = [
    ("building_id", "楼栋编号"),
    ("name", "楼栋名称"),
    ("address", "标准地址"),
    ("community", "社区代码"),
    ("community_name", "社区"),
    ("rooms", "房间数"),
]
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "never_visited_buildings": [*_BUILDING_COLUMNS, ("last_visited_on", "最近走访（未见到）")],
    "unseen_buildings": [
        *_BUILDING_COLUMNS,
        ("seen", "已走访房间"),
        ("gaps", "未走访房间"),
        ("share", "覆盖率"),
        ("last_seen_on", "最近见到"),
    ],
    "no_plate_buildings": [
        *_BUILDING_COLUMNS,
        ("rented_rooms", "出租屋数"),
        ("last_seen_on", "最近见到"),
    ],
    "zones_without_responsible": [
        ("zone_id", "网格编号"),
        ("code", "网格代码"),
        ("name", "网格名称"),
        ("kind", "类型"),
        ("community", "社区代码"),
        ("community_name", "社区"),
        ("rooms", "房间数"),
    ],
    "overdue_rooms": [
        ("room_id", "房间编号"),
        ("building_id", "楼栋编号"),
        ("address", "楼栋地址"),
        ("door_plate", "门牌"),
        ("floor", "楼层"),
        ("room_number", "房号"),
        ("community", "社区代码"),
        ("community_name", "社区"),
        ("revisit_after", "应复访时间"),
        ("overdue", "逾期"),
        ("flagged", "已报责任人"),
        ("failed_attempts", "连续未见次数"),
        ("last_visited_on", "最近走访"),
        ("last_seen_on", "最近见到"),
    ],
    "rented_rooms_without_occupant": [
        *_BUILDING_COLUMNS,
        ("rented_rooms", "出租屋数"),
        ("unoccupied_rooms", "无登记住户的出租屋"),
        ("last_seen_on", "最近见到"),
    ],
}
TITLES = {
    "never_visited_buildings": "从未走访的楼栋",
    "unseen_buildings": "窗口内有未走访房间的楼栋",
    "no_plate_buildings": "未挂“人口”门牌的出租楼栋",
    "zones_without_responsible": "无责任人的网格",
    "overdue_rooms": "逾期未复访的房间",
    "rented_rooms_without_occupant": "出租屋无登记住户的楼栋",
}


def seen_since(days: str, before: datetime.date | None) -> Any:
    """Days of the sorted date array field ``days`` (``BuildingCoverage.seen``) after
    ``before`` (``None``: every day): ``cardinality - width_bucket(before, days)``."""
    day = Cast(Value(before), DateField())
    found = Func(F(days), function="cardinality", output_field=IntegerField())
    earlier = Func(day, F(days), function="width_bucket", output_field=IntegerField())
    return found - Coalesce(earlier, 0)


class LastDay(Func):
    """The last element of a sorted date array (``NULL`` when empty): ``(days)[cardinality]``."""

    template = "(%(expressions)s]"
    arg_joiner = ")["
    output_field = DateField()

    def __init__(self, days: str) -> None:
        super().__init__(F(days), Func(F(days), function="cardinality"))


@dataclass
class GapList:
    """A gap layer's rows (dicts, ordered; ``geometry`` among them, a GEOS geometry) and what
    they are: the kind, node and window."""

    kind: str
    code: str
    name: str
    days: int | None
    since: datetime.date | None
    rows: QuerySet[Any] | PersonalRows

    @property
    def columns(self) -> list[tuple[str, str]]:
        return COLUMNS[self.kind]

    def as_body(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "name": self.name,
            "days": self.days,
            "since": self.since.isoformat() if self.since else None,
        }


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InvalidInputError(
            _("kind is one of %(choices)s, not %(value)s."),
            code="bad_kind",
            field="kind",
            choices=", ".join(KINDS),
            value=repr(kind)[:40],
        )


def _in_node(code: str, community_path: str, centroid_path: str) -> Q:
    """Rows of buildings in the node: by community code; in a zone, those whose centroid its
    current boundary covers (the area their rooms are counted in, as ``grid_area_code``)."""
    condition = Q(**{f"{community_path}__startswith": code[:12]})
    if len(code) == 15:
        zone = Zone.objects.current().filter(code=code)
        condition &= Q(Exists(zone.filter(geom__covers=OuterRef(centroid_path))))
    return condition


def _buildings(user: Any, code: str, bbox: Polygon | None) -> QuerySet[Building]:
    buildings = Building.objects.filter(
        scope_condition(user, code, "community__code"),
        _in_node(code, "community__code", "centroid"),
        coverage__rooms__gt=0,
    )
    if bbox is not None:
        buildings = buildings.filter(footprint__bboverlaps=bbox)
    return buildings.annotate(
        building_id=F("pk"),
        address=DoorPlate.objects.building_address(OuterRef("pk")),
        community_code=F("community__code"),
        community_name=F("community__name"),
        n_rooms=F("coverage__rooms"),
        geometry=F("centroid"),
    )


_BUILDING_FIELDS = ["building_id", "name", "address", "community_code", "community_name", "n_rooms"]


def _building_rows(
    user: Any, code: str, kind: str, since: datetime.date | None, bbox: Polygon | None
) -> QuerySet[Any]:
    buildings = _buildings(user, code, bbox)
    if kind == "never_visited_buildings":
        visited = Room.objects.filter(building=OuterRef("pk")).values("building")
        last_visited = visited.annotate(day=Max("visit_state__last_visited_on")).values("day")
        return (
            buildings.filter(coverage__seen__len=0)
            .annotate(last_visited_on=Subquery(last_visited[:1]))
            .values(*_BUILDING_FIELDS, "last_visited_on", "geometry")
            .order_by("community_code", "pk")
        )
    if kind == "unseen_buildings":
        before = since - datetime.timedelta(days=1) if since else None
        return (
            buildings.annotate(seen=seen_since("coverage__seen", before))
            .annotate(gaps=F("n_rooms") - F("seen"), last_seen_on=LastDay("coverage__seen"))
            .filter(gaps__gt=0)
            .values(*_BUILDING_FIELDS, "seen", "gaps", "last_seen_on", "geometry")
            .order_by("community_code", "-gaps", "pk")
        )
    if kind == "rented_rooms_without_occupant":
        return (
            buildings.filter(coverage__rented_rooms__gt=0)
            .annotate(
                rented_rooms=F("coverage__rented_rooms"),
                unoccupied_rooms=unoccupied_rented_rooms(OuterRef("pk")),
                last_seen_on=LastDay("coverage__seen"),
            )
            .filter(unoccupied_rooms__gt=0)
            .values(
                *_BUILDING_FIELDS, "rented_rooms", "unoccupied_rooms", "last_seen_on", "geometry"
            )
            .order_by("community_code", "-unoccupied_rooms", "pk")
        )
    plate = DoorPlate.objects.filter(building=OuterRef("pk"), population_plate=True)
    return (
        buildings.filter(coverage__rented_rooms__gt=0)
        .exclude(Exists(plate))
        .annotate(rented_rooms=F("coverage__rented_rooms"), last_seen_on=LastDay("coverage__seen"))
        .values(*_BUILDING_FIELDS, "rented_rooms", "last_seen_on", "geometry")
        .order_by("community_code", "pk")
    )


def _zone_rows(user: Any, code: str, bbox: Polygon | None) -> QuerySet[Any]:
    responsible = Assignment.objects.current().filter(
        role=AssignmentRole.RESPONSIBLE, zone=OuterRef("pk")
    )
    rooms = (
        CoverageCount.objects.filter(area_code=OuterRef("code"))
        .values("area_code")
        .annotate(n=Sum("rooms"))
        .values("n")
    )
    zones = Zone.objects.current().filter(
        scope_condition(user, code, "community__code"),
        community__code__startswith=code[:12],
        code__startswith=code,
    )
    if bbox is not None:
        zones = zones.filter(geom__bboverlaps=bbox)
    return (
        zones.exclude(Exists(responsible))
        .annotate(
            zone_id=F("pk"),
            community_code=F("community_id"),
            community_name=F("community__name"),
            n_rooms=Coalesce(Subquery(rooms[:1]), 0),
            geometry=F("geom"),
        )
        .values(
            "zone_id",
            "code",
            "name",
            "kind",
            "community_code",
            "community_name",
            "n_rooms",
            "geometry",
        )
        .order_by("code")
    )


def _room_rows(user: Any, code: str, now: datetime.datetime, bbox: Polygon | None) -> QuerySet[Any]:
    rooms = Room.objects.filter(
        scope_condition(user, code, "building__community__code"),
        _in_node(code, "building__community__code", "building__centroid"),
        Q(visit_state__revisit_after__lt=now) | Q(visit_state__flagged=True),
    )
    if bbox is not None:
        rooms = rooms.filter(building__footprint__bboverlaps=bbox)
    return (
        rooms.annotate(
            room_id=F("pk"),
            address=DoorPlate.objects.building_address(OuterRef("building_id")),
            plate_address=Subquery(
                DoorPlate.objects.filter(room_id=OuterRef("pk")).values("address")[:1],
                output_field=CharField(),
            ),
            room_number=F("number"),
            community_code=F("building__community__code"),
            community_name=F("building__community__name"),
            revisit_after=F("visit_state__revisit_after"),
            overdue=Coalesce(
                ExpressionWrapper(
                    Q(visit_state__revisit_after__lt=now), output_field=BooleanField()
                ),
                Value(False),
            ),
            flagged=F("visit_state__flagged"),
            failed_attempts=F("visit_state__failed_attempts"),
            last_visited_on=F("visit_state__last_visited_on"),
            last_seen_on=F("visit_state__last_seen_on"),
            geometry=F("building__centroid"),
        )
        .values(
            "room_id",
            "building_id",
            "address",
            "plate_address",
            "floor",
            "room_number",
            "community_code",
            "community_name",
            "revisit_after",
            "overdue",
            "flagged",
            "failed_attempts",
            "last_visited_on",
            "last_seen_on",
            "geometry",
        )
        .order_by(F("revisit_after").asc(nulls_last=True), "room_id")
    )


def gap_list(
    user: Any,
    code: str,
    kind: str,
    *,
    days: int | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    now: datetime.datetime | None = None,
) -> GapList:
    """The gap layer ``kind`` of the node ``code`` (district, street office, community or zone)
    in the user's territory; ``days`` is the window of ``unseen_buildings`` (7, 30, 90, None:
    all time), ``bbox`` (minLon, minLat, maxLon, maxLat) keeps rows whose building (zone)
    reaches into it. InvalidInputError for a bad kind or code, NotFoundError for a node that
    does not exist or lies beside the user's territory."""
    _check_kind(kind)
    code = str(code)
    check_code(code)
    name = node_name(code)
    if not name:
        raise NotFoundError(_("No territory %(value)s in your scope."), value=code)
    scope_condition(user, code)  # a node beside the user's territory: NotFoundError
    box = Polygon.from_bbox(bbox) if bbox else None
    if box is not None:
        box.srid = 4326
    today = timezone.localdate()
    since = window_since(days, today) if days else None
    rows: QuerySet[Any] | PersonalRows
    if kind == "zones_without_responsible":
        rows = _zone_rows(user, code, box)
    elif kind == "overdue_rooms":
        rows = _room_rows(user, code, now or timezone.now(), box)
    elif kind == "rented_rooms_without_occupant":
        # Occupancies are personal: counted inside personal(user), page by page.
        rows = PersonalRows(user, _building_rows(user, code, kind, since, box))
    else:
        rows = _building_rows(user, code, kind, since, box)
    return GapList(kind, code, name, days, since, rows)


#: Row keys of the columns named otherwise in the rows (a model's own names are taken).
_ROW_KEYS = {"community": "community_code", "rooms": "n_rooms", "door_plate": "plate_address"}


def row_body(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row for JSON: the kind's columns (dates as ISO text, times local), ``community`` for
    ``community_code``, ``share`` for unseen buildings; no geometry."""
    body: dict[str, Any] = {}
    for key, _header in COLUMNS[kind]:
        if key == "share":
            value = round(row["seen"] / row["n_rooms"], 4) if row["n_rooms"] else None
        else:
            value = row.get(_ROW_KEYS.get(key, key))
        if isinstance(value, datetime.datetime):
            value = timezone.localtime(value).isoformat()
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        body[key] = value
    return body


def feature(kind: str, row: dict[str, Any], id_key: str) -> dict[str, Any]:
    """A row as a GeoJSON Feature (WGS84 lon/lat): building centroid, zone boundary."""
    geometry = row.get("geometry")
    properties = row_body(kind, row)
    return {
        "type": "Feature",
        "id": properties[id_key],
        "geometry": geometry,
        "properties": properties,
    }


def id_key(kind: str) -> str:
    return COLUMNS[kind][0][0]


def workbook(gaps: GapList, rows: Iterable[dict[str, Any]]) -> bytes:
    """The rows as an XLSX workbook: a title line, the node and window, the Chinese header row,
    one line per row (yes/no as 是/否)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(TITLES[gaps.kind][:31])
    window = f"近{gaps.days}天" if gaps.days else "全部时间"
    sheet.append([TITLES[gaps.kind]])
    sheet.append([f"{gaps.name}（{gaps.code}）", window if gaps.kind == "unseen_buildings" else ""])
    sheet.append([header for _key, header in gaps.columns])
    for row in rows:
        values = []
        for value in row_body(gaps.kind, row).values():
            if isinstance(value, bool):
                value = "是" if value else "否"
            values.append(value)
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
