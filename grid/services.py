"""Every write to zones, staff and assignments, and the reports that check them.

Writes take the acting user (keyword ``actor``; ``None`` for system jobs), check the scope with
``gis.services.require_write``, validate with errors that name the offending zones or buildings and
carry the geometry to show, and save atomically with the actor in the change history.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.gis.db.models.functions import (
    Area,
    AsGeoJSON,
    Intersection,
    PointOnSurface,
    Transform,
)
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
    require_write,
    save_instance,
)

from . import coverage, sql
from .exceptions import (
    AssignmentError,
    BuildingCutError,
    ZoneCodeError,
    ZoneError,
    ZoneOutsideCommunityError,
    ZoneOverlapError,
)
from .models import ZONE_ROLES, Assignment, AssignmentRole, Staff, Zone, ZoneKind

Data = Mapping[str, Any]

#: Rooms counted as one household each (there is no resident model yet): lived-in dwellings.
HOUSEHOLD_USES = (RoomUse.OWNER_OCCUPIED, RoomUse.RENTED_WHOLE, RoomUse.RENTED_SHARED)


def community_in_scope(actor: Any, code: Any) -> Community:
    """The community with the 12-digit ``code`` in ``actor``'s territory (``None``: the system,
    no limit); :class:`NotFoundError` when there is none, or ``code`` is no such code."""
    communities = Community.objects.all() if actor is None else Community.objects.visible_to(actor)
    is_code = isinstance(code, str) and code.isascii() and code.isdigit() and len(code) == 12
    place = communities.filter(code=code).first() if is_code else None
    if place is None:
        raise NotFoundError(
            _("No community with the code %(value)s in your territory."),
            field="community",
            value=repr(code)[:30],
        )
    return place


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
    zone = prepare_zone(actor=actor, data=data, instance=instance)
    problems = zone_problems(zone)
    if problems:
        raise problems[0]
    with acting(actor):
        saved = save_instance(zone)
    coverage.zones_changed(saved.community_id)  # rooms counted by zone (grid.coverage)
    return saved


def prepare_zone(*, actor: Any, data: Data, instance: Zone | None = None) -> Zone:
    """``instance`` (or a new zone) with ``data`` applied, not saved and not validated: scope
    checked, geometry cleaned, a new zone numbered and versioned. :func:`save_zone` and
    :func:`apply_zone_changes` share it."""
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
    if "geom" in data or instance is None:
        # Cleaned once, before it is set: a Polygon or GeoJSON becomes the stored MultiPolygon
        # (the field takes nothing else); a stored geometry was cleaned when it was saved.
        data = {**data, "geom": clean_geometry(data.get("geom"), geom_type="MultiPolygon")}
    zone = apply_data(instance or Zone(), data)
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
    return zone


def zone_problems(zone: Zone, *, exclude: Collection[int] = ()) -> list[ZoneError]:
    """Every reason ``zone`` cannot stand as drawn, in the order of the checks (inside its
    community, no overlap with current zones other than those in ``exclude``, no building cut);
    empty when it can. :func:`save_zone` raises the first, :func:`apply_zone_changes` reports
    them all."""
    checks: list[Callable[[], None]] = [
        lambda: check_zone_inside(zone, zone.community),
        lambda: check_zone_overlaps(zone, exclude=exclude),
        lambda: check_buildings_not_cut(zone),
    ]
    problems = []
    for check in checks:
        try:
            check()
        except ZoneError as error:
            problems.append(error)
    return problems


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
        error = ZoneOutsideCommunityError(
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
        error.zones = (zone.code,)
        raise error


def check_zone_overlaps(zone: Zone, *, exclude: Collection[int] = ()) -> None:
    """Refuse a zone overlapping other current zones of its community (but those whose ids are
    in ``exclude``) by more than ``GRID_OVERLAP_TOLERANCE_M2``; the error names them and carries
    the overlap as GeoJSON."""
    others = (
        Zone.objects.current()
        .filter(community_id=zone.community_id, geom__intersects=zone.geom)
        .exclude(pk=zone.pk)
        .exclude(pk__in=list(exclude))
        .annotate(overlap=Intersection("geom", zone.geom))
        .annotate(overlap_m2=Area(Transform("overlap", metric_srid())))
        .order_by("code")
    )
    tolerance = settings.GRID_OVERLAP_TOLERANCE_M2
    hits = [other for other in others if other.overlap_m2.sq_m > tolerance]
    if not hits:
        return
    error = ZoneOverlapError(
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
    error.zones = (zone.code, *(other.code for other in hits))
    raise error


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
    error = BuildingCutError(
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
    error.zones = (zone.code,)
    raise error


@transaction.atomic
def retire_zone(*, actor: Any, zone: Zone) -> Zone:
    """End a zone's current version (``valid_to`` = now), keeping it in history; a re-split
    retires the old zones and saves the new ones, which may reuse the retired codes."""
    require_write(actor, zone.community_id)
    if zone.valid_to is not None:
        return zone
    zone.valid_to = timezone.now()
    with acting(actor):
        saved = save_instance(zone)
    coverage.zones_changed(saved.community_id)
    return saved


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
        coverage.zones_changed(community.code)
    return {z.code: wanted[z.pk] for z in moving}


# ---------------------------------------------------------------------------------------------
# Several zone changes at once (the zone-drawing page)


@dataclass
class ZoneChangeProblem:
    """One reason the changes cannot be saved: the error, the zones it is about (codes, or
    ``new-1``, ``new-2``… for zones the request creates) and the index of the change."""

    error: ZoneError
    zones: list[str]
    change: int


@dataclass
class ZoneChangeResult:
    ok: bool
    saved: bool
    problems: list[ZoneChangeProblem]
    #: The community's coverage after the changes (as they would be, for a dry run).
    coverage: CommunityCoverage
    #: The community's current zones after the changes, a GeoJSON FeatureCollection.
    zones: dict[str, Any]


@dataclass
class _Change:
    index: int
    kind: str  # "update", "create" or "retire"
    data: dict[str, Any]
    zone_id: int = 0  # 0: a new zone


def _bad_change(index: int, message: Any, field_name: str = "", **params: Any) -> ZoneError:
    where = f"changes.{index}" + (f".{field_name}" if field_name else "")
    return ZoneError(message, code="bad_change", field=where, change=index, **params)


def _read_changes(changes: Any) -> list[_Change]:
    """The changes of a request, checked for shape (not for geometry rules)."""
    if not isinstance(changes, list) or not changes:
        raise ZoneError(
            _("Give the changes as a non-empty list (update, create or retire)."),
            code="bad_change",
            field="changes",
        )
    read: list[_Change] = []
    seen: set[int] = set()
    kinds = ", ".join(ZoneKind.values)
    for i, raw in enumerate(changes):
        if not isinstance(raw, dict):
            raise _bad_change(i, _("Change %(change)s is not an object."))
        zone_id = raw.get("id")
        if zone_id is not None:
            if isinstance(zone_id, bool) or not isinstance(zone_id, int):
                raise _bad_change(
                    i,
                    _("Change %(change)s: the zone id %(value)s is not a number."),
                    "id",
                    value=repr(zone_id)[:30],
                )
            if zone_id in seen:
                raise _bad_change(
                    i,
                    _("Change %(change)s changes zone %(value)s again: one change per zone."),
                    "id",
                    value=zone_id,
                )
            seen.add(zone_id)
        data: dict[str, Any] = {}
        if "retire" in raw:
            if raw["retire"] is not True or zone_id is None or set(raw) != {"id", "retire"}:
                raise _bad_change(
                    i,
                    _('Change %(change)s: a retirement is {"id": <zone id>, "retire": true}.'),
                    "retire",
                )
            read.append(_Change(i, "retire", data, int(zone_id)))
            continue
        unknown = set(raw) - {"id", "geom", "name", "kind"}
        if unknown:
            raise _bad_change(
                i,
                _("Change %(change)s has unknown fields: %(value)s."),
                value=", ".join(sorted(map(str, unknown))),
            )
        if "geom" in raw:
            try:
                data["geom"] = clean_geometry(raw["geom"], geom_type="MultiPolygon")
            except PlategridError as error:
                error.field = f"changes.{i}.geom"
                raise
        if "name" in raw:
            name = raw["name"]
            if not isinstance(name, str) or not name.strip() or len(name) > 100:
                raise _bad_change(
                    i, _("Change %(change)s: give a name of 1 to 100 characters."), "name"
                )
            data["name"] = name.strip()
        if "kind" in raw:
            if raw["kind"] not in ZoneKind.values:
                raise _bad_change(
                    i,
                    _("Change %(change)s: unknown zone kind %(value)s, use one of %(allowed)s."),
                    "kind",
                    value=repr(raw["kind"])[:30],
                    allowed=kinds,
                )
            data["kind"] = raw["kind"]
        if zone_id is None and ("geom" not in data or "name" not in data):
            raise _bad_change(i, _("Change %(change)s: a new zone needs a geom and a name."))
        if zone_id is not None and not data:
            raise _bad_change(i, _("Change %(change)s changes nothing: give a geom, name or kind."))
        kind = "update" if zone_id is not None else "create"
        read.append(_Change(i, kind, data, int(zone_id or 0)))
    return read


def _relabel(error: ZoneError, labels: Mapping[str, str]) -> list[str]:
    """The zones of ``error`` with the temporary codes of new zones replaced by their labels,
    in the message too."""
    for name, value in error.params.items():
        if isinstance(value, str):
            for code, label in labels.items():
                value = value.replace(code, label)
            error.params[name] = value
    return [labels.get(code, code) for code in error.zones]


def zone_collection(
    zones: models.QuerySet[Zone], *, new_ids: Collection[int] = ()
) -> dict[str, Any]:
    """``zones`` as a GeoJSON FeatureCollection (7 decimals) in the order of their codes; the
    zones of ``new_ids`` (not saved by a dry run) without id and code."""
    rows = (
        zones.annotate(geojson=AsGeoJSON("geom", precision=7))
        .order_by("code")
        .values_list("pk", "code", "name", "kind", "version", "geojson")
    )
    features = []
    for pk, code, name, kind, version, geojson in rows:
        new = pk in new_ids
        properties = {
            "id": None if new else pk,
            "code": "" if new else code,
            "name": name,
            "kind": kind,
            "version": version,
        }
        features.append(
            {
                "type": "Feature",
                "id": properties["id"],
                "geometry": json.loads(geojson),
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _relabel_coverage(coverage: CommunityCoverage, labels: Mapping[str, str]) -> None:
    for overlap in coverage.overlaps:
        a, b = overlap.zones
        overlap.zones = (labels.get(a, a), labels.get(b, b))
    for issue in [*coverage.buildings_cut, *coverage.buildings_in_no_zone]:
        issue.zones = [labels.get(code, code) for code in issue.zones]


def apply_zone_changes(
    *, actor: Any, community: str, changes: Any, dry_run: bool
) -> ZoneChangeResult:
    """Apply zone updates, creations and retirements together, then validate every zone updated
    or created against the final state and collect every problem (outside the community,
    overlaps — each overlapping pair once —, buildings cut).

    Everything runs in one savepoint: kept only when there is no problem and ``dry_run`` is
    false. The result carries the coverage and the zones after the changes either way.
    A zone id that is not a current zone of the community (or not visible to ``actor``) raises
    :class:`NotFoundError`; a community outside the actor's write scope :class:`ScopeError`.
    """
    if not isinstance(community, str) or not (
        community.isascii() and community.isdigit() and len(community) == 12
    ):
        raise ZoneError(
            _("%(value)s is not a community code (12 digits)."),
            code="bad_code",
            field="community",
            value=repr(community)[:30],
        )
    place = community_in_scope(actor, community)
    require_write(actor, place.code)
    read = _read_changes(changes)
    wanted = [c.zone_id for c in read if c.zone_id]
    zones = Zone.objects.current().filter(community=place, pk__in=wanted).in_bulk()
    missing = [pk for pk in wanted if pk not in zones]
    if missing:
        raise NotFoundError(
            _("Zone %(value)s is not a current zone of %(community)s in your territory."),
            value=missing[0],
            community=place.code,
        )
    with transaction.atomic():
        with coverage.batch():  # one recount of the community's coverage counts
            result = _apply_changes(actor, place, read, zones, dry_run)
            coverage.zones_changed(place.code)
        if not result.saved:
            transaction.set_rollback(True)  # this savepoint only
    return result


def _apply_changes(
    actor: Any, community: Community, read: list[_Change], zones: dict[int, Zone], dry_run: bool
) -> ZoneChangeResult:
    touched: list[tuple[int, Zone]] = []
    labels: dict[str, str] = {}
    with acting(actor):
        for change in read:
            if change.kind == "retire":
                retire_zone(actor=actor, zone=zones[change.zone_id])
                continue
            if change.kind == "update":
                zone = prepare_zone(actor=actor, data=change.data, instance=zones[change.zone_id])
            else:
                data = {"community": community, "kind": ZoneKind.RESIDENT_GROUP, **change.data}
                zone = prepare_zone(actor=actor, data=data)
                labels[zone.code] = f"new-{len(labels) + 1}"
            save_instance(zone)
            touched.append((change.index, zone))
    problems: list[ZoneChangeProblem] = []
    validated: list[int] = []
    for index, zone in touched:
        for error in zone_problems(zone, exclude=validated):
            problems.append(ZoneChangeProblem(error, _relabel(error, labels), index))
        validated.append(zone.pk)
    ok = not problems
    saved = ok and not dry_run
    coverage = coverage_check(community.code).communities[0]
    new_ids = {zone.pk for _, zone in touched if zone.code in labels} if not saved else set()
    if not saved:
        _relabel_coverage(coverage, labels)
    return ZoneChangeResult(
        ok,
        saved,
        problems,
        coverage,
        zone_collection(Zone.objects.current().filter(community=community), new_ids=new_ids),
    )


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

    @property
    def ok(self) -> bool:
        """No zone without its responsible person, no building without its head, no role short."""
        return not (
            self.zones_without_responsible
            or self.buildings_without_head
            or any(s.missing for s in self.shortages)
        )


@dataclass
class StaffingReport:
    code: str
    communities: list[CommunityStaffing]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.communities)


def _count(queryset: models.QuerySet[Any], outer: str) -> Any:
    counted = queryset.filter(**{outer: OuterRef("pk")}).values(outer)
    return Coalesce(Subquery(counted.annotate(n=Count("pk")).values("n")[:1]), 0)


def buildings_without_head(community_codes: list[str]) -> models.QuerySet[Building]:
    """Buildings of the communities with households and no current building head."""
    head = Assignment.objects.current().filter(
        role=AssignmentRole.BUILDING_HEAD, building=OuterRef("pk")
    )
    lived_in = Room.objects.filter(use__in=HOUSEHOLD_USES, building=OuterRef("pk"))
    return (
        Building.objects.filter(community__code__in=community_codes)
        .filter(Exists(lived_in))
        .exclude(Exists(head))
    )


def staffing_gaps(code: str, *, user: Any = None, list_buildings: bool = True) -> StaffingReport:
    """Zones with no current responsible person, buildings with households and no building head,
    and per community the roles short of the seeds' ratios: one yard propagandist per
    ``GRID_RESIDENTS_PER_PROPAGANDIST`` residents, one central household head per
    ``GRID_HOUSEHOLDS_PER_CENTRAL_HEAD`` households, ``GRID_INFORMATION_OFFICERS_PER_COMMUNITY``
    information officers. Households are lived-in dwelling rooms (:data:`HOUSEHOLD_USES`);
    residents are households × ``GRID_HOUSEHOLD_SIZE``. One query per list, not per community.
    ``list_buildings=False`` leaves the buildings without a head unlisted, for a caller that
    counts them with :func:`buildings_without_head` instead."""
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
    buildings = buildings_without_head(codes).order_by("pk")
    for building_pk, building_name, building_community in (
        buildings.values_list("id", "name", "community__code") if list_buildings else []
    ):
        report[str(building_community)].buildings_without_head.append(
            {"id": building_pk, "name": building_name}
        )
    return StaffingReport(code, list(report.values()))
