"""A history of visits: months of field work, so the coverage maps have something to show —
the demo's (``manage.py demo_history``, run by ``make run``) and the city's of
``benchmarks/coverage.py`` (5 million visits), one generator for both.

Every community is swept by its teams (one per ~2,500 rooms, two staff each), building after
building in walking order (compound, then building), all rooms of a building on the same working
day (Monday to Friday), at a pace that fits 1–3 sweeps into the history; the last sweep may still
be running today. Blind spots: about 12 % of the communities get through only 15–50 % of their
buildings once; about 1 % of the rooms (whole buildings and single rooms) are never visited.
Outcomes by the room's use (seen or updated most; not at home ~14 %, refused ~3 %; vacant rooms
mostly "vacant"); a failed visit is revisited (90 %) the next working day or within 4, at the next
part of the day (morning → afternoon → evening), up to 3 attempts (then flagged).

Written in bulk, not through the API: the visits generated with numpy and COPYed into
``grid_visit`` (its secondary indexes and foreign keys dropped for the COPY and made again after,
in the same transaction); each room's ``RoomVisitState`` derived in one ``INSERT … SELECT`` by the
rules of ``grid.visits.update_room_state`` (tests check every room against it) with the row
triggers off; then ``CoverageCount`` and the buildings' coverage recounted and the missing coverage
snapshots taken. Deterministic for a seed and a day.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from gis.models import Community
from grid import coverage, snapshots
from grid.models import FAILED_OUTCOMES, Staff
from layers.coverage.tiles import recount_buildings

SEED = 20091
#: Days of history: the 90-day window.
DAYS = 90
#: The demo's staff of the history (named after their community and team).
STAFF_PREFIX = "走访"

OUTCOMES = ("registered", "changed", "moved_out", "vacant", "not_at_home", "refused", "room_gone")
FAILED = (4, 5)  # not_at_home, refused (grid.models.FAILED_OUTCOMES)
USES = ("owner_occupied", "rented_whole", "rented_shared", "vacant", "commercial", "other")
#: Outcome weights of a visit by the room's use (OUTCOMES' order).
OUTCOME_WEIGHTS = {
    "owner_occupied": (65, 14, 2, 2, 11, 2.5, 0.2),
    "rented_whole": (48, 20, 7, 3, 16, 4, 0.3),
    "rented_shared": (48, 20, 7, 3, 16, 4, 0.3),
    "vacant": (10, 4, 1, 72, 11, 1, 0.5),
    "commercial": (68, 12, 2, 3, 12, 2, 1),
    "other": (72, 10, 1, 2, 12, 2, 1),
}
#: The working minutes of a day (local time): 08:30–11:45, 14:00–17:30, 18:30–20:30.
SLOTS = ((8 * 60 + 30, 195), (14 * 60, 210), (18 * 60 + 30, 120))
#: A revisit's window by the part of the day it is scheduled for (grid.visits.PART_STARTS).
REVISIT_WINDOWS = {0: (8 * 60 + 15, 150), 1: (14 * 60, 180), 2: (18 * 60 + 20, 130)}


@dataclass
class Rooms:
    """The rooms of the city in walking order (community, compound, building, floor, number)."""

    id: np.ndarray
    building: np.ndarray
    community: np.ndarray  # index into codes
    use: np.ndarray  # index into USES
    codes: list[str]
    addresses: list[str]  # COPY-escaped, by room position


def read_rooms() -> Rooms:
    sql = """
        WITH rp AS (SELECT DISTINCT ON (room_id) room_id, address FROM geo_doorplate
                     WHERE room_id IS NOT NULL ORDER BY room_id, address),
             bp AS (SELECT DISTINCT ON (building_id) building_id, address FROM geo_doorplate
                     WHERE room_id IS NULL
                     ORDER BY building_id, entrance_id NULLS FIRST, length(address), id)
        SELECT r.id, r.building_id, c.code, r.use,
               left(coalesce(rp.address, trim(coalesce(nullif(bp.address, ''),
                    nullif(b.name, ''), '#' || b.id) || ' ' || r.number)), 300)
          FROM geo_room r JOIN geo_building b ON b.id = r.building_id
          JOIN geo_community c ON c.id = b.community_id
          LEFT JOIN rp ON rp.room_id = r.id
          LEFT JOIN bp ON bp.building_id = r.building_id
         ORDER BY c.code, b.compound_id NULLS LAST, b.id, r.floor, r.number, r.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    codes = sorted({row[2] for row in rows})
    code_index = {code: k for k, code in enumerate(codes)}
    use_index = {use: k for k, use in enumerate(USES)}
    escape = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
    return Rooms(
        id=np.fromiter((row[0] for row in rows), np.int64, len(rows)),
        building=np.fromiter((row[1] for row in rows), np.int64, len(rows)),
        community=np.fromiter((code_index[row[2]] for row in rows), np.int32, len(rows)),
        use=np.fromiter((use_index.get(row[3], 5) for row in rows), np.int8, len(rows)),
        codes=codes,
        addresses=[row[4].translate(escape) for row in rows],
    )


@dataclass
class Visits:
    """Generated visits: room position, time (UTC epoch seconds), outcome, staff position."""

    room: list[np.ndarray] = field(default_factory=list)
    at: list[np.ndarray] = field(default_factory=list)
    outcome: list[np.ndarray] = field(default_factory=list)
    staff: list[np.ndarray] = field(default_factory=list)

    def add(self, room: Any, at: Any, outcome: Any, staff: Any) -> None:
        self.room.append(np.asarray(room, np.int64))
        self.at.append(np.asarray(at, np.int64))
        self.outcome.append(np.asarray(outcome, np.int8))
        self.staff.append(np.asarray(staff, np.int32))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        room, at = np.concatenate(self.room), np.concatenate(self.at)
        outcome, staff = np.concatenate(self.outcome), np.concatenate(self.staff)
        order = np.argsort(at, kind="stable")
        return room[order], at[order], outcome[order], staff[order]


def working_days(today: dt.date, history_days: int) -> tuple[list[dt.date], np.ndarray]:
    """The working days (Monday–Friday) of the ``history_days`` days before ``today``, and the
    UTC epoch second of each one's local midnight."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    days = [today - dt.timedelta(days=history_days - k) for k in range(history_days)]
    days = [day for day in days if day.isoweekday() <= 5]
    midnights = np.array(
        [int(dt.datetime.combine(day, dt.time(), tz).timestamp()) for day in days], np.int64
    )
    return days, midnights


def clock_minutes(work_minute: np.ndarray) -> np.ndarray:
    """Minutes after local midnight of a team's ``work_minute``-th working minute of a day."""
    result = np.empty_like(work_minute)
    start = 0
    for k, (begins, length) in enumerate(SLOTS):
        inside = work_minute >= start
        if k < len(SLOTS) - 1:
            inside &= work_minute < start + length
        result[inside] = begins + (work_minute[inside] - start)
        start += length
    return np.minimum(result, 21 * 60 + 30)


def generate_history(
    rooms: Rooms, today: dt.date, rng: np.random.Generator, history_days: int = DAYS
) -> tuple[Any, ...]:
    """The visits of the history (see the module's doc) and the staff of each team: returns
    (room, at, outcome, staff) arrays in time order and the list of (community, team, member)."""
    days, midnights = working_days(today, history_days)
    n_days = len(days)
    n = len(rooms.id)
    # Rooms never visited: whole buildings (0.4 %) and single rooms (0.6 %).
    building_ids, building_of_room = np.unique(rooms.building, return_inverse=True)
    never = (rng.random(len(building_ids)) < 0.004)[building_of_room] | (rng.random(n) < 0.006)
    weights = np.array([OUTCOME_WEIGHTS[use] for use in USES], float)
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)

    def outcomes(positions: np.ndarray, *, seen_only: bool = False) -> np.ndarray:
        table = cumulative
        if seen_only:
            seen_weights = weights.copy()
            seen_weights[:, list(FAILED)] = 0
            table = np.cumsum(seen_weights / seen_weights.sum(axis=1, keepdims=True), axis=1)
        draws = rng.random(len(positions))[:, None]
        return (draws > table[rooms.use[positions]]).sum(axis=1).astype(np.int8)

    visits = Visits()
    staff: list[tuple[int, int, int]] = []
    starts = np.flatnonzero(np.r_[True, rooms.community[1:] != rooms.community[:-1]])
    ends = np.r_[starts[1:], n]
    # Blind spots: about 12 % of the communities (at least one of five or more).
    n_blind = round(0.12 * len(starts)) or (1 if len(starts) >= 5 else 0)
    blind_ones = set(rng.choice(len(starts), n_blind, replace=False).tolist())
    for number, (first, last) in enumerate(zip(starts, ends, strict=True)):
        community = int(rooms.community[first])
        positions = np.arange(first, last)
        positions = positions[~never[positions]]
        if len(positions) == 0:
            continue
        blind = number in blind_ones
        sweeps = 1 if blind else int(rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2]))
        n_teams = int(np.clip(round(len(positions) / 2500), 1, 6))
        # Teams: contiguous runs of buildings with about the same number of rooms.
        building_starts = np.flatnonzero(
            np.r_[True, rooms.building[positions[1:]] != rooms.building[positions[:-1]]]
        )
        cut = np.searchsorted(
            building_starts, np.linspace(0, len(positions), n_teams + 1)[1:-1], side="left"
        )
        team_bounds = np.r_[0, building_starts[np.minimum(cut, len(building_starts) - 1)], None]
        for team in range(n_teams):
            mine = positions[team_bounds[team] : team_bounds[team + 1]]
            if len(mine) == 0:
                continue
            members = [len(staff), len(staff) + 1]
            staff += [(community, team, 0), (community, team, 1)]
            if blind:
                mine = mine[: max(1, int(len(mine) * rng.uniform(0.15, 0.5)))]
            new_building = np.r_[True, rooms.building[mine[1:]] != rooms.building[mine[:-1]]]
            building_no = np.cumsum(new_building) - 1
            rooms_before = np.flatnonzero(new_building)[building_no]  # first room of its building
            span = n_days / sweeps
            for sweep in range(sweeps):
                if blind:
                    pace = rng.uniform(20, 60)
                    start = rng.uniform(0, max(1.0, n_days - len(mine) / pace))
                else:
                    pace = max(40.0, len(mine) / (span * rng.uniform(0.45, 0.9)))
                    start = sweep * span + rng.uniform(0, span * 0.5)
                day = (start + rooms_before / pace).astype(np.int64)
                keep = day < n_days  # the last sweep may be running still
                room_pos, day = mine[keep], day[keep]
                if len(room_pos) == 0:
                    continue
                # Within a team's day: rooms one after the other, a few minutes each.
                new_day = np.r_[True, day[1:] != day[:-1]]
                day_no = np.cumsum(new_day) - 1
                day_first = np.flatnonzero(new_day)
                per_day = np.diff(np.r_[day_first, len(day)])
                step = np.minimum(6.0, 500.0 / per_day)
                offset = rng.uniform(0, np.clip(525 - per_day * step, 0.0, 150.0))
                k = np.arange(len(day)) - day_first[day_no]
                work = offset[day_no] + k * step[day_no] + rng.uniform(0, 1, len(day))
                minute = clock_minutes(work.astype(np.int64))
                at = midnights[day] + minute * 60 + rng.integers(0, 60, len(day))
                who = np.where(rng.random(len(day_first)) < 0.5, members[0], members[1])
                visits.add(room_pos, at, outcomes(room_pos), who[day_no])
                revisit(
                    visits,
                    rooms,
                    room_pos,
                    at,
                    visits.outcome[-1],
                    who[day_no],
                    midnights,
                    outcomes,
                    rng,
                )
    room, at, outcome, staff_of = visits.arrays()
    return room, at, outcome, staff_of, staff


def revisit(
    visits: Visits,
    rooms: Rooms,
    room_pos: np.ndarray,
    at: np.ndarray,
    outcome: np.ndarray,
    staff: np.ndarray,
    midnights: np.ndarray,
    outcomes: Callable[..., np.ndarray],
    rng: np.random.Generator,
) -> None:
    """Revisits of the failed visits given: at most two more attempts, each on the next working
    day (70 %) or within 4, at the next part of the day; a revisit sees the room with 55–60 %."""
    failed = np.isin(outcome, FAILED) & (rng.random(len(outcome)) < 0.9)
    pos, when, last, who = room_pos[failed], at[failed], outcome[failed], staff[failed]
    for _attempt in range(2):
        if len(pos) == 0:
            return
        day = np.searchsorted(midnights, when, side="right") - 1
        minute = (when - midnights[day]) // 60
        part = np.where(minute < 12 * 60, 0, np.where(minute < 18 * 60, 1, 2))
        next_part = (part + 1) % 3
        day = day + np.where(rng.random(len(pos)) < 0.7, 1, rng.integers(2, 5, len(pos)))
        keep = day < len(midnights)
        pos, day, next_part, last, who = (
            pos[keep],
            day[keep],
            next_part[keep],
            last[keep],
            who[keep],
        )
        begins = np.array([REVISIT_WINDOWS[p][0] for p in range(3)])[next_part]
        length = np.array([REVISIT_WINDOWS[p][1] for p in range(3)])[next_part]
        when = (
            midnights[day] + (begins + rng.uniform(0, 1, len(pos)) * length).astype(np.int64) * 60
        )
        success = rng.random(len(pos)) < np.where(last == 5, 0.4, 0.6)
        new = np.where(
            success,
            outcomes(pos, seen_only=True),
            np.where(rng.random(len(pos)) < np.where(last == 5, 0.5, 0.15), 5, 4),
        ).astype(np.int8)
        visits.add(pos, when, new, who)
        failed = ~success
        pos, when, last, who = pos[failed], when[failed], new[failed], who[failed]


STATES_SQL = """
    INSERT INTO grid_roomvisitstate (room_id, last_visited_at, last_visited_on, last_outcome,
                                     last_seen_on, failed_attempts, revisit_after, revisit_part,
                                     flagged)
    SELECT room_id, last_at, (last_at AT TIME ZONE %(tz)s)::date, last_outcome,
           (seen_at AT TIME ZONE %(tz)s)::date, LEAST(failed, 32767),
           CASE WHEN failed > 0 THEN
             ((failed_at AT TIME ZONE %(tz)s)::date + 1
              + make_interval(hours => CASE WHEN failed_hour < 12 THEN 12
                                            WHEN failed_hour < 18 THEN 18 ELSE 8 END))
             AT TIME ZONE %(tz)s END,
           CASE WHEN failed = 0 THEN ''
                WHEN failed_hour < 12 THEN 'afternoon'
                WHEN failed_hour < 18 THEN 'evening' ELSE 'morning' END,
           failed >= %(attempts)s
      FROM (SELECT room_id,
                   max(visited_at) FILTER (WHERE rn = 1) AS last_at,
                   min(outcome) FILTER (WHERE rn = 1) AS last_outcome,
                   max(seen_at) AS seen_at,
                   count(*) FILTER (WHERE NOT seen AND (seen_at IS NULL OR visited_at > seen_at))
                     AS failed,
                   max(visited_at) FILTER (WHERE NOT seen
                                             AND (seen_at IS NULL OR visited_at > seen_at))
                     AS failed_at,
                   extract(hour FROM max(visited_at) FILTER (
                       WHERE NOT seen AND (seen_at IS NULL OR visited_at > seen_at))
                     AT TIME ZONE %(tz)s) AS failed_hour
              FROM (SELECT room_id, visited_at, outcome, outcome <> ALL(%(failed)s) AS seen,
                           max(visited_at) FILTER (WHERE outcome <> ALL(%(failed)s)) OVER w
                             AS seen_at,
                           row_number() OVER w AS rn
                      FROM grid_visit
                     WHERE room_id IS NOT NULL AND {sample}
                    WINDOW w AS (PARTITION BY room_id
                                 ORDER BY visited_at DESC, received_at DESC, id DESC
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) v
             GROUP BY room_id) r
    ON CONFLICT (room_id) DO UPDATE SET
        last_visited_at = EXCLUDED.last_visited_at, last_visited_on = EXCLUDED.last_visited_on,
        last_outcome = EXCLUDED.last_outcome, last_seen_on = EXCLUDED.last_seen_on,
        failed_attempts = EXCLUDED.failed_attempts, revisit_after = EXCLUDED.revisit_after,
        revisit_part = EXCLUDED.revisit_part, flagged = EXCLUDED.flagged
"""


def uuid_texts(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` random (version 4) UUIDs as 32 hex digits, as a phone makes them."""
    raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    text = raw.tobytes().hex()
    return [text[k : k + 32] for k in range(0, 32 * n, 32)]


def write_staff(rooms: Rooms, teams: list[tuple[int, int, int]], prefix: str) -> np.ndarray:
    """Two staff per team, named after their community and team; their ids by position."""
    communities = dict(Community.objects.filter(code__in=rooms.codes).values_list("code", "pk"))
    made = Staff.objects.bulk_create(
        [
            Staff(
                name=f"{prefix}{rooms.codes[c][-6:]}-{t + 1}-{m + 1}",
                community_id=communities[rooms.codes[c]],
            )
            for c, t, m in teams
        ],
        batch_size=2000,
    )
    return np.array([s.pk for s in made], np.int64)


def copy_visits(
    rooms: Rooms,
    history: tuple[Any, ...],
    staff_ids: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """COPY the generated visits into grid_visit, its secondary indexes and foreign keys made
    again afterwards (one transaction); the seconds of each part."""
    room, at, outcome, staff_of, _teams = history
    figures: dict[str, Any] = {}
    n = len(room)
    ids = uuid_texts(n, rng)
    visited = np.datetime_as_string(at.astype("datetime64[s]"), unit="s").tolist()
    delay = np.where(rng.random(n) < 0.05, rng.integers(600, 6 * 3600, n), rng.integers(5, 120, n))
    received = np.datetime_as_string((at + delay).astype("datetime64[s]"), unit="s").tolist()
    room_ids, building_ids = rooms.id[room].tolist(), rooms.building[room].tolist()
    codes = [rooms.codes[c] for c in rooms.community[room].tolist()]
    addresses = rooms.addresses
    room_list = room.tolist()
    outcome_names = [OUTCOMES[o] for o in outcome.tolist()]
    staff_list = staff_ids[staff_of].tolist()
    columns = (
        "id, room_id, building_id, community_code, address, staff_id, visited_at, received_at, "
        "outcome, far, note, new_room_number, conflict"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Foreign keys checked as rows come, not at commit: ALTER TABLE wants no check pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'grid_visit'"
            " AND indexname <> 'grid_visit_pkey'"
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'grid_visit'::regclass AND contype = 'f'"
        )
        foreign_keys = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for name, _definition in foreign_keys:
            cursor.execute(f'ALTER TABLE grid_visit DROP CONSTRAINT "{name}"')
        started = time.perf_counter()
        with cursor.copy(f"COPY grid_visit ({columns}) FROM STDIN") as copy:
            chunk = 200_000
            for lo in range(0, n, chunk):
                hi = min(n, lo + chunk)
                copy.write(
                    "".join(
                        f"{ids[k]}\t{room_ids[k]}\t{building_ids[k]}\t{codes[k]}\t"
                        f"{addresses[room_list[k]]}\t{staff_list[k]}\t{visited[k]}+00\t"
                        f"{received[k]}+00\t{outcome_names[k]}\tf\t\t\tf\n"
                        for k in range(lo, hi)
                    )
                )
        figures["visits_copy_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE grid_visit ADD CONSTRAINT "{name}" {definition}')
        figures["visits_index_s"] = round(time.perf_counter() - started, 1)
        cursor.execute("ANALYZE grid_visit")
    return figures


def state_params() -> dict[str, Any]:
    """The parameters of :data:`STATES_SQL`."""
    return {
        "tz": settings.TIME_ZONE,
        "failed": [str(o) for o in FAILED_OUTCOMES],
        "attempts": int(getattr(settings, "VISIT_REVISIT_ATTEMPTS", 3)),
    }


def load_history(
    *,
    today: dt.date | None = None,
    days: int = DAYS,
    seed: int = SEED,
    staff_prefix: str = STAFF_PREFIX,
) -> dict[str, Any]:
    """Generate and write ``days`` days of visits up to yesterday for every room, with the
    rooms' states, the coverage counts, the buildings' coverage and the missing snapshots; the
    figures (sizes, seconds). The states of rooms visited before (through the services) are
    recomputed from all their visits."""
    figures: dict[str, Any] = {}
    today = today or timezone.localdate()
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    rooms = read_rooms()
    history = generate_history(rooms, today, rng, days)
    staff_ids = write_staff(rooms, history[4], staff_prefix)
    figures.update(copy_visits(rooms, history, staff_ids, rng))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE grid_roomvisitstate DISABLE TRIGGER USER")
        cursor.execute(STATES_SQL.format(sample="true"), state_params())
        cursor.execute("ALTER TABLE grid_roomvisitstate ENABLE TRIGGER USER")
        # What those triggers keep: the coverage counts and the buildings' coverage (layers).
        coverage.rebuild_all()
        recount_buildings()
    figures["snapshot_days"] = len(snapshots.take_missing(today))
    figures["visits"] = len(history[0])
    figures["rooms_visited"] = len(np.unique(history[0]))
    figures["staff"] = len(staff_ids)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures


def has_history() -> bool:
    """Whether visits outside any sweep were recorded (the history is loaded once)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM grid_visit WHERE sweep_id IS NULL)")
        return bool(cursor.fetchone()[0])


def state_differences(room_ids: list[int]) -> list[tuple[int, str, Any, Any]]:
    """Where the bulk-derived state of the rooms ``room_ids`` differs from what
    ``grid.visits.update_room_state`` computes from their visits: (room, field, bulk, services);
    empty when the two agree. The recomputation is rolled back."""
    from grid.models import RoomVisitState
    from grid.visits import update_room_state

    fields = [f.name for f in RoomVisitState._meta.concrete_fields if f.name != "room"]
    differences = []
    with transaction.atomic():
        bulk = {s.room_id: s for s in RoomVisitState.objects.filter(room_id__in=room_ids)}
        for room_id in room_ids:
            expected = update_room_state(room_id)
            got = bulk.get(room_id)
            for name in fields:
                have = getattr(got, name, None)
                want = getattr(expected, name, None)
                if have != want:
                    differences.append((room_id, name, have, want))
        transaction.set_rollback(True)
    return differences
