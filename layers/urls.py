"""Map product URLs, included under ``/tiles/`` by ``web/urls.py``."""

from __future__ import annotations

from django.urls import include, path

from . import views

app_name = "layers"

urlpatterns = [
    path("coverage/", include("layers.coverage.tile_urls")),
    path("<int:z>/<int:x>/<int:y>.mvt", views.tile, name="tile"),
]
