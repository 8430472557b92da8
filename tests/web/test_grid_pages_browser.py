"""The grid pages in headless Chromium: nothing from another host, no sideways scrolling on a
375-px phone, and the network map alone on the printed page."""

from __future__ import annotations

from typing import Any

import pytest

from gis.models import Role

from ..conftest import Territory
from ..layers.test_network import build_network
from .browser import PHONE, horizontal_overflow
from .test_offline_browser import assert_offline


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["laptop", "phone"])
def test_grid_pages_offline_and_on_a_phone(
    signed_in: Any, territory: Territory, viewport: Any
) -> None:
    build_network(territory)
    page, guard = signed_in(Role.COMMUNITY_WORKER, "/", viewport=viewport)
    for url in ("/grids/", "/grids/staffing/", f"/grids/{territory.home.code}/network/"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert horizontal_overflow(page) <= 0, url
    svg = page.locator("figure.network-figure svg")
    assert svg.bounding_box()["width"] > 300  # type: ignore[index]
    page.emulate_media(media="print")
    assert page.locator("header").is_hidden()
    assert page.locator(".no-print").first.is_hidden()
    assert_offline(guard)
