"""API routes of the sweeps (included by web.api.urls). Every route must have a row in
tests/web/test_permission_matrix.py. ``sweeps/mine/`` comes before ``sweeps/<id>/``."""

from django.urls import URLPattern, path

from . import sweeps as views

urlpatterns: list[URLPattern] = [
    path("sweeps/", views.SweepListView.as_view(), name="sweep-list"),
    path("sweeps/mine/", views.SweepMineView.as_view(), name="sweep-mine"),
    path("sweeps/<int:pk>/", views.SweepDetailView.as_view(), name="sweep-detail"),
    path("sweeps/<int:pk>/close/", views.SweepCloseView.as_view(), name="sweep-close"),
    path("sweeps/<int:pk>/teams/", views.SweepTeamListView.as_view(), name="sweep-team-list"),
    path(
        "sweeps/<int:pk>/teams/<int:team_id>/",
        views.SweepTeamDetailView.as_view(),
        name="sweep-team-detail",
    ),
    path(
        "sweeps/<int:pk>/teams/<int:team_id>/route/",
        views.SweepTeamRouteView.as_view(),
        name="sweep-team-route",
    ),
    path(
        "sweeps/<int:pk>/plan-jobs/", views.SweepPlanJobListView.as_view(), name="sweep-plan-jobs"
    ),
    path(
        "sweep-plan-jobs/<uuid:pk>/",
        views.SweepPlanJobDetailView.as_view(),
        name="sweep-plan-job-detail",
    ),
    path("sweeps/<int:pk>/plans/", views.SweepPlanListView.as_view(), name="sweep-plans"),
    path("sweeps/<int:pk>/plan/", views.SweepPlanView.as_view(), name="sweep-plan"),
    path("sweeps/<int:pk>/plan/edits/", views.SweepPlanEditView.as_view(), name="sweep-plan-edits"),
]
