"""The coverage map page (/coverage/) without a browser: where each role starts, what the page's
script is given, and who is refused."""

from __future__ import annotations

import json
import re
from typing import Any

from django.test import Client
from django.urls import reverse

from gis.models import Role
from layers.coverage.gaps import KINDS

from ..conftest import Territory
from ..factories import UserFactory


def _config(response: Any) -> dict[str, Any]:
    found = re.search(r'id="page-config"[^>]*>(.*?)</script>', response.content.decode(), re.S)
    assert found, "the page has no page-config"
    return json.loads(found.group(1))


def test_each_role_starts_at_its_own_node(territory: Territory, users: dict[str, Any]) -> None:
    for role, home in (
        (Role.DISTRICT_ADMIN, territory.office.code[:6]),
        (Role.STREET_SUPERVISOR, territory.office.code),
        (Role.COMMUNITY_WORKER, territory.home.code),
        (Role.READ_ONLY, territory.home.code),
    ):
        client = Client()
        client.force_login(users[role])
        response = client.get(reverse("coverage-page"))
        assert response.status_code == 200, role
        config = _config(response)
        assert config["home"] == home, role
        assert config["gap_kinds"] == list(KINDS)
        assert config["urls"]["heat"].endswith("/tiles/coverage/{z}/{x}/{y}.mvt")


def test_no_territory_is_refused_in_both_languages(db: None) -> None:
    client = Client()
    client.force_login(UserFactory(username="nobody"))
    response = client.get(reverse("coverage-page"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    text = response.content.decode()
    assert "Your account has no territory." in text and "您的账号没有辖区" in text


def test_anonymous_users_are_sent_to_sign_in(db: None) -> None:
    response = Client().get(reverse("coverage-page"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
