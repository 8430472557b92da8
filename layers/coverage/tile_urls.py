"""Coverage tiles under ``/tiles/coverage/`` (included by layers.urls)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
