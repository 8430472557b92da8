"""Every write to the register goes through these functions.

Each takes the acting user (keyword ``actor``; ``None`` for system jobs such as imports), applies
the domain rules with clear errors, saves atomically and records the actor in the change history.
Views, the admin, the importers and the CLI all call these; none writes models directly.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

import pghistory
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import DataError, IntegrityError, InternalError, models, transaction
from django.utils.translation import gettext_lazy as _

from . import plans
from .address import AddressParts, format_address, search_key
from .crs import to_metric
from .exceptions import ConflictError, InvalidInputError, PlategridError, ScopeError, TerritoryError
from .geometry import clean_geometry, from_shapely
from .models import (
    Building,
    Community,
    Compound,
    District,
    DoorPlate,
    Entrance,
    Landlord,
    Room,
    Street,
    StreetOffice,
)
from .querysets import can_write
from .signals import announce_map_change, is_mapped

M = TypeVar("M", bound=models.Model)
Data = Mapping[str, Any]


# ---------------------------------------------------------------------------------------------
# Shared mechanics


@contextlib.contextmanager
def acting(actor: Any) -> Iterator[None]:
    """Attach the actor to every history event written inside; one transaction."""
    user_id = getattr(actor, "pk", None)
    with transaction.atomic(), pghistory.context(user=user_id):
        yield


@contextlib.contextmanager
def database_rules() -> Iterator[None]:
    """Turn a constraint the database enforced into a domain error (nothing is written)."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        diag = getattr(exc.__cause__, "diag", None)
        constraint = getattr(diag, "constraint_name", None) or "?"
        sqlstate = getattr(exc.__cause__, "sqlstate", "")
        if sqlstate == "23505":
            raise ConflictError(
                _(
                    "This already exists (rule %(constraint)s): change the number or edit the "
                    "existing record instead."
                ),
                code="duplicate",
                constraint=constraint,
            ) from exc
        if sqlstate == "23503":
            raise ConflictError(
                _(
                    "Other records still depend on this one (rule %(constraint)s): move or delete "
                    "them first."
                ),
                code="protected",
                constraint=constraint,
            ) from exc
        raise InvalidInputError(
            _("The database refused the change (rule %(constraint)s: %(reason)s)."),
            code=constraint,
            constraint=constraint,
            reason=getattr(diag, "message_primary", "") or str(exc),
        ) from exc
    except (InternalError, DataError) as exc:  # a value the column cannot hold
        raise InvalidInputError(
            _("The database refused the change: %(reason)s."), code="refused", reason=str(exc)
        ) from exc


def require_write(actor: Any, code: str, *, territory: bool = False) -> None:
    """Refuse unless ``actor`` may change records of the node ``code`` (``None``: a system job).
    Importers call it for rows they would leave unchanged too: a report must not vouch for
    places the user may not edit."""
    if actor is None:  # system job (import, demo data): no user scope applies
        return
    if not can_write(actor, code, territory=territory):
        raise ScopeError(
            _(
                "You may not change records of %(territory)s: it lies outside your territory or "
                "your role is read-only."
            ),
            code="permission_denied",
            territory=code,
        )


def apply_data(instance: M, data: Data) -> M:
    """Set the fields in ``data`` on ``instance``; an existing node's official code is fixed."""
    old_code = getattr(instance, "code", None)
    if instance.pk is not None and "code" in data and data["code"] != old_code:
        raise TerritoryError(
            _(
                "An official code cannot be changed (%(old)s → %(value)s): create the new node and "
                "move its content instead."
            ),
            code="code_immutable",
            field="code",
            old=old_code,
            value=data["code"],
        )
    for name, value in data.items():
        setattr(instance, name, value)
    return instance


def save_instance(instance: M) -> M:
    """Save with the database's rules as domain errors; announce a change of a mapped table."""
    with database_rules():
        instance.save()
    if is_mapped(instance):
        announce_map_change()
    return instance


def _geojson(geom: GEOSGeometry) -> dict[str, Any]:
    return json.loads(geom.json)


def check_inside(
    child: GEOSGeometry, parent: GEOSGeometry, *, child_label: str, parent_label: str
) -> float:
    """Raise unless ``child`` lies inside ``parent`` up to the sliver tolerance.

    Returns the share of the child's area outside its parent (0 when fully inside).
    """
    child_m, parent_m = to_metric(child), to_metric(parent)
    if child_m.area == 0:
        return 0.0
    outside = child_m.difference(parent_m)
    ratio = outside.area / child_m.area
    tolerance = float(settings.TERRITORY_SLIVER_TOLERANCE)
    if ratio > tolerance:
        raise TerritoryError(
            _(
                "%(child)s is not inside %(parent)s: %(outside)s%% of its area (%(area)s m²) lies "
                "outside, more than the %(tolerance)s%% allowed for digitising slivers. Redraw the "
                "boundary inside its parent."
            ),
            code="outside_parent",
            child=child_label,
            parent=parent_label,
            outside=f"{ratio * 100:.2f}",
            area=f"{outside.area:.0f}",
            tolerance=f"{tolerance * 100:g}",
            geometry=_geojson(outside.transform(4326, clone=True)) if not outside.empty else None,
        )
    return ratio


def check_code(code: str, *, digits: int, parent_code: str | None, label: Any) -> None:
    if not (isinstance(code, str) and len(code) == digits and code.isdigit()):
        raise TerritoryError(
            _("The %(label)s code %(value)s must have exactly %(digits)s digits."),
            code="bad_code",
            field="code",
            label=label,
            value=repr(code),
            digits=digits,
        )
    if parent_code is not None and not code.startswith(parent_code):
        raise TerritoryError(
            _(
                "The code %(value)s does not extend its parent's code %(parent)s: a %(label)s code "
                "is its parent's code followed by %(extra)s digits."
            ),
            code="code_not_extending_parent",
            field="code",
            value=code,
            parent=parent_code,
            label=label,
            extra=digits - len(parent_code),
        )


# ---------------------------------------------------------------------------------------------
# Territory tree


@transaction.atomic
def save_district(*, actor: Any, data: Data, instance: District | None = None) -> District:
    district = apply_data(instance or District(), data)
    check_code(district.code, digits=6, parent_code=None, label=_("district"))
    district.geom = clean_geometry(district.geom, geom_type="MultiPolygon")
    require_write(actor, district.code, territory=True)
    with acting(actor):
        return save_instance(district)


@transaction.atomic
def save_street_office(
    *, actor: Any, data: Data, instance: StreetOffice | None = None
) -> StreetOffice:
    office = apply_data(instance or StreetOffice(), data)
    district = office.district
    check_code(office.code, digits=9, parent_code=district.code, label=_("street office"))
    office.geom = clean_geometry(office.geom, geom_type="MultiPolygon")
    check_inside(office.geom, district.geom, child_label=office.name, parent_label=district.name)
    require_write(actor, office.code, territory=True)
    with acting(actor):
        return save_instance(office)


@transaction.atomic
def save_community(*, actor: Any, data: Data, instance: Community | None = None) -> Community:
    community = apply_data(instance or Community(), data)
    office = community.street_office
    check_code(community.code, digits=12, parent_code=office.code, label=_("community"))
    community.geom = clean_geometry(community.geom, geom_type="MultiPolygon")
    check_inside(community.geom, office.geom, child_label=community.name, parent_label=office.name)
    require_write(actor, community.code, territory=True)
    boundary_changed = instance is not None and "geom" in data
    with acting(actor):
        save_instance(community)
        if boundary_changed:
            rederive_building_communities(community)
    return community


def rederive_building_communities(community: Community) -> int:
    """After a boundary change, let the database re-derive the community of every building
    near the old or new boundary (the building trigger does the spatial lookup)."""
    with database_rules():
        touched = Building.objects.filter(
            models.Q(community=community) | models.Q(footprint__bboverlaps=community.geom)
        )
        return touched.update(footprint=models.F("footprint"))


# ---------------------------------------------------------------------------------------------
# Property


def community_at(geom: GEOSGeometry) -> Community:
    """The community holding the representative point of ``geom``, as the database derives it."""
    point = geom.point_on_surface
    # The boundary itself is not read back: it is large, and the callers need only the row.
    candidates = Community.objects.filter(geom__intersects=point).defer("geom")
    community = candidates.order_by("code").first()
    if community is None:
        raise TerritoryError(
            _(
                "The building at (%(lon)s, %(lat)s) lies outside every community: draw it inside a "
                "community boundary, or add the community first."
            ),
            code="outside_every_community",
            field="footprint",
            lon=f"{point.x:.6f}",
            lat=f"{point.y:.6f}",
            geometry=_geojson(geom),
        )
    return community


@transaction.atomic
def save_compound(*, actor: Any, data: Data, instance: Compound | None = None) -> Compound:
    if instance is not None:
        require_write(actor, instance.community.code)
    compound = apply_data(instance or Compound(), data)
    compound.geom = clean_geometry(compound.geom, geom_type="MultiPolygon")
    community = compound.community
    check_inside(
        compound.geom, community.geom, child_label=compound.name, parent_label=community.name
    )
    require_write(actor, community.code)
    with acting(actor):
        return save_instance(compound)


@transaction.atomic
def save_landlord(*, actor: Any, data: Data, instance: Landlord | None = None) -> Landlord:
    if instance is not None:
        require_write(actor, instance.community.code)
    landlord = apply_data(instance or Landlord(), data)
    phone = (landlord.phone or "").replace(" ", "").replace("-", "")
    if phone and not (phone.lstrip("+").isdigit() and 5 <= len(phone) <= 20):
        raise InvalidInputError(
            _("The phone number %(value)s is not a number: use digits only, e.g. 13800000000."),
            code="bad_phone",
            field="phone",
            value=landlord.phone,
        )
    landlord.phone = phone
    require_write(actor, landlord.community.code)
    with acting(actor):
        return save_instance(landlord)


def district_at(geom: GEOSGeometry) -> District:
    """The district holding the middle of a line (or the representative point of a shape)."""
    point = (
        geom.interpolate_normalized(0.5)  # type: ignore[attr-defined]
        if geom.geom_type == "LineString"
        else geom.point_on_surface
    )
    district = District.objects.filter(geom__intersects=point).order_by("code").first()
    if district is None:
        raise TerritoryError(
            _(
                "The street at (%(lon)s, %(lat)s) lies outside every district: draw it inside a "
                "district, or add the district first."
            ),
            code="outside_every_district",
            field="centerline",
            lon=f"{point.x:.6f}",
            lat=f"{point.y:.6f}",
            geometry=_geojson(geom),
        )
    return district


@transaction.atomic
def save_street(*, actor: Any, data: Data, instance: Street | None = None) -> Street:
    """A street centreline; its district is the one holding the middle of the line."""
    if instance is not None:
        require_write(actor, instance.district_id)
    street = apply_data(instance or Street(), data)
    street.centerline = clean_geometry(street.centerline, geom_type="LineString")  # type: ignore[assignment]
    street.district = district_at(street.centerline)
    require_write(actor, street.district_id)
    with acting(actor):
        return save_instance(street)


@transaction.atomic
def save_building(*, actor: Any, data: Data, instance: Building | None = None) -> Building:
    if instance is not None:
        require_write(actor, instance.community.code)
    building = apply_data(instance or Building(), data)
    building.footprint = clean_geometry(building.footprint, geom_type="Polygon")
    community = community_at(building.footprint)
    require_write(actor, community.code)
    if building.compound is not None:
        check_compound(building.compound, community)
    if instance is not None and {"floors_above", "floors_below"} & data.keys():
        _check_floors_hold_rooms(building)
    building.community = community
    with acting(actor):
        save_instance(building)
    building.refresh_from_db(fields=["centroid", "community"])
    return building


def check_compound(compound: Compound, community: Community) -> None:
    """Raise unless ``compound`` belongs to ``community``, the one a building of the compound
    stands in (the bulk loaders check their buildings with it too)."""
    if compound.community_id != community.pk:
        raise TerritoryError(
            _(
                "The building lies in %(community)s but its compound %(compound)s belongs to "
                "another community."
            ),
            code="compound_elsewhere",
            field="compound",
            community=community.name,
            compound=compound.name,
        )


def _check_floors_hold_rooms(building: Building) -> None:
    stranded = building.rooms.exclude(
        floor__gte=-building.floors_below, floor__lte=building.floors_above
    ).values_list("floor", flat=True)
    floors = sorted(set(stranded))
    if floors:
        raise InvalidInputError(
            _(
                "The building still has rooms on floors %(value)s: move or delete them before "
                "changing its number of floors to %(above)s above / %(below)s below ground."
            ),
            code="rooms_on_removed_floors",
            field="floors_above",
            value=", ".join(map(str, floors)),
            above=building.floors_above,
            below=building.floors_below,
        )


@transaction.atomic
def save_entrance(*, actor: Any, data: Data, instance: Entrance | None = None) -> Entrance:
    entrance = apply_data(instance or Entrance(), data)
    require_write(actor, entrance.building.community.code)
    entrance.number = str(entrance.number).strip()
    if entrance.location is not None:
        entrance.location = clean_geometry(entrance.location, geom_type="Point")
    with acting(actor):
        return save_instance(entrance)


def _check_room(room: Room) -> None:
    building = room.building
    if room.floor == 0 or not -building.floors_below <= room.floor <= building.floors_above:
        raise InvalidInputError(
            _(
                "Floor %(value)s does not exist in this building: it has floors 1 to %(above)s above "
                "ground and %(below)s below (no floor 0)."
            ),
            code="floor_out_of_range",
            field="floor",
            value=room.floor,
            above=building.floors_above,
            below=building.floors_below,
        )
    if room.entrance is not None and room.entrance.building_id != building.pk:
        raise InvalidInputError(
            _("Entrance %(value)s belongs to another building."),
            code="entrance_elsewhere",
            field="entrance",
            value=room.entrance.number,
        )
    if room.landlord is not None:
        check_landlord(room.landlord, building.community_id)
    if room.plan_geom is not None:
        plan = room.plan_geom
        if plan.geom_type != "Polygon" or plan.empty or not plan.valid:
            reason = plan.valid_reason if plan.geom_type == "Polygon" else plan.geom_type
            raise InvalidInputError(
                _("The room plan must be a valid polygon in metres: %(reason)s."),
                code="invalid_plan",
                field="plan_geom",
                reason=reason,
            )
        plan.srid = 0


def check_landlord(landlord: Landlord, community_id: int) -> None:
    """Raise unless ``landlord`` is registered in the community ``community_id``, the one of the
    building a room of theirs is in (the bulk loaders check their rooms with it too)."""
    if landlord.community_id != community_id:
        raise InvalidInputError(
            _(
                "Landlord %(value)s is registered in another community: register them in this "
                "building's community first."
            ),
            code="landlord_elsewhere",
            field="landlord",
            value=landlord.name,
        )


@transaction.atomic
def save_room(*, actor: Any, data: Data, instance: Room | None = None) -> Room:
    if instance is not None:
        require_write(actor, instance.building.community.code)
    room = apply_data(instance or Room(), data)
    room.number = str(room.number).strip()
    require_write(actor, room.building.community.code)
    _check_room(room)
    with acting(actor):
        saved = save_instance(room)
    if instance is not None:
        _readdress_room_plate(actor, saved)
    return saved


def _readdress_room_plate(actor: Any, room: Room) -> None:
    """A renumbered (or moved) room's own door plate takes the new number in its address."""
    plate = DoorPlate.objects.filter(room=room).select_related("building").first()
    if plate is None:
        return
    plate.room = room
    before = plate.address
    compose_address(plate)
    if plate.address != before:
        save_door_plate(actor=actor, data={}, instance=plate)


@transaction.atomic
def split_room(
    *, actor: Any, room: Room, numbers: tuple[str, str], line: GEOSGeometry | None = None
) -> tuple[Room, Room]:
    """Split ``room`` in two: it keeps the first part as ``numbers[0]``, and ``numbers[1]``
    becomes a new room on the same floor and entrance, with the same use and landlord.

    With a ``line`` (a LineString in the plan's metres) the room's plan is cut along it into
    exactly two parts; the room keeps the part on the line's left (from its first point to its
    last) and each room's area is its part's. Without a line, the plan (if any) is cut across its
    longer side into two parts of equal area (the room keeps the western or southern one) and the
    area is halved. Both rooms are saved through :func:`save_room` (same rules, same history;
    the room's own door plate, if any, takes its new number).
    """
    require_write(actor, room.building.community.code)
    first, second = (str(number).strip() for number in numbers)
    if not first or not second:
        raise InvalidInputError(
            _("Give two room numbers for the two rooms of the split, e.g. 501 and 501-1."),
            code="split_numbers",
            field="numbers",
        )
    plan, area = room.plan_geom, room.area_m2
    pieces: tuple[GEOSGeometry | None, GEOSGeometry | None] = (None, None)
    areas: tuple[Decimal | None, Decimal | None] = (None, None)
    if line is not None:
        if plan is None:
            raise InvalidInputError(
                _(
                    "Room %(room)s has no plan to cut along a line: leave the line out to halve "
                    "its area, or draw its plan first."
                ),
                code="no_plan",
                field="line",
                room=room.number,
            )
        cut = _cut_plan(plan, line, room=room.number)
        pieces, areas = cut, (_area_m2(cut[0]), _area_m2(cut[1]))
    else:
        if plan is not None:
            pieces = _halve_plan(plan, room=room.number)
        if area is not None:
            areas = _halve_area(area)
    building, entrance, floor = room.building, room.entrance, room.floor
    use, landlord = room.use, room.landlord
    kept = save_room(
        actor=actor,
        data={"number": first, "plan_geom": pieces[0], "area_m2": areas[0]},
        instance=room,
    )
    new = save_room(
        actor=actor,
        data={
            "building": building,
            "entrance": entrance,
            "floor": floor,
            "number": second,
            "use": use,
            "landlord": landlord,
            "plan_geom": pieces[1],
            "area_m2": areas[1],
        },
    )
    return kept, new


def _cut_plan(
    plan: GEOSGeometry, line: GEOSGeometry, *, room: str
) -> tuple[GEOSGeometry, GEOSGeometry]:
    if line.geom_type != "LineString" or line.empty or not line.valid:
        raise InvalidInputError(
            _(
                "The cut must be a line (GeoJSON LineString) in the plan's metres, of two points "
                "or more; got %(value)s."
            ),
            code="invalid_line",
            field="line",
            value=line.geom_type if not line.empty else "EMPTY",
        )
    try:
        pieces = plans.cut_with_line(
            shapely.from_wkb(bytes(plan.wkb)), shapely.from_wkb(bytes(line.wkb))
        )
    except plans.CutError as exc:
        raise InvalidInputError(
            _(
                "The line does not cut room %(room)s in two (it gives %(count)s parts): draw it "
                "across the room's plan from one wall to another, crossing it once."
            ),
            code="line_does_not_split",
            field="line",
            room=room,
            count=exc.parts,
        ) from exc
    return from_shapely(pieces[0], srid=0), from_shapely(pieces[1], srid=0)


def _halve_plan(plan: GEOSGeometry, *, room: str) -> tuple[GEOSGeometry, GEOSGeometry]:
    try:
        pieces = plans.halve(shapely.from_wkb(bytes(plan.wkb)))
    except plans.CutError as exc:
        raise InvalidInputError(
            _(
                "The plan of room %(room)s cannot be halved with one straight cut (it gives "
                "%(count)s parts): draw the line to cut it along."
            ),
            code="plan_not_halved",
            field="line",
            room=room,
            count=exc.parts,
        ) from exc
    return from_shapely(pieces[0], srid=0), from_shapely(pieces[1], srid=0)


def _area_m2(geom: GEOSGeometry) -> Decimal:
    return Decimal(f"{geom.area:.2f}")


def _halve_area(area: Decimal) -> tuple[Decimal, Decimal]:
    first = (Decimal(area) / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return first, Decimal(area) - first


@transaction.atomic
def save_door_plate(*, actor: Any, data: Data, instance: DoorPlate | None = None) -> DoorPlate:
    if instance is not None:
        require_write(actor, instance.building.community.code)
    plate = apply_data(instance or DoorPlate(), data)
    building = plate.building
    require_write(actor, building.community.code)
    _prepare_plate(plate)
    if plate.population_plate_on and not plate.population_plate:
        raise InvalidInputError(
            _("A date for the “人口” plate was given but the plate is marked as not put up."),
            code="plate_date_without_plate",
            field="population_plate_on",
        )
    with acting(actor):
        return save_instance(plate)


def _prepare_plate(plate: DoorPlate) -> None:
    """Canonical address, and the plate placed on its building unless it was put elsewhere."""
    compose_address(plate)
    if plate.location is None:
        plate.location = plate.building.footprint.point_on_surface
        plate.location.srid = plate.building.footprint.srid
    else:
        plate.location = clean_geometry(plate.location, geom_type="Point")


def compose_address(plate: DoorPlate) -> None:
    """Fill the territory, entrance and room parts from the linked objects and build the
    canonical standard address and its search key."""
    building = plate.building
    community = building.community
    office = community.street_office
    if plate.room is not None:
        if plate.room.building_id != building.pk:
            raise InvalidInputError(
                _("Room %(value)s belongs to another building."),
                code="room_elsewhere",
                field="room",
                value=plate.room.number,
            )
        plate.entrance = plate.room.entrance or plate.entrance
        plate.floor, plate.room_number = plate.room.floor, plate.room.number
    if plate.entrance is not None:
        if plate.entrance.building_id != building.pk:
            raise InvalidInputError(
                _("Entrance %(value)s belongs to another building."),
                code="entrance_elsewhere",
                field="entrance",
                value=plate.entrance.number,
            )
        plate.entrance_number = plate.entrance.number
    if not plate.road and not building.compound_id:
        raise InvalidInputError(
            _("A door plate needs a road (and number) or a building inside a compound."),
            code="address_incomplete",
            field="road",
        )
    plate.district = office.district.name
    plate.street_office = office.name
    plate.community = community.name
    plate.compound = building.compound.name if building.compound is not None else ""
    plate.address = format_address(address_parts(plate))
    plate.search_key = search_key(plate.address)


def address_parts(plate: DoorPlate) -> AddressParts:
    """The standard address parts a door plate's own fields name (its address, in parts)."""
    return AddressParts(
        district=plate.district,
        street_office=plate.street_office,
        community=plate.community,
        road=plate.road or None,
        number=plate.number or None,
        compound=plate.compound or None,
        building=plate.building_number or None,
        entrance=plate.entrance_number or None,
        floor=str(plate.floor) if plate.floor is not None and not plate.room_number else None,
        room=plate.room_number or None,
    )


# ---------------------------------------------------------------------------------------------
# Bulk loading (imports, demo data): one statement per model, the database rules still apply.

_GEOMETRY_TYPES = {
    "footprint": "Polygon",
    "geom": "MultiPolygon",
    "location": "Point",
    "centerline": "LineString",
}


@transaction.atomic
def bulk_add(objects: list[M], *, actor: Any = None, batch_size: int = 2000) -> list[M]:
    """Insert many new objects of one model. Geometries are cleaned, door plates get their
    canonical address; constraints and triggers (community of a building, floors of a room)
    are enforced by the database and reported as domain errors."""
    if not objects:
        return objects
    model = type(objects[0])
    for obj in objects:
        for field, geom_type in _GEOMETRY_TYPES.items():
            value = getattr(obj, field, None)
            if value is not None and hasattr(obj, field):
                setattr(obj, field, clean_geometry(value, geom_type=geom_type))
        if isinstance(obj, DoorPlate):
            _prepare_plate(obj)
    with acting(actor), database_rules():
        model._default_manager.bulk_create(objects, batch_size=batch_size)
    if is_mapped(model):
        announce_map_change()
    return objects


# ---------------------------------------------------------------------------------------------
# Deleting


def _scope_code(instance: models.Model) -> tuple[str, bool]:
    """The code that decides who may change ``instance`` and whether it is a territory node, read
    along the ``scope_path`` of its model's ``ScopedQuerySet`` (the path ``visible_to`` filters
    on), so that every scoped model of any app is covered."""
    queryset = type(instance)._default_manager.all()
    path = getattr(queryset, "scope_path", "")
    if not path:
        raise PlategridError(_("%(value)s cannot be deleted here."), value=type(instance).__name__)
    value: Any = instance
    for name in path.split("__"):
        value = getattr(value, name)
    return value, queryset.territory  # type: ignore[attr-defined]


@transaction.atomic
def delete_object(*, actor: Any, instance: models.Model) -> None:
    """Delete ``instance`` (of any scoped model, see :func:`_scope_code`) if ``actor`` may write
    there, with history; a row that others still depend on (``PROTECT``) is a 409 naming how
    many."""
    code, territory = _scope_code(instance)
    require_write(actor, code, territory=territory)
    with acting(actor), database_rules():
        try:
            instance.delete()
        except models.ProtectedError as exc:
            raise ConflictError(
                _(
                    "%(value)s cannot be deleted: %(count)s other records still depend on it. Move "
                    "or delete them first."
                ),
                code="protected",
                value=str(instance),
                count=len(exc.protected_objects),
            ) from exc
    announce_map_change()  # whatever was deleted, door plates may have gone with it
