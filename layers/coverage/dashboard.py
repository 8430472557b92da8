"""The dashboard of a territory node (district, street office, community or zone): the seeds'
measures with their targets, each linked to the coverage map and to the list behind it, the
sweeps in progress, and the same core figures per child node (docs/coverage.md).

Words and targets are the seeds' (../shared/domain): the information coverage rate (信息覆盖率;
Xinyu raised it from 85% to over 95%), visits (走访), rooms past their follow-up date (逾期),
the "人口" door plate every rented house gets (一牌), zones with their responsible person (责任人)
and the staffing ratios of ``grid.services.staffing_gaps``.

Coverage is read from ``CoverageCount`` (all windows in one query; ``territory_coverage`` checks
the code and scope and names the children); visits through the index (community_code,
visited_at), one range per community of the node; overdue and flagged rooms from the node's
rooms; the plate rate from ``layers.models.BuildingCoverage``; the landlord contract rate from
the people register (``registry.contracts.contract_rate``, counts read inside
``personal(user)``); buildings without a head are counted in the database. Nothing scans
every visit or every room state of the city.

A node above the user's territory shows the user's part of it (as ``territory_coverage``); a node
beside it is a :class:`NotFoundError`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlencode

from django.db import connection
from django.db.models import CharField, Count, F, Func, Q, Sum
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gis.exceptions import NotFoundError
from gis.models import Community, District, StreetOffice
from gis.querysets import territory_prefixes
from grid import coverage as grid_coverage
from grid import services as grid_services
from grid.models import CoverageCount, Sweep, Zone
from registry import contracts

from .choropleth import LEVEL_OF

#: The information coverage rate to reach (Xinyu: from 85% to over 95%).
COVERAGE_TARGET = grid_coverage.TARGET_SHARE
#: Every rented house gets the "人口" plate (Xiangfan's 一牌).
PLATE_TARGET = 1.0
#: Every landlord of a rented room signs the responsibility contract (治安责任书).
CONTRACT_TARGET = 1.0
#: Coverage windows of the dashboard (None: ever), the first being the headline one.
WINDOWS: tuple[int | None, ...] = (30, 7, 90, None)
#: Sweeps in progress shown at most.
SWEEPS_SHOWN = 20

#: Territory levels by the length of their codes (the choropleth's).
LEVELS = LEVEL_OF
CHILD_LENGTH = {6: 9, 9: 12, 12: 15}


def level_label(level: str) -> str:
    return {
        "district": _("district"),
        "street_office": _("street office"),
        "community": _("community"),
        "zone": _("zone"),
    }[level]


# ---------------------------------------------------------------------------------------------
# Links


def map_url(code: str, *, days: int | None = 30, gaps: str = "", sweep: int | None = None) -> str:
    """The coverage map page (``/coverage/``) on ``code``, in the window (``days``, or a sweep)
    with the gap layer ``gaps`` drawn (the page's query string: code, days, sweep, gaps)."""
    base = reverse("coverage-dashboard").removesuffix("dashboard/")
    query: dict[str, Any] = {"code": code}
    if sweep is not None:
        query["sweep"] = sweep
    else:
        query["days"] = days if days else "all"
    if gaps:
        query["gaps"] = gaps
    return f"{base}?{urlencode(query)}"


def gaps_url(code: str, kind: str, **extra: Any) -> str:
    """A gap list of ``/api/coverage/gaps/`` (never_visited_buildings, unseen_buildings,
    no_plate_buildings, zones_without_responsible, overdue_rooms)."""
    base = reverse("coverage-dashboard-api").removesuffix("dashboard/")
    return f"{base}gaps/?{urlencode({'code': code, 'kind': kind, **extra})}"


def dashboard_page_url(code: str) -> str:
    return f"{reverse('coverage-dashboard')}?{urlencode({'code': code})}"


def staffing_url(code: str) -> str:
    return f"{reverse('staffing-gaps')}?{urlencode({'code': code[:12]})}"


def contract_rate_url(code: str) -> str:
    """The contract rate per community (``/api/registry/contract-rate/``)."""
    return f"{reverse('contract-rate')}?{urlencode({'code': code[:12]})}"


# ---------------------------------------------------------------------------------------------
# Figures per area


@dataclass
class Figures:
    """The core figures of a node or a child node."""

    code: str
    name: str
    rooms: int = 0
    seen: dict[str, int] = field(default_factory=dict)  # window key ("7", "30", "90", "all")
    visits_week: int = 0
    visits_last_week: int = 0
    overdue: int = 0
    flagged: int = 0
    rented_buildings: int = 0
    plated_buildings: int = 0
    staff_missing: int | None = 0
    zones: int = 0
    zones_without_responsible: int = 0
    buildings_without_head: int = 0
    # Landlords of rented rooms and those with a valid responsibility contract (None: not
    # counted at that level, a zone).
    landlords: int | None = 0
    landlords_signed: int = 0

    def share(self, window: str) -> float | None:
        return _share(self.seen.get(window, 0), self.rooms)

    @property
    def plate_rate(self) -> float | None:
        return _share(self.plated_buildings, self.rented_buildings)

    @property
    def landlord_contract_rate(self) -> float | None:
        if self.landlords is None:
            return None
        return _share(self.landlords_signed, self.landlords)


def _share(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def window_key(days: int | None) -> str:
    return str(days) if days else "all"


def scope_prefixes(user: Any, code: str) -> list[str]:
    """The code prefixes of ``code`` the user reads: ``[code]`` inside their territory, their own
    territory codes under it when ``code`` is above; NotFoundError beside it."""
    grid_coverage.scope_condition(user, code)  # raises NotFoundError beside the territory
    prefixes = territory_prefixes(user)
    if prefixes is None or any(code.startswith(p) for p in prefixes):
        return [code]
    return [p for p in prefixes if p.startswith(code)]


@dataclass(frozen=True)
class NodeScope:
    """The communities of a node the user reads (their ids for buildings, their codes for
    visits) and whether figures are split by zone (a community or zone node)."""

    code: str
    community_ids: list[int]
    community_codes: list[str]

    @property
    def zones(self) -> bool:
        return len(self.code) >= 12

    def params(self) -> dict[str, Any]:
        return {
            "communities": self.community_ids,
            "community_codes": self.community_codes,
            "zones": self.zones,
        }


def node_scope(user: Any, code: str) -> NodeScope:
    """The node's communities in the user's scope (a zone's: its community); NotFoundError beside
    the user's territory."""
    condition = Q()
    for prefix in scope_prefixes(user, code):
        condition |= Q(code__startswith=prefix[:12])
    rows = list(Community.objects.filter(condition).order_by("code").values_list("id", "code"))
    return NodeScope(code, [pk for pk, _code in rows], [c for _pk, c in rows])


def _week_bounds(today: datetime.date) -> tuple[datetime.datetime, ...]:
    """Last Monday 00:00, this Monday 00:00 and tomorrow 00:00 (local time)."""
    tz = timezone.get_current_timezone()
    monday = today - datetime.timedelta(days=today.weekday())

    def midnight(day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(), tz)

    return (
        midnight(monday - datetime.timedelta(days=7)),
        midnight(monday),
        midnight(today + datetime.timedelta(days=1)),
    )


#: The buildings of the node (those of its communities), each with its area: the current zone
#: holding its representative point (the coverage counts' rule), else its community, when the
#: node is a community or a zone; its community otherwise. Parameters: ``NodeScope.params()``.
BUILDINGS_SQL = """
    SELECT b.id, CASE WHEN %(zones)s THEN grid_area_code(b.community_id, b.centroid)
                      ELSE c.code END::text AS area
      FROM geo_building b JOIN geo_community c ON c.id = b.community_id
     WHERE b.community_id = ANY (%(communities)s::bigint[])
"""

#: Buildings with rented rooms (``layers.models.BuildingCoverage.rented_rooms``, kept by triggers:
#: the gap list ``no_plate_buildings`` counts the same buildings) and those of them with the
#: "人口" plate put up, per area.
_PLATES_SQL = f"""
    WITH b AS ({BUILDINGS_SQL})
    SELECT b.area, count(*),
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM geo_doorplate d
                                           WHERE d.building_id = b.id AND d.population_plate))
      FROM b JOIN layers_buildingcoverage bc ON bc.building_id = b.id
     WHERE bc.rented_rooms > 0
     GROUP BY b.area
"""  # noqa: S608 - BUILDINGS_SQL is a constant

#: Rooms overdue for a revisit and rooms flagged, per area: read from the node's buildings and
#: their rooms (the room's visit state by its key), not from every such state of the city.
_ROOM_STATE_SQL = f"""
    WITH b AS ({BUILDINGS_SQL})
    SELECT b.area, count(*) FILTER (WHERE s.revisit_after < %(now)s),
           count(*) FILTER (WHERE s.flagged)
      FROM b JOIN geo_room r ON r.building_id = b.id
      JOIN grid_roomvisitstate s ON s.room_id = r.id
     WHERE s.revisit_after < %(now)s OR s.flagged
     GROUP BY b.area
"""  # noqa: S608 - BUILDINGS_SQL is a constant


def room_states(scope: NodeScope, now: datetime.datetime) -> list[tuple[str, int, int]]:
    """Rooms of the node overdue for a revisit at ``now`` and rooms flagged, per area: (area,
    overdue, flagged)."""
    rows = fetch_rows(_ROOM_STATE_SQL, {**scope.params(), "now": now})
    return [(area, int(overdue), int(flagged)) for area, overdue, flagged in rows]


#: Visits from ``start`` to ``end``, those from ``split`` on and those before, by community (the
#: index (community_code, visited_at): one range of it per community) and, for a community or
#: zone, by the area of their building (none: the building is gone).
_VISITS_SQL = """
    SELECT CASE WHEN %(zones)s THEN coalesce(grid_area_code(b.community_id, b.centroid),
                                             v.community_code)
                ELSE v.community_code END::text AS area,
           count(*) FILTER (WHERE v.visited_at >= %(split)s),
           count(*) FILTER (WHERE v.visited_at < %(split)s)
      FROM grid_visit v LEFT JOIN geo_building b ON %(zones)s AND b.id = v.building_id
     WHERE v.community_code = ANY (%(community_codes)s::text[])
       AND v.visited_at >= %(start)s AND v.visited_at < %(end)s
     GROUP BY 1
"""


def visit_counts(
    scope: NodeScope,
    start: datetime.datetime,
    end: datetime.datetime,
    split: datetime.datetime | None = None,
) -> list[tuple[str, int, int]]:
    """Visits recorded in [start, end) in the node, per area: (area, from ``split`` on, before
    ``split``); without ``split`` all of them are in the first count."""
    params = {**scope.params(), "start": start, "end": end, "split": split or start}
    return [(area, int(a), int(b)) for area, a, b in fetch_rows(_VISITS_SQL, params)]


def fetch_rows(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class Row(Protocol):
    """What the collector sums into: the dashboard's :class:`Figures` or the monthly report's
    rows, each with its node's code and the staff missing (None: not counted at that level)."""

    code: str
    staff_missing: int | None


RowT = TypeVar("RowT", bound=Row)


class Collector(Generic[RowT]):
    """Sums figures by area code into the node's total and its children (by code prefix; areas
    of no zone into the community's own row, as ``territory_coverage`` does)."""

    def __init__(self, code: str, total: RowT, children: list[RowT]) -> None:
        self.code = code
        self.total = total
        self.children = {c.code: c for c in children}
        self.child_length = CHILD_LENGTH.get(len(code))

    def targets(self, area: str) -> list[RowT]:
        if not area.startswith(self.code):
            return []
        found = [self.total]
        if self.child_length is not None:
            child = self.children.get(area[: self.child_length]) or self.children.get(area)
            if child is not None:
                found.append(child)
        return found

    def add(self, area: str, **values: int) -> None:
        for figures in self.targets(area):
            for name, value in values.items():
                setattr(figures, name, getattr(figures, name) + value)


# ---------------------------------------------------------------------------------------------
# The dashboard


def _node(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": grid_coverage.node_name(code),
        "level": LEVELS[len(code)],
        "level_label": level_label(LEVELS[len(code)]),
    }


def breadcrumb(code: str) -> list[dict[str, Any]]:
    """The nodes from the district down to ``code``, with their names."""
    codes = [code[:n] for n in (6, 9, 12, 15) if n <= len(code)]
    names: dict[str, str] = {}
    names.update(District.objects.filter(code__in=codes).values_list("code", "name"))
    names.update(StreetOffice.objects.filter(code__in=codes).values_list("code", "name"))
    names.update(Community.objects.filter(code__in=codes).values_list("code", "name"))
    if len(code) == 15:
        names.update(Zone.objects.current().filter(code=code).values_list("code", "name"))
    return [
        {
            "code": c,
            "name": names.get(c, ""),
            "level": LEVELS[len(c)],
            "level_label": level_label(LEVELS[len(c)]),
            "url": dashboard_page_url(c),
        }
        for c in codes
    ]


def node_figures(
    user: Any, code: str, *, today: datetime.date | None = None
) -> tuple[Figures, list[Figures]]:
    """The node's figures and its children's (street offices, communities or zones; "no zone"
    last)."""
    today = today or timezone.localdate()
    # Validates the code (400) and the scope (404) first; names the node and its children.
    headline = grid_coverage.territory_coverage(user, code, days=30)
    total = Figures(code, headline.name)
    children = [Figures(c.code, c.name) for c in headline.children]
    _window_coverage(user, code, today, total, {c.code: c for c in children})
    collector = Collector(code, total, children)
    # The node's communities: a zone's is its community, filtered by the zone's area below.
    scope = node_scope(user, code)
    for area, rented, plated in fetch_rows(_PLATES_SQL, scope.params()):
        collector.add(area, rented_buildings=rented, plated_buildings=plated)
    for area, overdue, flagged in room_states(scope, timezone.now()):
        collector.add(area, overdue=overdue, flagged=flagged)
    last_monday, monday, tomorrow = _week_bounds(today)
    for area, week, last_week in visit_counts(scope, last_monday, tomorrow, monday):
        collector.add(area, visits_week=week, visits_last_week=last_week)

    _staffing(user, code, collector)
    _landlord_contracts(user, code, collector, today)
    return total, children


def _landlord_contracts(
    user: Any, code: str, collector: Collector[Figures], today: datetime.date
) -> None:
    """Landlords of rented rooms (let whole or shared) and those holding a landlord
    responsibility contract valid today, per community (``registry.contracts.contract_rate``,
    read inside ``personal(user)``: counts only). A landlord belongs to a community, not to a
    zone: a zone has no figure, and a community's figure is not split by zone."""
    if len(code) == 15:
        collector.total.landlords = None
        return
    try:
        rate = contracts.contract_rate(user, code, on=today)
    except NotFoundError:  # a node without communities (the scope was checked before)
        return
    for row in rate.communities:
        if len(code) < 12:
            collector.add(row.code, landlords=row.landlords, landlords_signed=row.landlords_signed)
        else:
            collector.total.landlords = (collector.total.landlords or 0) + row.landlords
            collector.total.landlords_signed += row.landlords_signed
    if len(code) == 12:
        for child in collector.children.values():
            child.landlords = None


def _window_coverage(
    user: Any, code: str, today: datetime.date, total: Figures, children: dict[str, Figures]
) -> None:
    """Rooms and rooms seen in each window of :data:`WINDOWS` (``territory_coverage``'s rule:
    the last ``days`` days, today included) of the node and of each child, in one query over
    the coverage counts (a sum filtered per window) instead of one ``territory_coverage`` per
    window."""
    rows = CoverageCount.objects.filter(
        grid_coverage.scope_condition(user, code), area_code__startswith=code
    )
    keys = [window_key(days) for days in WINDOWS]
    sums: dict[str, Any] = {"n_rooms": Sum("rooms")}
    for days, key in zip(WINDOWS, keys, strict=True):
        if days is None:
            seen = Q(last_visited_on__isnull=False)
        else:
            seen = Q(last_visited_on__gte=grid_coverage.window_since(days, today))
        sums[f"n_seen_{key}"] = Sum("rooms", filter=seen)
    child_length = CHILD_LENGTH.get(len(code), len(code))
    grouped = (
        rows.annotate(child=Substr("area_code", 1, child_length))
        .order_by()
        .values("child")
        .annotate(**sums)
        .values_list("child", *sums)
    )
    total.seen = dict.fromkeys(keys, 0)
    for child in children.values():
        child.seen = dict.fromkeys(keys, 0)
    for child_code, rooms, *seen_counts in grouped:
        # A community's rooms in no zone have the community's code: its "no zone" child.
        found = [total] + ([children[child_code]] if child_code in children else [])
        for figures in found:
            figures.rooms += rooms or 0
            for key, n in zip(keys, seen_counts, strict=True):
                figures.seen[key] += n or 0


def add_staffing_gaps(report: Any, code: str, collector: Collector[Any]) -> None:
    """Staff missing by the seeds' ratios and zones without a responsible person of a staffing
    report (``grid.services.staffing_gaps``), summed into the figures of the node ``code``: the
    ratios are a community's, so a community's figure is not split by zone and a zone has none."""
    for community in report.communities:
        missing = sum(s.missing for s in community.shortages)
        if len(code) < 12:
            collector.add(community.code, staff_missing=missing)
        elif len(code) == 12:
            collector.total.staff_missing = (collector.total.staff_missing or 0) + missing
        for zone in community.zones_without_responsible:
            collector.add(zone["code"], zones_without_responsible=1)
    if len(code) == 15:
        collector.total.staff_missing = None
    if len(code) >= 12:
        for child in collector.children.values():
            child.staff_missing = None


def _staffing(user: Any, code: str, collector: Collector[Figures]) -> None:
    """The staffing report of the node's communities, summed into the figures: staff missing by
    the seeds' ratios (per community: none for a zone), zones (current) and those without a
    responsible person, buildings with households and no building head (counted by area in the
    database, not listed)."""
    report = grid_services.staffing_gaps(code[:12], user=user, list_buildings=False)
    zone_rows = Zone.objects.current().filter(
        grid_coverage.scope_condition(user, code, "code"), code__startswith=code
    )
    for zone_code in zone_rows.values_list("code", flat=True):
        collector.add(zone_code, zones=1)
    add_staffing_gaps(report, code, collector)
    # A community's or zone's buildings by their area (zone, else community), others' by community.
    area: Any = (
        Func(F("community_id"), F("centroid"), function="grid_area_code", output_field=CharField())
        if len(code) >= 12
        else F("community__code")
    )
    heads = grid_services.buildings_without_head([c.code for c in report.communities])
    for building_area, n in (
        heads.annotate(area=area).order_by().values("area").annotate(n=Count("pk"))
    ).values_list("area", "n"):
        collector.add(str(building_area), buildings_without_head=n)


def _sweeps(user: Any, code: str, today: datetime.date) -> list[dict[str, Any]]:
    """The sweeps in progress (started, not ended, not closed) whose area reaches the node, with
    the node's part of their coverage (``grid.coverage.sweep_coverage``, per area)."""
    holders = [code[:n] for n in (6, 9, 12) if n < len(code)]
    sweeps = (
        Sweep.objects.visible_to(user)
        .filter(closed_at__isnull=True, starts_on__lte=today, ends_on__gte=today)
        .filter(Q(territory_code__startswith=code) | Q(territory_code__in=holders))
        .order_by("ends_on", "pk")[:SWEEPS_SHOWN]
    )
    rows = []
    for sweep in sweeps:
        figures = grid_coverage.sweep_coverage(user, sweep, today=today)
        mine = [a for a in figures["areas"] if str(a["code"]).startswith(code)]
        if len(code) == 15:  # rooms of a zone's community in no zone are not the zone's
            mine = [a for a in mine if a["code"] == code]
        targets = sum(a["targets"] for a in mine)
        if not targets:
            continue
        visited = sum(a["visited"] for a in mine)
        share = _share(visited, targets)
        rows.append(
            {
                "id": sweep.pk,
                "name": sweep.name,
                "starts_on": sweep.starts_on.isoformat(),
                "ends_on": sweep.ends_on.isoformat(),
                "days_elapsed": figures["sweep"]["days_elapsed"],
                "targets": targets,
                "visited": visited,
                "revisits": sum(a["revisits"] for a in mine),
                "flagged": sum(a["flagged"] for a in mine),
                "value": share,
                "target": COVERAGE_TARGET,
                "status": _status(share, COVERAGE_TARGET),
                "links": {
                    "map": map_url(code, sweep=sweep.pk),
                    "list": (
                        reverse("sweep-gaps", kwargs={"pk": sweep.pk}) + "?kind=unvisited_rooms"
                    ),
                    "page": reverse("sweep-page", kwargs={"pk": sweep.pk}),
                },
            }
        )
    return rows


def _status(value: float | None, target: float | None, *, higher: bool = True) -> str | None:
    if value is None or target is None:
        return None
    good = value >= target if higher else value <= target
    return "ok" if good else "below_target"


def _measure(
    key: str,
    label: str,
    value: float | int | None,
    *,
    numerator: int | None = None,
    denominator: int | None = None,
    target: float | int | None = None,
    higher: bool = True,
    unit: str = "count",
    map_link: str | None = None,
    list_link: str | None = None,
    note: str = "",
) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "unit": unit,
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "target": target,
        # Whether a higher value is better (coverage, plates) or a lower one (gaps).
        "higher_is_better": higher,
        "status": _status(value, target, higher=higher),
        "links": {"map": map_link, "list": list_link},
        "note": note,
    }


def coverage_label(days: int | None) -> str:
    if days is None:
        return _("Rooms ever seen")
    return _("Information coverage rate (%(days)s days)") % {"days": days}


def measures(code: str, total: Figures) -> list[dict[str, Any]]:
    """The measures of the node from its figures."""
    rows = []
    for days in WINDOWS:
        key = window_key(days)
        rows.append(
            _measure(
                f"coverage_{key}",
                coverage_label(days),
                total.share(key),
                numerator=total.seen.get(key, 0),
                denominator=total.rooms,
                # No target for a week: building heads walk their buildings weekly, not every room.
                target=COVERAGE_TARGET if days != 7 else None,
                unit="share",
                map_link=map_url(code, days=days),
                list_link=(
                    gaps_url(code, "unseen_buildings", days=days)
                    if days
                    else gaps_url(code, "never_visited_buildings")
                ),
                note=_("Rooms seen (a conclusive visit) in the window, out of all rooms.")
                if days
                else _("Rooms seen at least once, out of all rooms."),
            )
        )
    rows += [
        _measure(
            "visits_week",
            _("Visits this week"),
            total.visits_week,
            map_link=map_url(code, days=7),
            note=_("Visits recorded from Monday to today, failed ones included."),
        ),
        _measure(
            "visits_last_week",
            _("Visits last week"),
            total.visits_last_week,
            map_link=map_url(code, days=7),
            note=_("Visits recorded from Monday to Sunday of last week."),
        ),
        _measure(
            "overdue_rooms",
            _("Rooms overdue for a revisit"),
            total.overdue,
            denominator=total.rooms,
            map_link=map_url(code, gaps="overdue_rooms"),
            list_link=gaps_url(code, "overdue_rooms"),
            note=_("Rooms whose revisit after a failed visit is past due."),
        ),
        _measure(
            "flagged_rooms",
            _("Rooms flagged for the responsible person"),
            total.flagged,
            denominator=total.rooms,
            map_link=map_url(code, gaps="overdue_rooms"),
            list_link=gaps_url(code, "overdue_rooms"),
            note=_("Rooms not at home or refused too many times in a row."),
        ),
        _measure(
            "plate_rate",
            _("“人口” plate rate"),
            total.plate_rate,
            numerator=total.plated_buildings,
            denominator=total.rented_buildings,
            target=PLATE_TARGET,
            unit="share",
            map_link=map_url(code, gaps="no_plate_buildings"),
            list_link=gaps_url(code, "no_plate_buildings"),
            note=_("Buildings with rented rooms that have the “人口” plate put up."),
        ),
    ]
    if total.landlords is not None:
        rows.append(
            _measure(
                "landlord_contract_rate",
                _("Landlord contract rate"),
                total.landlord_contract_rate,
                numerator=total.landlords_signed,
                denominator=total.landlords,
                target=CONTRACT_TARGET,
                unit="share",
                list_link=contract_rate_url(code),
                note=_(
                    "Landlords of rented rooms (let whole or shared) holding a valid landlord "
                    "responsibility contract (治安责任书)."
                ),
            )
        )
    if total.staff_missing is not None:
        rows.append(
            _measure(
                "staffing_gaps",
                _("Staff missing by the ratios"),
                total.staff_missing,
                target=0,
                higher=False,
                map_link=map_url(code, gaps="zones_without_responsible"),
                list_link=staffing_url(code),
                note=_(
                    "Yard propagandists (1 per 3,000 residents), central household heads "
                    "(1 per 100 households) and information officers (2 per community) missing."
                ),
            )
        )
    rows += [
        _measure(
            "zones_without_responsible",
            _("Zones without a responsible person"),
            total.zones_without_responsible,
            denominator=total.zones,
            target=0,
            higher=False,
            map_link=map_url(code, gaps="zones_without_responsible"),
            list_link=gaps_url(code, "zones_without_responsible"),
            note=_("Current zones with no current responsible person (责任人)."),
        ),
        _measure(
            "buildings_without_head",
            _("Buildings without a building head"),
            total.buildings_without_head,
            target=0,
            higher=False,
            list_link=staffing_url(code),
            note=_("Buildings with households and no current building head (楼栋长)."),
        ),
    ]
    return rows


def child_body(child: Figures, parent: str) -> dict[str, Any]:
    """A child node's row; the rooms of a community in no zone have the community's code."""
    level = LEVELS[len(child.code)]
    no_zone = child.code == parent
    return {
        "code": child.code,
        "name": child.name,
        "level": "no_zone" if no_zone else level,
        "rooms": child.rooms,
        "seen": dict(child.seen),
        "coverage": {key: child.share(key) for key in child.seen},
        "coverage_status": _status(child.share("30"), COVERAGE_TARGET),
        "visits_week": child.visits_week,
        "visits_last_week": child.visits_last_week,
        "overdue": child.overdue,
        "flagged": child.flagged,
        "rented_buildings": child.rented_buildings,
        "plated_buildings": child.plated_buildings,
        "plate_rate": child.plate_rate,
        "landlords": child.landlords,
        "landlords_signed": child.landlords_signed if child.landlords is not None else None,
        "landlord_contract_rate": child.landlord_contract_rate,
        "staff_missing": child.staff_missing,
        "zones": child.zones,
        "zones_without_responsible": child.zones_without_responsible,
        "buildings_without_head": child.buildings_without_head,
        "links": {
            "dashboard": None if no_zone else dashboard_page_url(child.code),
            "map": map_url(child.code),
        },
    }


def dashboard(user: Any, code: str, *, today: datetime.date | None = None) -> dict[str, Any]:
    """The dashboard of the node ``code`` for ``user``: its measures, the sweeps in progress
    and the core figures per child node. ``today`` sets the weeks and the sweeps in progress."""
    today = today or timezone.localdate()
    total, children = node_figures(user, code, today=today)
    prefixes = territory_prefixes(user)
    partial = prefixes is not None and not any(code.startswith(p) for p in prefixes)
    node = _node(code)
    node["name"] = node["name"] or total.name
    node["parent"] = code[: {6: 0, 9: 6, 12: 9, 15: 12}[len(code)]] or None
    return {
        "node": node,
        "partial": partial,
        "today": today.isoformat(),
        "breadcrumb": breadcrumb(code),
        "measures": measures(code, total),
        "sweeps": _sweeps(user, code, today),
        "children_level": LEVELS.get(CHILD_LENGTH.get(len(code), 0)),
        "children": [child_body(c, code) for c in children],
        "links": {"map": map_url(code)},
    }


def own_node(user: Any) -> str | None:
    """The user's own territory node: their single grant's code, else the longest code all their
    grants share (a district for a superuser: the first one)."""
    prefixes = territory_prefixes(user)
    if prefixes is None:
        return District.objects.order_by("code").values_list("code", flat=True).first()
    if not prefixes:
        return None
    shared = prefixes[0]
    for p in prefixes[1:]:
        while not p.startswith(shared):
            shared = shared[:-1]
    for n in (12, 9, 6):
        if len(shared) >= n:
            return shared[:n]
    return prefixes[0]
