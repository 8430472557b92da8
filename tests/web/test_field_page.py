"""The phone page for field staff (web/field.py): it renders for a field worker in Chinese and
English with what its script needs, sends the anonymous to the login page, and serves its
service worker from under /field/ with the shell's files listed.

``field_sweep`` is the sweep the browser test walks: one team with the ``worker`` user as its
member, a plan of three buildings in ``home`` over two days, two rooms each.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone

from gis.models import Building, DoorPlate, Role, Room
from grid.models import (
    PlanDay,
    PlanReason,
    PlanStop,
    Staff,
    Sweep,
    SweepPlan,
    SweepRoom,
    SweepTeam,
    VisitOutcome,
)

from ..conftest import Territory
from ..factories import BuildingFactory, RoomFactory, box

pytestmark = pytest.mark.django_db


@dataclass
class FieldSweep:
    sweep: Sweep
    team: SweepTeam
    staff: Staff
    buildings: list[Building]
    rooms: list[Room]  # in route order, two per building


@pytest.fixture
def field_sweep(territory: Territory, users: dict[str, Any]) -> FieldSweep:
    home = territory.home
    today = timezone.localdate()
    sweep = Sweep.objects.create(
        name="春季清查",
        territory_code=home.code,
        area=home.geom,
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=6),
    )
    staff = Staff.objects.create(name="李娜", community=home, user=users[Role.COMMUNITY_WORKER])
    team = SweepTeam.objects.create(
        sweep=sweep, name="一组", start=Point(112.110, 32.010, srid=4326), start_name="服务站"
    )
    team.members.add(staff)
    buildings: list[Any] = [
        territory.home_building,
        BuildingFactory(footprint=box(112.113, 32.011, 112.114, 32.012)),
        BuildingFactory(footprint=box(112.115, 32.011, 112.116, 32.012)),
    ]
    plan = SweepPlan.objects.create(sweep=sweep, version=1, reason=PlanReason.PLANNED)
    rooms: list[Any] = []
    for seq, building in enumerate(buildings, start=1):
        DoorPlate.objects.create(
            building=building,
            district="樊城区",
            street_office="汉江街道",
            community=home.name,
            road="人民路",
            number=f"{10 + 2 * seq}号",
            address=f"人民路{10 + 2 * seq}号",
            location=building.footprint.centroid,
        )
        pair: list[Any] = [
            RoomFactory(building=building, floor=1, number=f"{seq}0{n}") for n in (1, 2)
        ]
        rooms.extend(pair)
        for room in pair:
            SweepRoom.objects.create(sweep=sweep, room=room, building=building, area_code=home.code)
        PlanStop.objects.create(
            plan=plan,
            team=team,
            building=building,
            day=1 if seq <= 2 else 2,
            seq=seq,
            rooms=2,
            walk_m=120.0 * seq,
            work_min=12.0,
        )
    for day, stops in ((1, 2), (2, 1)):
        PlanDay.objects.create(
            plan=plan, team=team, day=day, stops=stops, rooms=2 * stops, walk_m=400, work_min=30
        )
    return FieldSweep(sweep, team, staff, buildings, rooms)


def signed_in_client(user: Any, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def page_config(response: Any) -> dict[str, Any]:
    html = response.content.decode()
    start = html.index('<script id="page-config" type="application/json">') + len(
        '<script id="page-config" type="application/json">'
    )
    return dict(json.loads(html[start : html.index("</script>", start)]))


def test_anonymous_is_sent_to_login(territory: Territory) -> None:
    response = Client().get("/field/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/field/")


def test_page_in_chinese_by_default(users: dict[str, Any], field_sweep: FieldSweep) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    response = signed_in_client(worker).get("/field/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "/static/web/field.js" in html and "/static/web/common.js" in html
    config = page_config(response)
    assert config["user"] == {"id": worker.pk, "name": "worker"}
    assert config["urls"]["api"] == "/api/"
    assert config["urls"]["sw"] == "/field/sw.js"
    assert [o["value"] for o in config["outcomes"]] == list(VisitOutcome.values)
    assert set(config["failed_outcomes"]) == {"not_at_home", "refused"}
    # Every word the script uses is there, with its placeholders intact.
    words = config["words"]
    assert "%(count)s" in words["waiting"] and "%(done)s" in words["progress"]
    assert response.cookies.get("csrftoken") is not None


def test_page_in_english(users: dict[str, Any], field_sweep: FieldSweep) -> None:
    response = signed_in_client(users[Role.COMMUNITY_WORKER], "en").get("/field/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Field visits" in html
    config = page_config(response)
    assert config["lang"] == "en"
    assert config["words"]["synced"] == "All synced"
    labels = {o["value"]: o["label"] for o in config["outcomes"]}
    assert labels["new_room"] == "new room found"


def test_read_only_user_sees_the_page(users: dict[str, Any]) -> None:
    """The page itself shows nothing of the register; the API decides what each user may do."""
    response = signed_in_client(users[Role.READ_ONLY]).get("/field/")
    assert response.status_code == 200


def test_index_links_to_the_page(users: dict[str, Any]) -> None:
    response = signed_in_client(users[Role.COMMUNITY_WORKER]).get("/")
    assert 'href="/field/"' in response.content.decode()


def test_service_worker_script(territory: Territory) -> None:
    response = Client().get("/field/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/field/"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    body = response.content.decode()
    first = body.split("\n", 1)[0]
    assert first.startswith("var FIELD_SHELL = ") and first.endswith(";")
    shell = json.loads(first.removeprefix("var FIELD_SHELL = ").removesuffix(";"))
    assert shell["page"] == "/field/"
    assert "/static/web/field.js" in shell["static"]
    assert "/static/web/common.js" in shell["static"]
    assert 'addEventListener("fetch"' in body
    # Every file the worker keeps is served.
    for url in shell["static"]:
        assert Client().get(url).status_code == 200, url
