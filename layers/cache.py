"""The tiles' cache backend: Django's file-based cache, culled now and then instead of at every
write.

``FileBasedCache.set`` lists the whole cache folder on every write to decide whether to cull;
with tens of thousands of tiles that listing costs more than writing the tile. Here it is done on
one write in :attr:`TileFileCache.cull_every` (per process), so the folder may hold a few hundred
entries more than ``MAX_ENTRIES`` for a while. Culling is Django's: a random ``1/CULL_FREQUENCY``
of the files (tiles of old epochs are never read again and go this way, or when read after
their time-out).
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.filebased import FileBasedCache


class TileFileCache(FileBasedCache):
    cull_every = 200

    def __init__(self, dir: str, params: dict[str, Any]) -> None:
        super().__init__(dir, params)
        self._writes = 0

    def _cull(self) -> None:
        self._writes += 1
        if self._writes % self.cull_every == 0:
            super()._cull()
