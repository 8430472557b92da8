"""The PDF canvas every page of a pack is drawn on: fpdf2 with Noto Sans CJK embedded.

fpdf2 (LGPL-3.0) embeds the CFF outlines of Debian's Noto Sans CJK (``fonts-noto-cjk``),
subset to the characters used; ReportLab embeds TrueType outlines only. Text stays text
(selectable, found by pypdf), drawings stay vectors. Units are millimetres, y down, as fpdf2's.

:class:`Frame` maps ground metres (metric SRID, y up) onto a box on the page; ``draw_area``
clips a shapely (multi)polygon to the frame's ground box and draws it with ``FPDF.polygon``
(fpdf2's path API is 30× slower per shape). Holes are painted over in the
background colour.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable
from dataclasses import dataclass

import shapely
from django.conf import settings
from fontTools.ttLib import TTCollection
from fpdf import FPDF
from fpdf.fonts import TTFFont
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from .pack import Pack

#: Portrait paper sizes (width, height) in mm.
PAPER_MM = {"a4": (210.0, 297.0), "a3": (297.0, 420.0)}
FONT = "cjk"
FAMILY = "Noto Sans CJK SC"
WHITE = (255, 255, 255)
INK = (34, 34, 34)

Colour = tuple[int, int, int]
#: The team's start point (service station), on the map sheets and the cover alike.
START: Colour = (200, 20, 60)

#: Team colours (routes, stop badges, the buildings of a whole-sweep atlas), one per team in the
#: order the teams first appear in the pack (its buildings come team by team, in the sweep's
#: order of teams), the same on every page of a pack.
TEAM_PALETTE: tuple[Colour, ...] = (
    (214, 39, 40),
    (31, 119, 180),
    (44, 160, 44),
    (148, 103, 189),
    (255, 127, 14),
    (140, 86, 75),
    (227, 119, 194),
    (23, 190, 207),
    (188, 189, 34),
    (127, 127, 127),
)


def team_colours(pack: Pack) -> dict[str, Colour]:
    """Team name → colour, by the order the teams first appear (buildings, then routes)."""
    names = dict.fromkeys(
        [b.team for b in pack.buildings if b.team] + [r.team for r in pack.routes]
    )
    return {name: TEAM_PALETTE[i % len(TEAM_PALETTE)] for i, name in enumerate(names)}


@functools.cache
def collection_index(path: str, family: str = FAMILY) -> int:
    """The index of ``family`` in the font collection ``path`` (Debian's Noto CJK ``.ttc``
    holds JP, KR, SC, TC and HK); 0 for a single font file."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    for index, font in enumerate(TTCollection(path).fonts):
        if font["name"].getDebugName(1) == family:
            return index
    raise ValueError(f"{path} holds no font of the family {family!r}")


def new_document(title: str, *, made_on: datetime.date | None = None) -> FPDF:
    """An empty PDF in mm with the CJK font (regular as style "", bold as "B") and the pack's
    metadata; pages are added by the caller, nothing breaks pages on its own."""
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    for style, path in (("", settings.SHEET_FONT), ("B", settings.SHEET_FONT_BOLD)):
        pdf.add_font(FONT, style=style, fname=path, collection_font_number=collection_index(path))
    pdf.set_font(FONT, size=9)
    pdf.set_title(title)
    pdf.set_creator("plategrid")
    pdf.set_lang("zh-CN")
    if made_on is not None:
        pdf.set_creation_date(
            datetime.datetime.combine(made_on, datetime.time(), tzinfo=datetime.UTC)
        )
    return pdf


def string_width(
    pdf: FPDF, text: str, size_pt: float | None = None, *, bold: bool | None = None
) -> float:
    """The width of ``text`` in mm in the CJK font at ``size_pt`` (default: the current font and
    size): from the font's glyph widths, without fpdf2's ``get_string_width``, which fragments the
    text and is 10× slower (no character spacing or stretching is used here)."""
    font = pdf.current_font if bold is None else pdf.fonts[FONT + ("B" if bold else "")]
    size = pdf.font_size_pt if size_pt is None else size_pt
    if isinstance(font, TTFFont):
        widths = font.cw
        return float(sum(widths[ord(c)] for c in text)) * size * 0.001 / pdf.k
    return float(pdf.get_string_width(text))


def add_page(pdf: FPDF, paper: str = "a4", *, landscape: bool = False) -> tuple[float, float]:
    """A new page of ``paper`` ("a4"/"a3"); returns its (width, height) in mm."""
    width, height = PAPER_MM[paper]
    if landscape:
        width, height = height, width
    pdf.add_page(format=(width, height))
    return width, height


@dataclass(frozen=True)
class Frame:
    """Ground box ``ground`` (minx, miny, maxx, maxy in metres) drawn into the page box ``paper``
    (left, top, width, height in mm) at ``mm_per_m`` (1000 / scale denominator), centred."""

    ground: tuple[float, float, float, float]
    paper: tuple[float, float, float, float]
    mm_per_m: float

    @classmethod
    def fit(
        cls, ground: tuple[float, float, float, float], paper: tuple[float, float, float, float]
    ) -> Frame:
        """The largest scale at which ``ground`` fits in ``paper``; the ground box grows to the
        paper's aspect so that the whole page box is map."""
        minx, miny, maxx, maxy = ground
        width_m, height_m = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
        mm_per_m = min(paper[2] / width_m, paper[3] / height_m)
        return cls.at_scale(((minx + maxx) / 2, (miny + maxy) / 2), paper, mm_per_m)

    @classmethod
    def at_scale(
        cls, centre: tuple[float, float], paper: tuple[float, float, float, float], mm_per_m: float
    ) -> Frame:
        half_w, half_h = paper[2] / mm_per_m / 2, paper[3] / mm_per_m / 2
        cx, cy = centre
        return cls((cx - half_w, cy - half_h, cx + half_w, cy + half_h), paper, mm_per_m)

    @property
    def scale(self) -> float:
        """The scale's denominator (2000 for 1:2000)."""
        return 1000.0 / self.mm_per_m

    def xy(self, x: float, y: float) -> tuple[float, float]:
        """Page mm of the ground point (x, y)."""
        left, top, _width, height = self.paper
        return (
            left + (x - self.ground[0]) * self.mm_per_m,
            top + height - (y - self.ground[1]) * self.mm_per_m,
        )

    def points(self, coords: Iterable[tuple[float, ...]]) -> list[tuple[float, float]]:
        return [self.xy(c[0], c[1]) for c in coords]

    def clip(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.clip_by_rect(geom, *self.ground)

    @property
    def box(self) -> Polygon:
        return box(*self.ground)


def set_style(
    pdf: FPDF, *, fill: Colour | None = None, stroke: Colour | None = None, width: float = 0.2
) -> None:
    if fill is not None:
        pdf.set_fill_color(*fill)
    if stroke is not None:
        pdf.set_draw_color(*stroke)
    pdf.set_line_width(width)


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [] if geom.is_empty else [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [g for g in getattr(geom, "geoms", ()) if isinstance(g, Polygon)]


def draw_area(
    pdf: FPDF,
    frame: Frame,
    geom: BaseGeometry,
    *,
    fill: Colour | None,
    stroke: Colour | None,
    width: float = 0.2,
    background: Colour = WHITE,
    clip: bool = True,
) -> None:
    """Fill and/or outline a (multi)polygon; holes are filled with ``background``."""
    if clip:
        geom = frame.clip(geom)
    style = "DF" if fill is not None and stroke is not None else ("F" if fill is not None else "D")
    set_style(pdf, fill=fill, stroke=stroke, width=width)
    for polygon in _polygons(geom):
        pdf.polygon(frame.points(polygon.exterior.coords), style=style)
        if polygon.interiors:
            set_style(
                pdf, fill=background if fill is not None else None, stroke=stroke, width=width
            )
            for ring in polygon.interiors:
                pdf.polygon(frame.points(ring.coords), style=style)
            set_style(pdf, fill=fill, stroke=stroke, width=width)
