"""The cover of a pack and what its text pages share (fonts, text fitting, footers, stop
badges); the register pages are in ``registers``, the building plans in ``plans``.

* :func:`draw_cover` — A4 portrait: the title, the pack's facts and totals, an overview map of
  the whole area with the pack's buildings, routes, start and the index of map sheets.

All text is fpdf2 text (selectable, found by pypdf); all drawing is vectors. UI words go through
gettext with English msgids; data strings (addresses, names, door plates) come from the pack.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np
import shapely
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from fpdf import FPDF
from shapely.geometry.base import BaseGeometry

from .pack import BuildingItem, Pack, PackKind
from .pdf import (
    FONT,
    INK,
    START,
    TEAM_PALETTE,
    WHITE,
    Colour,
    Frame,
    add_page,
    draw_area,
    set_style,
    string_width,
    team_colours,
)

Step = Callable[..., None]
Box = tuple[float, float, float, float]

HIGHLIGHT: Colour = (230, 110, 60)  # the pack's buildings when they are not coloured by team
GREY: Colour = (110, 110, 110)
LIGHT: Colour = (205, 205, 205)
PALE: Colour = (244, 244, 244)
BAND: Colour = (228, 236, 246)
SHEET_INDEX: Colour = (30, 60, 140)

MARGIN = 10.0
FOOTER_MM = 12.0  # space kept for the footer at the bottom of every page
PT_MM = 25.4 / 72.0
#: Where the visual middle of a line of CJK text or digits lies above its baseline, in em.
MIDLINE_EM = 0.36


class SheetLike(Protocol):
    """What the cover reads of a map sheet (``layout.Sheet``)."""

    @property
    def number(self) -> int: ...

    @property
    def core(self) -> Box: ...


# ---------------------------------------------------------------------------------------------
# Text helpers


def _font(pdf: FPDF, size_pt: float, *, bold: bool = False, colour: Colour = INK) -> None:
    style = "B" if bold else ""
    if pdf.font_family != FONT or pdf.font_style != style or pdf.font_size_pt != size_pt:
        pdf.set_font(FONT, style, size_pt)
    if _text_colours.get(pdf) != colour:
        pdf.set_text_color(*colour)
        _text_colours[pdf] = colour


#: The text colour this module last set on each document (fpdf2's ``set_text_color`` is not
#: free); forgotten at the start of each public function, as other modules draw in between.
_text_colours: weakref.WeakKeyDictionary[FPDF, Colour] = weakref.WeakKeyDictionary()


def _width(pdf: FPDF, text: str) -> float:
    """The width of ``text`` in mm in the current font."""
    return string_width(pdf, text)


def _fit(pdf: FPDF, text: str, width_mm: float) -> str:
    """``text`` cut short with "…" so that it is at most ``width_mm`` wide in the current font."""
    if _width(pdf, text) <= width_mm:
        return text
    while text and _width(pdf, text + "…") > width_mm:
        text = text[:-1]
    return text + "…" if text else ""


def _wrap(pdf: FPDF, text: str, width_mm: float, max_lines: int) -> list[str]:
    """``text`` broken into lines at most ``width_mm`` wide (at any character: Chinese has no
    spaces), at most ``max_lines`` of them, the last cut short with "…"."""
    lines: list[str] = []
    line = ""
    for char in text:
        if line and _width(pdf, line + char) > width_mm:
            lines.append(line)
            line = char.lstrip()
        else:
            line += char
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _fit(pdf, "".join(lines[max_lines - 1 :]), width_mm)]
    return lines


def _baseline(top: float, height: float, size_pt: float) -> float:
    """The baseline that centres a line of ``size_pt`` text vertically in a box."""
    return top + height / 2 + MIDLINE_EM * size_pt * PT_MM


def _text(pdf: FPDF, x: float, y: float, text: str, *, align: str = "L") -> float:
    """Write ``text`` with its baseline at ``y``, left-aligned at, centred on or right-aligned at
    ``x``; returns its width."""
    width = _width(pdf, text)
    if align == "C":
        x -= width / 2
    elif align == "R":
        x -= width
    pdf.text(x, y, text)
    return width


def _page_label(pdf: FPDF) -> str:
    return _("Page %(number)d") % {"number": pdf.page_no()}


def _footer(pdf: FPDF, pack: Pack, width: float, height: float) -> None:
    """ "plategrid · <title> · page n" at the left, the date at the right."""
    _font(pdf, 7, colour=GREY)
    y = height - 6
    date = pack.made_on.isoformat()
    date_w = _width(pdf, date)
    left = _fit(pdf, f"plategrid · {pack.title}", width - 2 * MARGIN - date_w - 40)
    _text(pdf, MARGIN, y, f"{left} · {_page_label(pdf)}")
    _text(pdf, width - MARGIN, y, date, align="R")
    set_style(pdf, stroke=LIGHT, width=0.2)
    pdf.line(MARGIN, y - 4, width - MARGIN, y - 4)


def _ref_label(refs: dict[int, str], building: BuildingItem) -> str:
    ref = refs.get(building.id, "")
    return _("Sheet %(ref)s") % {"ref": ref} if ref else _("Not on a sheet")


def _stop_badge(pdf: FPDF, x: float, y: float, radius: float, stop: int, colour: Colour) -> None:
    """The route stop's number in a filled circle centred at (x, y), as on the map."""
    set_style(pdf, fill=colour, stroke=WHITE, width=0.3)
    pdf.circle(x, y, radius, style="DF")
    label = str(stop)
    size = min(radius * 2 / PT_MM * 0.62, radius * 2 * 0.9 / (0.56 * PT_MM * len(label)))
    _font(pdf, size, bold=True, colour=WHITE)
    _text(pdf, x, _baseline(y - radius, 2 * radius, size), label, align="C")


# ---------------------------------------------------------------------------------------------
# Vector drawing of many shapes at once (the cover shows every building of an atlas)


def _page_coords(frame: Frame, coords: np.ndarray) -> np.ndarray:
    left, top, _width, height = frame.paper
    out = np.empty_like(coords)
    out[:, 0] = left + (coords[:, 0] - frame.ground[0]) * frame.mm_per_m
    out[:, 1] = top + height - (coords[:, 1] - frame.ground[1]) * frame.mm_per_m
    return out


def _rings_on_page(frame: Frame, geoms: Sequence[BaseGeometry]) -> list[list[tuple[float, float]]]:
    """The exterior rings of all polygons in ``geoms`` (multi-polygons exploded) in page mm."""
    if not geoms:
        return []
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    polygons = parts[shapely.get_type_id(parts) == 3]
    return _split_coords(frame, shapely.get_exterior_ring(polygons))


def _lines_on_page(frame: Frame, geoms: Sequence[BaseGeometry]) -> list[list[tuple[float, float]]]:
    if not geoms:
        return []
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    rings = shapely.get_type_id(parts) == 3
    lines = np.concatenate([parts[~rings], shapely.get_exterior_ring(parts[rings])])
    return _split_coords(frame, lines)


def _split_coords(frame: Frame, geoms: np.ndarray) -> list[list[tuple[float, float]]]:
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    if not len(coords):
        return []
    page = _page_coords(frame, coords)
    splits = np.flatnonzero(np.diff(index)) + 1
    return [[(float(x), float(y)) for x, y in chunk] for chunk in np.split(page, splits)]


def _polygons(pdf: FPDF, rings: Iterable[list[tuple[float, float]]], style: str) -> None:
    for ring in rings:
        if len(ring) >= 3:
            pdf.polygon(ring, style=style)


# ---------------------------------------------------------------------------------------------
# Cover

KIND_TITLES = {
    PackKind.TEAM_DAY: gettext_noop("Team route pack"),
    PackKind.ZONE: gettext_noop("Zone pack"),
    PackKind.BUILDING: gettext_noop("Building pack"),
    PackKind.SWEEP: gettext_noop("Sweep atlas"),
}


def _pack_extent(pack: Pack, sheets: Sequence[SheetLike]) -> Box | None:
    geoms: list[BaseGeometry] = [b.footprint for b in pack.buildings]
    geoms += [r.line for r in pack.routes]
    if pack.start is not None:
        geoms.append(pack.start)
    geoms += [shapely.box(*s.core) for s in sheets]
    if not geoms:
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms, dtype=object))
    return float(minx), float(miny), float(maxx), float(maxy)


def _table(
    pdf: FPDF,
    x: float,
    y: float,
    width: float,
    title: str,
    rows: list[tuple[str, str]],
    *,
    label_w: float,
    value_pt: float,
    value_bold: bool,
) -> float:
    """A two-column table (label, value) under a small title; values wrap over up to three
    lines. Returns the y below it."""
    _font(pdf, 8, bold=True, colour=GREY)
    _text(pdf, x, y + 3, title)
    y += 5
    set_style(pdf, stroke=INK, width=0.4)
    pdf.line(x, y, x + width, y)
    line_mm = value_pt * PT_MM * 1.35
    for label, value in rows:
        _font(pdf, value_pt, bold=value_bold)
        lines = _wrap(pdf, value, width - label_w - 3, 3) or [""]
        row_h = max(7.0, len(lines) * line_mm + 3)
        set_style(pdf, fill=PALE)
        pdf.rect(x, y, label_w, row_h, style="F")
        _font(pdf, 8.5, colour=GREY)
        _text(pdf, x + 2, _baseline(y, min(row_h, 7.0), 8.5), _fit(pdf, label, label_w - 3))
        _font(pdf, value_pt, bold=value_bold)
        first = _baseline(y, row_h, value_pt) - (len(lines) - 1) * line_mm / 2
        for i, line in enumerate(lines):
            _text(pdf, x + label_w + 2, first + i * line_mm, line)
        y += row_h
        set_style(pdf, stroke=LIGHT, width=0.2)
        pdf.line(x, y, x + width, y)
    return y


def draw_cover(pdf: FPDF, pack: Pack, sheets: Sequence[SheetLike]) -> None:
    """The cover page (A4 portrait): title, facts, totals and the overview map with the index of
    map sheets."""
    _text_colours.pop(pdf, None)
    width, height = add_page(pdf, "a4")
    inner = width - 2 * MARGIN
    size = 20.0
    _font(pdf, size, bold=True)
    while size > 11 and _width(pdf, pack.title) > inner:
        size -= 1
        _font(pdf, size, bold=True)
    _text(pdf, MARGIN, MARGIN + 9, _fit(pdf, pack.title, inner))
    _font(pdf, 9, colour=GREY)
    made = _("Made on %(date)s") % {"date": pack.made_on.isoformat()}
    _text(pdf, MARGIN, MARGIN + 16, f"{_(KIND_TITLES[pack.kind])} · {made}")

    top = MARGIN + 21
    facts_w = inner * 0.58
    bottom = _table(
        pdf, MARGIN, top, facts_w, _("Details"), pack.facts,
        label_w=22, value_pt=9.5, value_bold=False,
    )  # fmt: skip
    bottom = max(
        bottom,
        _table(
            pdf, MARGIN + facts_w + 8, top, inner - facts_w - 8, _("Totals"), pack.totals,
            label_w=22, value_pt=11, value_bold=True,
        ),
    )  # fmt: skip

    map_top = bottom + 7
    legend = _legend_items(pack, bool(sheets))
    legend_h = _legend_rows(pdf, legend, inner) * LEGEND_ROW_MM
    map_bottom = height - FOOTER_MM - 6 - legend_h - 2
    map_box = (MARGIN, map_top + 5, inner, map_bottom - map_top - 5)
    _font(pdf, 8, bold=True, colour=GREY)
    _text(pdf, MARGIN, map_top + 3, _("Overview"))
    frame = _overview(pdf, pack, sheets, map_box)
    _legend(pdf, legend, MARGIN, map_bottom + 2, inner)
    if frame is not None:
        _font(pdf, 7.5, colour=GREY)
        scale = _("Scale %(scale)s") % {"scale": f"1:{_nice_round(frame.scale):,}"}
        _text(pdf, MARGIN + inner, map_top + 3, scale, align="R")
    _footer(pdf, pack, width, height)


def _nice_round(value: float) -> int:
    """``value`` rounded to two significant digits (scales of overview maps are not chosen)."""
    if value <= 0:
        return 0
    digits = max(0, math.floor(math.log10(value)) - 1)
    return int(round(value / 10**digits) * 10**digits)


def _overview(pdf: FPDF, pack: Pack, sheets: Sequence[SheetLike], map_box: Box) -> Frame | None:
    left, top, box_w, box_h = map_box
    set_style(pdf, stroke=GREY, width=0.3)
    pdf.rect(left, top, box_w, box_h, style="D")
    extent = _pack_extent(pack, sheets)
    ground = extent
    if pack.overview is not None and not pack.overview.is_empty:
        ob = pack.overview.bounds
        ground = ob if extent is None else (
            min(ob[0], extent[0]), min(ob[1], extent[1]),
            max(ob[2], extent[2]), max(ob[3], extent[3]),
        )  # fmt: skip
    if ground is None:
        _font(pdf, 9, colour=GREY)
        _text(pdf, left + box_w / 2, top + box_h / 2, _("Nothing to show"), align="C")
        return None
    pad = 0.04 * max(ground[2] - ground[0], ground[3] - ground[1], 50.0)
    padded = (ground[0] - pad, ground[1] - pad, ground[2] + pad, ground[3] + pad)
    frame = Frame.fit(padded, (left + 1, top + 1, box_w - 2, box_h - 2))
    with pdf.rect_clip(left, top, box_w, box_h):
        if pack.overview is not None and not pack.overview.is_empty:
            draw_area(pdf, frame, pack.overview, fill=(250, 248, 242), stroke=GREY, width=0.4)
        for area in pack.communities:
            set_style(pdf, stroke=(150, 150, 150), width=0.25)
            pdf.set_dash_pattern(dash=1.2, gap=0.8)
            for line in _lines_on_page(frame, [area.geom]):
                pdf.polyline(line)
            pdf.set_dash_pattern()
        set_style(pdf, stroke=(215, 215, 215), width=0.35)
        for line in _lines_on_page(frame, [s.line for s in pack.streets]):
            pdf.polyline(line)
        set_style(pdf, fill=(215, 215, 215))
        _polygons(pdf, _rings_on_page(frame, pack.context), "F")
        _overview_buildings(pdf, pack, frame)
        colours = team_colours(pack)
        for leg in pack.routes:
            colour = colours.get(leg.team, TEAM_PALETTE[0])
            set_style(pdf, stroke=colour, width=0.5)
            for line in _lines_on_page(frame, [leg.line]):
                pdf.polyline(line)
        _overview_small_pack(pdf, pack, frame)
        _sheet_index(pdf, frame, sheets)
        if pack.start is not None:
            x, y = frame.xy(pack.start.x, pack.start.y)
            _start_marker(pdf, x, y, pack.start_name)
    return frame


def _overview_buildings(pdf: FPDF, pack: Pack, frame: Frame) -> None:
    if pack.kind == PackKind.SWEEP:
        colours = team_colours(pack)
        by_team: dict[str, list[BaseGeometry]] = {}
        for b in pack.buildings:
            by_team.setdefault(b.team, []).append(b.footprint)
        for team, footprints in by_team.items():
            set_style(pdf, fill=colours.get(team, HIGHLIGHT))
            _polygons(pdf, _rings_on_page(frame, footprints), "F")
    else:
        set_style(pdf, fill=HIGHLIGHT)
        _polygons(pdf, _rings_on_page(frame, [b.footprint for b in pack.buildings]), "F")


def _overview_small_pack(pdf: FPDF, pack: Pack, frame: Frame) -> None:
    """Circle the pack's buildings when they are too small on the overview to be seen."""
    if not pack.buildings:
        return
    minx, miny, maxx, maxy = shapely.total_bounds(
        np.asarray([b.footprint for b in pack.buildings], dtype=object)
    )
    if max(maxx - minx, maxy - miny) * frame.mm_per_m >= 6:
        return
    x, y = frame.xy((minx + maxx) / 2, (miny + maxy) / 2)
    set_style(pdf, stroke=HIGHLIGHT, width=0.6)
    pdf.circle(x, y, 4, style="D")


def _start_marker(pdf: FPDF, x: float, y: float, name: str) -> None:
    set_style(pdf, fill=START, stroke=WHITE, width=0.3)
    pdf.polygon([(x, y - 2.6), (x + 2.3, y + 1.4), (x - 2.3, y + 1.4)], style="DF")
    if name:
        _font(pdf, 7, bold=True, colour=(20, 100, 50))
        width = _width(pdf, name)
        set_style(pdf, fill=WHITE)
        pdf.rect(x + 2.6, y - 1.9, width + 1.2, 3.6, style="F")
        _text(pdf, x + 3.2, y + 0.9, name)


def _sheet_index(pdf: FPDF, frame: Frame, sheets: Sequence[SheetLike]) -> None:
    """Each sheet's core as a rectangle with its number in a white box at its middle."""
    for sheet in sheets:
        x0, y1 = frame.xy(sheet.core[0], sheet.core[1])
        x1, y0 = frame.xy(sheet.core[2], sheet.core[3])
        set_style(pdf, stroke=SHEET_INDEX, width=0.35)
        pdf.rect(x0, y0, x1 - x0, y1 - y0, style="D")
    for sheet in sheets:
        x0, y1 = frame.xy(sheet.core[0], sheet.core[1])
        x1, y0 = frame.xy(sheet.core[2], sheet.core[3])
        label = str(sheet.number)
        size = max(4.0, min(10.0, (y1 - y0) * 0.45 / PT_MM, (x1 - x0) * 0.7 / PT_MM / len(label)))
        _font(pdf, size, bold=True, colour=SHEET_INDEX)
        text_w = _width(pdf, label)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        box_h = size * PT_MM * 1.15
        set_style(pdf, fill=WHITE, stroke=SHEET_INDEX, width=0.2)
        pdf.rect(cx - text_w / 2 - 0.8, cy - box_h / 2, text_w + 1.6, box_h, style="DF")
        _text(pdf, cx, _baseline(cy - box_h / 2, box_h, size), label, align="C")


LegendItem = tuple[str, Colour, str]  # (kind of symbol, colour, label)
LEGEND_ROW_MM = 4.5


def _legend_items(pack: Pack, with_sheets: bool) -> list[LegendItem]:
    items: list[LegendItem] = []
    if pack.kind == PackKind.SWEEP:
        colours = team_colours(pack)
        items += [("fill", c, team) for team, c in list(colours.items())[:10]]
        if len(colours) > 10:
            items.append(("none", INK, _("and %(n)d more teams") % {"n": len(colours) - 10}))
    else:
        items.append(("fill", HIGHLIGHT, _("Pack building")))
    if pack.context:
        items.append(("fill", (215, 215, 215), _("Other buildings")))
    if pack.routes:
        if pack.kind == PackKind.SWEEP:
            items.append(("line", INK, _("Route (in its team's colour)")))
        else:
            route = next(iter(team_colours(pack).values()), TEAM_PALETTE[0])
            items.append(("line", route, _("Route")))
    if pack.start is not None:
        items.append(("start", INK, _("Start point")))
    if with_sheets:
        items.append(("sheet", SHEET_INDEX, _("Map sheet and its number")))
    return items


def _legend(pdf: FPDF, items: list[LegendItem], x0: float, y0: float, width: float) -> float:
    """The legend as rows of (symbol, label) from (x0, y0), wrapping at ``width`` as
    :func:`_legend_rows` counts; returns the height used."""
    _font(pdf, 7)
    x, y = x0, y0
    for kind, colour, label in items:
        item_w = 9 + _width(pdf, label) + 5
        if x > x0 and x + item_w > x0 + width:
            x, y = x0, y + LEGEND_ROW_MM
        cy = y + LEGEND_ROW_MM / 2
        if kind == "fill":
            set_style(pdf, fill=colour)
            pdf.rect(x, cy - 1.3, 5, 2.6, style="F")
        elif kind == "line":
            set_style(pdf, stroke=colour, width=0.5)
            pdf.line(x, cy, x + 5, cy)
        elif kind == "start":
            set_style(pdf, fill=START)
            pdf.polygon([(x + 2.5, cy - 1.6), (x + 4, cy + 1), (x + 1, cy + 1)], style="F")
        elif kind == "sheet":
            set_style(pdf, stroke=colour, width=0.35)
            pdf.rect(x, cy - 1.3, 5, 2.6, style="D")
        _font(pdf, 7)
        _text(pdf, x + 7, _baseline(y, LEGEND_ROW_MM, 7), label)
        x += item_w
    return y + LEGEND_ROW_MM - y0


def _legend_rows(pdf: FPDF, items: list[LegendItem], width: float) -> int:
    _font(pdf, 7)
    rows, x = 1, 0.0
    for _kind, _colour, label in items:
        item_w = 9 + _width(pdf, label) + 5
        if x > 0 and x + item_w > width:
            rows, x = rows + 1, 0.0
        x += item_w
    return rows
