"""The coverage dashboard of a territory node (layers.coverage.dashboard): its figures against
counts made independently from the rows set up, the scope (a worker's community only, a street
supervisor's sum), the JSON and XLSX routes, bad input and the page for every role."""

from __future__ import annotations

import datetime
import io
import uuid
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from gis.exceptions import InvalidInputError, NotFoundError
from gis.models import DoorPlate, Role, RoomUse
from grid import coverage, services, visits
from grid.models import AssignmentRole, RoomVisitState, Sweep, SweepRoom, Visit
from layers.coverage.dashboard import dashboard, own_node
from registry import contracts

from ..conftest import Territory
from ..factories import BuildingFactory, LandlordFactory, RoomFactory, UserFactory, box, mbox
from ..grid.factories import AssignmentFactory, StaffFactory, draw_zone


def strip(a: int, b: int) -> Any:
    return mbox(112.10 + 0.01 * a, 32.00, 112.10 + 0.01 * b, 32.05)


def slot(k: int) -> Any:
    x = 112.1015 + 0.01 * (k // 3) + 0.003 * (k % 3)
    return box(x, 32.02, x + 0.001, 32.021)


def plate(building: Any, address: str, *, population: bool, on: Any = None) -> DoorPlate:
    return DoorPlate.objects.create(
        building=building,
        district="樊城区",
        street_office="汉江街道",
        community="人民路社区",
        address=address,
        location=Point(112.1015, 32.0015, srid=4326),
        population_plate=population,
        population_plate_on=on,
    )


def visit(room: Any, outcome: str, when: datetime.datetime) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "room": room.pk,
        "outcome": outcome,
        "visited_at": when.isoformat(),
    }


def week_start(today: datetime.date) -> datetime.date:
    return today - datetime.timedelta(days=today.weekday())


@pytest.fixture
def world(territory: Territory, users: dict[str, Any]) -> dict[str, Any]:
    """Two zones in the home community (one with its responsible person), rooms in each, in no
    zone and in the away community; plates; visits this week, last week and long ago."""
    west_zone = draw_zone(territory.home, strip(0, 2), name="西网格")
    east_zone = draw_zone(territory.home, strip(2, 4), name="东网格")
    west = BuildingFactory(footprint=slot(0))
    east = BuildingFactory(footprint=slot(7))
    nozone = BuildingFactory(footprint=slot(13))
    rented = RoomUse.RENTED_WHOLE
    rooms = {
        "west": [
            RoomFactory(building=west, floor=1, number=str(i), use=rented if i < 2 else "vacant")
            for i in range(4)
        ],
        "east": [
            RoomFactory(building=east, floor=1, number=str(i), use=RoomUse.RENTED_SHARED)
            for i in range(2)
        ],
        "nozone": [RoomFactory(building=nozone, floor=1, number="1")],
        "away": [RoomFactory(building=territory.away_building, floor=1, number="1", use=rented)],
    }
    today = timezone.localdate()
    plate(west, "人民路1号1栋", population=True, on=today.replace(day=1))
    plate(east, "人民路1号2栋", population=False)
    plate(territory.away_building, "长虹路1号1栋", population=True, on=datetime.date(2025, 3, 1))
    staff = StaffFactory(community=territory.home)
    AssignmentFactory(staff=staff, zone=west_zone, role=AssignmentRole.RESPONSIBLE)
    now = timezone.localtime()
    monday = datetime.datetime.combine(week_start(today), datetime.time(9), now.tzinfo)
    this_week = min(
        now - datetime.timedelta(minutes=5), max(monday, now - datetime.timedelta(hours=1))
    )
    last_week = monday - datetime.timedelta(days=3)
    admin = users[Role.DISTRICT_ADMIN]
    results = visits.record_visits(
        admin,
        [
            visit(rooms["west"][0], "registered", this_week),
            visit(rooms["west"][1], "registered", last_week),
            visit(rooms["west"][2], "not_at_home", this_week),
            visit(rooms["west"][3], "not_at_home", now - datetime.timedelta(days=4)),
            visit(rooms["west"][3], "refused", now - datetime.timedelta(days=3)),
            visit(rooms["west"][3], "not_at_home", now - datetime.timedelta(days=2)),
            visit(rooms["east"][0], "vacant", now - datetime.timedelta(days=60)),
            visit(rooms["away"][0], "registered", this_week),
        ],
    )
    assert all(r.stored for r in results), [r.as_body() for r in results]
    return {
        "zones": (west_zone, east_zone),
        "buildings": (west, east, nozone),
        "rooms": rooms,
        "admin": admin,
        "today": today,
    }


def by_key(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["key"]: m for m in data["measures"]}


def recount(room_ids: list[int], today: datetime.date) -> dict[str, Any]:
    """The figures of a set of rooms counted from the visits and states directly."""
    monday = week_start(today)
    rows = Visit.objects.filter(room_id__in=room_ids)
    local = [timezone.localtime(v.visited_at).date() for v in rows]
    seen = {}
    for v in rows.exclude(outcome__in=["not_at_home", "refused"]):
        day = timezone.localtime(v.visited_at).date()
        seen[v.room_id] = max(seen.get(v.room_id, day), day)
    states = RoomVisitState.objects.filter(room_id__in=room_ids)
    return {
        "rooms": len(room_ids),
        "seen_30": sum(1 for d in seen.values() if d > today - datetime.timedelta(days=30)),
        "seen_7": sum(1 for d in seen.values() if d > today - datetime.timedelta(days=7)),
        "seen_ever": len(seen),
        "week": sum(1 for d in local if monday <= d <= today),
        "last_week": sum(1 for d in local if monday - datetime.timedelta(days=7) <= d < monday),
        "overdue": states.filter(revisit_after__lt=timezone.now()).count(),
        "flagged": states.filter(flagged=True).count(),
    }


def test_office_figures_match_a_recount(territory: Territory, world: dict[str, Any]) -> None:
    rooms, today = world["rooms"], world["today"]
    data = dashboard(world["admin"], territory.office.code)
    everything = [r.pk for group in rooms.values() for r in group]
    expected = recount(everything, today)
    m = by_key(data)
    assert (m["coverage_30"]["numerator"], m["coverage_30"]["denominator"]) == (
        expected["seen_30"],
        expected["rooms"],
    )
    assert m["coverage_30"]["value"] == round(expected["seen_30"] / expected["rooms"], 4)
    assert m["coverage_30"]["status"] == "below_target" and m["coverage_30"]["target"] == 0.95
    assert m["coverage_7"]["numerator"] == expected["seen_7"] and m["coverage_7"]["target"] is None
    assert m["coverage_all"]["numerator"] == expected["seen_ever"] == 4
    assert m["visits_week"]["value"] == expected["week"]
    assert m["visits_last_week"]["value"] == expected["last_week"]
    assert m["overdue_rooms"]["value"] == expected["overdue"]
    assert m["flagged_rooms"]["value"] == expected["flagged"] == 1  # three failures in a row
    # Buildings with rented rooms: west (plate up), east (plate not up), away (plate up).
    assert (m["plate_rate"]["numerator"], m["plate_rate"]["denominator"]) == (2, 3)
    assert m["plate_rate"]["target"] == 1.0 and m["plate_rate"]["status"] == "below_target"
    assert (
        m["zones_without_responsible"]["value"],
        m["zones_without_responsible"]["denominator"],
    ) == (1, 2)
    assert m["zones_without_responsible"]["status"] == "below_target"
    links = m["plate_rate"]["links"]
    assert links["map"].startswith("/coverage/?code=420606001&")
    assert "gaps=no_plate_buildings" in links["map"] and "days=30" in links["map"]
    assert links["list"] == "/api/coverage/gaps/?code=420606001&kind=no_plate_buildings"
    assert "kind=unseen_buildings&days=30" in m["coverage_30"]["links"]["list"]
    # Per community: the same figures, summing up to the office's.
    children = {c["code"]: c for c in data["children"]}
    assert list(children) == [territory.home.code, territory.away.code]
    home_rooms = [r.pk for k in ("west", "east", "nozone") for r in rooms[k]]
    home = recount(home_rooms, today)
    assert children[territory.home.code]["rooms"] == home["rooms"] == 7
    assert children[territory.home.code]["seen"]["30"] == home["seen_30"]
    assert children[territory.home.code]["visits_week"] == home["week"]
    assert children[territory.away.code]["visits_week"] == 1
    assert children[territory.home.code]["flagged"] == 1
    assert children[territory.away.code]["plate_rate"] == 1.0
    assert children[territory.home.code]["plate_rate"] == 0.5
    totals = {"visits_week": "visits_week", "visits_last_week": "visits_last_week"}
    totals |= {"overdue": "overdue_rooms", "flagged": "flagged_rooms"}
    for key, measure in totals.items():
        assert sum(c[key] for c in children.values()) == m[measure]["value"]
    assert sum(c["rooms"] for c in children.values()) == m["coverage_30"]["denominator"]
    assert children[territory.home.code]["links"]["dashboard"].endswith(
        f"?code={territory.home.code}"
    )
    assert [c["name"] for c in data["breadcrumb"]][-1] == territory.office.name
    assert data["partial"] is False
    # Buildings without a head: counted in the database, as many as the staffing report lists.
    staffing = services.staffing_gaps(territory.office.code).communities
    heads = {c.code: len(c.buildings_without_head) for c in staffing}
    assert m["buildings_without_head"]["value"] == sum(heads.values()) > 0
    assert {code: c["buildings_without_head"] for code, c in children.items()} == heads


def test_community_and_zone_figures(territory: Territory, world: dict[str, Any]) -> None:
    rooms, today = world["rooms"], world["today"]
    west_zone, east_zone = world["zones"]
    data = dashboard(world["admin"], territory.home.code)
    children = {c["code"]: c for c in data["children"]}
    assert list(children) == [west_zone.code, east_zone.code, territory.home.code]
    west = recount([r.pk for r in rooms["west"]], today)
    assert children[west_zone.code]["rooms"] == 4
    assert children[west_zone.code]["visits_week"] == west["week"]
    assert children[west_zone.code]["flagged"] == west["flagged"] == 1
    assert children[west_zone.code]["zones_without_responsible"] == 0
    assert children[east_zone.code]["zones_without_responsible"] == 1
    assert children[east_zone.code]["plate_rate"] == 0.0
    assert children[territory.home.code]["level"] == "no_zone"
    assert children[territory.home.code]["links"]["dashboard"] is None
    zone = dashboard(world["admin"], west_zone.code)
    m = by_key(zone)
    assert (m["coverage_all"]["numerator"], m["coverage_all"]["denominator"]) == (2, 4)
    assert m["visits_week"]["value"] == west["week"]
    assert m["plate_rate"]["value"] == 1.0 and m["plate_rate"]["status"] == "ok"
    assert m["zones_without_responsible"]["value"] == 0
    assert m["buildings_without_head"]["value"] == 1  # the west building, by its zone
    assert "staffing_gaps" not in m  # the ratios are a community's
    assert zone["children"] == [] and zone["node"]["level"] == "zone"
    assert [c["code"] for c in zone["breadcrumb"]] == [
        "420606",
        territory.office.code,
        territory.home.code,
        west_zone.code,
    ]


def test_scope(territory: Territory, world: dict[str, Any], users: dict[str, Any]) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    with pytest.raises(NotFoundError):
        dashboard(worker, territory.away.code)
    mine = dashboard(worker, territory.office.code)
    assert mine["partial"] is True
    assert [c["code"] for c in mine["children"]] == [territory.home.code]
    assert by_key(mine)["coverage_30"]["denominator"] == 7
    assert (
        by_key(mine)["visits_week"]["value"]
        == by_key(dashboard(world["admin"], territory.home.code))["visits_week"]["value"]
    )
    # A street supervisor of the office sees the sum of its communities.
    street = dashboard(users[Role.STREET_SUPERVISOR], territory.office.code)
    assert street["partial"] is False
    m = by_key(street)
    assert m["coverage_30"]["denominator"] == sum(c["rooms"] for c in street["children"]) == 8
    assert m["visits_week"]["value"] == sum(c["visits_week"] for c in street["children"])
    # Above the supervisor's office: their part of the district.
    district = dashboard(users[Role.STREET_SUPERVISOR], "420606")
    assert district["partial"] is True and by_key(district)["coverage_30"]["denominator"] == 8
    other = UserFactory(username="elsewhere", grants=[(Role.COMMUNITY_WORKER, "420606002001")])
    with pytest.raises(NotFoundError):
        dashboard(other, territory.office.code)
    assert own_node(worker) == territory.home.code
    assert own_node(users[Role.STREET_SUPERVISOR]) == territory.office.code


def test_api(territory: Territory, world: dict[str, Any], users: dict[str, Any]) -> None:
    client = APIClient()
    client.force_authenticate(users[Role.COMMUNITY_WORKER])
    url = reverse("coverage-dashboard-api")
    response = client.get(url, {"code": territory.home.code})
    assert response.status_code == 200
    assert response.json()["node"]["code"] == territory.home.code
    away = client.get(url, {"code": territory.away.code}).json()
    assert away["code"] == "not_found" and away["detail_zh"] and away["detail_en"]
    assert client.get(url, {"code": territory.away.code}).status_code == 404
    bad = client.get(url, {"code": "42x"})
    assert bad.status_code == 400 and bad.json()["field"] == "code"
    assert client.get(url).status_code == 400
    assert client.get(url, {"code": "420606001001999"}).status_code == 404
    xlsx = client.get(reverse("coverage-dashboard-xlsx"), {"code": territory.away.code})
    assert xlsx.status_code == 404
    assert APIClient().get(url, {"code": territory.home.code}).status_code == 403
    assert client.post(url, {"code": territory.home.code}).status_code == 405
    reader = APIClient()
    reader.force_authenticate(users[Role.READ_ONLY])
    assert reader.get(url, {"code": territory.home.code}).status_code == 200
    assert reader.post(url, {"code": territory.home.code}).status_code == 403
    page = Client()
    assert page.get(reverse("coverage-dashboard")).status_code == 302  # to the sign-in page
    page.force_login(UserFactory(username="nowhere", grants=[]))
    assert page.get(reverse("coverage-dashboard")).status_code == 404
    assert page.post(reverse("coverage-dashboard")).status_code == 405


def test_xlsx(territory: Territory, world: dict[str, Any]) -> None:
    client = APIClient()
    client.force_authenticate(world["admin"])
    with timezone.override("Asia/Shanghai"):
        response = client.get(reverse("coverage-dashboard-xlsx"), {"code": territory.office.code})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    measures, children = book.worksheets
    data = dashboard(world["admin"], territory.office.code)
    rows = {r[0].value: r for r in measures.iter_rows(min_row=4) if r[0].value}
    coverage = rows[by_key(data)["coverage_30"]["label"]]
    assert coverage[1].value == by_key(data)["coverage_30"]["value"]
    assert coverage[1].number_format == "0.0%" and coverage[4].value == 0.95
    assert coverage[2].value == 3 and coverage[3].value == 8
    plates = rows[by_key(data)["plate_rate"]["label"]]
    assert (plates[2].value, plates[3].value) == (2, 3)
    header = [c.value for c in children[1]]
    assert header[:3] == ["代码", "名称", "房间"]  # Chinese by default
    assert [children.cell(row=r, column=1).value for r in (2, 3)] == [
        territory.home.code,
        territory.away.code,
    ]
    assert children.cell(row=2, column=3).value == 7
    assert children.cell(row=2, column=4).number_format == "0.0%"


@pytest.mark.parametrize(
    "role", [Role.DISTRICT_ADMIN, Role.STREET_SUPERVISOR, Role.COMMUNITY_WORKER, Role.READ_ONLY]
)
def test_page_renders_for_each_role(
    territory: Territory, world: dict[str, Any], users: dict[str, Any], role: str
) -> None:
    client = Client()
    client.force_login(users[role])
    response = client.get(reverse("coverage-dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="dash-card' in html and "/api/coverage/report/" in html
    assert "http://" not in html.replace("http://www.w3.org", "")
    own = {Role.DISTRICT_ADMIN: "420606", Role.STREET_SUPERVISOR: territory.office.code}
    assert response.context["node"]["code"] == own.get(role, territory.home.code)
    home = client.get(reverse("coverage-dashboard"), {"code": territory.home.code})
    assert home.status_code == 200
    assert world["zones"][0].name in home.content.decode()
    away = client.get(reverse("coverage-dashboard"), {"code": territory.away.code})
    assert away.status_code == (200 if role in own else 404)
    assert client.get(reverse("coverage-dashboard"), {"code": "x1"}).status_code == 400


def test_page_is_chinese_by_default(territory: Territory, world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["admin"])
    html = client.get(reverse("coverage-dashboard"), {"code": territory.office.code}).content
    assert "信息覆盖率".encode() in html and b"Information coverage rate" not in html
    english = client.get(
        reverse("coverage-dashboard"), {"code": territory.office.code}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert b"Information coverage rate" in english.content
    assert client.get(reverse("coverage-dashboard")).status_code == 200
    with pytest.raises(InvalidInputError):
        dashboard(world["admin"], "1234")


def test_page_refusals_in_both_languages(territory: Territory, world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(UserFactory(username="nowhere", grants=[]))
    for language in ("zh-hans", "en"):
        response = client.get(reverse("coverage-dashboard"), HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 404
        html = response.content.decode()
        assert "您的账号没有辖区。" in html and "Your account has no territory." in html
    client.force_login(world["admin"])
    bad = client.get(reverse("coverage-dashboard"), {"code": "x1"}, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "不是区、街道、社区或网格的代码" in html
    assert "is not a district, street office, community or zone code" in html


def test_sweeps_in_progress(
    territory: Territory, world: dict[str, Any], users: dict[str, Any]
) -> None:
    rooms, today = world["rooms"], world["today"]
    targets = rooms["west"] + rooms["east"] + rooms["away"]

    def sweep(name: str, starts: int, ends: int) -> Sweep:
        made = Sweep.objects.create(
            name=name,
            territory_code=territory.office.code,
            area=mbox(112.10, 32.00, 112.15, 32.10),
            starts_on=today - datetime.timedelta(days=starts),
            ends_on=today + datetime.timedelta(days=ends),
        )
        SweepRoom.objects.bulk_create(
            SweepRoom(
                sweep=made,
                room=room,
                building=room.building,
                area_code=room.building.community.code,
            )
            for room in targets
        )
        coverage.rebuild_sweep_counts(made)
        return made

    running = sweep("冬季清查", 2, 10)
    sweep("秋季清查", 60, -30)  # ended
    now = timezone.localtime() - datetime.timedelta(minutes=1)
    visits.record_visits(
        world["admin"],
        [
            visit(rooms["west"][0], "registered", now) | {"sweep": running.pk},
            visit(rooms["away"][0], "registered", now) | {"sweep": running.pk},
        ],
    )
    office = dashboard(world["admin"], territory.office.code)
    assert [(s["name"], s["targets"], s["visited"]) for s in office["sweeps"]] == [
        ("冬季清查", 7, 2)
    ]
    shown = office["sweeps"][0]
    assert shown["value"] == round(2 / 7, 4) and shown["status"] == "below_target"
    assert f"sweep={running.pk}" in shown["links"]["map"]
    assert shown["links"]["list"].endswith("?kind=unvisited_rooms")
    # The community's part of the office's sweep; the worker sees it too (read-only).
    home = dashboard(users[Role.COMMUNITY_WORKER], territory.home.code)
    assert [(s["targets"], s["visited"]) for s in home["sweeps"]] == [(6, 1)]


def test_landlord_contract_rate(territory: Territory, users: dict[str, Any]) -> None:
    """Landlords of rented rooms holding a valid responsibility contract: in the home community
    王 (valid) and 李 (expired) let rooms, 张 lives in his own (not counted); in the away
    community 赵 (valid, no expiry) lets one. Per community for the street office; the
    community's figure is not split by zone, and a zone has none."""
    today = timezone.localdate()
    home, away = territory.home_building, territory.away_building

    def landlord(name: str, building: Any, use: str, contract: tuple[Any, Any] | None) -> None:
        owner = LandlordFactory(community=building.community, name=name)
        RoomFactory(building=building, use=use, landlord=owner)
        if contract is not None:
            signed, expires = contract
            contracts.create_landlord_contract(None, owner, signed_on=signed, expires_on=expires)

    year = datetime.timedelta(days=365)
    landlord("王", home, RoomUse.RENTED_WHOLE, (today - year, today + year))
    landlord("李", home, RoomUse.RENTED_SHARED, (today - 2 * year, today - year))
    landlord("张", home, RoomUse.OWNER_OCCUPIED, None)
    landlord("赵", away, RoomUse.RENTED_WHOLE, (today - year, None))

    office = dashboard(users[Role.STREET_SUPERVISOR], territory.office.code)
    m = by_key(office)["landlord_contract_rate"]
    assert (m["numerator"], m["denominator"], m["value"]) == (2, 3, round(2 / 3, 4))
    assert m["target"] == 1.0 and m["status"] == "below_target" and m["unit"] == "share"
    assert m["links"]["list"] == f"/api/registry/contract-rate/?code={territory.office.code}"
    children = {c["code"]: c for c in office["children"]}
    assert (
        children[territory.home.code]["landlords"],
        children[territory.home.code]["landlords_signed"],
        children[territory.home.code]["landlord_contract_rate"],
    ) == (2, 1, 0.5)
    assert children[territory.away.code]["landlord_contract_rate"] == 1.0
    # The worker: the home community only, also from the office above it.
    for code in (territory.home.code, territory.office.code):
        mine = by_key(dashboard(users[Role.COMMUNITY_WORKER], code))["landlord_contract_rate"]
        assert (mine["numerator"], mine["denominator"]) == (1, 2)
    community = dashboard(users[Role.COMMUNITY_WORKER], territory.home.code)
    assert all(c["landlord_contract_rate"] is None for c in community["children"])
    zone = draw_zone(territory.home, strip(0, 5))
    assert "landlord_contract_rate" not in by_key(dashboard(users[Role.DISTRICT_ADMIN], zone.code))
