"""The permission matrix's rows for the people register (issue 9): ``/api/registry/…`` (people,
follow-ups, contracts, the star rating, the registers) and ``/api/exchange/…``.

:data:`REGISTRY_MATRIX` is merged into ``test_permission_matrix.MATRIX`` and
:func:`run_registry_route` runs its cells there, on objects of the cell's scope made by
:class:`People` (registry objects through the services with actor ``None`` or inside
``personal(system=True)``; counts of personal rows inside it too, since the guard refuses any
query on a personal table outside a context).

The rule is the matrix's (404 out of the territory on every route, 403 for writes of read-only
roles before any lookup), with three grids of their own:

* :data:`RESIDENT_REVEAL` (a resident's reveal, a contract's scan): the fixture users hold no
  ``registry.reveal_resident``, so inside and for the supervisor and the administrator on the
  sibling community it is 403; out of sight 404 first (the lookup runs before the permission);
* :data:`AUDITORS_ONLY` (the access log): ``registry.audit`` only, none of the fixture users;
* :data:`EXCHANGE_UPLOAD`: a department file belongs to no community until matched; writers
  submit (202, the job queued), read-only roles get 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from data.models import ExchangeFile, ExchangeRow
from registry import contracts, ratings
from registry.models import (
    FollowUp,
    Household,
    LandlordContract,
    Occupancy,
    Rectification,
    RentWithdrawal,
    Resident,
    StarCriterion,
    StarRating,
    SupplyDistribution,
    TenancyContract,
)
from registry.privacy import personal

from ..factories import LandlordFactory, RoomFactory
from ..registry.factories import id_number, resident
from .test_permission_matrix import (
    ANY_SCOPE,
    PROPERTY_CREATE,
    PROPERTY_LIST,
    PROPERTY_PATCH,
    PROPERTY_READ,
    SIGNED_IN,
    SWEEP_ADD,
    Grid,
)

REASON = "核对租户身份"
PDF = b"%PDF-1.4\n% a scanned contract\n%%EOF\n"
#: A department file of one row (the sample's headers; 户籍迁出 of nobody on file).
EXCHANGE_CSV = (
    "事件类型,姓名,性别,出生日期,身份证号,住址,事件日期,备注,配偶姓名,配偶身份证号,父母身份证号\n"
    "户籍迁出,钱多,男,1980-05-01,,人民路12号3栋501室,2026-11-02,迁往武汉,,,\n"
).encode()

# -- grids -------------------------------------------------------------------------------------

#: Recording a follow-up adds a row: 201 where a change would be 200.
RESIDENT_FOLLOW_UP: Grid = {
    scope: tuple(201 if status == 200 else status for status in row)
    for scope, row in PROPERTY_PATCH.items()
}
#: Reveal and scans: 404 out of sight, then 403 without ``registry.reveal_resident``.
RESIDENT_REVEAL: Grid = {
    "inside": (403, 403, 403, 403, 403),
    "sibling": (403, 403, 404, 404, 403),
    "outside": (404, 404, 404, 404, 403),
}
SCAN = RESIDENT_REVEAL
AUDITORS_ONLY: Grid = {ANY_SCOPE: (403, 403, 403, 403, 403)}
EXCHANGE_UPLOAD: Grid = {ANY_SCOPE: (202, 202, 202, 403, 403)}

#: route name → HTTP method → grid.
REGISTRY_MATRIX: dict[str, dict[str, Grid]] = {
    # People (registry.api.people)
    "resident-list": {"GET": PROPERTY_LIST, "POST": PROPERTY_CREATE},
    "resident-detail": {"GET": PROPERTY_READ, "PATCH": PROPERTY_PATCH},
    "resident-move": {"POST": PROPERTY_PATCH},
    "resident-move-out": {"POST": PROPERTY_PATCH},
    "resident-follow-ups": {"POST": RESIDENT_FOLLOW_UP},
    "resident-search-id": {"POST": PROPERTY_READ},
    "resident-reveal": {"POST": RESIDENT_REVEAL},
    "household-list": {"GET": PROPERTY_LIST},
    "household-detail": {"GET": PROPERTY_READ},
    "access-log": {"GET": AUDITORS_ONLY},
    # Follow-ups due, contracts, the star rating (registry.api.ratings)
    "follow-up-overdue": {"GET": PROPERTY_READ},
    "landlord-contract-list": {"GET": PROPERTY_LIST, "POST": SWEEP_ADD},
    "landlord-contract-detail": {"GET": PROPERTY_READ, "PATCH": PROPERTY_PATCH},
    "landlord-contract-scan": {"GET": SCAN},
    "tenancy-contract-list": {"GET": PROPERTY_LIST, "POST": SWEEP_ADD},
    "tenancy-contract-detail": {"GET": PROPERTY_READ, "PATCH": PROPERTY_PATCH},
    "tenancy-contract-scan": {"GET": SCAN},
    "contract-rate": {"GET": PROPERTY_READ},
    "star-criterion-list": {"GET": SIGNED_IN},
    "star-rating-list": {"GET": PROPERTY_LIST, "POST": SWEEP_ADD},
    "star-rating-detail": {"GET": PROPERTY_READ, "PATCH": PROPERTY_PATCH},
    "rectification-list": {"GET": PROPERTY_LIST},
    "rectification-close": {"POST": PROPERTY_PATCH},
    "withdrawal-list": {"GET": PROPERTY_LIST, "POST": SWEEP_ADD},
    "withdrawal-restore": {"POST": PROPERTY_PATCH},
    "star-summary": {"GET": PROPERTY_READ},
    # Registers and person cards (registry.api.registers): exports of a node need a reason
    "register-floating": {"GET": PROPERTY_READ},
    "register-supplies": {"GET": PROPERTY_READ},
    "person-cards": {"GET": PROPERTY_READ},
    "supply-list": {"POST": SWEEP_ADD},
    # The department exchange (data.exchange_api)
    "exchange-file-list": {"GET": PROPERTY_LIST, "POST": EXCHANGE_UPLOAD},
    "exchange-file-detail": {"GET": PROPERTY_READ},
    "exchange-rows": {"GET": PROPERTY_READ},
    "exchange-decide": {"POST": PROPERTY_PATCH},
}


# -- the objects of a scope --------------------------------------------------------------------


def star_scores(total: int) -> dict[str, int]:
    """Scores of the active criteria adding up to ``total`` (stars taken from the last first)."""
    scores = {c.code: c.stars for c in StarCriterion.objects.filter(active=True)}
    missing = sum(scores.values()) - total
    for code in reversed(list(scores)):
        take = min(missing, scores[code])
        scores[code] -= take
        missing -= take
    return scores


def _scan() -> SimpleUploadedFile:
    return SimpleUploadedFile("合同.pdf", PDF, content_type="application/pdf")


@dataclass
class People:
    """The registry objects of one scope, made on first use: a landlord letting a room (rented
    whole) of the scope's building to a floating tenant on the register, the tenant's household,
    contracts with scans, a December rating of five stars (an order to rectify, overdue), a
    withdrawal of the right to rent, an exchange file with one row of the scope."""

    world: Any
    scope: str
    made: dict[str, Any] = field(default_factory=dict)

    def _get(self, name: str, make: Any) -> Any:
        if name not in self.made:
            self.made[name] = make()
        return self.made[name]

    @property
    def community(self) -> Any:
        return self.world.community(self.scope)

    @property
    def building(self) -> Any:
        return self.world.building(self.scope)

    @property
    def landlord(self) -> Any:
        return self._get(
            "landlord", lambda: LandlordFactory(community=self.community, name="王房东")
        )

    @property
    def room(self) -> Any:
        return self._get(
            "room",
            lambda: RoomFactory(
                building=self.building,
                floor=4,
                number="401",
                use="rented_whole",
                landlord=self.landlord,
            ),
        )

    @property
    def id_number(self) -> str:
        return self._get("id_number", id_number)

    @property
    def resident(self) -> Resident:
        return self._get(
            "resident",
            lambda: resident(
                self.room, name="张租户", category="floating", id_number=self.id_number
            ),
        )

    @property
    def household(self) -> Household:
        def make() -> Household:
            with personal(system=True):
                return Occupancy.objects.get(resident=self.resident).household

        return self._get("household", make)

    @property
    def landlord_contract(self) -> LandlordContract:
        return self._get(
            "landlord_contract",
            lambda: contracts.create_landlord_contract(
                None, self.landlord, signed_on=date(2024, 1, 1), scan=_scan()
            ),
        )

    @property
    def tenancy_contract(self) -> TenancyContract:
        return self._get(
            "tenancy_contract",
            lambda: contracts.create_tenancy_contract(
                None, self.room, self.resident, signed_on=date(2024, 1, 1), scan=_scan()
            ),
        )

    @property
    def rating(self) -> StarRating:
        """December 2024, five stars, rated on 5 January 2025: its order is long overdue."""
        self.room  # noqa: B018 - a rental house is rated
        return self._get(
            "rating",
            lambda: ratings.rate(
                None, self.building, date(2024, 12, 1), star_scores(5), on=date(2025, 1, 5)
            ),
        )

    @property
    def order(self) -> Rectification:
        def make() -> Rectification:
            with personal(system=True):
                return Rectification.objects.get(rating=self.rating)

        return self._get("order", make)

    @property
    def withdrawal(self) -> RentWithdrawal:
        self.order  # noqa: B018 - withdrawn for the overdue order
        return self._get(
            "withdrawal", lambda: ratings.withdraw(None, self.building, "逾期未整改完毕")
        )

    @property
    def exchange_file(self) -> ExchangeFile:
        def make() -> ExchangeFile:
            code = self.community.code
            with personal(system=True):
                job = ExchangeFile.objects.create(
                    file_name=f"{code}.csv",
                    file_size=100,
                    file_hash=f"matrix-{code}",
                    community_code=code,
                    status="succeeded",
                    rows_read=1,
                )
                self.made["exchange_row"] = ExchangeRow.objects.create(
                    file=job,
                    row=2,
                    community_code=code,
                    event="move_out",
                    outcome="unmatched",
                    reason_code="no_resident",
                    name="钱多",
                )
            return job

        return self._get("exchange_file", make)

    @property
    def exchange_row(self) -> ExchangeRow:
        self.exchange_file  # noqa: B018 - made with its row
        return self.made["exchange_row"]


def people(world: Any, scope: str) -> People:
    key = ("registry", scope)
    if key not in world._objects:
        # Scans and uploads go to a folder of the test's own.
        settings = world.request.getfixturevalue("settings")
        settings.MEDIA_ROOT = world.request.getfixturevalue("tmp_path") / "media"
        world._objects[key] = People(world, scope)
    found: People = world._objects[key]
    return found


def _count(model: Any, **filters: Any) -> int:
    with personal(system=True):
        return int(model.objects.filter(**filters).count())


def _fresh(model: Any, pk: Any) -> Any:
    with personal(system=True):
        return model.objects.get(pk=pk)


def _listed(cell: Any, response: Any, pk: Any) -> None:
    """A list answering 200 shows the scope's object or not, as the cell expects."""
    if response.status_code != 200:
        return
    rows = response.json()["results"]
    shown = pk in {row["id"] for row in rows}
    assert shown == cell.expected.shown, f"{cell.route}: object {pk} listed: {shown}"


def _file(response: Any, magic: bytes) -> Any:
    """A file answered 200 is read (its first bytes are the format's, no cache keeps it); the
    matrix reads ``.content``, which a streamed answer has not."""
    if response.status_code != 200:
        return response
    data = b"".join(response.streaming_content)
    assert data.startswith(magic), data[:20]
    assert "no-store" in response["Cache-Control"], response["Cache-Control"]
    return SimpleNamespace(status_code=200, content=data)


def _changed(cell: Any, response: Any, changed: bool) -> None:
    succeeded = 200 <= response.status_code < 300
    assert changed == succeeded, f"{cell.id}: changed {changed} but {response.status_code}"


# -- the runners -------------------------------------------------------------------------------


def run_registry_route(cell: Any, world: Any, client: Any) -> Any:
    """One cell of :data:`REGISTRY_MATRIX`; writes assert that they changed something iff they
    answered 2xx."""
    scope = cell.scope or "inside"
    p = people(world, scope)
    route = cell.route
    if route.startswith(("resident-", "household-")) or route == "access-log":
        return _run_people(cell, world, p)
    if route.startswith("exchange-"):
        return _run_exchange(cell, world, p)
    if route in ("register-floating", "register-supplies", "person-cards", "supply-list"):
        return _run_register(cell, world, p)
    return _run_rating(cell, world, p)


def _run_people(cell: Any, world: Any, p: People) -> Any:
    route, method = cell.route, cell.method
    if route == "access-log":
        return world.client(cell.role).get(reverse(route))
    if route == "resident-list" and method == "POST":
        body = {
            "name": "新居民",
            "category": "floating",
            "birth_date": "1990-01-01",
            "sex": "m",
            "room": p.room.pk,
            "moved_in": "2025-01-01",
        }
        before = _count(Resident)
        response = world.client(cell.role).post(reverse(route), body, format="json")
        _changed(cell, response, _count(Resident) != before)
        return response
    if route == "household-list":
        household = p.household
        response = world.client(cell.role).get(reverse(route), {"page_size": 1000})
        _listed(cell, response, household.pk)
        return response
    if route == "household-detail":
        url = reverse(route, kwargs={"pk": p.household.pk})
        return world.client(cell.role).get(url)
    person = p.resident
    client = world.client(cell.role)  # the services above sign nobody in, but be sure
    if route == "resident-list":
        response = client.get(reverse(route), {"page_size": 1000})
        _listed(cell, response, person.pk)
        return response
    if route == "resident-search-id":
        body = {"id_number": p.id_number, "reason": REASON}
        return client.post(reverse(route), body, format="json")
    url = reverse(route, kwargs={"pk": person.pk})
    if route == "resident-detail" and method == "GET":
        return client.get(url)
    if route == "resident-detail":
        response = client.patch(url, {"name": "李改名"}, format="json")
        _changed(cell, response, _fresh(Resident, person.pk).name == "李改名")
        return response
    if route == "resident-reveal":
        response = client.post(url, {"reason": REASON}, format="json")
        if response.status_code != 200:
            assert p.id_number not in response.content.decode(), "a refused reveal showed it"
        return response
    if route == "resident-move":
        room = RoomFactory(building=p.building, floor=4, number="402")
        before = _count(Occupancy, resident=person)
        response = client.post(url, {"room": room.pk, "on": "2025-06-01"}, format="json")
        _changed(cell, response, _count(Occupancy, resident=person) != before)
        return response
    if route == "resident-move-out":
        response = client.post(url, {"on": "2025-06-01"}, format="json")
        _changed(cell, response, not _count(Occupancy, resident=person, moved_out__isnull=True))
        return response
    if route == "resident-follow-ups":
        body = {"done_on": "2025-06-01", "outcome": "seen"}
        response = client.post(url, body, format="json")
        _changed(cell, response, _count(FollowUp, resident=person) == 1)
        return response
    raise AssertionError(f"no people runner for {cell.id}")


def _run_rating(cell: Any, world: Any, p: People) -> Any:
    route, method = cell.route, cell.method
    code = p.community.code
    if route == "star-criterion-list":
        return world.client(cell.role).get(reverse(route))
    if route in ("follow-up-overdue", "contract-rate", "star-summary"):
        p.resident  # noqa: B018 - someone to count
        return world.client(cell.role).get(reverse(route), {"code": code})
    for kind, model in (("landlord", LandlordContract), ("tenancy", TenancyContract)):
        if route.startswith(f"{kind}-contract-"):
            return _run_contract(cell, world, p, kind, model)
    if route == "star-rating-list" and method == "POST":
        p.room  # noqa: B018 - a rental house
        month = f"{timezone.localdate():%Y-%m}"
        body = {"building": p.building.pk, "month": month, "scores": star_scores(12)}
        before = _count(StarRating)
        response = world.client(cell.role).post(reverse(route), body, format="json")
        _changed(cell, response, _count(StarRating) != before)
        return response
    if route == "withdrawal-list" and method == "POST":
        p.order  # noqa: B018 - an overdue order, no withdrawal yet
        body = {"building": p.building.pk, "reason": "逾期未整改完毕"}
        before = _count(RentWithdrawal)
        response = world.client(cell.role).post(reverse(route), body, format="json")
        _changed(cell, response, _count(RentWithdrawal) != before)
        return response
    lists = {
        "star-rating-list": lambda: p.rating,
        "rectification-list": lambda: p.order,
        "withdrawal-list": lambda: p.withdrawal,
    }
    if route in lists:
        pk = lists[route]().pk
        response = world.client(cell.role).get(reverse(route), {"state": "all"})
        _listed(cell, response, pk)
        return response
    if route == "star-rating-detail":
        rating = p.rating
        url = reverse(route, kwargs={"pk": rating.pk})
        client = world.client(cell.role)
        if method == "GET":
            return client.get(url)
        response = client.patch(url, {"scores": star_scores(12)}, format="json")
        _changed(cell, response, _fresh(StarRating, rating.pk).stars == 12)
        return response
    if route == "rectification-close":
        order = p.order
        url = reverse(route, kwargs={"pk": order.pk})
        response = world.client(cell.role).post(url, {}, format="json")
        _changed(cell, response, _fresh(Rectification, order.pk).done_on is not None)
        return response
    if route == "withdrawal-restore":
        withdrawal = p.withdrawal
        url = reverse(route, kwargs={"pk": withdrawal.pk})
        response = world.client(cell.role).post(url, {}, format="json")
        restored = _fresh(RentWithdrawal, withdrawal.pk).restored_on is not None
        _changed(cell, response, restored)
        return response
    raise AssertionError(f"no rating runner for {cell.id}")


def _run_contract(cell: Any, world: Any, p: People, kind: str, model: Any) -> Any:
    route, method = cell.route, cell.method
    if route.endswith("-list") and method == "POST":
        body: dict[str, Any] = {"signed_on": "2025-01-01"}
        if kind == "landlord":
            body["landlord"] = p.landlord.pk
        else:
            body |= {"room": p.room.pk, "tenant": p.resident.pk}
        before = _count(model)
        response = world.client(cell.role).post(reverse(route), body, format="json")
        _changed(cell, response, _count(model) != before)
        return response
    contract = p.landlord_contract if kind == "landlord" else p.tenancy_contract
    client = world.client(cell.role)
    if route.endswith("-list"):
        response = client.get(reverse(route))
        _listed(cell, response, contract.pk)
        return response
    url = reverse(route, kwargs={"pk": contract.pk})
    if route.endswith("-scan"):
        response = client.get(url, {"reason": "核对合同信息"})
        if response.status_code != 200:
            assert not response.content.startswith(b"%PDF"), "a refused scan was served"
        return response
    if method == "GET":
        return client.get(url)
    response = client.patch(url, {"expires_on": "2027-12-31"}, format="json")
    _changed(cell, response, _fresh(model, contract.pk).expires_on == date(2027, 12, 31))
    return response


def _run_register(cell: Any, world: Any, p: People) -> Any:
    route = cell.route
    person = p.resident  # a floating resident living in the scope, on the registers
    if route == "supply-list":
        body = {
            "household": p.household.pk,
            "item": "大米",
            "quantity": "5",
            "unit": "kg",
            "given_on": "2025-06-01",
        }
        before = _count(SupplyDistribution)
        response = world.client(cell.role).post(reverse(route), body, format="json")
        _changed(cell, response, _count(SupplyDistribution) != before)
        return response
    client = world.client(cell.role)
    if route == "person-cards":
        query = {"resident": person.pk, "reason": "打印人员信息卡"}
        return _file(client.get(reverse(route), query), b"%PDF")
    query = {"code": p.community.code, "reason": "社区月度报表"}
    if route == "register-supplies":
        query |= {"since": "2025-01-01", "until": "2025-12-31"}
    return _file(client.get(reverse(route, kwargs={"fmt": "xlsx"}), query), b"PK")


def _run_exchange(cell: Any, world: Any, p: People) -> Any:
    route, method = cell.route, cell.method
    if route == "exchange-file-list" and method == "POST":
        upload = SimpleUploadedFile("2026-11.csv", EXCHANGE_CSV, content_type="text/csv")
        before = ExchangeFile.objects.count()
        response = world.client(cell.role).post(
            reverse(route), {"file": upload}, format="multipart"
        )
        _changed(cell, response, ExchangeFile.objects.count() != before)
        return response
    job = p.exchange_file
    client = world.client(cell.role)
    if route == "exchange-file-list":
        response = client.get(reverse(route))
        _listed(cell, response, str(job.pk))
        return response
    if route in ("exchange-file-detail", "exchange-rows"):
        return client.get(reverse(route, kwargs={"pk": job.pk}))
    row = p.exchange_row
    body = {"action": "reject", "note": "无此人记录"}
    response = client.post(reverse(route, kwargs={"pk": row.pk}), body, format="json")
    _changed(cell, response, _fresh(ExchangeRow, row.pk).decision != "")
    return response


# -- the grids' other side: users holding the permissions the fixture users lack ---------------

#: Routes refused to every fixture user for want of a permission → (permission, scope → status
#: for a community worker holding it).
WITH_PERMISSION: dict[str, tuple[str, dict[str, int]]] = {
    "resident-reveal": ("reveal_resident", {"inside": 200, "sibling": 404, "outside": 404}),
    "landlord-contract-scan": ("reveal_resident", {"inside": 200, "sibling": 404, "outside": 404}),
    "tenancy-contract-scan": ("reveal_resident", {"inside": 200, "sibling": 404, "outside": 404}),
    "access-log": ("audit", {ANY_SCOPE: 200}),
}


def run_with_permission(world: Any, route: str, scope: str) -> tuple[int, Any]:
    """The route as a community worker given the permission its grid lacks: the expected status
    and the response (a reveal answers the clear number, a scan the file's bytes, and no cache
    keeps either)."""
    codename, statuses = WITH_PERMISSION[route]
    worker = world.users["community_worker"]
    worker.user_permissions.add(Permission.objects.get(codename=codename))
    p = people(world, scope or "inside")
    client = world.client("community_worker")
    if route == "access-log":
        response = client.get(reverse(route))
    elif route == "resident-reveal":
        url = reverse(route, kwargs={"pk": p.resident.pk})
        response = client.post(url, {"reason": REASON}, format="json")
        if response.status_code == 200:
            assert response.json()["id_number"] == p.id_number
            assert "no-store" in response["Cache-Control"]
    else:
        contract = p.landlord_contract if route.startswith("landlord") else p.tenancy_contract
        url = reverse(route, kwargs={"pk": contract.pk})
        response = _file(client.get(url, {"reason": "核对合同信息"}), b"%PDF")
    return statuses[scope], response


def tenancy_contract_after_the_tenant_moved_away(world: Any) -> dict[str, Any]:
    """A tenancy contract of the ``home`` rented room whose tenant has since moved to the
    ``away`` community, as the home community's worker reads it: the list's count, the ids it
    shows, the detail's status."""
    from registry import services

    p = people(world, "inside")
    contract = p.tenancy_contract
    away_room = RoomFactory(building=world.building("sibling"), floor=4, number="499")
    services.move(None, p.resident, room=away_room, on=date(2025, 6, 1))
    client = world.client("community_worker")
    listed = client.get(reverse("tenancy-contract-list")).json()
    detail = client.get(reverse("tenancy-contract-detail", kwargs={"pk": contract.pk}))
    return {
        "count": listed["count"],
        "ids": [row["id"] for row in listed["results"]],
        "detail": detail.status_code,
        "contract": contract.pk,
    }
