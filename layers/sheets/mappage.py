"""One map sheet of a pack as one PDF page: the map, its grid frame, the title block, the legend,
the scale bar, the north arrow and an inset of where the sheet lies.

What a sheet shows is picked with STRtrees built once per pack (:func:`_index`); the picked
geometries are moved to page millimetres in one vectorised ``shapely.transform`` and drawn with
``FPDF.polygon``/``polyline`` inside a clip to the frame. Labels are placed greedily, by priority
(stop numbers, the start, door plates, street names, zone and community names), against an index
of the boxes already placed (:class:`LabelIndex`); a label that finds no free place at any size and
position is dropped and counted.
"""

from __future__ import annotations

import functools
import itertools
import math
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.utils.translation import gettext as _
from fpdf import FPDF
from shapely import STRtree
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points, substring

from .layout import Box, Sheet, column_letter, page_layout
from .pack import NamedArea, Pack, PackKind
from .pdf import (
    INK,
    START,
    TEAM_PALETTE,
    WHITE,
    Colour,
    Frame,
    add_page,
    set_style,
    string_width,
    team_colours,
)

PT_MM = 25.4 / 72.0
PACK_FILL: Colour = (252, 205, 140)
PACK_EDGE: Colour = (90, 70, 50)
CONTEXT_FILL: Colour = (226, 226, 226)
CONTEXT_EDGE: Colour = (190, 190, 190)
STREET: Colour = (205, 205, 205)
STREET_TEXT: Colour = (70, 70, 70)
ZONE: Colour = (40, 110, 190)
COMMUNITY: Colour = (130, 60, 150)
GRID: Colour = (150, 160, 185)
#: Stroke width (mm) of a street by its kind.
STREET_MM = {
    "main": 1.8,
    "primary": 1.8,
    "trunk": 2.0,
    "secondary": 1.3,
    "tertiary": 1.1,
    "residential": 0.9,
    "alley": 0.7,
    "path": 0.5,
}
STREET_PT = {"main": 8.0, "primary": 8.0, "trunk": 8.0, "secondary": 7.0, "alley": 6.0}
PLATE_PT = (6.5, 5.5, 4.6)
BESIDE_PT = (6.0, 5.0)
ROUTE_MM = 0.6


def _mm(pt: float) -> float:
    return pt * PT_MM


def tint(colour: Colour, amount: float = 0.55) -> Colour:
    """``colour`` mixed with white (``amount`` of white)."""
    r, g, b = colour
    return (
        round(r + (255 - r) * amount),
        round(g + (255 - g) * amount),
        round(b + (255 - b) * amount),
    )


# --- what a sheet shows ------------------------------------------------------------------------


@dataclass
class _Index:
    buildings: STRtree
    footprints: np.ndarray
    context: STRtree
    context_geoms: np.ndarray
    streets: STRtree
    routes: STRtree
    zones: STRtree
    communities: STRtree
    teams: dict[str, Colour]
    #: The overview simplified for the inset (its vertices a few hundred, not thousands).
    overview: BaseGeometry | None


_INDEXES: dict[int, tuple[weakref.ref[Pack], _Index]] = {}


def _index(pack: Pack) -> _Index:
    """The pack's STRtrees, built on its first sheet and kept while the pack lives."""
    held = _INDEXES.get(id(pack))
    if held is not None and held[0]() is pack:
        return held[1]
    footprints = np.array([b.footprint for b in pack.buildings], dtype=object)
    context = np.array(pack.context, dtype=object)
    index = _Index(
        buildings=STRtree(footprints),
        footprints=footprints,
        context=STRtree(context),
        context_geoms=context,
        streets=STRtree([s.line for s in pack.streets]),
        routes=STRtree([r.line for r in pack.routes]),
        zones=STRtree([a.geom for a in pack.zones]),
        communities=STRtree([a.geom for a in pack.communities]),
        teams=team_colours(pack),
        overview=_simplified(pack.overview),
    )
    key = id(pack)
    _INDEXES[key] = (weakref.ref(pack, lambda _ref: _INDEXES.pop(key, None)), index)
    return index


def _simplified(geom: BaseGeometry | None) -> BaseGeometry | None:
    if geom is None or geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return geom.simplify(max(maxx - minx, maxy - miny) / 500)


def _page_transform(frame: Frame) -> Any:
    a = frame.mm_per_m
    left, top, _w, height = frame.paper
    scale = np.array([a, -a])
    offset = np.array([left - frame.ground[0] * a, top + height + frame.ground[1] * a])
    return lambda coords: coords * scale + offset


def _rings(polygon: Polygon) -> list[list[tuple[float, float]]]:
    return [
        [tuple(c) for c in shapely.get_coordinates(ring).tolist()]
        for ring in (polygon.exterior, *polygon.interiors)
    ]


def _line_parts(geom: BaseGeometry) -> list[LineString]:
    if isinstance(geom, LineString):
        return [] if geom.is_empty else [geom]
    if isinstance(geom, MultiLineString):
        return [g for g in geom.geoms if not g.is_empty]
    return [p for g in getattr(geom, "geoms", ()) for p in _line_parts(g)]


def _polygon_parts(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [] if geom.is_empty else [geom]
    return [p for g in getattr(geom, "geoms", ()) for p in _polygon_parts(g)]


# --- label placement ---------------------------------------------------------------------------

Quad = tuple[tuple[float, float], ...]  # four corners, page mm


def _aabb(quad: Quad) -> Box:
    xs = [p[0] for p in quad]
    ys = [p[1] for p in quad]
    return (min(xs), min(ys), max(xs), max(ys))


def _axes(quad: Quad) -> list[tuple[float, float]]:
    (x0, y0), (x1, y1), (x2, y2) = quad[0], quad[1], quad[2]
    return [(x1 - x0, y1 - y0), (x2 - x1, y2 - y1)]


def _separated(a: Quad, b: Quad) -> bool:
    for ax, ay in _axes(a) + _axes(b):
        pa = [p[0] * ax + p[1] * ay for p in a]
        pb = [p[0] * ax + p[1] * ay for p in b]
        if max(pa) <= min(pb) or max(pb) <= min(pa):
            return True
    return False


def rect_quad(cx: float, cy: float, w: float, h: float) -> Quad:
    return ((cx - w / 2, cy - h / 2), (cx + w / 2, cy - h / 2), (cx + w / 2, cy + h / 2),
            (cx - w / 2, cy + h / 2))  # fmt: skip


def rotated_quad(cx: float, cy: float, w: float, h: float, ux: float, uy: float) -> Quad:
    """The box of w×h centred at (cx, cy) along the unit vector (ux, uy)."""
    nx, ny = -uy, ux
    hw, hh = w / 2, h / 2
    return (
        (cx - ux * hw - nx * hh, cy - uy * hw - ny * hh),
        (cx + ux * hw - nx * hh, cy + uy * hw - ny * hh),
        (cx + ux * hw + nx * hh, cy + uy * hw + ny * hh),
        (cx - ux * hw + nx * hh, cy - uy * hw + ny * hh),
    )


@dataclass
class LabelIndex:
    """The boxes of the labels placed so far, bucketed by ``cell_mm`` squares of the page."""

    cell_mm: float = 10.0
    cells: dict[tuple[int, int], list[tuple[Box, Quad, bool]]] = field(default_factory=dict)

    def _keys(self, bounds: Box) -> Iterable[tuple[int, int]]:
        c = self.cell_mm
        for i in range(int(bounds[0] // c), int(bounds[2] // c) + 1):
            for j in range(int(bounds[1] // c), int(bounds[3] // c) + 1):
                yield i, j

    def free(self, quad: Quad, *, upright: bool = False) -> bool:
        bounds = _aabb(quad)
        for key in self._keys(bounds):
            for other_bounds, other, other_upright in self.cells.get(key, ()):
                if (
                    bounds[0] >= other_bounds[2]
                    or other_bounds[0] >= bounds[2]
                    or bounds[1] >= other_bounds[3]
                    or other_bounds[1] >= bounds[3]
                ):
                    continue
                if upright and other_upright:
                    return False
                if not _separated(quad, other):
                    return False
        return True

    def add(self, quad: Quad, *, upright: bool = False) -> None:
        bounds = _aabb(quad)
        for key in self._keys(bounds):
            self.cells.setdefault(key, []).append((bounds, quad, upright))


def _inside(quad: Quad, area: Box) -> bool:
    left, top, width, height = area
    return all(left <= x <= left + width and top <= y <= top + height for x, y in quad)


# --- drawing helpers ---------------------------------------------------------------------------


def text_width(pdf: FPDF, text: str, size_pt: float, *, bold: bool = False) -> float:
    return string_width(pdf, text, size_pt, bold=bold)


def draw_text(
    pdf: FPDF,
    text: str,
    cx: float,
    cy: float,
    size_pt: float,
    *,
    colour: Colour = INK,
    bold: bool = False,
    angle: float = 0.0,
    halo: Colour | None = None,
    align: str = "C",
) -> None:
    """``text`` centred vertically on ``cy`` and, by ``align`` ("L", "C", "R"), on ``cx``;
    rotated by ``angle`` degrees (counter-clockwise) about (cx, cy); on a translucent box of
    ``halo`` colour if asked (the text is drawn once, so that it is extracted once)."""
    width = text_width(pdf, text, size_pt, bold=bold)
    x = cx - {"L": 0.0, "C": width / 2, "R": width}[align]
    y = cy + 0.36 * _mm(size_pt)

    def put() -> None:
        if halo is not None:
            height = _mm(size_pt)
            with pdf.local_context(fill_opacity=0.8):
                pdf.set_fill_color(*halo)
                pdf.rect(x - 0.4, cy - height * 0.55, width + 0.8, height * 1.1, style="F")
        pdf.set_text_color(*colour)
        pdf.text(x, y, text)

    if angle:
        with pdf.rotation(angle, cx, cy):
            put()
    else:
        put()


def _dash_dot(
    pdf: FPDF, lines: list[list[tuple[float, float]]], colour: Colour, width: float
) -> None:
    """A dash-dot line: dashes of 4 mm, then a dot in the middle of each gap (the line caps
    are square, so a zero-length dash is a dot as wide as the line)."""
    set_style(pdf, stroke=colour, width=width)
    period, dash = 7.6, 4.0
    pdf.set_dash_pattern(dash=dash, gap=period - dash)
    for line in lines:
        pdf.polyline(line)
    dot_at = dash + (period - dash) / 2
    pdf.set_dash_pattern(dash=0.01, gap=period - 0.01, phase=period - dot_at)
    for line in lines:
        pdf.polyline(line)
    pdf.set_dash_pattern()


# --- the sheet ---------------------------------------------------------------------------------


@dataclass
class _Stats:
    placed: int = 0
    dropped: int = 0
    plates: int = 0
    plates_dropped: int = 0
    stops: int = 0
    stops_dropped: int = 0
    streets: int = 0
    areas: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "labels": self.placed,
            "dropped": self.dropped,
            "plates": self.plates,
            "plates_dropped": self.plates_dropped,
            "stops": self.stops,
            "stops_dropped": self.stops_dropped,
            "streets": self.streets,
            "areas": self.areas,
        }


def draw_sheet(pdf: FPDF, pack: Pack, sheet: Sheet, sheets: Sequence[Sheet]) -> dict[str, int]:
    """Add the page of ``sheet`` and draw it; returns label counts (``labels`` placed,
    ``dropped``, and per kind: ``plates``/``plates_dropped``, ``stops``/``stops_dropped``,
    ``streets``, ``areas``). The frame's grid prints the columns and rows the registers'
    references name."""
    layout = page_layout(sheet.paper, sheet.landscape)
    add_page(pdf, sheet.paper, landscape=sheet.landscape)
    frame = Frame(sheet.frame, layout.frame, sheet.mm_per_m)
    index = _index(pack)
    canvas = _Canvas(pdf, frame, _page_transform(frame), box(*sheet.frame))
    reserved = _neighbour_boxes(pdf, sheet, layout.frame)
    for quad, _text in reserved:
        canvas.placed.add(quad, upright=True)
    with pdf.local_context(), pdf.rect_clip(*layout.frame):
        areas = _draw_areas(canvas, pack, index)
        streets = _draw_streets(canvas, pack, index)
        _draw_context(canvas, index)
        buildings = _draw_buildings(canvas, pack, index)
        routes = _draw_routes(canvas, pack, index)
        _draw_start(canvas, pack, buildings.tree)
        labelled = _labelled(canvas, buildings)
        _place_stops(canvas, pack, index, labelled)
        _place_plates(canvas, pack, index, buildings, labelled, routes)
        for name, parts in streets.items():
            count = _place_street(pdf, name, parts, layout.frame, canvas.placed, canvas.labels)
            canvas.stats.streets += count
            canvas.stats.placed += count
        for area, colour, is_community, inside in areas:
            text = area.name if is_community else f"{area.name} {area.code}".strip()
            if _place_area(
                pdf, text, inside, colour, is_community, canvas.placed, buildings.tree,
                canvas.labels,
            ):  # fmt: skip
                canvas.stats.areas += 1
                canvas.stats.placed += 1
        for draw in canvas.labels:
            draw()
    _draw_grid(pdf, sheet, layout.frame)
    _draw_neighbours(pdf, reserved)
    _draw_strip(pdf, pack, sheet, sheets, layout.strip, index)
    pdf.set_text_color(*INK)
    return canvas.stats.as_dict()


@dataclass
class _Canvas:
    """One sheet's map being drawn: where it goes, and the labels placed so far (drawn last,
    over every shape)."""

    pdf: FPDF
    frame: Frame
    to_page: Any  # ground coordinates (n×2 array) → page mm
    ground: Polygon  # the frame's ground box
    placed: LabelIndex = field(default_factory=LabelIndex)
    labels: list[Callable[[], None]] = field(default_factory=list)
    stats: _Stats = field(default_factory=_Stats)

    @property
    def frame_mm(self) -> Box:
        return self.frame.paper

    @property
    def wide(self) -> Box:
        """The ground box with a margin: lines are cut there, out of sight, not at the frame."""
        minx, miny, maxx, maxy = self.frame.ground
        return (minx - 20.0, miny - 20.0, maxx + 20.0, maxy + 20.0)

    def lines(self, geom: BaseGeometry) -> list[LineString]:
        """The parts of a line or outline in page mm, cut to the wide box."""
        return _line_parts(shapely.transform(shapely.clip_by_rect(geom, *self.wide), self.to_page))


def _coords(line: LineString) -> list[tuple[float, float]]:
    return [(c[0], c[1]) for c in shapely.get_coordinates(line).tolist()]


def _draw_areas(
    canvas: _Canvas, pack: Pack, index: _Index
) -> list[tuple[NamedArea, Colour, bool, BaseGeometry]]:
    """Community (dash-dot) and zone (dashed) boundaries; returns what their labels need:
    (area, colour, is a community, its visible part in page mm)."""
    pdf = canvas.pdf
    found = []
    for areas, tree, colour, width, dashed in (
        (pack.communities, index.communities, COMMUNITY, 0.8, False),
        (pack.zones, index.zones, ZONE, 0.4, True),
    ):
        for i in sorted(tree.query(canvas.ground, predicate="intersects")):
            area = areas[i]
            lines = [_coords(part) for part in canvas.lines(area.geom.boundary)]
            if dashed:
                set_style(pdf, stroke=colour, width=width)
                pdf.set_dash_pattern(dash=2.0, gap=1.2)
                for line in lines:
                    pdf.polyline(line)
                pdf.set_dash_pattern()
            else:
                _dash_dot(pdf, lines, colour, width)
            inside = shapely.transform(
                shapely.clip_by_rect(area.geom, *canvas.frame.ground), canvas.to_page
            )
            found.append((area, colour, not dashed, inside))
    return found


def _draw_streets(
    canvas: _Canvas, pack: Pack, index: _Index
) -> dict[str, list[tuple[LineString, str]]]:
    """Streets in grey, wider by kind; returns each name's parts (page mm) and kinds."""
    by_width: dict[float, list[list[tuple[float, float]]]] = {}
    named: dict[str, list[tuple[LineString, str]]] = {}
    for i in sorted(index.streets.query(canvas.ground)):
        street = pack.streets[i]
        for part in canvas.lines(street.line):
            by_width.setdefault(STREET_MM.get(street.kind, 0.9), []).append(_coords(part))
            if street.name:
                named.setdefault(street.name, []).append((part, street.kind))
    canvas.pdf.set_draw_color(*STREET)
    for width in sorted(by_width, reverse=True):
        canvas.pdf.set_line_width(width)
        for line in by_width[width]:
            canvas.pdf.polyline(line)
    return named


def _draw_context(canvas: _Canvas, index: _Index) -> None:
    ids = index.context.query(canvas.ground)
    if len(ids):
        set_style(canvas.pdf, fill=CONTEXT_FILL, stroke=CONTEXT_EDGE, width=0.1)
        for polygon in shapely.transform(index.context_geoms[np.sort(ids)], canvas.to_page):
            _fill_polygon(canvas.pdf, polygon, CONTEXT_FILL)


@dataclass
class _Shown:
    """The pack's buildings a sheet shows: their indexes in the pack, their footprints in
    page mm, an STRtree of those."""

    ids: np.ndarray
    pages: np.ndarray
    tree: STRtree
    fills: list[Colour]


def _draw_buildings(canvas: _Canvas, pack: Pack, index: _Index) -> _Shown:
    ids = np.sort(index.buildings.query(canvas.ground))
    pages = shapely.transform(index.footprints[ids], canvas.to_page)
    sweep = pack.kind == PackKind.SWEEP
    fills = []
    for i, polygon in zip(ids, pages, strict=True):
        team = index.teams.get(pack.buildings[i].team, TEAM_PALETTE[0])
        fill = tint(team, 0.5) if sweep else PACK_FILL
        set_style(canvas.pdf, fill=fill, stroke=PACK_EDGE, width=0.2)
        _fill_polygon(canvas.pdf, polygon, fill)
        fills.append(fill)
    return _Shown(ids, pages, STRtree(pages), fills)


def _draw_routes(canvas: _Canvas, pack: Pack, index: _Index) -> STRtree:
    """The walking routes in their teams' colours; returns an STRtree of their page parts."""
    parts: list[LineString] = []
    for i in sorted(index.routes.query(canvas.ground)):
        leg = pack.routes[i]
        set_style(canvas.pdf, stroke=index.teams.get(leg.team, TEAM_PALETTE[0]), width=ROUTE_MM)
        for part in canvas.lines(leg.line):
            canvas.pdf.polyline(_coords(part))
            parts.append(part)
    return STRtree(parts)


def _draw_start(canvas: _Canvas, pack: Pack, buildings: STRtree) -> None:
    if pack.start is None or not pack.start.intersects(canvas.ground):
        return
    sx, sy = (float(v) for v in canvas.to_page(np.array([pack.start.x, pack.start.y])))
    _start_marker(canvas.pdf, sx, sy)
    marker = rect_quad(sx, sy, 4.4, 4.4)
    canvas.placed.add(marker, upright=True)
    if pack.start_name:
        _place_beside(
            canvas.pdf, pack.start_name, marker, canvas.frame_mm, canvas.placed, buildings,
            canvas.labels, sizes=(7.0, 6.0), bold=True, colour=START, leader=False,
        )  # fmt: skip


def _labelled(canvas: _Canvas, shown: _Shown) -> list[tuple[int, int, Polygon]]:
    """(position in ``shown``, index in the pack, page footprint) of the buildings whose
    representative point lies in the frame: those get their stop and plate on this sheet."""
    left, top, width, height = canvas.frame_mm
    found = []
    for k, (i, polygon) in enumerate(zip(shown.ids, shown.pages, strict=True)):
        point = polygon.representative_point()
        if left <= point.x <= left + width and top <= point.y <= top + height:
            found.append((k, int(i), polygon))
    return found


def _place_stops(
    canvas: _Canvas, pack: Pack, index: _Index, labelled: list[tuple[int, int, Polygon]]
) -> None:
    stats = canvas.stats
    for _k, i, polygon in labelled:
        building = pack.buildings[i]
        if building.stop is None:
            continue
        stats.stops += 1
        colour = index.teams.get(building.team, TEAM_PALETTE[0])
        if _place_stop(
            canvas.pdf, str(building.stop), polygon, canvas.frame_mm, canvas.placed,
            canvas.labels, colour,
        ):  # fmt: skip
            stats.placed += 1
        else:
            stats.stops_dropped += 1
            stats.dropped += 1


def _place_plates(
    canvas: _Canvas,
    pack: Pack,
    index: _Index,
    shown: _Shown,
    labelled: list[tuple[int, int, Polygon]],
    routes: STRtree,
) -> None:
    """Door plates inside the buildings, else beside them with a leader."""
    stats = canvas.stats
    for k, i, polygon in labelled:
        building = pack.buildings[i]
        if not building.label:
            continue
        stats.plates += 1
        visible = shapely.clip_by_rect(polygon, *_ltrb(canvas.frame_mm))
        if _place_inside(
            canvas.pdf, building.label, visible, canvas.placed, canvas.labels, routes,
            shown.fills[k],
        ) or _place_beside(
            canvas.pdf, building.label, rect_quad(*_centre_size(polygon.bounds)),
            canvas.frame_mm, canvas.placed, shown.tree, canvas.labels, sizes=BESIDE_PT,
            bold=False, colour=INK, leader=True, target=polygon,
        ):  # fmt: skip
            stats.placed += 1
        else:
            stats.plates_dropped += 1
            stats.dropped += 1


def _ltrb(area: Box) -> Box:
    return (area[0], area[1], area[0] + area[2], area[1] + area[3])


def _centre_size(bounds: Box) -> tuple[float, float, float, float]:
    return (
        (bounds[0] + bounds[2]) / 2,
        (bounds[1] + bounds[3]) / 2,
        bounds[2] - bounds[0],
        bounds[3] - bounds[1],
    )


def _fill_polygon(pdf: FPDF, polygon: Polygon, fill: Colour) -> None:
    for part in _polygon_parts(polygon):
        rings = _rings(part)
        pdf.polygon(rings[0], style="DF")
        if len(rings) > 1:
            pdf.set_fill_color(*WHITE)
            for ring in rings[1:]:
                pdf.polygon(ring, style="DF")
            pdf.set_fill_color(*fill)


def _start_marker(pdf: FPDF, x: float, y: float) -> None:
    set_style(pdf, fill=START, stroke=WHITE, width=0.4)
    pdf.polygon([(x, y - 2.4), (x + 2.1, y + 1.3), (x - 2.1, y + 1.3)], style="DF")
    pdf.set_fill_color(*WHITE)
    pdf.circle(x, y + 0.1, 0.6, style="F")


def _draw_stop(pdf: FPDF, text: str, x: float, y: float, r: float, colour: Colour) -> None:
    set_style(pdf, fill=colour, stroke=WHITE, width=0.3)
    pdf.circle(x, y, r, style="DF")
    size = 5.6 if len(text) < 3 else 4.8
    draw_text(pdf, text, x, y, size, colour=WHITE, bold=True)


def _place_stop(
    pdf: FPDF,
    text: str,
    polygon: Polygon,
    frame_mm: Box,
    placed: LabelIndex,
    labels: list[Callable[[], None]],
    colour: Colour,
) -> bool:
    """A numbered circle on a corner of the building (the north-west one first), else on the
    middle of a side, else pushed outwards from a corner."""
    width = text_width(pdf, text, 5.6 if len(text) < 3 else 4.8, bold=True)
    r = max(1.7, width / 2 + 0.45)
    hull = polygon.convex_hull
    corners = shapely.get_coordinates(hull)[:-1].tolist() if isinstance(hull, Polygon) else []
    if not corners:
        corners = [list(hull.centroid.coords[0])]
    sides = [
        ((x0 + x1) / 2, (y0 + y1) / 2)
        for (x0, y0), (x1, y1) in itertools.pairwise([*corners, corners[0]])
    ]
    corners.sort(key=lambda c: c[0] + c[1])  # page y grows southwards: north-west first
    cx, cy = hull.centroid.x, hull.centroid.y
    candidates = [(x, y) for x, y in corners] + sides
    for step in (r, 2 * r):
        for x, y in corners:
            d = math.hypot(x - cx, y - cy) or 1.0
            candidates.append((x + (x - cx) / d * step, y + (y - cy) / d * step))
    for x, y in candidates:
        quad = rect_quad(x, y, 2 * r, 2 * r)
        if _inside(quad, frame_mm) and placed.free(quad, upright=True):
            placed.add(quad, upright=True)
            labels.append(functools.partial(_draw_stop, pdf, text, x, y, r, colour))
            return True
    return False


def _long_axis(polygon: BaseGeometry) -> tuple[float, float] | None:
    """The unit vector along the long side of the polygon's minimum rotated rectangle, read
    left to right; None when that is (nearly) horizontal or the polygon is roundish."""
    corners = shapely.get_coordinates(polygon.minimum_rotated_rectangle)
    if len(corners) < 4:
        return None
    sides = [corners[1] - corners[0], corners[2] - corners[1]]
    long, short = sorted(sides, key=lambda v: -math.hypot(*v))
    length = math.hypot(*long)
    if length < 1.3 * math.hypot(*short):
        return None
    ux, uy = long[0] / length, long[1] / length
    if ux < 0 or (ux == 0 and uy > 0):
        ux, uy = -ux, -uy
    if abs(uy) < math.sin(math.radians(4)):
        return None
    return float(ux), float(uy)


def _place_inside(
    pdf: FPDF,
    text: str,
    polygon: BaseGeometry,
    placed: LabelIndex,
    labels: list[Callable[[], None]],
    routes: STRtree,
    fill: Colour,
) -> bool:
    """Inside the building: upright, else along its long axis, at decreasing sizes; on a box
    of the building's fill where the route crosses the label."""
    if polygon.is_empty:
        return False
    points = [polygon.representative_point()]
    centroid = polygon.centroid
    if not centroid.is_empty and polygon.contains(centroid):
        points.insert(0, centroid)
    minx, miny, maxx, maxy = polygon.bounds
    axis = _long_axis(polygon)
    diagonal = math.hypot(maxx - minx, maxy - miny)
    for size in PLATE_PT:
        width = text_width(pdf, text, size) + 0.4
        height = _mm(size) * 1.05
        if width > diagonal:
            continue
        for point in points:
            quad = rect_quad(point.x, point.y, width, height)
            if placed.free(quad, upright=True) and polygon.contains(shape := Polygon(quad)):
                placed.add(quad, upright=True)
                halo = fill if len(routes.query(shape, predicate="intersects")) else None
                labels.append(
                    functools.partial(draw_text, pdf, text, point.x, point.y, size, halo=halo)
                )
                return True
            if axis is None:
                continue
            quad = rotated_quad(point.x, point.y, width, height, *axis)
            if placed.free(quad) and polygon.contains(shape := Polygon(quad)):
                placed.add(quad)
                angle = -math.degrees(math.atan2(axis[1], axis[0]))
                halo = fill if len(routes.query(shape, predicate="intersects")) else None
                labels.append(
                    functools.partial(
                        draw_text, pdf, text, point.x, point.y, size, angle=angle, halo=halo
                    )
                )
                return True
    return False


def _draw_leader(pdf: FPDF, start: tuple[float, float], end: tuple[float, float]) -> None:
    set_style(pdf, stroke=(90, 90, 90), width=0.15)
    pdf.line(start[0], start[1], end[0], end[1])


def _place_beside(
    pdf: FPDF,
    text: str,
    anchor: Quad,
    frame_mm: Box,
    placed: LabelIndex,
    obstacles: STRtree,
    labels: list[Callable[[], None]],
    *,
    sizes: Sequence[float],
    bold: bool,
    colour: Colour,
    leader: bool,
    target: Polygon | None = None,
) -> bool:
    """Beside the box ``anchor``, in eight directions at a few distances, clear of other labels
    and of the pack's buildings (as a last resort over them); with a leader line to ``target``
    when asked."""
    minx, miny, maxx, maxy = _aabb(anchor)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    tries = [(size, gap, True) for size in sizes for gap in ((1.8, 3.6) if leader else (0.6, 2.0))]
    tries += [(sizes[-1], gap, False) for gap in ((1.8, 3.6, 6.0) if leader else (0.6, 2.0))]
    for size, gap, avoid in tries:
        width = text_width(pdf, text, size, bold=bold) + 0.4
        height = _mm(size) * 1.05
        east = maxx + gap + width / 2
        west = minx - gap - width / 2
        north = miny - gap - height / 2
        south = maxy + gap + height / 2
        for x, y in (
            (east, cy), (west, cy), (cx, north), (cx, south),
            (east, north), (west, north), (east, south), (west, south),
        ):  # fmt: skip
            quad = rect_quad(x, y, width, height)
            if not _inside(quad, frame_mm) or not placed.free(quad, upright=True):
                continue
            if avoid and len(obstacles.query(Polygon(quad), predicate="intersects")):
                continue
            placed.add(quad, upright=True)
            if leader and target is not None:
                near = nearest_points(target.boundary, Point(x, y))[0]
                edge = _box_edge_towards(quad, near.x, near.y)
                labels.append(functools.partial(_draw_leader, pdf, edge, (near.x, near.y)))
            labels.append(
                functools.partial(
                    draw_text, pdf, text, x, y, size, colour=colour, bold=bold, halo=WHITE
                )
            )
            return True
    return False


def _box_edge_towards(quad: Quad, x: float, y: float) -> tuple[float, float]:
    minx, miny, maxx, maxy = _aabb(quad)
    return (min(max(x, minx), maxx), min(max(y, miny), maxy))


def _merged(parts: list[tuple[LineString, str]]) -> list[tuple[LineString, str]]:
    """The parts of one street joined where they meet (streets come in many short pieces),
    longest first."""
    kind = parts[0][1]
    merged = shapely.line_merge(MultiLineString([p for p, _kind in parts]))
    return sorted(((line, kind) for line in _line_parts(merged)), key=lambda p: -p[0].length)


def _place_street(
    pdf: FPDF,
    name: str,
    parts: list[tuple[LineString, str]],
    frame_mm: Box,
    placed: LabelIndex,
    labels: list[Callable[[], None]],
) -> int:
    """Up to two labels of ``name`` along its longest straight-enough stretches (at a third
    and two thirds of a long line, else the middle, else anywhere along it), turned to read
    left to right, 60 mm apart at least."""
    done: list[tuple[float, float]] = []
    for part, kind in _merged(parts):
        base = STREET_PT.get(kind, 6.5)
        length = part.length
        for size, bend_mm in ((base, 0.8), (base - 1.0, 1.4)):
            width = text_width(pdf, name, size) + 1.0
            height = _mm(size) * 1.1
            if length < width + 2.0:
                continue
            fractions = [0.5] if length < 3 * width + 40 else [1 / 3, 2 / 3, 0.5]
            steps = max(2, int(length / (width / 2)))
            fractions += [k / steps for k in range(1, steps)]
            for fraction in fractions:
                if len(done) >= 2:
                    return len(done)
                d = fraction * length
                if d - width / 2 < 0 or d + width / 2 > length:
                    continue
                centre = part.interpolate(d)
                if any(math.hypot(centre.x - x, centre.y - y) < 60.0 for x, y in done):
                    continue
                stretch = substring(part, d - width / 2, d + width / 2)
                (x0, y0), (x1, y1) = stretch.coords[0], stretch.coords[-1]
                chord = LineString([(x0, y0), (x1, y1)])
                if chord.length < width * 0.9 or stretch.hausdorff_distance(chord) > bend_mm:
                    continue
                ux, uy = (x1 - x0) / chord.length, (y1 - y0) / chord.length
                if ux < 0 or (ux == 0 and uy > 0):
                    ux, uy = -ux, -uy
                quad = rotated_quad(centre.x, centre.y, width, height, ux, uy)
                if not _inside(quad, frame_mm) or not placed.free(quad):
                    continue
                placed.add(quad)
                angle = -math.degrees(math.atan2(uy, ux))
                labels.append(
                    functools.partial(
                        draw_text, pdf, name, centre.x, centre.y, size, colour=STREET_TEXT,
                        angle=angle,
                    )
                )  # fmt: skip
                done.append((centre.x, centre.y))
    return len(done)


def _place_area(
    pdf: FPDF,
    text: str,
    inside: BaseGeometry,
    colour: Colour,
    bold: bool,
    placed: LabelIndex,
    obstacles: STRtree,
    labels: list[Callable[[], None]],
) -> bool:
    """The zone's or community's name inside its visible part, clear of labels and buildings."""
    if inside.is_empty:
        return False
    size = 7.5 if bold else 6.5
    width = text_width(pdf, text, size, bold=bold) + 0.6
    height = _mm(size) * 1.1
    minx, miny, maxx, maxy = inside.bounds
    points = [inside.representative_point()]
    for fx in (0.5, 0.25, 0.75, 0.1, 0.9):
        for fy in (0.5, 0.2, 0.8, 0.1, 0.9):
            points.append(Point(minx + fx * (maxx - minx), miny + fy * (maxy - miny)))
    for point in points:
        quad = rect_quad(point.x, point.y, width, height)
        shape = Polygon(quad)
        if not inside.contains(shape) or not placed.free(quad, upright=True):
            continue
        if len(obstacles.query(shape, predicate="intersects")):
            continue
        placed.add(quad, upright=True)
        labels.append(
            functools.partial(
                draw_text, pdf, text, point.x, point.y, size, colour=colour, bold=bold, halo=WHITE
            )
        )
        return True
    return False


# --- frame, grid, neighbours -------------------------------------------------------------------


def _draw_grid(pdf: FPDF, sheet: Sheet, frame_mm: Box) -> None:
    left, top, width, height = frame_mm
    cell_w, cell_h = width / sheet.cols, height / sheet.rows
    set_style(pdf, stroke=GRID, width=0.12)
    for c in range(1, sheet.cols):
        pdf.line(left + c * cell_w, top, left + c * cell_w, top + height)
    for r in range(1, sheet.rows):
        pdf.line(left, top + r * cell_h, left + width, top + r * cell_h)
    set_style(pdf, stroke=INK, width=0.45)
    pdf.rect(left, top, width, height, style="D")
    band = 2.0  # centre of the band outside the frame
    for c in range(sheet.cols):
        x = left + (c + 0.5) * cell_w
        for y in (top - band, top + height + band):
            draw_text(pdf, column_letter(c), x, y, 7.5, bold=True)
    for r in range(sheet.rows):
        y = top + (r + 0.5) * cell_h
        for x in (left - band, left + width + band):
            draw_text(pdf, str(r + 1), x, y, 7.5, bold=True)


#: Where a neighbour's note sits, as fractions of the frame, and its arrow.
_NEIGHBOUR_AT = {
    "N": (0.5, 0.0, "↑"),
    "S": (0.5, 1.0, "↓"),
    "E": (1.0, 0.5, "→"),
    "W": (0.0, 0.5, "←"),
    "NE": (1.0, 0.0, "↗"),
    "NW": (0.0, 0.0, "↖"),
    "SE": (1.0, 1.0, "↘"),
    "SW": (0.0, 1.0, "↙"),
}
NEIGHBOUR_PT = 6.5


def _neighbour_boxes(pdf: FPDF, sheet: Sheet, frame_mm: Box) -> list[tuple[Quad, str]]:
    """The boxes of the "continues on sheet n" notes inside the frame's edges, with the text
    (an arrow towards the neighbour on the side it lies)."""
    left, top, width, height = frame_mm
    boxes = []
    for direction, number in sorted(sheet.neighbours.items()):
        fx, fy, arrow = _NEIGHBOUR_AT[direction]
        note = _("Continues on sheet %(number)d") % {"number": number}
        text = f"{arrow} {note}" if fx == 0.0 else f"{note} {arrow}"
        w = text_width(pdf, text, NEIGHBOUR_PT, bold=True) + 2.0
        h = _mm(NEIGHBOUR_PT) + 1.6
        inset = {0.0: 1, 0.5: 0, 1.0: -1}
        cx = left + fx * width + inset[fx] * (w / 2 + 0.6)
        cy = top + fy * height + inset[fy] * (h / 2 + 0.6)
        boxes.append((rect_quad(cx, cy, w, h), text))
    return boxes


def _draw_neighbours(pdf: FPDF, boxes: list[tuple[Quad, str]]) -> None:
    for quad, text in boxes:
        minx, miny, maxx, maxy = _aabb(quad)
        set_style(pdf, fill=WHITE, stroke=INK, width=0.25)
        pdf.rect(minx, miny, maxx - minx, maxy - miny, style="DF")
        draw_text(pdf, text, (minx + maxx) / 2, (miny + maxy) / 2, NEIGHBOUR_PT, bold=True)


# --- the strip: title block, scale bar, north arrow, legend, inset -----------------------------


def _strip_boxes(strip: Box, landscape: bool) -> tuple[Box, Box, Box]:
    """(title block, legend, inset) in the strip."""
    left, top, width, height = strip
    if landscape:
        title = (left, top, width, 52.0)
        inset = (left, top + height - 64.0, width, 64.0)
        legend = (left, top + 54.0, width, inset[1] - 2.0 - (top + 54.0))
        return title, legend, inset
    inset_w = 50.0
    title_w = 78.0
    title = (left, top, title_w, height)
    inset = (left + width - inset_w, top, inset_w, height)
    legend = (left + title_w + 2.0, top, width - title_w - inset_w - 4.0, height)
    return title, legend, inset


def _draw_strip(
    pdf: FPDF, pack: Pack, sheet: Sheet, sheets: Sequence[Sheet], strip: Box, index: _Index
) -> None:
    title, legend, inset = _strip_boxes(strip, sheet.landscape)
    set_style(pdf, stroke=INK, width=0.3)
    for area in (title, legend, inset):
        pdf.rect(*area, style="D")
    _draw_title(pdf, pack, sheet, len(sheets), title)
    _draw_legend(pdf, pack, legend, index)
    _draw_inset(pdf, index.overview, sheet, sheets, inset)


def _fit_text(pdf: FPDF, text: str, size: float, width: float, *, bold: bool = False) -> float:
    while size > 5.0 and text_width(pdf, text, size, bold=bold) > width:
        size -= 0.5
    return size


def _draw_title(pdf: FPDF, pack: Pack, sheet: Sheet, total: int, area: Box) -> None:
    left, top, width, _height = area
    x = left + 2.5
    inner = width - 5.0
    size = _fit_text(pdf, pack.title, 10.0, inner - 9.0, bold=True)
    draw_text(pdf, pack.title, x, top + 4.5, size, bold=True, align="L")
    lines = [
        (_("Sheet %(number)d of %(total)d") % {"number": sheet.number, "total": total}, 9.0, True),
        (_("Scale %(scale)s") % {"scale": f"1:{sheet.scale}"}, 7.5, False),
        (_("Made on %(date)s") % {"date": pack.made_on.isoformat()}, 7.5, False),
    ]
    y = top + 10.5
    for text, text_size, bold in lines:
        draw_text(pdf, text, x, y, text_size, bold=bold, align="L")
        y += _mm(text_size) + 2.0
    note = _("Grid reference: sheet-column row, e.g. %(example)s") % {"example": "2-B3"}
    draw_text(pdf, note, x, y, _fit_text(pdf, note, 6.5, inner), align="L")
    _north_arrow(pdf, left + width - 5.5, top + 11.0)
    _scale_bar(pdf, sheet.scale, x, top + 38.0, min(inner - 8.0, 45.0))


def _north_arrow(pdf: FPDF, x: float, y: float) -> None:
    set_style(pdf, fill=INK, stroke=INK, width=0.2)
    pdf.polygon([(x, y - 5.0), (x + 2.2, y + 2.5), (x, y + 1.0)], style="DF")
    pdf.set_fill_color(*WHITE)
    pdf.polygon([(x, y - 5.0), (x - 2.2, y + 2.5), (x, y + 1.0)], style="DF")
    draw_text(pdf, _("N"), x, y - 7.0, 7.0, bold=True)


def scale_bar_metres(scale: int, max_mm: float) -> int:
    """The longest round length (m) whose bar is at most ``max_mm`` long at 1:``scale``."""
    best = 10
    for metres in (10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if metres * 1000 / scale <= max_mm:
            best = metres
    return best


def _scale_bar(pdf: FPDF, scale: int, x: float, y: float, max_mm: float) -> None:
    metres = scale_bar_metres(scale, max_mm)
    length = metres * 1000 / scale
    parts = 4 if metres % 4 == 0 or metres in (10, 50, 250, 1000) else 2
    step = length / parts
    set_style(pdf, stroke=INK, width=0.2)
    for k in range(parts):
        pdf.set_fill_color(*(INK if k % 2 == 0 else WHITE))
        pdf.rect(x + k * step, y, step, 1.6, style="DF")
    draw_text(pdf, "0", x, y + 3.6, 6.0)
    draw_text(pdf, f"{metres // 2}", x + length / 2, y + 3.6, 6.0)
    draw_text(pdf, f"{metres} m", x + length, y + 3.6, 6.0, align="L")
    draw_text(pdf, f"1:{scale}", x, y - 2.4, 7.0, bold=True, align="L")


def _legend_items(pack: Pack, index: _Index) -> list[tuple[str, str, Colour]]:
    items: list[tuple[str, str, Colour]] = [("context", _("Building"), CONTEXT_FILL)]
    if pack.kind == PackKind.SWEEP and index.teams:
        # Each team: its buildings' fill with its route's colour along the bottom.
        items += [("team", name, colour) for name, colour in index.teams.items()][:6]
    else:
        items.append(("pack", _("Pack building"), PACK_FILL))
    route = next(iter(index.teams.values()), TEAM_PALETTE[0])
    items += [
        ("route", _("Route"), route),
        ("stop", _("Stop"), route),
        ("start", _("Start point"), START),
        ("street", _("Street"), STREET),
        ("zone", _("Zone"), ZONE),
        ("community", _("Community"), COMMUNITY),
    ]
    return items


def _draw_legend(pdf: FPDF, pack: Pack, area: Box, index: _Index) -> None:
    left, top, width, height = area
    draw_text(pdf, _("Legend"), left + 2.5, top + 3.8, 8.0, bold=True, align="L")
    items = _legend_items(pack, index)
    columns = 2
    per_column = math.ceil(len(items) / columns)
    row_h = min(4.6, (height - 9.0) / per_column)
    col_w = (width - 4.0) / columns
    for k, (kind, text, colour) in enumerate(items):
        x = left + 2.5 + (k // per_column) * col_w
        y = top + 9.0 + (k % per_column) * row_h
        _legend_symbol(pdf, kind, x, y, colour)
        size = _fit_text(pdf, text, 7.0, col_w - 11.0)
        draw_text(pdf, text, x + 9.5, y, size, align="L")


def _legend_symbol(pdf: FPDF, kind: str, x: float, y: float, colour: Colour) -> None:
    if kind in ("context", "pack"):
        edge = CONTEXT_EDGE if kind == "context" else PACK_EDGE
        set_style(pdf, fill=colour, stroke=edge, width=0.2)
        pdf.rect(x, y - 1.5, 7.5, 3.0, style="DF")
    elif kind == "team":
        set_style(pdf, fill=tint(colour, 0.5), stroke=PACK_EDGE, width=0.2)
        pdf.rect(x, y - 1.8, 7.5, 2.6, style="DF")
        set_style(pdf, stroke=colour, width=ROUTE_MM)
        pdf.line(x, y + 1.5, x + 7.5, y + 1.5)
    elif kind == "route":
        set_style(pdf, stroke=colour, width=ROUTE_MM)
        pdf.line(x, y, x + 7.5, y)
    elif kind == "stop":
        _draw_stop(pdf, "1", x + 3.75, y, 1.7, colour)
    elif kind == "start":
        _start_marker(pdf, x + 3.75, y + 0.4)
    elif kind == "street":
        set_style(pdf, stroke=colour, width=1.3)
        pdf.line(x, y, x + 7.5, y)
    elif kind == "zone":
        set_style(pdf, stroke=colour, width=0.4)
        pdf.set_dash_pattern(dash=2.0, gap=1.2)
        pdf.line(x, y, x + 7.5, y)
        pdf.set_dash_pattern()
    elif kind == "community":
        _dash_dot(pdf, [[(x, y), (x + 7.5, y)]], colour, 0.8)


def _draw_inset(
    pdf: FPDF, overview: BaseGeometry | None, sheet: Sheet, sheets: Sequence[Sheet], area: Box
) -> None:
    left, top, width, height = area
    draw_text(pdf, _("Sheet index"), left + 2.5, top + 3.5, 7.0, bold=True, align="L")
    paper = (left + 2.0, top + 6.5, width - 4.0, height - 8.5)
    bounds = [s.frame for s in sheets]
    if overview is not None:
        bounds.append(overview.bounds)
    fit = Frame.fit(
        (
            min(b[0] for b in bounds),
            min(b[1] for b in bounds),
            max(b[2] for b in bounds),
            max(b[3] for b in bounds),
        ),
        paper,
    )
    to_page = _page_transform(fit)
    if overview is not None:
        set_style(pdf, fill=(238, 238, 238), stroke=(160, 160, 160), width=0.15)
        for polygon in _polygon_parts(shapely.transform(overview, to_page)):
            _fill_polygon(pdf, polygon, (238, 238, 238))
    for other in sheets:
        x0, y0 = fit.xy(other.core[0], other.core[3])
        x1, y1 = fit.xy(other.core[2], other.core[1])
        this = other.number == sheet.number
        if this:
            set_style(pdf, fill=(250, 190, 150), stroke=START, width=0.4)
            pdf.rect(x0, y0, x1 - x0, y1 - y0, style="DF")
        else:
            set_style(pdf, stroke=(80, 80, 80), width=0.15)
            pdf.rect(x0, y0, x1 - x0, y1 - y0, style="D")
        size = min(6.5, (y1 - y0) / PT_MM * 0.6, (x1 - x0) / PT_MM / max(len(str(other.number)), 1))
        if size >= 3.5:
            draw_text(pdf, str(other.number), (x0 + x1) / 2, (y0 + y1) / 2, size, bold=this)
