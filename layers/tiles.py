"""The map's vector tiles for a user: scope, shared cache, epoch and ETag around one SQL statement.

A tile (``gis.sql.map_tile``) depends on four things, which make its cache key:
  - the user's scope: the sorted territory code prefixes of their grants (a hash; superusers
    "*"), so that users with the same scope share tiles and no user is served another's;
  - z/x/y;
  - the display shift: ``PLATEGRID_BASEMAP["crs"]`` ("wgs84", or "gcj02" to draw our WGS84
    data on a GCJ-02 basemap);
  - the **epoch**: a random token in the shared cache, replaced after every committed change of
    the mapped tables (``gis.signals.map_data_changed``, connected in ``layers.apps``). A fresh
    random token, not a counter, so that two processes bumping at once can never bring back an
    earlier value.
Tiles live in the ``tiles`` cache (``settings.CACHES``), which every process (web server,
``db_worker``) shares; its ``TIMEOUT`` bounds how long a change made outside the services
(``psql``, another program), which bumps no epoch, may stay unseen.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import transaction

from gis.querysets import territory_prefixes
from gis.sql import map_tile

CACHE_ALIAS = "tiles"
EPOCH_KEY = "epoch"
#: Bumped when the tiles' layers or properties, or the form a tile is cached in, change: tiles
#: cached by an older version are not served.
TILE_FORMAT = 2
CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
#: How long a user's scope is remembered between tile requests (:func:`scope_of`): a grant
#: changed without Django's signals (raw SQL, ``QuerySet.update``) applies to tiles within it.
GRANTS_TIMEOUT_S = 60
MAX_ZOOM = 20
SHIFTS = ("wgs84", "gcj02")


@dataclass(frozen=True)
class Tile:
    body: bytes
    etag: str  # quoted, as in the ETag header


def etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


EMPTY = Tile(b"", etag(b""))


def tile_cache() -> BaseCache:
    return caches[CACHE_ALIAS]


def display_shift() -> str:
    """The shift applied to the tiles' geometries: the basemap's coordinate system."""
    return str(settings.PLATEGRID_BASEMAP.get("crs", "wgs84"))


def scope_key(prefixes: list[str] | None) -> str:
    """A short, stable name for a scope: "*" for everything, else a hash of the prefixes."""
    if prefixes is None:
        return "*"
    return hashlib.blake2b(",".join(sorted(prefixes)).encode(), digest_size=10).hexdigest()


def current_epoch() -> str:
    """The epoch in the shared cache, started afresh when missing (first use, cache cleared)."""
    return str(tile_cache().get_or_set(EPOCH_KEY, _new_epoch, timeout=None))


def bump_epoch(**_kwargs: Any) -> None:
    """Make every cached tile stale (receiver of ``gis.signals.map_data_changed``)."""
    tile_cache().set(EPOCH_KEY, _new_epoch(), timeout=None)


def _new_epoch() -> str:
    return secrets.token_hex(8)


def cache_key(prefixes: list[str] | None, z: int, x: int, y: int, *, shift: str, epoch: str) -> str:
    return f"t{TILE_FORMAT}:{epoch}:{shift}:{scope_key(prefixes)}:{z}/{x}/{y}"


def in_range(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def _grants_key(user_id: Any) -> str:
    return f"grants:{user_id}"


def scope_of(user: Any) -> list[str] | None:
    """``territory_prefixes(user)``, remembered in the shared cache for :data:`GRANTS_TIMEOUT_S`.

    A tile request then reads one small file instead of querying the grants (0.5 ms of the
    ORM's, about a tenth of a tile's overhead). The user row itself is read on every request
    (Django's session authentication), so deactivation and superuser status apply at once; a
    grant saved or deleted through Django forgets the remembered scope (:func:`forget_grants`).
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.is_superuser:
        return territory_prefixes(user)  # decided without a query
    cache = tile_cache()
    key = _grants_key(user.pk)
    prefixes = cache.get(key)
    if prefixes is None:
        prefixes = territory_prefixes(user)
        cache.set(key, prefixes, GRANTS_TIMEOUT_S)
    return list(prefixes)


def forget_grants(*, instance: Any, **_kwargs: Any) -> None:
    """Receiver of ``post_save``/``post_delete`` of ``ScopeGrant``: the user's scope is read
    afresh, now and again after the commit (a request may have read the old grants meanwhile)."""
    forget = partial(tile_cache().delete, _grants_key(instance.user_id))
    forget()
    transaction.on_commit(forget)


def tile_for(user: Any, z: int, x: int, y: int) -> Tile:
    """Tile z/x/y as ``user`` may see it, from the shared cache or made and stored there.

    A user without grants gets the empty tile without running the tile statement. z/x/y must be
    in range (:func:`in_range`).
    """
    prefixes = scope_of(user)
    if prefixes is not None and not prefixes:
        return EMPTY
    shift = display_shift()
    key = cache_key(prefixes, z, x, y, shift=shift, epoch=current_epoch())
    cache = tile_cache()
    tile = cache.get(key)
    if tile is None:
        body = map_tile(z, x, y, prefixes=prefixes, gcj02=shift == "gcj02")
        tile = Tile(body, etag(body))
        cache.set(key, tile)
    return tile
