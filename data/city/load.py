"""Store a generated :class:`~data.city.generate.City` through the register's services.

Territory nodes go through ``save_*`` (parent codes, containment); everything else through
``services.bulk_add`` in batches, so the database rules (a building's community derived from its
footprint, rooms on existing floors, unique rooms and addresses) apply to generated data as they
do to imports. One transaction: an error leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction

from gis import services
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

from .generate import City

BUILDINGS_PER_BATCH = 500


def _geos(geom: shapely.Geometry, srid: int = 4326) -> Any:
    """The GEOS twin of a shapely geometry (its own subclass: Polygon, LineString…)."""
    return GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=srid)


@transaction.atomic
def load_city(city: City, *, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Insert ``city``; returns the number of rows per model. ``progress(n)`` is called after
    each batch of ``n`` buildings (with their entrances, rooms and plates)."""
    districts = {}
    for outline in city.districts:
        districts[outline.code] = services.save_district(
            actor=None,
            data={"code": outline.code, "name": outline.name, "geom": _geos(outline.boundary)},
        )
    offices: dict[str, StreetOffice] = {}
    for office in city.offices:
        offices[office.code] = services.save_street_office(
            actor=None,
            data={
                "code": office.code,
                "name": office.name,
                "district": districts[office.district],
                "geom": _geos(office.boundary),
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
                "geom": _geos(community.boundary),
            },
        )

    streets = [
        Street(
            name=s.name,
            kind=s.kind,
            district=districts[s.district],
            centerline=_geos(s.line),
            source_id=s.source_id,
        )
        for s in city.streets
    ]
    services.bulk_add(streets)

    compounds = [
        Compound(
            name=c.name,
            kind=c.kind,
            community=communities[c.community],
            geom=_geos(c.boundary),
            responsible_body=c.responsible_body,
        )
        for c in city.compounds
    ]
    services.bulk_add(compounds)
    landlords = [
        Landlord(name=x.name, phone=x.phone, community=communities[x.community])
        for x in city.landlords
    ]
    services.bulk_add(landlords)

    counts = {"entrances": 0, "rooms": 0, "door_plates": 0}
    # Buildings with their entrances, rooms and plates, a batch of buildings at a time.
    for start in range(0, len(city.buildings), BUILDINGS_PER_BATCH):
        records = city.buildings[start : start + BUILDINGS_PER_BATCH]
        buildings = [
            Building(
                footprint=_geos(b.footprint),
                name=b.name,
                floors_above=b.floors_above,
                floors_below=b.floors_below,
                use=b.use,
                compound=compounds[b.compound],
                source_id=b.source_id,
            )
            for b in records
        ]
        services.bulk_add(buildings)
        # The database derives each building's community (trigger): read it back for the plates.
        stored = Building.objects.select_related("community__street_office__district").in_bulk(
            [b.pk for b in buildings]
        )
        buildings = [stored[b.pk] for b in buildings]
        entrances: dict[tuple[int, int], Entrance] = {}
        for building, record in zip(buildings, records, strict=True):
            for number in range(1, record.entrances + 1):
                entrances[(building.pk, number)] = Entrance(building=building, number=str(number))
        services.bulk_add(list(entrances.values()))
        rooms = [
            Room(
                building=building,
                entrance=entrances[(building.pk, r.entrance)],
                floor=r.floor,
                number=r.number,
                use=r.use,
                area_m2=r.area_m2,
                plan_geom=_geos(r.plan, srid=0),
                landlord=None if r.landlord is None else landlords[r.landlord],
            )
            for building, record in zip(buildings, records, strict=True)
            for r in record.rooms
        ]
        services.bulk_add(rooms)
        plates = [
            DoorPlate(
                building=building,
                road=record.plate_road,
                number=record.plate_number,
                building_number=record.plate_building_number,
                population_plate=record.population_plate,
            )
            for building, record in zip(buildings, records, strict=True)
        ]
        services.bulk_add(plates)
        counts["entrances"] += len(entrances)
        counts["rooms"] += len(rooms)
        counts["door_plates"] += len(plates)
        if progress is not None:
            progress(len(buildings))

    summary = {
        "districts": len(city.districts),
        "street_offices": len(city.offices),
        "communities": len(city.communities),
        "streets": len(streets),
        "compounds": len(compounds),
        "landlords": len(landlords),
        "buildings": len(city.buildings),
    }
    return summary | counts
