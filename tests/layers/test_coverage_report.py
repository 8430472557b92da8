"""The monthly information report (信息月报, layers.coverage.report): its figures against counts made
independently from the visits and rooms set up, the month under way (live counts) and a past one
(the coverage snapshot of its last day), the XLSX cells, the PDF read back with pypdf, scope and
bad input."""

from __future__ import annotations

import datetime
import io
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.test import APIClient

from gis.exceptions import InvalidInputError
from gis.models import Role
from grid import snapshots, visits
from grid.models import CoverageSnapshotDay, Visit
from layers.coverage.report import MonthlyReport, ReportRow, monthly_report, report_pdf

from ..conftest import Territory
from .test_coverage_dashboard import visit, world  # noqa: F401 - the fixture

PAGE = re.compile(r"第 (\d+) 页 / 共 (\d+) 页")


def month_of(day: datetime.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month_end(today: datetime.date) -> datetime.date:
    return today.replace(day=1) - datetime.timedelta(days=1)


def visits_in(room_ids: list[int], first: datetime.date, last: datetime.date) -> int:
    return sum(
        1
        for v in Visit.objects.filter(room_id__in=room_ids)
        if first <= timezone.localtime(v.visited_at).date() <= last
    )


def seen_30(room_ids: list[int], day: datetime.date) -> int:
    """Rooms with a conclusive visit in the 30 days up to ``day``, counted from the visits."""
    rows = Visit.objects.filter(room_id__in=room_ids).exclude(
        outcome__in=["not_at_home", "refused"]
    )
    return len(
        {
            v.room_id
            for v in rows
            if day - datetime.timedelta(days=30) < timezone.localtime(v.visited_at).date() <= day
        }
    )


def pdf_text(content: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(content))
    # pypdf reads fpdf2's two-byte CIDs with a NUL before each character.
    return reader, [(p.extract_text() or "").replace("\x00", "") for p in reader.pages]


def rooms_of(made: dict[str, Any], *groups: str) -> list[int]:
    return [r.pk for g in groups for r in made["rooms"][g]]


def test_month_under_way(territory: Territory, world: dict[str, Any]) -> None:  # noqa: F811
    today = world["today"]
    report = monthly_report(world["admin"], territory.office.code, month_of(today), today=today)
    assert report.live and report.as_of == today
    rows = {r.code: r for r in report.rows}
    assert list(rows) == [territory.home.code, territory.away.code]
    home, away = rows[territory.home.code], rows[territory.away.code]
    first = today.replace(day=1)
    home_rooms = rooms_of(world, "west", "east", "nozone")
    assert (home.rooms, home.seen_30) == (7, seen_30(home_rooms, today))
    assert home.visits == visits_in(home_rooms, first, today)
    assert away.visits == visits_in(rooms_of(world, "away"), first, today)
    # Plates: the west building's put up on the 1st of this month, the away one's in 2025.
    assert (home.plates, away.plates) == (1, 0)
    assert (home.flagged, away.flagged) == (1, 0)
    # Households: west 2 rented (2 vacant rooms are none), east 2, no zone 1 → 13 residents:
    # 1 propagandist, 1 central head, 2 information officers missing; away: the same 4.
    assert (home.staff_missing, away.staff_missing) == (4, 4)
    assert (home.zones_without_responsible, away.zones_without_responsible) == (1, 0)
    total = report.total
    assert total.rooms == 8 and total.visits == home.visits + away.visits
    assert total.coverage == round(total.seen_30 / 8, 4)
    assert total.staff_missing == 8 and total.plates == 1
    body = report.as_body()
    assert body["month"] == month_of(today) and len(body["notes"]) == 4


def test_past_month_reads_its_snapshot(territory: Territory, world: dict[str, Any]) -> None:  # noqa: F811
    today = world["today"]
    last = previous_month_end(today)
    first = last.replace(day=1)
    rooms = world["rooms"]
    moment = datetime.datetime.combine(first + datetime.timedelta(days=9), datetime.time(10))
    tz = timezone.get_current_timezone()
    results = visits.record_visits(
        world["admin"],
        [
            visit(rooms["east"][1], "registered", moment.replace(tzinfo=tz)),
            visit(rooms["nozone"][0], "changed", moment.replace(tzinfo=tz)),
            visit(rooms["away"][0], "not_at_home", moment.replace(tzinfo=tz)),
        ],
    )
    assert all(r.stored for r in results)
    assert snapshots.take_snapshots([last]) == [last]
    report = monthly_report(world["admin"], territory.office.code, month_of(last), today=today)
    assert not report.live and report.as_of == last
    rows = {r.code: r for r in report.rows}
    home_rooms = rooms_of(world, "west", "east", "nozone")
    assert rows[territory.home.code].seen_30 == seen_30(home_rooms, last)
    assert rows[territory.away.code].seen_30 == seen_30(rooms_of(world, "away"), last)
    assert rows[territory.home.code].visits == visits_in(home_rooms, first, last)
    assert rows[territory.away.code].visits == visits_in(rooms_of(world, "away"), first, last) >= 1
    assert report.total.rooms == 8 and rows[territory.home.code].plates == 0
    # A community's report has a row per zone, and one for the rooms in no zone.
    community = monthly_report(world["admin"], territory.home.code, month_of(last), today=today)
    west_zone, east_zone = world["zones"]
    assert [r.code for r in community.rows] == [west_zone.code, east_zone.code, territory.home.code]
    assert [r.rooms for r in community.rows] == [4, 2, 1]
    assert community.rows[0].staff_missing is None and community.total.staff_missing == 4


def test_xlsx_and_pdf(territory: Territory, world: dict[str, Any]) -> None:  # noqa: F811
    client = APIClient()
    client.force_authenticate(world["admin"])
    month = month_of(world["today"])
    url = reverse("coverage-report")
    response = client.get(url, {"code": territory.office.code, "month": month, "format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "信息月报"  # Chinese by default
    assert territory.office.name in sheet["A2"].value and month in sheet["A3"].value
    header = [c.value for c in sheet[5]]
    assert header[:3] == ["代码", "名称", "房间"]
    assert [sheet.cell(row=r, column=1).value for r in (6, 7)] == [
        territory.home.code,
        territory.away.code,
    ]
    assert sheet.cell(row=6, column=3).value == 7 and sheet.cell(row=8, column=3).value == 8
    assert sheet.cell(row=8, column=4).number_format == "0.0%"
    assert sheet.cell(row=8, column=1).font.bold
    report = monthly_report(world["admin"], territory.office.code, month)
    assert sheet.cell(row=8, column=4).value == report.total.coverage
    assert sheet.cell(row=8, column=5).value == report.total.visits
    response = client.get(url, {"code": territory.office.code, "month": month, "format": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    _reader, pages = pdf_text(response.content)
    assert len(pages) == 1
    text = pages[0]
    assert territory.office.name in text and territory.home.name in text and month in text
    assert territory.away.name in text
    match = PAGE.search(text)
    assert match and match.groups() == ("1", "1")
    assert "信息月报" in text


def test_pdf_table_runs_over_pages_with_its_header() -> None:
    today = datetime.date(2026, 11, 30)
    report = MonthlyReport("420606", "樊城区", "district", "2026-11", today, today, today, False)
    report.rows = [ReportRow(f"420606{i:03d}", f"第{i}街道", 100 + i, 90) for i in range(1, 121)]
    report.total = ReportRow("420606", "樊城区", 12000, 10800)
    with translation.override("zh-hans"):
        reader, pages = pdf_text(report_pdf(report))
    assert len(pages) >= 3
    for n, text in enumerate(pages, start=1):
        match = PAGE.search(text)
        assert match and match.groups() == (str(n), str(len(pages)))
        assert "代码" in text  # the header on every page
    everything = "".join(pages)
    assert all(f"第{i}街道" in everything for i in (1, 60, 120))
    assert "90.0%" in everything  # 10800 / 12000
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)


def test_scope_and_bad_input(
    territory: Territory,
    world: dict[str, Any],  # noqa: F811
    users: dict[str, Any],
) -> None:
    client = APIClient()
    client.force_authenticate(users[Role.COMMUNITY_WORKER])
    url = reverse("coverage-report")
    month = month_of(world["today"])

    def get(**params: str) -> Any:
        return client.get(url, {"code": territory.home.code, "month": month, **params})

    assert get().status_code == 200
    away = get(code=territory.away.code)
    assert away.status_code == 404 and away.json()["detail_en"] and away.json()["detail_zh"]
    assert get(code="420606009").status_code == 404
    assert get(code="4206x").status_code == 400
    for bad in ("2026-13", "2026-1", "", "11/2026", "1999-12", "2026-11\n", "２０２６-１１"):
        response = get(month=bad)
        assert response.status_code == 400 and response.json()["code"] == "bad_month", bad
    next_month = (world["today"].replace(day=28) + datetime.timedelta(days=5)).strftime("%Y-%m")
    future = get(month=next_month)
    assert future.status_code == 400 and future.json()["code"] == "future_month"
    before = get(month="2020-01")  # before any snapshot
    assert before.status_code == 400 and before.json()["code"] == "no_data"
    assert "2020-01" in before.json()["detail_en"]
    assert get(format="doc").status_code == 400
    # The street supervisor's report of the office holds both communities.
    client.force_authenticate(users[Role.STREET_SUPERVISOR])
    response = client.get(url, {"code": territory.office.code, "month": month, "format": "pdf"})
    _reader, pages = pdf_text(response.content)
    assert territory.home.name in pages[0] and territory.away.name in pages[0]
    client.force_authenticate(users[Role.COMMUNITY_WORKER])
    response = client.get(url, {"code": territory.office.code, "month": month, "format": "pdf"})
    _reader, pages = pdf_text(response.content)
    assert territory.home.name in pages[0] and territory.away.name not in pages[0]


def test_a_month_whose_end_is_not_taken_yet(
    territory: Territory,
    world: dict[str, Any],  # noqa: F811
) -> None:
    last = previous_month_end(world["today"])
    before = previous_month_end(last.replace(day=1))
    assert snapshots.take_snapshots([before]) == [before]
    client = APIClient()
    client.force_authenticate(world["admin"])
    url = reverse("coverage-report")
    response = client.get(url, {"code": territory.office.code, "month": month_of(last)})
    assert response.status_code == 400 and response.json()["code"] == "no_snapshot"
    older = client.get(url, {"code": territory.office.code, "month": "2020-01"}).json()
    first = CoverageSnapshotDay.objects.order_by("day").first()
    assert older["code"] == "no_data" and first and month_of(first.day) in older["detail_en"]
    report = monthly_report(world["admin"], territory.office.code, month_of(before))
    assert report.as_of == before and report.total.rooms == 8


def test_a_month_with_a_sunday_taken_but_not_its_last_day(
    territory: Territory,
    world: dict[str, Any],  # noqa: F811
) -> None:
    last = previous_month_end(world["today"])
    sunday = last - datetime.timedelta(days=(last.weekday() + 1) % 7 or 7)
    assert sunday.weekday() == 6 and sunday.month == last.month and sunday < last
    assert snapshots.take_snapshots([sunday]) == [sunday]
    client = APIClient()
    client.force_authenticate(world["admin"])
    url = reverse("coverage-report")
    response = client.get(url, {"code": territory.office.code, "month": month_of(last)})
    # Not the Sunday's figures given as the month end's: the month's end is asked for.
    assert response.status_code == 400 and response.json()["code"] == "no_snapshot"
    assert response.json()["field"] == "month"
    with pytest.raises(InvalidInputError):
        monthly_report(world["admin"], territory.office.code, month_of(last))
