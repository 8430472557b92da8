"""The field-pack page (web/sheet_pages.py): the form with the user's sweeps (teams and planned
days), zones and the building of the query string, prefilled from the query; read-only accounts
get no form; the list shows the user's own packs only; anonymous users sign in first."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from gis import services
from gis.models import Role
from grid.models import Sweep
from layers.models import SheetJob

from ..conftest import Territory
from ..grid.factories import ZoneFactory
from ..layers.conftest import quick_solver, row, sweep  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _config(response: Any) -> dict[str, Any]:
    found = re.search(r'id="page-config"[^>]*>(.*?)</script>', response.content.decode(), re.S)
    assert found, "the page has no page-config"
    return json.loads(found.group(1))


def _page(user: Any, query: str = "") -> Any:
    with translation.override("en"):
        response = _client(user).get(reverse("sheets") + query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(
    "role", [Role.DISTRICT_ADMIN, Role.STREET_SUPERVISOR, Role.COMMUNITY_WORKER, Role.READ_ONLY]
)
def test_the_page_renders_for_every_role(
    role: str, users: dict[str, Any], territory: Territory
) -> None:
    response = _page(users[role])
    config = _config(response)
    writer = role != Role.READ_ONLY
    assert ('id="new-pack"' in response.content.decode()) is writer
    assert config["urls"]["api"] == "/api/"
    assert config["packs"] == []


def test_the_form_offers_the_sweep_with_its_teams_and_days(
    sweep: Sweep,  # noqa: F811
    users: dict[str, Any],
) -> None:
    config = _config(_page(users[Role.COMMUNITY_WORKER]))
    [offered] = config["sweeps"]
    assert offered["id"] == sweep.pk and offered["planned"] and not offered["closed"]
    plan = sweep.plans.get()
    for team in offered["teams"]:
        days = sorted(set(plan.stops.filter(team_id=team["id"]).values_list("day", flat=True)))
        assert team["days"] == days and days
    assert [t["name"] for t in offered["teams"]] == ["一队", "二队"]


def test_the_query_prefills_a_team_day_a_sweep_a_zone_and_a_building(
    sweep: Sweep,  # noqa: F811
    users: dict[str, Any],
    territory: Territory,
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    first = sweep.teams.order_by("pk").first()
    assert first is not None
    team_day = _config(_page(worker, f"?sweep={sweep.pk}&team={first.pk}&day=1"))["prefill"]
    assert team_day | {"paper": "auto"} == {
        "kind": "team_day",
        "sweep": sweep.pk,
        "team": first.pk,
        "day": 1,
        "zone": "",
        "building": None,
        "paper": "auto",
    }
    whole = _config(_page(worker, f"?sweep={sweep.pk}&paper=a3"))["prefill"]
    assert (whole["kind"], whole["sweep"], whole["paper"]) == ("sweep", sweep.pk, "a3")

    zone = ZoneFactory(community=territory.home, code="001", name="人民路第一网格")
    ZoneFactory(community=territory.away, code="001", name="长虹第一网格")
    page = _config(_page(worker, f"?zone={zone.code}"))
    assert page["prefill"]["kind"] == "zone" and page["prefill"]["zone"] == zone.code
    # Only the worker's community's zones are offered.
    assert [z["code"] for z in page["zones"]] == [zone.code]

    building = territory.home_building
    services.save_door_plate(
        actor=None, data={"building": building, "road": "人民路", "number": "88"}
    )
    response = _page(worker, f"?building={building.pk}")
    page = _config(response)
    assert page["prefill"]["kind"] == "building"
    assert page["building"]["id"] == building.pk
    assert "人民路88号" in page["building"]["address"]
    assert page["building"]["address"] in response.content.decode()
    # A building outside the territory is not named.
    away = _config(_page(worker, f"?building={territory.away_building.pk}"))
    assert away["building"] is None


def test_a_reader_gets_no_form_nor_the_territory_data(
    sweep: Sweep,  # noqa: F811
    users: dict[str, Any],
    territory: Territory,
) -> None:
    response = _page(users[Role.READ_ONLY], f"?building={territory.home_building.pk}")
    config = _config(response)
    assert (config["sweeps"], config["zones"], config["building"]) == ([], [], None)
    assert 'id="new-pack"' not in response.content.decode()
    assert 'id="read-only"' in response.content.decode()


def test_the_list_holds_the_users_own_packs_only(
    users: dict[str, Any], territory: Territory
) -> None:
    worker, supervisor = users[Role.COMMUNITY_WORKER], users[Role.STREET_SUPERVISOR]
    mine = SheetJob.objects.create(
        created_by=worker, kind="building", building=territory.home_building
    )
    SheetJob.objects.create(
        created_by=supervisor, kind="building", building=territory.home_building
    )
    packs = _config(_page(worker))["packs"]
    assert [p["id"] for p in packs] == [str(mine.pk)]
    assert packs[0]["status"] == "queued" and packs[0]["pdf"] is None
    assert len(_config(_page(supervisor))["packs"]) == 1
    assert _config(_page(users[Role.DISTRICT_ADMIN]))["packs"] == []


def test_anonymous_users_are_sent_to_sign_in(territory: Territory) -> None:
    response = Client().get(reverse("sheets"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_sweep_page_and_the_map_link_to_the_page(
    sweep: Sweep,  # noqa: F811
    users: dict[str, Any],
) -> None:
    from web.views import map_config

    page = _client(users[Role.COMMUNITY_WORKER]).get(reverse("sweep-page", args=[sweep.pk]))
    assert _config(page)["urls"]["sheets"] == reverse("sheets")
    assert f'href="{reverse("sheets")}?sweep={sweep.pk}"' in page.content.decode()
    assert map_config()["urls"]["sheets"] == reverse("sheets")
