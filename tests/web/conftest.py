"""Fixtures of the browser tests: one headless Chromium per module and the live server's URL
under a host name that is not a loopback name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from .browser import CHROMIUM, chromium

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
