"""Signals the register sends to the apps that read it (``gis`` imports none of them).

:data:`map_data_changed` is sent after a transaction that changed a table the map draws from has
been committed: ``layers`` bumps the epoch of its tile cache on it. It is sent once per committed
transaction (however many rows it wrote), with ``sender=None`` and no arguments; nothing is sent
for a transaction that is rolled back. Changes made outside the services (``psql``, another
program) send nothing: the tile cache's time-out covers them.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.dispatch import Signal

map_data_changed = Signal()

#: The tables the map draws: the territory tree, compounds, buildings, door plates, streets. A
#: change of a room, an entrance or a landlord is announced only when it deletes something (a
#: room's or an entrance's door plates go with it).
MAPPED_MODELS = (
    "geo.district",
    "geo.streetoffice",
    "geo.community",
    "geo.compound",
    "geo.building",
    "geo.doorplate",
    "geo.street",
)


def is_mapped(model: Any) -> bool:
    """Whether rows of ``model`` (a model class or instance) are drawn on the map."""
    return model._meta.label_lower in MAPPED_MODELS


class _Announcement:
    """The on-commit callback; it remembers having run (a test may run it before any commit)."""

    sent = False

    def __call__(self) -> None:
        self.sent = True
        map_data_changed.send(sender=None)


def announce_map_change(using: str = DEFAULT_DB_ALIAS) -> None:
    """Send :data:`map_data_changed` when the current transaction commits (at once outside one).

    Registered once per transaction: an import saving 10,000 buildings row by row bumps the tile
    epoch once. A savepoint rolled back takes its registration with it, so a later change in the
    same transaction registers again.
    """
    pending = connections[using].run_on_commit
    if any(isinstance(entry[1], _Announcement) and not entry[1].sent for entry in pending):
        return
    transaction.on_commit(_Announcement(), using=using)
