"""The people register's API: residents, households, search by identity number, reveal and the
access log — scope (out of the territory is 404 on every route, and row-level security hides the
row too), masking (no response body ever holds a clear number or phone), logging, reasons,
read-only and anonymous refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from gis import services as gis_services
from gis.models import Role, Room
from registry.models import AccessLog, Resident
from registry.privacy import log_access, personal

from ..conftest import Territory
from ..factories import RoomFactory, UserFactory
from .factories import id_number, resident

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
HOME_NUMBER = id_number(date(1980, 5, 6))
AWAY_NUMBER = id_number(date(1970, 2, 3), male=False)
NEW_NUMBER = id_number(date(2000, 7, 8))
CLEAR = (HOME_NUMBER, AWAY_NUMBER, NEW_NUMBER, PHONE, "13987654321")


@dataclass
class People:
    home: Resident
    away: Resident
    home_room: Room
    other_home_room: Room
    away_room: Room


@pytest.fixture
def people(territory: Territory) -> People:
    home_room = RoomFactory(building=territory.home_building, floor=2, number="201")
    other = RoomFactory(building=territory.home_building, floor=3, number="301")
    away_room = RoomFactory(building=territory.away_building, floor=1, number="101")
    gis_services.save_door_plate(
        actor=None, data={"building": territory.home_building, "road": "人民路", "number": "12"}
    )
    return People(
        home=resident(home_room, name="张三", id_number=HOME_NUMBER, moved_in=date(2023, 1, 1)),
        away=resident(away_room, name="李四", id_number=AWAY_NUMBER, moved_in=date(2023, 1, 1)),
        home_room=home_room,
        other_home_room=other,
        away_room=away_room,
    )


class Client:
    """An API client that checks every body it receives for clear numbers and phones."""

    def __init__(self, user: Any = None) -> None:
        self.api = APIClient()
        if user is not None:
            self.api.force_authenticate(user)

    def __getattr__(self, method: str) -> Any:
        def call(url: str, data: Any = None, **kwargs: Any) -> Any:
            if method == "get":
                response = self.api.get(url, data, **kwargs)
            else:
                response = getattr(self.api, method)(url, data, format="json", **kwargs)
            body = response.content.decode()
            if "reveal" not in url:
                for clear in CLEAR:
                    assert clear not in body, f"{clear} in the answer of {method} {url}"
            return response

        return call


def url(name: str, pk: int | None = None) -> str:
    return reverse(name, kwargs={"pk": pk} if pk is not None else None)


def _revealer(user: Any) -> Any:
    user.user_permissions.add(Permission.objects.get(codename="reveal_resident"))
    return type(user).objects.get(pk=user.pk)


def _auditor(user: Any) -> Any:
    user.user_permissions.add(Permission.objects.get(codename="audit"))
    return type(user).objects.get(pk=user.pk)


# -- reading


def test_list_shows_the_territory_masked(people: People, users) -> None:
    worker = Client(users[Role.COMMUNITY_WORKER])
    response = worker.get(url("resident-list"))
    assert response["Cache-Control"] == "private, no-store"
    body = response.json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert row["name"] == "张三"
    assert row["id_number_masked"] == HOME_NUMBER[:4] + "*" * 10 + HOME_NUMBER[-4:]
    assert row["phone_masked"] == "138****5678"
    assert not {"id_number", "phone", "id_number_hash"} & set(row)
    assert row["place"]["room"]["number"] == "201"
    assert row["place"]["address"].endswith("人民路12号")
    supervisor = Client(users[Role.STREET_SUPERVISOR])
    names = [r["name"] for r in supervisor.get(url("resident-list")).json()["results"]]
    assert names == ["张三", "李四"]


def test_list_filters(people: People, users, territory: Territory) -> None:
    supervisor = Client(users[Role.STREET_SUPERVISOR])

    def names(**params: Any) -> list[str]:
        response = supervisor.get(url("resident-list"), params)
        assert response.status_code == 200, response.json()
        return [r["name"] for r in response.json()["results"]]

    assert names(community=territory.away.code) == ["李四"]
    assert names(building=territory.home_building.pk) == ["张三"]
    assert names(room=people.away_room.pk) == ["李四"]
    assert names(name="张") == ["张三"]
    assert names(name="三") == []
    assert names(category="floating") == []
    assert names(as_of="2022-12-31") == []
    assert names(as_of="2023-01-01") == ["张三", "李四"]


@pytest.mark.parametrize(
    "params",
    [
        {"as_of": "2023-13-01"},
        {"as_of": "yesterday"},
        {"building": "abc"},
        {"room": "99999999999999999999999"},
        {"community": "人民路"},
        {"category": "martian"},
        {"name": "a\x00b"},
    ],
)
def test_bad_filters_are_400(people: People, users, params: dict[str, str]) -> None:
    response = Client(users[Role.COMMUNITY_WORKER]).get(url("resident-list"), params)
    assert response.status_code == 400
    assert response.json()["detail_zh"] and response.json()["detail_en"]


def test_detail_has_history_and_follow_ups(people: People, users) -> None:
    worker = Client(users[Role.COMMUNITY_WORKER])
    assert (
        worker.post(
            url("resident-follow-ups", people.home.pk),
            {"done_on": "2024-02-01", "outcome": "seen", "note": "在家"},
        ).status_code
        == 201
    )
    moved = worker.post(
        url("resident-move", people.home.pk),
        {"room": people.other_home_room.pk, "on": "2024-03-01"},
    )
    assert moved.status_code == 200, moved.json()
    body = worker.get(url("resident-detail", people.home.pk)).json()
    assert [o["room"]["number"] for o in body["occupancies"]] == ["201", "301"]
    assert body["occupancies"][0]["moved_out"] == "2024-03-01"
    assert body["place"]["room"]["number"] == "301"
    assert [(f["outcome"], f["note"]) for f in body["follow_ups"]] == [("seen", "在家")]
    # As of a day before the move, the list shows the old room.
    old = worker.get(url("resident-list"), {"as_of": "2023-06-01"}).json()["results"][0]
    assert old["place"]["room"]["number"] == "201"


# -- territory: another community's resident answers 404 on every route


def test_worker_cannot_reach_a_resident_of_another_community(
    people: People, users, territory: Territory
) -> None:
    user = _revealer(users[Role.COMMUNITY_WORKER])
    worker = Client(user)
    away = people.away.pk
    listed = worker.get(url("resident-list"), {"community": territory.away.code}).json()
    assert listed["count"] == 0
    assert worker.get(url("resident-list"), {"room": people.away_room.pk}).json()["count"] == 0
    calls = [
        ("get", url("resident-detail", away), None),
        ("patch", url("resident-detail", away), {"name": "王五"}),
        ("post", url("resident-move", away), {"room": people.home_room.pk, "on": "2024-01-01"}),
        ("post", url("resident-move-out", away), {"on": "2024-01-01"}),
        ("post", url("resident-follow-ups", away), {"done_on": "2024-01-01", "outcome": "seen"}),
        ("post", url("resident-reveal", away), {"reason": "核对租户身份"}),
        ("post", url("resident-search-id"), {"id_number": AWAY_NUMBER, "reason": "核对租户身份"}),
    ]
    for method, address, data in calls:
        response = getattr(worker, method)(address, data)
        assert response.status_code == 404, (method, address, response.content)
        assert "李四" not in response.content.decode()
    households = worker.get(url("household-list")).json()
    assert [h["room"]["id"] for h in households["results"]] == [people.home_room.pk]
    with personal(system=True):
        away_household_id = people.away.occupancies.get().household_id
    assert worker.get(url("household-detail", away_household_id)).status_code == 404
    # Nothing changed, and row-level security hides the row from raw SQL as well.
    with personal(user), connection.cursor() as cursor:
        cursor.execute("SELECT name FROM registry_resident WHERE id = %s", [away])
        assert cursor.fetchall() == []
    with personal(system=True):
        assert Resident.objects.get(pk=away).name == "李四"


def test_creating_in_another_community_is_refused(people: People, users) -> None:
    worker = Client(users[Role.COMMUNITY_WORKER])
    response = worker.post(
        url("resident-list"),
        {
            "name": "王五",
            "category": "floating",
            "id_number": NEW_NUMBER,
            "room": people.away_room.pk,
            "moved_in": "2024-01-01",
        },
    )
    assert response.status_code == 403
    with personal(system=True):
        assert not Resident.objects.filter(name="王五").exists()


# -- writing


def test_register_update_move_out(people: People, users) -> None:
    worker = Client(users[Role.COMMUNITY_WORKER])
    created = worker.post(
        url("resident-list"),
        {
            "name": "王五",
            "category": "floating",
            "id_number": NEW_NUMBER,
            "phone": "13987654321",
            "home_registration": "湖北省襄阳市",
            "room": people.home_room.pk,
            "moved_in": "2024-01-01",
            "relation": "tenant",
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["id_number_masked"].endswith(NEW_NUMBER[-4:]) and body["phone_masked"]
    assert (body["birth_date"], body["sex"]) == ("2000-07-08", "m")
    pk = body["id"]
    patched = worker.patch(url("resident-detail", pk), {"employer": "汉江厂", "phone": ""})
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["employer"], patched.json()["phone_masked"]) == ("汉江厂", "")
    out = worker.post(url("resident-move-out", pk), {"on": "2024-06-01", "outflowing": True})
    assert out.status_code == 200, out.json()
    assert out.json()["category"] == "outflowing" and out.json()["place"] is None
    # The same number again: one file per number, refused with the number masked.
    again = worker.post(
        url("resident-list"),
        {
            "name": "王五",
            "category": "floating",
            "id_number": NEW_NUMBER,
            "room": people.home_room.pk,
            "moved_in": "2024-07-01",
        },
    )
    assert again.status_code == 400 and again.json()["code"] == "duplicate_id_number"


def test_join_a_household(people: People, users) -> None:
    worker = Client(users[Role.COMMUNITY_WORKER])
    with personal(system=True):
        household = people.home.occupancies.get().household_id
    created = worker.post(
        url("resident-list"),
        {
            "name": "张小三",
            "category": "community",
            "birth_date": "2015-03-04",
            "sex": "f",
            "room": people.home_room.pk,
            "moved_in": "2024-01-01",
            "relation": "child",
            "household": household,
        },
    )
    assert created.status_code == 201, created.json()
    members = worker.get(url("household-detail", household), {"as_of": "2024-02-01"}).json()
    assert [(m["name"], m["relation"]) for m in members["members"]] == [
        ("张三", "head"),
        ("张小三", "child"),
    ]
    before = worker.get(url("household-detail", household), {"as_of": "2023-06-01"}).json()
    assert [m["name"] for m in before["members"]] == ["张三"]
    listed = worker.get(url("household-list"), {"room": people.home_room.pk}).json()
    assert [h["id"] for h in listed["results"]] == [household]
    assert worker.get(url("household-list"), {"as_of": "2022-01-01"}).json()["count"] == 0


def test_bad_input_is_400_and_changes_nothing(people: People, users) -> None:
    worker = Client(users[Role.COMMUNITY_WORKER])
    bad = NEW_NUMBER[:-1] + ("0" if NEW_NUMBER[-1] != "0" else "1")
    response = worker.post(
        url("resident-list"),
        {
            "name": "王五",
            "category": "floating",
            "id_number": bad,
            "room": people.home_room.pk,
            "moved_in": "2024-01-01",
        },
    )
    assert response.status_code == 400
    assert response.json()["code"] == "id_check_digit"
    assert bad not in response.content.decode()
    assert bad[:4] + "*" * 10 + bad[-4:] in response.json()["detail_en"]
    early = worker.post(url("resident-move-out", people.home.pk), {"on": "2022-01-01"})
    assert early.status_code == 400
    future = worker.post(
        url("resident-follow-ups", people.home.pk), {"done_on": "2999-01-01", "outcome": "seen"}
    )
    assert future.status_code == 400
    with personal(system=True):
        assert not Resident.objects.filter(name="王五").exists()
        assert people.home.occupancies.get().moved_out is None


def test_read_only_and_anonymous_are_refused(people: People, users) -> None:
    reader = Client(users[Role.READ_ONLY])
    anonymous = Client()
    home = people.home.pk
    writes = [
        ("post", url("resident-list"), {"name": "x", "category": "floating"}),
        ("patch", url("resident-detail", home), {"name": "王五"}),
        (
            "post",
            url("resident-move", home),
            {"room": people.other_home_room.pk, "on": "2024-01-01"},
        ),
        ("post", url("resident-move-out", home), {"on": "2024-01-01"}),
        ("post", url("resident-follow-ups", home), {"done_on": "2024-01-01", "outcome": "seen"}),
    ]
    for method, address, data in writes:
        assert getattr(reader, method)(address, data).status_code == 403, address
        assert getattr(anonymous, method)(address, data).status_code == 403, address
    assert reader.get(url("resident-detail", home)).status_code == 200
    for address in (
        url("resident-list"),
        url("resident-detail", home),
        url("household-list"),
        url("access-log"),
    ):
        assert anonymous.get(address).status_code == 403
    for address in (url("resident-search-id"), url("resident-reveal", home)):
        assert anonymous.post(address, {"reason": "核对租户身份"}).status_code == 403
    # Methods the routes do not have.
    assert (
        Client(users[Role.COMMUNITY_WORKER]).delete(url("resident-detail", home)).status_code == 405
    )


# -- search by identity number and reveal: reasons and the log


def test_search_by_number_is_logged_found_or_not(people: People, users) -> None:
    worker = Client(users[Role.READ_ONLY])  # a read: read-only users may search
    found = worker.post(
        url("resident-search-id"), {"id_number": HOME_NUMBER.lower(), "reason": "来访登记核对"}
    )
    assert found.status_code == 200 and found.json()["id"] == people.home.pk
    assert found["Cache-Control"] == "private, no-store"
    missing = worker.post(
        url("resident-search-id"), {"id_number": AWAY_NUMBER, "reason": "来访登记核对"}
    )
    assert missing.status_code == 404
    logged = list(AccessLog.objects.order_by("id").values_list("action", "rows", "what", "path"))
    assert [row[:2] for row in logged] == [("search", 1), ("search", 0)]
    assert logged[0][3] == url("resident-search-id")
    assert not any(n in str(logged) for n in CLEAR)


def test_search_needs_a_reason_and_a_valid_number(people: People, users) -> None:
    worker = Client(users[Role.COMMUNITY_WORKER])
    no_reason = worker.post(url("resident-search-id"), {"id_number": HOME_NUMBER, "reason": " "})
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "reason_required"
    bad = HOME_NUMBER[:-1] + ("0" if HOME_NUMBER[-1] != "0" else "1")
    wrong = worker.post(url("resident-search-id"), {"id_number": bad, "reason": "来访登记核对"})
    assert wrong.status_code == 400
    assert bad not in wrong.content.decode()
    assert bad[:4] + "*" * 10 + bad[-4:] in wrong.json()["detail_zh"]
    assert not AccessLog.objects.exists()


def test_reveal_needs_the_permission_and_a_reason_and_is_logged(people: People, users) -> None:
    plain = Client(users[Role.COMMUNITY_WORKER])
    reveal = url("resident-reveal", people.home.pk)
    assert plain.post(reveal, {"reason": "核对租户身份"}).status_code == 403
    revealer = Client(_revealer(users[Role.COMMUNITY_WORKER]))
    assert revealer.post(reveal, {"reason": ""}).status_code == 400
    assert revealer.post(reveal, {}).status_code == 400
    assert not AccessLog.objects.exists()
    shown = revealer.post(reveal, {"reason": "核对租户身份"})
    assert shown.status_code == 200
    assert shown.json() == {"id_number": HOME_NUMBER, "phone": PHONE}
    assert shown["Cache-Control"] == "private, no-store"
    entry = AccessLog.objects.get()
    assert (entry.action, entry.object_id, entry.reason, entry.path) == (
        "reveal",
        people.home.pk,
        "核对租户身份",
        reveal,
    )
    assert HOME_NUMBER not in entry.what


# -- the access log


def test_access_log_is_for_auditors_and_read_only(people: People, users, territory) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    log_access(worker, "reveal", "resident 1", reason="核对", community_code=territory.home.code)
    log_access(worker, "export", "register", reason="月报", community_code=territory.away.code)
    log_access(worker, "search", "id_number 4206**", reason="来访核对")
    outsider = UserFactory(username="elsewhere", grants=[(Role.COMMUNITY_WORKER, "420602001001")])
    log_access(outsider, "search", "id_number 4202**", reason="来访核对")
    assert Client(worker).get(url("access-log")).status_code == 403
    auditor = Client(_auditor(UserFactory(username="audit", grants=[(Role.READ_ONLY, "420606")])))
    body = auditor.get(url("access-log")).json()
    assert [r["action"] for r in body["results"]] == ["search", "export", "reveal"]
    assert auditor.get(url("access-log"), {"action": "export"}).json()["count"] == 1
    assert auditor.get(url("access-log"), {"community": territory.home.code}).json()["count"] == 1
    assert auditor.get(url("access-log"), {"user": "worker"}).json()["count"] == 3
    assert auditor.get(url("access-log"), {"user": "nobody"}).json()["count"] == 0
    today = date.today().isoformat()
    assert auditor.get(url("access-log"), {"since": today, "until": today}).json()["count"] == 3
    assert auditor.get(url("access-log"), {"until": "2000-01-01"}).json()["count"] == 0
    assert auditor.get(url("access-log"), {"since": "someday"}).status_code == 400
    # A community's auditor sees that community only.
    local = Client(
        _auditor(UserFactory(username="audit2", grants=[(Role.READ_ONLY, territory.away.code)]))
    )
    assert [r["what"] for r in local.get(url("access-log")).json()["results"]] == ["register"]
    for method in ("post", "put", "patch", "delete"):
        assert getattr(auditor, method)(url("access-log"), {"reason": "x"}).status_code in (
            403,
            405,
        )
    superuser = Client(UserFactory(username="root", is_superuser=True))
    assert superuser.get(url("access-log")).json()["count"] == 4
    assert superuser.delete(url("access-log")).status_code == 405
    assert AccessLog.objects.count() == 4


def test_ids_beyond_the_database_are_404(people: People, users) -> None:
    worker = Client(users[Role.COMMUNITY_WORKER])
    huge = 10**30
    assert worker.get(f"/api/registry/residents/{huge}/").status_code == 404
    assert worker.get(f"/api/registry/households/{huge}/").status_code == 404
    assert (
        worker.post(f"/api/registry/residents/{huge}/move-out/", {"on": "2024-01-01"}).status_code
        == 404
    )
    moved = worker.post(url("resident-move", people.home.pk), {"room": huge, "on": "2024-01-01"})
    assert moved.status_code == 400
