"""The people register's pages (/register/…) without a browser: the territory tree and its counts
as of a day, a building's rooms, the person file, the searches, the reveal and the writers' forms
— each inside and outside the user's territory, masked values only in the HTML."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gis.models import Role, RoomUse
from registry.models import AccessLog, Category, FollowUp, Occupancy, Resident
from registry.privacy import personal
from web import register_pages

from ..conftest import Territory
from ..factories import RoomFactory
from ..registry.factories import id_number, resident

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def make_people(territory: Territory) -> dict[str, Any]:
    """In ``home``: a family of two in room 301, a floating tenant in 302 (rented), a rented room
    303 with nobody, a tenant who moved out of 304 last year; in ``away``: one resident."""
    home_rooms = {
        n: RoomFactory(
            building=territory.home_building,
            number=str(n),
            use=RoomUse.RENTED_SHARED if n != 301 else RoomUse.OWNER_OCCUPIED,
        )
        for n in (301, 302, 303, 304)
    }
    head = resident(home_rooms[301], name="张伟", id_number=id_number(), phone="13812345678")
    with personal(system=True):
        household = Occupancy.objects.get(resident=head).household
    from registry import services

    spouse = services.register_resident(
        None,
        services.PersonData(
            name="李娜", category=Category.COMMUNITY, id_number=id_number(male=False)
        ),
        room=home_rooms[301],
        moved_in=datetime.date(2024, 1, 1),
        relation="spouse",
        household=household,
    )
    floating = resident(
        home_rooms[302],
        name="张小明",
        category=Category.FLOATING,
        id_number=id_number(region="510104"),
        phone="13900001111",
    )
    gone = resident(home_rooms[304], name="王五", moved_in=datetime.date(2023, 3, 1))
    services.move_out(None, gone, on=datetime.date(2025, 6, 1))
    away_room = RoomFactory(building=territory.away_building, number="101")
    stranger = resident(away_room, name="张远", id_number=id_number(), phone="13700002222")
    return {
        "rooms": home_rooms,
        "head": head,
        "spouse": spouse,
        "floating": floating,
        "gone": gone,
        "stranger": stranger,
        "away_room": away_room,
    }


@pytest.fixture
def people(territory: Territory) -> dict[str, Any]:
    return make_people(territory)


def _client(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def clear_values(person: Resident) -> dict[str, str]:
    from registry import services

    with personal(system=True):
        return services.reveal_fields(Resident.objects.get(pk=person.pk))


def _assert_masked_only(html: str, *persons: Resident) -> None:
    for person in persons:
        clear = clear_values(person)
        assert clear["id_number"] not in html
        if clear["phone"]:
            assert clear["phone"] not in html


# -- the tree


def test_worker_sees_the_own_community_with_its_buildings_and_counts(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    response = _client(users[Role.COMMUNITY_WORKER]).get(reverse("register"))
    assert response.status_code == 200
    assert response["Cache-Control"].count("no-store") == 1
    html = response.content.decode()
    assert territory.home.name in html
    assert territory.away.name not in html and territory.away.code not in html
    ctx = response.context
    assert ctx["node"]["code"] == territory.home.code
    assert [c["building"] for c in ctx["children"]] == [territory.home_building.pk]
    assert ctx["totals"] == {
        "residents": 3,
        "floating": 1,
        "households": 2,
        "rooms": 4,
        "rented_empty": 2,  # 303, and 304 whose tenant moved out
    }


def test_counts_as_of_a_day_in_the_past(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    client = _client(users[Role.COMMUNITY_WORKER])
    response = client.get(reverse("register"), {"as_of": "2023-06-01"})
    assert response.context["totals"]["residents"] == 1  # only 王五 lived there then
    assert response.context["totals"]["rented_empty"] == 2  # 302 and 303
    bad = client.get(reverse("register"), {"as_of": "yesterday"})
    assert bad.status_code == 400
    assert "Give a date as YYYY-MM-DD." in bad.content.decode()


def test_supervisor_sees_both_communities_and_the_worker_never_the_other(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    response = _client(users[Role.STREET_SUPERVISOR]).get(reverse("register"))
    codes = [c["code"] for c in response.context["children"]]
    assert codes == [territory.home.code, territory.away.code]
    figures = {c["code"]: c["residents"] for c in response.context["children"]}
    assert figures == {territory.home.code: 3, territory.away.code: 1}
    worker = _client(users[Role.COMMUNITY_WORKER])
    # The office above the worker's community shows the worker's part only.
    up = worker.get(reverse("register"), {"code": territory.office.code})
    assert up.status_code == 200
    assert [c["code"] for c in up.context["children"]] == [territory.home.code]
    assert territory.away.name not in up.content.decode()
    for params in ({"code": territory.away.code}, {"building": territory.away_building.pk}):
        refused = worker.get(reverse("register"), params)
        assert refused.status_code == 404, params
        assert "Not found, or outside your territory." in refused.content.decode()


def test_a_building_lists_rooms_households_and_residents_masked(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    response = _client(users[Role.COMMUNITY_WORKER]).get(
        reverse("register"), {"building": territory.home_building.pk}
    )
    assert response.status_code == 200
    rooms = {r["label"]: r for r in response.context["rooms"]}
    assert [m["name"] for h in rooms["301"]["households"] for m in h["members"]] == ["张伟", "李娜"]
    assert rooms["303"]["rented_empty"] and not rooms["301"]["rented_empty"]
    html = response.content.decode()
    assert people["head"].id_number_masked in html
    _assert_masked_only(html, people["head"], people["spouse"], people["floating"])
    assert reverse("register-add", args=[people["rooms"][303].pk]) in html
    # A reader sees the same without the forms.
    reader = _client(users[Role.READ_ONLY]).get(
        reverse("register"), {"building": territory.home_building.pk}
    )
    assert reverse("register-add", args=[people["rooms"][303].pk]) not in reader.content.decode()


def test_no_territory_and_anonymous(db: None) -> None:
    from ..factories import UserFactory

    response = _client(UserFactory(username="nobody")).get(reverse("register"))
    assert response.status_code == 404
    text = response.content.decode()
    assert "Your account has no territory." in text
    anonymous = Client().get(reverse("register"))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


# -- searches


def test_name_search_is_a_prefix_within_the_territory(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    response = _client(users[Role.COMMUNITY_WORKER]).get(reverse("register"), {"q": "张"})
    names = [p["name"] for p in response.context["found"]]
    assert names == ["张伟", "张小明"]  # not 张远 of the other community
    assert "张远" not in response.content.decode()
    supervisor = _client(users[Role.STREET_SUPERVISOR]).get(reverse("register"), {"q": "张"})
    assert "张远" in [p["name"] for p in supervisor.context["found"]]
    # An identity number in the name box is neither searched nor shown again.
    number = clear_values(people["head"])["id_number"]
    typed = _client(users[Role.COMMUNITY_WORKER]).get(
        reverse("register"), {"q": number}, follow=True
    )
    assert typed.redirect_chain[0][0] == f"{reverse('register')}?number_typed=1"
    html = typed.content.decode()
    assert number not in html and "found" not in typed.context
    assert "the name search did not run" in html


def test_id_search_finds_logs_and_never_echoes_the_number(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    client = _client(worker)
    number = clear_values(people["floating"])["id_number"]
    found = client.post(
        reverse("register-search-id"), {"id_number": number, "reason": "核查来访人员"}
    )
    assert found.status_code == 302
    assert found["Location"] == reverse("register-resident", args=[people["floating"].pk])
    assert number not in found["Location"]
    log = AccessLog.objects.get(user_id=worker.pk)
    assert (log.action, log.rows, log.reason, log.object_id) == (
        "search",
        1,
        "核查来访人员",
        people["floating"].pk,
    )
    assert number not in log.what

    # Another community's number: not found, logged, not echoed.
    other = clear_values(people["stranger"])["id_number"]
    missing = client.post(
        reverse("register-search-id"), {"id_number": other, "reason": "核查来访人员"}
    )
    assert missing.status_code == 404
    html = missing.content.decode()
    assert other not in html and people["stranger"].id_number_masked not in html
    assert "Nobody with this identity number is registered in your territory." in html
    assert AccessLog.objects.filter(user_id=worker.pk, rows=0).count() == 1

    # A mistyped number: the error says why, without the number.
    typo = number[:-1] + ("1" if number[-1] != "1" else "2")
    bad = client.post(reverse("register-search-id"), {"id_number": typo, "reason": "核查来访人员"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "check digit" in html and 'lang="zh-Hans"' in html
    assert typo not in html and typo[:4] + "*" not in html
    # No reason: refused before searching, nothing logged.
    before = AccessLog.objects.count()
    noreason = client.post(reverse("register-search-id"), {"id_number": number, "reason": ""})
    assert noreason.status_code == 400 and number not in noreason.content.decode()
    assert AccessLog.objects.count() == before


# -- the person file and the reveal


def test_person_file_in_and_out_of_scope(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    worker = _client(users[Role.COMMUNITY_WORKER])
    head = people["head"]
    from registry import services

    services.record_follow_up(
        None, head, done_on=TODAY - datetime.timedelta(days=3), outcome="seen", note="在家"
    )
    response = worker.get(reverse("register-resident", args=[head.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert head.id_number_masked in html and head.phone_masked in html
    _assert_masked_only(html, head, people["spouse"])
    assert "李娜" in html  # household member
    assert "在家" in html  # the follow-up
    assert response.context["history"][0]["current"]
    assert 'id="reveal"' not in html  # no permission
    assert reverse("register-move", args=[head.pk]) in html
    refused = worker.get(reverse("register-resident", args=[people["stranger"].pk]))
    assert refused.status_code == 404
    assert "张远" not in refused.content.decode()
    reader = _client(users[Role.READ_ONLY]).get(reverse("register-resident", args=[head.pk]))
    assert reverse("register-move", args=[head.pk]) not in reader.content.decode()


def _revealer(users: dict[str, Any]) -> Any:
    worker = users[Role.COMMUNITY_WORKER]
    worker.user_permissions.add(Permission.objects.get(codename="reveal_resident"))
    return type(worker)._default_manager.get(pk=worker.pk)


def test_reveal_needs_permission_and_reason_and_is_logged_and_not_cached(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    head = people["head"]
    url = reverse("register-reveal", args=[head.pk])
    plain = _client(users[Role.COMMUNITY_WORKER])
    denied = plain.post(url, {"reason": "核对身份"}, HTTP_ACCEPT="application/json")
    assert denied.status_code == 403
    assert AccessLog.objects.count() == 0

    user = _revealer(users)
    client = _client(user)
    page = client.get(reverse("register-resident", args=[head.pk]))
    assert 'id="reveal"' in page.content.decode()
    noreason = client.post(url, {"reason": ""}, HTTP_ACCEPT="application/json")
    assert noreason.status_code == 400 and noreason.json()["code"] == "reason_required"
    clear = clear_values(head)
    shown = client.post(url, {"reason": "核对身份"}, HTTP_ACCEPT="application/json")
    assert shown.status_code == 200
    assert shown.json() == {**clear, "hide_after": 60}
    assert "no-store" in shown["Cache-Control"]
    log = AccessLog.objects.get(action="reveal")
    assert (log.user_id, log.object_id, log.reason) == (user.pk, head.pk, "核对身份")
    # Without a script: the file with the clear values, going back to the masked one after 60 s.
    html_page = client.post(url, {"reason": "核对身份"})
    assert html_page.status_code == 200 and "no-store" in html_page["Cache-Control"]
    text = html_page.content.decode()
    assert clear["id_number"] in text and 'http-equiv="refresh" content="60;' in text
    # The masked page afterwards holds no clear value.
    _assert_masked_only(
        client.get(reverse("register-resident", args=[head.pk])).content.decode(), head
    )
    # Another community's resident: 404, nothing revealed or logged.
    before = AccessLog.objects.count()
    away = client.post(
        reverse("register-reveal", args=[people["stranger"].pk]),
        {"reason": "核对身份"},
        HTTP_ACCEPT="application/json",
    )
    assert (
        away.status_code == 404
        and clear_values(people["stranger"])["id_number"] not in away.content.decode()
    )
    assert AccessLog.objects.count() == before


# -- forms


def test_register_a_resident_keeps_the_form_but_not_the_number(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    client = _client(users[Role.COMMUNITY_WORKER])
    room = people["rooms"][303]
    url = reverse("register-add", args=[room.pk])
    assert client.get(url).status_code == 200
    good = id_number(datetime.date(1995, 5, 5))
    typo = good[:-1] + ("1" if good[-1] != "1" else "2")
    form = {
        "name": "赵六",
        "category": "floating",
        "id_number": typo,
        "phone": "13600003333",
        "home_registration": "四川省成都市",
        "employer": "汉江物流",
        "arrival_date": "2025-03-01",
        "moved_in": "2025-03-02",
        "relation": "head",
    }
    bad = client.post(url, form)
    assert bad.status_code == 400
    html = bad.content.decode()
    assert typo not in html and "13600003333" not in html
    assert typo[:4] + "**********" + typo[-4:] in html  # the masked form, to type it again
    assert 'value="汉江物流"' in html and 'value="2025-03-01"' in html
    assert "check digit" in html and 'lang="zh-Hans"' in html
    with personal(system=True):
        assert not Resident.objects.filter(name="赵六").exists()
    saved = client.post(url, {**form, "id_number": good})
    assert saved.status_code == 302
    with personal(system=True):
        person = Resident.objects.get(name="赵六")
        assert person.category == "floating" and person.birth_date == datetime.date(1995, 5, 5)
        assert Occupancy.objects.get(resident=person).room_id == room.pk
    assert saved["Location"] == reverse("register-resident", args=[person.pk])


def test_joining_a_household_and_missing_fields(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    client = _client(users[Role.COMMUNITY_WORKER])
    room = people["rooms"][301]
    with personal(system=True):
        household = Occupancy.objects.get(resident=people["head"]).household_id
    empty = client.post(reverse("register-add", args=[room.pk]), {"category": "community"})
    assert empty.status_code == 400
    errors = empty.context["fields"]
    by_name = {f["name"]: f["error"] for f in errors}
    assert by_name["name"] and by_name["moved_in"]
    assert "This field is required." in by_name["name"]["en"]
    child = client.post(
        reverse("register-add", args=[room.pk]),
        {
            "name": "张小红",
            "category": "community",
            "birth_date": "2015-09-01",
            "sex": "f",
            "moved_in": "2015-09-01",
            "household": str(household),
            "relation": "child",
        },
    )
    assert child.status_code == 302
    with personal(system=True):
        occ = Occupancy.objects.get(resident__name="张小红")
        assert (occ.household_id, occ.relation) == (household, "child")


def test_forms_are_404_out_of_scope_and_403_read_only(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    worker = _client(users[Role.COMMUNITY_WORKER])
    reader = _client(users[Role.READ_ONLY])
    stranger = people["stranger"].pk
    head = people["head"].pk
    assert worker.get(reverse("register-add", args=[people["away_room"].pk])).status_code == 404
    assert (
        worker.post(
            reverse("register-add", args=[people["away_room"].pk]), {"name": "x"}
        ).status_code
        == 404
    )
    for name in ("register-move", "register-move-out", "register-follow-up"):
        assert worker.get(reverse(name, args=[stranger])).status_code == 404, name
        assert worker.post(reverse(name, args=[stranger]), {}).status_code == 404, name
        assert reader.get(reverse(name, args=[head])).status_code == 403, name
        assert reader.post(reverse(name, args=[head]), {}).status_code == 403, name
    assert reader.get(reverse("register-add", args=[people["rooms"][303].pk])).status_code == 403
    with personal(system=True):
        assert not FollowUp.objects.exists()


def test_follow_up_move_and_move_out(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    client = _client(users[Role.COMMUNITY_WORKER])
    person = people["floating"]
    future = (TODAY + datetime.timedelta(days=2)).isoformat()
    refused = client.post(
        reverse("register-follow-up", args=[person.pk]), {"done_on": future, "outcome": "seen"}
    )
    assert refused.status_code == 400
    assert "still to come" in refused.content.decode()
    done = client.post(
        reverse("register-follow-up", args=[person.pk]),
        # A control character in the note (a NUL cannot be stored) is dropped, not a 500.
        {"done_on": TODAY.isoformat(), "outcome": "changed", "note": "换了\x00工作"},
    )
    assert done.status_code == 302
    with personal(system=True):
        assert FollowUp.objects.get(resident=person).note == "换了 工作"
    shown = client.get(reverse("register-resident", args=[person.pk]))
    assert shown.context["follow_ups"][0]["by"] == "worker"
    assert "换了 工作" in shown.content.decode() and "Saved." in shown.content.decode()

    # Move: the form offers the user's communities, the building's rooms.
    form = client.get(reverse("register-move", args=[person.pk]))
    assert form.status_code == 200
    fields = {f["name"]: f for f in form.context["fields"]}
    assert [c for c, _n in fields["community"]["choices"]] == [territory.home.code]
    target = people["rooms"][303]
    assert str(target.pk) in [v for v, _l in fields["room"]["choices"]]
    moved = client.post(
        reverse("register-move", args=[person.pk]),
        {"room": str(target.pk), "on": TODAY.isoformat(), "relation": "head"},
    )
    assert moved.status_code == 302, moved.content.decode()[:2000]
    away = client.post(
        reverse("register-move", args=[person.pk]),
        {"room": str(people["away_room"].pk), "on": TODAY.isoformat(), "relation": "head"},
    )
    assert away.status_code == 400  # the room is not one the worker sees
    # Move out: not before moving in, then as an out-flowing resident.
    early = client.post(reverse("register-move-out", args=[person.pk]), {"on": "2020-01-01"})
    assert early.status_code == 400
    assert {f["name"]: f["error"] for f in early.context["fields"]}["on"]
    later = TODAY + datetime.timedelta(days=1)
    out = client.post(
        reverse("register-move-out", args=[person.pk]),
        {"on": later.isoformat(), "outflowing": "1"},
    )
    assert out.status_code == 302
    with personal(system=True):
        assert Resident.objects.get(pk=person.pk).category == Category.OUTFLOWING


# -- exports


def test_export_links_name_each_format() -> None:
    links = {link["name"]: link["urls"] for link in register_pages.export_links()}
    assert links == {
        "register-floating": [
            ("XLSX", "/api/registry/registers/floating.xlsx"),
            ("PDF", "/api/registry/registers/floating.pdf"),
        ],
        "register-supplies": [
            ("XLSX", "/api/registry/registers/supplies.xlsx"),
            ("PDF", "/api/registry/registers/supplies.pdf"),
        ],
        "person-cards": [("PDF", "/api/registry/cards.pdf")],
    }


def test_pages_hold_no_outside_host(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    client = _client(users[Role.COMMUNITY_WORKER])
    for url in (
        reverse("register"),
        f"{reverse('register')}?building={territory.home_building.pk}",
        reverse("register-resident", args=[people["head"].pk]),
        reverse("register-add", args=[people["rooms"][303].pk]),
    ):
        html = client.get(url).content.decode()
        assert "https://" not in html and "http://" not in html, url


def test_export_forms_name_the_building_or_node_and_ask_a_reason(
    territory: Territory, users: dict[str, Any], people: dict[str, Any]
) -> None:
    client = _client(users[Role.COMMUNITY_WORKER])
    building = client.get(reverse("register"), {"building": territory.home_building.pk})
    html = building.content.decode()
    assert f'name="code" value="building={territory.home_building.pk}"' in html
    assert 'formaction="/api/registry/registers/floating.xlsx"' in html
    assert 'name="reason" required minlength="4"' in html
    assert 'name="reveal"' not in html  # no reveal permission
    node = client.get(reverse("register")).content.decode()
    assert f'name="code" value="{territory.home.code}"' in node
    person = client.get(reverse("register-resident", args=[people["head"].pk])).content.decode()
    assert f'name="resident" value="{people["head"].pk}"' in person
    assert 'formaction="/api/registry/cards.pdf"' in person
