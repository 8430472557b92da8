"""API routes of the sweeps (included by web.api.urls). Every route must have a row in
tests/web/test_permission_matrix.py."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
