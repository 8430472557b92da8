"""A history of visits for the demo city: months of field work, so the coverage maps have
something to show (``manage.py demo_history``; ``benchmarks/coverage.py`` at city size).

Each community works in passes: its teams walk its buildings in the register's order (compound by
compound), all rooms of a building on the same day, so many rooms a working day (Monday to
Saturday), until the pass has covered its share of the buildings. Most communities make a pass
early in the period and another in the last weeks; some lag behind (one pass, a part of the next)
and a few are blind spots (one partial pass, long ago). A pass covers one run of consecutive
buildings, so what it leaves out is a coherent part of the community — a blind spot on the map,
not noise. Outcomes follow the seeds' proportions (``data.city.demo_sweep.OUTCOMES``); a room
nobody answered is tried again the next day at another part of the day, up to twice.

Written in bulk — the visits by COPY, then each room's ``RoomVisitState`` in one INSERT … SELECT
by the rules of ``grid.visits.update_room_state``, the coverage counts and the buildings' coverage
recounted (the row triggers are off meanwhile), and the coverage snapshots taken — not through
the API:
the city's millions of visits load in minutes. Deterministic for a seed and a day.
"""

from __future__ import annotations

import datetime
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from grid import coverage, snapshots
from grid.models import FAILED_OUTCOMES
from layers.coverage.tiles import recount_buildings

from .demo_sweep import OUTCOMES

#: Days of history by default: the 90-day window and a few weeks before it.
DAYS = 120
#: Shares of communities that keep up, lag behind, or are blind spots.
PROFILES = (("keeps_up", 0.68), ("lags", 0.2), ("blind", 0.12))
#: Rooms a community's teams visit on a working day.
ROOMS_PER_DAY = (60, 160)
#: Chance that a room nobody answered is tried again the next day, and that it then answers.
RETRY = 0.75
RETRY_ANSWERS = 0.7


@dataclass(frozen=True)
class History:
    visits: int
    rooms_visited: int
    communities: int
    seconds: float


def _buildings(codes: list[str] | None) -> list[tuple[str, np.ndarray, list[np.ndarray]]]:
    """Per community (code order): its building ids in walking order, and each one's room ids."""
    where = "WHERE c.code = ANY(%s)" if codes else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT c.code, b.id, array_agg(r.id ORDER BY r.id)
              FROM geo_building b
              JOIN geo_community c ON c.id = b.community_id
              JOIN geo_room r ON r.building_id = b.id
              {where}
             GROUP BY c.code, b.compound_id, b.id
             ORDER BY c.code, b.compound_id NULLS LAST, b.id
            """,  # noqa: S608 - the WHERE is one of two constants
            [codes] if codes else [],
        )
        rows = cursor.fetchall()
    buildings: dict[str, list[int]] = {}
    rooms: dict[str, list[np.ndarray]] = {}
    for code, building, room_ids in rows:
        buildings.setdefault(code, []).append(building)
        rooms.setdefault(code, []).append(np.asarray(room_ids, dtype=np.int64))
    return [(code, np.asarray(ids, dtype=np.int64), rooms[code]) for code, ids in buildings.items()]


def _passes(rng: np.random.Generator, profile: str, days: int) -> list[tuple[int, float]]:
    """(first day, share of buildings) of each pass; day 0 is the first day of the history."""
    if profile == "keeps_up":
        return [
            (int(rng.integers(0, 20)), float(rng.uniform(0.9, 1.0))),
            (days - int(rng.integers(25, 40)), float(rng.uniform(0.82, 1.0))),
        ]
    if profile == "lags":
        return [
            (int(rng.integers(10, 45)), float(rng.uniform(0.7, 0.95))),
            (days - int(rng.integers(15, 30)), float(rng.uniform(0.3, 0.7))),
        ]
    return [(int(rng.integers(0, 30)), float(rng.uniform(0.25, 0.6)))]


def generate(
    communities: Iterable[tuple[str, np.ndarray, list[np.ndarray]]],
    *,
    first_day: datetime.date,
    last_day: datetime.date,
    seed: int,
) -> dict[str, list[Any]]:
    """The visits as columns: room, building, community, local day, hour (float), outcome."""
    rng = np.random.default_rng(seed)
    outcomes = [str(o) for o, _ in OUTCOMES]
    weights = np.array([w for _, w in OUTCOMES], dtype=float)
    weights /= weights.sum()
    failed = {str(o) for o in FAILED_OUTCOMES}
    answered = [o for o in outcomes if o not in failed]
    answered_weights = np.array(
        [w for o, w in zip(outcomes, weights, strict=True) if o not in failed]
    )
    answered_weights /= answered_weights.sum()
    days = (last_day - first_day).days + 1
    columns: dict[str, list[Any]] = {
        k: [] for k in ("room", "building", "community", "day", "hour", "outcome")
    }
    names = [p for p, _ in PROFILES]
    shares = [s for _, s in PROFILES]
    for code, buildings, rooms in communities:
        profile = names[int(rng.choice(len(names), p=shares))]
        pace = int(rng.integers(*ROOMS_PER_DAY))
        for start, share in _passes(rng, profile, days):
            n = max(1, round(share * len(buildings)))
            offset = int(rng.integers(0, len(buildings)))
            day, done_today = max(0, start), 0
            for i in range(n):
                b = (offset + i) % len(buildings)
                while (first_day + datetime.timedelta(days=day)).isoweekday() == 7:
                    day += 1
                if day >= days:
                    break
                room_ids = rooms[b]
                drawn = rng.choice(len(outcomes), size=len(room_ids), p=weights)
                hour = 8.5 + 9.5 * done_today / pace + float(rng.uniform(0, 0.3))
                for room, k in zip(room_ids.tolist(), drawn.tolist(), strict=True):
                    outcome = outcomes[k]
                    visit_day, visit_hour = day, hour
                    for attempt in range(3):
                        columns["room"].append(room)
                        columns["building"].append(int(buildings[b]))
                        columns["community"].append(code)
                        columns["day"].append(visit_day)
                        columns["hour"].append(min(visit_hour, 21.5))
                        columns["outcome"].append(outcome)
                        if outcome not in failed or attempt == 2 or rng.random() > RETRY:
                            break
                        visit_day += 1
                        visit_hour = 12.5 if visit_hour < 12 else 18.5 if visit_hour < 18 else 8.5
                        if visit_day >= days:
                            break
                        if rng.random() < RETRY_ANSWERS:
                            outcome = answered[int(rng.choice(len(answered), p=answered_weights))]
                done_today += len(room_ids)
                if done_today >= pace:
                    day, done_today = day + 1, 0
    return columns


_STATE_SQL = """
    WITH v AS (
        SELECT room_id, visited_at, received_at, id, outcome,
               outcome <> ALL(%(failed)s) AS ok
          FROM grid_visit WHERE room_id IS NOT NULL AND room_id = ANY(%(rooms)s)),
    agg AS (
        SELECT room_id, max(visited_at) AS last_at,
               (array_agg(outcome ORDER BY visited_at DESC, received_at DESC, id DESC))[1]
                   AS last_outcome,
               max(visited_at) FILTER (WHERE ok) AS seen_at
          FROM v GROUP BY room_id),
    fails AS (
        SELECT a.room_id, count(*) AS n, max(v.visited_at) AS last_fail
          FROM agg a JOIN v ON v.room_id = a.room_id AND NOT v.ok
                           AND (a.seen_at IS NULL OR v.visited_at > a.seen_at)
         GROUP BY a.room_id),
    next AS (
        SELECT room_id, n, (last_fail AT TIME ZONE %(tz)s) AS local_fail FROM fails)
    INSERT INTO grid_roomvisitstate (room_id, last_visited_at, last_visited_on, last_outcome,
                                     last_seen_on, failed_attempts, revisit_after, revisit_part,
                                     flagged)
    SELECT a.room_id, a.last_at, (a.last_at AT TIME ZONE %(tz)s)::date, a.last_outcome,
           (a.seen_at AT TIME ZONE %(tz)s)::date, COALESCE(x.n, 0),
           CASE WHEN x.n > 0 THEN
               ((x.local_fail::date + 1) + make_interval(hours =>
                   CASE WHEN extract(hour FROM x.local_fail) < 12 THEN 12
                        WHEN extract(hour FROM x.local_fail) < 18 THEN 18 ELSE 8 END))
               AT TIME ZONE %(tz)s END,
           CASE WHEN x.n > 0 THEN
               CASE WHEN extract(hour FROM x.local_fail) < 12 THEN 'afternoon'
                    WHEN extract(hour FROM x.local_fail) < 18 THEN 'evening' ELSE 'morning' END
           ELSE '' END,
           COALESCE(x.n, 0) >= %(attempts)s
      FROM agg a LEFT JOIN next x USING (room_id)
    ON CONFLICT (room_id) DO UPDATE SET
        last_visited_at = EXCLUDED.last_visited_at, last_visited_on = EXCLUDED.last_visited_on,
        last_outcome = EXCLUDED.last_outcome, last_seen_on = EXCLUDED.last_seen_on,
        failed_attempts = EXCLUDED.failed_attempts, revisit_after = EXCLUDED.revisit_after,
        revisit_part = EXCLUDED.revisit_part, flagged = EXCLUDED.flagged
"""


def load_history(
    *,
    today: datetime.date | None = None,
    days: int = DAYS,
    seed: int = 20091,
    codes: list[str] | None = None,
) -> History:
    """Write ``days`` days of visits up to yesterday for the communities ``codes`` (all by
    default), with their rooms' visit states, coverage counts and snapshots; one transaction.
    Rooms that already have a visit state (visited through the services) get it recomputed from
    all their visits, the history's and theirs."""
    started = timezone.now()
    today = today or timezone.localdate()
    first_day, last_day = today - datetime.timedelta(days=days), today - datetime.timedelta(days=1)
    communities = _buildings(codes)
    columns = generate(communities, first_day=first_day, last_day=last_day, seed=seed)
    tz = timezone.get_current_timezone()
    rng = np.random.default_rng(seed + 1)
    buffer = io.StringIO()
    for room, building, community, day, hour, outcome in zip(
        columns["room"],
        columns["building"],
        columns["community"],
        columns["day"],
        columns["hour"],
        columns["outcome"],
        strict=True,
    ):
        local = datetime.datetime.combine(
            first_day + datetime.timedelta(days=day), datetime.time()
        ) + datetime.timedelta(hours=hour)
        moment = local.replace(tzinfo=tz)
        visit_id = uuid.UUID(bytes=rng.bytes(16), version=4)
        buffer.write(
            f"{visit_id}\t{community}\t\t{moment.isoformat()}\t"
            f"{(moment + datetime.timedelta(minutes=2)).isoformat()}\t{outcome}\tf\t\t\tf\t"
            f"{building}\t{room}\n"
        )
    visited = sorted(set(columns["room"]))
    with transaction.atomic(), connection.cursor() as cursor:
        # Foreign keys are checked as rows come, not at commit: ALTER TABLE wants no check pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE grid_roomvisitstate DISABLE TRIGGER USER")
        with cursor.copy(
            "COPY grid_visit (id, community_code, address, visited_at, received_at, outcome,"
            " far, note, new_room_number, conflict, building_id, room_id) FROM STDIN"
        ) as copy:
            copy.write(buffer.getvalue())
        cursor.execute(
            _STATE_SQL,
            {
                "failed": [str(o) for o in FAILED_OUTCOMES],
                "rooms": visited,
                "tz": settings.TIME_ZONE,
                "attempts": int(settings.VISIT_REVISIT_ATTEMPTS),
            },
        )
        cursor.execute("ALTER TABLE grid_roomvisitstate ENABLE TRIGGER USER")
        # What those triggers keep: the coverage counts and the buildings' coverage (layers).
        coverage.rebuild_communities(code for code, _, _ in communities)
        recount_buildings(sorted(set(columns["building"])))
    snapshots.take_missing(today)
    return History(
        visits=len(columns["room"]),
        rooms_visited=len(visited),
        communities=len(communities),
        seconds=round((timezone.now() - started).total_seconds(), 1),
    )


def has_history() -> bool:
    """Whether visits outside any sweep were recorded (the history is loaded once)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM grid_visit WHERE sweep_id IS NULL)")
        return bool(cursor.fetchone()[0])
