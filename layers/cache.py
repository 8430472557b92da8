"""The tiles' cache backend: Django's file-based cache without compression, culled now and then.

Two costs of ``FileBasedCache`` that matter for tiles, measured on a 140-KB z14 tile:
  - it zlib-compresses every value (5.5 ms at the default level, 2 ms at level 1: more than the
    rest of the request) and decompresses it on every read (0.5 ms); a tile is stored here as
    it is sent, so a cached read is a file read (the folder takes about 3 times the room);
  - ``set`` lists the whole folder on every write to decide whether to cull; here that is done
    on one write in :attr:`TileFileCache.cull_every` (per process), so the folder may hold a
    few hundred entries more than ``MAX_ENTRIES`` for a while. Culling is Django's: a random
    ``1/CULL_FREQUENCY`` of the files (tiles of earlier epochs, never read again, go this way or
    when read after their time-out).
Files of this backend are not readable by ``FileBasedCache`` and the other way round: give it a
folder of its own.
"""

from __future__ import annotations

import pickle
from typing import IO, TYPE_CHECKING, Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.files import locks

if TYPE_CHECKING:  # the private helpers we use, which django-stubs does not declare

    class _FileCache(FileBasedCache):
        def _key_to_file(self, key: str, version: int | None = None) -> str: ...
        def _is_expired(self, f: IO[bytes]) -> bool: ...
        def _delete(self, fname: str) -> bool: ...
        def _cull(self) -> None: ...

else:
    _FileCache = FileBasedCache


class TileFileCache(_FileCache):
    cull_every = 200

    def __init__(self, dir: str, params: dict[str, Any]) -> None:
        super().__init__(dir, params)
        self._writes = 0

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        fname = self._key_to_file(key, version)
        try:
            with open(fname, "rb") as f:
                if not self._is_expired(f):
                    return pickle.loads(f.read())  # noqa: S301 - our own files
        except FileNotFoundError:
            pass
        except (pickle.UnpicklingError, EOFError):  # not written by this backend: a miss
            self._delete(fname)
        return default

    def _write_content(self, file: IO[bytes], timeout: Any, value: Any) -> None:
        expiry = self.get_backend_timeout(timeout)
        file.write(pickle.dumps(expiry, self.pickle_protocol))
        file.write(pickle.dumps(value, self.pickle_protocol))

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            with open(self._key_to_file(key, version), "r+b") as f:
                try:
                    locks.lock(f, locks.LOCK_EX)
                    if self._is_expired(f):
                        return False
                    value = pickle.loads(f.read())  # noqa: S301 - our own files
                    f.seek(0)
                    self._write_content(f, timeout, value)
                    f.truncate()
                    return True
                finally:
                    locks.unlock(f)
        except FileNotFoundError:
            return False

    def _cull(self) -> None:
        self._writes += 1
        if self._writes % self.cull_every == 0:
            super()._cull()
