"""Imports of room registers (XLSX and CSV with Chinese headers) and their export.

Each test checks the report row by row (spreadsheet row numbers, header = row 1) and that the
database holds exactly the good rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from data.exports.registers import HEADERS, export_register
from data.imports.registers import decode_csv
from data.imports.sources import ImportFileError
from data.models import JobStatus
from gis import services
from gis.models import Building, DoorPlate, Landlord, Role, Room, RoomUse

from ..conftest import Territory
from ..factories import UserFactory
from .conftest import RunImport, issues

HOME_ADDRESS = "樊城区汉江街道人民路社区人民路12号3栋"
HEADER = ["楼栋编号", "标准地址", "单元", "楼层", "房号", "用途", "面积(㎡)", "房东", "房东电话"]

# Good rows and rows broken on purpose; the comment is the expected outcome.
ROWS: list[list[Any]] = [
    ["HB-1", None, 1, 5, 501, "整租", 45.5, "王芳", 13812345678],  # 2 created
    [None, HOME_ADDRESS, "2单元", "3层", "302", "自住", "60㎡", None, None],  # 3 created
    [None, "人民路12号3栋2单元601室", None, None, None, "合租", None, "王芳", "13812345678"],  # 4
    ["NOPE-9", None, 1, 2, 201, "自住", None, None, None],  # 5 unknown building
    [None, "锟斤拷烫烫烫", 1, 2, 202, "自住", None, None, None],  # 6 garbled address
    [None, "樊城区汉江街道幸福社区人民路12号3栋", 1, 2, 203, None, None, None, None],  # 7
    ["HB-1", None, "1", "5", "501", "空置", None, None, None],  # 8 duplicate of row 2
    ["HB-1", None, 1, None, 204, "自住", None, None, None],  # 9 missing floor
    ["HB-1", None, 1, 2, 205, "仓库", None, None, None],  # 10 bad use
    ["HB-1", None, 1, 9, 901, "自住", None, None, None],  # 11 above the top floor (6)
    [None, None, None, None, None, None, None, None, None],  # 12 empty: skipped
    ["HB-1", None, None, "地下1层", "B01", "vacant", None, None, None],  # 13 created
]
EXPECTED_ISSUES = {
    5: "unknown_building",
    6: "unparseable_address",
    7: "unknown_community",
    8: "duplicate",
    9: "missing_field",
    10: "bad_value",
    11: "floor_out_of_range",
}
EXPECTED_ROOMS = {
    ("1", 5, "501", RoomUse.RENTED_WHOLE, Decimal("45.50"), "王芳"),
    ("2", 3, "302", RoomUse.OWNER_OCCUPIED, Decimal("60.00"), None),
    ("2", 6, "601", RoomUse.RENTED_SHARED, None, "王芳"),
    (None, -1, "B01", RoomUse.VACANT, None, None),
}


@pytest.fixture
def plates(territory: Territory) -> Territory:
    """Door plates on both buildings; the home building has a source id."""
    services.save_building(actor=None, data={"source_id": "HB-1"}, instance=territory.home_building)
    for building, road, number in (
        (territory.home_building, "人民路", "12"),
        (territory.away_building, "长虹路", "8"),
    ):
        data = {"building": building, "road": road, "number": number, "building_number": "3"}
        services.save_door_plate(actor=None, data=data)
    return territory


def _xlsx(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "房屋台账"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _csv(path: Path, rows: list[list[Any]], encoding: str) -> Path:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def _rooms(building: Building) -> set[tuple[Any, ...]]:
    return {
        (
            room.entrance.number if room.entrance else None,
            room.floor,
            room.number,
            room.use,
            room.area_m2,
            room.landlord.name if room.landlord else None,
        )
        for room in Room.objects.filter(building=building).select_related("entrance", "landlord")
    }


def test_xlsx_register_row_by_row(run_import: RunImport, plates: Territory, tmp_path: Path) -> None:
    job = run_import("rooms", _xlsx(tmp_path / "出租房屋登记表.xlsx", ROWS))
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    assert issues(job) == EXPECTED_ISSUES
    assert (job.rows_read, job.rows_created, job.rows_rejected) == (11, 4, 7)
    assert _rooms(plates.home_building) == EXPECTED_ROOMS
    assert not Room.objects.filter(building=plates.away_building).exists()
    # One landlord, registered in the building's community with the full phone.
    landlord = Landlord.objects.get()
    assert (landlord.name, landlord.phone, landlord.community) == (
        "王芳",
        "13812345678",
        plates.home,
    )
    # Messages in both languages, with the row as read (only the register's own columns).
    issue = job.issues.get(row=7)
    assert "幸福社区" in issue.message_zh and "幸福社区" in issue.message_en
    assert issue.data["标准地址"] == "樊城区汉江街道幸福社区人民路12号3栋"
    assert "duplicate" == job.issues.get(row=8).code and "2" in job.issues.get(row=8).message_en


def test_same_file_twice_is_unchanged_and_a_changed_file_updates(
    run_import: RunImport, plates: Territory, tmp_path: Path
) -> None:
    path = _xlsx(tmp_path / "register.xlsx", ROWS)
    run_import("rooms", path)
    again = run_import("rooms", path)
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 4)
    assert issues(again) == EXPECTED_ISSUES
    changed = [list(row) for row in ROWS]
    changed[0][6] = 50  # area of 501
    changed[1][5] = "空置"  # use of 302
    job = run_import("rooms", _xlsx(tmp_path / "changed.xlsx", changed))
    assert (job.rows_created, job.rows_updated, job.rows_unchanged) == (0, 2, 2)
    room = Room.objects.get(building=plates.home_building, number="501")
    assert room.area_m2 == Decimal("50.00")
    assert Room.objects.get(building=plates.home_building, number="302").use == RoomUse.VACANT


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8", "utf-16"])
def test_csv_in_the_encodings_excel_writes(
    run_import: RunImport, plates: Territory, tmp_path: Path, encoding: str
) -> None:
    path = _csv(tmp_path / "register.csv", ROWS, encoding)
    if encoding in ("gbk", "gb18030"):  # the test means something: not readable as UTF-8
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
        assert "王芳" not in path.read_bytes().decode("latin-1")
    job = run_import("rooms", path)
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    assert issues(job) == EXPECTED_ISSUES
    assert _rooms(plates.home_building) == EXPECTED_ROOMS
    assert Landlord.objects.get().name == "王芳"


def test_an_undecodable_csv_is_refused_whole(
    run_import: RunImport, plates: Territory, tmp_path: Path
) -> None:
    path = tmp_path / "register.csv"
    path.write_bytes(",".join(HEADER).encode("gbk") + b"\nHB-1,,1,5,\x80\xff\xfe501\n")
    job = run_import("rooms", path)
    assert job.status == JobStatus.FAILED
    assert "GBK" in job.error_en and "register.csv" in job.error_zh
    assert not Room.objects.exists()
    with pytest.raises(ImportFileError, match="UTF-8"):
        decode_csv(b"\x00\x01\x80\xff", "x.csv")


def test_headers_aliases_title_row_and_the_sheet_that_holds_the_register(
    run_import: RunImport, plates: Territory, tmp_path: Path
) -> None:
    book = Workbook()
    notes = book.active
    notes.title = "填表说明"
    notes.append(["每户一行，房号必填。"])
    sheet = book.create_sheet("台账")
    sheet.append(["人民路社区出租房屋登记表"])  # a title above the headers
    sheet.append(["序号", " Building_ID ", "单 元", "*楼层", "房　号", "Use", "面积（平方米）"])
    sheet.append([1, "HB-1", "二单元", "五", "502", "Rented shared", "30.126"])
    path = tmp_path / "aliases.xlsx"
    book.save(path)
    job = run_import("rooms", path)
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    assert (job.rows_read, job.rows_created, issues(job)) == (1, 1, {})
    room = Room.objects.select_related("entrance").get()
    assert (room.entrance.number, room.floor, room.number) == ("2", 5, "502")
    assert (room.use, room.area_m2) == (RoomUse.RENTED_SHARED, Decimal("30.13"))


def test_a_file_without_the_required_headers_or_rows_is_refused(
    run_import: RunImport, plates: Territory, tmp_path: Path
) -> None:
    job = run_import("rooms", _xlsx(tmp_path / "headers.xlsx", [["HB-1", 5]], ["楼栋编号", "楼层"]))
    assert job.status == JobStatus.FAILED
    assert "房号" in job.error_en and "房号" in job.error_zh
    job = run_import("rooms", _xlsx(tmp_path / "no-rows.xlsx", [[None] * 9]))
    assert job.status == JobStatus.FAILED and "no data rows" in job.error_en
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK not a workbook")
    assert run_import("rooms", broken).status == JobStatus.FAILED


def test_a_community_worker_imports_only_their_community(
    run_import: RunImport, plates: Territory, tmp_path: Path
) -> None:
    worker = UserFactory(username="registrar", grants=[(Role.COMMUNITY_WORKER, plates.home.code)])
    rows = [
        ["HB-1", None, 1, 2, 201, "自住", None, "李强", "13900001111"],
        [None, "长虹路8号3栋", 1, 2, 201, "自住", None, "赵敏", "13900002222"],
    ]
    job = run_import("rooms", _xlsx(tmp_path / "scope.xlsx", rows), actor=worker)
    assert issues(job) == {3: "permission_denied"}
    assert Room.objects.get().building == plates.home_building
    assert list(Landlord.objects.values_list("name", flat=True)) == ["李强"]
    # Unchanged rows of another community are refused too: the report vouches for nothing there.
    run_import("rooms", _xlsx(tmp_path / "admin.xlsx", rows[1:]))
    again = run_import("rooms", _xlsx(tmp_path / "scope.xlsx", rows), actor=worker)
    assert issues(again) == {3: "permission_denied"}


def test_room_door_plates(run_import: RunImport, plates: Territory, tmp_path: Path) -> None:
    header = [*HEADER, "人口门牌", "挂牌日期"]
    rows = [
        ["HB-1", None, 1, 5, 501, "整租", None, None, None, "是", dt.date(2024, 3, 1)],
        ["HB-1", None, 1, 5, 502, "整租", None, None, None, "否", None],
        ["HB-1", None, 1, 5, 503, "整租", None, None, None, "否", "2024-03-01"],
    ]
    job = run_import("rooms", _xlsx(tmp_path / "plates.xlsx", rows, header))
    assert issues(job) == {4: "plate_date_without_plate"}
    plate = DoorPlate.objects.get(room__number="501")
    assert plate.address == "樊城区汉江街道人民路社区人民路12号3栋1单元501室"
    assert (plate.population_plate, plate.population_plate_on) == (True, dt.date(2024, 3, 1))
    assert not DoorPlate.objects.get(room__number="502").population_plate
    rows[1][9] = "是"
    job = run_import("rooms", _xlsx(tmp_path / "plates.xlsx", rows[:2], header))
    assert (job.rows_updated, job.rows_unchanged) == (1, 1)
    assert DoorPlate.objects.get(room__number="502").population_plate


def test_export_round_trip_masks_phones(
    run_import: RunImport, plates: Territory, tmp_path: Path
) -> None:
    run_import("rooms", _xlsx(tmp_path / "register.xlsx", ROWS))
    services.save_door_plate(
        actor=None,
        data={
            "building": plates.home_building,
            "room": Room.objects.get(number="501"),
            "road": "人民路",
            "number": "12",
            "building_number": "3",
            "population_plate": True,
            "population_plate_on": dt.date(2024, 5, 4),
        },
    )
    path = tmp_path / "export.xlsx"
    rooms = Room.objects.filter(building__community=plates.home)
    assert export_register(rooms, path) == 4
    sheet = load_workbook(path, read_only=True).active
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert tuple(table[0]) == HEADERS
    by_room = {row[4]: dict(zip(HEADERS, row, strict=False)) for row in table[1:]}
    assert by_room["501"]["房东电话"] == "138****5678"
    assert "13812345678" not in str(table)
    assert by_room["501"]["标准地址"] == HOME_ADDRESS
    assert (by_room["501"]["用途"], by_room["501"]["人口门牌"]) == ("整租", "是")
    job = run_import("rooms", path)
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    assert (job.rows_read, job.rows_unchanged, issues(job)) == (4, 4, {})
    assert Landlord.objects.get().phone == "13812345678"  # the masked phone is never stored
    # A masked phone identifies a stored landlord; it cannot register a new one.
    rows = [["HB-1", None, 1, 4, 401, "整租", None, "王芳", "138****5678"]]
    rows.append(["HB-1", None, 1, 4, 402, "整租", None, "陈静", "139****0000"])
    job = run_import("rooms", _xlsx(tmp_path / "masked.xlsx", rows))
    assert issues(job) == {3: "masked_phone"}
    assert Room.objects.get(number="401").landlord == Landlord.objects.get(name="王芳")
    assert Landlord.objects.get().phone == "13812345678"
