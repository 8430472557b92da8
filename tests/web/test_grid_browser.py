"""The zone editor in headless Chromium, as the issue tells it: draw two zones, see the overlap
error, fix it by dragging the shared edge, save; split another community automatically; assign
a responsibility chain; open the network map — with no request for another host.

The territory is the shared fixture's: ``home`` (112.10–112.15 E, 32.00–32.05 N) with one
building, ``away`` (the same width, 32.05–32.10 N), here given twelve buildings to split.
"""

from __future__ import annotations

from typing import Any

import pytest

from gis.models import Role
from grid.models import Assignment, AssignmentRole, Zone

from ..conftest import Territory
from ..factories import BuildingFactory, box
from .browser import PHONE, OfflineGuard, horizontal_overflow
from .test_offline_browser import assert_offline

pytestmark = [pytest.mark.browser]


@pytest.fixture
def away_buildings(territory: Territory) -> list[Any]:
    """Twelve buildings in a 4 × 3 block in the middle of ``away``."""
    return [
        BuildingFactory(
            footprint=box(
                112.11 + 0.008 * i, 32.06 + 0.01 * j, 112.114 + 0.008 * i, 32.064 + 0.01 * j
            )
        )
        for i in range(4)
        for j in range(3)
    ]


@pytest.fixture
def open_grid(signed_in: Any) -> Any:
    """Open a community's zone editor as a role's user, once it is ready."""

    def open_as(role: str, code: str, **options: Any) -> tuple[Any, OfflineGuard]:
        page, guard = signed_in(role, f"/grids/{code}/", **options)
        wait_for_editor(page)
        return page, guard

    return open_as


def wait_for_editor(page: Any) -> None:
    """The community is drawn, its buildings and zones loaded and the first check shown."""
    page.wait_for_selector("#map .ol-viewport canvas", state="attached")
    page.wait_for_function("() => window.plategridGrid && plategridGrid.map.getView().getCenter()")
    page.wait_for_selector("#check h2")
    page.wait_for_load_state("networkidle")


def pixel(page: Any, lon: float, lat: float) -> tuple[float, float]:
    """The page position of a WGS84 point on the map."""
    x, y = page.evaluate(
        "([lon, lat]) => plategridGrid.map.getPixelFromCoordinate(ol.proj.fromLonLat([lon, lat]))",
        [lon, lat],
    )
    frame = page.locator("#map").bounding_box()
    return frame["x"] + x, frame["y"] + y


def draw_polygon(page: Any, corners: list[tuple[float, float]]) -> None:
    page.click("[data-tool=draw]")
    for lon, lat in [*corners, corners[0]]:  # clicking the first corner again closes the ring
        page.mouse.click(*pixel(page, lon, lat))
    page.wait_for_function(
        "() => document.querySelector('[data-tool=select]').ariaPressed === 'true'"
    )


def drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*pixel(page, *start))
    page.mouse.down()
    x, y = pixel(page, *end)
    page.mouse.move(x, y, steps=8)
    page.mouse.up()


def wait_for_check(page: Any) -> str:
    page.wait_for_function("() => !document.getElementById('check').classList.contains('busy')")
    page.wait_for_load_state("networkidle")
    return str(page.inner_text("#check"))


def test_draw_overlap_fix_and_save(
    open_grid: Any, territory: Territory, users: dict[str, Any]
) -> None:
    page, guard = open_grid(Role.COMMUNITY_WORKER, territory.home.code)
    assert page.get_attribute("html", "lang") == "zh-hans"
    # No zone yet: the whole community is uncovered and its building is in no zone.
    text = wait_for_check(page)
    assert "未被任何责任区覆盖" in text and "不在任何责任区" in text

    west = [(112.10, 32.00), (112.125, 32.00), (112.125, 32.05), (112.10, 32.05)]
    east = [(112.12, 32.00), (112.15, 32.00), (112.15, 32.05), (112.12, 32.05)]
    draw_polygon(page, west)
    draw_polygon(page, east)
    text = wait_for_check(page)
    assert "重叠" in page.inner_text("#check li.bad")  # the overlap, named by the server
    assert page.locator("#check.bad").count() == 1
    assert page.evaluate("plategridGrid.pending().length") == 2

    # Fix: drag the east zone's two western corners onto the west zone's eastern edge, where
    # they snap. Shared vertices then move together.
    drag(page, (112.12, 32.00), (112.125, 32.00))
    drag(page, (112.12, 32.05), (112.125, 32.05))
    text = wait_for_check(page)
    assert page.locator("#check li.bad").count() == 0, text
    assert page.locator("#check.ok").count() == 1, text

    # Leaving with unsaved zones asks first; staying keeps them.
    with page.expect_event("dialog") as leaving:
        page.evaluate("setTimeout(() => { location.href = '/grids/'; }, 0)")
    assert leaving.value.type == "beforeunload"
    leaving.value.dismiss()
    assert page.evaluate("plategridGrid.pending().length") == 2

    page.click("#btn-save")
    page.wait_for_selector("#toast:has-text('已保存')")
    wait_for_check(page)
    zones = list(Zone.objects.current().filter(community=territory.home).order_by("code"))
    assert [z.code[-3:] for z in zones] == ["001", "002"]
    # The clicks land within a pixel (under a metre here) of the corners; the edge is shared.
    assert zones[0].geom.extent[2] == zones[1].geom.extent[0] == pytest.approx(112.125, abs=2e-5)
    assert page.evaluate("plategridGrid.pending().length") == 0

    # Drawn west first, the zones are numbered west → east already: renumbering changes none.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#btn-renumber")
    page.wait_for_selector("#toast:has-text('已重新编号：0')")
    assert_offline(guard)


def test_partition_assign_chain_and_network_map(
    open_grid: Any, territory: Territory, away_buildings: list[Any]
) -> None:
    page, guard = open_grid(Role.STREET_SUPERVISOR, territory.away.code)
    page.click("#btn-partition")
    page.select_option("#partition select[name=mode]", "zones")
    page.fill("#partition input[name=amount]", "3")
    page.select_option("#partition select[name=workload]", "buildings")
    page.click("#partition button[type=submit]")
    page.wait_for_selector("#btn-apply")
    assert page.locator("#partition .progress[aria-valuenow='100']").count() == 1
    assert page.evaluate("plategridGrid.proposal.getFeatures().length") == 3
    figures = page.locator("#partition dd").all_inner_texts()
    assert figures[0] == "3" and figures[3] == "0"  # zones, …, buildings cut

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#btn-apply")
    page.wait_for_function("() => plategridGrid.zones.getFeatures().length === 3")
    zones = list(Zone.objects.current().filter(community=territory.away).order_by("code"))
    assert [z.code[-3:] for z in zones] == ["001", "002", "003"]
    assert wait_for_check(page) and page.locator("#check.ok").count() == 1

    # The chain: a new staff member as the first zone's responsible person.
    page.click("#zone-list li:first-child button")
    page.wait_for_selector("#selected form.assign")
    assert "无责任人" in page.inner_text("#selected")
    page.click("#selected details summary")
    page.fill("#selected input[name=new_name]", "王建国")
    page.fill("#selected input[name=new_phone]", "13912345678")
    page.click("#selected details button")
    page.wait_for_selector(
        "#selected select[name=staff] option:has-text('王建国')", state="attached"
    )
    page.select_option("#selected select[name=role]", AssignmentRole.RESPONSIBLE)
    page.click("#selected form.assign button[type=submit]")
    page.wait_for_selector("#selected .chain li:has-text('王建国')")
    chain = page.inner_text("#selected .chain")
    assert "139****5678" in chain and "13912345678" not in chain
    assignment = Assignment.objects.get()
    assert (assignment.zone, assignment.role) == (zones[0], AssignmentRole.RESPONSIBLE)

    # The network map shows the zone with its responsible person.
    with page.expect_navigation():
        page.click("#btn-network")
    page.wait_for_selector("svg")
    network = page.inner_text("body")
    assert "王建国" in network and zones[0].code in network
    assert_offline(guard)


def test_read_only_user_and_phone(open_grid: Any, territory: Territory) -> None:
    page, guard = open_grid(Role.READ_ONLY, territory.home.code, viewport=PHONE)
    assert page.locator(".read-only").count() == 1
    for tool in ("[data-tool=draw]", "[data-tool=cut]", "#btn-merge", "#btn-renumber", "#btn-save"):
        assert not page.locator(tool).is_visible()
    assert horizontal_overflow(page) == 0
    assert_offline(guard)
