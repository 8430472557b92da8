"""Headless Chromium for the offline tests and ``scripts/screenshots.py``.

Playwright's own browser download is not used: the Debian ``chromium`` package is driven instead.
``OfflineGuard`` records every request a browser context makes and aborts the ones that leave the
site, so a page that reaches for an outside host fails fast instead of hanging on a closed network.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    Route,
    ViewportSize,
    sync_playwright,
)

CHROMIUM = os.environ.get("PLATEGRID_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A proxy from the environment would otherwise see the requests for mapped host names.
    "--no-proxy-server",
]
# Schemes that never leave the browser.
LOCAL_SCHEMES = {"data", "blob", "about"}
# Console errors that are about the transport, not the page: the tests (and a plain-HTTP intranet
# install) serve over http:// under a host name that is not ``localhost``.
IGNORED_CONSOLE_ERRORS = ("The Cross-Origin-Opener-Policy header has been ignored",)
# A phone: the index page must fit without sideways scrolling.
PHONE: ViewportSize = {"width": 375, "height": 812}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@contextmanager
def chromium(host_map: dict[str, str] | None = None) -> Iterator[Browser]:
    """Launch headless Chromium. ``host_map`` resolves names to addresses (no DNS needed)."""
    args = list(CHROMIUM_ARGS)
    if host_map:
        rules = ", ".join(f"MAP {name} {address}" for name, address in host_map.items())
        args.append(f"--host-resolver-rules={rules}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class OfflineGuard:
    """Every request of one browser context, the outside ones blocked, and every page error."""

    base_url: str
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def origin(self) -> tuple[str, str]:
        parts = urlsplit(self.base_url)
        return parts.scheme, parts.netloc

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            return True
        return (parts.scheme, parts.netloc) == self.origin

    def attach(self, context: BrowserContext) -> BrowserContext:
        context.route("**/*", self._route)
        context.on("request", lambda request: self._record(request.url))
        context.on("requestfailed", self._request_failed)
        context.on("response", self._response)
        context.on("page", self._watch)
        return context

    def _record(self, url: str) -> None:
        self.requests.append(url)
        if not self.is_local(url) and url not in self.outside:
            self.outside.append(url)

    def _request_failed(self, request: Request) -> None:
        if self.is_local(request.url):
            self.failed.append(f"{request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and self.is_local(response.url):
            self.failed.append(f"{response.url}: HTTP {response.status}")

    def _route(self, route: Route) -> None:
        url = route.request.url
        if self.is_local(url):
            route.continue_()
        else:
            # Recorded by the request listener as well; noted here in case a request is routed
            # without its event (service workers).
            if url not in self.outside:
                self.outside.append(url)
            route.abort("blockedbyclient")

    def _watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith(IGNORED_CONSOLE_ERRORS):
            self.console_errors.append(f"{message.location.get('url', '')}: {message.text}")

    def reset(self) -> None:
        for log in (
            self.requests,
            self.outside,
            self.failed,
            self.console_errors,
            self.page_errors,
        ):
            log.clear()


def new_context(
    browser: Browser,
    base_url: str,
    *,
    viewport: ViewportSize | None = None,
    locale: str = "zh-CN",
) -> tuple[BrowserContext, OfflineGuard]:
    """A fresh context (no cookies) on ``base_url``, guarded. Chinese by default, like the users."""
    context = browser.new_context(
        base_url=base_url,
        viewport=viewport or DESKTOP,
        locale=locale,
        timezone_id="Asia/Shanghai",
        service_workers="block",
    )
    context.set_default_timeout(15_000)
    guard = OfflineGuard(base_url)
    guard.attach(context)
    return context, guard


def log_in(page: Page, username: str, password: str, next_url: str = "/admin/") -> None:
    """Sign in through the site's login form (staff and field staff alike)."""
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")
    if "/accounts/login/" in page.url:
        raise AssertionError(f"login as {username!r} failed: still on {page.url}")


def wait_for_map(page: Page, map_div_id: str) -> None:
    """Wait until OpenLayers has drawn into the admin map widget's div."""
    page.wait_for_selector(f"#{map_div_id} .ol-viewport canvas", state="attached")


def wait_for_swagger(page: Page) -> None:
    """Wait until Swagger UI has loaded the schema and listed the operations."""
    page.wait_for_selector(".swagger-ui .opblock", state="attached")


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the document is wider than the viewport (0: no sideways scroll)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )
