"""The register pages of a pack (the "two registers", 房屋登记表), A4 landscape: every building
in route order with its grid reference and QR code, then its rooms with boxes to tick and space
to write. Buildings share pages when they fit; one too long for a page goes on ("续")."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from fpdf import FPDF

from .pack import BuildingItem, Pack, RoomRow
from .pages import (
    BAND,
    FOOTER_MM,
    GREY,
    LIGHT,
    MARGIN,
    PALE,
    PT_MM,
    SHEET_INDEX,
    Step,
    _baseline,
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
    add_page,
    set_style,
    team_colours,
)
from .qr import draw_qr

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
