"""The grid pages in headless Chromium: nothing from another host, no sideways scrolling on a
375-px phone, and the network map alone on the printed page."""

from __future__ import annotations

from typing import Any

import pytest

from gis.models import Role

from ..conftest import Territory
from ..layers.test_network import build_network
from .browser import PHONE, horizontal_overflow, log_in, new_context
from .test_offline_browser import assert_offline


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["laptop", "phone"])
def test_grid_pages_offline_and_on_a_phone(
    browser: Any, site: str, territory: Territory, users: Any, viewport: Any
) -> None:
    build_network(territory)
    worker = users[Role.COMMUNITY_WORKER]  # password "pw" (UserFactory)
    context, guard = new_context(browser, site, viewport=viewport, locale="zh-CN")
    try:
        page = context.new_page()
        log_in(page, worker.username, "pw", next_url="/")
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
    finally:
        context.close()
