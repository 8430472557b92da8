"""The grid pages: ``/grids/``, ``/grids/staffing/`` and ``/grids/<code>/network/``.

The ``home`` community holds the four zones of ``tests.layers.test_network.build_network`` (zone
003 has had no responsible person since 2026-02-01); ``away`` has no zone.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gis.models import DoorPlate, Role, RoomUse
from grid.models import AssignmentRole

from ..conftest import Territory
from ..factories import (
    BuildingFactory,
    CommunityFactory,
    EntranceFactory,
    RoomFactory,
    UserFactory,
    box,
    mbox,
)
from ..grid.factories import AssignmentFactory, StaffFactory, ZoneFactory
from ..layers.test_network import NetworkWorld, build_network, parse_svg

PHONE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture
def world(territory: Territory) -> NetworkWorld:
    return build_network(territory)


def _client(user: Any, language: str = "zh-hans") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def _network(code: str) -> str:
    return reverse("grid-network", kwargs={"code": code})


def test_network_page_shows_the_map_and_the_chain(territory: Territory, world: NetworkWorld, users):
    response = _client(users[Role.COMMUNITY_WORKER]).get(_network(territory.home.code))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    for zone in world.zones:
        assert f'data-code="{zone.code}"' in html
    assert "<td>责任人</td><td>张三</td><td>139****5678</td><td>2026-01-01</td>" in html
    assert "<td>孙八</td><td>132****7777</td>" in html
    assert PHONE.findall(html) == []
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'onclick="window.print()"' in html
    assert 'class="network-page paper-a4"' in html


def test_network_page_of_another_day(territory: Territory, world: NetworkWorld, users):
    client = _client(users[Role.READ_ONLY])
    response = client.get(_network(territory.home.code), {"on": "2026-01-15"})
    assert "<td>周九</td><td>133****6666</td>" in response.content.decode()
    refused = client.get(_network(territory.home.code), {"on": "2026-13-01"})
    assert refused.status_code == 400
    assert '<p class="error" role="alert">2026-13-01 ' in refused.content.decode()


def test_network_svg_download(territory: Territory, world: NetworkWorld, users):
    response = _client(users[Role.STREET_SUPERVISOR]).get(
        _network(territory.home.code), {"format": "svg", "on": "2026-06-01"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="network-map-420606001001-20260601.svg"'
    )
    body = response.content.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = parse_svg(body)
    assert root.get("width") == "297mm"
    assert PHONE.findall(body) == []


@pytest.mark.parametrize(
    ("code", "status", "words"),
    [
        ("420606001002", 404, "420606001002"),  # the sibling community: out of the worker's scope
        ("420606001009", 404, "420606001009"),  # no such community
        ("420606001", 404, "(12 digits)"),  # a street office, not a community
        ("abc", 404, "abc"),
    ],
)
def test_network_page_out_of_scope_or_unknown(
    territory: Territory, world: NetworkWorld, users, code: str, status: int, words: str
):
    response = _client(users[Role.COMMUNITY_WORKER], "en").get(_network(code))
    assert response.status_code == status
    assert words in response.content.decode()


def test_pages_need_a_signed_in_user(territory: Territory):
    for url in (reverse("grids"), reverse("grid-staffing"), _network(territory.home.code)):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr[^>]*data-code="(\d{12})"', html)


def test_index_lists_the_users_communities(
    territory: Territory, world: NetworkWorld, users, django_assert_max_num_queries
):
    worker = _client(users[Role.COMMUNITY_WORKER])
    html = worker.get(reverse("grids")).content.decode()
    assert _rows(html) == ["420606001001"]
    supervisor = _client(users[Role.STREET_SUPERVISOR])
    # Session and user, grants, 3 coverage + 4 staffing statements (twice the community codes),
    # street offices: however many communities.
    with django_assert_max_num_queries(14):
        response = supervisor.get(reverse("grids"))
    with CaptureQueriesContext(connection) as two:
        supervisor.get(reverse("grids"))
    third = CommunityFactory(
        street_office=territory.office, code="420606001003", geom=mbox(112.15, 32.0, 112.2, 32.1)
    )
    zone = ZoneFactory(community=third, code="001", geom=mbox(112.15, 32.0, 112.2, 32.1))
    AssignmentFactory(
        staff=StaffFactory(community=third), zone=zone, role=AssignmentRole.INFORMATION_OFFICER
    )
    with CaptureQueriesContext(connection) as three:
        more = supervisor.get(reverse("grids"))
    assert _rows(more.content.decode()) == ["420606001001", "420606001002", "420606001003"]
    assert len(three) == len(two), "a query per community on /grids/"
    assert _rows(response.content.decode()) == ["420606001001", "420606001002"]
    rows = {r.coverage.code: r for g in response.context["groups"] for r in g.rows}
    home, away = rows["420606001001"], rows["420606001002"]
    assert (home.coverage.zones, home.coverage.uncovered_m2) == (4, 0.0)
    assert len(home.staffing.zones_without_responsible) == 1
    assert [b.id for b in away.coverage.buildings_in_no_zone] == [territory.away_building.pk]
    assert away.coverage.uncovered_m2 == pytest.approx(away.coverage.area_m2)
    assert home.edit_url == "/grids/420606001001/"
    assert [g.name for g in response.context["groups"]] == ["汉江街道"]
    assert f'href="{_network("420606001001")}"' in response.content.decode()


def test_index_code_filter(territory: Territory, world: NetworkWorld, users):
    client = _client(users[Role.STREET_SUPERVISOR], "en")
    html = client.get(reverse("grids"), {"code": "420606001002"}).content.decode()
    assert _rows(html) == ["420606001002"]
    assert 'value="420606001002"' in html
    assert f'<a href="{reverse("grid-staffing")}?code=420606001002">Staffing gaps</a>' in html
    assert client.get(reverse("grids"), {"code": "420602"}).status_code == 404
    refused = client.get(reverse("grids"), {"code": "42x"})
    assert refused.status_code == 400
    assert "42x is not a district, street office or community code" in refused.content.decode()


def test_user_without_grants_sees_no_community(territory: Territory):
    nobody = UserFactory(username="nobody")
    response = _client(nobody).get(reverse("grids"))
    assert response.status_code == 200
    assert _rows(response.content.decode()) == []


def test_staffing_page_lists_the_exact_gaps(territory: Territory, world: NetworkWorld, users):
    # 120 households in the building that has a head; another lived-in building has none.
    for i in range(120):
        RoomFactory(
            building=territory.home_building,
            floor=i // 20 + 1,
            number=f"{i // 20 + 1}{i % 20:02d}",
            use=RoomUse.OWNER_OCCUPIED,
        )
    headless = BuildingFactory(footprint=box(112.101, 32.001, 112.102, 32.002), name="5栋")
    RoomFactory(building=headless, floor=1, number="101", use=RoomUse.RENTED_WHOLE)
    AssignmentFactory(
        staff=StaffFactory(community=territory.home, name="吴十", phone="13100008888"),
        role=AssignmentRole.CENTRAL_HOUSEHOLD_HEAD,
    )
    response = _client(users[Role.COMMUNITY_WORKER]).get(reverse("grid-staffing"))
    assert response.status_code == 200
    (section,) = response.context["sections"]
    assert (section.report.households, section.report.residents) == (121, 317)
    # (role, needed, present, missing): ⌈317 / 3000⌉ propagandists, ⌈121 / 100⌉ central heads,
    # two information officers (one, 王五, present).
    assert section.shortages == [
        ("大院宣传员", 1, 0, 1),
        ("中心户长", 2, 1, 1),
        ("信息员", 2, 1, 1),
    ]
    assert section.buildings == [(headless.pk, "5栋", "")]
    # The building's standard address is its own plate's: no room, no entrance first (even when
    # an entrance's plate is shorter), then the shortest.
    for address, entrance in (
        ("人民路5号5栋", None),
        ("人民路5号5栋甲", None),
        ("人民路5号", EntranceFactory(building=headless)),
    ):
        DoorPlate.objects.create(
            building=headless,
            entrance=entrance,
            district="樊城区",
            street_office="汉江街道",
            community="一社区",
            address=address,
            location=Point(112.1015, 32.0015, srid=4326),
        )
    response = _client(users[Role.COMMUNITY_WORKER]).get(reverse("grid-staffing"))
    assert response.context["sections"][0].buildings == [(headless.pk, "5栋", "人民路5号5栋")]
    assert "<td>5栋</td><td>人民路5号5栋</td>" in response.content.decode()
    html = response.content.decode()
    assert '<td>中心户长</td><td>2</td><td>1</td><td class="missing">1</td>' in html
    assert f'<a href="{_network("420606001001")}">{world.zones[2].code}</a>' in html
    assert PHONE.findall(html) == []
    # Out of scope: 404.
    away = _client(users[Role.COMMUNITY_WORKER]).get(
        reverse("grid-staffing"), {"code": territory.away.code}
    )
    assert away.status_code == 404


def test_index_page_links_the_grids(territory: Territory, users):
    html = _client(users[Role.READ_ONLY], "en").get(reverse("index")).content.decode()
    assert f'<a href="{reverse("grids")}">Responsibility grids</a>' in html


def test_a_grant_without_communities_is_skipped(territory: Territory, world: NetworkWorld):
    both = UserFactory(
        username="two-grants",
        grants=[(Role.COMMUNITY_WORKER, territory.home.code), (Role.COMMUNITY_WORKER, "420699")],
    )
    response = _client(both).get(reverse("grids"))
    assert response.status_code == 200
    assert _rows(response.content.decode()) == ["420606001001"]
    assert _client(both).get(reverse("grids"), {"code": "420699"}).status_code == 404


def test_zone_editor_is_scoped_and_read_only_for_a_reader(territory: Territory, users):
    url = reverse("grid-edit", kwargs={"code": territory.home.code})
    worker = _client(users[Role.COMMUNITY_WORKER]).get(url)
    assert worker.status_code == 200
    config = worker.context["config"]
    assert (config["community"]["code"], config["can_edit"]) == (territory.home.code, True)
    assert config["urls"]["network"] == _network(territory.home.code)
    assert '<script id="page-config" type="application/json">' in worker.content.decode()
    assert _client(users[Role.READ_ONLY]).get(url).context["config"]["can_edit"] is False
    away = reverse("grid-edit", kwargs={"code": territory.away.code})
    assert _client(users[Role.COMMUNITY_WORKER]).get(away).status_code == 404
    assert _client(users[Role.COMMUNITY_WORKER]).post(url).status_code == 405
