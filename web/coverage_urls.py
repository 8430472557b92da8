"""Pages of the coverage maps under ``/coverage/`` (included by web.urls)."""

from __future__ import annotations

from web import coverage_export, coverage_pages, dashboard_pages

urlpatterns = [
    *coverage_export.urlpatterns,
    *dashboard_pages.urlpatterns,
    *coverage_pages.urlpatterns,
]
