from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from web import field, grid_pages, imports, map_export, sheet_pages, sweep_pages, views

urlpatterns = [
    path("", views.index, name="index"),
    path("map/", views.map_page, name="map"),
    path("map/export.html", map_export.export_html_map, name="map-export"),
    path("grids/", grid_pages.grid_index, name="grids"),
    path("field/", field.field_page, name="field"),
    path("field/sw.js", field.field_service_worker, name="field-sw"),
    # Before "grids/<str:code>/" (the zone drawing page): "staffing" is not a code.
    path("grids/staffing/", grid_pages.grid_staffing, name="grid-staffing"),
    path("grids/<str:code>/network/", grid_pages.grid_network, name="grid-network"),
    path("grids/<str:code>/", views.grid_edit, name="grid-edit"),
    path("sweeps/", sweep_pages.sweep_index, name="sweeps"),
    path("sweeps/<int:pk>/", sweep_pages.sweep_detail, name="sweep-page"),
    path("sheets/", sheet_pages.sheet_page, name="sheets"),
    path("coverage/", include("web.coverage_urls")),
    path("register/", include("web.register_pages")),
    path("audit/", include("web.audit_pages")),
    path("exchange/", include("web.exchange_pages")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("web.api.urls")),
    path("tiles/", include("layers.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("imports/", imports.import_list, name="import-list"),
    path("imports/<uuid:pk>/", imports.import_detail, name="import-detail"),
    path("imports/<uuid:pk>/status/", imports.import_status, name="import-status"),
    path("imports/<uuid:pk>/report.csv", imports.import_issues_csv, name="import-issues-csv"),
    path("imports/<uuid:pk>/file", imports.import_file, name="import-file"),
    path("exports/", imports.export_page, name="export-page"),
    path("exports/<str:layer>.<str:fmt>", imports.export_download, name="export-download"),
]
