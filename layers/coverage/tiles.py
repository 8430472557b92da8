"""Coverage vector tiles for a user: the window, scope, cache, epoch and ETag around one
statement of ``layers.coverage.sql`` (docs/coverage.md).

A coverage tile depends on what a map tile depends on (``layers.tiles``: the user's scope, z/x/y,
the display shift, the map epoch kept in the map's cache) and on the window (``days``,
``rented``, the day it ends); a tile is kept in a cache of its own (:data:`CACHE_ALIAS`). It
also changes with every visit, which bumps no epoch: its cache key holds a time bucket of
``settings.PLATEGRID_COVERAGE_TILE_BUCKET_S`` seconds, so a visit shows on the map within that
time. Cells with fewer rooms than ``settings.PLATEGRID_GAP_MIN_CELL`` are never in a tile, and
buildings with fewer are sent as their footprints without figures.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.exceptions import InvalidInputError
from gis.models import Building
from grid.coverage import parse_days, window_since
from layers.tiles import (
    EMPTY,
    Tile,
    current_epoch,
    display_shift,
    etag,
    scope_key,
    scope_of,
)

from . import sql

#: Bumped when the layers or properties of coverage tiles change: older cached tiles are not
#: served.
TILE_FORMAT = 1
#: The cache of coverage tiles (``settings.CACHES``): not the map's ``tiles``, whose tiles the
#: culling of a new set of coverage tiles every bucket would evict.
CACHE_ALIAS = "coverage_tiles"


@dataclass(frozen=True)
class Window:
    """Rooms seen in the last ``days`` days up to ``today`` (``None``: ever), of all rooms or
    ``rented`` rooms only."""

    days: int | None
    rented: bool
    today: datetime.date

    @property
    def since(self) -> datetime.date | None:
        """The window's first day (today included in the window), ``None`` for all time."""
        if self.days is None:
            return None
        return window_since(self.days, self.today)

    @property
    def key(self) -> str:
        return f"{self.days or 'all'}:{int(self.rented)}:{self.today.isoformat()}"


#: The spellings of ``?rented=`` of the coverage routes (tiles, choropleth, page, exports).
RENTED_VALUES = {None: False, "": False, "0": False, "false": False, "1": True, "true": True}


def parse_rented(value: Any) -> bool:
    """``?rented=`` of every coverage route: ``1`` or ``true`` (rented rooms only), ``0``,
    ``false``, empty or absent (all rooms); anything else is an InvalidInputError on
    ``rented``."""
    if isinstance(value, str | None) and value in RENTED_VALUES:
        return RENTED_VALUES[value]
    raise InvalidInputError(
        _("rented is 0 (all rooms) or 1 (rented rooms only), not %(value)s."),
        code="bad_rented",
        field="rented",
        value=repr(value)[:20],
    )


def parse_window(days: Any, rented: Any, *, today: datetime.date | None = None) -> Window:
    """The window of ``?days=`` (7, 30, 90 or all) and ``?rented=`` (0 or 1); InvalidInputError
    names the bad one."""
    return Window(parse_days(days), parse_rented(rented), today or timezone.localdate())


def time_bucket(now: float | None = None) -> int:
    """The current period of ``PLATEGRID_COVERAGE_TILE_BUCKET_S`` seconds (a cache key part)."""
    seconds = max(int(settings.PLATEGRID_COVERAGE_TILE_BUCKET_S), 1)
    return int((time.time() if now is None else now) // seconds)


def cache_key(
    prefixes: list[str] | None,
    z: int,
    x: int,
    y: int,
    *,
    window: Window,
    shift: str,
    epoch: str,
    bucket: int,
    min_rooms: int,
) -> str:
    return (
        f"cov{TILE_FORMAT}:{epoch}:{bucket}:{shift}:{scope_key(prefixes)}:{window.key}:"
        f"{min_rooms}:{z}/{x}/{y}"
    )


def coverage_cache() -> BaseCache:
    return caches[CACHE_ALIAS]


def coverage_tile_for(user: Any, z: int, x: int, y: int, window: Window) -> Tile:
    """Coverage tile z/x/y of ``window`` as ``user`` may see it (only buildings of their
    territory), from the coverage tiles' cache or made and stored there. A user without grants
    gets the empty tile without a query. z/x/y must be in range (``layers.tiles.in_range``)."""
    prefixes = scope_of(user)
    if prefixes is not None and not prefixes:
        return EMPTY
    shift = display_shift()
    min_rooms = int(settings.PLATEGRID_GAP_MIN_CELL)
    key = cache_key(
        prefixes,
        z,
        x,
        y,
        window=window,
        shift=shift,
        epoch=current_epoch(),
        bucket=time_bucket(),
        min_rooms=min_rooms,
    )
    cache = coverage_cache()
    tile = cache.get(key)
    if tile is None:
        body = sql.coverage_tile(
            z,
            x,
            y,
            prefixes=prefixes,
            since=window.since,
            rented=window.rented,
            min_rooms=min_rooms,
            gcj02=shift == "gcj02",
        )
        tile = Tile(body, etag(body))
        # Kept no longer than its bucket lasts: a later request makes a new key anyway.
        cache.set(key, tile, int(settings.PLATEGRID_COVERAGE_TILE_BUCKET_S))
    return tile


def recount_buildings(ids: Iterable[int] | None = None) -> int:
    """Recount the per-building coverage (``layers.models.BuildingCoverage``) of the buildings
    ``ids`` (``None``: every building) from their rooms and visit states, making the rows that
    are missing (``layers_coverage_recount`` of migration layers/0002); returns how many
    buildings. The triggers keep the rows exact; this is for after a restore or a bulk change
    made with them disabled (``manage.py rebuild_coverage`` calls it). Rows are locked in the
    order of their ids: run it inside a transaction."""
    if ids is None:
        found = list(Building.objects.order_by("pk").values_list("pk", flat=True))
    else:
        found = sorted({int(pk) for pk in ids})
    if found:
        with connection.cursor() as cursor:
            cursor.execute("SELECT layers_coverage_recount(%s::bigint[], true)", [found])
    return len(found)
