"""API routes. Every route must have a row in tests/web/test_permission_matrix.py."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from gis.api import map_views
from gis.api import views as gis_views
from grid.api import views as grid_views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("districts", gis_views.DistrictViewSet, basename="district")
router.register("street-offices", gis_views.StreetOfficeViewSet, basename="street-office")
router.register("communities", gis_views.CommunityViewSet, basename="community")
router.register("compounds", gis_views.CompoundViewSet, basename="compound")
router.register("buildings", gis_views.BuildingViewSet, basename="building")
router.register("entrances", gis_views.EntranceViewSet, basename="entrance")
router.register("rooms", gis_views.RoomViewSet, basename="room")
router.register("door-plates", gis_views.DoorPlateViewSet, basename="door-plate")
router.register("landlords", gis_views.LandlordViewSet, basename="landlord")
router.register("zones", grid_views.ZoneViewSet, basename="zone")
router.register("staff", grid_views.StaffViewSet, basename="staff")
router.register("assignments", grid_views.AssignmentViewSet, basename="assignment")

urlpatterns = [
    path("zones/coverage/", grid_views.CoverageView.as_view(), name="zone-coverage"),
    path("zones/changes/", grid_views.ZoneChangesView.as_view(), name="zone-changes"),
    path("zones/renumber/", grid_views.ZoneRenumberView.as_view(), name="zone-renumber"),
    path("zones/cut/", grid_views.ZoneCutView.as_view(), name="zone-cut"),
    path("zones/merge/", grid_views.ZoneMergeView.as_view(), name="zone-merge"),
    path("staffing-gaps/", grid_views.StaffingGapsView.as_view(), name="staffing-gaps"),
    path("partitions/", grid_views.PartitionListView.as_view(), name="partition-list"),
    path(
        "partitions/<uuid:pk>/", grid_views.PartitionDetailView.as_view(), name="partition-detail"
    ),
    path(
        "partitions/<uuid:pk>/apply/",
        grid_views.PartitionApplyView.as_view(),
        name="partition-apply",
    ),
    path("", include("grid.api.sweep_urls")),
    path("", include("grid.api.visit_urls")),
    path("", include("layers.api_urls")),
    # The people register (registry) and the department exchange (data).
    path("registry/", include("registry.api.people")),
    path("registry/", include("registry.api.ratings")),
    path("registry/", include("layers.register_api")),
    path("exchange/", include("data.exchange_api")),
    *router.urls,
    path("search/", map_views.SearchView.as_view(), name="search"),
    path("territory/", map_views.TerritoryView.as_view(), name="territory"),
    path("address/parse/", gis_views.AddressParseView.as_view(), name="address-parse"),
    path("me/", gis_views.MeView.as_view(), name="me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
