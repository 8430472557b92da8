"""The pages work with no internet: every request a page makes goes to the site itself.

Headless Chromium (the Debian package, driven by Playwright) loads the pages from pytest-django's
``live_server``. The browser reaches the server under a made-up host name, mapped to the loopback
address inside Chromium, so nothing is excused for being on ``localhost`` (Swagger UI, for one,
behaves differently there). Every request of the browser context is recorded; any request for
another host is aborted at once (the test must not hang on a closed network) and fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..factories import UserFactory
from .browser import (
    PHONE,
    OfflineGuard,
    horizontal_overflow,
    log_in,
    new_context,
    wait_for_map,
    wait_for_swagger,
)

pytestmark = [
    pytest.mark.browser,
]

ADMIN = ("root", "pw")

# What the admin map widget holds once OpenLayers has run: its layers, the features of the base
# map's first layer (our community boundaries from /api/communities/) and the drawn geometry.
MAP_STATE_JS = """(module) => {
  const widget = window[module];
  if (!widget || !widget.map) return null;
  const layers = widget.map.getLayers().getArray();
  return {
    layers: layers.length,
    baseFeatures: layers[0].getLayers().item(0).getSource().getFeatures().length,
    drawn: widget.featureOverlay.getSource().getFeatures().length,
  };
}"""


@pytest.fixture
def superuser(territory: Any, users: Any) -> Any:
    return UserFactory(username=ADMIN[0], is_staff=True, is_superuser=True)


@pytest.fixture
def page_and_guard(browser: Any, site: str) -> Iterator[tuple[Any, OfflineGuard]]:
    context, guard = new_context(browser, site)
    try:
        yield context.new_page(), guard
    finally:
        context.close()


def assert_offline(guard: OfflineGuard) -> None:
    """Only the site was asked for, every answer arrived, and no script failed."""
    assert guard.requests, "no request was recorded at all"
    assert guard.outside == [], f"requests for outside hosts: {guard.outside}"
    assert guard.failed == [], f"failed requests: {guard.failed}"
    assert guard.page_errors == [], f"uncaught script errors: {guard.page_errors}"
    assert guard.console_errors == [], f"console errors: {guard.console_errors}"


def requested_paths(guard: OfflineGuard) -> set[str]:
    return {url.split(guard.base_url, 1)[-1].split("?", 1)[0] for url in guard.requests}


def check_map_widget(page: Any, field: str, *, drawn: int) -> None:
    wait_for_map(page, f"id_{field}_map")
    page.wait_for_load_state("networkidle")
    state = page.evaluate(MAP_STATE_JS, f"geodjango_{field}")
    assert state is not None, "the map widget was not created (is `ol` loaded?)"
    # The drawn features sit in an overlay outside the map's layer collection.
    assert state["layers"] == 1, state
    assert state["baseFeatures"] >= 1, f"the community base layer stayed empty: {state}"
    assert state["drawn"] == drawn, state


def test_index(page_and_guard: tuple[Any, OfflineGuard], superuser: Any) -> None:
    page, guard = page_and_guard
    log_in(page, *ADMIN)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    assert page.locator(".figures li").count() == 4
    assert "/static/web/site.css" in requested_paths(guard)
    assert_offline(guard)


def test_admin_index(page_and_guard: tuple[Any, OfflineGuard], superuser: Any) -> None:
    page, guard = page_and_guard
    log_in(page, *ADMIN)
    page.goto("/admin/")
    page.wait_for_load_state("networkidle")
    assert page.locator("#content-main a[href='/admin/geo/building/']").count() >= 1
    assert_offline(guard)


def test_admin_building_change_map(
    page_and_guard: tuple[Any, OfflineGuard], superuser: Any, territory: Any
) -> None:
    page, guard = page_and_guard
    log_in(page, *ADMIN)
    page.goto(f"/admin/geo/building/{territory.home_building.pk}/change/")
    check_map_widget(page, "footprint", drawn=1)
    paths = requested_paths(guard)
    assert {"/static/vendor/ol/ol.js", "/static/vendor/ol-css/ol.css"} <= paths
    assert "/api/communities/" in paths
    assert_offline(guard)


def test_admin_community_add_map(page_and_guard: tuple[Any, OfflineGuard], superuser: Any) -> None:
    page, guard = page_and_guard
    log_in(page, *ADMIN)
    page.goto("/admin/geo/community/add/")
    check_map_widget(page, "geom", drawn=0)
    assert "/api/communities/" in requested_paths(guard)
    assert_offline(guard)


def test_api_docs(page_and_guard: tuple[Any, OfflineGuard], superuser: Any) -> None:
    page, guard = page_and_guard
    log_in(page, *ADMIN)
    page.goto("/api/docs/")
    wait_for_swagger(page)
    page.wait_for_load_state("networkidle")
    assert page.locator(".swagger-ui .opblock").count() >= 10
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("plategrid API")
    paths = requested_paths(guard)
    assert "/api/schema/" in paths
    assert any(path.endswith("/swagger-ui-bundle.js") for path in paths), paths
    assert_offline(guard)


def test_api_docs_signed_out(page_and_guard: tuple[Any, OfflineGuard], territory: Any) -> None:
    page, guard = page_and_guard
    page.goto("/api/docs/")
    wait_for_swagger(page)
    page.wait_for_load_state("networkidle")
    assert_offline(guard)


def test_outside_requests_are_caught(page_and_guard: tuple[Any, OfflineGuard]) -> None:
    """The guard itself: a page asking for another host is recorded, and blocked without waiting."""
    page, guard = page_and_guard
    page.set_content(
        '<img src="https://tile.openstreetmap.org/0/0/0.png">'
        '<script src="https://cdn.jsdelivr.net/npm/ol@7.2.2/dist/ol.js"></script>'
    )
    assert sorted(guard.outside) == [
        "https://cdn.jsdelivr.net/npm/ol@7.2.2/dist/ol.js",
        "https://tile.openstreetmap.org/0/0/0.png",
    ]


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_index_fits_a_phone(
    browser: Any, site: str, superuser: Any, signed_in: bool, locale: str
) -> None:
    context, guard = new_context(browser, site, viewport=PHONE, locale=locale)
    try:
        page = context.new_page()
        if signed_in:
            log_in(page, *ADMIN)
        page.goto("/")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"index is {width}px wide on a {PHONE['width']}px phone"
        assert horizontal_overflow(page) <= 0
        assert_offline(guard)
    finally:
        context.close()


GEOJSON = (
    '{"type":"FeatureCollection","features":['
    '{"type":"Feature","id":"b1","properties":{"name":"1号楼"},"geometry":{"type":"Polygon",'
    '"coordinates":[[[112.12,32.02],[112.1203,32.02],[112.1203,32.0202],[112.12,32.0202],'
    "[112.12,32.02]]]}},"
    '{"type":"Feature","id":"b2","properties":{"name":"远处"},"geometry":{"type":"Polygon",'
    '"coordinates":[[[113.5,31],[113.5003,31],[113.5003,31.0002],[113.5,31.0002],[113.5,31]]]}}]}'
)


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["laptop", "phone"])
def test_import_upload_progress_and_report(
    browser: Any, site: str, superuser: Any, tmp_path: Any, settings: Any, viewport: Any
) -> None:
    """Upload through the page; the job runs (test settings: where it is queued); the report
    page shows the bar at 100%, the counts and the rejected row, in Chinese, on a phone too."""
    settings.MEDIA_ROOT = tmp_path
    upload = tmp_path / "楼栋.geojson"
    upload.write_text(GEOJSON, encoding="utf-8")
    context, guard = new_context(
        browser, site, viewport=viewport or {"width": 1280, "height": 900}, locale="zh-CN"
    )
    try:
        page = context.new_page()
        log_in(page, *ADMIN)
        page.goto("/imports/")
        page.set_input_files("#id_file", str(upload))
        page.select_option("#id_kind", "buildings")
        page.click("button[type=submit]")
        page.wait_for_url("**/imports/*/")
        page.wait_for_load_state("networkidle")
        assert page.locator(".progress .bar").get_attribute("style") == "width: 100%"
        figures = page.locator(".figures li strong").all_inner_texts()
        assert figures == ["2", "1", "0", "0", "1"]  # read, created, updated, unchanged, rejected
        assert "不在任何社区内" in page.locator("table.issues").inner_text()
        assert horizontal_overflow(page) <= 0
        page.goto("/imports/")
        assert "楼栋.geojson" in page.locator("table").inner_text()
        assert_offline(guard)
    finally:
        context.close()


def test_progress_bar_follows_a_running_job(
    page_and_guard: tuple[Any, OfflineGuard], superuser: Any, tmp_path: Any, settings: Any
) -> None:
    """A job still running: the page polls its status and reloads with the report once done."""
    from django.core.files.base import ContentFile

    from data.models import ImportJob, JobStatus

    settings.MEDIA_ROOT = tmp_path
    job = ImportJob(
        kind="buildings",
        file_name="x.geojson",
        file_size=1,
        file_sha256="0" * 64,
        created_by=superuser,
        status=JobStatus.RUNNING,
        progress_done=30,
        progress_total=120,
    )
    job.file.save("x.geojson", ContentFile(b"{}"), save=False)
    job.save()
    page, guard = page_and_guard
    log_in(page, *ADMIN)
    page.goto(f"/imports/{job.pk}/")
    assert page.locator(".progress .bar").get_attribute("style") == "width: 25%"
    assert "30 / 120" in page.locator("#progress").inner_text()
    ImportJob.objects.filter(pk=job.pk).update(progress_done=90)
    page.wait_for_function("document.querySelector('.progress .bar').style.width === '75%'")
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, rows_read=120, rows_created=120, progress_done=120
    )
    page.wait_for_selector(".figures")  # reloaded with the counts
    assert page.locator(".figures li strong").first.inner_text() == "120"
    assert f"/imports/{job.pk}/status/" in requested_paths(guard)
    assert_offline(guard)
