"""A small deterministic fixture district for development, tests and ``make run``.

It stands in for the calibrated demo city (issue "Data in"): one district of Xiangyang (樊城区,
420606) drawn as a rectangle, two street offices, six communities, compounds of all six kinds,
buildings with floors, entrances and rooms, landlords and door plates. Everything is saved through
``gis.services`` (bulk paths), so the database rules apply.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import transaction

from gis import services
from gis.models import (
    Building,
    BuildingUse,
    Community,
    Compound,
    CompoundKind,
    DoorPlate,
    Entrance,
    Landlord,
    Room,
    RoomUse,
)

DISTRICT_CODE, DISTRICT_NAME = "420606", "樊城区"
BOUNDS = (112.100, 32.020, 112.220, 32.080)  # lon/lat rectangle standing in for the outline
OFFICES = [("001", "汉江街道"), ("002", "中原街道")]
COMMUNITY_NAMES = ["人民路社区", "长虹社区", "春园社区", "大庆社区", "丹江社区", "前进社区"]
ROADS_EW = ["人民路", "长征路", "解放路", "建设路", "前进路"]
ROADS_NS = ["汉江路", "樊西路", "春园路", "大庆路", "中原路", "丹江路", "星火路"]
KINDS = list(CompoundKind)
# Share of rooms rented, by compound kind (the calibrated table comes with the demo city).
RENTED_SHARE: dict[str, float] = {
    CompoundKind.CLOSED_PROPERTY: 0.12,
    CompoundKind.MIXED_RESIDENTIAL: 0.25,
    CompoundKind.URBAN_VILLAGE: 0.70,
    CompoundKind.MARKET: 0.30,
    CompoundKind.EMPLOYER: 0.85,
    CompoundKind.OTHER: 0.10,
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


@dataclass(frozen=True)
class FixtureSize:
    compounds_per_community: int = 6
    buildings_per_compound: int = 32


def _box(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return Polygon.from_bbox((x0, y0, x1, y1))


def _split(x0: float, x1: float, n: int) -> list[tuple[float, float]]:
    step = (x1 - x0) / n
    return [(x0 + i * step, x0 + (i + 1) * step) for i in range(n)]


@transaction.atomic
def load_fixture(*, size: FixtureSize | None = None, seed: int = 20091) -> dict[str, int]:
    """Create the fixture district; returns counts per model. The database must hold no district
    with the same code."""
    size = size or FixtureSize()
    rng = random.Random(seed)
    x0, y0, x1, y1 = BOUNDS
    district = services.save_district(
        actor=None,
        data={"code": DISTRICT_CODE, "name": DISTRICT_NAME, "geom": MultiPolygon(_box(*BOUNDS))},
    )
    communities: list[Community] = []
    names = iter(COMMUNITY_NAMES)
    for (ox0, ox1), (suffix, office_name) in zip(
        _split(x0, x1, len(OFFICES)), OFFICES, strict=True
    ):
        office = services.save_street_office(
            actor=None,
            data={
                "code": DISTRICT_CODE + suffix,
                "name": office_name,
                "district": district,
                "geom": MultiPolygon(_box(ox0, y0, ox1, y1)),
            },
        )
        for i, (cy0, cy1) in enumerate(_split(y0, y1, 3)):
            communities.append(
                services.save_community(
                    actor=None,
                    data={
                        "code": f"{office.code}{i + 1:03d}",
                        "name": next(names),
                        "street_office": office,
                        "geom": MultiPolygon(_box(ox0, cy0, ox1, cy1)),
                    },
                )
            )
    counts = {"districts": 1, "street_offices": len(OFFICES), "communities": len(communities)}
    totals = {"compounds": 0, "buildings": 0, "rooms": 0, "door_plates": 0, "landlords": 0}
    for community in communities:
        for key, value in _fill_community(community, size, rng).items():
            totals[key] += value
    return counts | totals


def _fill_community(community: Community, size: FixtureSize, rng: random.Random) -> dict[str, int]:
    cx0, cy0, cx1, cy1 = community.geom.extent
    cols = 3
    rows = -(-size.compounds_per_community // cols)
    margin_x, margin_y = (cx1 - cx0) * 0.04, (cy1 - cy0) * 0.05
    compounds: list[Compound] = []
    for index in range(size.compounds_per_community):
        r, c = divmod(index, cols)
        bx0 = cx0 + (cx1 - cx0) * c / cols + margin_x
        bx1 = cx0 + (cx1 - cx0) * (c + 1) / cols - margin_x
        by1 = cy1 - (cy1 - cy0) * r / rows - margin_y
        by0 = cy1 - (cy1 - cy0) * (r + 1) / rows + margin_y
        kind = KINDS[(index + int(community.code[-1])) % len(KINDS)]
        compounds.append(
            Compound(
                name=f"{community.name[:2]}{'甲乙丙丁戊己庚辛壬癸'[index % 10]}{_compound_suffix(kind)}",
                kind=kind,
                community=community,
                geom=MultiPolygon(_box(bx0, by0, bx1, by1)),
                responsible_body=_responsible_body(kind),
            )
        )
    services.bulk_add(compounds)

    landlords = [
        Landlord(
            name=rng.choice(SURNAMES)
            + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
            phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            community=community,
        )
        for _ in range(size.compounds_per_community * 4)
    ]
    services.bulk_add(landlords)

    buildings: list[Building] = []
    for compound in compounds:
        buildings.extend(_buildings_in(compound, size.buildings_per_compound, rng))
    services.bulk_add(buildings)
    by_id = {
        b.pk: b
        for b in Building.objects.filter(pk__in=[b.pk for b in buildings]).select_related(
            "compound", "community__street_office__district"
        )
    }
    buildings = [by_id[b.pk] for b in buildings]

    entrances, rooms = [], []
    for building in buildings:
        units = 1 if _compound(building).kind == CompoundKind.URBAN_VILLAGE else rng.randint(1, 3)
        building_entrances = [Entrance(building=building, number=str(u + 1)) for u in range(units)]
        entrances.extend(building_entrances)
    services.bulk_add(entrances)
    by_building: dict[int, list[Entrance]] = {}
    for entrance in entrances:
        by_building.setdefault(entrance.building_id, []).append(entrance)

    for building in buildings:
        building_kind = _compound(building).kind
        share = RENTED_SHARE[building_kind]
        owner = rng.choice(landlords)
        for entrance in by_building[building.pk]:
            for floor in range(1, building.floors_above + 1):
                for unit_room in range(1, 3):
                    rented = rng.random() < share
                    use = (
                        rng.choice([RoomUse.RENTED_WHOLE, RoomUse.RENTED_SHARED])
                        if rented
                        else (RoomUse.VACANT if rng.random() < 0.06 else RoomUse.OWNER_OCCUPIED)
                    )
                    if building_kind == CompoundKind.MARKET and floor == 1:
                        use = RoomUse.COMMERCIAL
                    rooms.append(
                        Room(
                            building=building,
                            entrance=entrance,
                            floor=floor,
                            number=f"{floor}{unit_room:02d}",
                            use=use,
                            area_m2=round(rng.uniform(18, 120), 1),
                            plan_geom=_room_plan(unit_room),
                            landlord=owner if rented else None,
                        )
                    )
    services.bulk_add(rooms)

    # One plate per building: the compound's road and number (odd numbers on this side of the
    # road, one per compound), then the building's number inside the compound.
    road = ROADS_EW[int(community.code[-1]) % len(ROADS_EW)]
    compound_number = {c.pk: str(2 * i + 1) for i, c in enumerate(compounds)}
    plates = [
        DoorPlate(
            building=building,
            road=road,
            number=compound_number[_compound(building).pk],
            building_number=str(building.source_id).rsplit(":", 1)[1],
            population_plate=_compound(building).kind
            in (CompoundKind.URBAN_VILLAGE, CompoundKind.EMPLOYER)
            or rng.random() < 0.3,
        )
        for building in buildings
    ]
    services.bulk_add(plates)
    return {
        "compounds": len(compounds),
        "buildings": len(buildings),
        "rooms": len(rooms),
        "door_plates": len(plates),
        "landlords": len(landlords),
    }


def _buildings_in(compound: Compound, count: int, rng: random.Random) -> list[Building]:
    """Slabs or houses on a grid inside the compound, numbered north→south, then west→east."""
    x0, y0, x1, y1 = compound.geom.extent
    cols = max(2, round(count**0.5))
    rows = -(-count // cols)
    cell_w, cell_h = (x1 - x0) / cols, (y1 - y0) / rows
    kind = compound.kind
    floors_by_kind: dict[str, tuple[int, int]] = {
        CompoundKind.CLOSED_PROPERTY: (6, 18),
        CompoundKind.MIXED_RESIDENTIAL: (5, 7),
        CompoundKind.URBAN_VILLAGE: (4, 7),
        CompoundKind.MARKET: (2, 4),
        CompoundKind.EMPLOYER: (4, 6),
        CompoundKind.OTHER: (2, 6),
    }
    floors_range = floors_by_kind[kind]
    uses: dict[str, str] = {
        CompoundKind.MARKET: BuildingUse.COMMERCIAL,
        CompoundKind.EMPLOYER: BuildingUse.DORMITORY,
        CompoundKind.URBAN_VILLAGE: BuildingUse.MIXED,
    }
    use = uses.get(kind, BuildingUse.RESIDENTIAL)
    fill = 0.45 if kind == CompoundKind.URBAN_VILLAGE else 0.35
    buildings = []
    number = 0
    for c in range(cols):
        for r in range(rows):
            if number == count:
                break
            number += 1
            bx0 = x0 + c * cell_w + cell_w * (1 - fill) / 2
            by1 = y1 - r * cell_h - cell_h * (1 - fill) / 2
            buildings.append(
                Building(
                    footprint=_box(bx0, by1 - cell_h * fill, bx0 + cell_w * fill, by1),
                    name=f"{compound.name}{number}栋",
                    floors_above=rng.randint(*floors_range),
                    floors_below=1 if kind == CompoundKind.CLOSED_PROPERTY else 0,
                    use=use,
                    compound=compound,
                    source_id=f"fixture:{compound.community.code}:{compound.name}:{number}",
                )
            )
    return buildings


def _compound(building: Building) -> Compound:
    if building.compound is None:  # every fixture building stands in a compound
        raise ValueError(f"fixture building {building.pk} has no compound")
    return building.compound


def _room_plan(unit_room: int) -> Polygon:
    x = 0.0 if unit_room == 1 else 8.0
    return Polygon(((x, 0), (x + 8, 0), (x + 8, 10), (x, 10), (x, 0)), srid=0)


def _compound_suffix(kind: str) -> str:
    suffixes: dict[str, str] = {
        CompoundKind.CLOSED_PROPERTY: "花园",
        CompoundKind.MIXED_RESIDENTIAL: "小区",
        CompoundKind.URBAN_VILLAGE: "村",
        CompoundKind.MARKET: "市场",
        CompoundKind.EMPLOYER: "厂区",
        CompoundKind.OTHER: "大院",
    }
    return suffixes[kind]


def _responsible_body(kind: str) -> str:
    bodies: dict[str, str] = {
        CompoundKind.CLOSED_PROPERTY: "物业服务有限公司",
        CompoundKind.MIXED_RESIDENTIAL: "社区居委会",
        CompoundKind.URBAN_VILLAGE: "村民委员会",
        CompoundKind.MARKET: "市场经营管理公司",
        CompoundKind.EMPLOYER: "用工单位",
        CompoundKind.OTHER: "社区居委会",
    }
    return bodies[kind]
