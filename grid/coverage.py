"""Coverage kept incrementally, and its reads (docs/visits.md).

``CoverageCount`` is kept exact by the triggers of migration 0004 as rooms come and go and visits
move a room's last seen day; :func:`rebuild_communities` recounts a community after its zones
changed (the zone services call :func:`zones_changed`). ``SweepCount`` is kept by
``grid.visits`` as visits arrive and recounted by :func:`rebuild_sweep_counts` when a plan
version moves buildings between teams.

The reads sum a few rows found by code prefix; they never scan visits or rooms.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.exceptions import InvalidInputError, NotFoundError
from gis.models import Community, District, DoorPlate, StreetOffice
from gis.querysets import territory_prefixes

from .models import (
    CoverageCount,
    PlanStop,
    Sweep,
    SweepCount,
    SweepPlan,
    SweepRoom,
    SweepTeam,
    Zone,
)
from .visits import SWEEP_LOCK

#: "What is left to reach 95%".
TARGET_SHARE = 0.95
#: Windows the coverage read accepts (None: all time).
DAY_WINDOWS = (7, 30, 90)

_pending: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "plategrid_coverage_pending", default=None
)


# ---------------------------------------------------------------------------------------------
# Rebuilds


def rebuild_communities(codes: Iterable[str]) -> None:
    """Recount the CoverageCount rows of the communities ``codes`` (sorted: locks in order)."""
    with connection.cursor() as cursor:
        for code in sorted(set(codes)):
            cursor.execute("SELECT grid_coverage_rebuild(%s)", [code])


def zones_changed(community_code: str) -> None:
    """The zones of a community changed: recount its rooms now, or at the end of the
    :func:`batch` being run."""
    pending = _pending.get()
    if pending is None:
        rebuild_communities([community_code])
    else:
        pending.add(community_code)


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Recount each community whose zones change inside once, when the block ends (several
    zone changes in one transaction: a partition applied, a page of zone changes)."""
    if _pending.get() is not None:
        yield
        return
    pending: set[str] = set()
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
    rebuild_communities(pending)


def rebuild_all() -> int:
    """Recount every community (``manage.py rebuild_coverage``); returns how many."""
    codes = list(Community.objects.order_by("code").values_list("code", flat=True))
    with connection.cursor() as cursor:
        # Rows of communities that no longer exist go too.
        cursor.execute(
            "DELETE FROM grid_coveragecount WHERE left(area_code, 12) <> ALL(%s)", [codes]
        )
    rebuild_communities(codes)
    return len(codes)


REBUILD_SWEEP_SQL = """
    WITH plan AS (
        SELECT id FROM grid_sweepplan WHERE sweep_id = %(sweep)s ORDER BY version DESC LIMIT 1),
    rooms AS (
        SELECT ps.team_id, sr.area_code,
               (sr.first_visited_at IS NOT NULL) AS visited,
               (sr.first_visited_at IS NULL AND sr.attempts >= %(n)s) AS flagged,
               (sr.first_visited_at IS NULL AND sr.attempts > 0 AND sr.attempts < %(n)s)
                   AS revisit
          FROM grid_sweeproom sr
          LEFT JOIN grid_planstop ps
                 ON ps.plan_id = (SELECT id FROM plan) AND ps.building_id = sr.building_id
         WHERE sr.sweep_id = %(sweep)s)
    INSERT INTO grid_sweepcount (sweep_id, team_id, area_code, targets, visited, revisits, flagged)
    SELECT %(sweep)s, team_id, area_code, count(*), count(*) FILTER (WHERE visited),
           count(*) FILTER (WHERE revisit), count(*) FILTER (WHERE flagged)
      FROM rooms GROUP BY team_id, area_code
"""


def rebuild_sweep_counts(sweep: Sweep) -> None:
    """Recount the sweep's SweepCount rows from its target rooms and the plan in force (its
    highest version). Called after a sweep is created and after each new plan version.

    Takes the sweep's lock exclusively: visits being recorded for it (which hold it shared)
    finish first and are counted; later ones apply their change on top of the recount."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SWEEP_LOCK, sweep.pk % 2147483647])
        cursor.execute("DELETE FROM grid_sweepcount WHERE sweep_id = %s", [sweep.pk])
        cursor.execute(REBUILD_SWEEP_SQL, {"sweep": sweep.pk, "n": sweep.revisit_attempts})


# ---------------------------------------------------------------------------------------------
# Reads: coverage of a territory node


@dataclass
class CoverageRow:
    code: str
    name: str
    rooms: int = 0
    seen: int = 0

    @property
    def share(self) -> float | None:
        return round(self.seen / self.rooms, 4) if self.rooms else None

    def as_body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "rooms": self.rooms,
            "seen": self.seen,
            "share": self.share,
        }


@dataclass
class Coverage:
    code: str
    name: str
    days: int | None
    rented: bool
    since: datetime.date | None
    total: CoverageRow
    children: list[CoverageRow] = field(default_factory=list)

    def as_body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "days": self.days,
            "rented": self.rented,
            "since": self.since.isoformat() if self.since else None,
            **{k: v for k, v in self.total.as_body().items() if k not in ("code", "name")},
            "children": [row.as_body() for row in self.children],
        }


def check_code(code: Any) -> None:
    """``code`` is a district, street office, community or zone code (6, 9, 12, 15 digits)."""
    if not (isinstance(code, str) and code.isascii() and code.isdigit()) or len(code) not in (
        6,
        9,
        12,
        15,
    ):
        raise InvalidInputError(
            _("%(value)s is not a district, street office, community or zone code."),
            code="bad_code",
            field="code",
            value=repr(code)[:30],
        )


def scope_condition(user: Any, code: str, column: str = "area_code") -> Q:
    """Rows of ``code`` the user may read: all of them inside the user's territory, the user's
    part of them when ``code`` is above it; outside: NotFoundError."""
    prefixes = territory_prefixes(user)
    if prefixes is None or any(code.startswith(p) for p in prefixes):
        return Q()
    below = [p for p in prefixes if p.startswith(code)]
    if not below:
        raise NotFoundError(_("No territory %(value)s in your scope."), value=code)
    condition = Q()
    for prefix in below:
        condition |= Q(**{f"{column}__startswith": prefix})
    return condition


def node_name(code: str) -> str:
    """The name of a district, street office, community or zone ("" when there is none)."""
    if len(code) == 6:
        model: Any = District
    elif len(code) == 9:
        model = StreetOffice
    elif len(code) == 12:
        model = Community
    else:
        zone = Zone.objects.current().filter(code=code).values_list("name", flat=True).first()
        return str(zone or "")
    return str(model.objects.filter(code=code).values_list("name", flat=True).first() or "")


def _child_names(code: str) -> dict[str, str]:
    rows: Any
    if len(code) == 6:
        rows = StreetOffice.objects.filter(code__startswith=code).values_list("code", "name")
    elif len(code) == 9:
        rows = Community.objects.filter(code__startswith=code).values_list("code", "name")
    elif len(code) == 12:
        rows = Zone.objects.current().filter(community_id=code).values_list("code", "name")
    else:
        return {}
    return dict(rows)


def window_since(days: int, until: datetime.date | None = None) -> datetime.date:
    """The first day of a window of ``days`` days ending with ``until`` (today by default),
    both included: the last 7 days of a Sunday start on the Monday before."""
    return (until or timezone.localdate()) - datetime.timedelta(days=days - 1)


def parse_days(value: Any) -> int | None:
    """``?days=`` 7, 30 or 90; empty or ``all``: all time."""
    if value in (None, "", "all"):
        return None
    if str(value) in {str(d) for d in DAY_WINDOWS}:
        return int(value)
    raise InvalidInputError(
        _("days is one of 7, 30, 90 or all, not %(value)s."),
        code="bad_days",
        field="days",
        value=repr(value)[:20],
    )


def territory_coverage(
    user: Any, code: str, *, days: int | None = None, rented: bool = False
) -> Coverage:
    """Rooms and rooms seen (in the last ``days`` days, today included; ``None``: ever) of the
    node ``code`` (district, street office, community or zone), per child node: street offices,
    communities, zones (and "no zone": rooms in no zone, code = the community's)."""
    check_code(code)
    rows = CoverageCount.objects.filter(scope_condition(user, code), area_code__startswith=code)
    if rented:
        rows = rows.filter(rented=True)
    since = None
    if days is not None:
        since = window_since(days)
        seen = Q(last_visited_on__gte=since)
    else:
        seen = Q(last_visited_on__isnull=False)
    child_length = {6: 9, 9: 12, 12: 15}.get(len(code))
    name = node_name(code)
    if not name and not rows.exists():
        raise NotFoundError(_("No territory %(value)s in your scope."), value=code)
    seen_sum = Sum(Case(When(seen, then="rooms"), default=0, output_field=IntegerField()))
    total = rows.aggregate(n_rooms=Sum("rooms"), n_seen=seen_sum)
    result = Coverage(
        code,
        name,
        days,
        rented,
        since,
        CoverageRow(code, name, total["n_rooms"] or 0, total["n_seen"] or 0),
    )
    if child_length is None:
        return result
    names = _child_names(code)
    grouped = (
        rows.annotate(child=Substr("area_code", 1, child_length))
        .values("child")
        .annotate(n_rooms=Sum("rooms"), n_seen=seen_sum)
        .order_by("child")
    )
    by_code = {r["child"]: r for r in grouped}
    no_zone = (
        [CoverageRow(code, str(_("no zone")))] if child_length == 15 else []
    )  # rooms counted in the community itself
    prefixes = territory_prefixes(user)
    for child in sorted(set(names) | set(by_code)):
        if len(child) < child_length:
            continue
        if prefixes is not None and not any(
            child.startswith(p) or p.startswith(child) for p in prefixes
        ):
            continue  # a node beside the user's territory
        figures: Any = by_code.get(child, {})
        result.children.append(
            CoverageRow(
                child, names.get(child, ""), figures.get("n_rooms") or 0, figures.get("n_seen") or 0
            )
        )
    if no_zone and code in by_code:
        no_zone[0].rooms = by_code[code]["n_rooms"] or 0
        no_zone[0].seen = by_code[code]["n_seen"] or 0
    if no_zone and no_zone[0].rooms:
        result.children.append(no_zone[0])
    return result


# ---------------------------------------------------------------------------------------------
# Reads: a sweep's figures


@dataclass
class SweepFigures:
    key: Any
    name: str
    targets: int = 0
    visited: int = 0
    revisits: int = 0
    flagged: int = 0
    rate: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def share(self) -> float | None:
        return round(self.visited / self.targets, 4) if self.targets else None

    @property
    def needed(self) -> int:
        """Rooms still to visit to reach 95% of the targets."""
        return max(0, math.ceil(TARGET_SHARE * self.targets - 1e-9) - self.visited)

    @property
    def days_left(self) -> int | None:
        if self.needed == 0:
            return 0
        if not self.rate:
            return None
        return math.ceil(self.needed / self.rate)

    def as_body(self, name_key: str = "name") -> dict[str, Any]:
        return {
            **self.extra,
            name_key: self.name,
            "targets": self.targets,
            "visited": self.visited,
            "revisits": self.revisits,
            "flagged": self.flagged,
            "unvisited": self.targets - self.visited,
            "share": self.share,
        }


def elapsed_days(sweep: Sweep, today: datetime.date | None = None) -> int:
    """Days the sweep has run, today included (0 before it starts)."""
    today = today or timezone.localdate()
    return max(0, (min(today, sweep.ends_on) - sweep.starts_on).days + 1)


def sweep_rows(user: Any, sweep: Sweep) -> QuerySet[SweepCount]:
    """The sweep's SweepCount rows in the user's territory."""
    rows = SweepCount.objects.filter(sweep=sweep)
    prefixes = territory_prefixes(user)
    if prefixes is None or any(sweep.territory_code.startswith(p) for p in prefixes):
        return rows
    condition = Q()
    for prefix in prefixes:
        condition |= Q(area_code__startswith=prefix)
    return rows.filter(condition) if prefixes else rows.none()


def sweep_coverage(
    user: Any, sweep: Sweep, *, today: datetime.date | None = None
) -> dict[str, Any]:
    """The sweep's figures from its SweepCount rows: totals, per team (with what is left to
    reach 95% and the days it takes at the current rate: rooms visited per day elapsed since
    the sweep started; null without any visit yet) and per area (zone or community)."""
    rows = list(sweep_rows(user, sweep))
    days = elapsed_days(sweep, today)
    total = SweepFigures(None, sweep.name)
    teams: dict[int | None, SweepFigures] = {}
    areas: dict[str, SweepFigures] = {}
    team_names = dict(SweepTeam.objects.filter(sweep=sweep).values_list("pk", "name"))
    for team_id in team_names:
        teams[team_id] = SweepFigures(team_id, team_names[team_id], extra={"id": team_id})
    for row in rows:
        for figures in (
            total,
            teams.setdefault(row.team_id, SweepFigures(row.team_id, "", extra={"id": row.team_id})),
            areas.setdefault(
                row.area_code, SweepFigures(row.area_code, "", extra={"code": row.area_code})
            ),
        ):
            figures.targets += row.targets
            figures.visited += row.visited
            figures.revisits += row.revisits
            figures.flagged += row.flagged
    area_names = {
        **dict(Community.objects.filter(code__in=list(areas)).values_list("code", "name")),
        **dict(Zone.objects.current().filter(code__in=list(areas)).values_list("code", "name")),
    }
    for area in areas.values():
        area.name = area_names.get(area.key, "")

    def with_rate(figures: SweepFigures) -> dict[str, Any]:
        figures.rate = round(figures.visited / days, 2) if days and figures.visited else None
        body = figures.as_body()
        body["to_95"] = {"rooms": figures.needed, "days": figures.days_left, "rate": figures.rate}
        return body

    return {
        "sweep": {
            "id": sweep.pk,
            "name": sweep.name,
            "starts_on": sweep.starts_on.isoformat(),
            "ends_on": sweep.ends_on.isoformat(),
            "days_elapsed": days,
        },
        "totals": with_rate(total),
        "teams": [with_rate(t) for t in teams.values() if t.targets or t.key is not None],
        "areas": [a.as_body() for _, a in sorted(areas.items())],
    }


# ---------------------------------------------------------------------------------------------
# Gap lists of a sweep

GAP_KINDS = ("unvisited_rooms", "unvisited_buildings", "revisits", "flagged")


def _plan_in_force(sweep: Sweep) -> Any:
    return Subquery(SweepPlan.objects.filter(sweep=sweep).order_by("-version").values("pk")[:1])


def sweep_gaps(user: Any, sweep: Sweep, kind: str, *, team: str | None = None) -> QuerySet[Any]:
    """What a sweep still misses, in the user's territory, as rows (dicts) for a paginated list:

    * ``unvisited_rooms``: target rooms not seen in the sweep yet (failed visits included);
    * ``unvisited_buildings``: buildings none of whose target rooms was seen yet;
    * ``revisits``: target rooms with failed visits only, fewer than the sweep's
      ``revisit_attempts``, with when the revisit is due (``revisit_after``, ``revisit_part``);
    * ``flagged``: target rooms with ``revisit_attempts`` failed visits and none seen: for the
      zone's responsible person.

    Each row names the building's address, the room's door plate, the area (zone or community)
    and the team of the plan in force; ``team`` narrows to a team id (``none``: no team)."""
    if kind not in GAP_KINDS:
        raise InvalidInputError(
            _("kind is one of %(choices)s, not %(value)s."),
            code="bad_kind",
            field="kind",
            choices=", ".join(GAP_KINDS),
            value=repr(kind)[:30],
        )
    plan = _plan_in_force(sweep)
    stops = PlanStop.objects.filter(plan_id=plan, building_id=OuterRef("building_id"))
    targets = (
        SweepRoom.objects.visible_to(user)
        .filter(sweep=sweep, first_visited_at__isnull=True)
        .annotate(
            team_id=Subquery(stops.values("team_id")[:1]),
            team_name=Subquery(stops.values("team__name")[:1]),
            address=DoorPlate.objects.building_address(OuterRef("building_id")),
        )
    )
    if team == "none":
        targets = targets.filter(team_id__isnull=True)
    elif team:
        if not (team.isascii() and team.isdigit()):
            return targets.none().values()
        targets = targets.filter(team_id=int(team))
    n = sweep.revisit_attempts
    if kind == "unvisited_buildings":
        unseen = SweepRoom.objects.filter(sweep=sweep, building_id=OuterRef("building_id"))
        return (
            targets.exclude(Exists(unseen.filter(first_visited_at__isnull=False)))
            .values("building_id", "address", "area_code", "team_id", "team_name")
            .annotate(rooms=Count("pk"), attempts=Sum("attempts"))
            .order_by("team_id", "building_id")
        )
    fields = [
        "room_id",
        "room__number",
        "room__floor",
        "building_id",
        "address",
        "area_code",
        "team_id",
        "team_name",
        "attempts",
        "last_outcome",
    ]
    targets = targets.annotate(
        door_plate=Subquery(
            DoorPlate.objects.filter(room_id=OuterRef("room_id")).values("address")[:1]
        )
    )
    fields.append("door_plate")
    if kind == "unvisited_rooms":
        return targets.values(*fields).order_by("team_id", "building_id", "room_id")
    fields += [
        "room__visit_state__revisit_after",
        "room__visit_state__revisit_part",
        "room__visit_state__failed_attempts",
        "room__visit_state__last_visited_at",
    ]
    if kind == "revisits":
        targets = targets.filter(attempts__gt=0, attempts__lt=n)
        order = [F("room__visit_state__revisit_after").asc(nulls_last=True), "room_id"]
    else:
        targets = targets.filter(attempts__gte=n)
        order = ["team_id", "building_id", "room_id"]
    return targets.values(*fields).order_by(*order)
