"""The monthly information report (信息月报) of a territory node, and the dashboard's workbook.

One row per child node (street offices, communities or zones) and a totals row: rooms and the
information coverage rate at the month's end (the 30-day window of the coverage snapshot of the
month's last day, ``grid.snapshots``; for the month under way, the live coverage counts), visits
recorded in the month, "人口" plates put up in the month (``DoorPlate.population_plate_on``),
rooms flagged for the responsible person and staffing gaps (both as they are now), with notes on
how each figure is computed. As XLSX (openpyxl) and PDF (fpdf2, the packs' CJK font).
"""

from __future__ import annotations

import calendar
import datetime
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from fpdf.enums import TableCellFillMode, WrapMode
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from gis.exceptions import InvalidInputError
from grid import coverage as grid_coverage
from grid import services as grid_services
from grid import snapshots
from grid.models import CoverageSnapshotDay, Zone
from layers.sheets import pdf as sheet_pdf

from . import dashboard as dash

PERCENT = "0.0%"
MONTH_RE = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


@dataclass
class ReportRow:
    code: str
    name: str
    rooms: int = 0
    seen_30: int = 0
    visits: int = 0
    plates: int = 0
    flagged: int = 0
    staff_missing: int | None = 0
    zones_without_responsible: int = 0

    @property
    def coverage(self) -> float | None:
        return round(self.seen_30 / self.rooms, 4) if self.rooms else None

    def as_body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "rooms": self.rooms,
            "seen_30": self.seen_30,
            "coverage_30": self.coverage,
            "visits": self.visits,
            "plates_put_up": self.plates,
            "flagged": self.flagged,
            "staff_missing": self.staff_missing,
            "zones_without_responsible": self.zones_without_responsible,
        }


@dataclass
class MonthlyReport:
    code: str
    name: str
    level: str
    month: str
    first: datetime.date
    last: datetime.date
    as_of: datetime.date
    live: bool
    rows: list[ReportRow] = field(default_factory=list)
    total: ReportRow = field(default_factory=lambda: ReportRow("", ""))

    @property
    def title(self) -> str:
        return _("Monthly information report")

    def notes(self) -> list[str]:
        coverage_note = (
            _(
                "Information coverage rate: rooms seen (a conclusive visit) in the 30 days up "
                "to %(day)s, out of all rooms, from the live coverage counts (the month is "
                "under way)."
            )
            if self.live
            else _(
                "Information coverage rate: rooms seen (a conclusive visit) in the 30 days up "
                "to %(day)s, out of the rooms then, from the coverage snapshot of that day."
            )
        )
        return [
            coverage_note % {"day": self.as_of.isoformat()},
            _("Visits: every visit recorded in the month, failed ones (not at home) included."),
            _("“人口” plates: door plates whose “人口” plate was put up in the month."),
            _(
                "Flagged rooms and staffing gaps are as they are on the day the report is made: "
                "rooms flagged for the responsible person after failed visits; staff missing "
                "by the seeds' ratios (1 yard propagandist per 3,000 residents, 1 central "
                "household head per 100 households, 2 information officers per community) and "
                "zones without a responsible person."
            ),
        ]

    def columns(self) -> list[tuple[str, str]]:
        return [
            ("code", _("Code")),
            ("name", _("Name")),
            ("rooms", _("Rooms")),
            ("coverage_30", _("Coverage (30 days)")),
            ("visits", _("Visits in the month")),
            ("plates_put_up", _("“人口” plates put up")),
            ("flagged", _("Flagged rooms")),
            ("staff_missing", _("Staff missing")),
            ("zones_without_responsible", _("Zones without a responsible person")),
        ]

    def as_body(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "node": {"code": self.code, "name": self.name, "level": self.level},
            "month": self.month,
            "as_of": self.as_of.isoformat(),
            "live": self.live,
            "columns": [{"key": k, "label": label} for k, label in self.columns()],
            "rows": [r.as_body() for r in self.rows],
            "total": self.total.as_body(),
            "notes": self.notes(),
        }


def parse_month(value: Any, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """``YYYY-MM`` → the month's first and last day; a month after ``today``'s is refused."""
    match = MONTH_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
        raise InvalidInputError(
            gettext_lazy("month is a month written YYYY-MM (2026-11), not %(value)s."),
            code="bad_month",
            field="month",
            value=repr(value)[:20],
        )
    year, month = int(match[1]), int(match[2])
    first = datetime.date(year, month, 1)
    if first > today:
        raise InvalidInputError(
            gettext_lazy("The month %(value)s has not begun yet."),
            code="future_month",
            field="month",
            value=value,
        )
    return first, datetime.date(year, month, calendar.monthrange(year, month)[1])


def _no_snapshot(value: str, last: datetime.date) -> InvalidInputError:
    first = CoverageSnapshotDay.objects.order_by("day").values_list("day", flat=True).first()
    if first is None:
        return InvalidInputError(
            gettext_lazy(
                "There are no coverage figures for %(value)s: no month's end has been recorded "
                "yet; only the current month can be reported."
            ),
            code="no_data",
            field="month",
            value=value,
        )
    if first > last:
        return InvalidInputError(
            gettext_lazy(
                "There are no coverage figures for %(value)s: they are kept from %(first)s on."
            ),
            code="no_data",
            field="month",
            value=value,
            first=first.strftime("%Y-%m"),
        )
    return InvalidInputError(
        gettext_lazy(
            "The coverage figures of %(value)s's end are not taken yet: they are being taken, "
            "try again in a few minutes."
        ),
        code="no_snapshot",
        field="month",
        value=value,
    )


_MONTH_PLATES_SQL = f"""
    WITH b AS ({dash.BUILDINGS_SQL})
    SELECT b.area, count(*)
      FROM geo_doorplate d JOIN b ON b.id = d.building_id
     WHERE d.population_plate AND d.population_plate_on BETWEEN %(first)s AND %(last)s
     GROUP BY b.area
"""  # noqa: S608 - BUILDINGS_SQL is a constant


def monthly_report(
    user: Any, code: str, month: Any, *, today: datetime.date | None = None
) -> MonthlyReport:
    """The monthly report of the node ``code`` for ``month`` (``YYYY-MM``)."""
    today = today or timezone.localdate()
    first, last = parse_month(month, today)
    live_cov = grid_coverage.territory_coverage(user, code, days=30)  # 400/404 first
    live = last >= today
    report = MonthlyReport(
        code,
        live_cov.name,
        dash.LEVELS[len(code)],
        str(month),
        first,
        last,
        today if live else last,
        live,
    )
    report.total = ReportRow(code, live_cov.name)
    rows = {c.code: ReportRow(c.code, c.name) for c in live_cov.children}
    if live:
        report.total.rooms, report.total.seen_30 = live_cov.total.rooms, live_cov.total.seen
        for child in live_cov.children:
            rows[child.code].rooms, rows[child.code].seen_30 = child.rooms, child.seen
    else:
        # The snapshot of the month's last day itself: an earlier one (a Sunday of the month)
        # would give the coverage of another day as the month's.
        if not CoverageSnapshotDay.objects.filter(day=last).exists():
            snapshots.queue_missing(today)
            raise _no_snapshot(str(month), last)
        _snapshot_rows(user, code, snapshots.snapshot_rows(last), report, rows)
    report.rows = list(rows.values())
    collector = dash.Collector(code, report.total, report.rows)
    scope = dash.node_scope(user, code)
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(first, datetime.time(), tz)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(), tz)
    for area, n, _before in dash.visit_counts(scope, start, end):
        collector.add(area, visits=n)
    plate_params = {**scope.params(), "first": first, "last": last}
    for area, n in dash.fetch_rows(_MONTH_PLATES_SQL, plate_params):
        collector.add(area, plates=n)
    for area, _overdue, flagged in dash.room_states(scope, timezone.now()):
        collector.add(area, flagged=flagged)
    _report_staffing(user, code, collector)
    return report


def _snapshot_rows(
    user: Any, code: str, snapshot: Any, report: MonthlyReport, rows: dict[str, ReportRow]
) -> None:
    """Rooms and rooms seen in 30 days at the snapshot's day, per child node."""
    scoped = snapshot.filter(grid_coverage.scope_condition(user, code), area_code__startswith=code)
    child_length = dash.CHILD_LENGTH.get(len(code))
    for area, rooms, seen in (
        scoped.values("area_code")
        .annotate(n=Sum("rooms"), s=Sum("seen_30"))
        .values_list("area_code", "n", "s")
    ):
        report.total.rooms += rooms
        report.total.seen_30 += seen
        if child_length is None:
            continue
        key = area[:child_length]
        if key not in rows:  # a zone retired since: named by its last version
            name = (
                Zone.objects.filter(code=key).order_by("-version").values_list("name", flat=True)
            ).first() or ""
            rows[key] = ReportRow(key, name)
        rows[key].rooms += rooms
        rows[key].seen_30 += seen
    for key in [k for k, r in rows.items() if not r.rooms and not r.name]:
        del rows[key]


def _report_staffing(user: Any, code: str, collector: dash.Collector[ReportRow]) -> None:
    report = grid_services.staffing_gaps(code[:12], user=user, list_buildings=False)
    dash.add_staffing_gaps(report, code, collector)


def node_label(report: MonthlyReport) -> str:
    return f"{dash.level_label(report.level)} {report.name} ({report.code})"


# ---------------------------------------------------------------------------------------------
# Workbooks

HEADER_FILL = PatternFill("solid", fgColor="DCE6F0")
BOLD = Font(bold=True)


def _row_cells(row: ReportRow, columns: list[tuple[str, str]]) -> list[Any]:
    body = row.as_body()
    return [body[key] for key, _label in columns]


def _sheet_table(sheet: Any, start: int, header: list[str], rows: list[list[Any]]) -> int:
    for col, label in enumerate(header, start=1):
        cell = sheet.cell(row=start, column=col, value=label)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for r, values in enumerate(rows, start=start + 1):
        for col, value in enumerate(values, start=1):
            sheet.cell(row=r, column=col, value=value)
    return start + len(rows)


def _widths(sheet: Any, widths: list[int]) -> None:
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width


def report_xlsx(report: MonthlyReport) -> bytes:
    """The report as a workbook: title, node, month, the table (codes as text, rates as
    percentages), the totals row in bold and the notes."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Monthly report")[:31]
    sheet["A1"] = report.title
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = node_label(report)
    sheet["A3"] = _("Month: %(month)s (coverage as of %(day)s)") % {
        "month": report.month,
        "day": report.as_of.isoformat(),
    }
    columns = report.columns()
    body = [_row_cells(r, columns) for r in report.rows]
    total = _row_cells(report.total, columns)
    total[0], total[1] = report.code, _("Total")
    end = _sheet_table(sheet, 5, [label for _key, label in columns], [*body, total])
    for cell in sheet[end]:
        cell.font = BOLD
    keys = [k for k, _label in columns]
    percent_col = keys.index("coverage_30") + 1
    for r in range(6, end + 1):
        sheet.cell(row=r, column=percent_col).number_format = PERCENT
        sheet.cell(row=r, column=1).number_format = "@"
    note_row = end + 2
    sheet.cell(row=note_row, column=1, value=_("Notes")).font = BOLD
    for i, note in enumerate(report.notes(), start=1):
        sheet.cell(row=note_row + i, column=1, value=f"{i}. {note}")
    _widths(sheet, [17, 22, 9, 12, 12, 12, 11, 11, 14])
    sheet.freeze_panes = "C6"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def dashboard_xlsx(data: dict[str, Any]) -> bytes:
    """The dashboard as a workbook: the measures sheet (value, numerator, denominator, target,
    status) with the sweeps in progress, and the children sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Measures")[:31]
    node = data["node"]
    sheet["A1"] = _("Dashboard of %(level)s %(name)s (%(code)s), %(day)s") % {
        "level": node["level_label"],
        "name": node["name"],
        "code": node["code"],
        "day": data["today"],
    }
    sheet["A1"].font = Font(bold=True, size=13)
    status = {"ok": _("reached"), "below_target": _("below target"), None: ""}
    header = [
        _("Measure"),
        _("Value"),
        _("Numerator"),
        _("Denominator"),
        _("Target value"),
        _("Status"),
    ]
    rows = []
    for m in data["measures"]:
        rows.append(
            [
                m["label"],
                m["value"],
                m["numerator"],
                m["denominator"],
                m["target"],
                status[m["status"]],
            ]
        )
    end = _sheet_table(sheet, 3, header, rows)
    for r, m in enumerate(data["measures"], start=4):
        if m["unit"] == "share":
            sheet.cell(row=r, column=2).number_format = PERCENT
            sheet.cell(row=r, column=5).number_format = PERCENT
    if data["sweeps"]:
        start = end + 2
        sweep_rows = [
            [
                s["name"],
                s["value"],
                s["visited"],
                s["targets"],
                s["target"],
                status[s["status"]],
            ]
            for s in data["sweeps"]
        ]
        header = [_("Sweep in progress"), *header[1:]]
        _sheet_table(sheet, start, header, sweep_rows)
        for r in range(start + 1, start + 1 + len(sweep_rows)):
            sheet.cell(row=r, column=2).number_format = PERCENT
            sheet.cell(row=r, column=5).number_format = PERCENT
    _widths(sheet, [34, 10, 11, 11, 9, 12])

    children = book.create_sheet(_("By part")[:31])
    columns = child_columns()
    child_rows = []
    for c in data["children"]:
        child_rows.append([_child_value(c, key) for key, _label, _pct in columns])
    _sheet_table(children, 1, [label for _key, label, _pct in columns], child_rows)
    for col, (_key, _label, pct) in enumerate(columns, start=1):
        for r in range(2, len(child_rows) + 2):
            children.cell(row=r, column=col).number_format = (
                PERCENT if pct else ("@" if col == 1 else "General")
            )
    _widths(children, [17, 22] + [11] * (len(columns) - 2))
    children.freeze_panes = "C2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def child_columns() -> list[tuple[str, str, bool]]:
    """The children table's columns: key, header, whether a percentage."""
    return [
        ("code", _("Code"), False),
        ("name", _("Name"), False),
        ("rooms", _("Rooms"), False),
        ("coverage.30", _("Coverage (30 days)"), True),
        ("coverage.7", _("Coverage (7 days)"), True),
        ("coverage.90", _("Coverage (90 days)"), True),
        ("coverage.all", _("Ever seen"), True),
        ("visits_week", _("Visits this week"), False),
        ("visits_last_week", _("Visits last week"), False),
        ("overdue", _("Overdue rooms"), False),
        ("flagged", _("Flagged rooms"), False),
        ("plate_rate", _("“人口” plate rate"), True),
        ("landlord_contract_rate", _("Landlord contract rate"), True),
        ("staff_missing", _("Staff missing"), False),
        ("zones_without_responsible", _("Zones without a responsible person"), False),
    ]


def _child_value(child: dict[str, Any], key: str) -> Any:
    if "." in key:
        outer, inner = key.split(".")
        return child[outer].get(inner)
    return child[key]


# ---------------------------------------------------------------------------------------------
# PDF

MARGIN = 15.0


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _text(value: Any) -> str:
    return "—" if value is None else str(value)


def report_pdf(report: MonthlyReport) -> bytes:
    """The report on A4 pages: the title, node and month, the table (its header repeated on
    every page it runs over), the notes, and "第 n 页 / 共 m 页" at each page's foot."""
    pdf = sheet_pdf.new_document(f"{report.title} {report.month} {report.name}")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN + 5)
    pdf.alias_nb_pages("{nb}")
    page_words = _("Page %(n)s of %(m)s") % {"n": "{page}", "m": "{nb}"}

    def footer() -> None:
        pdf.set_y(-MARGIN)
        pdf.set_font(sheet_pdf.FONT, size=8)
        pdf.cell(0, 5, page_words.replace("{page}", str(pdf.page_no())), align="C")

    pdf.footer = footer  # type: ignore[method-assign]
    pdf.add_page()
    pdf.set_font(sheet_pdf.FONT, "B", size=16)
    pdf.cell(0, 9, report.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(sheet_pdf.FONT, size=10)
    pdf.cell(0, 6, node_label(report), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        6,
        _("Month: %(month)s (coverage as of %(day)s)")
        % {"month": report.month, "day": report.as_of.isoformat()},
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    columns = report.columns()
    header = [label for _key, label in columns]
    pdf.set_font(sheet_pdf.FONT, size=8)
    body_rows = [_pdf_cells(r, columns) for r in report.rows]
    total = _pdf_cells(report.total, columns)
    total[0], total[1] = "", _("Total")
    with pdf.table(
        col_widths=(26, 30, 14, 16, 16, 17, 14, 14, 20),
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        # Words whole (English headers); a Chinese run without spaces breaks where it must.
        wrapmode=WrapMode.WORD,
        headings_style=FontFace(emphasis="BOLD", fill_color=(220, 230, 240)),
        cell_fill_color=(246, 248, 250),
        cell_fill_mode=TableCellFillMode.ROWS,
        line_height=5,
        repeat_headings=1,
    ) as table:
        table.row(header)
        for cells in body_rows:
            table.row(cells)
        row = table.row()
        for text in total:
            row.cell(text, style=FontFace(emphasis="BOLD"))
    pdf.ln(4)
    pdf.set_font(sheet_pdf.FONT, "B", size=10)
    pdf.cell(0, 6, _("Notes"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(sheet_pdf.FONT, size=8.5)
    for i, note in enumerate(report.notes(), start=1):
        pdf.multi_cell(0, 4.5, f"{i}. {note}", wrapmode=WrapMode.WORD, new_x="LMARGIN")
    return bytes(pdf.output())


def _pdf_cells(row: ReportRow, columns: list[tuple[str, str]]) -> list[str]:
    body = row.as_body()
    return [
        _percent(body[key]) if key == "coverage_30" else _text(body[key]) for key, _label in columns
    ]
