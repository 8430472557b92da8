"""``GET /map/export.html?bbox=``: a standalone folium map of the view, scoped, offline, logged."""

from __future__ import annotations

import logging
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from gis import services
from gis.models import Building, BuildingUse, Role
from layers.styles import BUILDING_USE_COLOURS

from ..conftest import Territory
from ..factories import BuildingFactory, CompoundFactory, UserFactory, box, mbox

STATIC = "http://testserver/static/vendor/leaflet/"
# Around the home community's 春园小区 and across the border into the away community.
BBOX = "112.118,32.018,112.135,32.065"


class Links(HTMLParser):
    """Every URL the page would load: script sources and link targets."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            if values.get(name) is not None:
                self.urls.append((tag, values[name] or ""))


def _text(html: str) -> str:
    """The page with JSON's \\uXXXX escapes written out, to look for Chinese addresses."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def _plate(building: Building, **data: Any) -> str:
    return services.save_door_plate(actor=None, data={"building": building, **data}).address


@pytest.fixture
def places(territory: Territory) -> dict[str, str]:
    garden = CompoundFactory(
        community=territory.home, name="春园小区", geom=mbox(112.12, 32.02, 112.13, 32.03)
    )
    inside = BuildingFactory(footprint=box(112.121, 32.021, 112.122, 32.022), compound=garden)
    shop = BuildingFactory(footprint=box(112.123, 32.021, 112.124, 32.022), use="commercial")
    far = BuildingFactory(footprint=box(112.141, 32.041, 112.142, 32.042))  # home, out of the box
    away = BuildingFactory(footprint=box(112.121, 32.061, 112.122, 32.062))  # in the box, away
    return {
        "inside": _plate(inside, road="人民路", number="12", building_number="3"),
        "shop": _plate(shop, road="人民路", number="14"),
        "far": _plate(far, road="人民路", number="90"),
        "away": _plate(away, road="长虹路", number="8"),
    }


def _client(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _exported_text(user: Any, language: str = "en") -> str:
    """The exported page of ``BBOX`` for ``user``, as :func:`_text`."""
    response = _client(user, language).get("/map/export.html", {"bbox": BBOX})
    assert response.status_code == 200, response.content[:300]
    return _text(response.content.decode())


def test_the_file_links_only_our_own_leaflet(places, users):
    response = _client(users[Role.COMMUNITY_WORKER]).get("/map/export.html", {"bbox": BBOX})
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="plategrid-map-\d{8}-\d{4}\.html"', response["Content-Disposition"]
    )
    html = response.content.decode()
    parser = Links()
    parser.feed(html)
    assert sorted(parser.urls) == [
        ("link", f"{STATIC}leaflet.css"),
        ("script", f"{STATIC}leaflet.js"),
    ]
    # Nothing else names another host either (folium's CDNs, tiles).
    assert set(re.findall(r"https?://[^\s\"'<>)]+", html)) == {
        f"{STATIC}leaflet.css",
        f"{STATIC}leaflet.js",
    }


def test_the_linked_assets_are_served(places, users):
    client = _client(users[Role.COMMUNITY_WORKER])
    for name in ("leaflet.js", "leaflet.css", "images/layers.png"):
        response = client.get(f"/static/vendor/leaflet/{name}")
        assert response.status_code == 200, name
        response.close()


def test_the_buildings_and_plates_in_the_box_and_in_scope(places, users):
    html = _exported_text(users[Role.COMMUNITY_WORKER])
    assert places["inside"] in html and places["shop"] in html
    assert places["far"] not in html  # outside the box
    assert places["away"] not in html and "长虹社区" not in html  # outside the worker's scope
    assert "人民路社区" in html and "春园小区" in html  # the community and the compound
    # Buildings coloured by use, with the legend.
    uses = BUILDING_USE_COLOURS
    assert uses[BuildingUse.COMMERCIAL] in html and uses[BuildingUse.RESIDENTIAL] in html
    assert "Building use" in html and "commercial" in html


def test_a_wider_scope_sees_more(places, users):
    html = _exported_text(users[Role.STREET_SUPERVISOR])
    assert places["away"] in html and places["inside"] in html


def test_chinese_by_default(places, users):
    html = _exported_text(users[Role.COMMUNITY_WORKER], language="zh-hans")
    assert "商业" in html  # the legend's building use


def test_too_many_buildings_is_refused_in_both_languages(places, users, settings, caplog):
    settings.PLATEGRID_HTML_MAP_MAX_BUILDINGS = 1
    with caplog.at_level(logging.INFO, logger="plategrid.exports"):
        response = _client(users[Role.COMMUNITY_WORKER]).get("/map/export.html", {"bbox": BBOX})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "too_many_buildings" and body["field"] == "bbox"
    assert "more than 1 buildings" in body["detail_en"] and body["detail"] == body["detail_en"]
    assert "1" in body["detail_zh"]  # the Chinese comes with locale/ (the message's catalogue)
    assert "refused" in caplog.text and "too_many_buildings" in caplog.text


@pytest.mark.parametrize("bbox", ["", "112,32,112", "113,32,112,33", "a,b,c,d"])
def test_a_bad_box_is_refused(places, users, bbox):
    response = _client(users[Role.COMMUNITY_WORKER]).get("/map/export.html", {"bbox": bbox})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_bbox"


def test_every_export_is_logged_without_personal_data(places, users, caplog):
    worker = users[Role.COMMUNITY_WORKER]
    with caplog.at_level(logging.INFO, logger="plategrid.exports"):
        _client(worker).get("/map/export.html", {"bbox": BBOX})
    records = [r for r in caplog.records if r.name == "plategrid.exports"]
    assert len(records) == 1
    message = records[0].getMessage()
    assert f"user={worker.pk} " in message
    assert "bbox=112.118000,32.018000,112.135000,32.065000" in message
    assert "buildings=2 " in message and "door_plates=2 " in message
    assert worker.username not in message and "人民路" not in message


def test_signed_out_is_sent_to_sign_in(places):
    response = Client().get("/map/export.html", {"bbox": BBOX})
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_user_without_grants_gets_an_empty_map(places):
    html = _exported_text(UserFactory(username="nobody"))
    assert not any(address in html for address in places.values())
