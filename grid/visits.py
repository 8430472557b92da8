"""Recording visits (docs/visits.md): checks, idempotency, double taps, conflicts, the far flag,
the revisit rules and the sweep's target rooms and counts.

Each visit is recorded in its own transaction (a savepoint inside a caller's transaction), so a
bad item stores nothing while the good ones of the same batch are kept, and locks are held for
one visit only. Visits of one room are serialised by a transaction-level advisory lock on the
room (the building for a new room), taken before anything is read: the id check, the double-tap
and conflict checks and the room's state then see every visit committed before.

Out-of-order arrival (offline queues): a room's :class:`RoomVisitState` and a sweep's
:class:`SweepRoom` are recomputed from the room's stored visits each time one is recorded, so they
depend on the set of visits, never on the order they arrived in; an old visit arriving late never
overwrites what a newer one said.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.crs import metric_srid
from gis.exceptions import InvalidInputError, PlategridError
from gis.models import Building, Room
from gis.querysets import Action

from .models import (
    FAILED_OUTCOMES,
    DayPart,
    PlanStop,
    RoomVisitState,
    Staff,
    Sweep,
    SweepPlan,
    SweepRoom,
    Visit,
    VisitOutcome,
)

#: At most this many visits in one request.
MAX_BATCH = 500
#: Visits of the same room less than this apart are "within the same minute".
SAME_MINUTE = datetime.timedelta(seconds=60)
#: A visit may say it happened this far in the future (phone clocks run ahead).
CLOCK_SKEW = datetime.timedelta(minutes=5)
#: Parts of the day (local time): morning before 12:00, afternoon before 18:00, then evening;
#: a revisit is due the next day from the hour the part it is scheduled for starts.
PART_STARTS = {DayPart.MORNING: 8, DayPart.AFTERNOON: 12, DayPart.EVENING: 18}
NEXT_PART = {
    DayPart.MORNING: DayPart.AFTERNOON,
    DayPart.AFTERNOON: DayPart.EVENING,
    DayPart.EVENING: DayPart.MORNING,
}
_ROOM_LOCK, _BUILDING_LOCK, SWEEP_LOCK = 73010, 73013, 73012


def seen(outcome: str) -> bool:
    """Whether a visit with ``outcome`` saw the room (counts for coverage and for a sweep):
    every outcome but "not at home" and "refused"."""
    return outcome not in FAILED_OUTCOMES


def far_limit_m(sweep: Sweep | None) -> float:
    return float(sweep.far_visit_m) if sweep else float(getattr(settings, "VISIT_FAR_M", 150.0))


def revisit_attempts(sweep: Sweep | None) -> int:
    default = int(getattr(settings, "VISIT_REVISIT_ATTEMPTS", 3))
    return int(sweep.revisit_attempts) if sweep else default


class VisitError(InvalidInputError):
    """One visit of a submission cannot be recorded as sent (nothing of it is stored)."""

    default_code = "invalid_visit"


@dataclass
class VisitResult:
    id: str | None
    status: str  # created | duplicate | conflict | error
    duplicate_of: str | None = None
    far: bool = False
    flagged: bool = False
    revisit_after: datetime.datetime | None = None
    error: PlategridError | None = None

    @property
    def stored(self) -> bool:
        return self.status in ("created", "conflict")

    def as_body(self) -> dict[str, Any]:
        error = None
        if self.error is not None:
            error = {
                "code": self.error.code,
                "zh": self.error.render("zh-hans"),
                "en": self.error.render("en"),
            }
            if self.error.field:
                error["field"] = self.error.field
        return {
            "id": self.id,
            "status": self.status,
            "duplicate_of": self.duplicate_of,
            "far": self.far,
            "flagged": self.flagged,
            "revisit_after": self.revisit_after.isoformat() if self.revisit_after else None,
            "error": error,
        }


@dataclass
class _Item:
    id: uuid.UUID
    outcome: str
    visited_at: datetime.datetime
    room: Room | None
    building: Building
    sweep: Sweep | None
    staff: Staff | None
    location: tuple[float, float] | None
    note: str
    new_room_number: str


# ---------------------------------------------------------------------------------------------
# Checks


def _bad(field: str, code: str, message: Any, **params: Any) -> VisitError:
    return VisitError(message, code=code, field=field, **params)


def _int_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def _parse_id(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value)) if isinstance(value, str) else uuid.UUID(int=-1)
    except ValueError:
        pass
    raise _bad(
        "id",
        "bad_id",
        _("The visit's id must be a UUID made by the phone, not %(value)s."),
        value=repr(value)[:40],
    )


def _parse_time(value: Any, now: datetime.datetime) -> datetime.datetime:
    when = None
    if isinstance(value, str) and len(value) <= 40:
        try:
            when = datetime.datetime.fromisoformat(value)
        except ValueError:
            when = None
    if when is None or when.tzinfo is None or when.year < 2000:
        raise _bad(
            "visited_at",
            "bad_time",
            _(
                "visited_at must be an ISO 8601 time with its UTC offset "
                "(2026-05-01T09:30:00+08:00), not %(value)s."
            ),
            value=repr(value)[:40],
        )
    if when > now + CLOCK_SKEW:
        raise _bad(
            "visited_at",
            "future_time",
            _("The visit's time %(value)s lies in the future: check the phone's clock."),
            value=value,
        )
    return when


def _parse_location(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    coords = value.get("coordinates") if isinstance(value, dict) else None
    crs = value.get("crs") if isinstance(value, dict) else None
    crs_name = (
        str((crs or {}).get("properties", {}).get("name", "")) if isinstance(crs, dict) else ""
    )
    ok = (
        isinstance(value, dict)
        and value.get("type") == "Point"
        and isinstance(coords, list)
        and len(coords) in (2, 3)
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords)
        # Comparisons, not math.isfinite: a 400-digit integer overflows float().
        and all(-1e6 < c < 1e6 for c in coords)
        and (crs is None or crs_name.endswith(("4326", "CRS84")))
    )
    if ok and isinstance(coords, list):
        lon, lat = float(coords[0]), float(coords[1])
        if -180 <= lon <= 180 and -90 <= lat <= 90:
            return lon, lat
    raise _bad(
        "location",
        "bad_location",
        _(
            "location must be a GeoJSON Point in longitude/latitude (EPSG:4326), such as "
            '{"type": "Point", "coordinates": [112.14, 32.04]}, not %(value)s.'
        ),
        value=repr(value)[:60],
    )


def _text(item: dict[str, Any], field: str, limit: int) -> str:
    value = item.get(field)
    if value is None:
        return ""
    # PostgreSQL text cannot hold NUL.
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise _bad(
            field,
            f"bad_{field}",
            _("%(name)s must be text of at most %(limit)s characters."),
            name=field,
            limit=limit,
        )
    return value.strip()


def _own_staff(user: Any) -> Staff | None:
    cache = user.__dict__.setdefault("_plategrid_visit_staff", [])
    if not cache:
        pk = getattr(user, "pk", None)
        staff = Staff.objects.filter(user_id=pk, active=True) if pk else Staff.objects.none()
        cache.append(staff.order_by("pk").first())
    return cache[0]


class _Lookups:
    """The rooms, buildings, sweeps and staff the items of one request name, each kind read in
    one query scoped as a single lookup would be (rooms, buildings: the user's write scope;
    sweeps, staff: what the user may read). An id not found is unknown to the user."""

    def __init__(self, user: Any, items: list[Any]) -> None:
        ids: dict[str, set[int]] = {
            "room": set(),
            "building": set(),
            "sweep": set(),
            "staff": set(),
        }
        for item in items:
            if isinstance(item, dict):
                for field, wanted in ids.items():
                    pk = _int_id(item.get(field))
                    if pk:
                        wanted.add(pk)
        rooms = Room.objects.visible_to(user, Action.WRITE).select_related("building__community")
        buildings = Building.objects.visible_to(user, Action.WRITE).select_related("community")
        self.rooms: dict[int, Room] = _by_pk(rooms, ids["room"])
        self.buildings: dict[int, Building] = _by_pk(buildings, ids["building"])
        self.sweeps: dict[int, Sweep] = _by_pk(Sweep.objects.visible_to(user), ids["sweep"])
        self.staff: dict[int, Staff] = _by_pk(Staff.objects.visible_to(user), ids["staff"])


def _by_pk(queryset: Any, ids: set[int]) -> dict[int, Any]:
    return {row.pk: row for row in queryset.filter(pk__in=sorted(ids))} if ids else {}


def parse_visit(
    user: Any,
    item: Any,
    *,
    now: datetime.datetime | None = None,
    lookups: _Lookups | None = None,
) -> _Item:
    """The visit ``item`` (a JSON object) checked field by field; :class:`VisitError` names the
    first field that is wrong. Rooms, buildings and staff outside the user's write scope are
    answered as unknown (a sweep: outside what the user may read). ``lookups``: the batch's
    rooms, buildings, sweeps and staff, read once for all its items."""
    if not isinstance(item, dict):
        raise _bad(
            "", "bad_visit", _("A visit is a JSON object, not %(value)s."), value=repr(item)[:40]
        )
    if lookups is None:
        lookups = _Lookups(user, [item])
    visit_id = _parse_id(item.get("id"))
    outcome = item.get("outcome")
    if outcome not in VisitOutcome.values:
        raise _bad(
            "outcome",
            "bad_outcome",
            _("Unknown outcome %(value)s: use one of %(choices)s."),
            value=repr(outcome)[:40],
            choices=", ".join(VisitOutcome.values),
        )
    visited_at = _parse_time(item.get("visited_at"), now or timezone.now())
    room = building = None
    room_value = item.get("room")
    if room_value is not None or outcome != VisitOutcome.NEW_ROOM:
        pk = _int_id(room_value)
        room = lookups.rooms.get(pk) if pk else None
        if room is None:
            raise _bad(
                "room",
                "unknown_room",
                _("No room %(value)s in your territory."),
                value=repr(room_value)[:40],
            )
        building = room.building
    building_value = item.get("building")
    if building_value is not None or room is None:
        pk = _int_id(building_value)
        found = lookups.buildings.get(pk) if pk else None
        if found is None:
            raise _bad(
                "building",
                "unknown_building",
                _("No building %(value)s in your territory (a new room needs its building)."),
                value=repr(building_value)[:40],
            )
        if building is not None and found.pk != building.pk:
            raise _bad(
                "building",
                "building_mismatch",
                _("Room %(room)s is not in building %(value)s."),
                room=room.pk if room else "",
                value=found.pk,
            )
        building = found
    if building is None:  # pragma: no cover - a room always has its building
        raise _bad("building", "unknown_building", _("No building for this visit."))
    sweep = None
    if item.get("sweep") is not None:
        pk = _int_id(item.get("sweep"))
        sweep = lookups.sweeps.get(pk) if pk else None
        if sweep is None:
            raise _bad(
                "sweep",
                "unknown_sweep",
                _("No sweep %(value)s in your territory."),
                value=repr(item.get("sweep"))[:40],
            )
    if item.get("staff") is not None:
        pk = _int_id(item.get("staff"))
        staff = lookups.staff.get(pk) if pk else None
        if staff is None:
            raise _bad(
                "staff",
                "unknown_staff",
                _("No staff member %(value)s in your territory."),
                value=repr(item.get("staff"))[:40],
            )
    else:
        staff = _own_staff(user)
    location = _parse_location(item.get("location"))
    note = _text(item, "note", 2000)
    new_room_number = _text(item, "new_room_number", 20)
    if outcome == VisitOutcome.NEW_ROOM and not new_room_number:
        raise _bad(
            "new_room_number",
            "bad_new_room_number",
            _("A new room found needs its number (new_room_number)."),
        )
    return _Item(
        visit_id,
        outcome,
        visited_at,
        room,
        building,
        sweep,
        staff,
        location,
        note,
        new_room_number,
    )


# ---------------------------------------------------------------------------------------------
# Recording


def record_visits(user: Any, items: list[Any]) -> list[VisitResult]:
    """Record each visit of ``items`` on its own (see the module's docstring); one result per
    item, in order. What the items refer to (rooms, buildings, sweeps, staff, door plates) is
    read for the whole batch at once, before the first item is stored."""
    if len(items) > MAX_BATCH:
        raise InvalidInputError(
            _("Send at most %(limit)s visits at once, not %(value)s."),
            code="too_many_visits",
            field="visits",
            limit=MAX_BATCH,
            value=len(items),
        )
    now = timezone.now()
    lookups = _Lookups(user, items)
    parsed: list[_Item | VisitResult] = []
    for item in items:
        try:
            parsed.append(parse_visit(user, item, now=now, lookups=lookups))
        except PlategridError as error:
            parsed.append(_failed(item, error))
    good = [p for p in parsed if isinstance(p, _Item)]
    addresses = _addresses(good)
    return [
        p if isinstance(p, VisitResult) else _record_one(user, raw, p, addresses)
        for raw, p in zip(items, parsed, strict=True)
    ]


def record_visit(user: Any, item: Any) -> VisitResult:
    """Record one visit (see :func:`record_visits`)."""
    return record_visits(user, [item])[0]


def _failed(item: Any, error: PlategridError) -> VisitResult:
    raw_id = item.get("id") if isinstance(item, dict) else None
    return VisitResult(str(raw_id) if isinstance(raw_id, str) else None, "error", error=error)


def _record_one(
    user: Any,
    raw: Any,
    item: _Item,
    addresses: dict[int, str],
) -> VisitResult:
    try:
        with transaction.atomic():
            return _store(user, item, addresses[id(item)])
    except PlategridError as error:
        return _failed(raw, error)


def _lock(item: _Item) -> None:
    """The room's lock (a new room: its building's), and shared, the sweep's (exclusive in
    ``rebuild_sweep_counts``), in one statement; what is read after it sees every visit of the
    room committed before."""
    if item.room is not None:
        sql, params = "SELECT pg_advisory_xact_lock(%s, %s)", [_ROOM_LOCK, item.room.pk]
        if item.sweep is not None:
            sql += ", pg_advisory_xact_lock_shared(%s, %s)"
            params += [SWEEP_LOCK, item.sweep.pk]
    else:
        sql, params = "SELECT pg_advisory_xact_lock(%s, %s)", [_BUILDING_LOCK, item.building.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, [p % 2147483647 for p in params])


def _same_content(visit: Visit, item: _Item) -> bool:
    location = None
    if visit.location is not None:
        location = (round(visit.location.x, 7), round(visit.location.y, 7))
    wanted = None if item.location is None else tuple(round(c, 7) for c in item.location)
    return (
        visit.room_id == (item.room.pk if item.room else None)
        and visit.building_id == item.building.pk
        and visit.outcome == item.outcome
        and visit.visited_at == item.visited_at
        and visit.sweep_id == (item.sweep.pk if item.sweep else None)
        and visit.staff_id == (item.staff.pk if item.staff else None)
        and visit.note == item.note
        and visit.new_room_number == item.new_room_number
        and location == wanted
    )


def _duplicate(visit_id: uuid.UUID, visit: Visit) -> VisitResult:
    """The answer to a retry or a double tap of the stored ``visit``: nothing stored, the
    stored visit's flags and its room's state."""
    state = RoomVisitState.objects.filter(room_id=visit.room_id).first() if visit.room_id else None
    return VisitResult(
        str(visit_id),
        "duplicate",
        duplicate_of=str(visit.pk),
        far=visit.far,
        flagged=bool(state and state.flagged),
        revisit_after=state.revisit_after if state else None,
    )


def _replayed(visit: Visit, item: _Item) -> VisitResult:
    """The answer to an id already stored: the same visit again, or an id reused."""
    if not _same_content(visit, item):
        raise _bad(
            "id",
            "id_reused",
            _(
                "Visit id %(value)s was already used for another visit: the phone must make a new "
                "id for each visit."
            ),
            value=str(item.id),
        )
    return _duplicate(item.id, visit)


_PLATES = """
    (SELECT DISTINCT ON (room_id) 'room', room_id, address FROM geo_doorplate
      WHERE room_id = ANY(%s::bigint[])
      ORDER BY room_id, address)
    UNION ALL
    (SELECT DISTINCT ON (building_id) 'building', building_id, address FROM geo_doorplate
      WHERE building_id = ANY(%s::bigint[]) AND room_id IS NULL
      ORDER BY building_id, entrance_id NULLS FIRST, length(address), id)
"""


def _addresses(items: list[_Item]) -> dict[int, str]:
    """The address stored with each visit of ``items``, by item (``id(item)``: a batch may send
    one visit id twice, for different rooms, and the second is refused): the room's door plate (the
    first by address), else the building's own plate (no entrance first, then the shortest) or
    name, and the room's number (a new room's). One statement for the batch."""
    if not items:
        return {}
    room_ids = sorted({i.room.pk for i in items if i.room is not None})
    building_ids = sorted({i.building.pk for i in items})
    plates: dict[tuple[str, int], str] = {}
    with connection.cursor() as cursor:
        cursor.execute(_PLATES, [room_ids, building_ids])
        for kind, pk, address in cursor.fetchall():
            plates[kind, pk] = str(address)
    addresses = {}
    for item in items:
        plate = plates.get(("room", item.room.pk)) if item.room is not None else None
        if plate:
            addresses[id(item)] = plate[:300]
            continue
        own = plates.get(("building", item.building.pk))
        base = str(own or item.building.name or f"#{item.building.pk}")
        suffix = item.room.number if item.room is not None else item.new_room_number
        addresses[id(item)] = f"{base} {suffix}".strip()[:300]
    return addresses


_INSERT_VISIT = """
    WITH v AS (
        SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS location,
               ST_Distance(ST_Transform(b.footprint, %(srid)s),
                           ST_Transform(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326),
                                        %(srid)s)) AS distance_m
          FROM geo_building b WHERE b.id = %(building)s
    )
    INSERT INTO grid_visit (id, room_id, building_id, community_code, address, sweep_id, staff_id,
                            recorded_by_id, visited_at, received_at, outcome, location,
                            distance_m, far, note, new_room_number, conflict)
    SELECT %(id)s, %(room)s, %(building)s, %(community)s, %(address)s, %(sweep)s, %(staff)s,
           %(user)s, %(visited_at)s, %(received_at)s, %(outcome)s, v.location, v.distance_m,
           coalesce(v.distance_m > %(far_m)s, false), %(note)s, %(new_room_number)s,
           %(conflict)s
      FROM v
    ON CONFLICT (id) DO NOTHING
    RETURNING far
"""


def _store(user: Any, item: _Item, address: str) -> VisitResult:
    """Store ``item`` under its room's lock, unless it is a retry or a double tap (see
    docs/visits.md), and bring the room's state and the sweep's target room up to date."""
    _lock(item)
    window = Q(visited_at__gt=item.visited_at - SAME_MINUTE) & Q(
        visited_at__lt=item.visited_at + SAME_MINUTE
    )
    if item.room is not None:
        same_place = window & Q(room=item.room)
    else:
        same_place = window & Q(
            room__isnull=True, building=item.building, new_room_number=item.new_room_number
        )
    # The id and the same place's visits within the minute, in one read (oldest first).
    nearby = list(
        Visit.objects.filter(Q(pk=item.id) | same_place).order_by("visited_at", "received_at", "pk")
    )
    for visit in nearby:
        if visit.pk == item.id:
            return _replayed(visit, item)
    staff_id = item.staff.pk if item.staff else None
    for visit in nearby:
        if visit.staff_id == staff_id and visit.outcome == item.outcome:
            return _duplicate(item.id, visit)
    conflicting = (
        [v.pk for v in nearby if v.outcome != item.outcome] if item.room is not None else []
    )
    # With a location, its distance from the building's footprint and the far flag (docs).
    lon, lat = item.location if item.location is not None else (None, None)
    params: dict[str, Any] = {
        "id": item.id,
        "room": item.room.pk if item.room else None,
        "building": item.building.pk,
        "community": item.building.community.code,
        "address": address,
        "sweep": item.sweep.pk if item.sweep else None,
        "staff": staff_id,
        "user": user.pk if getattr(user, "pk", None) else None,
        "visited_at": item.visited_at,
        "received_at": timezone.now(),
        "outcome": item.outcome,
        "lon": lon,
        "lat": lat,
        "srid": metric_srid(),
        "far_m": far_limit_m(item.sweep),
        "note": item.note,
        "new_room_number": item.new_room_number,
        "conflict": bool(conflicting),
    }
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_VISIT, params)
        row = cursor.fetchone()
    inserted, far = row is not None, bool(row and row[0])
    if not inserted:
        # The same id stored meanwhile by a request for another room (another lock).
        stored = Visit.objects.filter(pk=item.id).first()
        if stored is None:  # pragma: no cover - ON CONFLICT found the row
            raise IntegrityError(f"visit {item.id} conflicts but cannot be read")
        return _replayed(stored, item)
    if conflicting:
        Visit.objects.filter(pk__in=conflicting).update(conflict=True)
    state: _StateAnswer | RoomVisitState | None = None
    if item.room is not None:
        # The room's state, then the sweep's target room, on both paths: every visit changes
        # its coverage row before its sweep count row (one order in all transactions).
        state = _advance_room_state(item.room.pk, item)
        if state is not None:
            if item.sweep is not None:
                _advance_sweep_room(item.sweep, item.room.pk, item)
        else:  # older than the room's latest visit: recompute from all its visits
            rows = room_visits(item.room.pk)
            state = update_room_state(item.room.pk, rows, sweep=item.sweep)
            if item.sweep is not None:
                update_sweep_room(item.sweep, item.room.pk, rows)
    return VisitResult(
        str(item.id),
        "conflict" if conflicting else "created",
        far=far,
        flagged=bool(state and state.flagged),
        revisit_after=state.revisit_after if state else None,
    )


# ---------------------------------------------------------------------------------------------
# A room's state and a sweep's target room, recomputed from the stored visits


def day_part(moment: datetime.datetime) -> DayPart:
    hour = timezone.localtime(moment).hour
    if hour < 12:
        return DayPart.MORNING
    return DayPart.AFTERNOON if hour < 18 else DayPart.EVENING


def revisit_schedule(failed_at: datetime.datetime) -> tuple[datetime.datetime, DayPart]:
    """When a room found nobody at ``failed_at`` is to be visited again: the next (local) day,
    at another part of the day (morning → afternoon → evening → morning)."""
    part = NEXT_PART[day_part(failed_at)]
    day = timezone.localtime(failed_at).date() + datetime.timedelta(days=1)
    start = datetime.datetime.combine(day, datetime.time(PART_STARTS[part]))
    return timezone.make_aware(start), part


@dataclass(frozen=True)
class _Seen:
    """One stored visit of a room, as the recomputations need it (oldest first)."""

    visited_at: datetime.datetime
    outcome: str
    sweep_id: int | None


def room_visits(room_id: int) -> list[_Seen]:
    """The room's visits, oldest first (ties: received first): one indexed read."""
    rows = (
        Visit.objects.filter(room_id=room_id)
        .order_by("visited_at", "received_at", "pk")
        .values_list("visited_at", "outcome", "sweep_id")
    )
    return [_Seen(*row) for row in rows]


_UPSERT_STATE = """
    INSERT INTO grid_roomvisitstate (room_id, last_visited_at, last_visited_on, last_outcome,
                                     last_seen_on, failed_attempts, revisit_after, revisit_part,
                                     flagged)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (room_id) DO UPDATE SET
        last_visited_at = EXCLUDED.last_visited_at, last_visited_on = EXCLUDED.last_visited_on,
        last_outcome = EXCLUDED.last_outcome, last_seen_on = EXCLUDED.last_seen_on,
        failed_attempts = EXCLUDED.failed_attempts, revisit_after = EXCLUDED.revisit_after,
        revisit_part = EXCLUDED.revisit_part, flagged = EXCLUDED.flagged
"""


def update_room_state(
    room_id: int, rows: list[_Seen] | None = None, *, sweep: Sweep | None = None
) -> RoomVisitState | None:
    """Recompute the room's state from all its visits (``rows``: :func:`room_visits`; the order
    they arrived in does not matter): the latest visit, the last conclusive ("seen") one, and
    the failed visits after it. Failed visits schedule a revisit; ``revisit_attempts`` of them
    in a row (the sweep of the latest visit — ``sweep`` when it is that one —, else
    settings.VISIT_REVISIT_ATTEMPTS) flag the room. Caller holds the room's lock."""
    rows = room_visits(room_id) if rows is None else rows
    if not rows:
        RoomVisitState.objects.filter(room_id=room_id).delete()
        return None
    last = rows[-1]
    seen_rows = [r for r in rows if seen(r.outcome)]
    seen_at = max(r.visited_at for r in seen_rows) if seen_rows else None
    failed = [
        r for r in rows if not seen(r.outcome) and (seen_at is None or r.visited_at > seen_at)
    ]
    revisit_after, part = None, ""
    if failed:
        revisit_after, part = revisit_schedule(max(r.visited_at for r in failed))
    last_sweep = None
    if last.sweep_id is not None:
        last_sweep = (
            sweep
            if sweep is not None and sweep.pk == last.sweep_id
            else Sweep.objects.filter(pk=last.sweep_id).first()
        )
    state = RoomVisitState(
        room_id=room_id,
        last_visited_at=last.visited_at,
        last_visited_on=timezone.localtime(last.visited_at).date(),
        last_outcome=last.outcome,
        last_seen_on=timezone.localtime(seen_at).date() if seen_at else None,
        failed_attempts=min(len(failed), 32767),
        revisit_after=revisit_after,
        revisit_part=part,
        flagged=len(failed) >= revisit_attempts(last_sweep),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT_STATE,
            [
                room_id,
                state.last_visited_at,
                state.last_visited_on,
                state.last_outcome,
                state.last_seen_on,
                state.failed_attempts,
                state.revisit_after,
                state.revisit_part,
                state.flagged,
            ],
        )
    return state


def sweep_status(room: SweepRoom, attempts_to_flag: int) -> str | None:
    """Which SweepCount column counts a target room: ``visited`` once seen in the sweep, else
    ``flagged`` after ``attempts_to_flag`` failed visits, else ``revisits`` after one, else none."""
    if room.first_visited_at is not None:
        return "visited"
    if room.attempts >= attempts_to_flag:
        return "flagged"
    return "revisits" if room.attempts > 0 else None


def plan_team(sweep_id: int, building_id: int) -> int | None:
    """The team of ``building_id`` in the sweep's plan in force (its highest version), if any."""
    plan = SweepPlan.objects.filter(sweep_id=sweep_id).order_by("-version").values("pk")[:1]
    return (
        PlanStop.objects.filter(plan_id__in=plan, building_id=building_id)
        .values_list("team_id", flat=True)
        .first()
    )


def update_sweep_room(
    sweep: Sweep, room_id: int, rows: list[_Seen] | None = None
) -> SweepRoom | None:
    """Recompute the sweep's target room from the sweep's visits of it (``rows``: the room's
    visits, :func:`room_visits`): visits, first conclusive visit, outcome of the latest; and
    move it between the columns of its SweepCount row."""
    with connection.cursor() as cursor:  # rebuild_sweep_counts takes it exclusively
        cursor.execute(
            "SELECT pg_advisory_xact_lock_shared(%s, %s)", [SWEEP_LOCK, sweep.pk % 2147483647]
        )
    target = SweepRoom.objects.select_for_update().filter(sweep=sweep, room_id=room_id).first()
    if target is None:
        return None
    rows = room_visits(room_id) if rows is None else rows
    mine = [r for r in rows if r.sweep_id == sweep.pk]
    seen_times = [r.visited_at for r in mine if seen(r.outcome)]
    before = sweep_status(target, sweep.revisit_attempts)
    target.attempts = min(len(mine), 32767)
    target.first_visited_at = min(seen_times) if seen_times else None
    target.last_outcome = mine[-1].outcome if mine else ""
    target.save(update_fields=["attempts", "first_visited_at", "last_outcome"])
    after = sweep_status(target, sweep.revisit_attempts)
    _move_sweep_count(sweep.pk, target.building_id, target.area_code, before, after)
    return target


@dataclass(frozen=True)
class _StateAnswer:
    """What a visit's answer tells of its room's state."""

    flagged: bool
    revisit_after: datetime.datetime | None


_ADVANCE_STATE = """
    INSERT INTO grid_roomvisitstate AS s (room_id, last_visited_at, last_visited_on, last_outcome,
                                          last_seen_on, failed_attempts, revisit_after,
                                          revisit_part, flagged)
    VALUES (%(room)s, %(at)s, %(on)s, %(outcome)s,
            CASE WHEN %(seen)s THEN %(on)s::date END, CASE WHEN %(seen)s THEN 0 ELSE 1 END,
            %(revisit_after)s, %(part)s, (CASE WHEN %(seen)s THEN 0 ELSE 1 END) >= %(attempts)s)
    ON CONFLICT (room_id) DO UPDATE SET
        last_visited_at = EXCLUDED.last_visited_at, last_visited_on = EXCLUDED.last_visited_on,
        last_outcome = EXCLUDED.last_outcome,
        last_seen_on = CASE WHEN %(seen)s THEN EXCLUDED.last_seen_on ELSE s.last_seen_on END,
        failed_attempts = CASE WHEN %(seen)s THEN 0 ELSE LEAST(s.failed_attempts + 1, 32767) END,
        revisit_after = EXCLUDED.revisit_after, revisit_part = EXCLUDED.revisit_part,
        flagged = (CASE WHEN %(seen)s THEN 0 ELSE s.failed_attempts + 1 END) >= %(attempts)s
     WHERE s.last_visited_at < EXCLUDED.last_visited_at
    RETURNING s.flagged, s.revisit_after
"""


def _advance_room_state(room_id: int, item: _Item) -> _StateAnswer | None:
    """The room's state moved on by ``item`` (just stored) when it is later than every other
    visit of the room (the common case): what :func:`update_room_state` would compute from all
    the visits, in one statement, without reading them. A room without a state row has no
    other visit (every visit is recorded here, and each leaves the row): its state is that of
    ``item`` alone. ``None`` when ``item`` is not the latest (an offline queue's old visit):
    then the caller recomputes from the stored visits. Caller holds the room's lock."""
    failed = not seen(item.outcome)
    revisit_after, part = revisit_schedule(item.visited_at) if failed else (None, "")
    params: dict[str, Any] = {
        "room": room_id,
        "at": item.visited_at,
        "on": timezone.localtime(item.visited_at).date(),
        "outcome": item.outcome,
        "seen": not failed,
        "revisit_after": revisit_after,
        "part": part,
        "attempts": revisit_attempts(item.sweep),
    }
    with connection.cursor() as cursor:
        cursor.execute(_ADVANCE_STATE, params)
        row = cursor.fetchone()
    return None if row is None else _StateAnswer(bool(row[0]), row[1])


_ADVANCE_SWEEP_ROOM = """
    WITH old AS (
        SELECT id, attempts, first_visited_at FROM grid_sweeproom
         WHERE sweep_id = %(sweep)s AND room_id = %(room)s
           FOR UPDATE
    )
    UPDATE grid_sweeproom r SET
        attempts = LEAST(r.attempts + 1, 32767),
        first_visited_at = CASE WHEN %(seen)s THEN LEAST(r.first_visited_at, %(at)s)
                                ELSE r.first_visited_at END,
        last_outcome = %(outcome)s
      FROM old
     WHERE r.id = old.id
    RETURNING old.attempts, old.first_visited_at, r.attempts, r.first_visited_at, r.building_id,
              r.area_code
"""


def _advance_sweep_room(sweep: Sweep, room_id: int, item: _Item) -> None:
    """The sweep's target room moved on by ``item``, the latest visit of the room (see
    :func:`_advance_room_state`): one more attempt, the first seen visit the earlier of the
    two, the latest outcome; then its SweepCount columns. Nothing when the room is no target."""
    params: dict[str, Any] = {
        "sweep": sweep.pk,
        "room": room_id,
        "seen": seen(item.outcome),
        "at": item.visited_at,
        "outcome": item.outcome,
    }
    with connection.cursor() as cursor:
        cursor.execute(_ADVANCE_SWEEP_ROOM, params)
        row = cursor.fetchone()
    if row is None:
        return
    old_attempts, old_first, attempts, first, building_id, area_code = row
    limit = sweep.revisit_attempts
    before = sweep_status(SweepRoom(attempts=old_attempts, first_visited_at=old_first), limit)
    after = sweep_status(SweepRoom(attempts=attempts, first_visited_at=first), limit)
    _move_sweep_count(sweep.pk, building_id, area_code, before, after)


_MOVE_SWEEP_COUNT = """
    UPDATE grid_sweepcount
       SET visited = visited + %(visited)s, revisits = revisits + %(revisits)s,
           flagged = flagged + %(flagged)s
     WHERE sweep_id = %(sweep)s AND area_code = %(area)s
       AND team_id IS NOT DISTINCT FROM (
           SELECT s.team_id FROM grid_planstop s
            WHERE s.building_id = %(building)s
              AND s.plan_id = (SELECT p.id FROM grid_sweepplan p WHERE p.sweep_id = %(sweep)s
                                ORDER BY p.version DESC LIMIT 1))
"""


def _move_sweep_count(
    sweep_id: int, building_id: int, area_code: str, before: str | None, after: str | None
) -> None:
    """Move a target room from the ``before`` column to the ``after`` column of its SweepCount
    row: (sweep, team of ``building_id`` in the plan in force — see :func:`plan_team` — or
    null, ``area_code``). One statement; nothing when the status did not change."""
    if before == after:
        return
    deltas = dict.fromkeys(("visited", "revisits", "flagged"), 0)
    if before:
        deltas[before] -= 1
    if after:
        deltas[after] += 1
    params: dict[str, Any] = {
        "sweep": sweep_id,
        "area": area_code,
        "building": building_id,
        **deltas,
    }
    with connection.cursor() as cursor:
        cursor.execute(_MOVE_SWEEP_COUNT, params)
