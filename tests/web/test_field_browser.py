"""The field page in headless Chromium on a 375 × 800 phone, as the issue tells it: pick the sweep,
see the route, record two visits online (they reach the database), go offline, record two more
(the queue shows 2 waiting), reload the page offline (the service worker serves it; the route
comes from the phone's copy), come back online: the queue syncs, and the database holds exactly
the four visits under the page's own UUIDs — although one of them is also posted twice more.
No request leaves the site.

Service workers need a secure context: the site is served over plain HTTP under a made-up host
name, so this module launches its own Chromium that treats that origin as secure (an intranet
install needs HTTPS, or the same browser policy, for the offline reload; the queue and the
cached route work without it). The shared ``new_context`` blocks service workers; this one
allows them.

``PLATEGRID_SCREENSHOTS=docs/screenshots`` also writes field-route.png, field-building.png and
field-offline.png there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from gis.models import Role, Room
from grid.models import Visit

from .browser import CHROMIUM, CHROMIUM_ARGS, OfflineGuard, horizontal_overflow, log_in
from .conftest import SITE_HOST
from .test_field_page import FieldSweep, field_sweep  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser]

PHONE: ViewportSize = {"width": 375, "height": 800}
SHOTS = os.environ.get("PLATEGRID_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser(live_server: Any) -> Iterator[Browser]:
    """Chromium that resolves ``SITE_HOST`` to the live server and counts its origin as secure."""
    assert os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM}: run scripts/system-packages.sh"
    origin = f"http://{SITE_HOST}:{live_server.thread.port}"
    args = [
        *CHROMIUM_ARGS,
        f"--host-resolver-rules=MAP {SITE_HOST} 127.0.0.1",
        f"--unsafely-treat-insecure-origin-as-secure={origin}",
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
            try:
                yield browser
            finally:
                browser.close()


@pytest.fixture
def phone(
    browser: Browser,
    site: str,
    users: dict[str, Any],
    field_sweep: FieldSweep,  # noqa: F811 (the page asks for it as soon as it opens)
) -> Iterator[tuple[Page, Any, OfflineGuard]]:
    """The worker signed in on a phone-sized page of a context that allows service workers."""
    context = browser.new_context(
        base_url=site,
        viewport=PHONE,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        service_workers="allow",
        has_touch=True,
        is_mobile=True,
    )
    context.set_default_timeout(15_000)
    guard = OfflineGuard(site)
    guard.attach(context)
    page = context.new_page()
    log_in(page, users[Role.COMMUNITY_WORKER].username, "pw", next_url="/field/")
    try:
        yield page, context, guard
    finally:
        context.close()


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(1000)  # the outcome buttons pause 0.9 s after a tap
        page.screenshot(path=str(Path(SHOTS) / f"field-{name}.png"))


def waiting(page: Page) -> int:
    return int(page.get_attribute("#sync-status", "data-waiting") or "-1")


def record(page: Page, room_id: int, outcome: str) -> None:
    page.check(f"#rooms input[value='{room_id}']")
    page.click(f"#outcomes [data-outcome={outcome}]")
    page.wait_for_selector(f"#rooms li.done[data-room='{room_id}']")


def test_field_visits_online_offline_and_back(
    phone: tuple[Page, Any, OfflineGuard],
    field_sweep: FieldSweep,  # noqa: F811
) -> None:
    page, context, guard = phone
    fs = field_sweep
    b1, b2, b3 = fs.buildings
    r = fs.rooms

    # Pick the sweep: the route of its first day, the first building next.
    page.click(f"#sweep-list button.pick[data-sweep='{fs.sweep.pk}']")
    page.wait_for_selector(f"#next-stop button.next[data-building='{b1.pk}']")
    assert page.locator("#stops li").count() == 2
    assert page.get_attribute("#progress", "data-total") == "4"
    assert horizontal_overflow(page) <= 0
    shot(page, "route")

    # Two visits online: the room is done at once, and the visits reach the database.
    page.click("#next-stop button.next")
    page.wait_for_selector("#building:not([hidden]) #rooms li")
    record(page, r[0].pk, "registered")
    page.check(f"#rooms input[value='{r[1].pk}']")
    shot(page, "building")
    page.click("#outcomes [data-outcome=vacant]")
    page.wait_for_selector(f"#rooms li.done[data-room='{r[1].pk}']")
    page.wait_for_selector("#sync-status.ok")
    assert Visit.objects.count() == 2
    online_ids = {str(v) for v in Visit.objects.values_list("id", flat=True)}

    # The service worker controls the page by now (it claims its clients when it activates).
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")

    # Back on the route, the second building is next; offline, two more visits wait.
    page.click("#btn-back")
    page.wait_for_selector(f"#next-stop button.next[data-building='{b2.pk}']")
    assert page.get_attribute("#progress", "data-done") == "2"
    context.set_offline(True)
    page.click("#next-stop button.next")
    record(page, r[2].pk, "not_at_home")
    record(page, r[3].pk, "registered")
    assert waiting(page) == 2
    assert "2" in page.inner_text("#sync-status")
    page.click("#btn-back")
    page.wait_for_selector("#next-stop .all-done")
    page.click("#queue-problems .waiting-list summary")
    assert page.locator("#queue-problems .waiting-list li").count() == 2
    shot(page, "offline")
    queued = page.evaluate("plategridField.queue().map(v => v.id)")
    assert len(queued) == 2

    # A reload with no network: the service worker serves the page, the phone's copy the route.
    response = page.reload()
    assert response is not None and response.from_service_worker
    page.wait_for_selector("#next-stop .all-done")
    assert page.locator("#stops li.done").count() == 2
    assert waiting(page) == 2
    assert page.evaluate("plategridField.queue().map(v => v.id)") == queued
    assert Visit.objects.count() == 2
    # The next day was fetched in the background while online: it opens offline too.
    page.click("#next-stop .all-done button")
    page.wait_for_selector(f"#next-stop button.next[data-building='{b3.pk}']")
    assert page.evaluate("plategridField.route().day") == 2
    page.click("#day-prev")
    page.wait_for_selector("#next-stop .all-done")

    # Online again: the queue syncs. One queued visit is posted twice more by hand (a retry
    # whose answer was lost, twice): still one row.
    item = page.evaluate("plategridField.queue()[0]")
    context.set_offline(False)
    page.wait_for_selector("#sync-status.ok")
    for _ in range(2):
        result = page.evaluate(RESEND_JS, item)
        assert result["status"] in (200, 201), result
        assert result["body"]["results"][0]["status"] == "duplicate", result
    assert waiting(page) == 0
    ids = {str(v) for v in Visit.objects.values_list("id", flat=True)}
    assert Visit.objects.count() == 4
    assert ids == online_ids | set(queued)
    outcomes = dict(Visit.objects.values_list("room_id", "outcome"))
    assert outcomes == {
        r[0].pk: "registered",
        r[1].pk: "vacant",
        r[2].pk: "not_at_home",
        r[3].pk: "registered",
    }
    assert guard.outside == [], f"requests for outside hosts: {guard.outside}"
    assert guard.page_errors == [], guard.page_errors


def test_conflicts_and_refused_visits_are_shown(
    phone: tuple[Page, Any, OfflineGuard],
    field_sweep: FieldSweep,  # noqa: F811
    users: dict[str, Any],
) -> None:
    """Offline, two visits wait. Meanwhile a colleague records the first room in the same minute
    with another outcome, and the second room leaves the register. Back online: the conflict is
    shown until read, the refused visit stays with the server's message until discarded."""
    page, context, guard = phone
    fs = field_sweep
    page.click(f"#sweep-list button.pick[data-sweep='{fs.sweep.pk}']")
    page.click("#next-stop button.next")
    context.set_offline(True)
    record(page, fs.rooms[0].pk, "registered")
    record(page, fs.rooms[1].pk, "registered")
    first = page.evaluate("plategridField.queue()[0]")
    colleague = Client()
    colleague.force_login(users[Role.COMMUNITY_WORKER])
    answer = colleague.post(
        "/api/visits/",
        {
            "id": str(uuid.uuid4()),
            "room": fs.rooms[0].pk,
            "outcome": "not_at_home",
            "visited_at": first["visited_at"],
        },
        content_type="application/json",
    )
    assert answer.json()["results"][0]["status"] == "created", answer.content
    gone = fs.rooms[1].pk
    Room.objects.filter(pk=gone).delete()

    context.set_offline(False)
    page.wait_for_selector("#queue-problems .conflict-item")
    page.wait_for_selector("#queue-problems .error-item")
    assert waiting(page) == 0
    assert set(Visit.objects.filter(conflict=True).values_list("outcome", flat=True)) == {
        "registered",
        "not_at_home",
    }
    error = page.inner_text("#queue-problems .error-item")
    assert str(gone) in error, error
    assert page.evaluate("plategridField.queue().length") == 1  # kept, not sent again
    assert page.get_attribute("#sync-status", "data-refused") == "1"
    shot(page, "problems")
    # Read and dismissed: gone from the page and from the phone's storage.
    page.click("#queue-problems .conflict-item button")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#queue-problems .error-item button")
    page.wait_for_selector("#queue-problems", state="hidden")
    assert page.evaluate("plategridField.queue().length") == 0
    page.reload()
    page.wait_for_selector("#building:not([hidden]) #rooms li")
    assert page.locator("#queue-problems > *").count() == 0
    assert guard.outside == [], guard.outside
    assert guard.page_errors == [], guard.page_errors


def test_double_taps_and_signing_out_lose_nothing(
    phone: tuple[Page, Any, OfflineGuard],
    field_sweep: FieldSweep,  # noqa: F811
) -> None:
    """Two taps in a row, and the same room and outcome again within the minute, queue one
    visit; another outcome is another visit. Signed out, the queue stays and says so."""
    page, context, guard = phone
    fs = field_sweep
    room = fs.rooms[0].pk
    page.click(f"#sweep-list button.pick[data-sweep='{fs.sweep.pk}']")
    page.click("#next-stop button.next")
    page.wait_for_selector("#building:not([hidden]) #rooms li")
    assert horizontal_overflow(page) <= 0
    context.set_offline(True)
    page.check(f"#rooms input[value='{room}']")
    page.evaluate(
        "() => { const b = document.querySelector('#outcomes [data-outcome=refused]');"
        " b.click(); b.click(); }"
    )
    assert page.evaluate("plategridField.queue().length") == 1
    page.wait_for_function("!document.querySelector('#outcomes [data-outcome=refused]').disabled")
    page.check(f"#rooms input[value='{room}']")
    page.click("#outcomes [data-outcome=refused]")
    assert page.evaluate("plategridField.queue().length") == 1
    page.check(f"#rooms input[value='{room}']")
    page.click("#outcomes [data-outcome=not_at_home]")
    assert page.evaluate("plategridField.queue().map(v => v.outcome)") == [
        "refused",
        "not_at_home",
    ]
    assert waiting(page) == 2

    context.clear_cookies()  # signed out (the session ended) while offline
    context.set_offline(False)
    page.wait_for_selector("#queue-problems .problem a[href^='/accounts/login/']")
    assert waiting(page) == 2
    assert Visit.objects.count() == 0
    assert guard.outside == [], guard.outside
    assert guard.page_errors == [], guard.page_errors


def test_server_errors_are_retried_and_gps_is_sent(
    phone: tuple[Page, Any, OfflineGuard],
    field_sweep: FieldSweep,  # noqa: F811
) -> None:
    """A 503 (and the server stored nothing): the visit waits, is sent again after the backoff,
    and is stored once — with the GPS position the user allowed."""
    page, context, guard = phone
    fs = field_sweep
    posts: list[int] = []

    def flaky(route: Any) -> None:
        posts.append(len(posts) + 1)
        if len(posts) == 1:
            route.fulfill(status=503, json={"detail": "busy", "code": "unavailable"})
        else:
            route.fallback()

    context.route("**/api/visits/", flaky)
    # The user allows GPS: the visit carries the phone's position (a few metres from building 1).
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"longitude": 112.1116, "latitude": 32.0116, "accuracy": 8})
    page.click(f"#sweep-list button.pick[data-sweep='{fs.sweep.pk}']")
    page.click("#next-stop button.next")
    page.click("#building details.extra summary")
    page.check("#use-gps")
    page.wait_for_function("document.getElementById('gps-state').textContent.includes('8')")
    record(page, fs.rooms[0].pk, "registered")
    page.wait_for_selector("#sync-status.ok", timeout=20_000)
    assert len(posts) == 2
    visit = Visit.objects.get()
    assert visit.location is not None
    assert (round(visit.location.x, 4), round(visit.location.y, 4)) == (112.1116, 32.0116)
    assert not visit.far
    assert guard.outside == [], guard.outside


# Post one queued visit again as the page would (its CSRF token, its JSON): what answers.
RESEND_JS = """async (item) => {
  const body = {};
  for (const [k, v] of Object.entries(item)) {
    if (!k.startsWith("_") && !["status", "tries", "error"].includes(k)) body[k] = v;
  }
  const token = document.cookie.match(/(^|;)\\s*csrftoken=([^;]*)/)[2];
  const r = await fetch("/api/visits/", {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token},
    body: JSON.stringify({visits: [body]}),
  });
  return {status: r.status, body: await r.json()};
}"""
