"""Store a generated :class:`~data.city.generate.City`: the territory through the register's
services, everything else with COPY (:mod:`data.city.copy`), a batch of buildings at a time.

The database rules apply to the copied rows as they do to the services' inserts: each building's
community is derived from its footprint by the database (and must be its compound's), rooms must
lie on floors of their building and at one of its entrances, numbers and addresses are unique, and
every row gets its insert event in the history (written per COPY, see :class:`~.copy.Copier`).
Geometries are checked like ``clean_geometry`` does; door plates get their canonical address and
search key from ``gis.services`` itself. One transaction: an error leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import numpy as np
import pghistory
import shapely
from django.db import transaction

from gis import services
from gis.geometry import from_shapely
from gis.models import (
    Building,
    Community,
    Compound,
    DoorPlate,
    Entrance,
    Landlord,
    Room,
    Street,
    StreetOffice,
)
from gis.signals import announce_map_change

from .copy import Copier, geometry_ewkb
from .generate import BuildingRec, City

BUILDINGS_PER_BATCH = 1000
#: The models stored with COPY (the territory goes through the services).
COPIED = (Street, Compound, Landlord, Building, Entrance, Room, DoorPlate)

STREET_FIELDS = ("id", "name", "kind", "district", "centerline", "source_id")
COMPOUND_FIELDS = ("id", "name", "kind", "community", "geom", "responsible_body")
LANDLORD_FIELDS = ("id", "name", "phone", "community")
BUILDING_FIELDS = (
    "id",
    "footprint",
    "name",
    "floors_above",
    "floors_below",
    "use",
    "compound",
    "source_id",
)
ENTRANCE_FIELDS = ("id", "building", "number")
ROOM_FIELDS = (
    "id",
    "building",
    "entrance",
    "floor",
    "number",
    "use",
    "area_m2",
    "plan_geom",
    "landlord",
)
PLATE_FIELDS = (
    "id",
    "building",
    "district",
    "street_office",
    "community",
    "road",
    "number",
    "compound",
    "building_number",
    "entrance_number",
    "floor",
    "room_number",
    "address",
    "search_key",
    "location",
    "population_plate",
    "qr_token",
)


@transaction.atomic
def load_city(
    city: City,
    *,
    progress: Callable[[int], None] | None = None,
    copier: Copier | None = None,
) -> dict[str, int]:
    """Insert ``city``; returns the number of rows per table. ``progress(n)`` is called after
    each batch of ``n`` buildings (with their entrances, rooms and plates); ``copier`` does the
    COPY (the benchmark passes one that also keeps the rows)."""
    copier = copier or Copier()
    announce_map_change()  # the copied rows pass no service: the map's tiles are told here
    with pghistory.context(user=None, source="demo_city") as history:
        communities = load_territory(city)
        copier.attach_history_context(history)
        with copier.row_history_off(COPIED):
            return _property(city, communities, copier, progress)


def load_territory(city: City) -> dict[str, Community]:
    """Districts, street offices and communities through the services (a few hundred rows:
    codes, boundaries inside their parent); returns the communities by code."""
    districts = {}
    for outline in city.districts:
        districts[outline.code] = services.save_district(
            actor=None,
            data={
                "code": outline.code,
                "name": outline.name,
                "geom": from_shapely(outline.boundary),
            },
        )
    offices: dict[str, StreetOffice] = {}
    for office in city.offices:
        offices[office.code] = services.save_street_office(
            actor=None,
            data={
                "code": office.code,
                "name": office.name,
                "district": districts[office.district],
                "geom": from_shapely(office.boundary),
            },
        )
    communities: dict[str, Community] = {}
    for community in city.communities:
        communities[community.code] = services.save_community(
            actor=None,
            data={
                "code": community.code,
                "name": community.name,
                "street_office": offices[community.office],
                "committee": community.committee,
                "geom": from_shapely(community.boundary),
            },
        )
    return communities


def _property(
    city: City,
    communities: dict[str, Community],
    copier: Copier,
    progress: Callable[[int], None] | None,
) -> dict[str, int]:
    street_ids = copier.reserve_ids(Street, len(city.streets))
    lines = geometry_ewkb((s.line for s in city.streets), geom_type="LineString")
    copier.copy(
        Street,
        STREET_FIELDS,
        [
            (pk, s.name, s.kind, s.district, line, s.source_id)
            for pk, s, line in zip(street_ids, city.streets, lines, strict=True)
        ],
    )

    compound_ids = copier.reserve_ids(Compound, len(city.compounds))
    boundaries = geometry_ewkb((c.boundary for c in city.compounds), geom_type="MultiPolygon")
    copier.copy(
        Compound,
        COMPOUND_FIELDS,
        [
            (pk, c.name, c.kind, communities[c.community].pk, geom, c.responsible_body)
            for pk, c, geom in zip(compound_ids, city.compounds, boundaries, strict=True)
        ],
    )
    # What door plates need of a compound: its name (and key); of a community: names up to the
    # district, which the services read through the objects.
    compounds = [
        Compound(pk=pk, name=c.name, community=communities[c.community])
        for pk, c in zip(compound_ids, city.compounds, strict=True)
    ]
    by_community_id = {c.pk: c for c in communities.values()}

    landlord_ids = copier.reserve_ids(Landlord, len(city.landlords))
    copier.copy(
        Landlord,
        LANDLORD_FIELDS,
        [
            (pk, x.name, x.phone, communities[x.community].pk)
            for pk, x in zip(landlord_ids, city.landlords, strict=True)
        ],
    )
    # What rooms need of a landlord: its key, and its community and name for the services' check.
    landlords = [
        Landlord(pk=pk, name=x.name, community_id=communities[x.community].pk)
        for pk, x in zip(landlord_ids, city.landlords, strict=True)
    ]

    rows = _Rows(copier, city, compounds, landlords)
    batches = range(0, len(city.buildings), BUILDINGS_PER_BATCH)
    counts = {"entrances": 0, "rooms": 0, "door_plates": 0}
    # The next batch's rows are made in a thread while the database stores this batch: waiting
    # for the database releases the GIL, and the two overlap.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-city-rows") as pool:
        upcoming = pool.submit(rows.batch, 0)
        for start in batches:
            batch = upcoming.result()
            if start + BUILDINGS_PER_BATCH < len(city.buildings):
                upcoming = pool.submit(rows.batch, start + BUILDINGS_PER_BATCH)
            copier.copy(Building, BUILDING_FIELDS, batch.buildings)
            # The database derived each building's community (trigger); the rows were made for
            # the compound's community, which ``save_building`` requires it to be.
            derived = dict(
                Building.objects.filter(pk__in=batch.ids).values_list("pk", "community_id")
            )
            for pk, record in zip(batch.ids, batch.records, strict=True):
                services.check_compound(compounds[record.compound], by_community_id[derived[pk]])
            counts["entrances"] += copier.copy(Entrance, ENTRANCE_FIELDS, batch.entrances)
            counts["rooms"] += copier.copy(Room, ROOM_FIELDS, batch.rooms)
            counts["door_plates"] += copier.copy(DoorPlate, PLATE_FIELDS, batch.plates)
            if progress is not None:
                progress(len(batch.ids))

    return {
        "districts": len(city.districts),
        "street_offices": len(city.offices),
        "communities": len(city.communities),
        "streets": len(city.streets),
        "compounds": len(city.compounds),
        "landlords": len(city.landlords),
        "buildings": len(city.buildings),
    } | counts


@dataclass
class _Batch:
    """The rows of one batch of buildings, ready for COPY."""

    records: list[BuildingRec]
    ids: list[int]
    buildings: list[tuple[Any, ...]]
    entrances: list[tuple[Any, ...]]
    rooms: list[tuple[Any, ...]]
    plates: list[tuple[Any, ...]]


class _Rows:
    """Makes the rows of a batch of buildings without the database (so, in a thread): the keys
    are reserved for the whole city beforehand, and a building's community is taken to be its
    compound's (checked against the database's once the buildings are stored)."""

    def __init__(
        self,
        copier: Copier,
        city: City,
        compounds: list[Compound],
        landlords: list[Landlord],
    ) -> None:
        self.city, self.compounds, self.landlords = city, compounds, landlords
        buildings = city.buildings
        self.building_ids = copier.reserve_ids(Building, len(buildings))
        self.plate_ids = copier.reserve_ids(DoorPlate, len(buildings))
        self.entrance_ids = copier.reserve_ids(Entrance, sum(b.entrances for b in buildings))
        self.room_ids = copier.reserve_ids(Room, city.room_count())
        # Where each building's entrances and rooms start among the reserved keys.
        self.first_entrance = list(accumulate((b.entrances for b in buildings), initial=0))
        self.first_room = list(accumulate((len(b.rooms) for b in buildings), initial=0))

    def batch(self, start: int) -> _Batch:
        end = min(start + BUILDINGS_PER_BATCH, len(self.city.buildings))
        records = self.city.buildings[start:end]
        ids = self.building_ids[start:end]
        footprints = geometry_ewkb((b.footprint for b in records), geom_type="Polygon")
        buildings = [
            (
                pk,
                footprint,
                b.name,
                b.floors_above,
                b.floors_below,
                b.use,
                self.compounds[b.compound].pk,
                b.source_id,
            )
            for pk, b, footprint in zip(ids, records, footprints, strict=True)
        ]
        entrance_ids = self.entrance_ids[self.first_entrance[start] : self.first_entrance[end]]
        entrances = list(
            zip(
                entrance_ids,
                (pk for pk, b in zip(ids, records, strict=True) for _ in range(b.entrances)),
                (str(n) for b in records for n in range(1, b.entrances + 1)),
                strict=True,
            )
        )
        communities = [self.compounds[b.compound].community for b in records]
        rooms = _room_rows(
            records,
            ids,
            [c.pk for c in communities],
            [self.entrance_ids[self.first_entrance[i]] for i in range(start, end)],
            self.room_ids[self.first_room[start] : self.first_room[end]],
            self.landlords,
        )
        plates = _plate_rows(records, ids, self.plate_ids[start:end], communities, self.compounds)
        return _Batch(records, ids, buildings, entrances, rooms, plates)


def _room_rows(
    records: list[BuildingRec],
    ids: list[int],
    community_ids: list[int],
    first_entrance_ids: list[int],
    room_ids: list[int],
    landlords: list[Landlord],
) -> list[tuple[Any, ...]]:
    """The rooms of ``records`` (entrances' keys are consecutive within a building)."""
    # Plans in metres (``RoomRec.plan``), made for the whole batch at once.
    sizes = np.array([(r.left, r.width, r.depth) for b in records for r in b.rooms]).reshape(-1, 3)
    left, width, depth = sizes.T
    plans = iter(
        geometry_ewkb(shapely.box(left, 0.0, left + width, depth), geom_type="Polygon", srid=0)
    )
    keys = iter(room_ids)
    rows = []
    for pk, b, community_id, entrance_1 in zip(
        ids, records, community_ids, first_entrance_ids, strict=True
    ):
        for r in b.rooms:
            landlord = None
            if r.landlord is not None:
                owner = landlords[r.landlord]
                services.check_landlord(owner, community_id)
                landlord = owner.pk
            entrance = entrance_1 + r.entrance - 1
            plan = next(plans)
            rows.append(
                (next(keys), pk, entrance, r.floor, r.number, r.use, r.area_m2, plan, landlord)
            )
    return rows


def _plate_rows(
    records: list[BuildingRec],
    ids: list[int],
    plate_ids: list[int],
    communities: list[Community],
    compounds: list[Compound],
) -> list[tuple[Any, ...]]:
    """One door plate per building: the canonical address and search key composed by the
    services' own function; the plate stands where the services put a plate saved without a
    location, on the footprint's point on surface (GEOS's, here for the whole batch at once)."""
    points = shapely.point_on_surface(np.array([b.footprint for b in records]))
    locations = geometry_ewkb(points, geom_type="Point")
    qr_token = DoorPlate._meta.get_field("qr_token")
    # One scratch building and plate, filled in for each record: the services compose from the
    # objects' attributes, and making two model instances per plate took half the time.
    building = Building()
    plate = DoorPlate(building=building)
    rows = []
    for pk, plate_pk, b, community, location in zip(
        ids, plate_ids, records, communities, locations, strict=True
    ):
        building.pk = pk
        building.community = community
        building.compound = compounds[b.compound]
        plate.road = b.plate_road
        plate.number = b.plate_number
        plate.building_number = b.plate_building_number
        services.compose_address(plate)
        rows.append(
            (
                plate_pk,
                pk,
                plate.district,
                plate.street_office,
                plate.community,
                plate.road,
                plate.number,
                plate.compound,
                plate.building_number,
                plate.entrance_number,
                plate.floor,
                plate.room_number,
                plate.address,
                plate.search_key,
                location,
                b.population_plate,
                qr_token.get_default(),  # the model's default, as when the services save a plate
            )
        )
    return rows
