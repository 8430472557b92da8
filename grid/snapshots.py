"""Coverage as it was: the snapshots behind the choropleth's weekly replay and the monthly report.

A snapshot of day D holds, per area (zone, else community) and rented or not, the rooms and how
many of them had a conclusive visit in the 7, 30 and 90 days up to D and ever
(``CoverageSnapshot``). Days are every Sunday and every month's last day (:func:`snapshot_days`).

They are taken from the visits, by a background job (:func:`take_missing`, ``manage.py
coverage_snapshots`` for cron, and queued by the coverage reads when a day is missing:
:func:`queue_missing`), never in a request. The rooms counted are the rooms as they are when the
snapshot is taken, which is the day after D when the job runs daily; a day taken later (the first
run over a history of visits) counts today's rooms against the visits of then. A snapshot once
taken is never changed: coverage "as of" a day stays what it was, whatever moves afterwards.
"""

from __future__ import annotations

import calendar
import datetime
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from gis.models import RENTED_USES

from .models import FAILED_OUTCOMES, CoverageSnapshot, CoverageSnapshotDay

#: The windows a snapshot keeps (days up to and including its day).
WINDOWS = (7, 30, 90)
#: How far back missing days are taken: the replay's 13 weeks and a year of month ends.
HORIZON_DAYS = 366
#: A transaction-level advisory lock: one snapshot job at a time.
SNAPSHOT_LOCK = 73014
#: Queue at most one job per this many seconds (:func:`queue_missing`).
QUEUE_EVERY_S = 600


def snapshot_days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """Every Sunday and every month's last day from ``start`` to ``end`` (both included)."""
    days = []
    day = start
    while day <= end:
        last_of_month = calendar.monthrange(day.year, day.month)[1] == day.day
        if day.isoweekday() == 7 or last_of_month:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def due_days(today: datetime.date | None = None) -> list[datetime.date]:
    """The snapshot days of the horizon that have ended (before ``today``)."""
    today = today or timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    return snapshot_days(today - datetime.timedelta(days=HORIZON_DAYS), yesterday)


def taken_days(since: datetime.date | None = None) -> list[datetime.date]:
    """Days with a complete snapshot, oldest first."""
    days = CoverageSnapshotDay.objects.order_by("day")
    if since is not None:
        days = days.filter(day__gte=since)
    return list(days.values_list("day", flat=True))


def missing_days(today: datetime.date | None = None) -> list[datetime.date]:
    due = due_days(today)
    if not due:
        return []
    taken = set(taken_days(due[0]))
    return [day for day in due if day not in taken]


_AREAS_SQL = """
    CREATE TEMP TABLE snapshot_room ON COMMIT DROP AS
    SELECT r.id AS room_id, a.area, r.use = ANY(%s) AS rented
      FROM geo_room r
      JOIN (SELECT id, grid_area_code(community_id, centroid) AS area FROM geo_building) a
        ON a.id = r.building_id
"""

_SEEN_SQL = """
    CREATE TEMP TABLE snapshot_seen ON COMMIT DROP AS
    SELECT room_id, (visited_at AT TIME ZONE %(tz)s)::date AS day
      FROM grid_visit
     WHERE room_id IS NOT NULL AND outcome <> ALL(%(failed)s) AND visited_at < %(until)s
     GROUP BY 1, 2
"""

_TAKE_SQL = """
    INSERT INTO grid_coveragesnapshot
           (day, area_code, rented, rooms, seen_7, seen_30, seen_90, seen_ever)
    SELECT %(day)s, r.area, r.rented, count(*),
           count(*) FILTER (WHERE s.last > %(day)s::date - 7),
           count(*) FILTER (WHERE s.last > %(day)s::date - 30),
           count(*) FILTER (WHERE s.last > %(day)s::date - 90),
           count(s.last)
      FROM snapshot_room r
      LEFT JOIN (SELECT room_id, max(day) AS last FROM snapshot_seen
                  WHERE day <= %(day)s GROUP BY room_id) s USING (room_id)
     GROUP BY r.area, r.rented
"""


def take_snapshots(
    days: Iterable[datetime.date],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[datetime.date]:
    """Take the snapshots of ``days`` not taken yet, in one transaction; returns the days taken
    (none when another job holds the lock: it is taking them). Only days that have ended: a
    snapshot is never changed, so one of a day still running would stay incomplete."""
    wanted = sorted(set(days))
    if wanted and wanted[-1] >= timezone.localdate():
        raise ValueError(f"{wanted[-1]} has not ended: snapshots are taken of past days only")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SNAPSHOT_LOCK])
        if not cursor.fetchone()[0]:
            return []
        done = set(CoverageSnapshotDay.objects.filter(day__in=wanted).values_list("day", flat=True))
        wanted = [day for day in wanted if day not in done]
        if not wanted:
            return []
        tz = settings.TIME_ZONE
        until = datetime.datetime.combine(
            wanted[-1] + datetime.timedelta(days=1),
            datetime.time(),
            timezone.get_current_timezone(),
        )
        # Called again inside one outer transaction (a job queued by a request), the tables of
        # the first call are still there: ON COMMIT DROP waits for the outermost commit.
        cursor.execute("DROP TABLE IF EXISTS snapshot_room, snapshot_seen")
        cursor.execute(_AREAS_SQL, [[str(use) for use in RENTED_USES]])
        cursor.execute(
            _SEEN_SQL, {"tz": tz, "failed": [str(o) for o in FAILED_OUTCOMES], "until": until}
        )
        cursor.execute("CREATE INDEX ON snapshot_seen (day, room_id)")
        cursor.execute("ANALYZE snapshot_room; ANALYZE snapshot_seen")
        cursor.execute("SELECT count(*) FROM snapshot_room")
        rooms = cursor.fetchone()[0]
        for n, day in enumerate(wanted):
            started = time.perf_counter()
            cursor.execute(_TAKE_SQL, {"day": day})
            CoverageSnapshotDay.objects.create(
                day=day, rooms=rooms, seconds=round(time.perf_counter() - started, 3)
            )
            if progress:
                progress(n + 1, len(wanted))
    return wanted


def take_missing(
    today: datetime.date | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[datetime.date]:
    """Take every missing snapshot of the horizon (the job, and ``manage.py
    coverage_snapshots``)."""
    return take_snapshots(missing_days(today), progress=progress)


def queue_missing(today: datetime.date | None = None) -> bool:
    """Queue the snapshot job when a day of the horizon is missing (at most once per
    :data:`QUEUE_EVERY_S`; a day found complete is remembered till the next); whether one was
    queued."""
    today = today or timezone.localdate()
    complete = f"grid:coverage-snapshots-complete:{today.isoformat()}"
    if cache.get(complete):
        return False
    if not missing_days(today):
        cache.set(complete, 1, 24 * 3600)
        return False
    if not cache.add("grid:coverage-snapshots-queued", 1, QUEUE_EVERY_S):
        return False
    from .tasks import take_coverage_snapshots_task

    take_coverage_snapshots_task.enqueue()
    return True


def snapshot_rows(day: datetime.date) -> QuerySet[CoverageSnapshot]:
    """The rows of the snapshot of ``day`` (none when it was not taken): filter them by
    ``area_code__startswith`` for a node."""
    return CoverageSnapshot.objects.filter(day=day)
