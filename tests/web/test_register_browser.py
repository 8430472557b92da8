"""The people register's pages in a browser, on a phone: the register of a building, a search by
identity number that never puts the number in a URL, and the reveal of a person's identity number
and phone — shown in clear after a reason, hidden again after 60 s — with no outside host."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission

from gis.models import Role
from registry.models import AccessLog

from ..conftest import Territory
from .browser import PHONE, horizontal_overflow
from .test_offline_browser import assert_offline
from .test_register_pages import clear_values, make_people

pytestmark = [pytest.mark.browser]


@pytest.fixture
def people(territory: Territory, users: dict[str, Any]) -> dict[str, Any]:
    worker = users[Role.COMMUNITY_WORKER]
    worker.user_permissions.add(Permission.objects.get(codename="reveal_resident"))
    return make_people(territory)


def test_register_search_and_reveal_on_a_phone(
    signed_in: Any, territory: Territory, people: dict[str, Any]
) -> None:
    head = people["head"]
    clear = clear_values(head)
    page, guard = signed_in(
        Role.COMMUNITY_WORKER, f"/register/?building={territory.home_building.pk}", viewport=PHONE
    )
    page.wait_for_selector(".reg-room")
    assert horizontal_overflow(page) == 0
    assert page.locator(".reg-chips li.rented-empty").count() == 2
    assert clear["id_number"] not in page.content()

    # Search by identity number: the person's file, the number in no URL.
    # Typed into the name search, the number moves to the logged search instead of a URL.
    before = page.url
    page.fill("#name-search input[name=q]", clear["id_number"])
    page.click("#name-search button[type=submit]")
    assert page.input_value("#id-search-number") == clear["id_number"]
    assert page.url == before and page.input_value("#name-search input[name=q]") == ""
    page.fill("#id-search-reason", "核对来访人员")
    with page.expect_navigation():
        page.click(".reg-idsearch button[type=submit]")
    assert page.url.endswith(f"/register/residents/{head.pk}/")
    assert all(clear["id_number"] not in url for url in guard.requests)
    assert AccessLog.objects.filter(action="search", object_id=head.pk).count() == 1

    # The reveal: masked, then clear after a reason, then masked again after 60 s.
    page.clock.install()
    page.reload()
    number = page.locator("#id-number")
    assert number.inner_text() == head.id_number_masked
    assert horizontal_overflow(page) == 0
    page.fill("#reveal-reason", "核对身份")
    with page.expect_response(lambda r: r.url.endswith("/reveal/")) as answer:
        page.click("#reveal button[type=submit]")
    response = answer.value
    assert response.status == 200
    assert "no-store" in response.headers["cache-control"]
    page.wait_for_selector("#id-number.revealed")
    assert number.inner_text() == clear["id_number"]
    assert page.locator("#phone").inner_text() == clear["phone"]
    assert page.input_value("#reveal-reason") == ""  # the reason is not left in the form
    assert AccessLog.objects.filter(action="reveal", object_id=head.pk).count() == 1
    page.clock.run_for(61_000)
    page.wait_for_selector("#id-number.masked")
    assert number.inner_text() == head.id_number_masked
    assert page.locator("#phone").inner_text() == head.phone_masked
    assert clear["id_number"] not in page.content()

    assert_offline(guard)

    # A reveal refused for want of a reason says so in both languages.
    guard.reset()
    page.locator("#reveal-reason").evaluate("el => el.removeAttribute('required')")
    page.fill("#reveal-reason", "")
    with page.expect_response(lambda r: r.url.endswith("/reveal/")) as refused:
        page.click("#reveal button[type=submit]")
    assert refused.value.status == 400
    page.wait_for_selector("#reveal-error .field-error span[lang=en]")
    assert "reason" in page.inner_text("#reveal-error")
    assert number.inner_text() == head.id_number_masked
    assert all("/reveal/" in f and "400" in f for f in guard.failed + guard.console_errors)
    assert guard.outside == [] and guard.page_errors == []
