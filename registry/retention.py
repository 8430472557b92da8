"""Retention: personal data is kept while it serves its purpose, then deleted everywhere.

``purge(today)`` (``manage.py registry_retention``, daily from cron or the worker):

- **People who left.** A resident with no current occupancy whose last move-out lies more than
  ``PLATEGRID_RETENTION["resident_days"]`` ago is deleted with their occupancies, follow-ups and
  tenancy contracts (and the contracts' scan files); a household dissolved that long ago goes with
  its supplies lines. Their history rows (pghistory events, which hold old ciphertexts) are deleted
  too — every row that names them, including the deletion events just written.
- **Old history.** Events of personal tables older than ``history_days`` are deleted.
- **Files.** Other apps register purgers for the files they keep (the department exchange's
  uploads, generated exports): :func:`register_purger`; each gets ``today`` and the settings.

The access log is not purged: it is the record of who saw what (kept as long as the law asks,
outside this job). The job runs as ``plategrid_admin``, which bypasses row-level security.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max, Q

from .models import Household, Occupancy, Resident, TenancyContract
from .privacy import ADMINISTRATOR, HISTORY_TABLES, personal

Purger = Callable[[date, dict[str, Any]], dict[str, int]]
_purgers: list[Purger] = []

#: Event table → the columns naming a resident / a household in it.
_RESIDENT_COLUMNS = {
    "registry_residentevent": "pgh_obj_id",
    "registry_occupancyevent": "resident_id",
    "registry_followupevent": "resident_id",
    "registry_tenancycontractevent": "tenant_id",
}
_HOUSEHOLD_COLUMNS = {
    "registry_householdevent": "pgh_obj_id",
    "registry_occupancyevent": "household_id",
    "registry_supplydistributionevent": "household_id",
}


def register_purger(purger: Purger) -> Purger:
    if purger not in _purgers:
        _purgers.append(purger)
    return purger


def policy() -> dict[str, Any]:
    return {"resident_days": 3 * 365, "history_days": 3 * 365, "files_days": 90} | dict(
        settings.PLATEGRID_RETENTION
    )


def purge(today: date | None = None, *, dry_run: bool = False) -> dict[str, int]:
    today = today or date.today()
    rules = policy()
    cutoff = today - timedelta(days=rules["resident_days"])
    counts: dict[str, int] = {}
    with personal(system=True, role=ADMINISTRATOR):
        current = Occupancy.objects.current()
        left = (
            Resident.objects.annotate(last_out=Max("occupancies__moved_out"))
            .exclude(pk__in=current.values("resident"))
            .filter(Q(last_out__lt=cutoff) | Q(last_out__isnull=True, created_at__date__lt=cutoff))
        )
        residents = list(left.values_list("pk", flat=True))
        households = list(
            Household.objects.filter(dissolved_on__lt=cutoff)
            .exclude(pk__in=current.values("household"))
            .values_list("pk", flat=True)
        )
        counts["residents"], counts["households"] = len(residents), len(households)
        if dry_run:
            return counts
        scans = list(
            TenancyContract.objects.filter(tenant__in=residents)
            .exclude(scan="")
            .values_list("scan", flat=True)
        )
        Resident.objects.filter(pk__in=residents).delete()
        Household.objects.filter(pk__in=households).delete()
        with connection.cursor() as cursor:
            counts["history"] = _delete_events(cursor, _RESIDENT_COLUMNS, residents)
            counts["history"] += _delete_events(cursor, _HOUSEHOLD_COLUMNS, households)
            since = today - timedelta(days=rules["history_days"])
            for table in HISTORY_TABLES:
                cursor.execute(
                    f"DELETE FROM {table} WHERE pgh_created_at < %s",  # noqa: S608 (our names)
                    [since],
                )
                counts["history"] += cursor.rowcount
    counts["files"] = _delete_files(scans)
    for purger in _purgers:
        for key, value in purger(today, rules).items():
            counts[key] = counts.get(key, 0) + value
    return counts


def _delete_events(cursor: Any, columns: dict[str, str], ids: list[int]) -> int:
    if not ids:
        return 0
    total = 0
    for table, column in columns.items():
        cursor.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", [ids])  # noqa: S608
        total += cursor.rowcount
    return total


def _delete_files(names: list[str]) -> int:
    storage = TenancyContract._meta.get_field("scan").storage
    for name in names:
        storage.delete(name)
    return len(names)
