"""The demo city generator: deterministic, on the real outline, consistent, and calibrated.

Loading is tested in ``test_city_load.py``, the COPY helpers in ``test_city_copy.py``.
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import pairwise

import pytest
import shapely
from pyproj import Transformer

from data.city.generate import (
    DWELLING_USES,
    RENTED_SHARE,
    RURAL_RENTED_SHARE,
    City,
    generate,
    kind_weights,
    rented_share,
)
from data.city.outline import district_outlines
from gis.coords import wgs84_to_gcj02
from gis.models import CompoundKind, RoomUse

#: The issue's demo (seeds: Xiangfan, docs/demo-city.md) and the tolerances the tests allow.
DEMO_COMMUNITIES = (12, 2)  # ~12, ± 2
DEMO_BUILDINGS = (2_000, 0.10)  # ~2,000, ± 10 %
DEMO_ROOMS = (30_000, 0.10)  # ~30,000, ± 10 %
RENTED_OVERALL = (0.10, 0.015)  # ≈ 10 % of dwelling rooms rented, ± 1.5 points
#: Other seeds keep the calibration too (it does not hang on the default seed's luck).
OTHER_SEEDS = (1, 2, 3)


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
    other = generate("demo", seed=7)
    assert [b.footprint.wkb for b in other.buildings] != [b.footprint.wkb for b in city.buildings]


def _within(value: float, target: tuple[float, float], *, relative: bool = False) -> bool:
    centre, tolerance = target
    return abs(value - centre) <= (tolerance * centre if relative else tolerance)


def _rented_by_kind(city: City) -> tuple[Counter[str], Counter[str]]:
    """Dwelling rooms and rented rooms per compound kind."""
    dwellings: Counter[str] = Counter()
    rented: Counter[str] = Counter()
    for building in city.buildings:
        kind = city.compounds[building.compound].kind
        for room in building.rooms:
            if room.use in DWELLING_USES:
                dwellings[kind] += 1
                rented[kind] += room.use.startswith("rented")
    return dwellings, rented


def test_the_demo_size_is_the_issues(city: City) -> None:
    assert _within(len(city.communities), DEMO_COMMUNITIES), len(city.communities)
    assert _within(len(city.buildings), DEMO_BUILDINGS, relative=True), len(city.buildings)
    assert _within(city.room_count(), DEMO_ROOMS, relative=True), city.room_count()
    assert {c.kind for c in city.compounds} == set(CompoundKind.values)
    assert {s.kind for s in city.streets} == {"arterial", "local", "lane"}


@pytest.mark.parametrize("seed", OTHER_SEEDS)
def test_other_seeds_keep_the_calibration(seed: int) -> None:
    other = generate("demo", seed=seed)
    assert _within(len(other.communities), DEMO_COMMUNITIES)
    assert _within(len(other.buildings), DEMO_BUILDINGS, relative=True)
    assert _within(other.room_count(), DEMO_ROOMS, relative=True)
    dwellings, rented = _rented_by_kind(other)
    # Wider than the default seed's tolerance: a village more or less moves ~1.5 points.
    assert abs(sum(rented.values()) / sum(dwellings.values()) - RENTED_OVERALL[0]) <= 0.02


def test_kinds_move_from_the_centre_to_the_fringe() -> None:
    centre, fringe = kind_weights(0.0), kind_weights(1.0)
    share = {k: w / sum(centre.values()) for k, w in centre.items()}
    assert share["urban_village"] < 0.02 < share["market"]
    assert max(fringe, key=fringe.__getitem__) == "urban_village"
    assert rented_share("urban_village", 0.0) == RENTED_SHARE["urban_village"]
    assert rented_share("urban_village", 1.0) == pytest.approx(RURAL_RENTED_SHARE)
    assert rented_share("closed_property", 1.0) == RENTED_SHARE["closed_property"]


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
    """≈ 10 % of the dwelling rooms rented overall (the seeds), each kind near its share."""
    dwellings, rented = _rented_by_kind(city)
    overall = sum(rented.values()) / sum(dwellings.values())
    assert _within(overall, RENTED_OVERALL), overall
    for kind, tolerance in (("closed_property", 0.015), ("mixed_residential", 0.015)):
        assert rented[kind] / dwellings[kind] == pytest.approx(RENTED_SHARE[kind], abs=tolerance)
    # The demo's villages lie near the centre: close to the urban share (45 %).
    villages = rented["urban_village"] / dwellings["urban_village"]
    assert RENTED_SHARE["urban_village"] - 0.06 <= villages <= RENTED_SHARE["urban_village"]
    # Urban villages hold few of the dwellings but a large part of the rented rooms.
    assert dwellings["urban_village"] / sum(dwellings.values()) < 0.15
    assert rented["urban_village"] / sum(rented.values()) > 0.3
    assert dwellings["employer"] == 0  # staff dormitories are not let


def test_every_rented_room_has_a_landlord_who_lets_it(city: City) -> None:
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


def test_shops_are_on_the_lowest_floors(city: City) -> None:
    uses_by_floor: dict[str, Counter[int]] = {}
    for building in city.buildings:
        for room in building.rooms:
            if room.use == "commercial":
                uses_by_floor.setdefault(building.use, Counter())[room.floor] += 1
    assert set(uses_by_floor) == {"commercial", "mixed"}  # shops, halls, shop-houses
    assert set(uses_by_floor["mixed"]) == {1}  # a shop below, flats above
    assert max(uses_by_floor["commercial"]) <= 2
