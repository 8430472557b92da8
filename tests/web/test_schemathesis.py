"""Property-based smoke test of the whole API from its own OpenAPI schema: no request may end in a
server error (5xx). Response bodies are not validated against the schema here.

The schema is read from ``/api/schema/?format=json`` of the Django WSGI application once, when the
module is collected (that needs no database). Every API operation becomes its own test item,
``test_no_server_error[POST /api/rooms/]``, and sends a bounded, deterministic set of requests
(valid and invalid data, every content type the schema offers) signed in with HTTP basic auth as
the district administrator of the ``users`` fixture. Path ids are replaced by the id of a real
object of the operation's model (and ``event_id`` by a real change of it), so that detail, update,
history and undo operations get past the 404 and exercise the serializers and services.

The requests go through the real WSGI handler. Django closes the database connection at the end of
every request (``close_old_connections`` on ``request_started``/``request_finished``), which inside
a test transaction would throw the fixtures away; like Django's own test client, the module
disconnects that receiver while it runs, so each operation runs in an ordinary rolled-back test
transaction (no ``transaction=True``, no table flush).

Server errors the fuzzing found (PostGIS refusing 3D coordinates with a DataError, unreadable room
plans, non-object Feature bodies, empty querysets) were fixed; the ones with no narrower test
elsewhere are pinned below as plain regression tests.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, Phase, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error

from data.models import ExchangeFile, ExchangeRow
from gis import history, services
from gis.models import DoorPlate, Entrance, Role, Room
from grid import jobs, sweep_jobs
from grid.models import Assignment, AssignmentRole
from grid.sweeps import create_sweep
from layers.sheets import jobs as sheet_jobs
from registry import contracts, ratings
from registry.models import Occupancy, Rectification, StarCriterion
from registry.privacy import personal

from ..conftest import SharedData, Territory
from ..factories import CompoundFactory, EntranceFactory, LandlordFactory, RoomFactory
from ..grid.factories import AssignmentFactory, StaffFactory, ZoneFactory
from ..registry.factories import resident

PASSWORD = "pw"  # UserFactory gives every user this password

#: Examples from the schema and ``max_examples`` generated cases per operation. The coverage
#: phase (boundary and invalid values of every parameter and body field, not bounded by
#: ``max_examples``: 100-150 requests per operation) runs for the create operations only (their
#: bodies are the ones PUT and PATCH take), to keep the whole run under two minutes.
CONFIG = schemathesis.Config.from_dict(
    {
        "phases": {"coverage": {"enabled": False, "unexpected-methods": []}},
        "operations": [
            {
                "include-method": "POST",
                "include-path-regex": "^/api/[a-z-]+/$",
                "phases": {"coverage": {"enabled": True, "unexpected-methods": []}},
            }
        ],
    }
)
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", get_wsgi_application(), config=CONFIG
)


def _basic_auth(username: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture(scope="module")
def keep_db_connection() -> Iterator[None]:
    """Keep the test's connection (and transaction) across requests, as Django's test client
    does: the WSGI handler would close it at the end of every request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


#: The module's tests share one territory, its users and the objects below (made once, in a
#: transaction rolled back at the module's end; each test runs in its own rolled-back savepoint
#: inside it, as before): rebuilding them for each of the ~140 operations cost ~0.8 s each.
@pytest.fixture
def territory(shared_territory: Territory) -> Territory:
    return shared_territory


@pytest.fixture
def users(shared_users: dict[str, Any]) -> dict[str, Any]:
    return shared_users


@pytest.fixture
def admin_headers(users: dict[str, Any]) -> dict[str, str]:
    return _basic_auth(users[Role.DISTRICT_ADMIN].username)


@pytest.fixture
def real_ids(db: None, shared_ids: dict[str, tuple[Any, int]]) -> dict[str, tuple[Any, int]]:
    return shared_ids


@pytest.fixture(scope="module")
def shared_ids(shared_data: SharedData, django_db_blocker: Any) -> dict[str, tuple[Any, int]]:
    """Collection path segment → (id of an object in the ``home`` community, id of a change of
    it that can be undone; 0 for a finished partition job, a planned sweep and its planning job
    and a field pack, which have no history); ``sweep-team`` the sweep's team for ``{team_id}``."""
    with django_db_blocker.unblock(), override_settings(SWEEP_PLAN_TIME_LIMIT_S=0.3):
        return _real_ids(shared_data.territory, shared_data.users[Role.DISTRICT_ADMIN])


def _real_ids(territory: Territory, admin: Any) -> dict[str, tuple[Any, int]]:
    building = territory.home_building
    objects: dict[str, Any] = {
        "districts": territory.office.district,
        "street-offices": territory.office,
        "communities": territory.home,
        "compounds": CompoundFactory(community=territory.home),
        "buildings": building,
        "entrances": EntranceFactory(building=building, number="1"),
        "rooms": RoomFactory(building=building, floor=2, number="201"),
        "door-plates": services.save_door_plate(
            actor=None, data={"building": building, "road": "人民路", "number": "12"}
        ),
        "landlords": LandlordFactory(community=territory.home),
        "zones": ZoneFactory(community=territory.home, code="001"),
        "staff": (staff := StaffFactory(community=territory.home)),
        "assignments": AssignmentFactory(staff=staff),
    }
    ids = {}
    for segment, obj in objects.items():
        model = type(obj)
        field = {
            Entrance: "number",
            Room: "use",
            DoorPlate: "population_plate",
            Assignment: "role",
        }.get(model, "name")
        value = {
            Entrance: "1A",
            Room: "vacant",
            DoorPlate: True,
            Assignment: AssignmentRole.YARD_PROPAGANDIST,
        }.get(model, "改名")
        model._default_manager.filter(pk=obj.pk).update(**{field: value})
        event_id = history.changes_of(model, obj.pk)[-1].event_id
        ids[segment] = (obj.pk, event_id)
    job = jobs.submit_partition(actor=None, community=territory.home, zones=1, queue=False)
    ids["partitions"] = (str(jobs.run_partition(str(job.pk)).pk), 0)
    sweep = create_sweep(
        None,
        name="人民路清查",
        starts_on="2026-03-01",
        ends_on="2026-03-31",
        area_codes=[territory.home.code],
        teams=[{"name": "一组", "members": [staff.pk], "start": territory.home.geom.centroid}],
    )
    planning = sweep_jobs.submit_plan(None, sweep, "plan", queue=False)
    ids["sweeps"] = (sweep.pk, 0)
    ids["sweep-plan-jobs"] = (str(sweep_jobs.run_plan(str(planning.pk)).pk), 0)
    ids["sweep-team"] = (sweep.teams.get().pk, 0)
    # A field pack made by the administrator the requests sign in as (a pack is its maker's).
    pack, _created = sheet_jobs.submit_pack(
        admin, {"kind": "building", "building": building.pk}, queue=False
    )
    ids["sheets"] = (str(sheet_jobs.run_pack(str(pack.pk)).pk), 0)
    ids |= _registry_ids(territory, admin)
    return ids


def _registry_ids(territory: Territory, admin: Any) -> dict[str, tuple[Any, int]]:
    """Ids for ``/api/registry/…`` and ``/api/exchange/…`` (keyed by the segment after those):
    a floating tenant of a rented room of ``home`` (their household, landlord and tenancy
    contracts with scans), a five-star rating with its overdue order and a withdrawal of the
    right to rent, an exchange file with one row. Made through the services with actor None or
    inside ``personal(system=True)``; the administrator may reveal, so reveals, scans and revealed
    exports run to their end too."""
    admin.user_permissions.add(Permission.objects.get(codename="reveal_resident"))
    building, home = territory.home_building, territory.home
    landlord = LandlordFactory(community=home, name="王房东")
    room = RoomFactory(
        building=building, floor=6, number="601", use="rented_whole", landlord=landlord
    )
    tenant = resident(room, name="张租户", category="floating")
    scan = b"%PDF-1.4\n% a scanned contract\n%%EOF\n"
    landlord_contract = contracts.create_landlord_contract(
        None, landlord, signed_on=date(2024, 1, 1), scan=SimpleUploadedFile("a.pdf", scan)
    )
    tenancy_contract = contracts.create_tenancy_contract(
        None, room, tenant, signed_on=date(2024, 1, 1), scan=SimpleUploadedFile("b.pdf", scan)
    )
    stars = {c.code: c.stars for c in StarCriterion.objects.filter(active=True)}
    for code in list(stars)[:4]:  # well below the threshold: an order to rectify
        stars[code] = 0
    rating = ratings.rate(None, building, date(2024, 12, 1), stars, on=date(2025, 1, 5))
    withdrawal = ratings.withdraw(None, building, "逾期未整改完毕")
    with personal(system=True):
        household = Occupancy.objects.get(resident=tenant).household
        order = Rectification.objects.get(rating=rating)
        job = ExchangeFile.objects.create(
            file_name="2026-11.csv",
            file_size=100,
            file_hash="schemathesis",
            community_code=home.code,
            status="succeeded",
            rows_read=1,
        )
        row = ExchangeRow.objects.create(
            file=job, row=2, community_code=home.code, event="move_out", outcome="unmatched"
        )
    return {
        "residents": (tenant.pk, 0),
        "households": (household.pk, 0),
        "landlord-contracts": (landlord_contract.pk, 0),
        "tenancy-contracts": (tenancy_contract.pk, 0),
        "star-ratings": (rating.pk, 0),
        "rectifications": (order.pk, 0),
        "withdrawals": (withdrawal.pk, 0),
        "files": (str(job.pk), 0),
        "rows": (row.pk, 0),
    }


@pytest.mark.usefixtures("keep_db_connection")
@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a smoke test, kept to ~2 minutes
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error(
    case: schemathesis.Case, admin_headers: dict[str, str], real_ids: dict[str, tuple[Any, int]]
) -> None:
    if case.path_parameters and "id" in case.path_parameters:
        segments = case.operation.path.split("/")
        # /api/registry/… and /api/exchange/…: keyed by the collection after the prefix
        nested = segments[2] in ("registry", "exchange")
        pk, event_id = real_ids[segments[3] if nested else segments[2]]
        case.path_parameters["id"] = pk
        if "event_id" in case.path_parameters:
            case.path_parameters["event_id"] = event_id
        if "team_id" in case.path_parameters:
            case.path_parameters["team_id"] = real_ids["sweep-team"][0]
    case.call_and_validate(headers=admin_headers, checks=[not_a_server_error])


# ---------------------------------------------------------------------------------------------
# Server errors the fuzzing found, pinned as plain regression tests


@pytest.fixture(scope="module")
def api() -> APIClient:
    """One client for the module (a new one re-runs WhiteNoise's start-up scan, ~0.5 s); server
    errors come back as 500 responses instead of being raised."""
    client = APIClient()
    client.raise_request_exception = False
    return client


def _ring(x: float, y: float, z: float | None) -> list[list[float]]:
    corners = [(x, y), (x + 0.001, y), (x + 0.001, y + 0.001), (x, y + 0.001), (x, y)]
    return [[cx, cy] if z is None else [cx, cy, z] for cx, cy in corners]


def _three_d_request(
    route: str, territory: Territory, ids: dict[str, tuple[int, int]]
) -> tuple[str, str, dict[str, Any]]:
    """(method, url, body) of a write whose geometry has a Z coordinate."""
    home, building = territory.home, territory.home_building
    point = {"type": "Point", "coordinates": [112.1115, 32.0115, 5.0]}
    multipolygon = {"type": "MultiPolygon", "coordinates": [[_ring(112.13, 32.03, 5.0)]]}
    if route == "POST buildings":
        polygon = {"type": "Polygon", "coordinates": [_ring(112.13, 32.03, 5.0)]}
        return "POST", "/api/buildings/", {"type": "Feature", "geometry": polygon, "properties": {}}
    if route == "POST compounds":
        properties = {"name": "立体小区", "kind": "market", "community": home.pk}
        feature = {"type": "Feature", "geometry": multipolygon, "properties": properties}
        return "POST", "/api/compounds/", feature
    if route == "PATCH communities":
        url = f"/api/communities/{home.pk}/"
        big = {"type": "MultiPolygon", "coordinates": [[_ring(112.10, 32.00, 5.0)]]}
        return "PATCH", url, {"type": "Feature", "geometry": big, "properties": {}}
    if route == "PATCH door-plates":
        url = f"/api/door-plates/{ids['door-plates'][0]}/"
        return "PATCH", url, {"type": "Feature", "geometry": point, "properties": {}}
    if route == "POST entrances":
        return (
            "POST",
            "/api/entrances/",
            {"building": building.pk, "number": "9", "location": point},
        )
    raise AssertionError(route)


@pytest.mark.parametrize(
    "route",
    [
        "POST buildings",
        "POST compounds",
        "PATCH communities",
        "PATCH door-plates",
        "POST entrances",
    ],
)
def test_write_with_a_three_d_geometry_is_a_400(
    api: APIClient,
    territory: Territory,
    real_ids: dict[str, tuple[int, int]],
    users: dict[str, Any],
    route: str,
) -> None:
    api.force_authenticate(users[Role.DISTRICT_ADMIN])
    method, url, body = _three_d_request(route, territory, real_ids)
    response = api.generic(method, url, json.dumps(body), "application/json")
    assert response.status_code == 400, f"{method} {url} answered {response.status_code}"
    assert response.json()["code"] == "three_dimensional"
