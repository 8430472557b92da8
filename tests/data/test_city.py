"""The demo city generator: deterministic, on the real outline, consistent, and loadable."""

from __future__ import annotations

import math
from collections import Counter
from itertools import pairwise

import pytest
import shapely
from django.core.management import CommandError, call_command
from django.db.models import Count, F
from pyproj import Transformer

from data.city.generate import City, generate
from data.city.load import load_city
from data.city.outline import district_outlines
from gis.coords import wgs84_to_gcj02
from gis.models import (
    Building,
    Community,
    CompoundKind,
    DoorPlate,
    Room,
    RoomUse,
    Street,
    StreetOffice,
)


@pytest.fixture(scope="module")
def city() -> City:
    return generate("demo")


def test_the_outlines_are_the_two_real_districts_in_wgs84() -> None:
    outlines = {o.code: o for o in district_outlines()}
    assert {c: o.name for c, o in outlines.items()} == {"420602": "襄城区", "420606": "樊城区"}
    for outline in outlines.values():
        assert outline.boundary.is_valid
        assert outline.boundary.contains(outline.centre)
        minx, miny, maxx, maxy = outline.boundary.bounds
        assert 111.5 < minx < maxx < 112.5 and 31.5 < miny < maxy < 32.5
    # Districts on either side of the Han river do not overlap.
    area = outlines["420602"].boundary.intersection(outlines["420606"].boundary).area
    assert area < 1e-6


def test_the_outline_is_converted_from_gcj02() -> None:
    """The file is GCJ-02: the stored WGS84 point, shifted forward again, is the file's point,
    some 600 m away from it."""
    outline = district_outlines()[1]
    source = (112.135684, 32.044832)  # 樊城区 label point in the file
    assert wgs84_to_gcj02(outline.centre.x, outline.centre.y) == pytest.approx(source, abs=1e-7)
    assert 0.004 < math.dist(source, (outline.centre.x, outline.centre.y)) < 0.01


def test_the_same_seed_gives_the_same_city(city: City) -> None:
    again = generate("demo")
    assert [b.source_id for b in again.buildings] == [b.source_id for b in city.buildings]
    assert again.room_count() == city.room_count()
    assert generate("demo", seed=7).buildings[0].footprint != city.buildings[0].footprint


def test_the_demo_size(city: City) -> None:
    assert 1_900 <= len(city.buildings) <= 2_400
    assert 8 <= len(city.communities) <= 20
    assert {c.kind for c in city.compounds} == set(CompoundKind.values)
    assert {s.kind for s in city.streets} == {"arterial", "local", "lane"}


def test_codes_extend_their_parents_and_are_numbered(city: City) -> None:
    for office in city.offices:
        assert office.code.startswith(office.district) and len(office.code) == 9
    codes = [c.code for c in city.communities]
    assert len(set(codes)) == len(codes)
    for community in city.communities:
        assert community.code.startswith(community.office) and len(community.code) == 12


def test_territory_nests_without_overlaps(city: City) -> None:
    districts = {o.code: o.boundary for o in city.districts}
    offices = {o.code: o.boundary for o in city.offices}
    for office in city.offices:
        assert office.boundary.is_valid
        assert office.boundary.difference(districts[office.district]).area < 1e-10
    for community in city.communities:
        assert community.boundary.is_valid
        assert community.boundary.difference(offices[community.office]).area < 1e-10
    boundaries = [c.boundary for c in city.communities]
    overlap = sum(
        a.intersection(b).area for i, a in enumerate(boundaries) for b in boundaries[i + 1 :]
    )
    assert overlap < 1e-10


def test_buildings_stand_in_their_compound_and_do_not_overlap(city: City) -> None:
    compounds = [c.boundary for c in city.compounds]
    shapely.prepare(compounds)
    for building in city.buildings:
        assert building.footprint.is_valid
        assert compounds[building.compound].contains(building.footprint)
    footprints = [b.footprint for b in city.buildings]
    tree = shapely.STRtree(footprints)
    pairs = tree.query(footprints, predicate="overlaps")
    assert pairs.shape[1] == 0


def test_door_plates_follow_the_numbering_rules(city: City) -> None:
    metric = Transformer.from_crs(4326, 4546, always_xy=True)
    addresses = Counter(
        (
            city.compounds[b.compound].community[:6],  # the district: road names repeat across
            b.plate_road,
            b.plate_number,
            b.plate_building_number,
        )
        for b in city.buildings
    )
    assert max(addresses.values()) == 1, addresses.most_common(3)
    by_compound: dict[int, list] = {}
    for building in city.buildings:
        by_compound.setdefault(building.compound, []).append(building)
    for index, buildings in by_compound.items():
        if city.compounds[index].kind == "urban_village":
            # Each house on its lane; north of the lane odd, south even.
            for house in buildings:
                assert house.plate_road.endswith("巷") and house.plate_building_number == ""
            continue
        numbers = {b.plate_number for b in buildings}
        assert len(numbers) == 1  # one compound, one gate number on its road
        # Numbered north→south by row (grid northing, metres), then east→west in a row.
        corners = [metric.transform(*b.footprint.exterior.coords[2]) for b in buildings]
        for (x1, top1), (x2, top2) in pairwise(corners):  # corner 2: north-east
            assert top1 >= top2 - 0.5
            if abs(top1 - top2) < 0.5:
                assert x1 > x2


def test_rooms_are_numbered_by_floor_left_to_right(city: City) -> None:
    building = next(b for b in city.buildings if b.entrances >= 2 and b.rooms)
    floor_two = [r for r in building.rooms if r.floor == 2 and r.entrance == 1]
    assert [r.number for r in floor_two] == [f"2{k:02d}" for k in range(1, len(floor_two) + 1)]
    lefts = [r.plan.bounds[0] for r in floor_two]
    assert lefts == sorted(lefts)
    for room in building.rooms:
        assert 1 <= room.floor <= building.floors_above


def test_rented_shares_follow_the_calibration(city: City) -> None:
    dwellings: Counter[str] = Counter()
    rented: Counter[str] = Counter()
    for building in city.buildings:
        kind = city.compounds[building.compound].kind
        for room in building.rooms:
            if room.use in ("owner_occupied", "vacant", "rented_whole", "rented_shared"):
                dwellings[kind] += 1
                rented[kind] += room.use.startswith("rented")
    assert rented["urban_village"] / dwellings["urban_village"] == pytest.approx(0.45, abs=0.05)
    assert rented["closed_property"] / dwellings["closed_property"] == pytest.approx(0.04, abs=0.02)
    overall = sum(rented.values()) / sum(dwellings.values())
    assert 0.08 < overall < 0.20
    letting: Counter[int | None] = Counter()
    for building in city.buildings:
        for room in building.rooms:
            assert room.use in RoomUse.values
            assert (room.landlord is not None) == room.use.startswith("rented")
            letting[room.landlord] += 1
    # Every landlord lets something; a village house has one landlord, its owner.
    assert set(letting) - {None} == set(range(len(city.landlords)))
    for building in city.buildings:
        if building.plate_road.endswith("巷"):
            assert len({r.landlord for r in building.rooms} - {None}) <= 1


@pytest.mark.django_db
def test_a_small_city_loads_through_the_database_rules() -> None:
    small = generate("demo", buildings=120)
    counts = load_city(small)
    assert counts["buildings"] == Building.objects.count() == len(small.buildings)
    assert Room.objects.count() == small.room_count() == counts["rooms"]
    assert DoorPlate.objects.count() == len(small.buildings)
    assert Street.objects.count() == len(small.streets)
    assert StreetOffice.objects.count() == len(small.offices)
    # The database derived every building's community from its footprint: the compound's.
    assert not Building.objects.exclude(community=F("compound__community")).exists()
    assert not Community.objects.annotate(n=Count("buildings")).filter(n=0).exists()
    record = small.buildings[0]
    plate = DoorPlate.objects.get(building__source_id=record.source_id)
    assert (plate.road, plate.number) == (record.plate_road, record.plate_number)
    assert plate.address.startswith(plate.district) and record.plate_road in plate.address


@pytest.mark.django_db
def test_the_command_refuses_a_register_that_is_not_empty() -> None:
    load_city(generate("demo", buildings=30))
    with pytest.raises(CommandError, match="already holds districts"):
        call_command("demo_city")
    call_command("demo_city", "--if-empty")  # make run: nothing to do, no error
    assert Building.objects.count() > 0
