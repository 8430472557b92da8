"""The building plan pages of a pack (房屋平面图): one or more pages per building with room
plans, its floors as small multiples at one scale for the whole building, room numbers sized to
fit their rooms."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from django.utils.translation import gettext as _
from fpdf import FPDF
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from .pack import BuildingItem, Pack, PlanFloor
from .pages import (
    FOOTER_MM,
    GREY,
    MARGIN,
    MIDLINE_EM,
    PT_MM,
    SHEET_INDEX,
    Box,
    Step,
    _fit,
    _font,
    _footer,
    _ref_label,
    _stop_badge,
    _text,
    _text_colours,
    _width,
)
from .pdf import (
    INK,
    TEAM_PALETTE,
    WHITE,
    Colour,
    Frame,
    add_page,
    draw_area,
    set_style,
    team_colours,
)
from .qr import draw_qr
from .registers import _facts_line

# ---------------------------------------------------------------------------------------------
# Building plans

#: Scale denominators a plan may be drawn at.
PLAN_SCALES = (50, 75, 100, 125, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 2500, 5000)
#: The smallest scale at which room numbers stay legible: more pages rather than smaller plans.
PLAN_MAX_SCALE = 500
PLAN_HEAD_MM = 24.0
PLAN_CAPTION_MM = 5.0
PLAN_GAP_MM = 5.0
PLAN_SCALEBAR_MM = 10.0
MAX_CELLS = 8


@dataclass(frozen=True)
class PlanLayout:
    """Floors of a building on plan pages: ``cols × rows`` floors a page at 1:``scale``."""

    landscape: bool
    cols: int
    rows: int
    scale: int

    @property
    def per_page(self) -> int:
        return self.cols * self.rows


def _plan_bounds(floors: Sequence[PlanFloor]) -> Box:
    outlines = [room.outline for floor in floors for room in floor.rooms]
    if not outlines:
        return (0.0, 0.0, 1.0, 1.0)
    minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(outlines, dtype=object))
    return float(minx), float(miny), float(maxx), float(maxy)


def _plan_content(landscape: bool) -> Box:
    """The page box (left, top, width, height) the floors of a plan page share."""
    width, height = (297.0, 210.0) if landscape else (210.0, 297.0)
    top = MARGIN + PLAN_HEAD_MM
    return (MARGIN, top, width - 2 * MARGIN, height - top - FOOTER_MM - PLAN_SCALEBAR_MM - 2)


def plan_layout(floors: Sequence[PlanFloor]) -> PlanLayout:
    """The layout of a building's plan pages: landscape when the plan is wider than tall; the
    fewest pages at which every floor is at 1:``PLAN_MAX_SCALE`` or larger, then the largest
    scale (one floor a page at the largest scale that fits when even that is smaller)."""
    minx, miny, maxx, maxy = _plan_bounds(floors)
    plan_w, plan_h = max(maxx - minx, 1.0) * 1.06, max(maxy - miny, 1.0) * 1.06
    landscape = plan_w > plan_h
    _left, _top, content_w, content_h = _plan_content(landscape)
    count = max(len(floors), 1)
    best: tuple[tuple[int, int, int], PlanLayout] | None = None
    for cols in range(1, min(count, MAX_CELLS) + 1):
        for rows in range(1, min(math.ceil(count / cols), MAX_CELLS) + 1):
            cell_w = (content_w - (cols - 1) * PLAN_GAP_MM) / cols
            cell_h = (content_h - (rows - 1) * PLAN_GAP_MM) / rows - PLAN_CAPTION_MM
            fit = min(cell_w / plan_w, cell_h / plan_h)  # mm per m
            if fit <= 0:
                continue
            scale = next((s for s in PLAN_SCALES if 1000.0 / s <= fit), None)
            if scale is None:
                scale = math.ceil(1000.0 / fit / 100) * 100
            pages = math.ceil(count / (cols * rows))
            legible = scale <= PLAN_MAX_SCALE
            key = (0 if legible else 1, pages if legible else 0, scale)
            layout = PlanLayout(landscape, cols, rows, scale)
            if best is None or key < best[0]:
                best = (key, layout)
    return best[1] if best is not None else PlanLayout(landscape, 1, 1, PLAN_SCALES[-1])


def draw_plans(pdf: FPDF, pack: Pack, refs: dict[int, str], *, step: Step) -> None:
    """The plan pages (房屋平面图) of every building of the pack with room plans; ``step()``
    after each building."""
    _text_colours.pop(pdf, None)
    colours = team_colours(pack)
    for building in pack.buildings:
        if building.plan:
            _draw_plan(pdf, pack, building, refs, colours.get(building.team, TEAM_PALETTE[0]))
            step()


def _floor_name(floor: int) -> str:
    if floor < 0:
        return _("Basement %(floor)d") % {"floor": -floor}
    return _("Floor %(floor)d") % {"floor": floor}


def _draw_plan(
    pdf: FPDF, pack: Pack, building: BuildingItem, refs: dict[int, str], colour: Colour
) -> None:
    floors = sorted(building.plan, key=lambda f: f.floor)
    layout = plan_layout(floors)
    bounds = _plan_bounds(floors)
    mm_per_m = 1000.0 / layout.scale
    left, top, content_w, content_h = _plan_content(layout.landscape)
    cell_w = (content_w - (layout.cols - 1) * PLAN_GAP_MM) / layout.cols
    cell_h = (content_h - (layout.rows - 1) * PLAN_GAP_MM) / layout.rows
    pages = math.ceil(len(floors) / layout.per_page)
    for number in range(pages):
        width, height = add_page(pdf, "a4", landscape=layout.landscape)
        _plan_heading(pdf, building, refs, layout, width, (number + 1, pages), colour)
        chunk = floors[number * layout.per_page : (number + 1) * layout.per_page]
        for k, floor in enumerate(chunk):
            row, col = divmod(k, layout.cols)
            cell = (
                left + col * (cell_w + PLAN_GAP_MM),
                top + row * (cell_h + PLAN_GAP_MM),
                cell_w,
                cell_h,
            )
            _plan_floor(pdf, floor, cell, bounds, mm_per_m)
        _scale_bar(pdf, MARGIN, height - FOOTER_MM - 4, mm_per_m, layout.scale)
        _footer(pdf, pack, width, height)


def _plan_heading(
    pdf: FPDF,
    building: BuildingItem,
    refs: dict[int, str],
    layout: PlanLayout,
    width: float,
    page_of: tuple[int, int],
    colour: Colour,
) -> None:
    right = width - MARGIN
    qr = 20.0
    _font(pdf, 9, bold=True, colour=GREY)
    title = _("Building plan")
    if page_of[1] > 1:
        title += f"  ({page_of[0]}/{page_of[1]})"
    _text(pdf, MARGIN, MARGIN + 3.5, title)
    x = MARGIN
    if building.stop is not None:
        _stop_badge(pdf, x + 4, MARGIN + 9.5, 4, building.stop, colour)
        x += 10.5
    ref = _ref_label(refs, building)
    _font(pdf, 10, bold=True)
    ref_w = _width(pdf, ref) + 4
    _font(pdf, 13, bold=True)
    address = _fit(pdf, building.address, right - qr - 8 - x - ref_w)
    baseline = MARGIN + 11.5
    x += _text(pdf, x, baseline, address) + 4
    _font(pdf, 10, bold=True, colour=SHEET_INDEX)
    set_style(pdf, fill=WHITE, stroke=SHEET_INDEX, width=0.3)
    pdf.rect(x, baseline - 4.2, ref_w, 5.6, style="DF")
    _text(pdf, x + 2, baseline, ref)
    facts = [
        (_("Door plate"), building.label),
        (_("Name"), building.name),
        (_("Community"), building.community),
        (_("Floors"), str(building.floors)),
        (_("Scale"), _("all floors at 1:%(scale)d") % {"scale": layout.scale}),
    ]
    _facts_line(pdf, MARGIN, right - qr - 4, MARGIN + 18.5, facts)
    draw_qr(pdf, building.url, right - qr, MARGIN - 1, qr)
    set_style(pdf, stroke=INK, width=0.4)
    pdf.line(MARGIN, MARGIN + PLAN_HEAD_MM - 2.5, right - qr - 2, MARGIN + PLAN_HEAD_MM - 2.5)


def _plan_floor(pdf: FPDF, floor: PlanFloor, cell: Box, bounds: Box, mm_per_m: float) -> None:
    """One floor in its cell: caption, room outlines, room numbers. ``bounds`` is the whole
    building's plan box, so that every floor sits the same way in its cell."""
    left, top, cell_w, cell_h = cell
    _font(pdf, 8.5, bold=True)
    caption = _floor_name(floor.floor)
    width = _text(pdf, left, top + 3.6, caption)
    _font(pdf, 7, colour=GREY)
    _text(pdf, left + width + 2.5, top + 3.6, _("%(count)d rooms") % {"count": len(floor.rooms)})
    # The building's box at the top of the cell, centred across it: floors line up.
    map_h = cell_h - PLAN_CAPTION_MM - 1
    centre_y = bounds[3] + 1.0 / mm_per_m - map_h / mm_per_m / 2
    frame = Frame.at_scale(
        ((bounds[0] + bounds[2]) / 2, centre_y),
        (left, top + PLAN_CAPTION_MM + 1, cell_w, map_h),
        mm_per_m,
    )
    for room in floor.rooms:
        draw_area(pdf, frame, room.outline, fill=(250, 247, 238), stroke=INK, width=0.3, clip=False)
    for room in floor.rooms:
        _room_number(pdf, frame, room.number, room.outline)


def _room_number(pdf: FPDF, frame: Frame, number: str, outline: Polygon) -> None:
    """The room's number at its pole of inaccessibility, as large as fits (4–11 pt; 3 pt when
    the room is too small even for 4 pt)."""
    if outline.is_empty or not number:
        return
    tolerance = max(0.05, math.sqrt(max(outline.area, 0.01)) / 50)
    point = polylabel(outline, tolerance=tolerance)
    radius = outline.boundary.distance(point)
    # A rectangle's pole is anywhere along its long axis: prefer the centroid when it is
    # (almost) as far inside.
    centroid = outline.centroid
    if outline.contains(centroid) and outline.boundary.distance(centroid) >= 0.9 * radius:
        point, radius = centroid, outline.boundary.distance(centroid)
    radius_mm = radius * frame.mm_per_m
    # Horizontal room through the label point: the chord of the outline at its height.
    minx, _miny, maxx, _maxy = outline.bounds
    chord = outline.intersection(LineString([(minx - 1, point.y), (maxx + 1, point.y)]))
    chord_mm = _segment_around(chord, point.x) * frame.mm_per_m
    _font(pdf, 1, bold=True)
    width_per_pt = max(_width(pdf, number), 1e-6)
    size = min(11.0, chord_mm * 0.82 / width_per_pt, 2 * radius_mm * 0.75 / PT_MM)
    size = max(size, 4.0) if size >= 4.0 else 3.0
    _font(pdf, size, bold=True)
    x, y = frame.xy(point.x, point.y)
    _text(pdf, x, y + MIDLINE_EM * size * PT_MM, number, align="C")


def _segment_around(geom: BaseGeometry, x: float) -> float:
    """The length of the part of a horizontal (multi)line that holds ``x``."""
    parts = list(getattr(geom, "geoms", [geom]))
    for part in parts:
        if isinstance(part, LineString) and not part.is_empty:
            xs = [c[0] for c in part.coords]
            if min(xs) - 1e-6 <= x <= max(xs) + 1e-6:
                return max(xs) - min(xs)
    return max((p.length for p in parts), default=0.0)


def _scale_bar(pdf: FPDF, x: float, y: float, mm_per_m: float, scale: int) -> None:
    """A scale bar of a round length (15–50 mm long), four alternating segments, and the scale."""
    length_m = 1.0
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500):
        if candidate * mm_per_m <= 50:
            length_m = float(candidate)
    bar = length_m * mm_per_m
    part = bar / 4
    set_style(pdf, fill=INK, stroke=INK, width=0.2)
    for i in range(4):
        pdf.rect(x + i * part, y - 1.5, part, 1.5, style="DF" if i % 2 == 0 else "D")
    _font(pdf, 6.5)
    _text(pdf, x, y - 2.5, "0", align="C")
    _text(pdf, x + bar, y - 2.5, f"{length_m:g} m", align="C")
    _font(pdf, 7.5, bold=True)
    _text(pdf, x + bar + 8, y, _("Scale %(scale)s") % {"scale": f"1:{scale}"})
