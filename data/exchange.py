"""Department exchange (部门数据交换): monthly files of other offices matched to the register.

Other offices (civil affairs, the police's household registration) send files of events:
marriages (婚姻登记), births (出生登记) and household-registration moves (户籍迁入 / 户籍迁出), as
CSV (UTF-8 or GBK/GB18030) or XLSX. :func:`submit_exchange` checks the file at once — a bad file
is refused whole, with a message naming the problem, and nothing is kept — then keeps it
encrypted (``registry.crypto.encrypt_bytes``) and queues :func:`run_exchange`, which reads every
row, matches it to the register and stores one :class:`~data.models.ExchangeRow` per row: nothing
is dropped, garbage rows become ``invalid`` rows with their reason.

**Matching** (per row, :func:`match_row`):

1. By identity number: the row's number (GB 11643-checked) hashed with the register's search key
   equals a resident's ``id_number_hash`` → that resident, score 1.0.
2. Else by name, birth date and address, a score in [0, 1]::

       score = 0.5 × name + 0.3 × birth date + 0.2 × address

   *name*: 1 when equal (spaces and width ignored), else the similarity ratio of the two names
   (``difflib``: 2 × common characters / total, so 张三 / 张山 = 0.5, 王小明 / 王晓明 = 0.67);
   *birth date*: 1 when equal, else 0; *address*: 1 when the resident lives now in the room the
   row's address names (the stored door plates, matched as ``gis.address.search_key`` equality,
   else by the parts ``parse_address`` reads), 0.5 in the same building, else 0. Residents with
   another identity number on file are never candidates. Candidates scoring at least
   :data:`CANDIDATE_MIN` are listed; one at or above :data:`PROBABLE` is a *probable match* (a
   person confirms it), several are a *conflict* (a person picks one), none: the row is *new*
   (a birth or a move in to an address found: a resident to register) or *unmatched*.
3. The change the row implies for its resident is *proposed*, never applied: a move out (户籍迁出),
   a move to the address (户籍迁入), the spouse joining the household (婚姻登记), a newborn
   registered in the parents' household (出生登记), a name that differs. A resident found with
   nothing to change is *matched*; with a change, *updated*.

**Decisions** (:func:`decide`): every row is decided by a person, once — accept the proposed
change, register as new, pick a candidate, or reject with a note — and the change goes through
``registry.services`` under the person's own scope. Who decided and when stays on the row.

**Scope.** Matching looks only inside the uploader's territory (an upload is a search by
number: a resident, household or address outside it is as if absent, so a community worker's
file lands wholly in their community and tells nothing of other communities). A row belongs to
the community of its resident (or best candidate), else of the room or building its address
names; a row with no place gets the uploader's territory code (a street office's or a
district's), so that office's supervisors see it and no community worker does; grants in several
districts have no such code and their uploads are refused. The rows are under row-level security
like the register (migration ``0002_exchange``). What a user reads of a file is what its rows in
their territory say: the counts of those rows (never the file's totals, unless their scope is
everywhere), no candidate, spouse, household or room outside it.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import logging
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks import task
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from gis.exceptions import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PlategridError,
    ScopeError,
)
from gis.models import WRITE_ROLES, Building, DoorPlate, Room
from gis.progress import ProgressWriter, claim_job, fail_job_for, succeed_job
from gis.querysets import territory_prefixes
from gis.services import require_write
from registry import crypto
from registry.idnumber import IdNumber
from registry.keys import register_ciphertexts
from registry.models import Access, Category, Household, Occupancy, Relation, Resident
from registry.privacy import ADMINISTRATOR, log_access, personal
from registry.retention import register_purger
from registry.services import (
    PersonData,
    check_id_number,
    move,
    move_out,
    register_resident,
    update_resident,
)

from .imports.registers import decode_csv, header_key
from .imports.sources import ImportFileError
from .models import (
    ExchangeDecision,
    ExchangeEvent,
    ExchangeFile,
    ExchangeOutcome,
    ExchangeRow,
    JobStatus,
)

logger = logging.getLogger("plategrid.exchange")

MAX_BYTES = 20 * 2**20
MAX_ROWS = 100_000
SUFFIXES = (".csv", ".xlsx")
HEADER_ROWS = 10
FILE_CONTEXT = "exchange.file"
ROW_ID_CONTEXT = "exchange.id_number"
OTHER_ID_CONTEXT = "exchange.other_id_number"

#: Weights of the score (they add up to 1) and the thresholds.
WEIGHTS = {"name": 0.5, "birth_date": 0.3, "address": 0.2}
PROBABLE = 0.75
CANDIDATE_MIN = 0.6
MAX_CANDIDATES = 5

# Field → accepted headers (compared by ``header_key``: NFKC, no spaces, no bracketed units).
COLUMNS: dict[str, tuple[str, ...]] = {
    "event": ("事件类型", "事件", "业务类型", "登记类型", "类型", "event", "event_type"),
    "name": ("姓名", "名字", "name"),
    "sex": ("性别", "sex", "gender"),
    "birth_date": ("出生日期", "出生年月日", "生日", "birth_date", "birthday"),
    "id_number": (
        "身份证号",
        "身份证号码",
        "公民身份号码",
        "证件号码",
        "身份证",
        "id_number",
    ),
    "address": ("住址", "地址", "现住址", "居住地址", "迁入地址", "户籍地址", "address"),
    "event_date": (
        "事件日期",
        "登记日期",
        "办理日期",
        "迁移日期",
        "发生日期",
        "event_date",
        "date",
    ),
    "note": ("备注", "说明", "note", "remarks"),
    "spouse_name": ("配偶姓名", "spouse_name"),
    "spouse_id_number": (
        "配偶身份证号",
        "配偶身份证号码",
        "配偶公民身份号码",
        "spouse_id_number",
    ),
    "parent_name": ("父母姓名", "父亲姓名", "母亲姓名", "监护人姓名", "parent_name"),
    "parent_id_number": (
        "父母身份证号",
        "父亲身份证号",
        "母亲身份证号",
        "监护人身份证号",
        "parent_id_number",
    ),
}
REQUIRED = ("event", "name", "event_date")
ALIASES = {header_key(alias): name for name, aliases in COLUMNS.items() for alias in aliases}

EVENT_WORDS = {
    **dict.fromkeys(["婚姻登记", "结婚登记", "结婚", "婚姻", "marriage"], ExchangeEvent.MARRIAGE),
    **dict.fromkeys(["出生登记", "出生", "新生儿", "birth"], ExchangeEvent.BIRTH),
    **dict.fromkeys(["户籍迁入", "迁入", "户口迁入", "move_in"], ExchangeEvent.MOVE_IN),
    **dict.fromkeys(["户籍迁出", "迁出", "户口迁出", "move_out"], ExchangeEvent.MOVE_OUT),
}
SEX_WORDS = {"男": "m", "m": "m", "male": "m", "女": "f", "f": "f", "female": "f"}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


# ---------------------------------------------------------------------------------------------
# Reading a file


@dataclass
class Table:
    header_row: int
    fields: dict[int, str]  # column index → field
    rows: list[tuple[int, list[Any]]]  # (spreadsheet row number, cells), non-empty rows only


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def _fields_of(cells: list[Any]) -> dict[int, str]:
    found: dict[int, str] = {}
    for index, text in enumerate(cells):
        name = ALIASES.get(header_key(text))
        if name is not None and name not in found.values():
            found[index] = name
    return found


def _header_problem(name: str, rows: list[tuple[int, list[Any]]]) -> ImportFileError:
    candidates = [(_fields_of(cells), cells) for _n, cells in rows[:HEADER_ROWS]] or [({}, [])]
    fields, cells = max(candidates, key=lambda pair: len(pair[0]))
    missing = [COLUMNS[f][0] for f in REQUIRED if f not in fields.values()]
    if "id_number" not in fields.values() and "birth_date" not in fields.values():
        missing.append(f"{COLUMNS['id_number'][0]} / {COLUMNS['birth_date'][0]}")
    unknown = [_text(c) for i, c in enumerate(cells) if i not in fields and _text(c)]
    return ImportFileError(
        _(
            "%(file)s has no header row an exchange file needs: %(missing)s missing; headers "
            "not recognised: %(unknown)s. Use 事件类型, 姓名, 性别, 出生日期, 身份证号, 住址, "
            "事件日期, 备注 (配偶姓名, 配偶身份证号 for marriages)."
        ),
        code="unknown_headers",
        field="file",
        file=name,
        missing=", ".join(missing) or "—",
        unknown=", ".join(unknown[:10]) or "—",
    )


def _complete(fields: dict[int, str]) -> bool:
    names = set(fields.values())
    return all(f in names for f in REQUIRED) and bool(names & {"id_number", "birth_date"})


def _xlsx_rows(data: bytes, name: str) -> list[tuple[int, list[Any]]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(
            _("%(file)s cannot be read as an Excel workbook (.xlsx): %(reason)s."),
            code="unreadable_file",
            field="file",
            file=name,
            reason=str(exc) or type(exc).__name__,
        ) from None
    try:
        first: list[tuple[int, list[Any]]] = []
        for position, sheet in enumerate(book.worksheets):
            rows = [
                (number, list(cells))
                for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1)
            ]
            if _find_header(rows) is not None:
                return rows
            if position == 0:
                first = rows
        return first  # no sheet has the headers: the first one's are reported
    finally:
        book.close()


def _csv_rows(data: bytes, name: str) -> list[tuple[int, list[Any]]]:
    try:
        text = decode_csv(data, name)
    except ImportFileError as exc:
        raise ImportFileError(
            _(
                "%(file)s is not a text file in UTF-8 or GBK/GB18030: save it again from Excel "
                "as “CSV UTF-8” or as an .xlsx workbook."
            ),
            code="unknown_encoding",
            field="file",
            file=name,
        ) from exc
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [
            (number, list(cells))
            for number, cells in enumerate(csv.reader(io.StringIO(text), dialect), start=1)
        ]
    except csv.Error as exc:
        raise ImportFileError(
            _("%(file)s is not a valid CSV file: %(reason)s."),
            code="unreadable_file",
            field="file",
            file=name,
            reason=str(exc),
        ) from None


def _find_header(rows: list[tuple[int, list[Any]]]) -> Table | None:
    for position, (number, cells) in enumerate(rows[:HEADER_ROWS]):
        fields = _fields_of(cells)
        if _complete(fields):
            body = [(n, c) for n, c in rows[position + 1 :] if any(_text(x) for x in c)]
            return Table(number, fields, body)
    return None


def check_file(name: str, size: int) -> None:
    """Refuse a file by its name and size alone: not CSV/XLSX, empty, larger than 20 MB."""
    if not name.lower().endswith(SUFFIXES):
        raise InvalidInputError(
            _("%(file)s is not a file the exchange reads: send a .csv or .xlsx file."),
            code="unsupported_format",
            field="file",
            file=name,
        )
    if size == 0:
        raise InvalidInputError(_("%(file)s is empty."), code="empty_file", field="file", file=name)
    if size > MAX_BYTES:
        raise InvalidInputError(
            _("%(file)s is %(size)s MB, more than the %(limit)s MB an exchange file may be."),
            code="file_too_large",
            field="file",
            file=name,
            size=f"{size / 2**20:.1f}",
            limit=f"{MAX_BYTES // 2**20}",
        )


def read_table(data: bytes, name: str) -> Table:
    """The header and the non-empty rows of an exchange file; refuses an unreadable file whole."""
    check_file(name, len(data))
    rows = _csv_rows(data, name) if name.lower().endswith(".csv") else _xlsx_rows(data, name)
    table = _find_header(rows)
    if table is None:
        raise _header_problem(name, rows)
    if not table.rows:
        raise InvalidInputError(
            _("%(file)s has headers but no data rows below them."),
            code="no_rows",
            field="file",
            file=name,
        )
    if len(table.rows) > MAX_ROWS:
        raise InvalidInputError(
            _("%(file)s has %(rows)s rows, more than the %(limit)s an exchange file may have."),
            code="too_many_rows",
            field="file",
            file=name,
            rows=len(table.rows),
            limit=MAX_ROWS,
        )
    return table


# ---------------------------------------------------------------------------------------------
# One row's values


@dataclass
class RowValues:
    """A row as read and checked; ``problem`` is why it is invalid (None: valid)."""

    row: int
    event: str = ""
    name: str = ""
    sex: str = ""
    birth_date: dt.date | None = None
    id_number: IdNumber | None = None
    address: str = ""
    event_date: dt.date | None = None
    note: str = ""
    other_name: str = ""
    other_id_number: IdNumber | None = None
    problem: PlategridError | None = None


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for form in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise InvalidInputError(
        _("%(value)s is not a date: write it as 2026-11-02."),
        code="bad_date",
        field=field,
        value=text or "—",
    )


def read_row(number: int, cells: list[Any], fields: dict[int, str]) -> RowValues:
    raw = {f: cells[i] if i < len(cells) else None for i, f in fields.items()}
    values = RowValues(row=number)
    values.name = " ".join(_text(raw.get("name")).split())[:50]
    values.address = _text(raw.get("address"))[:300]
    values.note = _text(raw.get("note"))[:200]
    try:
        _check_row(values, raw)
    except PlategridError as problem:
        values.problem = problem
    return values


def _check_row(values: RowValues, raw: dict[str, Any]) -> None:
    event = _text(raw.get("event"))
    values.event = str(EVENT_WORDS.get(event) or EVENT_WORDS.get(event.lower()) or "")
    if not values.event:
        raise InvalidInputError(
            _("Unknown event type %(value)s: use 婚姻登记, 出生登记, 户籍迁入 or 户籍迁出."),
            code="unknown_event",
            field="event",
            value=event or "—",
        )
    if not values.name:
        raise InvalidInputError(_("The name is empty."), code="name_missing", field="name")
    number = _text(raw.get("id_number"))
    if number:
        values.id_number = check_id_number(number)
    if _text(raw.get("birth_date")):
        values.birth_date = _date(raw.get("birth_date"), "birth_date")
    if values.id_number is not None:
        if values.birth_date and values.birth_date != values.id_number.birth_date:
            raise InvalidInputError(
                _("The birth date %(value)s does not match the identity number."),
                code="id_mismatch",
                field="birth_date",
                value=values.birth_date.isoformat(),
            )
        values.birth_date = values.id_number.birth_date
    if values.birth_date is None:
        raise InvalidInputError(
            _("The row gives neither an identity number nor a birth date."),
            code="birth_date_missing",
            field="birth_date",
        )
    if values.birth_date > timezone.localdate() or values.birth_date.year < 1880:
        raise InvalidInputError(
            _("The birth date %(value)s is not plausible."),
            code="bad_date",
            field="birth_date",
            value=values.birth_date.isoformat(),
        )
    sex = _text(raw.get("sex")).lower()
    if sex:
        values.sex = SEX_WORDS.get(sex, "")
        if not values.sex:
            raise InvalidInputError(
                _("Unknown sex %(value)s: write 男 or 女."), code="bad_sex", field="sex", value=sex
            )
    if values.id_number is not None:
        from_number = "m" if values.id_number.male else "f"
        if values.sex and values.sex != from_number:
            raise InvalidInputError(
                _("The sex given does not match the identity number."),
                code="id_mismatch",
                field="sex",
            )
        values.sex = from_number
    if not _text(raw.get("event_date")):
        raise InvalidInputError(
            _("The event date is empty."), code="event_date_missing", field="event_date"
        )
    values.event_date = _date(raw.get("event_date"), "event_date")
    if values.event_date > timezone.localdate() or values.event_date < values.birth_date:
        raise InvalidInputError(
            _("The event date %(value)s is in the future or before the birth date."),
            code="bad_date",
            field="event_date",
            value=values.event_date.isoformat(),
        )
    # The other person: the spouse of a marriage, a parent of a birth.
    other = "parent" if values.event == ExchangeEvent.BIRTH else "spouse"
    values.other_name = " ".join(_text(raw.get(f"{other}_name")).split())[:50]
    number = _text(raw.get(f"{other}_id_number"))
    if number:
        values.other_id_number = check_id_number(number, field=f"{other}_id_number")


# ---------------------------------------------------------------------------------------------
# Places: an address → the room (or building) of a stored door plate


@dataclass(frozen=True)
class Place:
    room: Room | None = None
    building: Building | None = None

    @property
    def community_code(self) -> str:
        building = self.room.building if self.room is not None else self.building
        return building.community.code if building is not None else ""

    @property
    def building_id(self) -> int | None:
        if self.room is not None:
            return self.room.building_id
        return self.building.pk if self.building is not None else None


NOWHERE = Place()


def find_place(address: str) -> Place:
    """The room (or at least the building) of the stored door plate an address names."""
    from gis.address import parse_address, search_key

    if not address.strip():
        return NOWHERE
    plates = DoorPlate.objects.select_related("room__building__community", "building__community")
    exact = list(plates.filter(search_key=search_key(address))[:2])
    if len(exact) == 1:
        return Place(exact[0].room, exact[0].building)
    parsed = parse_address(address)
    parts = parsed.parts
    if not parsed.ok or not (parts.road or parts.compound):
        return NOWHERE
    lookup = {
        "road": parts.road or "",
        "number": parts.number or "",
        "compound": parts.compound or "",
        "building_number": parts.building or "",
    }
    for level in ("district", "street_office", "community"):
        if getattr(parts, level):
            lookup[level] = getattr(parts, level)
    found = plates.filter(**lookup)
    if parts.room:
        rooms = list(found.filter(room__number=parts.room)[:2])
        if parts.entrance:
            rooms = [p for p in rooms if p.entrance_number in ("", parts.entrance)]
        if len(rooms) == 1:
            return Place(rooms[0].room, rooms[0].building)
    buildings = {p.building_id: p.building for p in found[:50]}
    if len(buildings) == 1:
        building = next(iter(buildings.values()))
        if parts.room:
            named = Room.objects.filter(building=building, number=parts.room)
            if parts.entrance:
                named = named.filter(entrance__number=parts.entrance)
            in_building = list(named.select_related("building__community")[:2])
            if len(in_building) == 1:
                return Place(in_building[0], building)
        return Place(None, building)
    return NOWHERE


# ---------------------------------------------------------------------------------------------
# Matching


def _name_key(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split()).lower()


def name_similarity(a: str, b: str) -> float:
    a, b = _name_key(a), _name_key(b)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b).ratio()


@dataclass
class Lived:
    """Where a resident lives now (their current occupancy), read once per resident."""

    room_id: int | None
    building_id: int | None
    household_id: int | None


def _lived(resident: Resident, cache: dict[int, Lived]) -> Lived:
    if resident.pk not in cache:
        current = (
            Occupancy.objects.current()
            .filter(resident=resident)
            .select_related("room")
            .order_by("-moved_in")
            .first()
        )
        cache[resident.pk] = (
            Lived(current.room_id, current.room.building_id, current.household_id)
            if current
            else Lived(None, None, None)
        )
    return cache[resident.pk]


def score(values: RowValues, resident: Resident, place: Place, lived: Lived) -> float:
    """The weighted score of a resident for a row without an identity-number match."""
    address = 0.0
    if place.room is not None and lived.room_id == place.room.pk:
        address = 1.0
    elif place.building_id is not None and lived.building_id == place.building_id:
        address = 0.5
    total = (
        WEIGHTS["name"] * name_similarity(values.name, resident.name)
        + WEIGHTS["birth_date"] * (1.0 if values.birth_date == resident.birth_date else 0.0)
        + WEIGHTS["address"] * address
    )
    return round(total, 3)


@dataclass
class Match:
    outcome: str
    community_code: str
    resident: Resident | None = None
    score: float | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    proposed: dict[str, Any] = field(default_factory=dict)
    reason: PlategridError | None = None


def _candidate(resident: Resident, value: float) -> dict[str, Any]:
    return {
        "id": resident.pk,
        "name": resident.name,
        "id_number_masked": resident.id_number_masked,
        "community_code": resident.community_code,
        "score": value,
    }


class Matcher:
    """Matches the rows of one file; caches places and residents' homes (run inside
    ``personal(system=True)``). ``scope``: the code prefixes of the uploader's territory (None:
    everywhere) — residents, households and places outside it are not looked at, as if the
    register had none (an upload is a search by number: it finds nobody out of the uploader's
    sight, and every row lands in the uploader's territory)."""

    def __init__(self, scope: list[str] | None = None) -> None:
        self.scope = scope
        self.places: dict[str, Place] = {}
        self.lived: dict[int, Lived] = {}
        self.known: dict[str, Resident | None] = {}  # identity-number hash → resident

    def sees(self, code: str) -> bool:
        return self.scope is None or any(code.startswith(p) for p in self.scope)

    def _in_scope(self) -> Q:
        if self.scope is None:
            return Q()
        condition = Q(pk__in=[])
        for prefix in self.scope:
            condition |= Q(community_code__startswith=prefix)
        return condition

    def preload(self, numbers: Iterable[IdNumber]) -> None:
        """Read the residents of many identity numbers at once (a file's, in chunks)."""
        hashes = list({crypto.search_hash(n.value, kind="id") for n in numbers} - set(self.known))
        for start in range(0, len(hashes), 5000):
            chunk = hashes[start : start + 5000]
            self.known |= dict.fromkeys(chunk)
            found = Resident.objects.filter(self._in_scope(), id_number_hash__in=chunk)
            for resident in found:
                self.known[str(resident.id_number_hash)] = resident

    def place(self, address: str) -> Place:
        if address not in self.places:
            place = find_place(address)
            self.places[address] = place if self.sees(place.community_code) else NOWHERE
        return self.places[address]

    def by_number(self, number: IdNumber | None) -> Resident | None:
        if number is None:
            return None
        hashed = crypto.search_hash(number.value, kind="id")
        if hashed not in self.known:
            self.known[hashed] = Resident.objects.filter(
                self._in_scope(), id_number_hash=hashed
            ).first()
        return self.known[hashed]

    def candidates(self, values: RowValues, place: Place) -> list[tuple[float, Resident]]:
        found = Resident.objects.filter(
            Q(birth_date=values.birth_date) | Q(name=values.name), self._in_scope()
        ).order_by("pk")
        if values.id_number is not None:
            found = found.filter(id_number_hash__isnull=True)  # another number: another person
        scored = [(score(values, r, place, _lived(r, self.lived)), r) for r in list(found[:200])]
        scored = [(s, r) for s, r in scored if s >= CANDIDATE_MIN]
        scored.sort(key=lambda pair: (-pair[0], pair[1].pk))
        return scored[:MAX_CANDIDATES]

    def match(self, values: RowValues, fallback_code: str) -> Match:
        place = self.place(values.address)
        exact = self.by_number(values.id_number)
        if exact is not None:
            proposed = propose(values, exact, place, _lived(exact, self.lived), self)
            outcome = ExchangeOutcome.UPDATED if proposed else ExchangeOutcome.MATCHED
            return Match(
                outcome,
                exact.community_code,
                exact,
                1.0,
                [_candidate(exact, 1.0)],
                proposed,
                _no_place(values) if _needs_place(values, place, proposed) else None,
            )
        scored = self.candidates(values, place)
        listed = [_candidate(r, s) for s, r in scored]
        above = [(s, r) for s, r in scored if s >= PROBABLE]
        if len(above) > 1:
            return Match(
                ExchangeOutcome.CONFLICT,
                above[0][1].community_code,
                None,
                above[0][0],
                listed,
                reason=_several(len(above)),
            )
        if above:
            value, resident = above[0]
            proposed = propose(values, resident, place, _lived(resident, self.lived), self)
            return Match(
                ExchangeOutcome.PROBABLE, resident.community_code, resident, value, listed, proposed
            )
        return self.unknown_person(values, place, listed, fallback_code)

    def unknown_person(
        self, values: RowValues, place: Place, listed: list[dict[str, Any]], fallback: str
    ) -> Match:
        """Nobody in the register is this row's person: a newborn or a newcomer to register,
        or a row that finds nothing."""
        code = place.community_code or fallback
        if values.event == ExchangeEvent.BIRTH:
            household = self.parents_household(values, place)
            if household is not None:
                return Match(
                    ExchangeOutcome.NEW,
                    household.community_code,
                    candidates=listed,
                    proposed={
                        "action": "register",
                        "room": household.room_id,
                        "household": household.pk,
                        "relation": Relation.CHILD,
                        "on": values.event_date.isoformat() if values.event_date else "",
                    },
                )
            if place.room is not None:
                return Match(
                    ExchangeOutcome.UNMATCHED,
                    code,
                    candidates=listed,
                    reason=InvalidInputError(
                        _(
                            "The parents' household is not found: no parent's identity number "
                            "of the register, and the room at %(value)s has no single household."
                        ),
                        code="household_not_found",
                        field="address",
                        value=values.address,
                    ),
                )
        if values.event == ExchangeEvent.MOVE_IN and place.room:
            return Match(
                ExchangeOutcome.NEW,
                place.community_code,
                candidates=listed,
                proposed={
                    "action": "register",
                    "room": place.room.pk,
                    "household": None,
                    "relation": Relation.HEAD,
                    "on": values.event_date.isoformat() if values.event_date else "",
                },
            )
        if values.event in (ExchangeEvent.BIRTH, ExchangeEvent.MOVE_IN):
            reason = _no_place(values)
        else:
            reason = InvalidInputError(
                _("Nobody in the register has this identity number, name and birth date."),
                code="no_resident",
            )
        return Match(ExchangeOutcome.UNMATCHED, code, candidates=listed, reason=reason)

    def parents_household(self, values: RowValues, place: Place) -> Household | None:
        parent = self.by_number(values.other_id_number)
        if parent is not None:
            lived = _lived(parent, self.lived)
            if lived.household_id is not None:
                household = Household.objects.get(pk=lived.household_id)
                if self.sees(household.community_code):
                    return household
        if place.room is not None:
            current = list(
                Household.objects.filter(room=place.room, dissolved_on__isnull=True).order_by("pk")[
                    :2
                ]
            )
            if len(current) == 1:
                return current[0]
        return None


def _several(count: int) -> InvalidInputError:
    return InvalidInputError(
        _("%(count)s residents match this row: pick one."), code="several_candidates", count=count
    )


def _needs_place(values: RowValues, place: Place, proposed: dict[str, Any]) -> bool:
    return values.event == ExchangeEvent.MOVE_IN and place.room is None and not proposed


def _no_place(values: RowValues) -> InvalidInputError:
    return InvalidInputError(
        _("The address %(value)s names no room of the register."),
        code="address_not_found",
        field="address",
        value=values.address or "—",
    )


def propose(
    values: RowValues, resident: Resident, place: Place, lived: Lived, matcher: Matcher
) -> dict[str, Any]:
    """The change the row implies for ``resident`` (``{}``: none)."""
    proposed: dict[str, Any] = {}
    on = values.event_date.isoformat() if values.event_date else ""
    changes: dict[str, Any] = {}
    if _name_key(values.name) != _name_key(resident.name):
        changes["name"] = values.name
    if values.id_number is not None and not resident.id_number_hash:
        changes["id_number"] = values.id_number.masked()  # the clear number stays encrypted
    if changes:
        proposed["changes"] = changes
    if values.event == ExchangeEvent.MOVE_OUT and lived.room_id is not None:
        proposed |= {"action": "move_out", "on": on}
    elif (
        values.event == ExchangeEvent.MOVE_IN
        and place.room is not None
        and lived.room_id != place.room.pk
    ):
        proposed |= {"action": "move", "room": place.room.pk, "on": on}
    elif values.event == ExchangeEvent.MARRIAGE and lived.household_id is not None:
        spouse = matcher.by_number(values.other_id_number)
        if spouse is not None and spouse.pk != resident.pk:
            spouse_lived = _lived(spouse, matcher.lived)
            if spouse_lived.household_id != lived.household_id:
                proposed |= {
                    "action": "join_household",
                    "spouse": spouse.pk,
                    "spouse_masked": spouse.id_number_masked,
                    "room": lived.room_id,
                    "household": lived.household_id,
                    "on": on,
                }
    return proposed


# ---------------------------------------------------------------------------------------------
# Submitting and running a file


def uploader_code(actor: Any) -> str:
    """The uploader's territory: the longest code prefix common to their write grants."""
    prefixes = territory_prefixes(actor, WRITE_ROLES) if actor is not None else None
    if not prefixes:
        return ""
    common = prefixes[0]
    for prefix in prefixes[1:]:
        while not prefix.startswith(common):
            common = common[:-1]
    # A code of the territory (community, street office, district), or "" (grants in several
    # districts: no territory holds them all).
    return next((common[:n] for n in (12, 9, 6) if len(common) >= n), "")


def _file_hash(data: bytes) -> str:
    return crypto.search_hash(hashlib.sha256(data).hexdigest(), kind="exchange-file")


def submit_exchange(*, actor: Any, data: bytes, name: str, queue: bool = True) -> ExchangeFile:
    """Check an exchange file, keep it encrypted with a new job, and queue the job (``queue=False``:
    the caller runs it). A bad file is refused whole and nothing is kept."""
    name = Path(name).name[:255] or "exchange"
    if actor is not None and not territory_prefixes(actor, WRITE_ROLES) and not actor.is_superuser:
        raise ScopeError(_("Your role may not submit exchange files."), code="permission_denied")
    code = uploader_code(actor)
    if actor is not None and not code and not actor.is_superuser:
        raise InvalidInputError(
            _(
                "Your grants lie in several districts, so the rows of your file that name no "
                "place would belong to no territory: ask a district administrator to upload it."
            ),
            code="several_districts",
            field="file",
        )
    table = read_table(data, name)
    hashed = _file_hash(data)
    earlier = (
        ExchangeFile.objects.filter(file_hash=hashed)
        .exclude(status=JobStatus.FAILED)
        .order_by("created_at")
        .first()
    )
    if earlier is not None:
        raise ConflictError(
            _(
                "%(file)s was already submitted on %(day)s (as %(earlier)s): the same file is "
                "not imported twice."
            ),
            code="duplicate_file",
            field="file",
            file=name,
            day=timezone.localtime(earlier.created_at).date().isoformat(),
            earlier=earlier.file_name,
        )
    job = ExchangeFile(
        file_name=name,
        file_size=len(data),
        file_hash=hashed,
        community_code=code,
        created_by=actor,
        progress_total=len(table.rows),
    )
    job.file.save(
        f"{job.pk}.bin", ContentFile(crypto.encrypt_bytes(data, context=FILE_CONTEXT)), save=False
    )
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:  # the same file submitted at the same moment by someone else
        job.file.delete(save=False)
        raise ConflictError(
            _("%(file)s is being submitted by someone else: the same file is not imported twice."),
            code="duplicate_file",
            field="file",
            file=name,
        ) from None
    if queue:
        transaction.on_commit(lambda: run_exchange_task.enqueue(str(job.pk)))
    return job


def read_file(job: ExchangeFile) -> bytes:
    with job.file.open("rb") as handle:
        return crypto.decrypt_bytes(handle.read(), context=FILE_CONTEXT)


def _row(job: ExchangeFile, values: RowValues, matched: Match | None) -> ExchangeRow:
    row = ExchangeRow(
        file=job,
        row=values.row,
        event=values.event,
        name=values.name,
        sex=values.sex,
        birth_date=values.birth_date,
        address=values.address,
        event_date=values.event_date,
        note=values.note,
        other_name=values.other_name,
    )
    for prefix, number, context in (
        ("", values.id_number, ROW_ID_CONTEXT),
        ("other_", values.other_id_number, OTHER_ID_CONTEXT),
    ):
        if number is not None:
            setattr(row, f"{prefix}id_number", crypto.encrypt(number.value, context=context))
            setattr(row, f"{prefix}id_number_hash", crypto.search_hash(number.value, kind="id"))
            setattr(row, f"{prefix}id_number_masked", number.masked())
    reason = values.problem
    if matched is None:
        row.outcome = ExchangeOutcome.INVALID
        row.community_code = job.community_code
    else:
        row.outcome = matched.outcome
        row.community_code = matched.community_code or job.community_code
        row.resident = matched.resident
        row.score = matched.score
        row.candidates = matched.candidates
        row.proposed = matched.proposed
        row.room_id = matched.proposed.get("room") or None
        reason = matched.reason
    if reason is not None:
        row.reason_code = reason.code[:50]
        row.reason_zh = reason.render("zh-hans")
        row.reason_en = reason.render("en")
    return row


def import_rows(
    job: ExchangeFile, table: Table, progress: Callable[[int, int], None] | None = None
) -> list[ExchangeRow]:
    """Read and match every row of ``table`` for ``job`` (inside ``personal(system=True)``)."""
    # The uploader's sight (a system job's, or a deleted uploader's: everywhere).
    matcher = Matcher(territory_prefixes(job.created_by) if job.created_by else None)
    rows: list[ExchangeRow] = []
    total = len(table.rows)
    read = [read_row(number, cells, table.fields) for number, cells in table.rows]
    matcher.preload(
        n for v in read if not v.problem for n in (v.id_number, v.other_id_number) if n is not None
    )
    for done, values in enumerate(read, start=1):
        matched = None if values.problem else matcher.match(values, job.community_code)
        rows.append(_row(job, values, matched))
        if progress is not None and (done % 200 == 0 or done == total):
            progress(done, total)
    return rows


def run_exchange(file_id: str, *, progress: Callable[[int, int], None] | None = None) -> Any:
    """Run a queued exchange job (the worker calls this); a job not queued is left alone."""
    claimed = claim_job(ExchangeFile, file_id)
    job = ExchangeFile.objects.select_related("created_by").get(pk=file_id)
    if not claimed:
        return job
    writer = ProgressWriter(ExchangeFile, job.pk, also=progress)
    try:
        table = read_table(read_file(job), job.file_name)
        with personal(system=True):
            rows = import_rows(job, table, writer)
            ExchangeRow.objects.bulk_create(rows, batch_size=1000)
            job.rows_read = len(rows)
            succeed_job(job, steps=len(rows))
            # Logged in the same transaction: a log that fails takes the rows and the success
            # with it (a failed job may be submitted again: its rows must not stay).
            searched = sum(1 for row in rows if row.id_number_hash or row.other_id_number_hash)
            log_access(
                job.created_by,
                Access.SEARCH,
                f"exchange file {job.file_name}: identity numbers matched to the register",
                reason=f"部门数据交换 department exchange {job.pk}",
                rows=searched,
                community_code=job.community_code,
            )
    except Exception as error:
        fail_job_for(
            job,
            error,
            zh="交换文件处理出错，未保存任何行：",
            en="The exchange file failed and no row was kept: ",
        )
    finally:
        writer.close()
    return job


@task()
def run_exchange_task(file_id: str) -> str:
    return str(run_exchange(file_id).status)


# ---------------------------------------------------------------------------------------------
# Reading the report


def visible_files(user: Any) -> Any:
    """The exchange files a user may open: their own uploads, files of their territory's
    uploaders, and files with a row in their territory (call inside ``personal(user)``)."""
    prefixes = territory_prefixes(user)
    files = ExchangeFile.objects.select_related("created_by")
    if prefixes is None:
        return files
    condition = Q(created_by=user) if getattr(user, "pk", None) else Q(pk__in=[])
    for prefix in prefixes:
        condition |= Q(community_code__startswith=prefix) & ~Q(community_code="")
    with_rows = ExchangeRow.objects.visible_to(user).values("file_id")
    return files.filter(condition | Q(pk__in=with_rows))


def counts(job: ExchangeFile, user: Any) -> dict[str, int]:
    """Rows of ``job`` the user sees, by outcome (every outcome present, zeros included), and
    how many are still undecided (call inside ``personal(user)``)."""
    rows = ExchangeRow.objects.visible_to(user).filter(file=job)
    result = dict.fromkeys(ExchangeOutcome.values, 0)
    for outcome, in_outcome in _grouped(rows):
        result[outcome] = in_outcome
    result["total"] = sum(result[o] for o in ExchangeOutcome.values)
    result["undecided"] = rows.filter(decision="").count()
    return result


def _grouped(rows: Any) -> list[tuple[str, int]]:
    from django.db.models import Count

    return list(rows.values_list("outcome").annotate(n=Count("pk")).values_list("outcome", "n"))


def in_scope(user: Any, code: str) -> bool:
    prefixes = territory_prefixes(user)
    return prefixes is None or any(code.startswith(p) for p in prefixes)


def row_body(row: ExchangeRow, user: Any) -> dict[str, Any]:
    """One row of the report as the API and the page show it (call inside ``personal(user)``):
    masked numbers only; nothing of a candidate, spouse, household or room outside the user's
    territory, not even that there is one."""
    candidates = [c for c in row.candidates if in_scope(user, c["community_code"])]
    reason_zh, reason_en = row.reason_zh, row.reason_en
    if row.reason_code == "several_candidates" and len(candidates) < len(row.candidates):
        # The stored reason counts every candidate: say only how many the user sees.
        reason = _several(sum(1 for c in candidates if c["score"] >= PROBABLE))
        reason_zh, reason_en = reason.render("zh-hans"), reason.render("en")
    return {
        "id": row.pk,
        "row": row.row,
        "event": row.event,
        "event_label": str(row.get_event_display()) if row.event else "",
        "outcome": row.outcome,
        "outcome_label": str(row.get_outcome_display()),
        "reason_code": row.reason_code,
        "reason_zh": reason_zh,
        "reason_en": reason_en,
        "name": row.name,
        "sex": row.sex,
        "birth_date": row.birth_date.isoformat() if row.birth_date else None,
        "id_number_masked": row.id_number_masked,
        "address": row.address,
        "event_date": row.event_date.isoformat() if row.event_date else None,
        "note": row.note,
        "other_name": row.other_name,
        "other_id_number_masked": row.other_id_number_masked,
        "community_code": row.community_code,
        "resident": row.resident_id if in_scope(user, row.community_code) else None,
        "score": row.score,
        "candidates": candidates,
        "proposed": visible_proposal(row.proposed, user),
        "decision": row.decision,
        "decision_label": str(row.get_decision_display()) if row.decision else "",
        "decision_note": row.decision_note,
        "decided_by": row.decided_by.username if row.decided_by else None,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "actions": actions(row, user),
    }


def visible_proposal(proposed: dict[str, Any], user: Any) -> dict[str, Any]:
    """``proposed`` without the people, households and rooms outside the user's territory
    (call inside ``personal(user)``): a spouse out of sight takes the whole joining with it."""
    shown = dict(proposed)
    if territory_prefixes(user) is None:
        return shown
    spouse = shown.get("spouse")
    if spouse is not None and not Resident.objects.visible_to(user).filter(pk=spouse).exists():
        for key in ("action", "spouse", "spouse_masked", "room", "household", "on"):
            shown.pop(key, None)
    room = shown.get("room")
    if room is not None and not Room.objects.visible_to(user).filter(pk=room).exists():
        del shown["room"]
    household = shown.get("household")
    if household is not None:
        if not Household.objects.visible_to(user).filter(pk=household).exists():
            del shown["household"]
    return shown


def actions(row: ExchangeRow, user: Any = None) -> list[str]:
    """What ``user`` may decide on an undecided row (call inside ``personal(user)``): no
    "accept" of a change naming someone or something outside their territory (they do not see
    it; accepting would answer that it is not found)."""
    if row.decision:
        return []
    allowed = []
    if (
        row.resident_id is not None
        and row.outcome
        in (ExchangeOutcome.MATCHED, ExchangeOutcome.UPDATED, ExchangeOutcome.PROBABLE)
        and (user is None or visible_proposal(row.proposed, user) == row.proposed)
    ):
        allowed.append("accept")
    if row.outcome == ExchangeOutcome.NEW and row.proposed.get("action") == "register":
        allowed.append("register")
    if row.candidates and row.outcome != ExchangeOutcome.INVALID:
        allowed.append("pick")
    allowed.append("reject")
    return allowed


# ---------------------------------------------------------------------------------------------
# Decisions


ACTIONS = ("accept", "register", "pick", "reject")


def _refuse(action: str) -> InvalidInputError:
    return InvalidInputError(
        _("%(value)s is not a decision this row allows."),
        code="decision_not_allowed",
        field="action",
        value=action,
    )


def decide(
    actor: Any, row_id: int, *, action: str, candidate: Any = None, note: str = ""
) -> ExchangeRow:
    """Decide one row, once: apply its change through ``registry.services`` (as ``actor``, in
    their scope) and record who decided and when. Out of scope: not found; decided before:
    refused (nothing changes)."""
    if action not in ACTIONS:
        raise _refuse(action)
    # Control characters out (PostgreSQL cannot store a NUL), whitespace runs as one space.
    note = " ".join("".join(c if c.isprintable() else " " for c in note or "").split())[:200]
    if action == "reject" and len(note) < 4:
        raise InvalidInputError(
            _("Say why the row is rejected (a note of at least four characters)."),
            code="note_required",
            field="note",
        )
    if not 0 < int(row_id) < 2**63:  # a path id beyond bigint: no such row
        raise NotFoundError(_("No such exchange row in your territory."), code="not_found")
    with personal(actor):
        row = ExchangeRow.objects.visible_to(actor).select_for_update().filter(pk=row_id).first()
        if row is None:
            raise NotFoundError(_("No such exchange row in your territory."), code="not_found")
        require_write(actor, row.community_code)
        if row.decision:
            raise ConflictError(
                _("Row %(row)s was already decided (%(decision)s): a row is decided once."),
                code="already_decided",
                row=row.row,
                decision=row.get_decision_display(),
            )
        if action not in actions(row, actor):
            raise _refuse(action)
        decision, resident = _apply(actor, row, action, candidate)
        row.decision = decision
        row.decision_note = note
        row.decided_by = actor
        row.decided_at = timezone.now()
        if resident is not None:
            row.resident = resident
        row.save(
            update_fields=["decision", "decision_note", "decided_by", "decided_at", "resident"]
        )
    return row


def _resident(actor: Any, pk: Any) -> Resident:
    resident = Resident.objects.visible_to(actor).filter(pk=pk).first()
    if resident is None:
        raise NotFoundError(_("No such resident in your territory."), code="not_found")
    return resident


def _apply(
    actor: Any, row: ExchangeRow, action: str, candidate: Any
) -> tuple[str, Resident | None]:
    if action == "reject":
        return ExchangeDecision.REJECTED, None
    if action == "register":
        return ExchangeDecision.REGISTERED, _register(actor, row)
    if action == "pick":
        ids = {str(c.get("id")) for c in row.candidates if "id" in c}
        if str(candidate) not in ids:
            raise InvalidInputError(
                _("Pick one of the row's candidates."), code="not_a_candidate", field="candidate"
            )
        resident = _resident(actor, candidate)
        proposed = _proposal_for(row, resident, actor)
        _apply_proposed(actor, row, resident, proposed)
        return ExchangeDecision.PICKED, resident
    resident = _resident(actor, row.resident_id)
    _apply_proposed(actor, row, resident, row.proposed)
    return ExchangeDecision.ACCEPTED, resident


def _values_of(row: ExchangeRow) -> RowValues:
    """The row's values again, for proposing a change for a picked candidate."""
    values = RowValues(
        row=row.row,
        event=row.event,
        name=row.name,
        sex=row.sex,
        birth_date=row.birth_date,
        address=row.address,
        event_date=row.event_date,
    )
    if row.id_number:
        values.id_number = check_id_number(crypto.decrypt(row.id_number, context=ROW_ID_CONTEXT))
    if row.other_id_number:
        values.other_id_number = check_id_number(
            crypto.decrypt(row.other_id_number, context=OTHER_ID_CONTEXT)
        )
    return values


def _proposal_for(row: ExchangeRow, resident: Resident, actor: Any) -> dict[str, Any]:
    matcher = Matcher(territory_prefixes(actor))
    with personal(system=True):
        place = matcher.place(row.address)
        return propose(_values_of(row), resident, place, _lived(resident, matcher.lived), matcher)


def _day(text: str, row: ExchangeRow) -> dt.date:
    if text:
        return dt.date.fromisoformat(text)
    return row.event_date or timezone.localdate()


def _apply_proposed(
    actor: Any, row: ExchangeRow, resident: Resident, proposed: dict[str, Any]
) -> None:
    changes = dict(proposed.get("changes") or {})
    if "id_number" in changes:
        changes["id_number"] = crypto.decrypt(row.id_number, context=ROW_ID_CONTEXT)
    if changes:
        update_resident(actor, resident, changes)
    action = proposed.get("action")
    if action == "move_out":
        move_out(actor, resident, on=_day(proposed.get("on", ""), row))
    elif action == "move":
        room = Room.objects.visible_to(actor).filter(pk=proposed["room"]).first()
        if room is None:
            raise NotFoundError(_("No such room in your territory."), code="not_found")
        move(actor, resident, room=room, on=_day(proposed.get("on", ""), row))
    elif action == "join_household":
        spouse = _resident(actor, proposed["spouse"])
        household = Household.objects.visible_to(actor).filter(pk=proposed["household"]).first()
        if household is None:
            raise NotFoundError(_("No such household in your territory."), code="not_found")
        move(
            actor,
            spouse,
            room=household.room,
            household=household,
            relation=Relation.SPOUSE,
            on=_day(proposed.get("on", ""), row),
        )


def _register(actor: Any, row: ExchangeRow) -> Resident:
    proposed = row.proposed
    room = Room.objects.visible_to(actor).filter(pk=proposed.get("room")).first()
    if room is None:
        raise NotFoundError(_("No such room in your territory."), code="not_found")
    household = None
    if proposed.get("household"):
        household = Household.objects.visible_to(actor).filter(pk=proposed["household"]).first()
        if household is None:
            raise NotFoundError(_("No such household in your territory."), code="not_found")
    data = PersonData(
        name=row.name,
        category=Category.COMMUNITY,
        id_number=crypto.decrypt(row.id_number, context=ROW_ID_CONTEXT) if row.id_number else "",
        birth_date=row.birth_date,
        sex=row.sex,
        arrival_date=row.event_date if row.event == ExchangeEvent.MOVE_IN else None,
    )
    return register_resident(
        actor,
        data,
        room=room,
        moved_in=_day(proposed.get("on", ""), row),
        relation=proposed.get("relation") or Relation.HEAD,
        household=household,
    )


# ---------------------------------------------------------------------------------------------
# Retention: the uploaded files go after ``files_days``; the rows of a file after
# ``resident_days`` (they hold personal data of people the register may no longer hold).


def purge_files(today: dt.date, rules: dict[str, Any]) -> dict[str, int]:
    files_before = today - timedelta(days=int(rules.get("files_days", 90)))
    rows_before = today - timedelta(days=int(rules.get("resident_days", 3 * 365)))
    removed = 0
    for job in ExchangeFile.objects.filter(
        created_at__date__lt=files_before, purged_at__isnull=True
    ).exclude(file=""):
        job.file.delete(save=False)
        job.purged_at = timezone.now()
        job.save(update_fields=["file", "purged_at"])
        removed += 1
    with personal(system=True):
        deleted, _by_model = ExchangeRow.objects.filter(
            file__created_at__date__lt=rows_before
        ).delete()
    return {"exchange_files": removed, "exchange_rows": deleted}


register_purger(purge_files)


# ---------------------------------------------------------------------------------------------
# Key rotation: the rows' identity numbers and the stored files are ciphertexts of the keyring.

_ROW_COLUMNS = (("id_number", ROW_ID_CONTEXT), ("other_id_number", OTHER_ID_CONTEXT))


def reencrypt_ciphertexts(current: str, batch: int = 2000) -> dict[str, int]:
    """Encrypt again under the key ``current`` every row number and stored file made under
    another (``registry_keys rotate``; every community: the administrator role)."""
    counts = {"exchange_id_numbers": 0, "exchange_files": 0}
    for column, context in _ROW_COLUMNS:
        while True:
            with personal(system=True, role=ADMINISTRATOR):
                rows = list(
                    ExchangeRow.objects.exclude(**{column: ""})
                    .exclude(**{f"{column}__startswith": current + "$"})
                    .values_list("pk", column)[:batch]
                )
                for pk, token in rows:
                    value = crypto.decrypt(token, context=context)
                    ExchangeRow.objects.filter(pk=pk).update(
                        **{column: crypto.encrypt(value, context=context)}
                    )
            counts["exchange_id_numbers"] += len(rows)
            if len(rows) < batch:
                break
    for job in ExchangeFile.objects.exclude(file="").order_by("created_at"):
        with job.file.open("rb") as handle:
            token = handle.read()
        if token.startswith(current.encode() + b"$"):
            continue
        data = crypto.decrypt_bytes(token, context=FILE_CONTEXT)
        with job.file.storage.open(str(job.file.name), "wb") as handle:
            handle.write(crypto.encrypt_bytes(data, context=FILE_CONTEXT))
        counts["exchange_files"] += 1
    return counts


def ciphertexts_per_key() -> dict[str, int]:
    """The exchange's ciphertexts (row numbers and stored files) per key id."""
    counts: dict[str, int] = {}
    with personal(system=True, role=ADMINISTRATOR):
        for column, _context in _ROW_COLUMNS:
            tokens = ExchangeRow.objects.exclude(**{column: ""}).values_list(column, flat=True)
            for token in tokens.iterator():
                key = crypto.key_of(token)
                counts[key] = counts.get(key, 0) + 1
    for job in ExchangeFile.objects.exclude(file=""):
        with job.file.open("rb") as handle:
            key = handle.read(64).partition(b"$")[0].decode("ascii", "replace")
        counts[key] = counts.get(key, 0) + 1
    return counts


register_ciphertexts(reencrypt_ciphertexts, ciphertexts_per_key)

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "PROBABLE",
    "WEIGHTS",
    "decide",
    "find_place",
    "read_table",
    "run_exchange",
    "submit_exchange",
]
