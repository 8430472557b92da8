from __future__ import annotations

from django.apps import AppConfig


class LayersConfig(AppConfig):
    name = "layers"

    def ready(self) -> None:
        from django.core import checks

        from gis.signals import map_data_changed

        from . import tiles
        from .checks import check_basemap

        # Every process that can change the register (web server, db_worker, commands) makes
        # the cached tiles stale after its commit.
        map_data_changed.connect(tiles.bump_epoch, dispatch_uid="layers.tiles.bump_epoch")
        checks.register(check_basemap)
