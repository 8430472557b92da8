"""Follow-ups due and overdue (走访核查): from each resident's schedule, which is data.

A schedule lists months (``FollowUpSchedule.months``); a follow-up is **due in each listed month,
by its last day**. A resident's first due month is the first listed month *after* the month they
arrived in (``arrival_date``; else their first move-in; else the day the file was made): who
arrived in March on a January/April/July/October schedule is first due in April, who arrived in
April first in July (their registration was the April check).

A due period is **done** when a follow-up was recorded within that month or after it (up to the
day the question is asked). A resident is **overdue** on a day when the last due period that has
ended before that day is not done. Residents without a schedule of their own follow their
category's default schedule.

Who is counted: residents living in a room on the day (an occupancy under way), and out-flowing
residents, whose files stay with their home community. Each is placed in the zone of the room
they live in: the current zone of the community covering the building's centroid (the rule of
``grid_area_code``, grid migration 0004), else "no zone" (the community itself); out-flowing
residents, living elsewhere, count in "no zone".
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.gis.db.models import PointField
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from gis.exceptions import InvalidInputError
from gis.masking import spreadsheet_text
from gis.models import SRID, Room
from grid.coverage import check_code, node_name, scope_condition
from grid.models import Zone

from .models import Category, FollowUp, FollowUpSchedule, Occupancy, Resident
from .privacy import personal
from .querysets import in_node

#: The columns of the overdue list (row key, Chinese header of the workbook).
COLUMNS = [
    ("resident_id", "档案号"),
    ("name", "姓名"),
    ("id_number_masked", "身份证号（遮蔽）"),
    ("phone_masked", "电话（遮蔽）"),
    ("category", "人员类别"),
    ("schedule", "随访计划"),
    ("due_month", "应随访月份"),
    ("deadline", "截止日期"),
    ("last_follow_up", "最近随访"),
    ("community_code", "社区代码"),
    ("zone_code", "网格代码"),
    ("room", "房间"),
]
CATEGORY_ZH: dict[str, str] = {
    Category.COMMUNITY: "社区居民",
    Category.EMPLOYER: "单位从业人员",
    Category.FLOATING: "流入人口",
    Category.OUTFLOWING: "流出人口",
}


# ---------------------------------------------------------------------------------------------
# Months


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_end(month: date) -> date:
    return next_month(month) - timedelta(days=1)


def first_due_month(months: list[int], start: date) -> date:
    """The first listed month after the month of ``start``."""
    month = next_month(month_start(start))
    while month.month not in months:
        month = next_month(month)
    return month


def last_ended_due_month(months: list[int], on: date) -> date:
    """The latest listed month that ended before ``on`` (whatever the resident)."""
    month = previous_month(month_start(on))
    while month.month not in months:
        month = previous_month(month)
    return month


@dataclass(frozen=True)
class DuePeriod:
    month: date  # its first day
    done_on: date | None  # the first follow-up within the month or after, up to the day asked

    @property
    def deadline(self) -> date:
        return month_end(self.month)

    def state(self, on: date) -> str:
        """``done``, ``due`` (under way: its deadline has not passed) or ``overdue``."""
        if self.done_on is not None:
            return "done"
        return "due" if self.deadline >= on else "overdue"

    def as_body(self, on: date) -> dict[str, Any]:
        return {
            "month": f"{self.month:%Y-%m}",
            "deadline": self.deadline.isoformat(),
            "done_on": self.done_on.isoformat() if self.done_on else None,
            "state": self.state(on),
        }


def periods(months: list[int], start: date, until: date, done_days: list[date]) -> list[DuePeriod]:
    """The due periods from the first due month after ``start`` to the month of ``until``, each
    with the first of ``done_days`` (follow-ups' days) falling within it or after, up to
    ``until``."""
    days = sorted(d for d in done_days if d <= until)
    result = []
    month = first_due_month(sorted(set(months)), start)
    while month <= until:
        done = next((d for d in days if d >= month), None)
        result.append(DuePeriod(month, done))
        month = next_month(month)
        while month.month not in months:
            month = next_month(month)
    return result


def schedule_of(resident: Resident) -> FollowUpSchedule | None:
    """The resident's schedule, else their category's default (the first by code)."""
    if resident.schedule_id is not None:
        return resident.schedule
    return FollowUpSchedule.objects.filter(category=resident.category).order_by("code").first()


def start_of(resident: Resident) -> date:
    """Arrival, else the first move-in, else the day the file was made (call inside
    ``personal``)."""
    if resident.arrival_date:
        return resident.arrival_date
    first = resident.occupancies.aggregate(first=Min("moved_in"))["first"]
    return first or timezone.localdate(resident.created_at)


def due_periods(resident: Resident, *, until: date | None = None) -> list[DuePeriod]:
    """A resident's due periods up to ``until`` (today), with the follow-up that did each (call
    inside ``personal`` with a resident read through ``visible_to``)."""
    day = until or timezone.localdate()
    schedule = schedule_of(resident)
    if schedule is None:
        return []
    done = list(resident.follow_ups.values_list("done_on", flat=True))
    return periods(list(schedule.months), start_of(resident), day, done)


# ---------------------------------------------------------------------------------------------
# Overdue lists


@dataclass
class Overdue:
    code: str
    name: str
    on: date
    total: int = 0
    communities: list[dict[str, Any]] = field(default_factory=list)
    zones: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def as_body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "on": self.on.isoformat(),
            "total": self.total,
            "communities": self.communities,
            "zones": self.zones,
        }


def parse_day(value: Any, *, field: str = "on", default: date | None = None) -> date:
    """``YYYY-MM-DD`` (empty: ``default``, else today), not after today."""
    today = timezone.localdate()
    if value in (None, ""):
        return default or today
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInputError(
            _("%(name)s is a day written YYYY-MM-DD, not %(value)s."),
            code="bad_date",
            field=field,
            name=field,
            value=repr(value)[:30],
        ) from None
    if day > today:
        raise InvalidInputError(
            _("%(name)s cannot be a day still to come (%(value)s)."),
            code="future",
            field=field,
            name=field,
            value=day.isoformat(),
        )
    return day


def _overdue_queryset(user: Any, code: str, on: date) -> Any:
    """Residents of ``code`` in the user's scope overdue on ``on``, annotated with ``due_month``,
    ``zone_code``, ``room_id_now``, ``last_follow_up`` (call inside ``personal(user)``)."""
    residents: Any = Resident.objects.visible_to(user).filter(
        scope_condition(user, code, column="community_code"), in_node(code)
    )
    living = Occupancy.objects.as_of(on).filter(resident=OuterRef("pk")).order_by("-moved_in")
    first_in = (
        Occupancy.objects.filter(resident=OuterRef("pk"))
        .order_by("moved_in")
        .values("moved_in")[:1]
    )
    centroid = Room.objects.filter(pk=OuterRef("room_id_now")).values("building__centroid")[:1]
    zone = (
        Zone.objects.current()
        .filter(community_id=OuterRef("community_code"), geom__covers=OuterRef("centroid_now"))
        .order_by("code")
        .values("code")[:1]
    )
    residents = residents.annotate(
        room_id_now=Subquery(living.values("room")[:1]),
        start=Coalesce(
            "arrival_date", Subquery(first_in), TruncDate("created_at"), output_field=DateField()
        ),
    ).filter(Q(room_id_now__isnull=False) | Q(category=Category.OUTFLOWING))
    # The last ended due month of each resident's schedule (the same for everyone on it), then
    # one test of the follow-ups per resident.
    whens = []
    defaults_taken: set[str] = set()
    for schedule in FollowUpSchedule.objects.order_by("code"):
        follows = Q(schedule=schedule)
        if schedule.category and schedule.category not in defaults_taken:
            defaults_taken.add(schedule.category)
            follows |= Q(schedule__isnull=True, category=schedule.category)
        whens.append(When(follows, then=Value(last_ended_due_month(list(schedule.months), on))))
    if not whens:
        return residents.none()
    done = FollowUp.objects.filter(
        resident=OuterRef("pk"), done_on__gte=OuterRef("due_month"), done_on__lte=on
    )
    residents = (
        residents.annotate(due_month=Case(*whens, default=None, output_field=DateField()))
        .filter(due_month__isnull=False, start__lt=F("due_month"))
        .filter(~Exists(done))
        .annotate(centroid_now=Subquery(centroid, output_field=PointField(srid=SRID)))
        .annotate(zone_code=Coalesce(Subquery(zone), F("community_code"), output_field=CharField()))
    )
    if len(code) == 15:
        residents = residents.filter(zone_code=code)
    return residents


def overdue(user: Any, code: str, *, on: date | None = None, rows: bool = True) -> Overdue:
    """Residents of the territory node ``code`` (district, street office, community or zone) in
    the user's scope whose last ended due period has no follow-up: counts per community and per
    zone, and the list (``rows``; a long list is better read a page at a time through
    :func:`overdue_rows`). Outside the scope: NotFoundError."""
    check_code(code)
    day = on or timezone.localdate()
    result = Overdue(code, node_name(code), day)
    per_community: dict[str, int] = {}
    per_zone: dict[str, int] = {}
    with personal(user):
        grouped = (
            _overdue_queryset(user, code, day)
            .order_by()
            .values_list("community_code", "zone_code")
            .annotate(n=Count("pk"))
            .values_list("community_code", "zone_code", "n")
        )
        for community, zone, n in grouped:
            per_community[community] = per_community.get(community, 0) + n
            per_zone[zone] = per_zone.get(zone, 0) + n
        if rows:
            result.rows = row_bodies(overdue_rows(user, code, day))
    names = _names(set(per_community) | set(per_zone))
    result.total = sum(per_community.values())
    result.communities = [
        {"code": c, "name": names.get(c, ""), "overdue": n}
        for c, n in sorted(per_community.items())
    ]
    result.zones = [
        {
            "code": z,
            "name": names.get(z, "") if len(z) == 15 else str(_("no zone")),
            "community_code": z[:12],
            "overdue": n,
        }
        for z, n in sorted(per_zone.items())
    ]
    return result


def overdue_rows(user: Any, code: str, on: date) -> Any:
    """The overdue residents as value rows, in list order (lazy: evaluate inside
    ``personal(user)``, e.g. one page of them, and turn them into bodies with
    :func:`row_bodies`). ``code`` must have been checked (:func:`overdue` does)."""
    last = (
        FollowUp.objects.filter(resident=OuterRef("pk"), done_on__lte=on)
        .order_by("-done_on")
        .values("done_on")[:1]
    )
    return (
        _overdue_queryset(user, code, on)
        .annotate(last_follow_up=Subquery(last))
        .order_by("community_code", "zone_code", "due_month", "pk")
        .values(
            "pk",
            "name",
            "id_number_masked",
            "phone_masked",
            "category",
            "schedule__code",
            "due_month",
            "last_follow_up",
            "community_code",
            "zone_code",
            "room_id_now",
        )
    )


def row_bodies(values: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The list's rows (masked identity numbers and phones only), with each room's address."""
    rows = [_row(v) for v in values]
    _room_labels(rows)
    return rows


def _row(values: dict[str, Any]) -> dict[str, Any]:
    due: date = values["due_month"]
    last = values["last_follow_up"]
    return {
        "resident_id": values["pk"],
        "name": values["name"],
        "id_number_masked": values["id_number_masked"],
        "phone_masked": values["phone_masked"],
        "category": values["category"],
        "schedule": values["schedule__code"] or "",
        "due_month": f"{due:%Y-%m}",
        "deadline": month_end(due).isoformat(),
        "last_follow_up": last.isoformat() if last else None,
        "community_code": values["community_code"],
        "zone_code": values["zone_code"] if len(values["zone_code"]) == 15 else None,
        "room_id": values["room_id_now"],
    }


def _names(codes: set[str]) -> dict[str, str]:
    from gis.models import Community

    names = dict(
        Community.objects.filter(code__in=[c for c in codes if len(c) == 12]).values_list(
            "code", "name"
        )
    )
    zones = [c for c in codes if len(c) == 15]
    if zones:
        names |= dict(Zone.objects.current().filter(code__in=zones).values_list("code", "name"))
    return names


def _room_labels(rows: list[dict[str, Any]]) -> None:
    """Each row's room as its door plate's standard address, else building and room number."""
    ids = {r["room_id"] for r in rows if r["room_id"]}
    labels: dict[int, str] = {}
    for pk, address, building, number in Room.objects.filter(pk__in=ids).values_list(
        "pk", "door_plate__address", "building__name", "number"
    ):
        labels[pk] = address or f"{building} {number}".strip()
    for row in rows:
        row["room"] = labels.get(row["room_id"], "")


def workbook(found: Overdue) -> bytes:
    """The overdue list as an XLSX workbook (Chinese headers; identity numbers and phones
    masked)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("随访逾期名单")
    sheet.append(["随访逾期名单"])
    sheet.append([f"{found.name}（{found.code}）", f"截至 {found.on.isoformat()}"])
    sheet.append([header for _key, header in COLUMNS])
    for row in found.rows:
        values = []
        for key, _header in COLUMNS:
            value = row.get(key)
            if key == "category":
                value = CATEGORY_ZH.get(str(value), value)
            values.append(spreadsheet_text(value))
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
