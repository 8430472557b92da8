"""The coverage map in a browser: the choropleth of a street office, another window, drilling
down to a community and one of its zones, the gap heatmap and a gap layer, the exports (HTML map,
the gap list as XLSX) — and no request for an outside host."""

from __future__ import annotations

import datetime
import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.utils import timezone

from gis.models import Role, RoomUse
from grid import snapshots, visits

from ..conftest import Territory
from ..factories import BuildingFactory, RoomFactory
from ..grid.factories import draw_zone
from ..grid.test_coverage import slot, strip, visit
from .test_offline_browser import assert_offline, requested_paths

pytestmark = [pytest.mark.browser]


@pytest.fixture
def city(territory: Territory, users: dict[str, Any]) -> dict[str, Any]:
    """Two zones in the home community; rooms seen 2 and 20 days ago, one never."""
    west = draw_zone(territory.home, strip(0, 2), name="西网格")
    east = draw_zone(territory.home, strip(2, 4), name="东网格")
    rooms = []
    for k in (0, 1, 7, 8):
        building = BuildingFactory(footprint=slot(k))
        rooms += [
            RoomFactory(building=building, floor=1, number=f"{n}", use=RoomUse.RENTED_SHARED)
            for n in range(1, 4)
        ]
    away = RoomFactory(building=territory.away_building, floor=1, number="1")
    now = timezone.localtime()
    visits.record_visits(
        users[Role.DISTRICT_ADMIN],
        [visit(room, "registered", now - datetime.timedelta(days=2)) for room in rooms[:5]]
        + [visit(room, "changed", now - datetime.timedelta(days=20)) for room in rooms[5:9]]
        + [visit(away, "registered", now - datetime.timedelta(days=1))],
    )
    # Two Sundays for the replay: the rooms seen 2 days ago were not seen yet a week ago.
    sundays = [d for d in snapshots.due_days() if d.isoweekday() == 7][-2:]
    snapshots.take_snapshots(sundays)
    return {"zones": (west, east), "rooms": rooms, "sundays": sundays}


def test_choropleth_window_drill_down_heatmap_and_exports(
    signed_in: Any, territory: Territory, city: dict[str, Any]
) -> None:
    west, _east = city["zones"]
    page, guard = signed_in(Role.STREET_SUPERVISOR, f"/coverage/?code={territory.office.code}")
    children = page.locator("#children li")
    children.first.wait_for()
    assert children.count() == 2
    names = page.locator("#children li a").all_inner_texts()
    assert set(names) == {territory.home.name, territory.away.name}
    # 30 days: 10 of the 13 rooms seen; 7 days: 6.
    assert "10 / 13" in page.locator("#summary").inner_text()
    page.click("#windows button:first-child")
    page.wait_for_function("document.querySelector('#summary').innerText.includes('6 / 13')")
    assert "days=7" in page.url
    # The replay: the last Sunday (the page queued the other missing ones), then back to now.
    last = city["sundays"][-1].isoformat()
    page.eval_on_selector(
        "#slider", "el => { el.value = String(el.max - 1); el.dispatchEvent(new Event('input')); }"
    )
    page.wait_for_function("day => location.search.includes('at=' + day)", arg=last)
    assert last in page.locator("#slider-label").inner_text()
    # As of last Sunday no room had been seen in the 7 days before (visits 20, 2 and 1 days ago).
    page.wait_for_function("document.querySelector('#summary').innerText.includes('0 / 13')")
    page.eval_on_selector(
        "#slider", "el => { el.value = el.max; el.dispatchEvent(new Event('input')); }"
    )
    page.wait_for_function("document.querySelector('#summary').innerText.includes('6 / 13')")
    assert "at=" not in page.url
    # Drill down: the home community's zones (and its part in no zone).
    page.click(f"#children a[data-code='{territory.home.code}']")
    page.wait_for_function("n => document.querySelectorAll('#children li').length === n", arg=3)
    assert f"code={territory.home.code}" in page.url
    assert "西网格" in page.locator("#children").inner_text()
    assert territory.home.name in page.locator("#crumbs").inner_text()
    # … and to a zone.
    page.click(f"#children a[data-code='{west.code}']")
    page.wait_for_function("code => location.search.includes('code=' + code)", arg=west.code)
    page.wait_for_function("document.querySelectorAll('#children li').length === 1")
    # The gap heatmap's tiles and a gap layer come from this server.
    page.check("#heat")
    page.check("#gap-kinds input[value=unseen_buildings]")
    row = page.locator("#gap-lists .gap-row").first
    row.wait_for()
    page.wait_for_load_state("networkidle")
    assert any(p.startswith("/tiles/coverage/") for p in requested_paths(guard))
    assert "heat=1" in page.url and "gaps=unseen_buildings" in page.url
    # In the west zone one building has a room not seen in the 7 days: one row, in the list
    # and in its workbook (title, node and window, Chinese headers, then the rows).
    assert re.search(r":\s*1\b", row.inner_text())
    with page.expect_download() as download:
        row.locator("a").click()
    xlsx = Path(download.value.path()).read_bytes()
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    lines = [r for r in sheet.iter_rows(values_only=True) if any(v is not None for v in r)]
    assert west.code in str(lines[1][0]) and "近7天" in str(lines[1][1])
    assert len(lines) == 3 + 1
    with page.expect_download() as download:
        page.click("#export-html")
    html = Path(download.value.path()).read_text(encoding="utf-8")
    assert "西网格" in html
    # The page's markup fetches nothing from a host (Leaflet, inlined in its scripts, names
    # links it never draws here: tests/layers/test_coverage_export.py opens the file offline).
    markup = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)
    assert not re.search(
        r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//""", markup
    )
    assert_offline(guard)
