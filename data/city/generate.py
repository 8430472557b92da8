"""The demo city generator: a deterministic city of streets, compounds, buildings and rooms.

Pure: no database. :func:`generate` returns plain records in WGS84; :mod:`data.city.load` stores
them. Everything is laid out in the city's metric CRS (``METRIC_SRID``, metres east/north) on a
street grid grown cell by cell from each district's urban centre, inside the real outline:

* streets: arterials every ``ARTERIAL_EVERY`` grid lines (30 m wide), local streets on the other
  grid lines (14 m), lanes (4 m) between the house rows of urban villages;
* one compound per grid cell (the block inside its streets), its kind drawn with weights that
  move from the centre (markets, mixed compounds) to the rural fringe (villages, employers);
* buildings by the kind's template (:func:`_plots`: shops, slabs and towers; walk-ups and private
  houses; village houses; market halls and shop-houses; workshops and dormitories; public
  buildings), numbered north→south, then east→west, inside their compound;
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
from collections.abc import Callable, Iterator
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
#: Urban villages near the centre (城中村); further out the share falls to
#: :data:`RURAL_RENTED_SHARE` (see :func:`rented_share`).
RENTED_SHARE = {
    "closed_property": 0.04,
    "mixed_residential": 0.07,
    "urban_village": 0.45,
    "market": 0.25,
    "employer": 0.0,  # staff dormitories are provided by the employer, not rented
    "other": 0.05,
}
RURAL_RENTED_SHARE = 0.10
#: Distance from a district's centre at which the city has turned into its rural fringe, metres:
#: kind weights, village houses and their rented share move with ``distance / FRINGE_M`` (≤ 1).
FRINGE_M = 6000.0
#: How far (in cells) the kinds' counts may stray from their weights: see ``_Builder._kind``.
KIND_JITTER = 0.5
#: Of the rented rooms, the share rented to several unrelated tenants (合租) rather than whole.
SHARED_SHARE = {"urban_village": 0.6, "market": 0.5}
VACANT_SHARE = 0.06
RENTED = ("rented_whole", "rented_shared")
DWELLING_USES = ("owner_occupied", "vacant", *RENTED)
HOUSE_WIDTH, HOUSE_GAP = 10.0, 2.0  # village house plots along a lane, metres
HOUSE_PITCH = HOUSE_WIDTH + HOUSE_GAP


def rented_share(kind: str, fringe: float) -> float:
    """Share of the dwelling rooms let in a compound of ``kind`` at ``fringe`` (0 in the centre,
    1 at :data:`FRINGE_M` and beyond): constant by kind, except villages, whose houses are let
    less the further they lie from the town (45 % → 10 %)."""
    share = RENTED_SHARE[kind]
    if kind == "urban_village":
        share += (RURAL_RENTED_SHARE - share) * fringe
    return share


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


@dataclass(slots=True)
class RoomRec:
    entrance: int  # 1-based entrance number
    floor: int
    number: str
    use: str
    area_m2: float
    landlord: int | None  # index into City.landlords
    #: The plan: ``left`` … ``left + width`` along the building, ``depth`` deep (metres).
    left: float
    width: float
    depth: float

    @property
    def plan(self) -> shapely.Polygon:
        """The room's plan in metres, in the building's frame (srid 0)."""
        return box(self.left, 0.0, self.left + self.width, self.depth)


@dataclass(slots=True)
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


@dataclass(slots=True)
class _Plot:
    """One building of a compound's template, laid out in metres."""

    footprint: shapely.Polygon
    floors: int
    use: str  # BuildingUse
    entrances: int = 1
    flats: int = 2  # rooms side by side per entrance and floor; 0: no rooms (workshops)
    shop_floors: int = 0  # the lowest floors are shops (commercial rooms)
    floors_below: int = 0
    lane: int | None = None  # village houses: index of the lane their plate is on


@dataclass
class _Cell:
    i: int
    j: int
    kind: str = ""
    fringe: float = 0.0  # 0 at the district's centre, 1 at FRINGE_M and beyond
    #: The compound's buildings as laid out by its template (metres), and its lanes.
    plots: list[_Plot] = field(default_factory=list)
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
    _west_ends: dict[int, int] = field(default_factory=dict)

    def west_end(self, road: int) -> int:
        """The westernmost column of the cells along the east–west grid line ``road``."""
        if not self._west_ends:
            for i, j in self.cells:
                for line in (j, j + 1):
                    self._west_ends[line] = min(i, self._west_ends.get(line, i))
        return self._west_ends[road]

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


def kind_weights(fringe: float) -> dict[str, float]:
    """Relative weights of the compound kinds of a cell at ``fringe`` (0 centre … 1 fringe):
    the centre is closed and mixed compounds, markets and public yards; villages grow to most of
    the fringe (with the cube of the fringe, so that the town keeps few of them)."""
    town = 1.0 - 0.8 * fringe
    return {
        "closed_property": 0.30 * town,
        "mixed_residential": 0.38 * town,
        "urban_village": 0.0125 + 0.8 * fringe**3,
        "market": 0.08 * town,
        "employer": 0.05 + 0.05 * fringe,
        "other": 0.08 * (1.0 - 0.5 * fringe),
    }


class _Builder:
    def __init__(self, city: City, rng: random.Random, projector: _Projector) -> None:
        self.city, self.rng, self.p = city, rng, projector
        self.names_used: set[str] = set()
        self.kind_credit: dict[str, float] = {}

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
            cell.fringe = min(1.0, math.hypot(cell.i * CELL_W, cell.j * CELL_H) / FRINGE_M)
            cell.kind = self._kind(cell.fringe)
            cell.plots, cell.lanes = _plots(
                cell.kind,
                grid.block(cell.i, cell.j),
                self.rng,
                fringe=cell.fringe,
                gate_south=_gate_south(cell.j),
            )
            grid.cells[(cell.i, cell.j)] = cell
            laid_out += len(cell.plots)
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

    def _kind(self, fringe: float) -> str:
        """The kind of the next cell: each kind earns its weight's share per cell, and the kind
        with the most credit (plus a random jitter of up to KIND_JITTER) takes the cell. Counts
        then follow the weights to within a cell or two on any seed while the places stay random
        (plain random draws, on 12 seeds, gave the demo 0 to 5 villages and a rented share of
        6 to 15 %)."""
        weights = kind_weights(fringe)
        total = sum(weights.values())
        for kind, weight in weights.items():
            self.kind_credit[kind] = self.kind_credit.get(kind, 0.0) + weight / total
        kind = max(
            self.kind_credit, key=lambda k: self.kind_credit[k] + KIND_JITTER * self.rng.random()
        )
        self.kind_credit[kind] -= 1.0
        return kind

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
        if not cell.plots:
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
        gate_south = _gate_south(cell.j)
        road_index = cell.j if gate_south else cell.j + 1
        road = grid.names[("y", road_index)]
        west_end = grid.west_end(road_index)
        frontage = (cell.i - west_end) * CELL_W + CELL_W / 2
        slot = int(frontage // PLATE_SPACING)
        number = str(2 * slot + 1 if gate_south else 2 * slot + 2)

        lane_names = self._lanes(grid, name, cell.lanes)
        compound_landlords = _Landlords(self, community.code, one_owner=False)
        # The compound's footprints at once: bounds, one coordinate transformation.
        metric = np.array([plot.footprint for plot in cell.plots])
        all_bounds = shapely.bounds(metric).tolist()
        order = _numbered(all_bounds)
        footprints = self.p.to_wgs84(metric[order])
        for index, (k, footprint) in enumerate(zip(order, footprints, strict=True), start=1):
            plot, bounds = cell.plots[k], all_bounds[k]
            plate = (road, number, str(index))
            if plot.lane is not None:
                # A village house has its own plate on its lane, numbered along it.
                lane_name, lane_y, lane_x0 = lane_names[plot.lane]
                x0, y0, x1, y1 = bounds
                slot = int(((x0 + x1) / 2 - lane_x0) // HOUSE_PITCH)
                north = (y0 + y1) / 2 > lane_y
                plate = (lane_name, str(2 * slot + 1 if north else 2 * slot + 2), "")
            building = BuildingRec(
                compound=cell.compound,
                name=f"{name}{index}栋",
                footprint=footprint,
                floors_above=plot.floors,
                floors_below=plot.floors_below,
                use=plot.use,
                source_id=f"demo:{name}:{index}",
                entrances=plot.entrances,
                plate_road=plate[0],
                plate_number=plate[1],
                plate_building_number=plate[2],
                population_plate=cell.kind in ("urban_village", "employer")
                or self.rng.random() < 0.3,
            )
            # A village house is let by its owner; flats by landlords of the compound.
            if plot.lane is None:
                landlords = compound_landlords
            else:
                landlords = _Landlords(self, community.code, one_owner=True)
            self._rooms(building, plot, bounds, cell, landlords)
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

    def _phone(self) -> str:
        return f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}"

    def _rooms(
        self,
        building: BuildingRec,
        plot: _Plot,
        bounds: list[float],
        cell: _Cell,
        landlords: _Landlords,
    ) -> None:
        """Rooms per entrance and floor, side by side along the building (plans in metres)."""
        if not plot.flats:
            return  # workshops: no rooms
        x0, y0, x1, y1 = bounds
        width, depth = (x1 - x0) / (plot.entrances * plot.flats), y1 - y0
        area_m2 = round(width * depth, 1)
        share = rented_share(cell.kind, cell.fringe)
        shared = SHARED_SHARE.get(cell.kind, 0.2)
        random = self.rng.random
        for entrance in range(1, plot.entrances + 1):
            for floor in range(1, plot.floors + 1):
                for k in range(1, plot.flats + 1):
                    if floor <= plot.shop_floors:
                        use = "commercial"
                    elif plot.use == "dormitory":
                        use = "other"  # staff dormitory, provided by the employer
                    elif random() < share:
                        use = "rented_shared" if random() < shared else "rented_whole"
                    elif plot.use == "public":
                        use = "other"
                    else:
                        use = "vacant" if random() < VACANT_SHARE else "owner_occupied"
                    building.rooms.append(
                        RoomRec(
                            entrance=entrance,
                            floor=floor,
                            number=f"{floor}{k:02d}",
                            use=use,
                            area_m2=area_m2,
                            landlord=landlords.pick() if use in RENTED else None,
                            left=((entrance - 1) * plot.flats + k - 1) * width,
                            width=width,
                            depth=depth,
                        )
                    )


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


def _gate_south(j: int) -> bool:
    """A compound's gate opens on the road south of it on even grid rows, north on odd rows."""
    return j % 2 == 0


def _rows(
    x0: float,
    x1: float,
    top: float,
    bottom: float,
    depth: float,
    length: Callable[[], float],
    gap_x: float,
    gap_y: float,
) -> list[shapely.Polygon]:
    """Footprints in rows from ``top`` down to ``bottom`` and from ``x0`` east to ``x1``; each
    building ``length()`` long (the last one that does not fit ends the row)."""
    boxes = []
    y = top - depth
    while y >= bottom:
        x = x0
        while x + (size := length()) <= x1:
            boxes.append(box(x, y, x + size, y + depth))
            x += size + gap_x
        y -= depth + gap_y
    return boxes


def _plots(
    kind: str,
    block: tuple[float, float, float, float],
    rng: random.Random,
    *,
    fringe: float,
    gate_south: bool,
) -> tuple[list[_Plot], list[tuple[float, float, float]]]:
    """The buildings of a compound of ``kind`` on ``block`` (metres), and its lanes (y, x0, x1).

    * closed property compound: a row of two-floor shops along the road its gate opens to, then
      slabs (60 × 12 m, 6–9 floors, 3 entrances × 2 flats) or, one compound in four, towers
      (24 × 24 m, 11–18 floors, 4 flats round the core), each with a basement;
    * mixed residential compound: walk-ups (24, 40 or 56 m × 11 m, 4–6 floors, 1–3 entrances ×
      2 flats) in its northern 70 %, a row of private houses (10 × 12 m, 2–4 floors, 1–2 rooms
      a floor) along its southern edge;
    * urban village: houses back to back between 4-m lanes; near the centre 4–6 floors of 2–3
      rooms, in the rural fringe (a house in ``fringe`` of the cases) 2–3 floors of 1–2 rooms;
    * market: a market hall (shops on its two lowest floors) and a row of shop-houses along its
      northern edge (8 × 14 m, a shop below, one flat a floor above);
    * employer: a workshop (no rooms) and two staff dormitories;
    * other: two to four public buildings (schools, clinics, offices).
    """
    x0, y0, x1, y1 = block
    plots: list[_Plot] = []
    lanes: list[tuple[float, float, float]] = []
    if kind == "closed_property":
        shop_depth = 10.0
        shops_y = y0 + 4.0 if gate_south else y1 - 4.0 - shop_depth
        shops = _rows(
            x0 + 8, x1 - 8, shops_y + shop_depth, shops_y, shop_depth, lambda: 30.0, 8.0, 0
        )
        for footprint in shops:
            plots.append(_Plot(footprint, 2, "commercial", flats=5, shop_floors=2))
        top, bottom = (
            (y1 - 8.0, shops_y + shop_depth + 12.0) if gate_south else (shops_y - 12.0, y0 + 8.0)
        )
        if rng.random() < 0.25:
            for footprint in _rows(x0 + 8, x1 - 8, top, bottom, 24.0, lambda: 24.0, 30.0, 36.0):
                plots.append(
                    _Plot(footprint, rng.randint(11, 18), "residential", flats=4, floors_below=1)
                )
        else:
            for footprint in _rows(x0 + 8, x1 - 8, top, bottom, 12.0, lambda: 60.0, 14.0, 40.0):
                plots.append(
                    _Plot(footprint, rng.randint(6, 9), "residential", entrances=3, floors_below=1)
                )
    elif kind == "mixed_residential":
        split = y0 + (y1 - y0) * 0.3
        lengths = (24.0, 40.0, 56.0)
        walk_ups = _rows(
            x0 + 8, x1 - 8, y1 - 8, split + 4, 11.0, lambda: rng.choice(lengths), 10, 16
        )
        for footprint in walk_ups:
            length = footprint.bounds[2] - footprint.bounds[0]
            entrances = round(length / 20)
            plots.append(_Plot(footprint, rng.randint(4, 6), "residential", entrances=entrances))
        # One row of private houses, along the southern edge.
        houses = _rows(x0 + 4, x1 - 4, y0 + 16, y0 + 4, 12.0, lambda: HOUSE_WIDTH, HOUSE_GAP, 0)
        for footprint in houses:
            if rng.random() < 0.7:  # some plots are yards
                plots.append(
                    _Plot(footprint, rng.randint(2, 4), "residential", flats=rng.randint(1, 2))
                )
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
                        if rng.random() < fringe:  # a rural house
                            floors, use, flats = rng.randint(2, 3), "residential", rng.randint(1, 2)
                        else:
                            floors, use, flats = rng.randint(4, 6), "mixed", rng.randint(2, 3)
                        plots.append(_Plot(footprint, floors, use, flats=flats, lane=lane))
                    x += HOUSE_PITCH
    elif kind == "market":
        hall = box(x0 + 10, y0 + 10, min(x1 - 10, x0 + 90), y0 + 60)
        plots.append(_Plot(hall, rng.randint(2, 4), "commercial", flats=6, shop_floors=2))
        for footprint in _rows(x0 + 10, x1 - 10, y1 - 6, y1 - 20, 14.0, lambda: 8.0, 1.0, 0.0):
            plots.append(_Plot(footprint, rng.randint(3, 4), "mixed", flats=1, shop_floors=1))
    elif kind == "employer":
        workshop = box(x0 + 10, y0 + 10, x0 + 100, y0 + 60)
        plots.append(_Plot(workshop, rng.randint(1, 2), "industrial", flats=0))
        for r in range(2):
            top = y1 - 10.0 - r * 30.0
            dormitory = box(x1 - 70, top - 12, x1 - 20, top)
            plots.append(_Plot(dormitory, rng.randint(4, 6), "dormitory", flats=8))
    else:  # other: a school, a clinic, an office yard
        for k in range(rng.randint(2, 4)):
            left = x0 + 10 + k * 40
            if left + 25 <= x1 - 10:
                footprint = box(left, y1 - 40, left + 25, y1 - 20)
                plots.append(_Plot(footprint, rng.randint(2, 6), "public"))
    return plots, lanes


def _numbered(bounds: list[list[float]]) -> list[int]:
    """Buildings (by their bounds) in numbering order: north→south by row, then east→west
    within a row."""
    return sorted(range(len(bounds)), key=lambda k: (-round(bounds[k][3], 1), -bounds[k][0]))


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
