"""layers.cache.TileFileCache: Django's file cache without zlib, culled every N writes."""

from __future__ import annotations

from pathlib import Path

from layers.cache import TileFileCache


def make(tmp_path: Path, **options: int) -> TileFileCache:
    return TileFileCache(str(tmp_path), {"TIMEOUT": 60, "OPTIONS": options})


def test_values_round_trip_uncompressed(tmp_path):
    cache = make(tmp_path)
    body = b"\x1a\x02" * 1000
    cache.set("tile", (body, '"etag"'))
    assert cache.get("tile") == (body, '"etag"')
    (path,) = tmp_path.glob("*.djcache")
    assert body in path.read_bytes()  # as sent, not zlib-compressed
    assert cache.get("missing", "default") == "default"


def test_expired_and_foreign_files_are_misses(tmp_path):
    cache = make(tmp_path)
    cache.set("old", b"x", timeout=-1)
    assert cache.get("old") is None
    cache.set("foreign", b"x")
    (path,) = tmp_path.glob("*.djcache")
    path.write_bytes(path.read_bytes()[:-3] + b"zzz")  # not a pickle any more
    assert cache.get("foreign") is None
    assert not path.exists()


def test_touch_keeps_the_value(tmp_path):
    cache = make(tmp_path)
    cache.set("tile", b"abc", timeout=1)
    assert cache.touch("tile", timeout=None)
    assert cache.get("tile") == b"abc"
    assert not cache.touch("missing")


def test_culls_only_every_so_many_writes(tmp_path):
    cache = make(tmp_path, MAX_ENTRIES=10, CULL_FREQUENCY=2)
    cache.cull_every = 25
    for n in range(24):
        cache.set(f"k{n}", n)
    assert len(list(tmp_path.glob("*.djcache"))) == 24  # over MAX_ENTRIES, not yet culled
    cache.set("k24", 24)  # the 25th write looks at the folder
    assert len(list(tmp_path.glob("*.djcache"))) == 25 - 24 // 2
