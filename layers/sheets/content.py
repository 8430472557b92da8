"""What a field pack shows, read from the database for one user: a :class:`~.pack.Pack`.

Packs: one team of a sweep (one day, or all its days), the whole sweep (an atlas), one
responsibility zone, one building. Every object is read through ``visible_to(user)``: a
community worker's pack of a street office's sweep holds the stops, rooms and staff of their own
community only, and no route lines (they run past the other communities' buildings, as on the
sweep page). Geometry is transformed to ``settings.METRIC_SRID`` by PostGIS and read as WKB into
shapely in a handful of set-based queries (no query per building), so that a district atlas of
thousands of buildings reads in seconds.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import shapely
from django.conf import settings
from django.contrib.gis.db.models.functions import AsWKB, Transform
from django.db import connection
from django.db.models import Sum
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from gis.address import AddressParts, format_address
from gis.crs import STORAGE_SRID, metric_srid, to_metric, transformed
from gis.exceptions import InvalidInputError, NotFoundError
from gis.geometry import from_shapely, to_shapely
from gis.masking import mask_phone
from gis.models import (
    Building,
    BuildingUse,
    Community,
    Room,
    RoomUse,
    Street,
)
from grid.models import (
    ZONE_ROLES,
    Assignment,
    PlanDay,
    PlanStop,
    Staff,
    Sweep,
    SweepPlan,
    SweepTeam,
    VisitOutcome,
    Zone,
)
from grid.sweeps import sweep_for, team_for, whole_sweep

from .pack import (
    BuildingItem,
    NamedArea,
    NamedLine,
    Pack,
    PackKind,
    Paper,
    PlanFloor,
    PlanRoom,
    RoomRow,
    RouteLeg,
)

#: Footprints within this many metres of the pack's buildings are drawn as context.
CONTEXT_M = 150.0

_ROOM_USES = dict(RoomUse.choices)
_BUILDING_USES = dict(BuildingUse.choices)
#: Outcomes in the register's words: the short ones of its tick boxes (the choices' labels,
#: "seen and registered", do not fit the column).
_OUTCOMES = {
    VisitOutcome.REGISTERED: gettext_lazy("Registered"),
    VisitOutcome.CHANGED: gettext_lazy("Changed"),
    VisitOutcome.MOVED_OUT: gettext_lazy("Moved out"),
    VisitOutcome.VACANT: gettext_lazy("Vacant"),
    VisitOutcome.NOT_AT_HOME: gettext_lazy("Not at home"),
    VisitOutcome.REFUSED: gettext_lazy("Refused"),
    VisitOutcome.ROOM_GONE: gettext_lazy("Room gone"),
    VisitOutcome.NEW_ROOM: gettext_lazy("New room"),
}


def visible(manager: Any, user: Any) -> Any:
    """``manager``'s rows ``user`` may see; all of them for the system (``user`` None: the
    command line without ``--user``)."""
    return manager.all() if user is None else manager.visible_to(user)


def _wkb(value: Any) -> Any:
    return shapely.from_wkb(bytes(value)) if value is not None else None


def building_url(building_id: int) -> str:
    """The building's page in the app (the map with its panel open), for its QR code."""
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{reverse('map')}#b={building_id}"


def _label(road: str | None, number: str | None, building: str | None, fallback: str) -> str:
    """The short door plate printed on the map: "12号3栋", "人民路12号", else the name."""
    if building:
        return format_address(AddressParts(number=number or "", building=building))
    if number:
        return format_address(AddressParts(road=road or "", number=number))
    return fallback


def _read_buildings(ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Building id → footprint (metric), plate, address, community, area code, floors, use. The
    building's plate is the one ``DoorPlate.objects.building_address`` names (no room, no
    entrance first, then the shortest address)."""
    if not ids:
        return {}
    sql = """
        SELECT b.id, ST_AsBinary(ST_Transform(b.footprint, %s)), b.name, b.floors_above, b.use,
               c.name, grid_area_code(b.community_id, b.centroid), p.road, p.number,
               p.building_number, p.address
          FROM geo_building b
          JOIN geo_community c ON c.id = b.community_id
          LEFT JOIN LATERAL (
                SELECT d.road, d.number, d.building_number, d.address
                  FROM geo_doorplate d
                 WHERE d.building_id = b.id AND d.room_id IS NULL
                 ORDER BY d.entrance_id NULLS FIRST, length(d.address), d.id
                 LIMIT 1) p ON true
         WHERE b.id = ANY(%s)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [metric_srid(), list(ids)])
        rows = cursor.fetchall()
    out: dict[int, dict[str, Any]] = {}
    for bid, fp, name, floors, use, community, area, road, number, bnum, address in rows:
        fallback = name or _("building %(id)s") % {"id": bid}
        out[bid] = {
            "footprint": _wkb(fp),
            "name": name,
            "floors": floors,
            "use": str(_BUILDING_USES.get(use, use)),
            "community": community,
            "zone": area if area and len(area) == 15 else "",
            "label": _label(road, number, bnum, fallback),
            "address": address or fallback,
        }
    return out


def _read_rooms(building_ids: Sequence[int], *, sweep: Sweep | None) -> dict[int, list[RoomRow]]:
    """Building id → its rooms (a sweep's target rooms only) in the phone's walking order
    (unit, top floor down, room number), with their door plate and the last visit."""
    if not building_ids:
        return {}
    target = (
        "AND r.id IN (SELECT sr.room_id FROM grid_sweeproom sr WHERE sr.sweep_id = %s)"
        if sweep is not None
        else ""
    )
    sql = """
        SELECT r.building_id, r.id, COALESCE(e.number, ''), r.floor, r.number, r.use,
               COALESCE(d.building_number, bp.building_number), COALESCE(d.entrance_number,
               e.number), COALESCE(d.room_number, r.number), s.last_visited_on, s.last_outcome
          FROM geo_room r
          LEFT JOIN geo_entrance e ON e.id = r.entrance_id
          LEFT JOIN geo_doorplate d ON d.room_id = r.id
          LEFT JOIN LATERAL (
                SELECT p.building_number FROM geo_doorplate p
                 WHERE p.building_id = r.building_id AND p.room_id IS NULL
                 ORDER BY p.entrance_id NULLS FIRST, length(p.address), p.id LIMIT 1) bp ON true
          LEFT JOIN grid_roomvisitstate s ON s.room_id = r.id
         WHERE r.building_id = ANY(%s) TARGET
         ORDER BY r.building_id, COALESCE(e.number, ''), r.floor DESC, r.number, r.id
    """
    sql = sql.replace("TARGET", target)
    params: list[Any] = [list(building_ids)]
    if sweep is not None:
        params.append(sweep.pk)
    rooms: dict[int, list[RoomRow]] = defaultdict(list)
    rented = {"rented_whole", "rented_shared"}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for bid, rid, entrance, floor, number, use, pb, pe, pr, seen, outcome in cursor:
            # The room's own plate; without one, the plate its building's gives it ("1栋2单元501室").
            plate = format_address(AddressParts(building=pb or "", entrance=pe or "", room=pr))
            rooms[bid].append(
                RoomRow(
                    room_id=rid,
                    entrance=entrance,
                    floor=floor,
                    number=number,
                    plate=plate,
                    use=str(_ROOM_USES.get(use, use)),
                    rented=use in rented,
                    last_visit=seen,
                    last_outcome=str(_OUTCOMES.get(outcome, outcome or "")),
                )
            )
    return rooms


def _read_plans(building_ids: Sequence[int]) -> dict[int, tuple[PlanFloor, ...]]:
    """Building id → its floors with room plans (房屋平面图), lowest floor first. In a building
    of several units the rooms are named with their unit ("2-501"): each unit has its 501."""
    rows = (
        Room.objects.filter(building_id__in=building_ids, plan_geom__isnull=False)
        .order_by("building_id", "floor", "entrance__number", "number")
        .values_list("building_id", "floor", "entrance__number", "number", AsWKB("plan_geom"))
    )
    units: dict[int, set[str | None]] = defaultdict(set)
    plans: list[tuple[int, int, str | None, str, Polygon]] = []
    for bid, floor, unit, number, plan in rows:
        outline = _wkb(plan)
        if isinstance(outline, Polygon) and not outline.is_empty:
            units[bid].add(unit)
            plans.append((bid, floor, unit, number, outline))
    floors: dict[int, dict[int, list[PlanRoom]]] = defaultdict(lambda: defaultdict(list))
    for bid, floor, unit, number, outline in plans:
        name = f"{unit}-{number}" if unit and len(units[bid]) > 1 else number
        floors[bid][floor].append(PlanRoom(number=name, outline=outline))
    return {
        bid: tuple(PlanFloor(floor=f, rooms=tuple(rooms)) for f, rooms in sorted(by_floor.items()))
        for bid, by_floor in floors.items()
    }


def _items(
    ids: Sequence[int],
    *,
    sweep: Sweep | None,
    stops: dict[int, tuple[int, int, str]] | None = None,
) -> list[BuildingItem]:
    """The pack's buildings in the order of ``ids``, each with its rooms and plan; ``stops``:
    building id → (seq, day, team name)."""
    data = _read_buildings(ids)
    rooms = _read_rooms(ids, sweep=sweep)
    plans = _read_plans(ids)
    items = []
    for bid in ids:
        row = data.get(bid)
        if row is None:
            continue
        seq, day, team = (stops or {}).get(bid, (None, None, ""))
        items.append(
            BuildingItem(
                id=bid,
                footprint=row["footprint"],
                label=row["label"],
                address=row["address"],
                name=row["name"],
                community=row["community"],
                zone=row["zone"],
                floors=row["floors"],
                use=row["use"],
                url=building_url(bid),
                stop=seq,
                day=day,
                team=team,
                rooms=tuple(rooms.get(bid, ())),
                plan=plans.get(bid, ()),
            )
        )
    return items


def _extent(items: Iterable[BuildingItem], extra: Iterable[BaseGeometry] = ()) -> Polygon:
    geoms = [b.footprint for b in items] + [g for g in extra if g is not None]
    if not geoms:
        raise InvalidInputError(_("The pack holds no building to draw."), code="empty_pack")
    minx, miny, maxx, maxy = shapely.GeometryCollection(geoms).bounds
    return box(minx - CONTEXT_M, miny - CONTEXT_M, maxx + CONTEXT_M, maxy + CONTEXT_M)


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _surroundings(
    user: Any, pack: Pack, extent: Polygon, *, area: BaseGeometry | None = None
) -> None:
    """Context footprints, streets, current zones and communities within ``extent`` (only
    what ``user`` may see), added to ``pack``; ``area`` is the overview (else the extent)."""
    srid = metric_srid()
    own = {b.id for b in pack.buildings}
    where = _storage_box(extent)
    wkb = AsWKB(Transform("footprint", srid))
    pack.context = [
        _wkb(fp)
        for bid, fp in visible(Building.objects, user)
        .filter(footprint__bboverlaps=where)
        .values_list("pk", wkb)
        if bid not in own
    ]
    pack.streets = [
        NamedLine(name, _wkb(line), kind)
        for name, kind, line in visible(Street.objects, user)
        .filter(centerline__bboverlaps=where)
        .order_by("pk")
        .values_list("name", "kind", AsWKB(Transform("centerline", srid)))
    ]
    areas = AsWKB(Transform("geom", srid))
    pack.zones = [
        NamedArea(code, name, _wkb(geom))
        for code, name, geom in visible(Zone.objects, user)
        .current()
        .filter(geom__bboverlaps=where)
        .order_by("code")
        .values_list("code", "name", areas)
    ]
    pack.communities = [
        NamedArea(code, name, _wkb(geom))
        for code, name, geom in visible(Community.objects, user)
        .filter(geom__bboverlaps=where)
        .order_by("code")
        .values_list("code", "name", areas)
    ]
    pack.overview = area if area is not None else extent


def _storage_box(extent: Polygon) -> Any:
    """The metric ``extent`` as a GEOS polygon in the storage SRID (for ``bboverlaps``)."""
    return transformed(from_shapely(extent, srid=metric_srid()), STORAGE_SRID)


def _metric(geom: Any) -> BaseGeometry:
    """A GEOS geometry of the storage SRID in metric metres, as shapely."""
    return to_shapely(to_metric(geom))


def _date(value: datetime.date) -> str:
    return formats.date_format(value, "Y-m-d")


# ---- sweeps ----------------------------------------------------------------------------------


def plan_of(sweep: Sweep) -> SweepPlan:
    """The sweep's plan in force; a refusal when it has none yet."""
    plan = sweep.plans.order_by("-version").first()
    if plan is None:
        raise InvalidInputError(
            gettext_lazy("Sweep “%(name)s” has no plan yet: plan it first."),
            code="not_planned",
            name=sweep.name,
        )
    return plan


def require_day(plan: SweepPlan, team: SweepTeam, day: int) -> None:
    """A refusal unless ``team`` has a day ``day`` in ``plan``."""
    if not PlanDay.objects.filter(plan=plan, team=team, day=day).exists():
        raise InvalidInputError(
            gettext_lazy("Team %(team)s has no day %(day)s in the plan."),
            code="no_such_day",
            field="day",
            team=team.name,
            day=day,
        )


def sweep_pack(
    user: Any,
    sweep_id: Any,
    *,
    team_id: Any = None,
    day: int | None = None,
    paper: Paper = Paper.AUTO,
) -> Pack:
    """The pack of one team of a sweep (``day``: one day of its route, else all its days), or
    with no team the whole sweep's atlas (every team, every day)."""
    sweep = sweep_for(user, sweep_id)
    plan = plan_of(sweep)
    team = team_for(sweep, team_id) if team_id is not None else None
    in_scope = visible(Building.objects, user)
    stops_qs = plan.stops.filter(building__in=in_scope).select_related("team")
    days_qs = PlanDay.objects.filter(plan=plan)
    if team is not None:
        stops_qs = stops_qs.filter(team=team)
        days_qs = days_qs.filter(team=team)
    if day is not None:
        if team is None:
            raise InvalidInputError(
                gettext_lazy("A day is chosen for one team: choose the team too."),
                code="day_without_team",
                field="day",
            )
        require_day(plan, team, day)
        stops_qs = stops_qs.filter(day=day)
        days_qs = days_qs.filter(day=day)
    stop_rows: list[PlanStop] = list(stops_qs.order_by("team_id", "seq"))
    stops = {s.building_id: (s.seq, s.day, s.team.name) for s in stop_rows}
    items = _items([s.building_id for s in stop_rows], sweep=sweep, stops=stops)
    plan_days = list(days_qs.select_related("team").order_by("team_id", "day"))
    routes = (
        [RouteLeg(d.team.name, d.day, _metric(d.route)) for d in plan_days if d.route is not None]
        if user is None or whole_sweep(user, sweep)
        else []
    )
    start: BaseGeometry | None = None
    start_name = ""
    if team is not None:
        start = _metric(team.start)
        start_name = team.start_name
    if team is None:
        title = sweep.name
        kind = PackKind.SWEEP
    elif day is None:
        title = _("%(sweep)s · %(team)s") % {"sweep": sweep.name, "team": team.name}
        kind = PackKind.TEAM_DAY
    else:
        title = _("%(sweep)s · %(team)s · day %(day)s") % {
            "sweep": sweep.name,
            "team": team.name,
            "day": day,
        }
        kind = PackKind.TEAM_DAY
    pack = Pack(
        kind=kind,
        title=title,
        made_on=timezone.localdate(),
        buildings=items,
        routes=routes,
        start=start,
        start_name=start_name,
        paper=paper,
    )
    pack.facts = _sweep_facts(user, sweep, plan, team, day)
    totals = days_qs.aggregate(walk=Sum("walk_m"), work=Sum("work_min"))
    pack.totals = _totals(items, walk_m=totals["walk"], work_min=totals["work"])
    area = _metric(sweep.area)
    _surroundings(user, pack, _extent(items, [start] if start is not None else []), area=area)
    return pack


def _sweep_facts(
    user: Any, sweep: Sweep, plan: SweepPlan, team: SweepTeam | None, day: int | None
) -> list[tuple[str, str]]:
    facts = [
        (_("Sweep"), sweep.name),
        (_("Window"), f"{_date(sweep.starts_on)} — {_date(sweep.ends_on)}"),
        (_("Plan version"), str(plan.version)),
    ]
    teams = [team] if team is not None else list(sweep.teams.order_by("pk"))
    members = visible(Staff.objects, user)
    for t in teams:
        names = "、".join(
            t.members.filter(pk__in=members).order_by("name", "pk").values_list("name", flat=True)
        )
        facts.append((_("Team %(name)s") % {"name": t.name}, names or "—"))
    if team is not None:
        facts.append((_("Starts at"), team.start_name or "—"))
    if day is not None:
        facts.append((_("Day"), str(day)))
    return facts


def _totals(
    items: Sequence[BuildingItem], *, walk_m: float | None = None, work_min: float | None = None
) -> list[tuple[str, str]]:
    rooms = sum(len(b.rooms) for b in items)
    rented = sum(1 for b in items for r in b.rooms if r.rented)
    totals = [
        (_("Buildings"), str(len(items))),
        (_("Rooms"), str(rooms)),
        (_("Rented rooms"), str(rented)),
    ]
    if walk_m is not None:
        totals.append((_("Walking"), f"{walk_m / 1000:.1f} km"))
    if work_min is not None:
        totals.append((_("Hours"), f"{work_min / 60:.1f} h"))
    return totals


# ---- zones and buildings ---------------------------------------------------------------------


def _chain(user: Any, zone: Zone, on: datetime.date) -> list[tuple[str, str]]:
    """The zone's responsibility chain as cover facts: role → names with masked phones."""
    rows = (
        visible(Assignment.objects, user)
        .current(on)
        .filter(zone__code=zone.code, zone__valid_to__isnull=True)
        .select_related("staff")
        .order_by("role", "staff__name", "pk")
    )
    people: dict[str, list[str]] = defaultdict(list)
    for a in rows:
        phone = mask_phone(a.staff.phone) if a.staff.phone else ""
        people[a.role].append(f"{a.staff.name} {phone}".strip())
    return [(str(role.label), "、".join(people.get(role, [])) or "—") for role in ZONE_ROLES]


def zone_for(user: Any, code: Any) -> Zone:
    """The current zone ``code`` as ``user`` sees it; :class:`NotFoundError` when they do not."""
    zone = visible(Zone.objects, user).current().filter(code=str(code)[:15]).first()
    if zone is None:
        raise NotFoundError(
            gettext_lazy("No current zone %(value)s in your territory."), value=repr(code)[:30]
        )
    return zone


def building_for(user: Any, pk: Any) -> Building:
    """The building ``pk`` as ``user`` sees it; :class:`NotFoundError` when they do not (or
    ``pk`` is no id)."""
    is_id = isinstance(pk, int) or (isinstance(pk, str) and pk.isascii() and pk.isdigit())
    building = (
        visible(Building.objects, user).filter(pk=pk).select_related("community").first()
        if is_id
        else None
    )
    if building is None:
        raise NotFoundError(
            gettext_lazy("No building %(value)s in your territory."), value=repr(pk)[:30]
        )
    return building


def zone_pack(user: Any, code: str, *, paper: Paper = Paper.AUTO) -> Pack:
    """The pack of a current responsibility zone, for its responsible person: its buildings by
    address, all their rooms, the chain on the cover."""
    zone = zone_for(user, code)
    inside = _fetch(
        """SELECT b.id FROM geo_building b
             WHERE b.community_id = (SELECT id FROM geo_community WHERE code = %s)
               AND grid_area_code(b.community_id, b.centroid) = %s""",
        [zone.code[:12], zone.code],
    )
    ids = (
        visible(Building.objects, user)
        .filter(pk__in=[r[0] for r in inside])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    items = _items(list(ids), sweep=None)
    items.sort(key=lambda b: (b.address, b.id))
    today = timezone.localdate()
    pack = Pack(
        kind=PackKind.ZONE,
        title=_("Zone %(code)s %(name)s") % {"code": zone.code, "name": zone.name},
        made_on=today,
        buildings=items,
        paper=paper,
    )
    community = Community.objects.filter(code=zone.code[:12]).first()
    pack.facts = [
        (_("Zone"), f"{zone.code} {zone.name}"),
        (_("Community"), community.name if community else zone.code[:12]),
        *_chain(user, zone, today),
    ]
    pack.totals = _totals(items)
    area = _metric(community.geom) if community else _metric(zone.geom)
    _surroundings(user, pack, _extent(items, [_metric(zone.geom)]), area=area)
    return pack


def building_pack(user: Any, building_id: Any, *, paper: Paper = Paper.AUTO) -> Pack:
    """The pack of one building: its sheet, its register and its plans."""
    building = building_for(user, building_id)
    items = _items([building.pk], sweep=None)
    item = items[0]
    pack = Pack(
        kind=PackKind.BUILDING,
        title=item.address,
        made_on=timezone.localdate(),
        buildings=[item],
        paper=paper,
    )
    pack.facts = [
        (_("Address"), item.address),
        (_("Community"), item.community),
        (_("Zone"), item.zone or "—"),
        (_("Floors"), str(item.floors)),
        (_("Use"), item.use),
    ]
    pack.totals = _totals(items)
    _surroundings(user, pack, _extent(items), area=_metric(building.community.geom))
    return pack
