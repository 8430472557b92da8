"""Every write to zones, staff and assignments, and the reports that check them.

Writes take the acting user (keyword ``actor``; ``None`` for system jobs), check the scope with
``gis.services.require_write``, validate with errors that name the offending zones or buildings and
carry the geometry to show, and save atomically with the actor in the change history.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.gis.db.models.functions import Area, Intersection, PointOnSurface, Transform
from django.contrib.gis.geos import GeometryCollection, GEOSGeometry
from django.db import models, transaction
from django.db.models import Case, Count, Exists, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.crs import metric_srid, to_metric
from gis.exceptions import NotFoundError, PlategridError, TerritoryError
from gis.geometry import clean_geometry
from gis.models import Building, Community, Room, RoomUse
from gis.services import (
    acting,
    apply_data,
    check_code,
    database_rules,
    delete_in_scope,
    require_write,
    save_instance,
)

from . import sql
from .exceptions import (
    AssignmentError,
    BuildingCutError,
    ZoneCodeError,
    ZoneError,
    ZoneOutsideCommunityError,
    ZoneOverlapError,
)
from .models import ZONE_ROLES, Assignment, AssignmentRole, Staff, Zone

Data = Mapping[str, Any]

#: Rooms counted as one household each (there is no resident model yet): lived-in dwellings.
HOUSEHOLD_USES = (RoomUse.OWNER_OCCUPIED, RoomUse.RENTED_WHOLE, RoomUse.RENTED_SHARED)


def _geojson(geom: GEOSGeometry) -> dict[str, Any]:
    return json.loads(geom.json)


def _union_geojson(geometries: list[GEOSGeometry]) -> dict[str, Any]:
    """The union of ``geometries`` (the offending parts an error shows) as GeoJSON."""
    return _geojson(GeometryCollection(*geometries, srid=geometries[0].srid).unary_union)


# ---------------------------------------------------------------------------------------------
# Zones


@transaction.atomic
def save_zone(*, actor: Any, data: Data, instance: Zone | None = None) -> Zone:
    """Create or change a zone after checking scope, shape, community, overlaps and buildings.

    A new zone without a code gets the next free sequence of its community (:func:`next_zone_code`);
    a new zone reusing the code of a retired one continues its version count.
    """
    if instance is not None:
        require_write(actor, instance.community_id)
        if instance.valid_to is not None:
            raise ZoneError(
                _("Zone %(zone)s was retired on %(date)s: edit its current version instead."),
                code="zone_retired",
                zone=instance.code,
                date=instance.valid_to.date().isoformat(),
            )
        community = data.get("community")
        if community is not None and community.code != instance.community_id:
            raise TerritoryError(
                _(
                    "Zone %(zone)s cannot move to another community (%(value)s): retire it and "
                    "draw a new zone there."
                ),
                code="zone_community_immutable",
                field="community",
                zone=instance.code,
                value=community.code,
            )
    if "geom" in data:  # a Polygon or GeoJSON becomes the stored MultiPolygon
        data = {**data, "geom": clean_geometry(data["geom"], geom_type="MultiPolygon")}
    zone = apply_data(instance or Zone(), data)
    zone.geom = clean_geometry(zone.geom, geom_type="MultiPolygon")
    community = zone.community
    require_write(actor, community.code)
    if instance is None:
        if zone.code:
            check_code(
                zone.code, digits=15, parent_code=community.code, label=Zone._meta.verbose_name
            )
        else:
            zone.code = next_zone_code(community)
        previous = Zone.objects.filter(code=zone.code).aggregate(v=models.Max("version"))["v"]
        zone.version = (previous or 0) + 1
    check_zone_inside(zone, community)
    check_zone_overlaps(zone)
    check_buildings_not_cut(zone)
    with acting(actor):
        return save_instance(zone)


def next_zone_code(community: Community) -> str:
    """The community code followed by the sequence after the highest ever used (retired zones'
    codes are not handed to new zones); when 999 is taken, the lowest sequence no current zone
    holds."""
    # Every code is the community's 12 digits and 3 more: the highest code has the highest sequence.
    highest = Zone.objects.filter(community=community).aggregate(code=models.Max("code"))["code"]
    following = int(highest[12:]) + 1 if highest else 1
    if following <= 999:
        return f"{community.code}{following:03d}"
    current = {
        int(c[12:])
        for c in Zone.objects.current().filter(community=community).values_list("code", flat=True)
    }
    free = [n for n in range(1, 1000) if n not in current]
    if not free:
        raise ZoneCodeError(
            _("Community %(community)s has 999 current zones: no zone code is left."),
            community=community.code,
        )
    return f"{community.code}{free[0]:03d}"


def check_zone_inside(zone: Zone, community: Community) -> None:
    """Refuse a zone with more than ``GRID_OUTSIDE_TOLERANCE_M2`` outside its community."""
    # Set operations in the stored SRID (where the shared vertices are identical), the area in
    # metres: reprojecting first would bend straight edges and leave slivers along shared lines.
    outside = zone.geom.difference(community.geom)
    outside_m2 = to_metric(outside).area if not outside.empty else 0.0
    tolerance = settings.GRID_OUTSIDE_TOLERANCE_M2
    if outside_m2 > tolerance:
        raise ZoneOutsideCommunityError(
            _(
                "Zone %(zone)s leaves its community %(community)s: %(area)s m² lie outside (at most "
                "%(tolerance)s m² allowed). Redraw the zone inside the community boundary."
            ),
            field="geom",
            zone=zone.code or zone.name,
            community=f"{community.name} ({community.code})",
            area=f"{outside_m2:.1f}",
            tolerance=f"{tolerance:g}",
            geometry=_geojson(outside),
        )


def check_zone_overlaps(zone: Zone) -> None:
    """Refuse a zone overlapping other current zones of its community by more than
    ``GRID_OVERLAP_TOLERANCE_M2``; the error names them and carries the overlap as GeoJSON."""
    others = (
        Zone.objects.current()
        .filter(community_id=zone.community_id, geom__intersects=zone.geom)
        .exclude(pk=zone.pk)
        .annotate(overlap=Intersection("geom", zone.geom))
        .annotate(overlap_m2=Area(Transform("overlap", metric_srid())))
        .order_by("code")
    )
    tolerance = settings.GRID_OVERLAP_TOLERANCE_M2
    hits = [other for other in others if other.overlap_m2.sq_m > tolerance]
    if not hits:
        return
    raise ZoneOverlapError(
        _(
            "Zone %(zone)s overlaps zones %(others)s by %(area)s m² (at most %(tolerance)s m² "
            "allowed). Move the shared boundary so that each place belongs to one zone."
        ),
        field="geom",
        zone=zone.code or zone.name,
        others=", ".join(other.code for other in hits),
        area=f"{sum(other.overlap_m2.sq_m for other in hits):.1f}",
        tolerance=f"{tolerance:g}",
        geometry=_union_geojson([other.overlap for other in hits]),
    )


def check_buildings_not_cut(zone: Zone) -> None:
    """Refuse a zone boundary that splits a building: more than ``GRID_BUILDING_CUT_TOLERANCE_M2``
    of a footprint on each side of it."""
    srid = metric_srid()
    buildings = (
        Building.objects.filter(footprint__intersects=zone.geom)
        .annotate(
            inside_m2=Area(Transform(Intersection("footprint", zone.geom), srid)),
            total_m2=Area(Transform("footprint", srid)),
        )
        .order_by("pk")
    )
    tolerance = settings.GRID_BUILDING_CUT_TOLERANCE_M2
    cut = [
        b
        for b in buildings
        if b.inside_m2.sq_m > tolerance and b.total_m2.sq_m - b.inside_m2.sq_m > tolerance
    ]
    if not cut:
        return
    raise BuildingCutError(
        _(
            "The boundary of zone %(zone)s cuts through %(count)s building(s): %(buildings)s. "
            "Draw the boundary around each building so that it lies in one zone."
        ),
        field="geom",
        zone=zone.code or zone.name,
        count=len(cut),
        buildings=", ".join(f"{b.name or '#'}[{b.pk}]" for b in cut[:20]),
        geometry=_union_geojson([b.footprint for b in cut]),
    )


@transaction.atomic
def retire_zone(*, actor: Any, zone: Zone) -> Zone:
    """End a zone's current version (``valid_to`` = now), keeping it in history; a re-split
    retires the old zones and saves the new ones, which may reuse the retired codes."""
    require_write(actor, zone.community_id)
    if zone.valid_to is not None:
        return zone
    zone.valid_to = timezone.now()
    with acting(actor):
        return save_instance(zone)


@transaction.atomic
def renumber_zones(*, actor: Any, community: Community) -> dict[str, str]:
    """Give the current zones of ``community`` the sequences 001, 002, … ordered by the point on
    surface of each zone west → east (longitude), ties north → south (latitude descending).

    Codes are rewritten in place (the zone keeps its row, version, history and assignments); the
    rewrite goes through temporary free sequences so that no two current zones ever share a code.
    Returns ``{old code: new code}`` for the zones whose code changed.
    """
    require_write(actor, community.code)
    zones = list(
        Zone.objects.current().filter(community=community).annotate(point=PointOnSurface("geom"))
    )
    zones.sort(key=lambda z: (z.point.x, -z.point.y))
    wanted = {z.pk: f"{community.code}{n:03d}" for n, z in enumerate(zones, start=1)}
    moving = [z for z in zones if z.code != wanted[z.pk]]
    taken = {z.code for z in zones} | set(wanted.values())
    spare = [code for n in range(999, 0, -1) if (code := f"{community.code}{n:03d}") not in taken]
    if len(spare) < len(moving):
        raise ZoneCodeError(
            _("Community %(community)s has too many zones to renumber them."),
            community=community.code,
        )
    if moving:
        temporary = {z.pk: code for z, code in zip(moving, spare, strict=False)}
        final = {z.pk: wanted[z.pk] for z in moving}
        with acting(actor), database_rules():
            # Two statements: the unique index is checked row by row, so codes cannot swap in one.
            for codes in (temporary, final):
                cases = [When(pk=pk, then=Value(code)) for pk, code in codes.items()]
                Zone.objects.filter(pk__in=codes).update(code=Case(*cases))
    return {z.code: wanted[z.pk] for z in moving}


# ---------------------------------------------------------------------------------------------
# Staff and assignments


@transaction.atomic
def save_staff(*, actor: Any, data: Data, instance: Staff | None = None) -> Staff:
    if instance is not None:
        require_write(actor, instance.community.code)
    staff = apply_data(instance or Staff(), data)
    require_write(actor, staff.community.code)
    with acting(actor):
        return save_instance(staff)


@transaction.atomic
def save_assignment(*, actor: Any, data: Data, instance: Assignment | None = None) -> Assignment:
    """Assign staff to a zone or building in a role; the zone or building must be in the staff
    member's community, and the zone current."""
    if instance is not None:
        require_write(actor, instance.staff.community.code)
    assignment = apply_data(instance or Assignment(), data)
    community = assignment.staff.community
    require_write(actor, community.code)
    role = assignment.role
    if role in ZONE_ROLES and assignment.zone is None:
        raise AssignmentError(
            _("A %(role)s is assigned to a zone: choose the zone."),
            code="zone_required",
            field="zone",
            role=AssignmentRole(role).label,
        )
    if role == AssignmentRole.BUILDING_HEAD and assignment.building is None:
        raise AssignmentError(
            _("A building head is assigned to a building: choose the building."),
            code="building_required",
            field="building",
        )
    if role != AssignmentRole.BUILDING_HEAD and assignment.building is not None:
        raise AssignmentError(
            _("Only a building head is assigned to a building: leave the building empty."),
            code="building_not_allowed",
            field="building",
        )
    zone, building = assignment.zone, assignment.building
    if zone is not None and (zone.community_id != community.code or zone.valid_to is not None):
        raise AssignmentError(
            _(
                "Zone %(zone)s is not a current zone of %(community)s, the staff member's community."
            ),
            code="zone_not_in_community",
            field="zone",
            zone=zone.code,
            community=community.code,
        )
    if building is not None and building.community_id != community.pk:
        raise AssignmentError(
            _("Building %(building)s is not in %(community)s, the staff member's community."),
            code="building_not_in_community",
            field="building",
            building=str(building),
            community=community.code,
        )
    if assignment.ends_on is not None and assignment.ends_on < assignment.starts_on:
        raise AssignmentError(
            _("The assignment ends (%(ends)s) before it starts (%(starts)s)."),
            code="ends_before_start",
            field="ends_on",
            ends=assignment.ends_on.isoformat(),
            starts=str(assignment.starts_on),
        )
    with acting(actor):
        return save_instance(assignment)


def scope_code(instance: models.Model) -> str:
    """The community code that decides who may change ``instance``."""
    if isinstance(instance, Zone):
        return instance.community_id
    if isinstance(instance, Staff):
        return instance.community.code
    if isinstance(instance, Assignment):
        return instance.staff.community.code
    raise PlategridError(_("%(value)s cannot be deleted here."), value=type(instance).__name__)


def delete_grid_object(*, actor: Any, instance: models.Model) -> None:
    """Delete a zone, staff member or assignment (a zone still assigned is refused: 409)."""
    delete_in_scope(actor=actor, instance=instance, code=scope_code(instance))


# ---------------------------------------------------------------------------------------------
# Reports


def _community_codes(code: str, user: Any = None) -> list[str]:
    """The codes of the communities under ``code`` (visible to ``user`` when given), in order."""
    if not code.isdigit() or len(code) not in (6, 9, 12):
        raise ZoneError(
            _("%(value)s is not a district, street office or community code (6, 9 or 12 digits)."),
            code="bad_code",
            field="code",
            value=code[:20],
        )
    queryset = Community.objects.filter(code__startswith=code)
    if user is not None:
        queryset = queryset.visible_to(user)
    codes = list(queryset.order_by("code").values_list("code", flat=True))
    if not codes:
        raise NotFoundError(
            _("No community with a code starting %(value)s in your territory."), value=code
        )
    return codes


@dataclass
class ZoneOverlap:
    zones: tuple[str, str]
    area_m2: float
    geometry: dict[str, Any]


@dataclass
class BuildingIssue:
    id: int
    name: str
    footprint_m2: float
    #: Zone codes holding part of the footprint, largest part first.
    zones: list[str]
    #: Area outside the zone that holds most of it (the whole footprint when in no zone).
    outside_m2: float


@dataclass
class CommunityCoverage:
    code: str
    name: str
    zones: int
    area_m2: float
    uncovered_m2: float
    uncovered_geometry: dict[str, Any] | None
    overlaps: list[ZoneOverlap] = field(default_factory=list)
    buildings_in_no_zone: list[BuildingIssue] = field(default_factory=list)
    buildings_cut: list[BuildingIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.uncovered_geometry
            or self.overlaps
            or self.buildings_in_no_zone
            or self.buildings_cut
        )


@dataclass
class CoverageReport:
    code: str
    communities: list[CommunityCoverage]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.communities)


def coverage_check(code: str, *, user: Any = None) -> CoverageReport:
    """Gaps, overlaps, buildings in no zone and buildings cut, for every community whose code
    starts with ``code`` (a district, street office or community; only those visible to ``user``
    when given). Three SQL statements for the whole territory (``grid.sql``)."""
    codes = _community_codes(code, user)
    uncovered_tol = settings.GRID_UNCOVERED_TOLERANCE_M2
    overlap_tol = settings.GRID_OVERLAP_TOLERANCE_M2
    cut_tol = settings.GRID_BUILDING_CUT_TOLERANCE_M2
    report: dict[str, CommunityCoverage] = {}
    for c_code, name, count, area, uncovered, geojson in sql.uncovered_rows(codes):
        shown = geojson if uncovered > uncovered_tol else None
        report[c_code] = CommunityCoverage(
            c_code,
            name,
            count,
            area,
            uncovered if shown else 0.0,
            json.loads(shown) if shown else None,
        )
    for c_code, a, b, area, geojson in sql.overlap_rows(codes):
        if area > overlap_tol:
            report[c_code].overlaps.append(ZoneOverlap((a, b), area, json.loads(geojson)))
    for c_code, pk, name, total, zones, parts in sql.building_zone_rows(codes):
        held = [z for z, part in zip(zones, parts, strict=True) if part > cut_tol]
        main = parts[0] if parts else 0.0
        issue = BuildingIssue(pk, name, total, held, total - main)
        if not held:
            report[c_code].buildings_in_no_zone.append(issue)
        elif total - main > cut_tol:
            report[c_code].buildings_cut.append(issue)
    return CoverageReport(code, list(report.values()))


@dataclass
class Shortage:
    role: str
    needed: int
    present: int

    @property
    def missing(self) -> int:
        return max(self.needed - self.present, 0)


@dataclass
class CommunityStaffing:
    code: str
    name: str
    #: Lived-in dwelling rooms (owner-occupied or rented), one household each.
    households: int
    #: ``households × GRID_HOUSEHOLD_SIZE``, rounded.
    residents: int
    shortages: list[Shortage]
    zones_without_responsible: list[dict[str, Any]] = field(default_factory=list)
    buildings_without_head: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StaffingReport:
    code: str
    communities: list[CommunityStaffing]


def _count(queryset: models.QuerySet[Any], outer: str) -> Any:
    counted = queryset.filter(**{outer: OuterRef("pk")}).values(outer)
    return Coalesce(Subquery(counted.annotate(n=Count("pk")).values("n")[:1]), 0)


def staffing_gaps(code: str, *, user: Any = None) -> StaffingReport:
    """Zones with no current responsible person, buildings with households and no building head,
    and per community the roles short of the seeds' ratios: one yard propagandist per
    ``GRID_RESIDENTS_PER_PROPAGANDIST`` residents, one central household head per
    ``GRID_HOUSEHOLDS_PER_CENTRAL_HEAD`` households, ``GRID_INFORMATION_OFFICERS_PER_COMMUNITY``
    information officers. Households are lived-in dwelling rooms (:data:`HOUSEHOLD_USES`);
    residents are households × ``GRID_HOUSEHOLD_SIZE``. One query per list, not per community."""
    codes = _community_codes(code, user)
    current = Assignment.objects.current()
    households = Room.objects.filter(use__in=HOUSEHOLD_USES)
    rows = (
        Community.objects.filter(code__in=codes)
        .order_by("code")
        .annotate(
            households=_count(households, "building__community"),
            propagandists=_count(
                current.filter(role=AssignmentRole.YARD_PROPAGANDIST), "staff__community"
            ),
            central_heads=_count(
                current.filter(role=AssignmentRole.CENTRAL_HOUSEHOLD_HEAD), "staff__community"
            ),
            officers=_count(
                current.filter(role=AssignmentRole.INFORMATION_OFFICER), "staff__community"
            ),
        )
    )
    size = settings.GRID_HOUSEHOLD_SIZE
    report: dict[str, CommunityStaffing] = {}
    for row in rows:
        residents = round(row.households * size)
        needed = [
            (
                AssignmentRole.YARD_PROPAGANDIST,
                math.ceil(residents / settings.GRID_RESIDENTS_PER_PROPAGANDIST),
                row.propagandists,
            ),
            (
                AssignmentRole.CENTRAL_HOUSEHOLD_HEAD,
                math.ceil(row.households / settings.GRID_HOUSEHOLDS_PER_CENTRAL_HEAD),
                row.central_heads,
            ),
            (
                AssignmentRole.INFORMATION_OFFICER,
                settings.GRID_INFORMATION_OFFICERS_PER_COMMUNITY,
                row.officers,
            ),
        ]
        shortages = [Shortage(str(role), n, have) for role, n, have in needed if have < n]
        report[row.code] = CommunityStaffing(
            row.code, row.name, row.households, residents, shortages
        )
    responsible = current.filter(role=AssignmentRole.RESPONSIBLE, zone=OuterRef("pk"))
    zones = (
        Zone.objects.current()
        .filter(community_id__in=codes)
        .exclude(Exists(responsible))
        .order_by("code")
        .values_list("id", "code", "name", "community_id")
    )
    for pk, zone_code, name, community in zones:
        report[str(community)].zones_without_responsible.append(
            {"id": pk, "code": zone_code, "name": name}
        )
    head = current.filter(role=AssignmentRole.BUILDING_HEAD, building=OuterRef("pk"))
    lived_in = households.filter(building=OuterRef("pk"))
    buildings = (
        Building.objects.filter(community__code__in=codes)
        .filter(Exists(lived_in))
        .exclude(Exists(head))
        .order_by("pk")
        .values_list("id", "name", "community__code")
    )
    for building_pk, building_name, building_community in buildings:
        report[str(building_community)].buildings_without_head.append(
            {"id": building_pk, "name": building_name}
        )
    return StaffingReport(code, list(report.values()))
