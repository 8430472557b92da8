"""The basemap setting is checked at start-up."""

from __future__ import annotations

from layers.checks import check_basemap


def test_known_basemap_crs_passes(settings):
    for crs in ("wgs84", "gcj02"):
        settings.PLATEGRID_BASEMAP = {**settings.PLATEGRID_BASEMAP, "crs": crs}
        assert check_basemap() == []


def test_unknown_basemap_crs_is_an_error(settings):
    settings.PLATEGRID_BASEMAP = {**settings.PLATEGRID_BASEMAP, "crs": "bd09"}
    (error,) = check_basemap()
    assert error.id == "layers.E001"
    assert "'bd09'" in str(error.msg)
    assert "gcj02" in str(error.msg)
