"""The permission matrix of the API: every route × role × scope × method, one test id per cell.

The routes are enumerated from the URL resolver, so a new route under ``/api/`` without a row in
:data:`MATRIX` fails :func:`test_every_api_route_has_a_row` ("route X has no row in the permission
matrix"), and a route method without a row fails :func:`test_every_route_method_has_a_row`.

The rule being checked:

* every read goes through ``visible_to(user)``: an object outside the user's scope answers 404
  (territory nodes above the user's own node are visible, read-only);
* a user holding only ``read_only`` grants gets 403 on every write (even for objects they cannot
  see: the request-level permission runs before the object lookup);
* a writer gets 2xx inside their scope, 404 for a write to an object they cannot see, and 403 when
  creating in a community outside their write scope (``ScopeError``);
* territory nodes (districts, street offices, communities) are written by district
  administrators only: other roles get 403 on nodes they can see;
* anonymous requests get 403 (session authentication comes first, and it sends no
  ``WWW-Authenticate`` challenge, so DRF answers 403 rather than 401);
* the schema and its docs page are public.

Scopes (``users`` fixture: worker and reader hold the ``home`` community, the street supervisor
street office 420606001, the district administrator district 420606):

* ``inside``: ``home`` community (territory routes: the nodes 420606 / 420606001 / home);
* ``sibling`` (property routes only): the ``away`` community, same street office as ``home`` —
  outside the worker's and the reader's scope, inside the supervisor's and the administrator's;
* ``outside``: a second district 420602 (office 420602001, community 420602001001), outside
  everybody's scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from gis import services
from gis.models import (
    Building,
    Community,
    Compound,
    District,
    DoorPlate,
    Entrance,
    Landlord,
    Role,
    Room,
    StreetOffice,
)
from grid import jobs
from grid import services as grid_services
from grid.models import Assignment, AssignmentRole, PartitionJob, Staff, Zone

from ..conftest import Territory
from ..factories import (
    BuildingFactory,
    CommunityFactory,
    CompoundFactory,
    DistrictFactory,
    EntranceFactory,
    LandlordFactory,
    RoomFactory,
    StreetOfficeFactory,
    UserFactory,
    box,
    mbox,
)
from ..grid.factories import AssignmentFactory, StaffFactory

ANONYMOUS = "anonymous"
ROLES = (
    Role.DISTRICT_ADMIN.value,
    Role.STREET_SUPERVISOR.value,
    Role.COMMUNITY_WORKER.value,
    Role.READ_ONLY.value,
    ANONYMOUS,
)
ANY_SCOPE = ""  # routes that show no register object (me, address parser, schema, docs)


@dataclass(frozen=True)
class Listed:
    """A list answers 200; the scope's object is in it (``shown``) or not."""

    shown: bool
    status: int = 200


Y, N = Listed(True), Listed(False)

# Each grid: scope → statuses in ROLES order
# (district_admin, street_supervisor, community_worker, read_only, anonymous).
Grid = dict[str, tuple[Any, ...]]

# -- property: compounds, buildings, entrances, rooms, door plates, landlords; and the grids'
# zones, staff and assignments, scoped the same way through their community ------------------
PROPERTY_LIST: Grid = {
    "inside": (Y, Y, Y, Y, 403),
    "sibling": (Y, Y, N, N, 403),
    "outside": (N, N, N, N, 403),
}
PROPERTY_CREATE: Grid = {
    "inside": (201, 201, 201, 403, 403),
    "sibling": (201, 201, 403, 403, 403),
    "outside": (403, 403, 403, 403, 403),
}
PROPERTY_READ: Grid = {
    "inside": (200, 200, 200, 200, 403),
    "sibling": (200, 200, 404, 404, 403),
    "outside": (404, 404, 404, 404, 403),
}
PROPERTY_PATCH: Grid = {
    "inside": (200, 200, 200, 403, 403),
    "sibling": (200, 200, 404, 403, 403),
    "outside": (404, 404, 404, 403, 403),
}
PROPERTY_DELETE: Grid = {
    "inside": (204, 204, 204, 403, 403),
    "sibling": (204, 204, 404, 403, 403),
    "outside": (404, 404, 404, 403, 403),
}
PROPERTY_UNDO = PROPERTY_PATCH

# -- territory: districts, street offices, communities ---------------------------------------
TERRITORY_LIST: Grid = {"inside": (Y, Y, Y, Y, 403), "outside": (N, N, N, N, 403)}
TERRITORY_READ: Grid = {
    "inside": (200, 200, 200, 200, 403),  # worker and reader see the nodes above their own
    "outside": (404, 404, 404, 404, 403),
}
TERRITORY_WRITE: Grid = {
    "inside": (200, 403, 403, 403, 403),
    "outside": (404, 404, 404, 403, 403),
}
TERRITORY_CREATE: Grid = {
    "inside": (201, 403, 403, 403, 403),
    "outside": (403, 403, 403, 403, 403),
}
TERRITORY_DELETE: Grid = {
    "inside": (204, 403, 403, 403, 403),
    "outside": (404, 404, 404, 403, 403),
}
# A district administrator's only district is their own: creating it again is a duplicate and
# deleting it is refused while it has street offices (409 — the permission check passed).
DISTRICT_CREATE: Grid = {**TERRITORY_CREATE, "inside": (409, 403, 403, 403, 403)}
DISTRICT_DELETE: Grid = {**TERRITORY_DELETE, "inside": (409, 403, 403, 403, 403)}

# -- the map page: a room split is a write that creates a room (201)
ROOM_SPLIT: Grid = {
    "inside": (201, 201, 201, 403, 403),
    "sibling": (201, 201, 404, 403, 403),
    "outside": (404, 404, 404, 403, 403),
}

# -- the zone-drawing page: several zone changes at once (a dry run here, which writes nothing),
# checked as a change of the community's property
ZONE_CHANGES = PROPERTY_PATCH

# -- partition jobs: submitting is a write (202, the job is queued); reading and applying a job
# are scoped through its community
PARTITION_SUBMIT: Grid = {
    scope: tuple(202 if status == 200 else status for status in row)
    for scope, row in PROPERTY_PATCH.items()
}

# -- sweeps (part "sweeps"): a sweep of the scope's community is scoped like its property;
# adding a team, editing the plan answer 201, submitting a planning job 202
SWEEP_ADD: Grid = {
    scope: tuple(201 if status == 200 else status for status in row)
    for scope, row in PROPERTY_PATCH.items()
}

# -- visits (part "visits"): each posted visit is checked on its own, so a room the writer cannot
# write is an error result inside a 200 (nothing stored), not a 404; 201 when one was stored
VISIT_POST: Grid = {
    "inside": (201, 201, 201, 403, 403),
    "sibling": (201, 201, 200, 403, 403),
    "outside": (200, 200, 200, 403, 403),
}

# -- field packs (map sheets): submitting a pack of the scope's building is a job like a
# partition (202, queued; read-only accounts make none, a building out of sight is 404); a pack
# is its submitter's alone, so another user's job answers 404 to all
SHEET_SUBMIT = PARTITION_SUBMIT
SHEET_OF_ANOTHER: Grid = {ANY_SCOPE: (404, 404, 404, 404, 403)}

SIGNED_IN: Grid = {ANY_SCOPE: (200, 200, 200, 200, 403)}
PUBLIC: Grid = {ANY_SCOPE: (200, 200, 200, 200, 200)}

#: Coverage routes (layers.coverage) → the query besides ``code``.
COVERAGE_QUERIES: dict[str, dict[str, str]] = {
    "coverage-map": {"days": "30"},
    "coverage-gaps": {"kind": "never_visited_buildings"},
    "coverage-dashboard-api": {},
    "coverage-dashboard-xlsx": {},
    # The month under way reads the live counts: no snapshot needed.
    "coverage-report": {"month": timezone.localdate().strftime("%Y-%m"), "format": "pdf"},
}


#: route name → HTTP method → grid.
MATRIX: dict[str, dict[str, Grid]] = {
    "district-list": {"GET": TERRITORY_LIST, "POST": DISTRICT_CREATE},
    "district-detail": {"GET": TERRITORY_READ, "PATCH": TERRITORY_WRITE, "DELETE": DISTRICT_DELETE},
    "district-history": {"GET": TERRITORY_READ},
    "district-undo": {"POST": TERRITORY_WRITE},
    "street-office-list": {"GET": TERRITORY_LIST, "POST": TERRITORY_CREATE},
    "street-office-detail": {
        "GET": TERRITORY_READ,
        "PATCH": TERRITORY_WRITE,
        "DELETE": TERRITORY_DELETE,
    },
    "street-office-history": {"GET": TERRITORY_READ},
    "street-office-undo": {"POST": TERRITORY_WRITE},
    "community-list": {"GET": TERRITORY_LIST, "POST": TERRITORY_CREATE},
    "community-detail": {
        "GET": TERRITORY_READ,
        "PATCH": TERRITORY_WRITE,
        "DELETE": TERRITORY_DELETE,
    },
    "community-history": {"GET": TERRITORY_READ},
    "community-undo": {"POST": TERRITORY_WRITE},
    **{
        route: grids
        for basename in (
            "compound",
            "building",
            "entrance",
            "room",
            "door-plate",
            "landlord",
            "zone",
            "staff",
            "assignment",
        )
        for route, grids in {
            f"{basename}-list": {"GET": PROPERTY_LIST, "POST": PROPERTY_CREATE},
            f"{basename}-detail": {
                "GET": PROPERTY_READ,
                "PATCH": PROPERTY_PATCH,
                "DELETE": PROPERTY_DELETE,
            },
            f"{basename}-history": {"GET": PROPERTY_READ},
            f"{basename}-undo": {"POST": PROPERTY_UNDO},
        }.items()
    },
    # The map page: search lists the scope's door plate or not; the tree its community or not.
    "search": {"GET": PROPERTY_LIST},
    "territory": {"GET": TERRITORY_LIST},
    "room-split": {"POST": ROOM_SPLIT},
    # Reports of a territory code (?code= the scope's community): 404 outside the user's scope.
    "zone-coverage": {"GET": PROPERTY_READ},
    "zone-changes": {"POST": ZONE_CHANGES},
    "zone-renumber": {"POST": ZONE_CHANGES},
    # Geometry tools of the zone page: they write nothing, any signed-in user may use them.
    "zone-cut": {"POST": SIGNED_IN},
    "zone-merge": {"POST": SIGNED_IN},
    "partition-list": {"POST": PARTITION_SUBMIT},
    "partition-detail": {"GET": PROPERTY_READ},
    "partition-apply": {"POST": PROPERTY_PATCH},
    "staffing-gaps": {"GET": PROPERTY_READ},
    # Sweeps (part "sweeps"): grid.api.sweep_urls
    "sweep-list": {"GET": PROPERTY_LIST, "POST": PROPERTY_CREATE},
    "sweep-mine": {"GET": SIGNED_IN},
    "sweep-detail": {"GET": PROPERTY_READ, "PATCH": PROPERTY_PATCH},
    "sweep-close": {"POST": PROPERTY_PATCH},
    "sweep-team-list": {"GET": PROPERTY_READ, "POST": SWEEP_ADD},
    "sweep-team-detail": {
        "GET": PROPERTY_READ,
        "PATCH": PROPERTY_PATCH,
        "DELETE": PROPERTY_DELETE,
    },
    "sweep-team-route": {"GET": PROPERTY_READ},
    "sweep-plan-jobs": {"POST": PARTITION_SUBMIT},
    "sweep-plan-job-detail": {"GET": PROPERTY_READ},
    "sweep-plans": {"GET": PROPERTY_READ},
    "sweep-plan": {"GET": PROPERTY_READ},
    "sweep-plan-edits": {"POST": SWEEP_ADD},
    # Visits and coverage (part "visits"): grid.api.visit_urls
    "visit-list": {"GET": PROPERTY_LIST, "POST": VISIT_POST},
    "territory-coverage": {"GET": PROPERTY_READ},
    "sweep-coverage": {"GET": PROPERTY_READ},
    "sweep-gaps": {"GET": PROPERTY_READ},
    # Coverage maps (layers.coverage): reads of a territory code (?code= the scope's community)
    **{route: {"GET": PROPERTY_READ} for route in COVERAGE_QUERIES},
    # Field packs (map sheets): layers.api_urls
    "sheet-list": {"GET": SIGNED_IN, "POST": SHEET_SUBMIT},
    "sheet-detail": {"GET": SHEET_OF_ANOTHER},
    "sheet-file": {"GET": SHEET_OF_ANOTHER},
    "address-parse": {"GET": SIGNED_IN},
    "me": {"GET": SIGNED_IN},
    "schema": {"GET": PUBLIC},
    "api-docs": {"GET": PUBLIC},
}

# The people register and the department exchange (issue 9): rows and runners of their own, on
# the grids above.
from .registry_matrix import (  # noqa: E402
    REGISTRY_MATRIX,
    WITH_PERMISSION,
    run_registry_route,
    run_with_permission,
    tenancy_contract_after_the_tenant_moved_away,
)

MATRIX.update(REGISTRY_MATRIX)

#: Methods routes allow that have no row, and why.
NOT_IN_MATRIX = {
    "HEAD": "answered like GET",
    "OPTIONS": "metadata only",
    "PUT": "same view code path as PATCH (UpdateModelMixin.update, partial=False)",
}


# ---------------------------------------------------------------------------------------------
# Route enumeration


def api_routes() -> dict[str, set[str]]:
    """Every named route under ``/api/`` → the HTTP methods its view answers."""
    routes: dict[str, set[str]] = {}

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/"):
                assert pattern.name, f"route {route} has no name, so it cannot have a row"
                routes.setdefault(pattern.name, set()).update(_methods(pattern.callback))

    walk(get_resolver().url_patterns, "")
    return routes


def _methods(view: Any) -> set[str]:
    actions = getattr(view, "actions", None)
    if actions is not None:  # a viewset route
        return {method.upper() for method in actions}
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    names = getattr(view_class, "http_method_names", [])
    return {name.upper() for name in names if hasattr(view_class, name)}


def test_every_api_route_has_a_row() -> None:
    routes = api_routes()
    assert routes, "no route found under /api/"
    missing = sorted(set(routes) - set(MATRIX))
    assert not missing, "; ".join(
        f"route {name} has no row in the permission matrix" for name in missing
    )
    stale = sorted(set(MATRIX) - set(routes))
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_route_method_has_a_row() -> None:
    gaps = [
        f"{name} {method}"
        for name, methods in api_routes().items()
        for method in sorted(methods)
        if method not in MATRIX.get(name, {}) and method not in NOT_IN_MATRIX
    ]
    assert not gaps, f"route methods without a row in the permission matrix: {gaps}"
    extra = [
        f"{name} {method}"
        for name, methods in MATRIX.items()
        for method in methods
        if name in api_routes() and method not in api_routes()[name]
    ]
    assert not extra, f"rows for methods the route does not answer: {extra}"


# ---------------------------------------------------------------------------------------------
# The world each cell runs in


@dataclass(frozen=True)
class ModelSpec:
    model: type[models.Model]
    layer: bool  # GeoJSON Feature in and out
    patch: tuple[str, Any]  # one harmless field and a new value


MODELS: dict[str, ModelSpec] = {
    "district": ModelSpec(District, True, ("name", "樊城新区")),
    "street-office": ModelSpec(StreetOffice, True, ("name", "汉江新街道")),
    "community": ModelSpec(Community, True, ("name", "新社区")),
    "compound": ModelSpec(Compound, True, ("name", "改名小区")),
    "building": ModelSpec(Building, True, ("name", "改名楼")),
    "entrance": ModelSpec(Entrance, False, ("number", "1A")),
    "room": ModelSpec(Room, False, ("use", "vacant")),
    "door-plate": ModelSpec(DoorPlate, True, ("population_plate", True)),
    "landlord": ModelSpec(Landlord, False, ("name", "李四")),
    "zone": ModelSpec(Zone, True, ("name", "改名网格")),
    "staff": ModelSpec(Staff, False, ("name", "李四")),
    "assignment": ModelSpec(Assignment, False, ("role", AssignmentRole.YARD_PROPAGANDIST.value)),
}


def _geojson(geom: Any) -> dict[str, Any]:
    import json

    return json.loads(geom.json)


def _feature(properties: dict[str, Any], geometry: Any = None) -> dict[str, Any]:
    feature: dict[str, Any] = {"type": "Feature", "properties": properties}
    if geometry is not None:
        feature["geometry"] = _geojson(geometry)
    return feature


class World:
    """The ``territory`` fixture plus a second district, and one object per model and scope,
    created on first use only (so each cell pays for what it touches)."""

    def __init__(
        self, api: APIClient, territory: Territory, request: pytest.FixtureRequest
    ) -> None:
        self.api = api
        self.territory = territory
        self.request = request
        self._objects: dict[tuple[str, str], Any] = {}

    # -- clients

    @cached_property
    def users(self) -> dict[str, Any]:
        """The ``users`` fixture, set up only for cells that sign in."""
        users = self.request.getfixturevalue("users")
        return {str(role): user for role, user in users.items()}

    def client(self, role: str) -> APIClient:
        user = None if role == ANONYMOUS else self.users[role]
        self.api.force_authenticate(user)
        return self.api

    @cached_property
    def root_user(self) -> Any:
        """A superuser, to read histories independently of the role under test."""
        return UserFactory(username="root", is_superuser=True, is_staff=True)

    # -- the second district (outside everybody's scope)

    @cached_property
    def other_district(self) -> District:
        return DistrictFactory(
            code="420602", name="襄城区", geom=mbox(112.20, 32.00, 112.30, 32.10)
        )

    @cached_property
    def other_office(self) -> StreetOffice:
        return StreetOfficeFactory(
            district=self.other_district,
            code="420602001",
            name="古城街道",
            geom=mbox(112.20, 32.00, 112.30, 32.10),
        )

    @cached_property
    def other_community(self) -> Community:
        return CommunityFactory(
            street_office=self.other_office,
            code="420602001001",
            name="北街社区",
            geom=mbox(112.20, 32.00, 112.30, 32.10),
        )

    @cached_property
    def other_building(self) -> Building:
        self.other_community  # noqa: B018 - the building's community is derived from it
        return BuildingFactory(footprint=box(112.211, 32.011, 112.212, 32.012))

    # -- per scope

    def community(self, scope: str) -> Community:
        if scope == "outside":
            return self.other_community
        return self.territory.away if scope == "sibling" else self.territory.home

    def building(self, scope: str) -> Building:
        if scope == "outside":
            return self.other_building
        t = self.territory
        return t.away_building if scope == "sibling" else t.home_building

    def _dy(self, scope: str) -> float:
        """Latitude offset of the scope's community from ``home`` (``outside`` shifts lon)."""
        return 0.05 if scope == "sibling" else 0.0

    def _dx(self, scope: str) -> float:
        return 0.10 if scope == "outside" else 0.0

    def _box(self, scope: str, x0: float, y0: float, x1: float, y1: float, multi: bool) -> Any:
        dx, dy = self._dx(scope), self._dy(scope)
        return (mbox if multi else box)(x0 + dx, y0 + dy, x1 + dx, y1 + dy)

    def obj(self, name: str, scope: str) -> Any:
        """The shared object of model ``name`` in ``scope``."""
        key = (name, scope)
        if key not in self._objects:
            self._objects[key] = self._make(name, scope)
        return self._objects[key]

    def _make(self, name: str, scope: str) -> Any:
        t = self.territory
        if name == "district":
            return t.office.district if scope == "inside" else self.other_district
        if name == "street-office":
            return t.office if scope == "inside" else self.other_office
        if name == "community":
            return t.home if scope == "inside" else self.other_community
        community, building = self.community(scope), self.building(scope)
        if name == "compound":
            geom = self._box(scope, 112.11, 32.01, 112.12, 32.02, multi=True)
            return CompoundFactory(community=community, geom=geom)
        if name == "building":
            return building
        if name == "entrance":
            return EntranceFactory(building=building, number="1")
        if name == "room":
            return RoomFactory(building=building, floor=3, number="301")
        if name == "door-plate":
            data = {"building": building, "road": "人民路", "number": "12"}
            return services.save_door_plate(actor=None, data=data)
        if name == "landlord":
            return LandlordFactory(community=community, name="王芳")
        if name == "zone":
            geom = self._box(scope, 112.11, 32.01, 112.12, 32.02, multi=True)
            data = {"community": community, "name": "第一网格", "geom": geom}
            return grid_services.save_zone(actor=None, data=data)
        if name == "staff":
            return StaffFactory(community=community, name="王芳")
        if name == "assignment":
            staff = self.obj("staff", scope)
            return AssignmentFactory(staff=staff, role=AssignmentRole.CENTRAL_HOUSEHOLD_HEAD)
        raise AssertionError(name)

    def disposable(self, name: str, scope: str) -> Any:
        """A fresh object nothing depends on, for a DELETE that is expected to succeed."""
        if name == "district":
            raise AssertionError("no district can be deleted by a district administrator")
        if name == "street-office":
            assert scope == "inside"
            return StreetOfficeFactory(
                district=self.territory.office.district,
                code="420606009",
                name="临时街道",
                geom=mbox(112.15, 32.00, 112.20, 32.10),
            )
        if name == "community":
            assert scope == "inside"
            return CommunityFactory(
                street_office=self.territory.office,
                code="420606001009",
                name="临时社区",
                geom=mbox(112.14, 32.04, 112.145, 32.045),
            )
        community = self.community(scope)
        if name == "compound":
            geom = self._box(scope, 112.13, 32.03, 112.135, 32.035, multi=True)
            return CompoundFactory(community=community, geom=geom, name="临时小区")
        if name == "building":
            return BuildingFactory(
                footprint=self._box(scope, 112.14, 32.04, 112.141, 32.041, False)
            )
        if name == "entrance":
            return EntranceFactory(building=self.building(scope), number="D")
        if name == "room":
            return RoomFactory(building=self.building(scope), floor=2, number="D01")
        if name == "door-plate":
            data = {"building": self.building(scope), "road": "拆除路", "number": "1"}
            return services.save_door_plate(actor=None, data=data)
        if name == "landlord":
            return LandlordFactory(community=community, name="临时房东")
        if name == "zone":
            geom = self._box(scope, 112.14, 32.04, 112.145, 32.045, multi=True)
            data = {"community": community, "name": "临时网格", "geom": geom}
            return grid_services.save_zone(actor=None, data=data)
        if name == "staff":
            return StaffFactory(community=community, name="临时")
        if name == "assignment":
            staff = self.obj("staff", scope)
            return AssignmentFactory(staff=staff, role=AssignmentRole.YARD_PROPAGANDIST)
        raise AssertionError(name)

    def create_payload(self, name: str, scope: str) -> dict[str, Any]:
        t = self.territory
        inside = scope == "inside"
        if name == "district":
            # The administrator's own district again (a duplicate), or a district not theirs.
            code, geom = ("420606", t.office.district.geom) if inside else ("420607", None)
            geom = geom or mbox(112.30, 32.00, 112.40, 32.10)
            return _feature({"code": code, "name": "新区"}, geom)
        if name == "street-office":
            district = t.office.district if inside else self.other_district
            code = f"{district.code}002"
            geom = mbox(112.15, 32.00, 112.20, 32.10) if inside else mbox(112.25, 32.0, 112.3, 32.1)
            return _feature({"code": code, "name": "新街道", "district": district.code}, geom)
        if name == "community":
            office = t.office if inside else self.other_office
            geom = self._box(scope, 112.14, 32.04, 112.145, 32.045, multi=True)
            props = {"code": f"{office.code}009", "name": "新社区", "street_office": office.code}
            return _feature(props, geom)
        community, building = self.community(scope), self.building(scope)
        if name == "compound":
            props = {"name": "新小区", "kind": "closed_property", "community": community.pk}
            return _feature(props, self._box(scope, 112.13, 32.03, 112.135, 32.035, multi=True))
        if name == "building":
            geom = self._box(scope, 112.13, 32.03, 112.131, 32.031, multi=False)
            return _feature({"floors_above": 5, "name": "新楼"}, geom)
        if name == "entrance":
            return {"building": building.pk, "number": "9"}
        if name == "room":
            return {"building": building.pk, "floor": 2, "number": "299"}
        if name == "door-plate":
            props = {"building": building.pk, "road": "新华路", "number": "99"}
            return _feature(props, building.footprint.point_on_surface)
        if name == "landlord":
            return {"name": "李雷", "phone": "13800000000", "community": community.pk}
        if name == "zone":
            props = {"name": "新网格", "community": community.code}
            return _feature(props, self._box(scope, 112.13, 32.03, 112.135, 32.035, multi=False))
        if name == "staff":
            return {"name": "李雷", "phone": "13800000000", "community": community.pk}
        if name == "assignment":
            return {"staff": self.obj("staff", scope).pk, "role": "central_household_head"}
        raise AssertionError(name)

    def patch_payload(self, name: str) -> dict[str, Any]:
        spec = MODELS[name]
        field, value = spec.patch
        return _feature({field: value}) if spec.layer else {field: value}

    def last_update_event(self, name: str, obj: Any) -> int:
        """Change one harmless field behind the API's back (recorded by the history triggers)
        and read the id of that change from the object's history, as an admin would."""
        spec = MODELS[name]
        field, value = spec.patch
        spec.model._default_manager.filter(pk=obj.pk).update(**{field: value})
        self.api.force_authenticate(self.root_user)
        response = self.api.get(reverse(f"{name}-history", kwargs={"pk": obj.pk}))
        assert response.status_code == 200, response.content
        updates = [c["event_id"] for c in response.json() if c["label"] == "update"]
        assert updates, response.json()
        return updates[-1]


@pytest.fixture(scope="module")
def api() -> APIClient:
    """One client for the whole module: a new client builds the middleware chain again, and
    WhiteNoise's start-up scan of the static files costs about half a second each time."""
    return APIClient()


# The module's ~1,500 tests share one territory and its users (made once, in a transaction rolled
# back at the module's end; each test still runs in its own rolled-back savepoint and gets its own
# instances read from the database): building them for each test was most of the module's time.


@pytest.fixture
def territory(shared_territory: Territory) -> Territory:
    return shared_territory


@pytest.fixture
def users(shared_users: dict[str, Any]) -> dict[str, Any]:
    return shared_users


@pytest.fixture
def world(api: APIClient, territory: Territory, request: pytest.FixtureRequest) -> World:
    return World(api, territory, request)


# ---------------------------------------------------------------------------------------------
# The cells


@dataclass(frozen=True)
class Cell:
    route: str
    method: str
    role: str
    scope: str
    expected: Any  # int or Listed

    @property
    def id(self) -> str:
        parts = [self.route, self.method, self.role, self.scope]
        return "-".join(p for p in parts if p)

    @property
    def status(self) -> int:
        return self.expected.status if isinstance(self.expected, Listed) else self.expected


def _cells() -> list[Cell]:
    """One cell per route × method × role × scope; anonymous requests are refused before any
    object is looked up, so they get one cell per route × method (run on the inside object)."""
    cells = []
    for route, methods in MATRIX.items():
        for method, grid in methods.items():
            for scope, statuses in grid.items():
                for role, expected in zip(ROLES, statuses, strict=True):
                    if role != ANONYMOUS:
                        cells.append(Cell(route, method, role, scope, expected))
            anonymous = {statuses[ROLES.index(ANONYMOUS)] for statuses in grid.values()}
            assert len(anonymous) == 1, f"{route} {method}: anonymous status depends on scope"
            cells.append(Cell(route, method, ANONYMOUS, ANY_SCOPE, anonymous.pop()))
    return cells


CELLS = _cells()


def _ids(response: Any) -> set[int]:
    body = response.json()
    rows = body["features"] if "features" in body else body["results"]
    return {row["id"] for row in rows}


def _tree_codes(nodes: list[dict[str, Any]]) -> set[str]:
    return {code for node in nodes for code in (node["code"], *_tree_codes(node["children"]))}


def _run_map_route(cell: Cell, world: World, client: APIClient) -> Any:
    """Search, the territory tree (``gis.api.map_views``) and the room split (``RoomViewSet``)."""
    scope = cell.scope or "inside"
    if cell.route == "search":
        plate = world.obj("door-plate", scope)
        response = client.get(reverse("search"), {"q": plate.address, "limit": 50})
        if response.status_code == 200:
            found = {(r["kind"], r["id"]) for r in response.json()["results"]}
            shown = ("door_plate", plate.pk) in found
            assert shown == cell.expected.shown, f"{plate!r} found: {shown}"
        return response
    if cell.route == "territory":
        community = world.obj("community", scope)
        response = client.get(reverse("territory"))
        if response.status_code == 200:
            shown = community.code in _tree_codes(response.json()["nodes"])
            assert shown == cell.expected.shown, f"{community!r} in the tree: {shown}"
        return response
    room = world.obj("room", scope)
    before = Room.objects.count()
    url = reverse("room-split", kwargs={"pk": room.pk})
    response = client.post(url, {"numbers": [room.number, f"{room.number}-1"]}, format="json")
    added = Room.objects.count() - before
    assert added == (response.status_code == 201), "a room was added iff 201"
    return response


def _run_zone_tool(cell: Cell, world: World, client: APIClient) -> Any:
    """The zone page's routes: a dry run creating a zone in the scope's community, renumbering
    its zones, a cut and a merge of two boxes."""
    scope = cell.scope or "inside"
    if cell.route == "zone-changes":
        geom = world._box(scope, 112.13, 32.03, 112.135, 32.035, multi=False)
        body = {
            "community": world.community(scope).code,
            "dry_run": True,
            "changes": [{"geom": _geojson(geom), "name": "新网格"}],
        }
        before = Zone.objects.count()
        response = client.post(reverse(cell.route), body, format="json")
        assert Zone.objects.count() == before, "a dry run wrote a zone"
        return response
    if cell.route == "zone-renumber":
        body = {"community": world.community(scope).code}
        return client.post(reverse(cell.route), body, format="json")
    west, east = box(112.10, 32.0, 112.12, 32.05), box(112.12, 32.0, 112.14, 32.05)
    if cell.route == "zone-cut":
        line = {"type": "LineString", "coordinates": [[112.11, 31.9], [112.11, 32.1]]}
        body = {"geom": _geojson(west), "line": line}
    else:
        body = {"geoms": [_geojson(west), _geojson(east)]}
    return client.post(reverse(cell.route), body, format="json")


def _run_partition(cell: Cell, world: World, client: APIClient) -> Any:
    """Submit a partition of the scope's community into one zone, read a finished job of it, or
    apply that job (its one zone then is the community's only current zone)."""
    scope = cell.scope or "inside"
    world.building(scope)  # the community's building: a partition needs one
    community = world.community(scope)
    if cell.route == "partition-list":
        before = PartitionJob.objects.count()
        body = {"community": community.code, "zones": 1}
        response = client.post(reverse(cell.route), body, format="json")
        created = PartitionJob.objects.count() - before
        assert created == (response.status_code == 202), "a job was created iff 202"
        return response
    job = jobs.submit_partition(actor=None, community=community, zones=1, queue=False)
    job = jobs.run_partition(str(job.pk))
    assert job.status == "succeeded", job.error_en
    client = world.client(cell.role)
    url = reverse(cell.route, kwargs={"pk": job.pk})
    if cell.method == "GET":
        return client.get(url)
    response = client.post(url)
    job.refresh_from_db()
    assert (job.applied_at is not None) == (response.status_code == 200), "applied iff 200"
    return response


# -- sweeps (part "sweeps") --------------------------------------------------------------------


SWEEP_ROUTES = (
    "sweep-list",
    "sweep-mine",
    "sweep-detail",
    "sweep-close",
    "sweep-team-list",
    "sweep-team-detail",
    "sweep-team-route",
    "sweep-plan-jobs",
    "sweep-plan-job-detail",
    "sweep-plans",
    "sweep-plan",
    "sweep-plan-edits",
)


def _sweep(world: World, scope: str) -> Any:
    """A sweep of the scope's community (its building, one room) with two teams and a plan
    (version 1, one stop, one day), made directly."""
    from grid import sweeps
    from grid.models import PlanDay, PlanStop, SweepPlan

    key = ("sweep", scope)
    if key not in world._objects:
        building = world.building(scope)
        RoomFactory(building=building, floor=1, number="S01")
        start = building.centroid
        sweep = sweeps.create_sweep(
            None,
            name="清查",
            starts_on="2026-01-01",
            ends_on="2026-12-31",
            area_codes=[world.community(scope).code],
            teams=[{"name": "一队", "start": start}, {"name": "二队", "start": start}],
        )
        team = sweep.teams.order_by("pk").first()
        plan = SweepPlan.objects.create(sweep=sweep, version=1, reason="planned")
        PlanStop.objects.create(
            plan=plan, team=team, building=building, day=1, seq=1, rooms=1, walk_m=0, work_min=6
        )
        PlanDay.objects.create(
            plan=plan, team=team, day=1, stops=1, rooms=1, walk_m=0, work_min=6, route=None
        )
        world._objects[key] = sweep
    return world._objects[key]


def _run_sweep(cell: Cell, world: World, client: APIClient) -> Any:
    """Each sweep route on the scope's sweep; writes check that a refused request changed
    nothing."""
    from grid.models import Sweep, SweepPlan, SweepPlanJob, SweepTeam

    scope = cell.scope or "inside"
    if cell.route == "sweep-mine":
        return client.get(reverse(cell.route))
    if cell.route == "sweep-list" and cell.method == "POST":
        world.building(scope)
        RoomFactory(building=world.building(scope), floor=1, number="S02")
        point = _geojson(world.building(scope).centroid)
        body = {
            "name": "新清查",
            "starts_on": "2026-01-01",
            "ends_on": "2026-01-31",
            "area_codes": [world.community(scope).code],
            "teams": [{"name": "一队", "start": point}],
        }
        before = Sweep.objects.count()
        response = client.post(reverse(cell.route), body, format="json")
        assert Sweep.objects.count() == before + (response.status_code == 201)
        return response
    sweep = _sweep(world, scope)
    client = world.client(cell.role)
    if cell.route == "sweep-list":
        response = client.get(reverse(cell.route))
        if response.status_code == 200:
            shown = sweep.pk in {row["id"] for row in response.json()}
            assert shown == cell.expected.shown, f"sweep listed: {shown}"
        return response
    team = sweep.teams.order_by("pk").first()
    if cell.route == "sweep-plan-job-detail":
        job = SweepPlanJob.objects.create(sweep=sweep, kind="plan")
        return client.get(reverse(cell.route, kwargs={"pk": job.pk}))
    if cell.route in ("sweep-team-detail", "sweep-team-route"):
        if cell.method == "DELETE":
            team = sweep.teams.order_by("pk").last()  # in no plan: removable
        url = reverse(cell.route, kwargs={"pk": sweep.pk, "team_id": team.pk})
    else:
        url = reverse(cell.route, kwargs={"pk": sweep.pk})
    versions = SweepPlan.objects.filter(sweep=sweep).count()
    if cell.method == "GET":
        return client.get(url)
    if cell.method == "DELETE":
        response = client.delete(url)
        gone = not SweepTeam.objects.filter(pk=team.pk).exists()
        assert gone == (response.status_code == 204), "team removed iff 204"
        return response
    if cell.method == "PATCH":
        body = {"name": "改名"}
        response = client.patch(url, body, format="json")
        model = SweepTeam if cell.route == "sweep-team-detail" else Sweep
        obj = model.objects.get(pk=team.pk if model is SweepTeam else sweep.pk)
        assert (obj.name == "改名") == (response.status_code == 200), "renamed iff 200"
        return response
    if cell.route == "sweep-close":
        response = client.post(url)
        sweep.refresh_from_db()
        assert (sweep.closed_at is not None) == (response.status_code == 200), "closed iff 200"
        return response
    if cell.route == "sweep-team-list":
        body = {"name": "三队", "start": _geojson(team.start)}
        before = sweep.teams.count()
        response = client.post(url, body, format="json")
        assert sweep.teams.count() == before + (response.status_code == 201)
        return response
    if cell.route == "sweep-plan-jobs":
        SweepPlan.objects.filter(sweep=sweep).delete()  # a first plan
        before = SweepPlanJob.objects.count()
        response = client.post(url, {"kind": "plan"}, format="json")
        assert SweepPlanJob.objects.count() == before + (response.status_code == 202)
        return response
    if cell.route == "sweep-plan-edits":
        body = {"action": "reorder", "team": team.pk, "buildings": [world.building(scope).pk]}
        response = client.post(url, body, format="json")
        added = SweepPlan.objects.filter(sweep=sweep).count() - versions
        assert added == (response.status_code == 201), "a version added iff 201"
        return response
    raise AssertionError(f"no sweep runner for {cell.id}")


# -- visits and coverage (part "visits") -------------------------------------------------------

VISIT_ROUTES = ("visit-list", "territory-coverage", "sweep-coverage", "sweep-gaps")


def _run_visit_route(cell: Cell, world: World, client: APIClient) -> Any:
    """Post a visit to the scope's room (stored iff 201), list visits (the scope's visit shown
    or not), read the coverage of the scope's community and the scope's sweep's figures and
    gaps."""
    import uuid

    from grid import visits
    from grid.models import Visit

    scope = cell.scope or "inside"
    room = world.obj("room", scope)
    url = reverse(cell.route) if cell.route in ("visit-list", "territory-coverage") else ""
    if cell.route == "visit-list" and cell.method == "POST":
        body = {
            "id": str(uuid.uuid4()),
            "room": room.pk,
            "outcome": "registered",
            "visited_at": "2026-11-02T09:30:00+08:00",
        }
        response = client.post(url, body, format="json")
        stored = Visit.objects.filter(pk=body["id"]).exists()
        assert stored == (response.status_code == 201), "a visit stored iff 201"
        return response
    if cell.route == "visit-list":
        visit_id = str(uuid.uuid4())
        body = {
            "id": visit_id,
            "room": room.pk,
            "outcome": "vacant",
            "visited_at": "2026-11-02T09:30:00+08:00",
        }
        [result] = visits.record_visits(world.root_user, [body])
        assert result.status == "created", result.as_body()
        client = world.client(cell.role)
        response = client.get(url, {"page_size": 1000})
        if response.status_code == 200:
            shown = visit_id in {row["id"] for row in response.json()["results"]}
            assert shown == cell.expected.shown, f"visit listed: {shown}"
        return response
    if cell.route == "territory-coverage":
        return client.get(url, {"code": world.community(scope).code, "days": "30"})
    sweep = _sweep(world, scope)
    client = world.client(cell.role)
    url = reverse(cell.route, kwargs={"pk": sweep.pk})
    return client.get(url, {"kind": "unvisited_rooms"} if cell.route == "sweep-gaps" else {})


# -- field packs ------------------------------------------------------------------------------


def _run_sheet_route(cell: Cell, world: World, client: APIClient) -> Any:
    """Submit a pack of the scope's building (a job stored iff 202), list one's packs, read
    another user's pack and its file."""
    from layers.models import SheetJob
    from layers.sheets import jobs

    if cell.route == "sheet-list" and cell.method == "POST":
        building = world.building(cell.scope or "inside")
        before = SheetJob.objects.count()
        response = client.post(
            reverse(cell.route), {"kind": "building", "building": building.pk}, format="json"
        )
        assert SheetJob.objects.count() == before + (response.status_code == 202)
        return response
    if cell.route == "sheet-list":
        return client.get(reverse(cell.route))
    job, _created = jobs.submit_pack(
        world.root_user, {"kind": "building", "building": world.building("inside").pk}, queue=False
    )
    kwargs: dict[str, Any] = {"pk": job.pk}
    if cell.route == "sheet-file":
        kwargs["fmt"] = "pdf"
    return client.get(reverse(cell.route, kwargs=kwargs))


def _run(cell: Cell, world: World) -> Any:
    client = world.client(cell.role)
    if cell.route in REGISTRY_MATRIX:
        return run_registry_route(cell, world, client)
    if cell.route in COVERAGE_QUERIES:
        code = world.community(cell.scope or "inside").code
        return client.get(reverse(cell.route), {"code": code, **COVERAGE_QUERIES[cell.route]})
    if cell.route.startswith("sheet-"):
        return _run_sheet_route(cell, world, client)
    if cell.route in VISIT_ROUTES:
        return _run_visit_route(cell, world, client)
    if cell.route in ("search", "territory", "room-split"):
        return _run_map_route(cell, world, client)
    if cell.route in ("zone-coverage", "staffing-gaps"):
        code = world.community(cell.scope or "inside").code
        return client.get(reverse(cell.route), {"code": code})
    if cell.route in ("zone-changes", "zone-renumber", "zone-cut", "zone-merge"):
        return _run_zone_tool(cell, world, client)
    if cell.route.startswith("partition-"):
        return _run_partition(cell, world, client)
    if cell.route in SWEEP_ROUTES:
        return _run_sweep(cell, world, client)
    name, _, kind = cell.route.rpartition("-")
    if name not in MODELS:  # me, address parser, schema, docs
        params = {"q": "樊城区人民路12号3栋2单元501室"} if cell.route == "address-parse" else {}
        return client.get(reverse(cell.route), params)
    spec = MODELS[name]
    manager = spec.model._default_manager
    scope = cell.scope or "inside"

    if kind == "list" and cell.method == "GET":
        obj = world.obj(name, scope)
        response = client.get(reverse(cell.route), {"page_size": 1000})
        if response.status_code == 200:
            shown = obj.pk in _ids(response)
            assert shown == cell.expected.shown, f"{obj!r} listed: {shown}"
        return response

    if kind == "list" and cell.method == "POST":
        payload = world.create_payload(name, scope)
        before = manager.count()
        response = client.post(reverse(cell.route), payload, format="json")
        created = response.status_code == 201
        assert manager.count() == before + created, "a refused create wrote a row"
        return response

    if kind == "undo":
        obj = world.obj(name, scope)
        event_id = world.last_update_event(name, obj)
        client = world.client(cell.role)  # reading the history signed in as root
        url = reverse(cell.route, kwargs={"pk": obj.pk, "event_id": event_id})
        response = client.post(url)
        field, value = spec.patch
        current = getattr(manager.get(pk=obj.pk), field)
        assert (current != value) == (response.status_code == 200), "undo applied iff 200"
        return response

    succeeds = 200 <= cell.status < 300
    if cell.method == "DELETE" and succeeds:
        obj = world.disposable(name, scope)
    else:
        obj = world.obj(name, scope)
    url = reverse(cell.route, kwargs={"pk": obj.pk})
    if cell.method == "GET":
        return client.get(url)
    if cell.method == "PATCH":
        response = client.patch(url, world.patch_payload(name), format="json")
        field, value = spec.patch
        changed = getattr(manager.get(pk=obj.pk), field) == value
        assert changed == (response.status_code == 200), "field changed iff 200"
        return response
    if cell.method == "DELETE":
        response = client.delete(url)
        gone = not manager.filter(pk=obj.pk).exists()
        assert gone == (response.status_code == 204), "row deleted iff 204"
        return response
    raise AssertionError(f"no runner for {cell.id}")


@pytest.mark.parametrize("cell", CELLS, ids=[cell.id for cell in CELLS])
def test_permission(cell: Cell, world: World) -> None:
    response = _run(cell, world)
    body = response.content[:500].decode(errors="replace")
    assert response.status_code == cell.status, (
        f"{cell.id}: expected {cell.status}, got {response.status_code}: {body}"
    )


@pytest.mark.parametrize(
    ("route", "scope"),
    [(route, scope) for route, (_perm, grid) in WITH_PERMISSION.items() for scope in grid],
)
def test_registry_route_with_its_permission(world: World, route: str, scope: str) -> None:
    """The people register's routes no fixture user may use (reveal, scans, the access log),
    used by a community worker given the permission: allowed inside, still 404 outside."""
    expected, response = run_with_permission(world, route, scope)
    assert response.status_code == expected, response.content[:300]


def test_tenancy_contract_stays_with_its_room_when_the_tenant_moves_away(world: World) -> None:
    """The contract is the home room's (its community code is home's): the home worker still
    lists and reads it after the tenant's file moved to another community (the views joined the
    tenant, and row-level security emptied the join: the list counted 1 and showed nothing)."""
    found = tenancy_contract_after_the_tenant_moved_away(world)
    assert (found["count"], found["ids"], found["detail"]) == (1, [found["contract"]], 200)


def test_anonymous_is_403_without_a_challenge(api: APIClient, territory: Territory) -> None:
    """DRF answers 401 only when the first authenticator sends a challenge; session auth does
    not, so anonymous requests are 403 (pinned here so a settings change is noticed)."""
    api.force_authenticate(None)
    response = api.get(reverse("building-list"))
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response.headers


# ---------------------------------------------------------------------------------------------
# Outside the matrix: a user without any grant, and undo with another object's change


@pytest.mark.parametrize("route", [f"{name}-list" for name in MODELS])
def test_user_without_grants_lists_nothing(api: APIClient, world: World, route: str) -> None:
    world.obj(route.removesuffix("-list"), "inside")
    api.force_authenticate(UserFactory(username="nogrant"))
    response = api.get(reverse(route))
    assert response.status_code == 200, response.content[:300]
    assert _ids(response) == set()


def test_user_without_grants_is_signed_in_with_no_roles(
    api: APIClient, territory: Territory
) -> None:
    api.force_authenticate(UserFactory(username="nogrant"))
    assert api.get(reverse("me")).json()["grants"] == []
    payload = {"name": "李雷", "community": territory.home.pk}
    assert api.post(reverse("landlord-list"), payload, format="json").status_code == 403


@pytest.mark.parametrize("other", ["inside", "sibling"])
def test_undo_only_undoes_changes_of_the_object_in_the_url(world: World, other: str) -> None:
    """The worker's own room is in the URL; the change is another room's (in the worker's
    community, or in the ``away`` community the worker cannot see): 404, nothing undone."""
    own = RoomFactory(building=world.building("inside"), floor=2, number="201")
    foreign = RoomFactory(building=world.building(other), floor=2, number="202")
    event_id = world.last_update_event("room", foreign)
    client = world.client(Role.COMMUNITY_WORKER.value)
    response = client.post(reverse("room-undo", kwargs={"pk": own.pk, "event_id": event_id}))
    foreign.refresh_from_db()
    assert (response.status_code, foreign.use) == (404, "vacant"), response.content[:300]
