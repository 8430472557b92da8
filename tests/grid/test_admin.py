"""The grid admin pages open (with the local map widget) and save through the services."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ..conftest import Territory
from ..factories import UserFactory
from .factories import StaffFactory, ZoneFactory


@pytest.fixture
def admin_client(territory: Territory) -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


@pytest.mark.parametrize("model", ["zone", "staff", "assignment"])
def test_admin_pages_open(admin_client: Client, territory: Territory, model: str) -> None:
    zone = ZoneFactory(community=territory.home, code="001")
    staff = StaffFactory(community=territory.home)
    assert admin_client.get(reverse(f"admin:grid_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:grid_{model}_add")).status_code == 200
    obj = {"zone": zone, "staff": staff}.get(model)
    if obj is not None:
        page = admin_client.get(reverse(f"admin:grid_{model}_change", args=[obj.pk]))
        assert page.status_code == 200
        if model == "staff":
            assert "139****5678" in page.content.decode()
