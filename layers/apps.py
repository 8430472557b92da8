from __future__ import annotations

from django.apps import AppConfig


class LayersConfig(AppConfig):
    name = "layers"

    def ready(self) -> None:
        from django.core import checks
        from django.db.models.signals import post_delete, post_save

        from gis.models import ScopeGrant
        from gis.signals import map_data_changed

        from . import tiles
        from .checks import check_basemap

        # Every process that can change the register (web server, db_worker, commands) makes
        # the cached tiles stale after its commit.
        map_data_changed.connect(tiles.bump_epoch, dispatch_uid="layers.tiles.bump_epoch")
        # A user's scope is remembered for the tiles; a changed grant forgets it.
        for signal in (post_save, post_delete):
            signal.connect(tiles.forget_grants, sender=ScopeGrant, dispatch_uid="layers.grants")
        checks.register(check_basemap)
