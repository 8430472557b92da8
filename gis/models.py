"""The territory and property register: territory tree, compounds, buildings, plates, rooms.

Geometry is stored in EPSG:4326 (CGCS2000 at this scale). Areas and distances are computed in the
metric SRID named in settings (``METRIC_SRID``), never in degrees.
"""

from __future__ import annotations

import secrets

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex
from django.db.models import F, Q
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from . import querysets
from .functions import IsEmpty

SRID = 4326


def _valid_geometry(field: str, name: str) -> list[models.CheckConstraint]:
    """Constraints every stored geometry meets: valid (OGC) and not empty."""
    return [
        models.CheckConstraint(condition=Q(**{f"{field}__isvalid": True}), name=f"{name}_valid"),
        models.CheckConstraint(condition=Exact(IsEmpty(field), False), name=f"{name}_not_empty"),
    ]


def _digits(field: str, count: int, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__regex": rf"^[0-9]{{{count}}}$"}), name=name
    )


def _history() -> tuple[pghistory.RowEvent, ...]:
    """Fresh trackers per model (pghistory binds a tracker instance to one model)."""
    return (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())


# ---------------------------------------------------------------------------------------------
# Territory tree: district → street office → community, with GB/T 2260 based codes.


@pghistory.track(*_history())
class District(models.Model):
    objects = querysets.TerritoryQuerySet.as_manager()

    code = models.CharField(_("code"), max_length=6, unique=True)
    name = models.CharField(_("name"), max_length=50)
    geom = models.MultiPolygonField(_("boundary"), srid=SRID)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["code"]
        constraints = [
            _digits("code", 6, "district_code_6_digits"),
            *_valid_geometry("geom", "district_geom"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


@pghistory.track(*_history())
class StreetOffice(models.Model):
    objects = querysets.StreetOfficeQuerySet.as_manager()

    code = models.CharField(_("code"), max_length=9, unique=True)
    name = models.CharField(_("name"), max_length=50)
    # Keyed by code so that the database can check that the child's code extends its parent's.
    district = models.ForeignKey(
        District,
        models.PROTECT,
        to_field="code",
        db_column="district_code",
        related_name="street_offices",
        verbose_name=_("district"),
    )
    geom = models.MultiPolygonField(_("boundary"), srid=SRID)

    class Meta:
        verbose_name = _("street office")
        verbose_name_plural = _("street offices")
        ordering = ["code"]
        constraints = [
            _digits("code", 9, "street_office_code_9_digits"),
            models.CheckConstraint(
                condition=Q(code__startswith=F("district_id")),
                name="street_office_code_extends_district",
            ),
            *_valid_geometry("geom", "street_office_geom"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CommunityCommittee(models.TextChoices):
    RESIDENTS = "residents", _("residents' committee")
    VILLAGERS = "villagers", _("villagers' committee")


@pghistory.track(*_history())
class Community(models.Model):
    objects = querysets.CommunityQuerySet.as_manager()

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=50)
    street_office = models.ForeignKey(
        StreetOffice,
        models.PROTECT,
        to_field="code",
        db_column="street_office_code",
        related_name="communities",
        verbose_name=_("street office"),
    )
    committee = models.CharField(
        _("committee"),
        max_length=10,
        choices=CommunityCommittee.choices,
        default=CommunityCommittee.RESIDENTS,
    )
    geom = models.MultiPolygonField(_("boundary"), srid=SRID)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["code"]
        constraints = [
            _digits("code", 12, "community_code_12_digits"),
            models.CheckConstraint(
                condition=Q(code__startswith=F("street_office_id")),
                name="community_code_extends_street_office",
            ),
            *_valid_geometry("geom", "community_geom"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


# ---------------------------------------------------------------------------------------------
# Property: compounds, landlords, buildings, entrances, rooms, door plates.


class CompoundKind(models.TextChoices):
    """The six kinds of place of the Zhengzhou model (domain README)."""

    CLOSED_PROPERTY = "closed_property", _("closed property compound")
    MIXED_RESIDENTIAL = "mixed_residential", _("mixed residential compound")
    URBAN_VILLAGE = "urban_village", _("urban village")
    MARKET = "market", _("market")
    EMPLOYER = "employer", _("employer or organisation")
    OTHER = "other", _("other")


@pghistory.track(*_history())
class Compound(models.Model):
    objects = querysets.CompoundQuerySet.as_manager()

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=CompoundKind.choices)
    community = models.ForeignKey(
        Community, models.PROTECT, related_name="compounds", verbose_name=_("community")
    )
    geom = models.MultiPolygonField(_("boundary"), srid=SRID)
    # Property company, village committee, market operator or employer.
    responsible_body = models.CharField(_("responsible body"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("compound")
        verbose_name_plural = _("compounds")
        ordering = ["community", "name"]
        constraints = [*_valid_geometry("geom", "compound_geom")]

    def __str__(self) -> str:
        return self.name


@pghistory.track(*_history())
class Landlord(models.Model):
    objects = querysets.LandlordQuerySet.as_manager()

    name = models.CharField(_("name"), max_length=50)
    # Shown masked (see gis.masking); full value only to services that need it.
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    community = models.ForeignKey(
        Community, models.PROTECT, related_name="landlords", verbose_name=_("community")
    )

    class Meta:
        verbose_name = _("landlord")
        verbose_name_plural = _("landlords")
        ordering = ["community", "name"]

    def __str__(self) -> str:
        return self.name


class BuildingUse(models.TextChoices):
    RESIDENTIAL = "residential", _("residential")
    MIXED = "mixed", _("mixed residential and commercial")
    COMMERCIAL = "commercial", _("commercial")
    INDUSTRIAL = "industrial", _("industrial")
    DORMITORY = "dormitory", _("dormitory")
    PUBLIC = "public", _("public")
    OTHER = "other", _("other")


@pghistory.track(*_history())
class Building(models.Model):
    objects = querysets.BuildingQuerySet.as_manager()

    footprint = models.PolygonField(_("footprint"), srid=SRID)
    centroid = models.GeneratedField(
        expression=models.functions.PointOnSurface("footprint"),
        output_field=models.PointField(srid=SRID),
        db_persist=True,
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    floors_above = models.PositiveSmallIntegerField(_("floors above ground"), default=1)
    floors_below = models.PositiveSmallIntegerField(_("floors below ground"), default=0)
    use = models.CharField(
        _("use"), max_length=20, choices=BuildingUse.choices, default=BuildingUse.RESIDENTIAL
    )
    compound = models.ForeignKey(
        Compound,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="buildings",
        verbose_name=_("compound"),
    )
    # Derived by the database from the footprint (trigger below): never set by hand.
    community = models.ForeignKey(
        Community,
        models.PROTECT,
        related_name="buildings",
        verbose_name=_("community"),
        editable=False,
    )
    # Stable identifier in the source a building was imported from, for re-imports.
    source_id = models.CharField(_("source id"), max_length=100, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(floors_above__gte=1), name="building_has_a_floor"),
            models.CheckConstraint(
                condition=Q(floors_above__lte=200), name="building_floors_plausible"
            ),
            *_valid_geometry("footprint", "building_footprint"),
        ]
        indexes = [
            models.Index(fields=["community"], name="building_community"),
            # The map's search box finds buildings by a part of their name (gis.search).
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="building_name_trgm"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="building_derive_community",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                func="""
                SELECT c.id INTO NEW.community_id FROM geo_community c
                 WHERE ST_Intersects(c.geom, ST_PointOnSurface(NEW.footprint))
                 ORDER BY c.code LIMIT 1;
                IF NEW.community_id IS NULL THEN
                  RAISE EXCEPTION USING ERRCODE = 'check_violation',
                    CONSTRAINT = 'building_in_community',
                    MESSAGE = 'building lies outside every community';
                END IF;
                RETURN NEW;
                """,
            ),
            pgtrigger.Trigger(
                name="building_floors_hold_rooms",
                when=pgtrigger.After,
                operation=pgtrigger.UpdateOf("floors_above", "floors_below"),
                func="""
                IF EXISTS (SELECT 1 FROM geo_room r WHERE r.building_id = NEW.id
                           AND (r.floor > NEW.floors_above OR r.floor < -NEW.floors_below)) THEN
                  RAISE EXCEPTION USING ERRCODE = 'check_violation',
                    CONSTRAINT = 'room_floor_in_building',
                    MESSAGE = 'building has rooms on floors it would no longer have';
                END IF;
                RETURN NULL;
                """,
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"

    @property
    def floor_numbers(self) -> list[int]:
        """Top floor first; basements are negative; there is no floor 0."""
        return [*range(self.floors_above, 0, -1), *range(-1, -self.floors_below - 1, -1)]


@pghistory.track(*_history())
class Entrance(models.Model):
    objects = querysets.EntranceQuerySet.as_manager()

    building = models.ForeignKey(
        Building, models.CASCADE, related_name="entrances", verbose_name=_("building")
    )
    number = models.CharField(_("entrance (unit)"), max_length=10)
    location = models.PointField(_("location"), srid=SRID, null=True, blank=True)

    class Meta:
        verbose_name = _("entrance")
        verbose_name_plural = _("entrances")
        ordering = ["building", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "number"], name="entrance_unique_per_building"
            ),
            models.CheckConstraint(
                condition=Q(number__regex=r"^\S+$"), name="entrance_number_not_blank"
            ),
        ]

    def __str__(self) -> str:
        return str(self.number)


class RoomUse(models.TextChoices):
    OWNER_OCCUPIED = "owner_occupied", _("owner-occupied")
    RENTED_WHOLE = "rented_whole", _("rented whole")
    RENTED_SHARED = "rented_shared", _("rented shared")
    VACANT = "vacant", _("vacant")
    COMMERCIAL = "commercial", _("commercial")
    OTHER = "other", _("other")


RENTED_USES = (RoomUse.RENTED_WHOLE, RoomUse.RENTED_SHARED)


@pghistory.track(*_history())
class Room(models.Model):
    objects = querysets.RoomQuerySet.as_manager()

    building = models.ForeignKey(
        Building, models.CASCADE, related_name="rooms", verbose_name=_("building")
    )
    entrance = models.ForeignKey(
        Entrance,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="rooms",
        verbose_name=_("entrance"),
    )
    floor = models.SmallIntegerField(_("floor"))
    number = models.CharField(_("room number"), max_length=20)
    use = models.CharField(
        _("use"), max_length=20, choices=RoomUse.choices, default=RoomUse.OWNER_OCCUPIED
    )
    area_m2 = models.DecimalField(
        _("area (m²)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    # A polygon in metres in the building's own floor-plan frame (no geographic SRID).
    plan_geom = models.PolygonField(_("plan"), srid=0, null=True, blank=True)
    landlord = models.ForeignKey(
        Landlord,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="rooms",
        verbose_name=_("landlord"),
    )

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["building", "entrance", "-floor", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "entrance", "floor", "number"],
                name="room_unique_in_building",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=~Q(floor=0), name="room_floor_not_zero"),
            models.CheckConstraint(
                condition=Q(area_m2__gt=0) | Q(area_m2__isnull=True), name="room_area_positive"
            ),
            models.CheckConstraint(
                condition=Q(number__regex=r"^\S+$"), name="room_number_not_blank"
            ),
            models.CheckConstraint(
                condition=Q(plan_geom__isnull=True) | Q(plan_geom__isvalid=True),
                name="room_plan_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["building", "floor"], name="room_building_floor"),
            # Search by room number alone ("501"), across buildings (gis.search).
            models.Index(fields=["number", "building"], name="room_number"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="room_floor_in_building",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                func="""
                IF NOT EXISTS (SELECT 1 FROM geo_building b WHERE b.id = NEW.building_id
                               AND NEW.floor BETWEEN -b.floors_below AND b.floors_above) THEN
                  RAISE EXCEPTION USING ERRCODE = 'check_violation',
                    CONSTRAINT = 'room_floor_in_building',
                    MESSAGE = 'room floor is not a floor of its building';
                END IF;
                IF NEW.entrance_id IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM geo_entrance e WHERE e.id = NEW.entrance_id AND e.building_id = NEW.building_id) THEN
                  RAISE EXCEPTION USING ERRCODE = 'check_violation',
                    CONSTRAINT = 'room_entrance_in_building',
                    MESSAGE = 'room entrance belongs to another building';
                END IF;
                RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return str(self.number)


def new_qr_token() -> str:
    return secrets.token_urlsafe(12)


class StreetKind(models.TextChoices):
    ARTERIAL = "arterial", _("arterial road")
    LOCAL = "local", _("local street")
    LANE = "lane", _("lane")


@pghistory.track(*_history())
class Street(models.Model):
    """A named street centreline: door plates are numbered along it and sweep routes walk it."""

    objects = querysets.StreetQuerySet.as_manager()

    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=StreetKind.choices)
    district = models.ForeignKey(
        District,
        models.PROTECT,
        to_field="code",
        related_name="streets",
        verbose_name=_("district"),
    )
    centerline = models.LineStringField(_("centreline"), srid=SRID)
    source_id = models.CharField(_("source id"), max_length=100, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("street")
        verbose_name_plural = _("streets")
        ordering = ["district", "name"]
        constraints = [*_valid_geometry("centerline", "street_centerline")]

    def __str__(self) -> str:
        return self.name


@pghistory.track(*_history())
class DoorPlate(models.Model):
    """A door plate and its standard address (GB/T 35639).

    The territory parts are copied from the building's community when the plate is saved through
    ``gis.services``; ``address`` is the canonical string built from all parts by
    ``gis.address.format_address`` and ``search_key`` its normalised form for partial search.
    """

    objects = querysets.DoorPlateQuerySet.as_manager()

    building = models.ForeignKey(
        Building, models.CASCADE, related_name="door_plates", verbose_name=_("building")
    )
    entrance = models.ForeignKey(
        Entrance,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="door_plates",
        verbose_name=_("entrance"),
    )
    room = models.OneToOneField(
        Room,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="door_plate",
        verbose_name=_("room"),
    )
    district = models.CharField(_("district"), max_length=50)
    street_office = models.CharField(_("street office"), max_length=50)
    community = models.CharField(_("community"), max_length=50)
    road = models.CharField(_("road"), max_length=50, blank=True)
    number = models.CharField(_("door number"), max_length=20, blank=True)
    compound = models.CharField(_("compound"), max_length=100, blank=True)
    building_number = models.CharField(_("building number"), max_length=20, blank=True)
    entrance_number = models.CharField(_("entrance (unit)"), max_length=10, blank=True)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    room_number = models.CharField(_("room number"), max_length=20, blank=True)
    address = models.CharField(_("standard address"), max_length=300, unique=True)
    search_key = models.CharField(max_length=300, editable=False)
    location = models.PointField(_("plate location"), srid=SRID)
    population_plate = models.BooleanField(_("“人口” plate put up"), default=False)
    population_plate_on = models.DateField(_("plate put up on"), null=True, blank=True)
    qr_token = models.CharField(max_length=32, unique=True, default=new_qr_token, editable=False)

    class Meta:
        verbose_name = _("door plate")
        verbose_name_plural = _("door plates")
        ordering = ["address"]
        constraints = [
            models.CheckConstraint(
                condition=Q(population_plate=True) | Q(population_plate_on__isnull=True),
                name="door_plate_date_needs_plate",
            ),
            models.CheckConstraint(condition=~Q(address=""), name="door_plate_address_not_blank"),
            models.CheckConstraint(condition=~Q(floor=0), name="door_plate_floor_not_zero"),
        ]
        indexes = [
            models.Index(fields=["building"], name="door_plate_building"),
            GinIndex(
                fields=["search_key"], opclasses=["gin_trgm_ops"], name="door_plate_search_trgm"
            ),
            # Address parts searched by equality (``matching``: "12号3栋", "3栋501"): numbers are
            # too short for trigrams, and the planner combines these with the trigram index.
            models.Index(fields=["number"], name="door_plate_number"),
            models.Index(fields=["building_number"], name="door_plate_building_number"),
            models.Index(fields=["room_number"], name="door_plate_room_number"),
        ]

    def __str__(self) -> str:
        return self.address


# ---------------------------------------------------------------------------------------------
# Territory scope: which part of the territory a user may see and edit, in which role.


class Role(models.TextChoices):
    DISTRICT_ADMIN = "district_admin", _("district administrator")
    STREET_SUPERVISOR = "street_supervisor", _("street supervisor")
    COMMUNITY_WORKER = "community_worker", _("community worker")
    READ_ONLY = "read_only", _("read-only")


WRITE_ROLES = (Role.DISTRICT_ADMIN, Role.STREET_SUPERVISOR, Role.COMMUNITY_WORKER)


class ScopeGrant(models.Model):
    """A role on one territory node, named by its code (6, 9 or 12 digits).

    Territory codes nest by prefix, so the grant covers every community whose code starts with
    ``territory_code``.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="scope_grants",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    territory_code = models.CharField(_("territory code"), max_length=12)

    class Meta:
        verbose_name = _("territory scope")
        verbose_name_plural = _("territory scopes")
        constraints = [
            models.UniqueConstraint(fields=["user", "territory_code"], name="scope_grant_unique"),
            models.CheckConstraint(
                condition=Q(territory_code__regex=r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$"),
                name="scope_grant_code_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.territory_code}"
