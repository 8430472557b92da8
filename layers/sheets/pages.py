"""The pack's pages other than the map sheets: the cover, the register pages and the building
plans.

* :func:`draw_cover` — A4 portrait: the title, the pack's facts and totals, an overview map of
  the whole area with the pack's buildings, routes, start and the index of map sheets.
* :func:`draw_registers` — A4 landscape, the "two registers" (房屋登记表): every building of the
  pack in route order with its grid reference and QR code, then its rooms with boxes to tick and
  space to write. Buildings share pages when they fit; one too long for a page goes on ("续").
* :func:`draw_plans` — one or more pages per building with room plans: its floors as small
  multiples at one scale for the whole building, room numbers sized to fit their rooms.

All text is fpdf2 text (selectable, found by pypdf); all drawing is vectors. UI words go through
gettext with English msgids; data strings (addresses, names, door plates) come from the pack.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import shapely
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from fpdf import FPDF
from fpdf.fonts import TTFFont
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from .pack import BuildingItem, Pack, PackKind, PlanFloor, RoomRow
from .pdf import (
    FONT,
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
    """The width of ``text`` in mm in the current font: fpdf2's ``get_string_width`` without its
    text fragmenting (10× faster; no character spacing or stretching is used here)."""
    font = pdf.current_font
    if isinstance(font, TTFFont):
        widths = font.cw
        return sum(widths[ord(c)] for c in text) * pdf.font_size_pt * 0.001 / pdf.k
    return pdf.get_string_width(text)


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
    set_style(pdf, fill=(20, 120, 60), stroke=WHITE, width=0.3)
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
            set_style(pdf, fill=(20, 120, 60))
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


# ---------------------------------------------------------------------------------------------
# Register pages

ROW_MM = 6.5
HEAD_MM = 7.5
BAND_MM = 21.0
CONT_BAND_MM = 9.0
GAP_MM = 5.0
QR_MM = 19.0
MIN_ROWS = 6  # a building longer than a page starts on a page only if this many rows fit
BLANK_ROWS = 2  # rows to write in under a building that has no rooms
TICK_MM = 3.2

#: The outcomes to tick (English msgids; the labels of the register's tick columns).
OUTCOMES = (
    gettext_noop("Registered"),
    gettext_noop("Changed"),
    gettext_noop("Moved out"),
    gettext_noop("Vacant"),
    gettext_noop("Not at home"),
    gettext_noop("Refused"),
)


@dataclass(frozen=True)
class _Column:
    label: str
    width: float
    align: str = "L"  # "L", "C", or "T" (a box to tick)


def _columns(table_w: float) -> list[_Column]:
    fixed = [
        _Column(_("Unit"), 11, "C"),
        _Column(_("Floor"), 10, "C"),
        _Column(_("Room"), 14, "C"),
        _Column(_("Door plate"), 37),
        _Column(_("Use"), 16),
        _Column(_("Rented"), 11, "C"),
        _Column(_("Last visit"), 19, "C"),
        _Column(_("Outcome"), 17),
    ]
    ticks = [_Column(_(outcome), 12, "T") for outcome in OUTCOMES]
    used = sum(c.width for c in fixed + ticks)
    return [*fixed, *ticks, _Column(_("Notes"), table_w - used)]


def _row_cells(room: RoomRow) -> list[str]:
    return [
        room.entrance,
        str(room.floor),
        room.number,
        room.plate,
        room.use,
        _("yes") if room.rented else _("no"),
        room.last_visit.isoformat() if room.last_visit else "—",
        room.last_outcome,
    ]


@dataclass
class _RegisterPage:
    """The register's page being drawn and where on it the next thing goes."""

    pdf: FPDF
    pack: Pack
    columns: list[_Column]
    colours: dict[str, Colour]
    width: float = 0.0
    height: float = 0.0
    y: float = math.inf

    @property
    def bottom(self) -> float:
        return self.height - FOOTER_MM - 2

    @property
    def usable(self) -> float:
        return self.bottom - MARGIN

    def room_left(self, needed: float) -> bool:
        return self.y + needed <= self.bottom

    def new_page(self) -> None:
        self.width, self.height = add_page(self.pdf, "a4", landscape=True)
        _footer(self.pdf, self.pack, self.width, self.height)
        self.y = MARGIN


def draw_registers(pdf: FPDF, pack: Pack, refs: dict[int, str], *, step: Step) -> None:
    """The register pages (A4 landscape): each building of ``pack.buildings`` in order, its
    heading (stop, address, grid reference, facts, QR code) and the table of its rooms;
    ``step()`` after each building."""
    _text_colours.pop(pdf, None)
    page = _RegisterPage(pdf, pack, _columns(297.0 - 2 * MARGIN), team_colours(pack))
    for building in pack.buildings:
        rows = len(building.rooms) or BLANK_ROWS + 1
        whole = BAND_MM + HEAD_MM + rows * ROW_MM
        if not page.room_left(whole) and (
            whole <= page.usable or page.height == 0
            or not page.room_left(BAND_MM + HEAD_MM + MIN_ROWS * ROW_MM)
        ):  # fmt: skip
            page.new_page()
        _register_building(page, building, refs)
        page.y += GAP_MM
        step()


def _register_building(page: _RegisterPage, building: BuildingItem, refs: dict[int, str]) -> None:
    pdf = page.pdf
    _building_band(page, building, refs)
    _table_header(page)
    if not building.rooms:
        _font(pdf, 8, colour=GREY)
        _text(
            pdf,
            MARGIN + 3,
            _baseline(page.y, ROW_MM, 8),
            _("No rooms on record: write in any you find."),
        )
        page.y += ROW_MM
        for _i in range(BLANK_ROWS):
            _room_row(page, None, zebra=False, new_floor=False)
        return
    previous_floor: tuple[str, int] | None = None
    for i, room in enumerate(building.rooms):
        if not page.room_left(ROW_MM):
            page.new_page()
            _building_band(page, building, refs, continued=True)
            _table_header(page)
            previous_floor = None
        floor = (room.entrance, room.floor)
        _room_row(page, room, zebra=i % 2 == 1, new_floor=previous_floor not in (None, floor))
        previous_floor = floor


def _building_band(
    page: _RegisterPage, building: BuildingItem, refs: dict[int, str], *, continued: bool = False
) -> None:
    """The building's heading: stop, address and reference on the first line, its facts on the
    second, the QR code of its page at the right (a one-line band on continuation pages)."""
    pdf, y = page.pdf, page.y
    left, right = MARGIN, page.width - MARGIN
    height = CONT_BAND_MM if continued else BAND_MM
    set_style(pdf, fill=BAND)
    pdf.rect(left, y, right - left, height, style="F")
    x = left + 2
    if building.stop is not None:
        radius = 3.2 if continued else 4.6
        _stop_badge(
            pdf,
            x + radius,
            y + (height / 2 if continued else 6.5),
            radius,
            building.stop,
            page.colours.get(building.team, TEAM_PALETTE[0]),
        )
        x += 2 * radius + 2.5
    text_right = right - (2 if continued else QR_MM + 4)
    ref = _ref_label(refs, building)
    _font(pdf, 10, bold=True)
    ref_w = _width(pdf, ref) + 4
    suffix = f"（{_('continued')}）" if continued else ""
    _font(pdf, 11.5 if not continued else 10, bold=True)
    baseline = _baseline(y, height, 10) if continued else y + 8.5
    address = _fit(pdf, building.address, text_right - x - ref_w - 6 - _width(pdf, suffix))
    x += _text(pdf, x, baseline, address + suffix) + 4
    # The grid reference right after the address, boxed like a key.
    _font(pdf, 10, bold=True, colour=SHEET_INDEX)
    set_style(pdf, fill=WHITE, stroke=SHEET_INDEX, width=0.3)
    pdf.rect(x, baseline - 4.2, ref_w, 5.6, style="DF")
    _text(pdf, x + 2, baseline, ref)
    if continued:
        page.y += height + 1
        return
    facts = [
        (_("Door plate"), building.label),
        (_("Name"), building.name),
        (_("Community"), building.community),
        (_("Zone"), building.zone),
        (_("Floors"), str(building.floors)),
        (_("Use"), building.use),
        (_("Rooms"), str(len(building.rooms))),
    ]
    if building.day is not None:
        facts.append(("", _("Day %(day)d") % {"day": building.day}))
    if building.team:
        facts.append((_("Team"), building.team))
    _facts_line(pdf, left + 2, text_right, y + 16, facts)
    pdf.set_fill_color(*WHITE)
    pdf.rect(right - QR_MM - 2, y + (height - QR_MM) / 2, QR_MM, QR_MM, style="F")
    draw_qr(pdf, building.url, right - QR_MM - 2, y + (height - QR_MM) / 2, QR_MM)
    page.y += height + 1


def _facts_line(
    pdf: FPDF, x: float, right: float, baseline: float, facts: list[tuple[str, str]]
) -> None:
    """ "label value · label value …" on one line, stopping before ``right``."""
    for label, value in facts:
        if not value:
            continue
        _font(pdf, 7.5, colour=GREY)
        label_w = _width(pdf, label) + 1.2 if label else 0.0
        _font(pdf, 8.5, bold=True)
        value = _fit(pdf, value, max(right - x - label_w, 0))
        if not value or x + label_w + _width(pdf, value) > right:
            return
        _font(pdf, 7.5, colour=GREY)
        _text(pdf, x, baseline, label)
        _font(pdf, 8.5, bold=True)
        x += label_w + _text(pdf, x + label_w, baseline, value) + 4.5


def _table_header(page: _RegisterPage) -> None:
    pdf, y = page.pdf, page.y
    set_style(pdf, fill=(222, 222, 222))
    pdf.rect(MARGIN, y, page.width - 2 * MARGIN, HEAD_MM, style="F")
    x = MARGIN
    for column in page.columns:
        size = 6.5 if column.align == "T" else 7.5
        _font(pdf, size, bold=True)
        lines = [column.label]
        if _width(pdf, column.label) > column.width - 1:
            size = 5.8
            _font(pdf, size, bold=True)
        if _width(pdf, column.label) > column.width - 1 and " " in column.label:
            # Two lines rather than a cut word ("Not at / home"), a little smaller.
            size = 6.0
            _font(pdf, size, bold=True)
            lines = list(column.label.rsplit(" ", 1))
        line_mm = size * PT_MM * 1.1
        for i, line in enumerate(lines):
            label = _fit(pdf, line, column.width - 1)
            baseline = _baseline(y, HEAD_MM, size) + (i - (len(lines) - 1) / 2) * line_mm
            if column.align == "L":
                _text(pdf, x + 1.2, baseline, label)
            else:
                _text(pdf, x + column.width / 2, baseline, label, align="C")
        x += column.width
    set_style(pdf, stroke=INK, width=0.3)
    pdf.line(MARGIN, y + HEAD_MM, page.width - MARGIN, y + HEAD_MM)
    page.y += HEAD_MM


def _rule(page: _RegisterPage, y: float, *, strong: bool = False) -> None:
    set_style(page.pdf, stroke=GREY if strong else LIGHT, width=0.3 if strong else 0.15)
    page.pdf.line(MARGIN, y, page.width - MARGIN, y)


def _room_row(page: _RegisterPage, room: RoomRow | None, *, zebra: bool, new_floor: bool) -> None:
    """A room's row of the register; ``room`` None: a blank row to write in."""
    pdf, y = page.pdf, page.y
    if zebra:
        set_style(pdf, fill=PALE)
        pdf.rect(MARGIN, y, page.width - 2 * MARGIN, ROW_MM, style="F")
    if new_floor:
        _rule(page, y, strong=True)
    baseline = _baseline(y, ROW_MM, 8)
    x = MARGIN
    cells = _row_cells(room) if room is not None else []
    set_style(pdf, stroke=GREY, width=0.2)
    for i, column in enumerate(page.columns):
        if column.align == "T":
            pdf.rect(
                x + (column.width - TICK_MM) / 2, y + (ROW_MM - TICK_MM) / 2, TICK_MM, TICK_MM,
                style="D",
            )  # fmt: skip
        elif i < len(cells) and cells[i]:
            _font(pdf, 8, bold=i == 2)
            text = _fit(pdf, cells[i], column.width - 1.6)
            if column.align == "L":
                _text(pdf, x + 1.2, baseline, text)
            else:
                _text(pdf, x + column.width / 2, baseline, text, align="C")
        x += column.width
    page.y += ROW_MM
    _rule(page, page.y)


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
