"""The rows of the two registers and the person card (二表一卡), and the register's aggregates
read by the coverage dashboard and gap lists.

* the floating-population register (流动人口登记表): the floating residents living in a building
  or a territory node on a day, one row each (:func:`floating_register`);
* the supplies distribution register (物资发放登记表): what the households there received in a
  period (:func:`supplies_register`);
* the person card (人员信息卡): one card per resident, with the household's members and the
  follow-ups (:func:`person_cards`).

Every read runs inside :func:`registry.privacy.personal` for the user and through
``visible_to(user)``; identity numbers and phones are the masked forms unless the caller asks for
``reveal`` (the API checks the permission and logs). The documents are Chinese forms: their
titles, headers and the labels of codes are Chinese here, whatever the request's language.

For the coverage gap list of rented rooms with nobody registered (``layers`` reads
``registry``): :func:`unoccupied_rented_rooms` gives counts only, read through
:class:`PersonalRows`; no personal row leaves them. (The dashboard's landlord contract rate is
``registry.contracts.contract_rate``.)
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, overload

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.exceptions import InvalidInputError, NotFoundError
from gis.models import RENTED_USES, Building, Community, District, DoorPlate, Room, StreetOffice
from gis.querysets import territory_prefixes

from .models import (
    Category,
    FollowUp,
    Occupancy,
    Relation,
    Resident,
    SupplyDistribution,
)
from .privacy import personal
from .querysets import in_node
from .services import reveal_fields

SEX_ZH: dict[str, str] = {"m": "男", "f": "女"}
CATEGORY_ZH: dict[str, str] = {
    Category.COMMUNITY: "社区居民",
    Category.EMPLOYER: "单位职工",
    Category.FLOATING: "流入人口",
    Category.OUTFLOWING: "流出人口",
}
OUTCOME_ZH: dict[str, str] = {
    "seen": "已见面核实",
    "changed": "已见面，信息有变",
    "moved_away": "已搬离",
    "not_found": "未找到",
}
RELATION_ZH: dict[str, str] = {
    Relation.HEAD: "户主",
    Relation.SPOUSE: "配偶",
    Relation.CHILD: "子女",
    Relation.PARENT: "父母",
    Relation.TENANT: "租户",
    Relation.OTHER: "其他",
}
#: Follow-ups shown on a card at most (the latest first).
CARD_FOLLOW_UPS = 3
#: Rows of one register and cards of one file at most: a larger one (a whole district) is
#: refused, naming what to narrow, rather than built in memory for minutes.
MAX_ROWS = 50_000
MAX_CARDS = 10_000


def check_size(count: int, limit: int) -> None:
    if count > limit:
        raise InvalidInputError(
            _(
                "The export would hold %(count)s rows, more than %(max)s: choose a street "
                "office, a community or a building."
            ),
            code="too_many_rows",
            field="code",
            count=count,
            max=limit,
        )


# ---------------------------------------------------------------------------------------------
# What a register covers: a building, or a territory node (district, street office, community)


@dataclass(frozen=True)
class Target:
    """A building (``building_id``) or a territory node (``code``) in the user's territory;
    ``prefixes`` are the community-code prefixes the user reads in it (a node above the
    user's territory gives the user's part of it)."""

    code: str
    label: str
    prefixes: tuple[str, ...]
    building_id: int | None = None

    @property
    def community_code(self) -> str:
        """The node the export covers, for the access log (a street office's or a district's
        code above a community: its auditors, and those of the communities in it, see it)."""
        return self.code

    @property
    def slug(self) -> str:
        return f"building-{self.building_id}" if self.building_id else self.code

    def condition(self, code_path: str, building_path: str) -> Q:
        """Rows of the target: by their building, or by their community code."""
        if self.building_id is not None:
            return Q(**{building_path: self.building_id})
        condition = Q()
        for prefix in self.prefixes:  # equalities or ranges: the index serves under RLS
            condition |= in_node(prefix, code_path)
        return condition


def _not_found(value: str) -> NotFoundError:
    return NotFoundError(_("No territory %(value)s in your scope."), value=value[:30])


def resolve_target(user: Any, code: str) -> Target:
    """``building=<id>`` (a building the user sees) or a district, street office or community
    code; a bad code is an InvalidInputError, a node or building out of the user's sight a
    NotFoundError (404)."""
    text = (code or "").strip()
    if text.startswith("building="):
        number = text.removeprefix("building=")
        if not (number.isascii() and number.isdigit()) or len(number) > 18:
            raise InvalidInputError(
                _("code is building=<id> or a district, street office or community code."),
                code="bad_code",
                field="code",
            )
        building = (
            Building.objects.visible_to(user)
            .filter(pk=int(number))
            .select_related("community")
            .annotate(address=DoorPlate.objects.building_address(OuterRef("pk")))
            .first()
        )
        if building is None:
            raise NotFoundError(_("No such building in your territory."), code="not_found")
        label = f"{building.community.name} {getattr(building, 'address', None) or building}"
        community = building.community.code
        return Target(community, label, (community,), building.pk)
    if not (text.isascii() and text.isdigit()) or len(text) not in (6, 9, 12):
        raise InvalidInputError(
            _("code is building=<id> or a district, street office or community code."),
            code="bad_code",
            field="code",
        )
    model: Any = {6: District, 9: StreetOffice, 12: Community}[len(text)]
    name = model.objects.filter(code=text).values_list("name", flat=True).first()
    if name is None:
        raise _not_found(text)
    prefixes = territory_prefixes(user)
    if prefixes is None or any(text.startswith(p) for p in prefixes):
        return Target(text, str(name), (text,))
    below = tuple(p for p in prefixes if p.startswith(text))
    if not below:
        raise _not_found(text)
    return Target(text, str(name), below)


# ---------------------------------------------------------------------------------------------
# A register: title, columns, rows


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    #: Width in characters (XLSX) and in mm (PDF, A4 landscape: 277 mm in all).
    xlsx: float
    mm: float
    align: str = "L"


@dataclass
class Register:
    """A register ready to be written: its title, the target and day or period line, columns,
    rows (values: text, dates, numbers) and the residents' ids in it (for the log)."""

    kind: str
    title: str
    target: Target
    period: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    revealed: bool = False

    @property
    def subtitle(self) -> str:
        return f"{self.target.label}（{self.target.slug}）  {self.period}"


FLOATING_COLUMNS = [
    Column("number", "序号", 6, 9, "R"),
    Column("name", "姓名", 10, 16),
    Column("sex", "性别", 5, 8, "C"),
    Column("birth_date", "出生日期", 11, 18),
    Column("id_number", "身份证号", 21, 33),
    Column("home_registration", "户籍地", 18, 25),
    Column("address", "现住址", 34, 47),
    Column("employer", "工作单位", 18, 25),
    Column("arrival_date", "来本地日期", 11, 18),
    Column("phone", "联系电话", 14, 21),
    Column("registered_on", "登记日期", 11, 18),
    Column("last_follow_up", "最近走访", 20, 39),
]

SUPPLY_COLUMNS = [
    Column("number", "序号", 6, 10, "R"),
    Column("head", "户主", 10, 18),
    Column("address", "地址", 36, 70),
    Column("item", "物品", 18, 35),
    Column("quantity", "数量", 8, 15, "R"),
    Column("unit", "单位", 6, 12, "C"),
    Column("given_on", "发放日期", 11, 20),
    Column("received_by", "领取人", 10, 18),
    Column("given_by", "经办人", 12, 20),
    Column("note", "备注", 18, 59),
]


def _address(plate: str | None, building_address: str | None, room: Room) -> str:
    """A room's address: its own door plate, else the building's plate (or name) and the
    room's number."""
    if plate:
        return plate
    building = building_address or room.building.name or f"#{room.building_id}"
    return f"{building} {room.number}"


def _last_follow_up(resident: str = "resident") -> dict[str, Subquery]:
    latest = FollowUp.objects.filter(resident=OuterRef(resident)).order_by("-done_on", "-id")
    return {
        "last_follow_up_on": Subquery(latest.values("done_on")[:1]),
        "last_follow_up_outcome": Subquery(latest.values("outcome")[:1]),
    }


def _follow_up_text(day: datetime.date | None, outcome: str | None) -> str:
    if day is None:
        return ""
    return f"{day.isoformat()} {OUTCOME_ZH.get(outcome or '', outcome or '')}".strip()


def _clear(resident: Resident, reveal: bool) -> tuple[str, str]:
    """The identity number and phone to write: masked, or in clear when revealing."""
    if not reveal:
        return resident.id_number_masked, resident.phone_masked
    clear = reveal_fields(resident)
    return clear["id_number"], clear["phone"]


def floating_occupancies(user: Any, target: Target, day: datetime.date) -> QuerySet[Occupancy]:
    """The occupancies under way on ``day`` of floating residents in the target (lazy: evaluate
    inside ``personal(user)``)."""
    return (
        Occupancy.objects.visible_to(user)
        .as_of(day)
        .filter(target.condition("community_code", "room__building_id"))
        .filter(resident__category=Category.FLOATING)
        .select_related("resident", "room__building", "room__door_plate")
        .annotate(
            building_address=DoorPlate.objects.building_address(OuterRef("room__building_id")),
            **_last_follow_up(),
        )
        .order_by(
            "community_code", "room__building_id", "-room__floor", "room__number", "moved_in", "id"
        )
    )


def floating_register(
    user: Any, target: Target, day: datetime.date, *, reveal: bool = False
) -> Register:
    """流动人口登记表: one row per floating resident living in the target on ``day``."""
    register = Register(
        "floating",
        "流动人口登记表",
        target,
        f"登记截至 {day.isoformat()}",
        FLOATING_COLUMNS,
        revealed=reveal,
    )
    with personal(user):
        occupancies = floating_occupancies(user, target, day)
        check_size(occupancies.count(), MAX_ROWS)
        for number, occupancy in enumerate(occupancies.iterator(chunk_size=2000), start=1):
            person = occupancy.resident
            id_number, phone = _clear(person, reveal)
            plate = getattr(getattr(occupancy.room, "door_plate", None), "address", None)
            register.rows.append(
                [
                    number,
                    person.name,
                    SEX_ZH.get(person.sex, person.sex),
                    person.birth_date,
                    id_number,
                    person.home_registration,
                    _address(plate, getattr(occupancy, "building_address", None), occupancy.room),
                    person.employer,
                    person.arrival_date,
                    phone,
                    timezone.localtime(person.created_at).date(),
                    _follow_up_text(
                        getattr(occupancy, "last_follow_up_on", None),
                        getattr(occupancy, "last_follow_up_outcome", None),
                    ),
                ]
            )
    return register


def _quantity(value: Decimal) -> Decimal | int:
    return int(value) if value == value.to_integral_value() else value.normalize()


def supplies_register(
    user: Any, target: Target, since: datetime.date, until: datetime.date
) -> Register:
    """物资发放登记表: what the households of the target received from ``since`` to ``until``
    (both included), in the order given."""
    head = Occupancy.objects.filter(household=OuterRef("household"), relation=Relation.HEAD)
    register = Register(
        "supplies",
        "物资发放登记表",
        target,
        f"发放日期 {since.isoformat()} 至 {until.isoformat()}",
        SUPPLY_COLUMNS,
    )
    with personal(user):
        lines = (
            SupplyDistribution.objects.visible_to(user)
            .filter(target.condition("community_code", "household__room__building_id"))
            .filter(given_on__gte=since, given_on__lte=until)
            .select_related(
                "household__room__building",
                "household__room__door_plate",
                "received_by",
                "given_by",
            )
            .annotate(
                head_name=Subquery(head.order_by("-moved_in", "-id").values("resident__name")[:1]),
                building_address=DoorPlate.objects.building_address(
                    OuterRef("household__room__building_id")
                ),
            )
            .order_by("given_on", "community_code", "household_id", "id")
        )
        check_size(lines.count(), MAX_ROWS)
        for number, line in enumerate(lines.iterator(chunk_size=2000), start=1):
            room = line.household.room
            plate = getattr(getattr(room, "door_plate", None), "address", None)
            giver = line.given_by
            register.rows.append(
                [
                    number,
                    getattr(line, "head_name", None) or "",
                    _address(plate, getattr(line, "building_address", None), room),
                    line.item,
                    _quantity(line.quantity),
                    line.unit,
                    line.given_on,
                    line.received_by.name if line.received_by else "",
                    (giver.get_full_name() or giver.get_username()) if giver else "",
                    line.note,
                ]
            )
    return register


# ---------------------------------------------------------------------------------------------
# The person card


@dataclass
class Card:
    """What one card shows (identity number and phone masked unless revealed)."""

    resident_id: int
    community_code: str
    name: str
    sex: str
    birth_date: datetime.date
    id_number: str
    home_registration: str
    phone: str
    address: str
    category: str
    employer: str
    arrival_date: datetime.date | None
    members: list[tuple[str, str]] = field(default_factory=list)  # (name, relation)
    schedule: str = ""
    follow_ups: list[tuple[datetime.date, str]] = field(default_factory=list)


def schedule_text(name: str, months: Sequence[int]) -> str:
    """``每年1、4、7、10月（季度走访）``."""
    when = "、".join(str(m) for m in sorted(months))
    return f"每年{when}月（{name}）" if name else f"每年{when}月"


def person_cards(
    user: Any,
    day: datetime.date,
    *,
    target: Target | None = None,
    resident_id: int | None = None,
    reveal: bool = False,
) -> list[Card]:
    """The cards of the residents living in ``target`` on ``day`` (in the order of the floating
    register: community, building, floor, room), or the one card of ``resident_id`` (a resident
    out of the user's sight is a NotFoundError)."""
    with personal(user):
        occupancies = (
            Occupancy.objects.visible_to(user)
            .as_of(day)
            .select_related("room__building", "room__door_plate")
            .annotate(
                building_address=DoorPlate.objects.building_address(OuterRef("room__building_id"))
            )
        )
        if resident_id is not None:
            person = (
                Resident.objects.visible_to(user)
                .filter(pk=resident_id)
                .select_related("schedule")
                .first()
            )
            if person is None:
                raise NotFoundError(_("No such resident in your territory."), code="not_found")
            residents = [person]
            living = list(occupancies.filter(resident_id=resident_id)[:1])
        elif target is not None:
            there = occupancies.filter(target.condition("community_code", "room__building_id"))
            check_size(there.count(), MAX_CARDS)
            living = list(
                there.select_related("resident__schedule").order_by(
                    "community_code",
                    "room__building_id",
                    "-room__floor",
                    "room__number",
                    "household_id",
                    "moved_in",
                    "id",
                )
            )
            residents = [o.resident for o in living]
        else:
            raise InvalidInputError(
                _("Give code or resident."), code="target_required", field="code"
            )
        where = {o.resident_id: o for o in living}
        households = {o.household_id for o in living}
        members: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        for household, member_id, name, relation in (
            Occupancy.objects.visible_to(user)
            .as_of(day)
            .filter(household_id__in=households)
            .order_by("household_id", "moved_in", "id")
            .values_list("household_id", "resident_id", "resident__name", "relation")
        ):
            members[household].append((member_id, name, RELATION_ZH.get(relation, relation)))
        follow_ups: dict[int, list[tuple[datetime.date, str]]] = defaultdict(list)
        ids = [r.pk for r in residents]
        for person_id, done_on, outcome in (
            FollowUp.objects.visible_to(user)
            .filter(resident_id__in=ids)
            .order_by("resident_id", "-done_on", "-id")
            .values_list("resident_id", "done_on", "outcome")
        ):
            if len(follow_ups[person_id]) < CARD_FOLLOW_UPS:
                follow_ups[person_id].append((done_on, OUTCOME_ZH.get(outcome, outcome)))
        cards = []
        for person in residents:
            occupancy = where.get(person.pk)
            address = ""
            if occupancy is not None:
                plate = getattr(getattr(occupancy.room, "door_plate", None), "address", None)
                address = _address(
                    plate, getattr(occupancy, "building_address", None), occupancy.room
                )
            id_number, phone = _clear(person, reveal)
            schedule = person.schedule
            cards.append(
                Card(
                    resident_id=person.pk,
                    community_code=person.community_code,
                    name=person.name,
                    sex=SEX_ZH.get(person.sex, person.sex),
                    birth_date=person.birth_date,
                    id_number=id_number,
                    home_registration=person.home_registration,
                    phone=phone,
                    address=address,
                    category=CATEGORY_ZH.get(person.category, person.category),
                    employer=person.employer,
                    arrival_date=person.arrival_date,
                    members=[
                        (name, relation)
                        for member_id, name, relation in (
                            members[occupancy.household_id] if occupancy else []
                        )
                        if member_id != person.pk
                    ],
                    schedule=schedule_text(schedule.name, schedule.months) if schedule else "",
                    follow_ups=follow_ups[person.pk],
                )
            )
    return cards


# ---------------------------------------------------------------------------------------------
# Aggregates for the coverage layers: counts only


def unoccupied_rented_rooms(building: Any) -> Coalesce:
    """For ``annotate``: the rented rooms (whole or shared) of ``building`` (an ``OuterRef`` to a
    building id) with no current occupancy — rooms let with nobody registered in them. A count;
    evaluate inside ``personal(user)`` (:class:`PersonalRows`)."""
    occupied = Occupancy.objects.filter(room=OuterRef("pk"), moved_out__isnull=True)
    rooms = (
        Room.objects.filter(building=building, use__in=RENTED_USES)
        .exclude(Exists(occupied))
        .order_by()
        .values("building")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rooms[:1], output_field=IntegerField()), Value(0))


class PersonalRows(Sequence[Any]):
    """A lazy queryset that touches personal tables, read page by page inside
    ``personal(user)`` (a paginator takes its ``len`` and slices)."""

    def __init__(self, user: Any, queryset: QuerySet[Any]) -> None:
        self.user = user
        self.queryset = queryset
        self._count: int | None = None

    def __len__(self) -> int:
        if self._count is None:
            with personal(self.user):
                self._count = self.queryset.count()
        return self._count

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        with personal(self.user):
            if isinstance(index, slice):
                return list(self.queryset[index])
            found = list(self.queryset[index : index + 1])
            if not found:
                raise IndexError(index)
            return found[0]

    def __iter__(self) -> Iterator[Any]:
        with personal(self.user):
            rows = list(self.queryset)
        return iter(rows)
