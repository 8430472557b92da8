"""The sweep pages (web/sweep_pages.py): the list with each sweep's progress and the new-sweep
form, and a sweep's map page — scoped like the API (a sweep outside the territory is 404)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from gis.models import Role
from grid import visits
from grid.models import Sweep, SweepRoom, VisitOutcome

from ..conftest import Territory
from ..grid.test_sweeps import make_street, new_sweep, team

pytestmark = pytest.mark.django_db


@pytest.fixture
def sweeps(territory: Territory, users: dict[str, Any]) -> dict[str, Sweep]:
    """A sweep of ``home`` (the worker's) and one of ``away`` (the supervisor's, not the
    worker's), each with a team of its own."""
    make_street(territory)
    supervisor = users[Role.STREET_SUPERVISOR]
    return {
        "home": new_sweep(users[Role.COMMUNITY_WORKER], name="人民路清查"),
        "away": new_sweep(
            supervisor, name="长虹清查", area_codes=[territory.away.code], teams=[team("二队")]
        ),
    }


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _config(response: Any) -> dict[str, Any]:
    found = re.search(r'id="page-config"[^>]*>(.*?)</script>', response.content.decode(), re.S)
    assert found, "the page has no page-config"
    return json.loads(found.group(1))


def test_the_list_shows_the_sweeps_in_scope_with_rooms_visited(
    sweeps: dict[str, Sweep], users: dict[str, Any]
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    target = SweepRoom.objects.filter(sweep=sweeps["home"]).order_by("pk").first()
    assert target is not None
    visits.record_visits(
        worker,
        [
            {
                "id": "00000000-0000-4000-8000-000000000001",
                "room": target.room_id,
                "outcome": VisitOutcome.REGISTERED,
                "visited_at": "2026-03-02T10:00:00+08:00",
                "sweep": sweeps["home"].pk,
            }
        ],
    )
    response = _client(worker).get(reverse("sweeps"))
    assert response.status_code == 200
    rows = {row["sweep"].name: row for row in response.context["rows"]}
    assert set(rows) == {"人民路清查"}  # the away sweep is outside the worker's community
    home = rows["人民路清查"]["sweep"]
    assert (home.visited, home.targets) == (1, 27)
    assert "1 / 27" in response.content.decode()
    # The form offers the worker's community, and the worker's staff as members.
    config = _config(response)
    assert [c["code"] for c in config["communities"]] == ["420606001001"]
    assert len(config["staff"]) == 3


def test_a_supervisor_sees_both_and_a_reader_gets_no_form(
    sweeps: dict[str, Sweep], users: dict[str, Any]
) -> None:
    response = _client(users[Role.STREET_SUPERVISOR]).get(reverse("sweeps"))
    assert {row["sweep"].name for row in response.context["rows"]} == {"人民路清查", "长虹清查"}
    assert response.context["can_create"]
    reader = _client(users[Role.READ_ONLY]).get(reverse("sweeps"))
    assert reader.status_code == 200
    assert not reader.context["can_create"]
    assert 'id="new-sweep"' not in reader.content.decode()


def test_the_sweep_page_is_scoped_and_read_only_for_readers(
    sweeps: dict[str, Sweep], users: dict[str, Any]
) -> None:
    worker = _client(users[Role.COMMUNITY_WORKER])
    page = worker.get(reverse("sweep-page", args=[sweeps["home"].pk]))
    assert page.status_code == 200
    config = _config(page)
    assert config["sweep"] == {"id": sweeps["home"].pk, "name": "人民路清查", "closed": False}
    assert config["can_edit"] is True
    assert config["urls"]["api"] == "/api/"
    assert worker.get(reverse("sweep-page", args=[sweeps["away"].pk])).status_code == 404
    reader = _client(users[Role.READ_ONLY]).get(reverse("sweep-page", args=[sweeps["home"].pk]))
    assert _config(reader)["can_edit"] is False


def test_a_closed_sweep_is_not_editable(sweeps: dict[str, Sweep], users: dict[str, Any]) -> None:
    from grid.sweeps import close_sweep

    close_sweep(users[Role.COMMUNITY_WORKER], sweeps["home"])
    page = _client(users[Role.COMMUNITY_WORKER]).get(
        reverse("sweep-page", args=[sweeps["home"].pk])
    )
    assert _config(page)["can_edit"] is False
    assert _config(page)["sweep"]["closed"] is True


def test_anonymous_users_are_sent_to_sign_in(sweeps: dict[str, Sweep]) -> None:
    for url in (reverse("sweeps"), reverse("sweep-page", args=[sweeps["home"].pk])):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
