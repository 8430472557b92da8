"""The demo city generator: a deterministic city of streets, compounds, buildings and rooms.

Pure: no database. :func:`generate` returns plain records in WGS84; :mod:`data.city.load` stores
them. Everything is laid out in the city's metric CRS (``METRIC_SRID``, metres east/north) on a
street grid grown cell by cell from each district's urban centre, inside the real outline:

* streets: arterials every ``ARTERIAL_EVERY`` grid lines (30 m wide), local streets on the other
  grid lines (14 m), lanes (4 m) between the house rows of urban villages;
* one compound per grid cell (the block inside its streets), its kind drawn with weights that
  move from the centre (markets, mixed compounds) to the fringe (urban villages, employers);
* buildings by the kind's template (slabs, towers, village houses, market halls, dormitories),
  numbered north→south, then east→west, inside their compound;
* door plates by GB/T 35639: a compound's number on the road its gate opens to, odd on the north
  or east side of the road and even on the other, growing from the road's west or south end;
  a village house has its own plate on its lane;
* rooms per floor and entrance, numbered floor + two digits, left→right; uses drawn from the
  calibration table (:data:`RENTED_SHARE`, see ``docs/demo-city.md``);
* communities are connected groups of up to 5×5 cells, street offices groups of up to 3×3
  communities' squares; codes numbered north→south, then west→east.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import Transformer
from shapely import box

from .outline import DistrictOutline, district_outlines

CELL_W, CELL_H = 200.0, 160.0  # grid cell (street centreline to centreline), metres
ARTERIAL_EVERY = 4  # every 4th grid line is an arterial road
HALF_WIDTH = {"arterial": 15.0, "local": 7.0}
# A community groups up to 5×5 cells; a street office up to 3×3 communities' squares.
COMMUNITY_CELLS, OFFICE_COMMUNITIES = 5, 3
PLATE_SPACING = 20.0  # metres of frontage per door-plate number


#: Share of dwelling rooms that are rented, by compound kind (calibrated: docs/demo-city.md).
RENTED_SHARE = {
    "closed_property": 0.04,
    "mixed_residential": 0.08,
    "urban_village": 0.45,
    "market": 0.25,
    "employer": 0.0,  # staff dormitories are provided by the employer, not rented
    "other": 0.05,
}
#: Of the rented rooms, the share rented to several unrelated tenants (合租) rather than whole.
SHARED_SHARE = {"urban_village": 0.6, "market": 0.5}
VACANT_SHARE = 0.06
RENTED = ("rented_whole", "rented_shared")
#: Rooms side by side per entrance and floor (village houses draw 2–3, towers have 4).
ROOMS_PER_ENTRANCE = {"market": 6, "employer": 8}
HOUSE_WIDTH, HOUSE_GAP = 10.0, 2.0  # village house plots along a lane, metres
HOUSE_PITCH = HOUSE_WIDTH + HOUSE_GAP


@dataclass(frozen=True)
class Size:
    buildings: int
    description: str


SIZES = {
    "demo": Size(2_000, "~12 communities, ~2,000 buildings"),
    "district": Size(50_000, "~50,000 buildings"),
    "city": Size(500_000, "~500,000 buildings"),
}
#: Share of the buildings per district (樊城区 is the larger urban area).
DISTRICT_SHARE = {"420606": 0.55, "420602": 0.45}

OFFICE_NAMES = {
    "420606": ["汉江街道", "王寨街道", "中原街道", "定中门街道", "清河口街道", "屏襄门街道",
               "米公街道", "柿铺街道", "七里河街道", "太平店镇", "牛首镇", "米庄镇"],
    "420602": ["古城街道", "真武山街道", "庞公街道", "檀溪街道", "隆中街道", "余家湖街道",
               "尹集乡", "卧龙镇", "欧庙镇"],
}  # fmt: skip
ARTERIAL_NAMES = ["人民路", "长征路", "解放路", "建设路", "前进路", "中原路", "汉江路", "春园路",
                  "大庆路", "丹江路", "檀溪路", "鼓楼路", "胜利街", "邓城大道", "航空路", "卧龙大道",
                  "襄城大道", "环城路", "荆州街", "南街", "北街", "东津大道", "长虹路", "樊西路"]  # fmt: skip
NAME_PARTS = (
    "春华秋实东西南北新旧和平安康永泰兴隆明德仁义礼智信福寿文化光辉长青丰乐民生园林团结友谊"
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰海燕春梅德文凤"


# ---------------------------------------------------------------------------------------------
# Records (WGS84 geometries; references by index into the city's lists)


@dataclass
class StreetRec:
    district: str
    name: str
    kind: str
    line: shapely.LineString
    source_id: str


@dataclass
class OfficeRec:
    code: str
    name: str
    district: str
    boundary: shapely.MultiPolygon


@dataclass
class CommunityRec:
    code: str
    name: str
    office: str
    committee: str
    boundary: shapely.MultiPolygon


@dataclass
class CompoundRec:
    name: str
    kind: str
    community: str
    boundary: shapely.MultiPolygon
    responsible_body: str


@dataclass
class LandlordRec:
    name: str
    phone: str
    community: str


@dataclass
class RoomRec:
    entrance: int  # 1-based entrance number
    floor: int
    number: str
    use: str
    area_m2: float
    plan: shapely.Polygon  # metres, building frame (srid 0)
    landlord: int | None  # index into City.landlords


@dataclass
class BuildingRec:
    compound: int  # index into City.compounds
    name: str
    footprint: shapely.Polygon
    floors_above: int
    floors_below: int
    use: str
    source_id: str
    entrances: int
    plate_road: str
    plate_number: str
    plate_building_number: str
    population_plate: bool
    rooms: list[RoomRec] = field(default_factory=list)


@dataclass
class City:
    districts: list[DistrictOutline]
    streets: list[StreetRec] = field(default_factory=list)
    offices: list[OfficeRec] = field(default_factory=list)
    communities: list[CommunityRec] = field(default_factory=list)
    compounds: list[CompoundRec] = field(default_factory=list)
    landlords: list[LandlordRec] = field(default_factory=list)
    buildings: list[BuildingRec] = field(default_factory=list)

    def room_count(self) -> int:
        return sum(len(b.rooms) for b in self.buildings)


# ---------------------------------------------------------------------------------------------
# Layout in metres


@dataclass
class _Cell:
    i: int
    j: int
    kind: str = ""
    #: The compound's buildings as laid out by its template (metres), and its lanes.
    footprints: list[tuple[shapely.Polygon, int, int | None]] = field(default_factory=list)
    lanes: list[tuple[float, float, float]] = field(default_factory=list)
    community: int = -1  # index into City.communities
    compound: int = -1


@dataclass
class _Grid:
    """The street grid of one district: cell (i, j) spans x0 + i·W … and y0 + j·H …."""

    district: DistrictOutline
    x0: float
    y0: float
    cells: dict[tuple[int, int], _Cell] = field(default_factory=dict)
    #: Street name per grid line: ("x", i) runs north–south, ("y", j) east–west.
    names: dict[tuple[str, int], str] = field(default_factory=dict)

    def cell_box(self, i: int, j: int) -> shapely.Polygon:
        x, y = self.x0 + i * CELL_W, self.y0 + j * CELL_H
        return box(x, y, x + CELL_W, y + CELL_H)

    @staticmethod
    def line_kind(index: int) -> str:
        return "arterial" if index % ARTERIAL_EVERY == 0 else "local"

    def block(self, i: int, j: int) -> tuple[float, float, float, float]:
        """The buildable block of cell (i, j): the cell minus half of each street around it."""
        x, y = self.x0 + i * CELL_W, self.y0 + j * CELL_H
        return (
            x + HALF_WIDTH[self.line_kind(i)],
            y + HALF_WIDTH[self.line_kind(j)],
            x + CELL_W - HALF_WIDTH[self.line_kind(i + 1)],
            y + CELL_H - HALF_WIDTH[self.line_kind(j + 1)],
        )


class _Projector:
    def __init__(self, metric_srid: int) -> None:
        self.forward = Transformer.from_crs(4326, metric_srid, always_xy=True)
        self.back = Transformer.from_crs(metric_srid, 4326, always_xy=True)

    def to_metric(self, geom: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geom, lambda c: np.column_stack(self.forward.transform(*c.T)))

    def to_wgs84(self, geom: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geom, lambda c: np.column_stack(self.back.transform(*c.T)))


def generate(
    size: str = "demo",
    *,
    seed: int = 20091,
    metric_srid: int = 4546,
    buildings: int | None = None,
) -> City:
    """The whole city for ``size`` ("demo", "district" or "city"), or for about ``buildings``
    buildings when given (tests); the same seed gives the same city."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}: use one of {', '.join(SIZES)}")
    target = buildings if buildings is not None else SIZES[size].buildings
    rng = random.Random(seed)
    projector = _Projector(metric_srid)
    city = City(districts=district_outlines())
    builder = _Builder(city, rng, projector)
    for outline in city.districts:
        builder.district(outline, round(target * DISTRICT_SHARE[outline.code]))
    return city


class _Builder:
    def __init__(self, city: City, rng: random.Random, projector: _Projector) -> None:
        self.city, self.rng, self.p = city, rng, projector
        self.names_used: set[str] = set()

    # -- names ------------------------------------------------------------------------------

    def _unique_name(self, suffix: str, length: int = 2) -> str:
        for _ in range(1000):
            name = "".join(self.rng.choice(NAME_PARTS) for _ in range(length)) + suffix
            if name not in self.names_used:
                self.names_used.add(name)
                return name
        return self._unique_name(suffix, length + 1)

    def _person(self) -> str:
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.randint(1, 2)))
        return self.rng.choice(SURNAMES) + given

    # -- one district -----------------------------------------------------------------------

    def district(self, outline: DistrictOutline, target_buildings: int) -> None:
        boundary = self.p.to_metric(outline.boundary)
        inner = boundary.buffer(-30.0)
        shapely.prepare(inner)
        centre = self.p.to_metric(outline.centre)
        grid = _Grid(outline, centre.x - CELL_W / 2, centre.y - CELL_H / 2)
        # Cells are laid out until their compounds hold the target number of buildings; the
        # buildings are recorded once the communities (and so the codes) are known.
        laid_out = 0
        for cell in self._grow(grid, inner):
            if laid_out >= target_buildings:
                break
            cell.kind = self._kind(math.hypot(cell.i * CELL_W, cell.j * CELL_H))
            cell.footprints, cell.lanes = _footprints(
                cell.kind, grid.block(cell.i, cell.j), self.rng
            )
            grid.cells[(cell.i, cell.j)] = cell
            laid_out += len(cell.footprints)
        self._territory(grid, boundary)
        self._streets(grid)
        for cell in sorted(grid.cells.values(), key=lambda c: (-c.j, c.i)):
            self._compound(grid, cell)

    def _grow(self, grid: _Grid, inner: shapely.Geometry) -> Iterator[_Cell]:
        """Cells inside the district, breadth first from the centre cell (4-neighbours)."""
        queue: deque[tuple[int, int]] = deque([(0, 0)])
        seen = {(0, 0)}
        while queue:
            i, j = queue.popleft()
            if not inner.contains(grid.cell_box(i, j)):
                continue
            yield _Cell(i, j)
            for di, dj in ((1, 0), (0, 1), (-1, 0), (0, -1)):
                key = (i + di, j + dj)
                if key not in seen:
                    seen.add(key)
                    queue.append(key)

    def _kind(self, distance: float) -> str:
        fringe = min(1.0, distance / 4000.0)
        weights = {
            "closed_property": 0.30,
            "mixed_residential": 0.32 - 0.12 * fringe,
            "urban_village": 0.03 + 0.06 * fringe,
            "market": 0.08 - 0.05 * fringe,
            "employer": 0.05 + 0.08 * fringe,
            "other": 0.07,
        }
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    # -- territory --------------------------------------------------------------------------

    def _territory(self, grid: _Grid, boundary: shapely.Geometry) -> None:
        code = grid.district.code
        offices = _groups(grid.cells, COMMUNITY_CELLS * OFFICE_COMMUNITIES)
        office_names = iter(OFFICE_NAMES[code] + [f"第{n}街道" for n in range(1, 1000)])
        for office_number, office_cells in enumerate(_ordered(offices), start=1):
            office_code = f"{code}{office_number:03d}"
            office_boundary = self._union(grid, office_cells, boundary)
            self.city.offices.append(
                OfficeRec(office_code, next(office_names), code, office_boundary)
            )
            communities = _groups({k: grid.cells[k] for k in office_cells}, COMMUNITY_CELLS)
            for number, cells in enumerate(_ordered(communities), start=1):
                villages = sum(grid.cells[k].kind == "urban_village" for k in cells)
                committee = "villagers" if villages * 2 > len(cells) else "residents"
                name = self._unique_name("村" if committee == "villagers" else "社区")
                for key in cells:
                    grid.cells[key].community = len(self.city.communities)
                self.city.communities.append(
                    CommunityRec(
                        f"{office_code}{number:03d}",
                        name,
                        office_code,
                        committee,
                        self._union(grid, cells, boundary),
                    )
                )

    def _union(
        self, grid: _Grid, cells: list[tuple[int, int]], boundary: shapely.Geometry
    ) -> shapely.MultiPolygon:
        # Cells share edges exactly (same grid arithmetic): the union has no slivers. Clipped to
        # the outline in metres, then converted.
        union = shapely.union_all([grid.cell_box(i, j) for i, j in cells]).intersection(boundary)
        return _multi(self.p.to_wgs84(union))

    # -- streets ----------------------------------------------------------------------------

    def _streets(self, grid: _Grid) -> None:
        """Grid lines that border at least one cell, cut where no cell borders them."""
        code = grid.district.code
        columns = sorted({i for i, _ in grid.cells})
        rows = sorted({j for _, j in grid.cells})
        arterial_names = iter(ARTERIAL_NAMES)
        for axis, indices in (
            ("x", range(columns[0], columns[-1] + 2)),
            ("y", range(rows[0], rows[-1] + 2)),
        ):
            for index in indices:
                kind = grid.line_kind(index)
                name = next(arterial_names, None) if kind == "arterial" else None
                if name is None:
                    name = self._unique_name("路" if axis == "y" else "街")
                grid.names[(axis, index)] = name
                segments = self._line_segments(grid, axis, index)
                for part, (start, end) in enumerate(segments):
                    line = self.p.to_wgs84(shapely.LineString([start, end]))
                    self.city.streets.append(
                        StreetRec(code, name, kind, line, f"demo:{code}:{axis}{index}:{part}")
                    )

    def _line_segments(
        self, grid: _Grid, axis: str, index: int
    ) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        """Runs of the grid line ``index`` along which a cell lies on either side."""
        north_south = axis == "x"  # x = x0 + index·W over rows j, or y = y0 + index·H over i
        steps = sorted(
            {
                (j if north_south else i)
                for (i, j) in grid.cells
                if (i if north_south else j) in (index - 1, index)
            }
        )

        def at(k: int) -> tuple[float, float]:
            if north_south:
                return (grid.x0 + index * CELL_W, grid.y0 + k * CELL_H)
            return (grid.x0 + k * CELL_W, grid.y0 + index * CELL_H)

        runs: list[tuple[tuple[float, float], tuple[float, float]]] = []
        start = previous = steps[0]
        for k in [*steps[1:], None]:
            if k is not None and k == previous + 1:
                previous = k
                continue
            runs.append((at(start), at(previous + 1)))
            if k is not None:
                start = previous = k
        return runs

    # -- compounds, buildings, rooms ---------------------------------------------------------

    def _compound(self, grid: _Grid, cell: _Cell) -> None:
        community = self.city.communities[cell.community]
        if not cell.footprints:
            return
        block = grid.block(cell.i, cell.j)
        name = self._unique_name(COMPOUND_SUFFIX[cell.kind])
        cell.compound = len(self.city.compounds)
        self.city.compounds.append(
            CompoundRec(
                name,
                cell.kind,
                community.code,
                _multi(self.p.to_wgs84(box(*block))),
                RESPONSIBLE_BODY[cell.kind],
            )
        )
        # The gate opens south on even rows (north side of that road: odd numbers) and north on
        # odd rows (south side of the next road: even numbers).
        gate_south = cell.j % 2 == 0
        road_index = cell.j if gate_south else cell.j + 1
        road = grid.names[("y", road_index)]
        west_end = min(i for i, j in grid.cells if j in (road_index - 1, road_index))
        frontage = (cell.i - west_end) * CELL_W + CELL_W / 2
        slot = int(frontage // PLATE_SPACING)
        number = str(2 * slot + 1 if gate_south else 2 * slot + 2)

        lane_names = self._lanes(grid, name, cell.lanes)
        compound_landlords = _Landlords(self, community.code, one_owner=False)
        for index, (footprint, floors, lane) in enumerate(_numbered(cell.footprints), start=1):
            plate = (road, number, str(index))
            if lane is not None:
                # A village house has its own plate on its lane, numbered along it.
                lane_name, lane_y, lane_x0 = lane_names[lane]
                slot = int((footprint.centroid.x - lane_x0) // HOUSE_PITCH)
                north = footprint.centroid.y > lane_y
                plate = (lane_name, str(2 * slot + 1 if north else 2 * slot + 2), "")
            building = self._building(cell, name, index, footprint, floors, plate)
            # A village house is let by its owner; flats by landlords of the compound.
            if lane is None:
                landlords = compound_landlords
            else:
                landlords = _Landlords(self, community.code, one_owner=True)
            self._rooms(building, cell.kind, footprint, landlords)
            self.city.buildings.append(building)

    def _lanes(
        self, grid: _Grid, village: str, lanes: list[tuple[float, float, float]]
    ) -> list[tuple[str, float, float]]:
        """Store the village's lanes; (name, y, west x) per lane."""
        named = []
        for number, (y, x0, x1) in enumerate(lanes, start=1):
            lane_name = f"{village.removesuffix('村')}{_chinese_number(number)}巷"
            line = self.p.to_wgs84(shapely.LineString([(x0, y), (x1, y)]))
            code = grid.district.code
            self.city.streets.append(
                StreetRec(code, lane_name, "lane", line, f"demo:{code}:{village}:lane{number}")
            )
            named.append((lane_name, y, x0))
        return named

    def _building(
        self,
        cell: _Cell,
        compound_name: str,
        index: int,
        footprint: shapely.Polygon,
        floors: int,
        plate: tuple[str, str, str],
    ) -> BuildingRec:
        kind = cell.kind
        length = footprint.bounds[2] - footprint.bounds[0]
        entrances = 1 if kind in ("urban_village", "market") else max(1, round(length / 20))
        if kind == "employer" and floors <= 2:
            use = "industrial"
        else:
            use = BUILDING_USE[kind]
        return BuildingRec(
            compound=cell.compound,
            name=f"{compound_name}{index}栋",
            footprint=self.p.to_wgs84(footprint),
            floors_above=floors,
            floors_below=1 if kind == "closed_property" else 0,
            use=use,
            source_id=f"demo:{compound_name}:{index}",
            entrances=entrances,
            plate_road=plate[0],
            plate_number=plate[1],
            plate_building_number=plate[2],
            population_plate=kind in ("urban_village", "employer") or self.rng.random() < 0.3,
        )

    def _phone(self) -> str:
        return f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}"

    def _rooms(
        self,
        building: BuildingRec,
        kind: str,
        footprint: shapely.Polygon,
        landlords: _Landlords,
    ) -> None:
        """Rooms per entrance and floor, side by side along the building (plans in metres)."""
        if building.use == "industrial":
            return  # workshops: no dwellings
        per_entrance = ROOMS_PER_ENTRANCE.get(kind, 2)
        if kind == "closed_property" and building.entrances == 1:
            per_entrance = 4  # a tower: four flats round the core
        elif kind == "urban_village":
            per_entrance = self.rng.randint(2, 3)
        x0, y0, x1, y1 = footprint.bounds
        width, depth = (x1 - x0) / (building.entrances * per_entrance), y1 - y0
        for entrance in range(1, building.entrances + 1):
            for floor in range(1, building.floors_above + 1):
                for k in range(1, per_entrance + 1):
                    use = self._room_use(kind, floor)
                    left = ((entrance - 1) * per_entrance + k - 1) * width
                    building.rooms.append(
                        RoomRec(
                            entrance=entrance,
                            floor=floor,
                            number=f"{floor}{k:02d}",
                            use=use,
                            area_m2=round(width * depth, 1),
                            plan=box(left, 0.0, left + width, depth),
                            landlord=landlords.pick() if use in RENTED else None,
                        )
                    )

    def _room_use(self, kind: str, floor: int) -> str:
        if kind == "market" and floor <= 2:
            return "commercial"
        if kind == "employer":
            return "other"  # staff dormitory
        if self.rng.random() < RENTED_SHARE[kind]:
            return (
                "rented_shared"
                if self.rng.random() < SHARED_SHARE.get(kind, 0.2)
                else "rented_whole"
            )
        if kind == "other":
            return "other"
        return "vacant" if self.rng.random() < VACANT_SHARE else "owner_occupied"


class _Landlords:
    """Who lets the rented rooms of one house (its owner) or one compound (80 % of rented flats
    bring a new landlord, the rest belong to one already there). Landlords are recorded only
    when they let something."""

    def __init__(self, builder: _Builder, community: str, *, one_owner: bool) -> None:
        self.builder, self.community, self.one_owner = builder, community, one_owner
        self.known: list[int] = []

    def pick(self) -> int:
        city, rng = self.builder.city, self.builder.rng
        if self.known and (self.one_owner or rng.random() >= 0.8):
            return self.known[rng.randrange(len(self.known))]
        city.landlords.append(
            LandlordRec(self.builder._person(), self.builder._phone(), self.community)
        )
        self.known.append(len(city.landlords) - 1)
        return self.known[-1]


# ---------------------------------------------------------------------------------------------
# Templates and helpers

COMPOUND_SUFFIX = {
    "closed_property": "花园",
    "mixed_residential": "小区",
    "urban_village": "村",
    "market": "市场",
    "employer": "厂区",
    "other": "大院",
}
RESPONSIBLE_BODY = {
    "closed_property": "物业服务有限公司",
    "mixed_residential": "社区居委会",
    "urban_village": "村民委员会",
    "market": "市场经营管理公司",
    "employer": "用工单位",
    "other": "社区居委会",
}
BUILDING_USE = {
    "closed_property": "residential",
    "mixed_residential": "residential",
    "urban_village": "mixed",
    "market": "commercial",
    "employer": "dormitory",
    "other": "public",
}


def _footprints(
    kind: str, block: tuple[float, float, float, float], rng: random.Random
) -> tuple[list[tuple[shapely.Polygon, int, int | None]], list[tuple[float, float, float]]]:
    """(footprint, floors, lane index or None) per building, and the lanes (y, x0, x1)."""
    x0, y0, x1, y1 = block
    buildings: list[tuple[shapely.Polygon, int, int | None]] = []
    lanes: list[tuple[float, float, float]] = []

    def rows(
        length: float, depth: float, gap_x: float, gap_y: float, floors: tuple[int, int]
    ) -> None:
        y = y1 - 8.0 - depth
        while y >= y0 + 8.0:
            x = x0 + 8.0
            while x + length <= x1 - 8.0:
                buildings.append((box(x, y, x + length, y + depth), rng.randint(*floors), None))
                x += length + gap_x
            y -= depth + gap_y

    if kind == "closed_property":
        if rng.random() < 0.2:  # towers
            rows(24.0, 24.0, 30.0, 40.0, (18, 28))
        else:  # slabs, sun spacing between rows
            rows(60.0, 12.0, 14.0, 28.0, (6, 9))
    elif kind == "mixed_residential":
        rows(40.0, 11.0, 10.0, 20.0, (5, 7))
    elif kind == "urban_village":
        # Lanes (4 m) run east–west; between two lanes stand two rows of houses back to back,
        # the north row facing the lane above it, the south row the lane below it.
        depth, lane_width = 12.0, 4.0
        pitch = lane_width + 2 * depth
        lane_ys = [y1 - lane_width / 2 - k * pitch for k in range(int((y1 - y0) // pitch) + 1)]
        lanes = [(lane_y, x0, x1) for lane_y in lane_ys if lane_y - lane_width / 2 >= y0]
        for k in range(len(lanes) - 1):
            top = lanes[k][0] - lane_width / 2
            for row_top, lane in ((top, k), (top - depth, k + 1)):
                x = x0 + 2.0
                while x + HOUSE_WIDTH <= x1 - 2.0:
                    if rng.random() < 0.85:  # some plots are yards or gardens
                        footprint = box(x, row_top - depth, x + HOUSE_WIDTH, row_top)
                        buildings.append((footprint, rng.randint(4, 7), lane))
                    x += HOUSE_PITCH
    elif kind == "market":
        buildings.append(
            (box(x0 + 10, y0 + 10, min(x1 - 10, x0 + 90), y0 + 60), rng.randint(2, 4), None)
        )
        if y1 - y0 > 120:
            buildings.append(
                (box(x0 + 10, y1 - 50, min(x1 - 10, x0 + 70), y1 - 10), rng.randint(3, 5), None)
            )
    elif kind == "employer":
        buildings.append((box(x0 + 10, y0 + 10, x0 + 100, y0 + 60), rng.randint(1, 2), None))
        rows_top = y1 - 10.0
        for r in range(2):
            top = rows_top - r * 30.0
            buildings.append((box(x1 - 70, top - 12, x1 - 20, top), rng.randint(4, 6), None))
    else:  # other: a school, a clinic, an office yard
        for k in range(rng.randint(2, 4)):
            left = x0 + 10 + k * 40
            if left + 25 <= x1 - 10:
                buildings.append((box(left, y1 - 40, left + 25, y1 - 20), rng.randint(2, 6), None))
    return buildings, lanes


def _numbered(
    footprints: list[tuple[shapely.Polygon, int, int | None]],
) -> list[tuple[shapely.Polygon, int, int | None]]:
    """Buildings in numbering order: north→south by row, then east→west within a row."""
    return sorted(footprints, key=lambda f: (-round(f[0].bounds[3], 1), -f[0].bounds[0]))


def _groups(cells: dict[tuple[int, int], _Cell], span: int) -> list[list[tuple[int, int]]]:
    """Cells grouped by ``span``×``span`` squares of the grid, each square split into its
    4-connected parts (a group is always contiguous)."""
    squares: dict[tuple[int, int], set[tuple[int, int]]] = {}
    half = span // 2  # the centre cell (0, 0) sits in the middle of its square
    for i, j in cells:
        squares.setdefault(((i + half) // span, (j + half) // span), set()).add((i, j))
    groups = []
    for members in squares.values():
        left = set(members)
        while left:
            start = min(left)
            part, queue = [], [start]
            left.discard(start)
            while queue:
                i, j = queue.pop()
                part.append((i, j))
                for key in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
                    if key in left:
                        left.discard(key)
                        queue.append(key)
            groups.append(sorted(part))
    return groups


def _ordered(groups: list[list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
    """Groups numbered north→south, then west→east (by their north-west cell)."""
    return sorted(groups, key=lambda cells: (-max(j for _, j in cells), min(i for i, _ in cells)))


def _multi(geom: shapely.Geometry) -> shapely.MultiPolygon:
    polygons = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon"]
    return shapely.MultiPolygon(polygons)


def _chinese_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
