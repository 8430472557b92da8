"""API routes of the field packs (included by web.api.urls). Every route must have a row in
tests/web/test_permission_matrix.py."""

from django.urls import URLPattern, URLResolver, include, path

from . import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("coverage/", include("layers.coverage.api_urls")),
    path("sheets/", api.SheetListView.as_view(), name="sheet-list"),
    path("sheets/<uuid:pk>/", api.SheetDetailView.as_view(), name="sheet-detail"),
    path("sheets/<uuid:pk>/<str:fmt>/", api.SheetFileView.as_view(), name="sheet-file"),
]
