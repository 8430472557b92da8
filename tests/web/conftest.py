"""Fixtures of the browser tests: one headless Chromium per module and the live server's URL
under a host name that is not a loopback name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from .browser import CHROMIUM, OfflineGuard, chromium, log_in, new_context

# Not a loopback name: the site must not depend on the browser treating it as local.
SITE_HOST = "plategrid.test"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Set-up installs Chromium (scripts/system-packages.sh): its absence is a failure, not a skip.
    assert os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM}: run scripts/system-packages.sh"
    # Playwright's sync API keeps an asyncio loop parked in this thread while the browser is open,
    # and Django refuses ORM calls when it sees one. The calls still run one at a time here.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with chromium(host_map={SITE_HOST: "127.0.0.1"}) as browser:
            yield browser


@pytest.fixture
def site(live_server: Any, settings: Any) -> str:
    """The live server's base URL under ``SITE_HOST``."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, SITE_HOST]
    return f"http://{SITE_HOST}:{live_server.thread.port}"


@pytest.fixture
def signed_in(browser: Any, site: str, users: dict[str, Any]) -> Iterator[Any]:
    """A function that opens a guarded context signed in as a role's user on ``next_url``
    (the map by default); the contexts close after the test."""
    contexts = []

    def open_as(role: str, next_url: str = "/map/", **options: Any) -> tuple[Any, OfflineGuard]:
        context, guard = new_context(browser, site, **options)
        contexts.append(context)
        page = context.new_page()
        log_in(page, users[role].username, "pw", next_url=next_url)
        return page, guard

    yield open_as
    for context in contexts:
        context.close()
