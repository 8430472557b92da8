"""The grid admin pages open (with the local map widget) and save through the services
(registered in ``gis.history.SAVERS`` by ``grid.apps``)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from grid.models import Assignment

from ..conftest import Territory
from ..factories import UserFactory, mbox
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


def test_admin_assignment_is_validated_by_the_service(
    admin_client: Client, territory: Territory
) -> None:
    staff = StaffFactory(community=territory.home)
    away = ZoneFactory(community=territory.away, code="001", geom=mbox(112.1, 32.06, 112.11, 32.07))
    form = {"staff": staff.pk, "zone": away.pk, "building": "", "role": "responsible"}
    form |= {"starts_on": "2026-01-01", "ends_on": ""}
    response = admin_client.post(reverse("admin:grid_assignment_add"), form)
    assert response.status_code == 200
    # The AssignmentError of grid.services.save_assignment (zone_not_in_community).
    assert f"责任区 {away.code} 不是该工作人员所在社区" in response.content.decode()
    assert not Assignment.objects.exists()

    home = ZoneFactory(community=territory.home, code="001")
    response = admin_client.post(reverse("admin:grid_assignment_add"), {**form, "zone": home.pk})
    assert response.status_code == 302
    assert Assignment.objects.get().zone == home


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # Each breaks a check constraint too; the admin shows the service's message, not the
        # constraint's name.
        ({"zone": ""}, "请选择责任区"),
        ({"ends_on": "2025-12-31"}, "早于开始日期"),
    ],
)
def test_admin_shows_the_service_message_not_the_constraint(
    admin_client: Client, territory: Territory, changes: dict[str, str], message: str
) -> None:
    staff = StaffFactory(community=territory.home)
    zone = ZoneFactory(community=territory.home, code="001")
    form = {"staff": staff.pk, "zone": zone.pk, "building": "", "role": "responsible"}
    form |= {"starts_on": "2026-01-01", "ends_on": ""} | changes
    page = admin_client.post(reverse("admin:grid_assignment_add"), form).content.decode()
    assert message in page
    assert "assignment_zone_role_has_zone" not in page
    assert "assignment_ends_after_start" not in page
    assert not Assignment.objects.exists()
