"""System checks of the map settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.utils.translation import gettext as _

from .tiles import SHIFTS


def check_basemap(app_configs: Any = None, **_kwargs: Any) -> list[CheckMessage]:
    """``PLATEGRID_BASEMAP["crs"]`` names a shift the tiles know."""
    crs = getattr(settings, "PLATEGRID_BASEMAP", {}).get("crs", "wgs84")
    if crs in SHIFTS:
        return []
    return [
        Error(
            _(
                "PLATEGRID_BASEMAP['crs'] is %(value)r: use \"wgs84\" (a basemap in WGS84 or "
                'CGCS2000, such as Tianditu) or "gcj02" (a GCJ-02 basemap: the tiles are '
                "shifted to match it)."
            )
            % {"value": crs},
            id="layers.E001",
        )
    ]
