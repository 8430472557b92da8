"""API routes of the visits (included by web.api.urls). Every route must have a row in
tests/web/test_permission_matrix.py."""

from django.urls import URLPattern, path

from . import visits as views

urlpatterns: list[URLPattern] = [
    path("visits/", views.VisitListView.as_view(), name="visit-list"),
    path("coverage/", views.TerritoryCoverageView.as_view(), name="territory-coverage"),
    path("sweeps/<int:pk>/coverage/", views.SweepCoverageView.as_view(), name="sweep-coverage"),
    path("sweeps/<int:pk>/gaps/", views.SweepGapsView.as_view(), name="sweep-gaps"),
]
