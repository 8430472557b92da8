"""The map page in headless Chromium: tiles drawn, search, the building plan, an edit with its
history and undo, a refused edit outside the user's scope, a phone screen, and not one request
for another host.

The territory is the shared fixture's (``home`` and ``away`` communities); the ``home`` building
gets a door plate, two entrances and rooms with plans so that the plan has something to draw.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.gis.geos import Point, Polygon

from gis import services
from gis.models import DoorPlate, Role, Room, RoomUse

from ..conftest import Territory
from .browser import PHONE, horizontal_overflow
from .test_offline_browser import assert_offline

pytestmark = [pytest.mark.browser]


def _plan(x: float, width: float = 6.0, depth: float = 9.0) -> Polygon:
    return Polygon(((x, 0), (x + width, 0), (x + width, depth), (x, depth), (x, 0)), srid=0)


@pytest.fixture
def block(territory: Territory, users: dict[str, Any]) -> dict[str, Any]:
    """The home building with a plate on 人民路12号, two entrances and four rooms a floor on 1–3F;
    one room in the away building (outside the worker's scope)."""
    admin = users[Role.DISTRICT_ADMIN]
    building = territory.home_building
    plate = services.save_door_plate(
        actor=admin,
        data={
            "building": building,
            "road": "人民路",
            "number": "12号",
            "building_number": "3栋",
            "location": Point(112.1115, 32.0115, srid=4326),
        },
    )
    entrances = [
        services.save_entrance(actor=admin, data={"building": building, "number": str(n)})
        for n in (1, 2)
    ]
    rooms = {}
    for floor in (1, 2, 3):
        for i, entrance in enumerate(entrances):
            for j in (1, 2):
                number = f"{floor}0{j}"
                rooms[(entrance.number, number)] = services.save_room(
                    actor=admin,
                    data={
                        "building": building,
                        "entrance": entrance,
                        "floor": floor,
                        "number": number,
                        "use": RoomUse.RENTED_WHOLE if j == 2 else RoomUse.OWNER_OCCUPIED,
                        "plan_geom": _plan(i * 12 + (j - 1) * 6),
                    },
                )
    away_room = services.save_room(
        actor=admin, data={"building": territory.away_building, "floor": 2, "number": "201"}
    )
    return {"plate": plate, "rooms": rooms, "away_room": away_room, "building": building}


def wait_for_tiles(page: Any) -> None:
    """Wait until the map has asked for vector tiles and drawn at least one of them."""
    page.wait_for_selector("#map .ol-viewport canvas", state="attached")
    page.wait_for_function(
        "() => performance.getEntriesByType('resource').some(e => e.name.includes('/tiles/'))"
    )
    page.wait_for_load_state("networkidle")


def wait_for_fit(page: Any, building: Any) -> None:
    """Wait until the map has come to rest on ``building``: the view's box (the export link's,
    written on every ``moveend``) holds the footprint and is a few hundred metres wide at most."""
    x0, y0, x1, y1 = building.footprint.extent
    page.wait_for_function(
        """([x0, y0, x1, y1]) => {
          const href = document.getElementById("btn-export").getAttribute("href");
          const box = new URL(href, location.href).searchParams.get("bbox");
          if (!box) return false;
          const [a, b, c, d] = box.split(",").map(Number);
          return a <= x0 && b <= y0 && c >= x1 && d >= y1 && c - a < 0.01;
        }""",
        arg=[x0, y0, x1, y1],
    )


def test_search_plan_edit_history_undo(signed_in: Any, block: dict[str, Any]) -> None:
    page, guard = signed_in(Role.COMMUNITY_WORKER)
    assert page.url.split("#")[0].endswith("/map/")
    wait_for_tiles(page)
    # The page is Chinese by default.
    assert page.get_attribute("html", "lang") == "zh-hans"

    # Partial Chinese input finds the plate; choosing it opens the building.
    page.fill("#search", "人民路12")
    page.wait_for_selector("#search-results li[data-kind=door_plate]")
    page.click("#search-results li[data-kind=door_plate]")
    page.wait_for_selector("#panel svg.plan")
    assert block["plate"].address in page.inner_text("#panel .panel-head h2")

    # The plan: three floors of four rooms, entrances labelled, rooms clickable.
    assert page.locator("#panel svg.plan g.room").count() == 12
    assert page.locator("#panel svg.plan .entrance-label").count() == 2
    room = block["rooms"][("2", "302")]
    page.click(f"#panel svg.plan g.room[data-room='{room.pk}']")
    page.wait_for_selector("#room-form")

    # Change the room's use as the community worker.
    page.select_option("#room-form select[name=use]", RoomUse.VACANT)
    page.click("#room-form button[type=submit]")
    page.wait_for_function(
        f"() => document.querySelector(\"#panel g.room[data-room='{room.pk}'] title\")"
        f".textContent.includes({str(RoomUse.VACANT.label)!r})"
    )
    room.refresh_from_db()
    assert room.use == RoomUse.VACANT

    # Its history names the worker; undo puts the old use back.
    page.click("#room-detail button:has-text('历史')")
    page.wait_for_selector("#room-detail .changes li")
    latest = page.locator("#room-detail .changes li").first
    assert "worker" in latest.inner_text()
    latest.locator("button").click()
    page.wait_for_selector("#toast:has-text('已撤销')")
    room.refresh_from_db()
    assert room.use == RoomUse.RENTED_WHOLE

    assert_offline(guard)


def test_edit_outside_scope_is_refused(signed_in: Any, block: dict[str, Any]) -> None:
    page, guard = signed_in(Role.COMMUNITY_WORKER)
    wait_for_tiles(page)
    away = block["away_room"]
    # The away building cannot be opened: the panel says so, nothing else is shown.
    page.evaluate(f"plategridPage.openBuilding({away.building_id})")
    page.wait_for_selector("#panel .error")
    assert "辖区" in page.inner_text("#panel .error")
    # A change sent anyway (as a crafted request would be) is refused and changes nothing.
    page.evaluate(
        f"plategridPage.api('PATCH', 'rooms/{away.pk}/', {{use: 'vacant'}})"
        ".catch(err => plategridPage.toast(err.message, true))"
    )
    page.wait_for_selector("#toast.bad")
    away.refresh_from_db()
    assert away.use == RoomUse.OWNER_OCCUPIED
    # The two refused requests are the only failures: 404s from the API.
    expected = (f"/api/buildings/{away.building_id}/: HTTP 404", f"/api/rooms/{away.pk}/: HTTP 404")
    assert sorted(f.split(guard.base_url)[-1] for f in guard.failed) == sorted(expected)
    guard.failed.clear()
    guard.console_errors[:] = [e for e in guard.console_errors if "404" not in e]
    assert_offline(guard)


def test_read_only_user_sees_no_edit_controls(signed_in: Any, block: dict[str, Any]) -> None:
    page, guard = signed_in(Role.READ_ONLY)
    wait_for_tiles(page)
    page.evaluate(f"plategridPage.openBuilding({block['building'].pk})")
    page.wait_for_selector("#panel .read-only")
    room = block["rooms"][("1", "101")]
    page.click(f"#panel svg.plan g.room[data-room='{room.pk}']")
    page.wait_for_selector("#room-detail section.room")
    assert page.locator("#room-form").count() == 0
    assert page.locator("#panel button:has-text('移动门牌')").count() == 0
    assert_offline(guard)


def test_split_room_and_add_room(signed_in: Any, block: dict[str, Any]) -> None:
    page, guard = signed_in(Role.COMMUNITY_WORKER)
    wait_for_tiles(page)
    room = block["rooms"][("1", "201")]
    page.evaluate(f"plategridPage.openBuilding({block['building'].pk}, {room.pk})")
    page.wait_for_selector("#room-form")
    page.click("#room-form button.secondary")
    page.fill("#split-form input[name=second]", "201A")
    page.click("#split-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelectorAll('#panel svg.plan g.room').length === 13"
    )
    assert Room.objects.filter(building=room.building, number="201A").exists()

    page.click("#panel button:has-text('添加房间')")
    page.select_option("#add-room-form select[name=floor]", "3")
    page.fill("#add-room-form input[name=number]", "305")
    page.click("#add-room-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelectorAll('#panel svg.plan g.room').length === 14"
    )
    assert Room.objects.filter(building=room.building, floor=3, number="305").exists()
    assert_offline(guard)


def test_move_plate_on_the_map(signed_in: Any, block: dict[str, Any]) -> None:
    page, guard = signed_in(Role.COMMUNITY_WORKER)
    wait_for_tiles(page)
    page.evaluate(f"plategridPage.openBuilding({block['building'].pk}, null, true)")
    page.wait_for_selector("#panel .plates button:has-text('移动门牌')")
    wait_for_fit(page, block["building"])  # the click below lands on the building
    page.click("#panel .plates button:has-text('移动门牌')")
    page.wait_for_selector("#hint:not([hidden])")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#toast:has-text('已保存')")
    plate = DoorPlate.objects.get(pk=block["plate"].pk)
    # The map was fitted on the building: its centre is within a few metres of the footprint.
    assert plate.location.distance(block["building"].footprint.centroid) < 0.0002
    assert plate.location != block["plate"].location
    assert_offline(guard)


def test_map_fits_a_phone(signed_in: Any, block: dict[str, Any]) -> None:
    page, guard = signed_in(Role.COMMUNITY_WORKER, viewport=PHONE)
    wait_for_tiles(page)
    assert horizontal_overflow(page) == 0
    page.evaluate(f"plategridPage.openBuilding({block['building'].pk})")
    page.wait_for_selector("#panel svg.plan")
    panel = page.locator("#panel").bounding_box()
    assert panel["width"] <= PHONE["width"] and panel["y"] > 0
    assert horizontal_overflow(page) == 0
    assert_offline(guard)


def test_english_is_available(signed_in: Any, block: dict[str, Any]) -> None:
    page, guard = signed_in(Role.COMMUNITY_WORKER)
    wait_for_tiles(page)
    with page.expect_navigation():
        page.select_option("#topbar select[name=language]", "en")
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_attribute("#search", "placeholder").startswith("Door plate")
    assert_offline(guard)


def test_export_view_as_html_map(signed_in: Any, block: dict[str, Any], settings: Any) -> None:
    page, guard = signed_in(Role.COMMUNITY_WORKER)
    wait_for_tiles(page)
    page.evaluate(f"plategridPage.openBuilding({block['building'].pk}, null, true)")
    page.wait_for_selector("#panel svg.plan")
    wait_for_fit(page, block["building"])
    with page.expect_download() as download:
        page.click("#btn-export")
    html = open(download.value.path(), encoding="utf-8").read()
    # folium writes the features as JSON with non-ASCII escaped.
    assert json.dumps(block["plate"].address)[1:-1] in html
    # Too many buildings in the box: the refusal is shown, nothing is saved.
    settings.PLATEGRID_HTML_MAP_MAX_BUILDINGS = 0
    page.click("#btn-export")
    page.wait_for_selector("#toast.bad")
    assert "HTML" in page.inner_text("#toast")
    guard.failed[:] = [f for f in guard.failed if "/map/export.html" not in f]
    guard.console_errors[:] = [e for e in guard.console_errors if "400" not in e]
    assert_offline(guard)
