"""Loading the demo city: the database rules hold for the copied rows, the door plates are the
services' own, every row has its history, and an error leaves the database as it was."""

from __future__ import annotations

from collections import Counter

import pytest
import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.core.management import CommandError, call_command
from django.db.models import Count, F
from pghistory.models import Context
from shapely.affinity import translate

from data.city.generate import City, generate
from data.city.load import load_city
from gis import services
from gis.exceptions import ConflictError, GeometryError, InvalidInputError, TerritoryError
from gis.history import changes_of, event_model, undo_change
from gis.models import (
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

pytestmark = pytest.mark.django_db

LOADED = (Street, Compound, Landlord, Building, Entrance, Room, DoorPlate)
SQUARE = "MULTIPOLYGON(((112.3 32.3, 112.4 32.3, 112.4 32.4, 112.3 32.4, 112.3 32.3)))"


def small() -> City:
    """About 150 buildings: closed and mixed compounds, a market and public buildings."""
    return generate("demo", buildings=150)


def _nothing_stored() -> bool:
    return not any(m.objects.exists() for m in (District, StreetOffice, Community, *LOADED))


def test_a_small_city_loads_through_the_database_rules() -> None:
    city = small()
    progress: list[int] = []
    counts = load_city(city, progress=progress.append)
    assert sum(progress) == len(city.buildings) == counts["buildings"] == Building.objects.count()
    assert Room.objects.count() == city.room_count() == counts["rooms"]
    assert Entrance.objects.count() == sum(b.entrances for b in city.buildings)
    assert DoorPlate.objects.count() == len(city.buildings)
    assert Street.objects.count() == len(city.streets)
    assert Landlord.objects.count() == len(city.landlords)
    assert StreetOffice.objects.count() == len(city.offices)
    # The database derived every building's community from its footprint: the compound's.
    assert not Building.objects.exclude(community=F("compound__community")).exists()
    assert not Community.objects.annotate(n=Count("buildings")).filter(n=0).exists()
    # A room's landlord is registered in the room's community.
    assert (
        not Room.objects.exclude(landlord=None)
        .exclude(landlord__community=F("building__community"))
        .exists()
    )
    record = city.buildings[0]
    stored = Building.objects.get(source_id=record.source_id)
    assert stored.footprint.equals_exact(GEOSGeometry(record.footprint.wkt, srid=4326), 1e-12)
    uses = Counter(Room.objects.values_list("use", flat=True))
    assert uses == Counter(r.use for b in city.buildings for r in b.rooms)


def test_door_plates_are_the_ones_the_services_compose() -> None:
    load_city(small())
    plates = DoorPlate.objects.select_related(
        "building__community__street_office__district", "building__compound"
    )
    for plate in plates:
        fresh = DoorPlate(
            building=plate.building,
            road=plate.road,
            number=plate.number,
            building_number=plate.building_number,
        )
        services.compose_address(fresh)
        assert (plate.address, plate.search_key) == (fresh.address, fresh.search_key)
        assert (plate.district, plate.street_office, plate.community, plate.compound) == (
            fresh.district,
            fresh.street_office,
            fresh.community,
            fresh.compound,
        )
        # Where the services put a plate saved without a location: on the footprint's point on
        # surface (GEOS's; the database's is the building's centroid).
        assert plate.location.equals_exact(plate.building.footprint.point_on_surface, 1e-9)
        assert plate.location.equals_exact(plate.building.centroid, 1e-9)
    assert len({p.qr_token for p in plates}) == len(plates)


def test_every_loaded_row_has_its_insert_event_in_one_context() -> None:
    load_city(small())
    contexts = set()
    for model in LOADED:
        events = event_model(model)._default_manager
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if not getattr(f, "generated", False)  # generated in the event table too
        ]
        rows = set(model.objects.values_list(*fields))
        assert rows
        inserted = set(events.filter(pgh_label="insert").values_list(*fields))
        assert inserted == rows, model.__name__
        assert events.count() == len(rows)
        assert not events.exclude(pgh_obj_id=F("id")).exists()
        contexts |= set(events.values_list("pgh_context_id", flat=True))
    (context,) = contexts
    assert Context.objects.get(pk=context).metadata == {"user": None, "source": "demo_city"}


def test_a_change_to_a_loaded_room_can_be_undone() -> None:
    """Undo restores the state before the change, which for a loaded room is its insert event."""
    load_city(small())
    room = Room.objects.filter(use="owner_occupied").first()
    assert room is not None
    services.save_room(actor=None, data={"use": "vacant"}, instance=room)
    inserted, updated = changes_of(Room, room.pk)
    assert (inserted.label, updated.label) == ("insert", "update")
    assert updated.diff == {"use": ("owner_occupied", "vacant")}
    undo_change(actor=None, model=Room, pk=room.pk, event_id=updated.event_id)
    room.refresh_from_db()
    assert room.use == "owner_occupied"


def test_a_building_outside_every_community_is_refused_and_nothing_is_stored() -> None:
    city = small()
    last = city.buildings[-1]
    last.footprint = translate(last.footprint, 1.0, 1.0)  # a degree away from the districts
    with pytest.raises(InvalidInputError, match="building_in_community"):
        load_city(city)
    assert _nothing_stored()


def test_a_failed_load_leaves_the_history_triggers_on() -> None:
    city = small()
    city.buildings[-1].rooms[-1].floor = 99
    with pytest.raises(InvalidInputError):
        load_city(city)
    district = services.save_district(
        actor=None,
        data={"code": "420607", "name": "襄州区", "geom": GEOSGeometry(SQUARE, srid=4326)},
    )
    assert event_model(District)._default_manager.filter(pgh_obj_id=district.pk).count() == 1


def test_a_building_in_another_community_than_its_compound_is_refused() -> None:
    city = small()
    elsewhere = next(
        i
        for i, c in enumerate(city.compounds)
        if c.community != city.compounds[city.buildings[0].compound].community
    )
    city.buildings[0].compound = elsewhere
    with pytest.raises(TerritoryError, match="belongs to another community"):
        load_city(city)
    assert _nothing_stored()


def test_a_room_on_a_floor_its_building_lacks_is_refused() -> None:
    city = small()
    building = city.buildings[-1]
    building.rooms[-1].floor = building.floors_above + 1
    building.rooms[-1].number = f"{building.floors_above + 1}01"
    with pytest.raises(InvalidInputError, match="room_floor_in_building"):
        load_city(city)
    assert _nothing_stored()


def test_a_landlord_of_another_community_is_refused() -> None:
    city = small()
    building, room = next((b, r) for b in city.buildings for r in b.rooms if r.landlord is not None)
    community = city.compounds[building.compound].community
    room.landlord = next(i for i, x in enumerate(city.landlords) if x.community != community)
    with pytest.raises(InvalidInputError, match="registered in another community") as error:
        load_city(city)
    assert error.value.code == "landlord_elsewhere"
    assert _nothing_stored()


def test_a_second_plate_with_the_same_address_is_refused() -> None:
    city = small()
    first, second = city.buildings[0], city.buildings[1]
    assert city.compounds[first.compound] is city.compounds[second.compound]
    second.plate_building_number = first.plate_building_number
    with pytest.raises(ConflictError, match="geo_doorplate_address_key"):
        load_city(city)
    assert _nothing_stored()


def test_an_invalid_footprint_is_refused_as_the_services_refuse_it() -> None:
    city = small()
    x0, y0, x1, y1 = city.buildings[3].footprint.bounds
    city.buildings[3].footprint = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    with pytest.raises(GeometryError, match="Self-intersection") as error:
        load_city(city)
    assert error.value.code == "invalid_geometry"
    assert _nothing_stored()


def test_the_command_refuses_a_register_that_is_not_empty() -> None:
    load_city(generate("demo", buildings=30))
    with pytest.raises(CommandError, match="already holds districts"):
        call_command("demo_city")
    call_command("demo_city", "--if-empty")  # make run: nothing to do, no error
    assert Building.objects.count() > 0
