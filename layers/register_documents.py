"""The registers as XLSX and PDF, and the person cards as PDF (Chinese forms).

XLSX: a title and a line naming the territory and the day or period, the Chinese header row in
bold, frozen (and repeated when printed), column widths set, identity numbers and phones as text.
Written in openpyxl's write-only mode (rows go out as they come).

PDF (fpdf2 with Noto Sans CJK, ``layers.sheets.pdf.new_document``): the register on A4
landscape, the title line and the header row repeated on every page, long cells wrapped (three
lines at most), "第 n 页 / 共 m 页" at each page's foot. The cards: four to an A4 page (2 × 2, each
about A6), the sheet's head line repeated on every page. Text is drawn with ``FPDF.text`` and
widths come from the font's glyph widths (``layers.sheets.pdf.string_width``'s way): a
community's 3,000 rows take well under a second or two.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from fpdf import FPDF
from fpdf.enums import TextMode
from fpdf.fonts import TTFFont
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from gis.masking import spreadsheet_text
from layers.sheets import pdf as sheet_pdf
from registry.registers import Card, Register

HEADER_FILL = PatternFill("solid", fgColor="DCE6F0")
#: PDF page geometry (mm).
MARGIN = 10.0
FOOT = 7.0
LINE = 3.8
PAD = 1.0
MAX_LINES = 3
ROW_FILL = (246, 248, 250)
HEAD_FILL = (220, 230, 240)
RULE = (170, 170, 170)
LABEL = (100, 100, 100)


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


# ---------------------------------------------------------------------------------------------
# XLSX


def register_xlsx(register: Register) -> bytes:
    """The register as a workbook (one sheet)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(register.title[:31])
    for index, column in enumerate(register.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.xlsx
    sheet.freeze_panes = "A4"
    sheet.print_title_rows = "3:3"
    title = WriteOnlyCell(sheet, register.title)
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    sheet.append([register.subtitle])
    header = []
    for column in register.columns:
        cell = WriteOnlyCell(sheet, column.header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        header.append(cell)
    sheet.append(header)
    for row in register.rows:
        values = []
        for value in row:
            if isinstance(value, datetime.date):
                cell = WriteOnlyCell(sheet, value)
                cell.number_format = "yyyy-mm-dd"
                values.append(cell)
            else:
                values.append(spreadsheet_text(value))
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# PDF helpers


class _Writer:
    """Text fitted to widths in the CJK font, from its glyph widths. One font file only (the
    regular): a bold face would double the cost of loading and subsetting the CJK font, so
    titles are drawn filled and stroked instead."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        font = pdf.fonts[sheet_pdf.FONT]
        self.widths = font.cw if isinstance(font, TTFFont) else None
        self.size = 0.0

    def width(self, text: str, size: float) -> float:
        if self.widths is None:
            return float(self.pdf.get_string_width(text))
        widths = self.widths
        return float(sum(widths[ord(c)] for c in text)) * size * 0.001 / self.pdf.k

    def wrap(self, text: str, width: float, size: float, max_lines: int = MAX_LINES) -> list[str]:
        """``text`` broken into lines no wider than ``width`` (characters, as Chinese breaks);
        the last line ends in "…" when cut."""
        if self.width(text, size) <= width:
            return [text]
        scale = size * 0.001 / self.pdf.k
        lines: list[str] = []
        line, used = "", 0.0
        for char in text.replace("\n", " "):
            w = self.widths[ord(char)] * scale if self.widths is not None else 0.0
            if used + w > width and line:
                lines.append(line)
                line, used = char, w
            else:
                line += char
                used += w
        if line or not lines:
            lines.append(line)
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            last = lines[-1]
            while last and self.width(last + "…", size) > width:
                last = last[:-1]
            lines[-1] = last + "…"
        return lines

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float,
        bold: bool = False,
        width: float | None = None,
        align: str = "L",
    ) -> None:
        """``text`` with its baseline at ``y``, left at ``x`` (or aligned in ``width``)."""
        if not text:
            return
        if size != self.size:
            self.pdf.set_font(sheet_pdf.FONT, size=size)
            self.size = size
        if width is not None and align != "L":
            w = self.width(text, size)
            x += (width - w) / 2 if align == "C" else width - w
        if bold:
            with self.pdf.local_context(text_mode=TextMode.FILL_STROKE, line_width=size / 40):
                self.pdf.text(x, y, text)
        else:
            self.pdf.text(x, y, text)


def _footer(pdf: FPDF, pages: int, page_width: float, page_height: float) -> None:
    """The page number, "第 n 页 / 共 m 页", centred at the page's foot (pages are counted
    before drawing: fpdf2's page-count alias is not replaced in text drawn by ``FPDF.text``)."""
    writer = _Writer(pdf)
    text = f"第 {pdf.page_no()} 页 / 共 {pages} 页"
    writer.text(0, page_height - MARGIN + 3, text, size=8, width=page_width, align="C")


def _document(title: str, made_on: datetime.date | None) -> FPDF:
    """An empty A4 document in mm with the regular CJK font only (``new_document`` also loads
    the bold, which doubles the fixed cost of every file)."""
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    path = settings.SHEET_FONT
    pdf.add_font(
        sheet_pdf.FONT, fname=path, collection_font_number=sheet_pdf.collection_index(path)
    )
    pdf.set_font(sheet_pdf.FONT, size=9)
    pdf.set_title(title)
    pdf.set_creator("plategrid")
    pdf.set_lang("zh-CN")
    if made_on is not None:
        pdf.set_creation_date(
            datetime.datetime.combine(made_on, datetime.time(), tzinfo=datetime.UTC)
        )
    return pdf


# ---------------------------------------------------------------------------------------------
# The register as PDF


def register_pdf(register: Register, *, made_on: datetime.date | None = None) -> bytes:
    """The register on A4 landscape pages, its head and header row on every page."""
    pdf = _document(f"{register.title} {register.target.label}", made_on)
    writer = _Writer(pdf)
    width, height = 297.0, 210.0
    size = 7.5
    columns = register.columns
    bottom = height - MARGIN - FOOT

    def new_page(pages: int) -> float:
        sheet_pdf.add_page(pdf, landscape=True)
        writer.text(MARGIN, MARGIN + 5, register.title, size=13, bold=True)
        writer.text(
            MARGIN + writer.width(register.title, 13) + 6,
            MARGIN + 5,
            register.subtitle,
            size=8.5,
        )
        if register.revealed:
            note = "含未遮蔽的身份证号和电话：仅限工作使用，不得外传"
            writer.text(MARGIN, MARGIN + 5, note, size=8, width=width - 2 * MARGIN, align="R")
        top = MARGIN + 8
        head_h = LINE + 2 * PAD
        sheet_pdf.set_style(pdf, fill=HEAD_FILL, stroke=RULE, width=0.15)
        pdf.rect(MARGIN, top, width - 2 * MARGIN, head_h, style="DF")
        x = MARGIN
        for column in columns:
            writer.text(
                x,
                top + PAD + LINE - 0.9,
                column.header,
                size=size,
                bold=True,
                width=column.mm,
                align="C",
            )
            x += column.mm
        _footer(pdf, pages, width, height)
        return top + head_h

    # Lay the rows out first: the page count is on every page.
    first = MARGIN + 8 + LINE + 2 * PAD
    laid: list[tuple[list[list[str]], float, bool]] = []  # cells, height, starts a page
    y = first
    for row in register.rows:
        cells = [
            writer.wrap(cell_text(value), column.mm - 2 * PAD, size)
            for value, column in zip(row, columns, strict=True)
        ]
        row_h = max(len(lines) for lines in cells) * LINE + 2 * PAD
        breaks = y + row_h > bottom
        if breaks:
            y = first
        laid.append((cells, row_h, breaks))
        y += row_h
    pages = 1 + sum(1 for _cells, _h, breaks in laid if breaks)

    y = new_page(pages)
    for index, (cells, row_h, breaks) in enumerate(laid):
        if breaks:
            y = new_page(pages)
        if index % 2:
            sheet_pdf.set_style(pdf, fill=ROW_FILL)
            pdf.rect(MARGIN, y, width - 2 * MARGIN, row_h, style="F")
        x = MARGIN
        for lines, column in zip(cells, columns, strict=True):
            for n, line in enumerate(lines):
                writer.text(
                    x + PAD,
                    y + PAD + (n + 1) * LINE - 0.9,
                    line,
                    size=size,
                    width=column.mm - 2 * PAD,
                    align=column.align,
                )
            x += column.mm
        sheet_pdf.set_style(pdf, stroke=RULE, width=0.1)
        pdf.line(MARGIN, y + row_h, width - MARGIN, y + row_h)
        y += row_h
    if not register.rows:
        writer.text(MARGIN, y + 6, "（无记录）", size=9)
    return bytes(pdf.output())


# ---------------------------------------------------------------------------------------------
# The person cards


CARD_COLUMNS = 2
CARD_ROWS = 2
CARD_GAP = 4.0


def cards_pdf(
    cards: Sequence[Card],
    heading: str,
    *,
    revealed: bool = False,
    made_on: datetime.date | None = None,
) -> bytes:
    """The cards four to an A4 page, each a framed card of about A6 (cut along the frames)."""
    pdf = _document(f"人员信息卡 {heading}", made_on)
    writer = _Writer(pdf)
    width, height = 210.0, 297.0
    top = MARGIN + 7
    card_w = (width - 2 * MARGIN - (CARD_COLUMNS - 1) * CARD_GAP) / CARD_COLUMNS
    card_h = (height - top - MARGIN - FOOT - (CARD_ROWS - 1) * CARD_GAP) / CARD_ROWS
    per_page = CARD_COLUMNS * CARD_ROWS
    pages = max(1, -(-len(cards) // per_page))
    count = 0
    for count, card in enumerate(cards, start=1):
        slot = (count - 1) % per_page
        if slot == 0:
            sheet_pdf.add_page(pdf)
            writer.text(MARGIN, MARGIN + 4, "人员信息卡", size=12, bold=True)
            writer.text(MARGIN + 26, MARGIN + 4, heading, size=8.5)
            if revealed:
                note = "含未遮蔽的身份证号和电话：仅限工作使用"
                writer.text(MARGIN, MARGIN + 4, note, size=7.5, width=width - 2 * MARGIN, align="R")
            _footer(pdf, pages, width, height)
        x = MARGIN + (slot % CARD_COLUMNS) * (card_w + CARD_GAP)
        y = top + (slot // CARD_COLUMNS) * (card_h + CARD_GAP)
        _card(writer, card, x, y, card_w, card_h)
    if count == 0:
        sheet_pdf.add_page(pdf)
        writer.text(MARGIN, MARGIN + 4, "人员信息卡", size=12, bold=True)
        writer.text(MARGIN + 26, MARGIN + 4, heading, size=8.5)
        writer.text(MARGIN, top + 6, "（无记录）", size=9)
        _footer(pdf, pages, width, height)
    return bytes(pdf.output())


def _card(writer: _Writer, card: Card, x: float, y: float, w: float, h: float) -> None:
    pdf = writer.pdf
    sheet_pdf.set_style(pdf, stroke=(90, 90, 90), width=0.3)
    pdf.rect(x, y, w, h, style="D")
    sheet_pdf.set_style(pdf, fill=HEAD_FILL)
    pdf.rect(x + 0.15, y + 0.15, w - 0.3, 9, style="F")
    writer.text(x + 3, y + 6.3, "人员信息卡", size=10.5, bold=True)
    writer.text(x + 3, y + 6.3, card.category, size=8, width=w - 6, align="R")
    size, line = 8.0, 4.4
    label_w = 17.0
    value_w = w - 6 - label_w
    cy = y + 9 + line + 0.8

    def field(label: str, value: str, lines: int = 1) -> None:
        nonlocal cy
        pdf.set_text_color(*LABEL)
        writer.text(x + 3, cy, label, size=size)
        pdf.set_text_color(0)
        for text in writer.wrap(value, value_w, size, max_lines=lines):
            writer.text(x + 3 + label_w, cy, text, size=size)
            cy += line
        sheet_pdf.set_style(pdf, stroke=(215, 215, 215), width=0.1)
        pdf.line(x + 3, cy - line + 1.4, x + w - 3, cy - line + 1.4)

    field("姓名", card.name)
    field("性别", f"{card.sex}    出生日期 {card.birth_date.isoformat()}")
    field("身份证号", card.id_number or "—")
    field("联系电话", card.phone or "—")
    field("户籍地", card.home_registration or "—", 2)
    field("现住址", card.address or "—", 2)
    field("工作单位", card.employer or "—")
    if card.arrival_date:
        field("来本地日期", card.arrival_date.isoformat())
    members = "、".join(f"{name}（{relation}）" for name, relation in card.members)
    field("同户人员", members or "—", 3)
    field("走访安排", card.schedule or "—", 2)
    visits = "；".join(f"{day.isoformat()} {outcome}" for day, outcome in card.follow_ups)
    field("最近走访", visits or "—", 3)
    _blank_visits(writer, x + 3, cy + 1, w - 6, y + h - 6 - (cy + 1))
    writer.text(x + 3, y + h - 2.5, f"编号 {card.resident_id}", size=6.5)


def _blank_visits(writer: _Writer, x: float, y: float, w: float, h: float) -> None:
    """Ruled rows to write the next follow-ups in by hand (日期, 情况, 走访人), filling what the
    card leaves free."""
    row = 6.0
    rows = int((h - row) // row)
    if rows < 2:
        return
    pdf = writer.pdf
    widths = (20.0, w - 40.0, 20.0)
    sheet_pdf.set_style(pdf, fill=HEAD_FILL, stroke=RULE, width=0.15)
    pdf.rect(x, y, w, row, style="DF")
    left = x
    for label, width in zip(("日期", "走访情况（手写）", "走访人"), widths, strict=True):
        writer.text(left, y + 4.2, label, size=7.5, width=width, align="C")
        left += width
    bottom = y + row * (rows + 1)
    for n in range(1, rows + 1):
        pdf.line(x, y + row * (n + 1), x + w, y + row * (n + 1))
    left = x
    for width in widths:
        pdf.line(left, y, left, bottom)
        left += width
    pdf.line(x + w, y, x + w, bottom)
