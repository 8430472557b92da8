"""The permission matrix of the pages and downloads that touch personal data: every named route
under ``/register/``, ``/audit/`` and ``/exchange/`` × role × scope × method, one test id per cell.

The routes are enumerated from the URL resolver, so a new page without a row in :data:`MATRIX`
fails :func:`test_every_register_page_has_a_row`; :func:`test_every_page_method_has_a_row` asks
each route for every method (as a signed-in user, on an id that does not exist) and fails when a
method the page answers (anything but 405) has no row, or a row names a method it refuses.
(The coverage and dashboard exports carry aggregates only, no person: they are not here; the API's
own matrix is ``test_permission_matrix.py``.)

The rule being checked, as the pages implement it (``web/register_pages.py``,
``web/audit_pages.py``, ``web/exchange_pages.py``):

* anonymous requests are sent to the sign-in page (302), before anything is looked up;
* every person, room and territory node is read through ``visible_to(user)``: out of the user's
  territory the page answers 404 (never 403, which would say that the person exists);
* the writers' forms (register, move, move out, follow-up) answer 403 to read-only accounts inside
  their territory (404 outside it: the lookup comes first); writers get the form (200) and a
  saved form redirects to the person's file (302);
* the search by identity number needs a reason and is logged whatever it finds: found in the
  territory → 302 to the file, not found or out of it → 404, no reason → 400;
* the reveal needs a reason (400 without one, checked first), then the person in the territory
  (404), then ``registry.reveal_resident`` (403);
* the access log and its CSV are for holders of ``registry.audit`` (403 for others); an auditor
  sees the rows of its territory only (``?community=`` of another node lists nothing);
* the exchange page is a shell (its rows come from the API): any signed-in user.

Besides the status, every cell checks that the answer (HTML, CSV, JSON or a redirect's address)
holds no clear identity number or phone of any resident of the world (the reveal by a holder of
the permission shows the scope's person's own, and only those), that a refused request changed
nothing (row counts and current occupancies of the personal tables, read inside
``personal(system=True)``), that a saved form changed something, and that exactly the logged
actions (a search by number, a reveal, a CSV download) wrote one access-log row.

Roles: the ``users`` fixture (administrator of district 420606, supervisor of street office
420606001, worker and read-only account of ``home``), an auditor (read-only on ``home`` plus
``registry.audit``), a revealer (worker on ``home`` plus ``registry.reveal_resident``), anonymous.
Scopes: ``inside`` = ``home``; ``sibling`` = ``away`` (same street office: the supervisor's and
the administrator's, nobody else's); ``outside`` = a second district (420602), nobody's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from gis.models import Role, RoomUse
from registry.models import Access, AccessLog, FollowUp, Household, Occupancy, Resident
from registry.privacy import ADMINISTRATOR, log_access, personal

from ..conftest import SharedData
from ..factories import (
    BuildingFactory,
    CommunityFactory,
    DistrictFactory,
    RoomFactory,
    StreetOfficeFactory,
    UserFactory,
    box,
    mbox,
)
from ..registry.factories import id_number, resident

ANONYMOUS = "anonymous"
AUDITOR_ROLE = "auditor"
REVEALER = "revealer"
ROLES = (
    Role.DISTRICT_ADMIN.value,
    Role.STREET_SUPERVISOR.value,
    Role.COMMUNITY_WORKER.value,
    Role.READ_ONLY.value,
    AUDITOR_ROLE,
    REVEALER,
    ANONYMOUS,
)
SCOPES = ("inside", "sibling", "outside")
ANY_SCOPE = ""  # the exchange page shows nobody
PREFIXES = ("register/", "audit/", "exchange/")
REASON = "核对住户信息"
SIGN_IN = "/accounts/login/"


@dataclass(frozen=True)
class Listed:
    """The access log answers 200; the scope's probe row is in it (``shown``) or not."""

    shown: bool
    status: int = 200


Y, N = Listed(True), Listed(False)

# Each grid: scope → statuses in ROLES order (district_admin, street_supervisor,
# community_worker, read_only, auditor, revealer, anonymous).
Grid = dict[str, tuple[Any, ...]]

#: A page reading a node, a building or a person of the scope.
READ: Grid = {
    "inside": (200, 200, 200, 200, 200, 200, 302),
    "sibling": (200, 200, 404, 404, 404, 404, 302),
    "outside": (404, 404, 404, 404, 404, 404, 302),
}
#: An identity number typed into the name search (``?q=``): not searched, the page comes back
#: without it (a redirect, before any lookup).
NUMBER_IN_Q: Grid = dict.fromkeys(SCOPES, (302, 302, 302, 302, 302, 302, 302))
#: The search by identity number (with a reason): found → the file; else 404 (logged either way).
SEARCH_ID: Grid = {
    scope: tuple(302 if status == 200 else status for status in row) for scope, row in READ.items()
}
#: Without a reason nothing is searched, in or out of the territory.
NO_REASON: Grid = dict.fromkeys(SCOPES, (400, 400, 400, 400, 400, 400, 302))
#: A writer's form (GET): read-only accounts 403 inside, everybody 404 out of sight.
WRITE_FORM: Grid = {
    "inside": (200, 200, 200, 403, 403, 200, 302),
    "sibling": (200, 200, 404, 404, 404, 404, 302),
    "outside": (404, 404, 404, 404, 404, 404, 302),
}
#: The form sent: saved → 302 to the person's file.
WRITE_POST: Grid = {
    scope: tuple(302 if status == 200 else status for status in row)
    for scope, row in WRITE_FORM.items()
}
#: The reveal (with a reason): 404 out of sight first, then 403 without the permission.
REVEAL: Grid = {
    "inside": (403, 403, 403, 403, 403, 200, 302),
    "sibling": (403, 403, 404, 404, 404, 404, 302),
    "outside": (404, 404, 404, 404, 404, 404, 302),
}
#: The reveal without a reason: the person's file with the error inside the territory (the
#: reason is checked first, so the permission is not), 404 out of sight.
REVEAL_NO_REASON: Grid = {
    "inside": (400, 400, 400, 400, 400, 400, 302),
    "sibling": (400, 400, 404, 404, 404, 404, 302),
    "outside": (404, 404, 404, 404, 404, 404, 302),
}
#: The access log (``?community=`` the scope's): auditors only, their territory's rows only.
AUDIT: Grid = {
    "inside": (403, 403, 403, 403, Y, 403, 302),
    "sibling": (403, 403, 403, 403, N, 403, 302),
    "outside": (403, 403, 403, 403, N, 403, 302),
}
#: The log's CSV without a reason: the page again with the error (auditors), 403 (others).
AUDIT_NO_REASON: Grid = {
    scope: tuple(400 if isinstance(status, Listed) else status for status in row)
    for scope, row in AUDIT.items()
}
#: The exchange page: a shell for any signed-in user.
SIGNED_IN: Grid = {ANY_SCOPE: (200, 200, 200, 200, 200, 200, 302)}

#: route name → method (``POST-no-reason``: a POST without the reason; ``POST-json``: asking for
#: JSON) → grid.
MATRIX: dict[str, dict[str, Grid]] = {
    # ?code= the scope's community and ?building= the scope's building, both in one cell
    "register": {"GET": READ, "GET-number-in-q": NUMBER_IN_Q},
    "register-search-id": {"POST": SEARCH_ID, "POST-no-reason": NO_REASON},
    "register-resident": {"GET": READ},
    # POST-json: the page's script asks for JSON (Accept: application/json)
    "register-reveal": {
        "POST": REVEAL,
        "POST-json": REVEAL,
        "POST-no-reason": REVEAL_NO_REASON,
    },
    "register-add": {"GET": WRITE_FORM, "POST": WRITE_POST},
    "register-move": {"GET": WRITE_FORM, "POST": WRITE_POST},
    "register-move-out": {"GET": WRITE_FORM, "POST": WRITE_POST},
    "register-follow-up": {"GET": WRITE_FORM, "POST": WRITE_POST},
    "audit": {"GET": AUDIT},
    "audit-csv": {"POST": AUDIT, "POST-no-reason": AUDIT_NO_REASON},
    "exchange": {"GET": SIGNED_IN},
}

#: Methods asked of each route by :func:`test_every_page_method_has_a_row` (HEAD and OPTIONS
#: are not: HEAD is answered like GET where GET is, OPTIONS is refused like any other method).
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


# ---------------------------------------------------------------------------------------------
# Route enumeration


def page_routes() -> dict[str, tuple[str, list[str]]]:
    """Every named route under ``/register/``, ``/audit/``, ``/exchange/`` → (its pattern, the
    names of its URL parameters)."""
    routes: dict[str, tuple[str, list[str]]] = {}

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(PREFIXES):
                assert pattern.name, f"page {route} has no name, so it cannot have a row"
                routes[pattern.name] = (route, list(pattern.pattern.converters))

    walk(get_resolver().url_patterns, "")
    return routes


def test_every_register_page_has_a_row() -> None:
    routes = page_routes()
    assert routes, "no page found under /register/, /audit/, /exchange/"
    missing = sorted(set(routes) - set(MATRIX))
    assert not missing, "; ".join(
        f"page {name} ({routes[name][0]}) has no row in the page matrix" for name in missing
    )
    stale = sorted(set(MATRIX) - set(routes))
    assert not stale, f"rows for pages that no longer exist: {stale}"


# ---------------------------------------------------------------------------------------------
# The world: the shared territory, a second district, a resident per scope, two more users


@dataclass
class SharedPeople:
    """Primary keys of what the module's tests share (made once, in ``module_transaction``)."""

    users: dict[str, int]  # auditor, revealer
    rooms: dict[str, int]  # scope → the resident's room
    spare_rooms: dict[str, int]  # scope → an empty room of the same building (moves)
    buildings: dict[str, int]
    communities: dict[str, str]
    residents: dict[str, int]
    clear: dict[str, dict[str, str]]  # scope → the resident's identity number and phone
    probes: dict[str, str]  # scope → the ``what`` of an access-log row about its community


@pytest.fixture(scope="module")
def shared_people(shared_data: SharedData, django_db_blocker: Any) -> SharedPeople:
    with django_db_blocker.unblock():
        t = shared_data.territory
        district = DistrictFactory(
            code="420602", name="襄城区", geom=mbox(112.20, 32.00, 112.30, 32.10)
        )
        office = StreetOfficeFactory(
            district=district,
            code="420602001",
            name="古城街道",
            geom=mbox(112.20, 32.00, 112.30, 32.10),
        )
        other = CommunityFactory(
            street_office=office,
            code="420602001001",
            name="北街社区",
            geom=mbox(112.20, 32.00, 112.30, 32.10),
        )
        other_building = BuildingFactory(footprint=box(112.211, 32.011, 112.212, 32.012))
        buildings: dict[str, Any] = {
            "inside": t.home_building,
            "sibling": t.away_building,
            "outside": other_building,
        }
        communities: dict[str, str] = {
            "inside": t.home.code,
            "sibling": t.away.code,
            "outside": other.code,
        }
        names = {"inside": "甲矩阵", "sibling": "乙矩阵", "outside": "丙矩阵"}
        phones = {"inside": "13811110001", "sibling": "13811110002", "outside": "13811110003"}
        rooms, spare, residents, clear = {}, {}, {}, {}
        for scope, building in buildings.items():
            room = RoomFactory(building=building, number="901", use=RoomUse.RENTED_WHOLE)
            spare[scope] = RoomFactory(building=building, number="902", use=RoomUse.VACANT).pk
            number = id_number(date(1985, 6, 1))
            person = resident(room, name=names[scope], id_number=number, phone=phones[scope])
            rooms[scope], residents[scope] = room.pk, person.pk
            clear[scope] = {"id_number": number, "phone": phones[scope]}
        auditor = UserFactory(username="matrix-auditor", grants=[(Role.READ_ONLY, t.home.code)])
        auditor.user_permissions.add(Permission.objects.get(codename="audit"))
        revealer = UserFactory(
            username="matrix-revealer", grants=[(Role.COMMUNITY_WORKER, t.home.code)]
        )
        revealer.user_permissions.add(Permission.objects.get(codename="reveal_resident"))
        probes = {}
        for scope, code in communities.items():
            probes[scope] = f"matrix probe {scope}"
            log_access(None, Access.EXPORT, probes[scope], reason=REASON, community_code=code)
        return SharedPeople(
            users={AUDITOR_ROLE: auditor.pk, REVEALER: revealer.pk},
            rooms=rooms,
            spare_rooms=spare,
            buildings={scope: b.pk for scope, b in buildings.items()},
            communities=communities,
            residents=residents,
            clear=clear,
            probes=probes,
        )


@pytest.fixture(scope="module")
def client() -> Client:
    """One client for the module (a new one builds the middleware chain again)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


class World:
    def __init__(self, shared: SharedData, people: SharedPeople, client: Client) -> None:
        self.people = people
        self.client = client
        pks = {str(role): user.pk for role, user in shared.users.items()}  # type: ignore[attr-defined]
        manager = get_user_model()._default_manager
        self.users = {role: manager.get(pk=pk) for role, pk in (pks | people.users).items()}

    def sign_in(self, role: str) -> Client:
        self.client.logout()
        if role != ANONYMOUS:
            self.client.force_login(self.users[role])
        return self.client

    def all_clear(self) -> list[str]:
        return [value for values in self.people.clear.values() for value in values.values()]


@pytest.fixture
def world(shared_data: SharedData, shared_people: SharedPeople, client: Client, db: None) -> World:
    return World(shared_data, shared_people, client)


# -- what a request may change


PERSONAL: tuple[type[Model], ...] = (Resident, Household, Occupancy, FollowUp)


def counts() -> tuple[tuple[int, ...], int]:
    """Row counts of the personal tables and the current occupancies (a move-out ends one), and
    of the access log, as the database's administrator role (it reads them all)."""
    with personal(system=True, role=ADMINISTRATOR):
        row = [model._default_manager.count() for model in PERSONAL]
        row.append(Occupancy.objects.filter(moved_out__isnull=True).count())
        row.append(AccessLog.objects.count())
    return tuple(row[:-1]), row[-1]


# ---------------------------------------------------------------------------------------------
# The cells


@dataclass(frozen=True)
class Cell:
    route: str
    method: str  # an HTTP method, or ``POST-no-reason``
    role: str
    scope: str
    expected: Any  # int or Listed

    @property
    def id(self) -> str:
        return "-".join(p for p in (self.route, self.method, self.role, self.scope) if p)

    @property
    def status(self) -> int:
        return self.expected.status if isinstance(self.expected, Listed) else self.expected

    @property
    def http(self) -> str:
        return self.method.partition("-")[0]

    @property
    def with_reason(self) -> bool:
        return not self.method.endswith("-no-reason")


def _cells() -> list[Cell]:
    """One cell per route × method × role × scope; anonymous requests are refused before any
    lookup, so they get one cell per route × method (run on the inside objects)."""
    cells = []
    for route, methods in MATRIX.items():
        for method, grid in methods.items():
            for scope, statuses in grid.items():
                assert len(statuses) == len(ROLES), f"{route} {method} {scope}: one per role"
                for role, expected in zip(ROLES, statuses, strict=True):
                    if role != ANONYMOUS:
                        cells.append(Cell(route, method, role, scope, expected))
            anonymous = {statuses[ROLES.index(ANONYMOUS)] for statuses in grid.values()}
            assert len(anonymous) == 1, f"{route} {method}: anonymous status depends on scope"
            cells.append(Cell(route, method, ANONYMOUS, ANY_SCOPE, anonymous.pop()))
    return cells


CELLS = _cells()

#: Routes whose successful POST is a saved change (302 to the person's file).
WRITERS = ("register-add", "register-move", "register-move-out", "register-follow-up")


def _form(cell: Cell, world: World, scope: str) -> dict[str, str]:
    today = timezone.localdate().isoformat()
    if cell.route == "register-add":
        return {
            "name": "丁新来",
            "category": "community",
            "id_number": id_number(date(1991, 2, 3)),
            "phone": "13811119999",
            "moved_in": today,
            "relation": "head",
        }
    if cell.route == "register-move":
        spare = world.people.spare_rooms[scope]
        return {
            "community": world.people.communities[scope],
            "room": str(spare),
            "on": today,
            "relation": "head",
        }
    if cell.route == "register-move-out":
        return {"on": today}
    if cell.route == "register-follow-up":
        return {"done_on": today, "outcome": "seen", "note": "上门核实"}
    raise AssertionError(f"no form for {cell.route}")


def _request(cell: Cell, world: World, client: Client) -> Any:
    scope = cell.scope or "inside"
    people = world.people
    pk = people.residents[scope]
    reason = {"reason": REASON} if cell.with_reason else {}
    if cell.method == "GET-number-in-q":
        number = people.clear[scope]["id_number"]
        response = client.get(reverse("register"), {"code": people.communities[scope], "q": number})
        if cell.role != ANONYMOUS:
            assert "number_typed=1" in response["Location"], response["Location"]
        return response
    if cell.route == "register":
        by_code = client.get(reverse("register"), {"code": people.communities[scope]})
        assert by_code.status_code == cell.status, f"?code=: {by_code.status_code}"
        _check_body(cell, world, by_code)
        return client.get(reverse("register"), {"building": people.buildings[scope]})
    if cell.route == "register-search-id":
        number = people.clear[scope]["id_number"]
        return client.post(reverse(cell.route), {"id_number": number, **reason})
    if cell.route == "register-resident":
        return client.get(reverse(cell.route, args=[pk]))
    if cell.route == "register-reveal":
        headers = {"Accept": "application/json"} if cell.method == "POST-json" else {}
        return client.post(reverse(cell.route, args=[pk]), reason, headers=headers)
    if cell.route in WRITERS:
        args = [people.rooms[scope] if cell.route == "register-add" else pk]
        url = reverse(cell.route, args=args)
        if cell.http == "GET":
            return client.get(url)
        return client.post(url, _form(cell, world, scope))
    if cell.route == "audit":
        return client.get(reverse(cell.route), {"community": people.communities[scope]})
    if cell.route == "audit-csv":
        return client.post(reverse(cell.route), {"community": people.communities[scope], **reason})
    if cell.route == "exchange":
        return client.get(reverse(cell.route))
    raise AssertionError(f"no runner for {cell.id}")


def _check_body(cell: Cell, world: World, response: Any) -> None:
    """No clear identity number or phone in the answer (the revealed person's own aside)."""
    text = response.content.decode("utf-8", errors="replace")
    text += response.get("Location", "")
    allowed: set[str] = set()
    if cell.route == "register-reveal" and response.status_code == 200:
        allowed = set(world.people.clear[cell.scope].values())
        for value in allowed:
            assert value in text, f"{cell.id}: the revealed value is not in the answer"
    leaked = [value for value in world.all_clear() if value not in allowed and value in text]
    assert not leaked, f"{cell.id}: clear values in the answer: {leaked}"


@pytest.mark.parametrize("cell", CELLS, ids=[cell.id for cell in CELLS])
def test_page(cell: Cell, world: World) -> None:
    client = world.sign_in(cell.role)
    before, logged_before = counts()
    response = _request(cell, world, client)
    body = response.content[:400].decode(errors="replace")
    assert response.status_code == cell.status, (
        f"{cell.id}: expected {cell.status}, got {response.status_code}: {body}"
    )
    if cell.role == ANONYMOUS and cell.method == "GET-number-in-q":
        # The number is dropped first, for everybody; the page without it asks for a sign-in.
        assert "number_typed=1" in response["Location"], response["Location"]
        assert client.get(response["Location"])["Location"].startswith(SIGN_IN)
    elif cell.role == ANONYMOUS:
        assert response["Location"].startswith(SIGN_IN), response["Location"]
    scope = cell.scope or "inside"
    if isinstance(cell.expected, Listed):
        shown = world.people.probes[scope] in response.content.decode()
        assert shown == cell.expected.shown, f"{cell.id}: the scope's log row shown: {shown}"
    if cell.route in ("register", "register-resident") and cell.status == 200:
        name = {"inside": "甲矩阵", "sibling": "乙矩阵", "outside": "丙矩阵"}[scope]
        assert name in response.content.decode(), f"{cell.id}: the scope's person is not shown"
    _check_body(cell, world, response)

    saved = (
        cell.route in WRITERS
        and cell.http == "POST"
        and cell.role != ANONYMOUS
        and response.status_code == 302
    )
    after, logged_after = counts()
    if saved:
        assert response["Location"].startswith("/register/residents/"), response["Location"]
        assert after != before, f"{cell.id}: a saved form changed nothing"
    else:
        assert after == before, f"{cell.id}: a refused or read-only request changed rows"
    logs = cell.role != ANONYMOUS and (
        (cell.route == "register-search-id" and cell.with_reason)
        or (cell.route == "register-reveal" and response.status_code == 200)  # both flavours
        or (cell.route == "audit-csv" and response.status_code == 200)
    )
    assert logged_after == logged_before + logs, f"{cell.id}: access-log rows written"


# ---------------------------------------------------------------------------------------------
# Methods


def _probe_url(route: str, converters: list[str]) -> str:
    """The route on an id nobody can see (so an allowed method answers 404, not 405)."""
    return reverse(route, kwargs=dict.fromkeys(converters, 2**31 - 1))


@pytest.fixture
def admin_client(world: World) -> Iterator[Client]:
    yield world.sign_in(Role.DISTRICT_ADMIN.value)


def test_every_page_method_has_a_row(admin_client: Client) -> None:
    """Each page is asked each method: an answer other than 405 needs a row; a row's method must
    not be 405. (Parameterless pages answer their method with 200, 400 or 403 here.)"""
    gaps, extra = [], []
    for name, (_route, converters) in page_routes().items():
        rows = {method.partition("-")[0] for method in MATRIX.get(name, {})}
        url = _probe_url(name, converters)
        for method in METHODS:
            data = urlencode({"reason": REASON})
            content_type = "application/x-www-form-urlencoded"
            status = admin_client.generic(method, url, data, content_type).status_code
            if status != 405 and method not in rows:
                gaps.append(f"{name} {method} ({status})")
            if status == 405 and method in rows:
                extra.append(f"{name} {method}")
    assert not gaps, f"page methods without a row in the page matrix: {gaps}"
    assert not extra, f"rows for methods the page refuses (405): {extra}"
