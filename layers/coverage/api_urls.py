"""API routes of the coverage maps under ``/api/coverage/`` (included by layers.api_urls). Every
route must have a row in tests/web/test_permission_matrix.py."""

from __future__ import annotations

from . import dashboard_api, gap_api, map_api

urlpatterns = [*map_api.urlpatterns, *gap_api.urlpatterns, *dashboard_api.urlpatterns]
