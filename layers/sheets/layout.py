"""Which map sheets a pack needs: paper, orientation, scale, the sheets' ground boxes, their grid.

Pure geometry, no Django and no PDF. A pack's extent (its buildings, routes and start, buffered
:data:`EXTENT_BUFFER_M`) goes on one sheet at the finest standard scale that holds it; when none
up to 1:2500 does, the extent is tiled at 1:2500 into sheets whose frames overlap
:data:`OVERLAP_MM` of paper. Every sheet has a *core* (the ground it is responsible for; the cores
of a pack do not overlap) inside its *frame* (the ground it shows). A building's reference
``"<sheet>-<col><row>"`` names the sheet whose core holds its representative point and the cell of
that sheet's grid (columns A, B, … from the west, rows 1, 2, … from the north).

The page layout is the same for every sheet of one paper and orientation (:func:`page_layout`):
the map frame with a band for the grid letters around it, and a strip (below it on portrait
pages, right of it on landscape ones) for the title block, legend, scale bar and inset.
"""

from __future__ import annotations

import math
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry import Point, box

from .pack import BuildingItem, Pack, Paper

#: Standard scale denominators, finest first; the last is the tiling scale.
SCALES = (500, 1000, 1500, 2000, 2500)
#: Paper sizes (portrait width, height) in mm.
PAPER_MM = {"a4": (210.0, 297.0), "a3": (297.0, 420.0)}
MARGIN_MM = 8.0
#: The band between the map frame and the margin that holds the grid letters and numbers.
BAND_MM = 4.0
#: The strip with the title block, legend and inset: its height below a portrait frame, its
#: width right of a landscape frame.
STRIP_PORTRAIT_MM = 50.0
STRIP_LANDSCAPE_MM = 62.0
STRIP_GAP_MM = 2.0
#: Ground around the pack's buildings and routes that the sheets show.
EXTENT_BUFFER_M = 30.0
#: Paper the frames of neighbouring sheets share (half of it on each side of the core).
OVERLAP_MM = 10.0
#: The wanted size of a grid cell on paper.
CELL_MM = 50.0

Box = tuple[float, float, float, float]  # minx, miny, maxx, maxy (ground) or left, top, w, h (mm)

#: Directions of neighbours as (column step, row step), rows counted southwards.
DIRECTIONS = {
    "N": (0, -1),
    "NE": (1, -1),
    "E": (1, 0),
    "SE": (1, 1),
    "S": (0, 1),
    "SW": (-1, 1),
    "W": (-1, 0),
    "NW": (-1, -1),
}


@dataclass(frozen=True)
class Sheet:
    number: int  # 1-based, in reading order (north→south rows, west→east)
    paper: str  # "a4" | "a3"
    landscape: bool
    scale: int  # denominator, e.g. 2000
    frame: tuple[float, float, float, float]  # ground box (m) the map frame shows (core + overlap)
    core: tuple[float, float, float, float]  # ground box this sheet is responsible for
    cols: int  # grid-reference columns A, B, … across the frame
    rows: int  # rows 1, 2, … down the frame
    neighbours: dict[str, int]  # "N","NE","E","SE","S","SW","W","NW" → sheet number

    @property
    def mm_per_m(self) -> float:
        return 1000.0 / self.scale

    def cell(self, x: float, y: float) -> str:
        """The grid cell ("B3") of the ground point (x, y) on this sheet's frame."""
        minx, miny, maxx, maxy = self.frame
        cell_w = (maxx - minx) / self.cols
        cell_h = (maxy - miny) / self.rows
        col = min(max(int((x - minx) // cell_w), 0), self.cols - 1)
        row = min(max(int((maxy - y) // cell_h), 0), self.rows - 1)
        return f"{column_letter(col)}{row + 1}"


@dataclass(frozen=True)
class PageLayout:
    """Where things go on a page of one paper and orientation, in mm (left, top, width, height)."""

    page: tuple[float, float]  # width, height
    frame: Box  # the map frame
    strip: Box  # title block, legend, scale bar, inset


def column_letter(index: int) -> str:
    """A, B, …, Z, AA, AB, … for 0, 1, …"""
    letters = string.ascii_uppercase
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = letters[rest] + name
    return name


def page_layout(paper: str, landscape: bool) -> PageLayout:
    width, height = PAPER_MM[paper]
    if landscape:
        width, height = height, width
    inner = MARGIN_MM + BAND_MM
    if landscape:
        strip = (width - MARGIN_MM - STRIP_LANDSCAPE_MM, MARGIN_MM, STRIP_LANDSCAPE_MM)
        frame_w = strip[0] - STRIP_GAP_MM - BAND_MM - inner
        frame = (inner, inner, frame_w, height - 2 * inner)
        return PageLayout((width, height), frame, (*strip, height - 2 * MARGIN_MM))
    strip_top = height - MARGIN_MM - STRIP_PORTRAIT_MM
    frame_h = strip_top - STRIP_GAP_MM - BAND_MM - inner
    frame = (inner, inner, width - 2 * inner, frame_h)
    return PageLayout(
        (width, height), frame, (MARGIN_MM, strip_top, width - 2 * MARGIN_MM, STRIP_PORTRAIT_MM)
    )


def grid_size(frame_mm: Box) -> tuple[int, int]:
    """Columns and rows of the grid over a frame of that paper size: cells of about
    :data:`CELL_MM`."""
    return max(1, round(frame_mm[2] / CELL_MM)), max(1, round(frame_mm[3] / CELL_MM))


def pack_extent(pack: Pack) -> Box:
    """The ground box the sheets must show: buildings, routes and start, buffered."""
    geoms = [b.footprint for b in pack.buildings]
    geoms += [leg.line for leg in pack.routes]
    if pack.start is not None:
        geoms.append(pack.start)
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if geoms:
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
    elif pack.overview is not None and not pack.overview.is_empty:
        minx, miny, maxx, maxy = pack.overview.bounds
    else:
        minx = miny = maxx = maxy = 0.0
    b = EXTENT_BUFFER_M
    return (minx - b, miny - b, maxx + b, maxy + b)


def _papers(paper: Paper) -> list[str]:
    if paper == Paper.A4:
        return ["a4"]
    if paper == Paper.A3:
        return ["a3"]
    return ["a4", "a3"]


@dataclass(frozen=True)
class _Option:
    paper: str
    landscape: bool
    scale: int
    columns: int  # sheets across (1 when the extent fits one sheet)
    rows: int
    cores: tuple[tuple[int, int, Box], ...]  # (column, row, core) of the sheets kept


def _single(extent: Box, paper: str, landscape: bool) -> _Option | None:
    layout = page_layout(paper, landscape)
    width_m, height_m = extent[2] - extent[0], extent[3] - extent[1]
    for scale in SCALES:
        if width_m * 1000 / scale <= layout.frame[2] and height_m * 1000 / scale <= layout.frame[3]:
            return _Option(paper, landscape, scale, 1, 1, ((0, 0, extent),))
    return None


def _tiled(extent: Box, paper: str, landscape: bool, pack: Pack) -> _Option:
    scale = SCALES[-1]
    layout = page_layout(paper, landscape)
    core_w = (layout.frame[2] - OVERLAP_MM) * scale / 1000
    core_h = (layout.frame[3] - OVERLAP_MM) * scale / 1000
    width_m, height_m = extent[2] - extent[0], extent[3] - extent[1]
    columns, rows = math.ceil(width_m / core_w), math.ceil(height_m / core_h)
    # The grid of cores is centred on the extent.
    x0 = (extent[0] + extent[2]) / 2 - columns * core_w / 2
    y_top = (extent[1] + extent[3]) / 2 + rows * core_h / 2
    points = [b.footprint.representative_point() for b in pack.buildings]
    lines = [leg.line for leg in pack.routes if not leg.line.is_empty]
    if pack.start is not None:
        points.append(pack.start)
    xs = [p.x for p in points]
    ys = [p.y for p in points]
    occupied: set[tuple[int, int]] = {
        (min(int((x - x0) // core_w), columns - 1), min(int((y_top - y) // core_h), rows - 1))
        for x, y in zip(xs, ys, strict=True)
    }
    cores = []
    for row in range(rows):
        for col in range(columns):
            core = (
                x0 + col * core_w,
                y_top - (row + 1) * core_h,
                x0 + (col + 1) * core_w,
                y_top - row * core_h,
            )
            if (col, row) in occupied or any(line.intersects(box(*core)) for line in lines):
                cores.append((col, row, core))
    return _Option(paper, landscape, scale, columns, rows, tuple(cores))


def plan_sheets(pack: Pack) -> list[Sheet]:
    """The map sheets of ``pack``, numbered in reading order (rows from the north, west to east).

    Among A4/A3 (as ``pack.paper`` allows) × portrait/landscape: the fewest sheets, then the
    finer scale, then A4 over A3, then the orientation that matches the extent's aspect."""
    extent = pack_extent(pack)
    wide = (extent[2] - extent[0]) >= (extent[3] - extent[1])
    options = []
    for paper in _papers(pack.paper):
        for landscape in (False, True):
            option = _single(extent, paper, landscape) or _tiled(extent, paper, landscape, pack)
            options.append(option)
    best = min(
        options,
        key=lambda o: (len(o.cores), o.scale, o.paper != "a4", o.landscape != wide),
    )
    return _sheets(best)


def _sheets(option: _Option) -> list[Sheet]:
    layout = page_layout(option.paper, option.landscape)
    cols, rows = grid_size(layout.frame)
    half_w = layout.frame[2] * option.scale / 1000 / 2
    half_h = layout.frame[3] * option.scale / 1000 / 2
    numbers = {(c, r): n for n, (c, r, _core) in enumerate(option.cores, start=1)}
    sheets = []
    for number, (col, row, core) in enumerate(option.cores, start=1):
        cx, cy = (core[0] + core[2]) / 2, (core[1] + core[3]) / 2
        frame = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
        if len(option.cores) == 1:
            core = frame  # one sheet answers for all it shows
        neighbours = {
            name: numbers[(col + dc, row + dr)]
            for name, (dc, dr) in DIRECTIONS.items()
            if (col + dc, row + dr) in numbers
        }
        sheets.append(
            Sheet(
                number=number,
                paper=option.paper,
                landscape=option.landscape,
                scale=option.scale,
                frame=frame,
                core=core,
                cols=cols,
                rows=rows,
                neighbours=neighbours,
            )
        )
    return sheets


def _in_core(core: Box, x: float, y: float) -> bool:
    # Half-open on the east and north edges, so that a point on a shared edge has one sheet.
    return core[0] <= x < core[2] and core[1] <= y < core[3]


def locate(sheets: Sequence[Sheet], x: float, y: float) -> tuple[int, str] | None:
    """The sheet whose core holds the ground point (x, y) and the cell ("B3") on it; None when
    no sheet's core holds it."""
    for sheet in sheets:
        if _in_core(sheet.core, x, y):
            return sheet.number, sheet.cell(x, y)
    # A point on the outer east or north edge of the cores.
    for sheet in sheets:
        minx, miny, maxx, maxy = sheet.core
        if minx <= x <= maxx and miny <= y <= maxy:
            return sheet.number, sheet.cell(x, y)
    return None


def representative_point(building: BuildingItem) -> Point:
    return building.footprint.representative_point()


def references(sheets: Sequence[Sheet], buildings: Iterable[BuildingItem]) -> dict[int, str]:
    """Each building's reference ``"<sheet>-<col><row>"``; buildings outside every sheet's core
    (none in a pack planned by :func:`plan_sheets`) have none."""
    refs = {}
    for building in buildings:
        point = representative_point(building)
        found = locate(sheets, point.x, point.y)
        if found is not None:
            refs[building.id] = f"{found[0]}-{found[1]}"
    return refs
