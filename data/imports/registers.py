"""Import rooms and their door plates from a register table (出租房屋登记表 / 房屋台账).

The table is an XLSX workbook (the first sheet whose header row this module recognises, or the
sheet named by ``sheet``) or a CSV file in UTF-8 (with or without BOM), UTF-16 with BOM, or
GBK/GB18030 as Excel writes it on Chinese Windows. A CSV file that decodes in none of these is
refused whole: it is never read as mojibake.

Columns (header aliases in :data:`COLUMNS`; the first alias is the one the export writes). Headers
are compared after NFKC (full-width letters and brackets become ASCII), without spaces, ``*``
marks, ``_``/``-`` and any bracketed unit, so ``面积（㎡）``, `` 房 号 `` and ``room_number`` are
all recognised. The header row is the first of the sheet's first ten rows that holds the
required headers (a title row above it is allowed); other columns are ignored and not kept.

- 楼栋编号 — the building's source id (``plategrid:<id>`` for buildings created in plategrid,
  as the exports write it) and/or 标准地址 — the standard address of the building's door plate.
  The address is matched to the stored door plates: textually first (the same search key as a
  stored plate), else parsed with :mod:`gis.address` and matched on the parts it names (the
  district, street office and community it names must exist). Both may be given; then they
  must point to the same building. An address may name the entrance, floor and room too
  (``人民路12号3栋2单元501室``): those fill empty 单元/楼层/房号 cells and must agree with
  filled ones (a three- or four-digit room implies its floor, as in :mod:`gis.address`).
- 单元 (optional), 楼层 (required; ``5``, ``5层``, ``负1``, ``地下1层``, ``B1``), 房号 (required).
  Missing entrances are created. The natural key of a room is building + entrance + floor +
  number: importing the same file twice leaves every row unchanged.
- 用途 — a :class:`~gis.models.RoomUse` by code, English or Chinese label, or a register word
  (自住, 整租, 合租, 空置, 商用 …); 面积(㎡) — area in m², rounded to 0.01 m².
- 房东, 房东电话 — the landlord is matched by name and phone within the building's community and
  registered there when missing (a landlord of that name without a phone gets the phone). A
  masked phone (``138****5678``, as exports write it) only matches a stored landlord and never
  overwrites the stored number. Without a phone the name must be unique in the community.
- 人口门牌 (是/否) and 挂牌日期 — the room's own door plate: created when missing with the road,
  door number and building number of the building's plate (so its standard address is the
  building's address plus entrance and room, composed by ``gis.services``); a date alone means
  the plate is up. A room plate that cannot be composed (a building with neither a plate nor a
  compound) rejects the row.

Empty cells change nothing (an import never erases a stored area, use or landlord). A row whose
cells are all empty is skipped and not counted. Every other row is read, and created, updated,
left unchanged or rejected with its spreadsheet row number (header = the row number Excel shows)
and a reason code. Each row is saved through ``gis.services`` in its own savepoint.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db.models import Model
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from gis import services
from gis.address import normalise_digits, parse_address, search_key
from gis.exceptions import InvalidInputError
from gis.masking import mask_phone
from gis.models import (
    Building,
    Community,
    District,
    DoorPlate,
    Entrance,
    Landlord,
    Room,
    RoomUse,
    StreetOffice,
)

from .report import Outcome, Report
from .sources import Feature, ImportFileError
from .vector import OWN_ID_PREFIX, Options, run_rows

Progress = Callable[[int, int], None]

# Field → accepted headers; the first is the Chinese header the export writes.
COLUMNS: dict[str, tuple[str, ...]] = {
    "building_id": (
        "楼栋编号",
        "楼栋ID",
        "楼栋代码",
        "建筑编号",
        "来源编号",
        "building_id",
        "source_id",
    ),
    "address": (
        "标准地址",
        "门牌地址",
        "地址",
        "房屋地址",
        "楼栋地址",
        "address",
        "standard_address",
    ),
    "entrance": ("单元", "单元号", "门栋", "entrance", "unit"),
    "floor": ("楼层", "所在楼层", "层", "floor"),
    "room": ("房号", "房间号", "室号", "房间", "room", "room_number"),
    "use": ("用途", "房屋用途", "使用情况", "use"),
    "area": ("面积(㎡)", "面积", "建筑面积", "使用面积", "房屋面积", "area", "area_m2"),
    "landlord": ("房东", "房东姓名", "房主", "landlord", "landlord_name"),
    # Not 联系电话/电话 alone: in a rental register that is often the tenant's number.
    "phone": ("房东电话", "房东联系电话", "房东手机", "landlord_phone", "phone"),
    "population_plate": ("人口门牌", "人口牌", "population_plate"),
    "plate_on": ("挂牌日期", "人口门牌日期", "population_plate_on", "plate_date"),
}
HEADER_ROWS = 10  # the header row is looked for among the first rows (title rows above it)

# Words of paper registers for the room's use, beside the codes and labels of RoomUse.
USE_WORDS = {
    **dict.fromkeys(["自住", "自用", "自居"], RoomUse.OWNER_OCCUPIED),
    **dict.fromkeys(["整租", "整套出租"], RoomUse.RENTED_WHOLE),
    **dict.fromkeys(["合租", "分租", "群租"], RoomUse.RENTED_SHARED),
    **dict.fromkeys(["空置", "空房", "闲置"], RoomUse.VACANT),
    **dict.fromkeys(["商用", "商业", "经营", "门面"], RoomUse.COMMERCIAL),
    **dict.fromkeys(["其他", "其它"], RoomUse.OTHER),
}
YES = {"是", "有", "已挂", "已挂牌", "挂", "√", "✓", "y", "yes", "true", "1"}
NO = {"否", "无", "未挂", "未挂牌", "×", "n", "no", "false", "0"}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


# ---------------------------------------------------------------------------------------------
# Reading the table


def header_key(text: Any) -> str:
    """A header as compared: ``" 面积（㎡） "`` → ``"面积"``, ``"Room_Number"`` → ``"roomnumber"``."""
    s = unicodedata.normalize("NFKC", str(text or ""))
    s = re.sub(r"\(.*?\)|\[.*?\]|【.*?】", "", s)
    return re.sub(r"[\s*_\-:：]", "", s).lower()


ALIASES = {header_key(alias): field for field, names in COLUMNS.items() for alias in names}


def _fields_of(header: list[Any]) -> dict[int, str]:
    """Column index → field, for the recognised headers (the first column of a field wins)."""
    found: dict[int, str] = {}
    for index, text in enumerate(header):
        field = ALIASES.get(header_key(text))
        if field is not None and field not in found.values():
            found[index] = field
    return found


def _missing(fields: set[str]) -> list[str]:
    missing = []
    if not fields & {"building_id", "address"}:
        missing.append(f"{COLUMNS['building_id'][0]} / {COLUMNS['address'][0]}")
    missing += [COLUMNS[f][0] for f in ("floor", "room") if f not in fields]
    return missing


@dataclass
class Table:
    header: list[Any]
    header_row: int
    rows: list[tuple[int, list[Any]]]  # (spreadsheet row number, cells)


def _table(rows: list[tuple[int, list[Any]]]) -> Table | None:
    for position, (number, cells) in enumerate(rows[:HEADER_ROWS]):
        if not _missing(set(_fields_of(cells).values())):
            return Table(cells, number, rows[position + 1 :])
    return None


def _refuse_headers(name: str, rows: list[tuple[int, list[Any]]]) -> ImportFileError:
    best = max((set(_fields_of(cells).values()) for _n, cells in rows[:HEADER_ROWS]), key=len)
    return ImportFileError(
        _(
            "%(file)s has no header row with the columns a register needs: %(missing)s are "
            "missing. Put the headers in the first row (for example 楼栋编号, 标准地址, 单元, 楼层, "
            "房号, 用途, 面积(㎡), 房东, 房东电话)."
        ),
        code="missing_headers",
        file=name,
        missing=", ".join(_missing(best)),
    )


def _xlsx_rows(path: Path, name: str, sheet: str | None) -> Table:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(
            _("%(file)s cannot be read as an Excel workbook (.xlsx): %(reason)s."),
            file=name,
            reason=str(exc) or type(exc).__name__,
        ) from exc
    try:
        if sheet and sheet not in book.sheetnames:
            raise ImportFileError(
                _("%(file)s has no sheet %(value)s: its sheets are %(allowed)s."),
                code="unknown_sheet",
                file=name,
                value=sheet,
                allowed=", ".join(book.sheetnames),
            )
        first: list[tuple[int, list[Any]]] | None = None
        for title in [sheet] if sheet else book.sheetnames:
            worksheet = book[title]
            worksheet.reset_dimensions()  # some writers store wrong sheet sizes
            rows = [
                (number, list(cells))
                for number, cells in enumerate(worksheet.iter_rows(values_only=True), start=1)
            ]
            table = _table(rows)
            if table is not None:
                return table
            first = rows if first is None else first
        raise _refuse_headers(name, first or [(1, [])])
    finally:
        book.close()


def decode_csv(data: bytes, name: str) -> str:
    """The text of a CSV file: UTF-8 (BOM or not), UTF-16 with BOM, else GB18030 (a superset of
    GBK, what Excel writes on Chinese Windows). Anything else is refused, never guessed."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8", data[len(codecs.BOM_UTF8) :])]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", data)]
    else:
        candidates = [("utf-8", data), ("gb18030", data)]
    for encoding, payload in candidates:
        try:
            text = payload.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise ImportFileError(
        _(
            "%(file)s is not a text file in UTF-8 or GBK/GB18030, the encodings a register CSV may "
            "have: save it again from Excel as “CSV UTF-8” or as an .xlsx workbook."
        ),
        code="unknown_encoding",
        file=name,
    )


def _csv_rows(path: Path, name: str) -> Table:
    text = decode_csv(path.read_bytes(), name)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [
            (number, list(cells))
            for number, cells in enumerate(csv.reader(io.StringIO(text), dialect), start=1)
        ]
    except csv.Error as exc:
        raise ImportFileError(
            _("%(file)s is not a valid CSV file: %(reason)s."), file=name, reason=str(exc)
        ) from exc
    table = _table(rows)
    if table is None:
        raise _refuse_headers(name, rows or [(1, [])])
    return table


def read_register(path: Path, name: str, *, sheet: str | None = None) -> Table:
    """The header and data rows of a register file; refuses the whole file when unreadable."""
    table = (
        _csv_rows(path, name) if name.lower().endswith(".csv") else _xlsx_rows(path, name, sheet)
    )
    if not any(_filled(cells) for _n, cells in table.rows):
        raise ImportFileError(
            _("%(file)s has headers but no data rows below them (header in row %(row)s)."),
            code="no_rows",
            file=name,
            row=table.header_row,
        )
    return table


def _filled(cells: list[Any]) -> bool:
    return any(_text(cell) for cell in cells)


# ---------------------------------------------------------------------------------------------
# Values of one row


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def _bad(field: str, value: Any, hint: Any) -> InvalidInputError:
    return InvalidInputError(
        _("%(name)s %(value)s cannot be read: %(hint)s"),
        code="bad_value",
        field=field,
        name=COLUMNS[field][0],
        value=repr(value),
        hint=hint,
    )


def _number(value: Any, field: str, suffixes: tuple[str, ...]) -> str:
    """A house number as the register writes it, without its suffix (``二单元`` → ``"2"``)."""
    text = _text(value)
    text = normalise_digits(text if text.endswith(suffixes) else text + suffixes[0])
    for suffix in suffixes:
        text = text.removesuffix(suffix)
    if not text or re.search(r"\s", text) or len(text) > 20:
        raise _bad(field, value, _("write a number without spaces, such as 2 or 501."))
    return text


def _floor(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and value != 0:
            return int(value)
        raise _bad("floor", value, _("floors are whole numbers, 1 and up, or -1 for a basement."))
    text = _text(value).upper().removesuffix("F")
    text = normalise_digits(text if text.endswith(("层", "楼")) else text + "层")
    match = re.fullmatch(r"(地下|负|B|-)?(\d{1,3})(层|楼)?", text)
    if match is None or int(match[2]) == 0:
        raise _bad("floor", value, _("floors are whole numbers, 1 and up, or -1 for a basement."))
    return -int(match[2]) if match[1] else int(match[2])


def _use(value: Any) -> str:
    text = _text(value)
    wanted = text.lower().replace("-", " ").replace("_", " ")
    for code, label in RoomUse.choices:
        if wanted in {code.replace("_", " "), str(label).lower().replace("-", " ")}:
            return code
    if text in USE_WORDS:
        return USE_WORDS[text]
    with translation.override("zh-hans"):
        for code, label in RoomUse.choices:
            if text == str(label):
                return code
    raise _bad("use", value, _("use one of 自住, 整租, 合租, 空置, 商用, 其他."))


def _area(value: Any) -> Decimal:
    text = re.sub(r"(m2|平方米|平米|平方)$", "", _text(value).lower()).strip()
    try:
        area = Decimal(text)
    except InvalidOperation:
        area = Decimal("NaN")
    if not area.is_finite() or not 0 < area < 1_000_000:
        raise _bad("area", value, _("write the area in m² as a number, such as 45.5."))
    return area.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _phone(value: Any) -> str:
    return re.sub(r"[\s\-]", "", _text(value))


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in YES or text in NO:
        return text in YES
    raise _bad("population_plate", value, _("write 是 or 否."))


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    for form in DATE_FORMATS:
        try:
            return dt.datetime.strptime(_text(value), form).date()
        except ValueError:
            continue
    raise _bad("plate_on", value, _("write a date such as 2024-03-01."))


# ---------------------------------------------------------------------------------------------
# Finding the building


@dataclass
class Place:
    """What the address or id of a row points to."""

    buildings: set[int]
    plate: DoorPlate | None = None  # the stored plate the address matched, if one did
    entrance: str | None = None
    floor: int | None = None
    room: str | None = None


def _by_id(text: str) -> Building | None:
    if text.startswith(OWN_ID_PREFIX):
        pk = text.removeprefix(OWN_ID_PREFIX)
        return Building.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
    return Building.objects.filter(source_id=text).first()


def _territory_name(model: type[Model], name: str) -> str | None:
    """The stored name of the district, street office or community an address names."""
    names = {name, name.removesuffix("居民委员会"), name.removesuffix("居委会")}
    names |= {re.sub(r"(村民委员会|村委会)$", "村", name)}
    found = model._default_manager.filter(name__in=names).values_list("name", flat=True)
    return found.first()


def _by_address(text: str) -> Place:
    stored = list(DoorPlate.objects.filter(search_key=search_key(text)))
    if stored:
        plate = stored[0]
        return Place(
            {p.building_id for p in stored},
            plate,
            plate.entrance_number or None,
            plate.floor if plate.room_number else None,
            plate.room_number or None,
        )
    parsed = parse_address(text)
    if not parsed.ok:
        raise InvalidInputError(
            _(
                "The address %(value)s cannot be read (%(rest)s is not part of an address): "
                "write it as a standard address such as 人民路12号3栋, or give the 楼栋编号."
            ),
            code="unparseable_address",
            field="address",
            value=text,
            rest="、".join(parsed.unparsed) or text,
        )
    parts = parsed.parts
    territory: dict[str, str] = {}
    levels = (
        ("district", District, _("district")),
        ("street_office", StreetOffice, _("street office")),
        ("community", Community, _("community")),
    )
    for level, model, label in levels:
        named = getattr(parts, level)
        if named:
            found = _territory_name(model, named)
            if found is None:
                raise InvalidInputError(
                    _(
                        "The address %(value)s names the %(level)s %(name)s, which is not in the "
                        "register: check the name, or import the boundaries first."
                    ),
                    code=f"unknown_{level}",
                    field="address",
                    value=text,
                    level=label,
                    name=named,
                )
            territory[level] = found
    if not (parts.road or parts.compound or parts.building):
        raise InvalidInputError(
            _("The address %(value)s names no road, compound or building: it finds no building."),
            code="unknown_building",
            field="address",
            value=text,
        )
    exact = {
        "road": parts.road or "",
        "number": parts.number or "",
        "compound": parts.compound or "",
        "building_number": parts.building or "",
    }
    plates = DoorPlate.objects.filter(**territory).order_by("room", "entrance", "id")
    matches = list(plates.filter(**exact)) or list(
        plates.filter(**{key: value for key, value in exact.items() if value})
    )
    return Place(
        {p.building_id for p in matches},
        matches[0] if matches else None,
        parts.entrance,
        int(parts.floor) if parts.floor and parts.floor.lstrip("-").isdigit() else None,
        parts.room,
    )


def _building(values: dict[str, Any]) -> tuple[Building, Place]:
    sid, text = _text(values.get("building_id")), _text(values.get("address"))
    by_id = _by_id(sid) if sid else None
    if sid and by_id is None:
        raise InvalidInputError(
            _(
                "Building %(value)s is not in the register: import the buildings first or check "
                "the 楼栋编号."
            ),
            code="unknown_building",
            field="building_id",
            value=sid,
        )
    place = _by_address(text) if text else Place(set())
    if by_id is not None:
        if text and by_id.pk not in place.buildings:
            raise InvalidInputError(
                _("The address %(address)s is not the address of building %(value)s."),
                code="address_mismatch",
                field="address",
                address=text,
                value=sid,
            )
        building = by_id
    elif len(place.buildings) == 1:
        building = Building.objects.get(pk=next(iter(place.buildings)))
    elif place.buildings:
        raise InvalidInputError(
            _(
                "The address %(value)s fits %(count)s buildings: add the building number "
                "(for example 3栋) or the 楼栋编号."
            ),
            code="ambiguous_address",
            field="address",
            value=text,
            count=len(place.buildings),
        )
    else:
        raise InvalidInputError(
            _("No door plate in the register has the address %(value)s."),
            code="unknown_building",
            field="address",
            value=text,
        )
    if place.plate is not None and place.plate.building_id != building.pk:
        place.plate = None
    return building, place


# ---------------------------------------------------------------------------------------------
# One row


@dataclass
class Row:
    building: Building
    base_plate: DoorPlate | None
    entrance: str | None
    floor: int
    number: str
    use: str | None
    area: Decimal | None
    landlord: str
    phone: str
    plate: bool | None
    plate_on: dt.date | None

    @property
    def key(self) -> str:
        building = self.building.source_id or f"{OWN_ID_PREFIX}{self.building.pk}"
        return f"{building}/{self.entrance or '-'}/{self.floor}/{self.number}"


def _from_address(field: str, given: Any, found: Any, text: str) -> Any:
    """A cell's value, filled from the address when empty; both given must agree."""
    if given is None or given == "":
        return found
    if found is not None and found != given:
        raise InvalidInputError(
            _("%(name)s %(value)s disagrees with the address %(address)s."),
            code="address_mismatch",
            field=field,
            name=COLUMNS[field][0],
            value=given,
            address=text,
        )
    return given


def _required(field: str) -> InvalidInputError:
    return InvalidInputError(
        _("%(name)s is empty: every room of the register needs it."),
        code="missing_field",
        field=field,
        name=COLUMNS[field][0],
    )


def read_row(values: dict[str, Any]) -> Row:
    """The values of one row, checked; the building resolved (nothing is written)."""
    building, place = _building(values)
    address = _text(values.get("address"))
    entrance = (
        _number(values["entrance"], "entrance", ("单元", "门", "梯"))
        if _text(values.get("entrance"))
        else None
    )
    entrance = _from_address("entrance", entrance, place.entrance, address)
    floor = _floor(values["floor"]) if _text(values.get("floor")) else None
    floor = _from_address("floor", floor, place.floor, address)
    number = (
        _number(values["room"], "room", ("室", "房", "户")) if _text(values.get("room")) else None
    )
    number = _from_address("room", number, place.room, address)
    if number is None:
        raise _required("room")
    if floor is None:
        raise _required("floor")
    landlord, phone = _text(values.get("landlord")), _phone(values.get("phone"))
    if phone and not landlord:
        raise _required("landlord")
    if len(landlord) > 50:
        raise _bad("landlord", landlord, _("a name has at most 50 characters."))
    plate_on = _date(values["plate_on"]) if _text(values.get("plate_on")) else None
    plate = _yes_no(values["population_plate"]) if _text(values.get("population_plate")) else None
    return Row(
        building=building,
        base_plate=place.plate,
        entrance=entrance,
        floor=floor,
        number=number,
        use=_use(values["use"]) if _text(values.get("use")) else None,
        area=_area(values["area"]) if _text(values.get("area")) else None,
        landlord=landlord,
        phone=phone,
        plate=True if plate is None and plate_on is not None else plate,
        plate_on=plate_on,
    )


def _entrance(row: Row, actor: Any) -> Entrance | None:
    if row.entrance is None:
        return None
    stored = Entrance.objects.filter(building=row.building, number=row.entrance).first()
    if stored is not None:
        return stored
    return services.save_entrance(
        actor=actor, data={"building": row.building, "number": row.entrance}
    )


def _ambiguous_landlord(name: str) -> InvalidInputError:
    return InvalidInputError(
        _(
            "Several landlords named %(value)s are registered in this community: add the "
            "landlord's full phone number to say which."
        ),
        code="ambiguous_landlord",
        field="landlord",
        value=name,
    )


def _landlord(row: Row, actor: Any) -> tuple[Landlord | None, bool]:
    """The row's landlord in the building's community, and whether it was created or changed."""
    if not row.landlord:
        return None, False
    community = row.building.community
    namesakes = list(Landlord.objects.filter(community=community, name=row.landlord))
    if "*" in row.phone:  # masked, as exported: it identifies, it is never stored
        masked = [landlord for landlord in namesakes if mask_phone(landlord.phone) == row.phone]
        if len(masked) > 1:
            raise _ambiguous_landlord(row.landlord)
        if not masked:
            raise InvalidInputError(
                _(
                    "The phone %(value)s is masked and fits no landlord %(name)s of this "
                    "community: write the full number to register the landlord."
                ),
                code="masked_phone",
                field="phone",
                value=row.phone,
                name=row.landlord,
            )
        return masked[0], False
    if row.phone:
        same = [landlord for landlord in namesakes if landlord.phone == row.phone]
        if same:
            return same[0], False
        without = [landlord for landlord in namesakes if not landlord.phone]
        if len(without) == 1:
            filled = {"phone": row.phone}
            return services.save_landlord(actor=actor, data=filled, instance=without[0]), True
    elif len(namesakes) == 1:
        return namesakes[0], False
    elif namesakes:
        raise _ambiguous_landlord(row.landlord)
    data: dict[str, Any] = {"name": row.landlord, "phone": row.phone, "community": community}
    return services.save_landlord(actor=actor, data=data), True


def _room_plate(row: Row, room: Room, actor: Any) -> bool:
    """Create or update the room's door plate when the row says so; whether it changed."""
    if row.plate is None:
        return False
    values: dict[str, Any] = {"population_plate": row.plate}
    if row.plate_on is not None or not row.plate:
        values["population_plate_on"] = row.plate_on
    stored = DoorPlate.objects.filter(room=room).first()
    if stored is not None:
        changed = {key: value for key, value in values.items() if getattr(stored, key) != value}
        if changed:
            services.save_door_plate(actor=actor, data=changed, instance=stored)
        return bool(changed)
    base = (
        row.base_plate
        or DoorPlate.objects.filter(building=row.building, room=None)
        .order_by("entrance", "id")
        .first()
    )
    data = {
        "building": row.building,
        "room": room,
        "road": base.road if base else "",
        "number": base.number if base else "",
        "building_number": base.building_number if base else "",
        **values,
    }
    services.save_door_plate(actor=actor, data=data)
    return True


def save_row(row: Row, actor: Any) -> Outcome:
    services.require_write(actor, row.building.community.code)
    entrance = _entrance(row, actor)
    landlord, landlord_changed = _landlord(row, actor)
    values: dict[str, Any] = {}
    if row.use is not None:
        values["use"] = row.use
    if row.area is not None:
        values["area_m2"] = row.area
    if landlord is not None:
        values["landlord"] = landlord
    stored = Room.objects.filter(
        building=row.building, entrance=entrance, floor=row.floor, number=row.number
    ).first()
    if stored is None:
        key = {"building": row.building, "entrance": entrance, "floor": row.floor}
        room = services.save_room(actor=actor, data={**key, "number": row.number, **values})
        _room_plate(row, room, actor)
        return "created"
    changed = {key: value for key, value in values.items() if getattr(stored, key) != value}
    if changed:
        services.save_room(actor=actor, data=changed, instance=stored)
    plate_changed = _room_plate(row, stored, actor)
    return "updated" if changed or plate_changed or landlord_changed else "unchanged"


# ---------------------------------------------------------------------------------------------
# The import


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def _features(table: Table) -> Iterator[Feature]:
    fields = _fields_of(table.header)
    for number, cells in table.rows:
        if not _filled(cells):
            continue  # an empty row: skipped, not counted
        picked = {i: cells[i] if i < len(cells) else None for i in fields}
        yield Feature(
            row=number,
            fid=None,
            # Only the register's own columns are kept in the report: a register may hold
            # tenants' identity numbers in other columns, which this import does not store.
            properties={str(table.header[i]).strip(): _jsonable(v) for i, v in picked.items()},
            geometry=None,
            extra={fields[i]: v for i, v in picked.items()},
        )


def import_register(
    path: Path,
    name: str,
    report: Report,
    options: Options,
    progress: Progress | None = None,
    *,
    sheet: str | None = None,
) -> None:
    """Import the rooms of the register table at ``path`` (file name ``name``) into ``report``.

    Empty rows are skipped without being counted; see the module notes for the columns.
    Raises :class:`~data.imports.sources.ImportFileError` when the whole file cannot be used.
    """
    features = list(_features(read_register(path, name, sheet=sheet)))
    if progress is not None:
        progress(0, len(features))
    rows: dict[int, Row] = {}

    def identify(feature: Feature) -> str:
        rows[feature.row] = read_row(feature.extra)
        return rows[feature.row].key

    def handle(feature: Feature, _key: str) -> Outcome:
        return save_row(rows.pop(feature.row), options.actor)

    run_rows(features, handle, identify, report, progress)
