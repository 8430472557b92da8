"""The people register in the Django admin: scoped lists inside the personal-data context (the
guard would raise otherwise), masked columns only, search by name only, personal records
read-only, schedules and criteria editable, the access log closed to changes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from gis.models import Role
from registry.models import AccessLog, FollowUpSchedule, Resident, StarCriterion
from registry.privacy import log_access, personal

from ..conftest import Territory
from ..factories import RoomFactory, UserFactory
from .factories import id_number, resident

pytestmark = pytest.mark.django_db

HOME_NUMBER = id_number(date(1981, 4, 5))
AWAY_NUMBER = id_number(date(1972, 8, 9))


def _staff(username: str, grants: list[tuple[str, str]], *codenames: str) -> Any:
    user = UserFactory(username=username, grants=grants)
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return type(user).objects.get(pk=user.pk)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two(territory: Territory) -> tuple[Resident, Resident]:
    return (
        resident(RoomFactory(building=territory.home_building), name="张三", id_number=HOME_NUMBER),
        resident(RoomFactory(building=territory.away_building), name="李四", id_number=AWAY_NUMBER),
    )


def _assert_private(content: str, *people: Resident) -> None:
    for number in (HOME_NUMBER, AWAY_NUMBER, "13812345678"):
        assert number not in content
    for person in people:
        assert person.id_number[:20] not in content and person.phone[:20] not in content
        assert person.id_number_hash not in content


def test_resident_list_is_scoped_masked_and_searched_by_name(
    two: tuple[Resident, Resident], territory: Territory
) -> None:
    home, away = two
    worker = _client(
        _staff("staffworker", [(Role.COMMUNITY_WORKER, territory.home.code)], "view_resident")
    )
    listed = worker.get(reverse("admin:registry_resident_changelist"))
    assert listed.status_code == 200
    content = listed.content.decode()
    assert "张三" in content and "李四" not in content
    assert home.id_number_masked in content and "138****5678" in content
    _assert_private(content, home, away)
    assert (
        "张三"
        in worker.get(reverse("admin:registry_resident_changelist"), {"q": "张"}).content.decode()
    )
    by_number = worker.get(reverse("admin:registry_resident_changelist"), {"q": HOME_NUMBER})
    assert "张三" not in by_number.content.decode()  # name only: no search by number here


def test_resident_page_is_read_only_and_out_of_scope_is_absent(
    two: tuple[Resident, Resident], territory: Territory
) -> None:
    home, away = two
    worker = _client(
        _staff("staffworker", [(Role.COMMUNITY_WORKER, territory.home.code)], "view_resident")
    )
    page = worker.get(reverse("admin:registry_resident_change", args=[home.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert home.id_number_masked in content and 'name="name"' not in content  # no form fields
    _assert_private(content, home, away)
    hidden = worker.get(reverse("admin:registry_resident_change", args=[away.pk]))
    assert hidden.status_code == 302 and "李四" not in hidden.content.decode()
    history = worker.get(reverse("admin:registry_resident_history", args=[home.pk]))
    assert history.status_code == 200
    assert worker.get(reverse("admin:registry_resident_history", args=[away.pk])).status_code == 302
    assert worker.get(reverse("admin:registry_resident_add")).status_code == 403
    assert worker.get(reverse("admin:registry_resident_delete", args=[home.pk])).status_code == 403
    posted = worker.post(
        reverse("admin:registry_resident_change", args=[home.pk]), {"name": "王五"}
    )
    assert posted.status_code == 403
    with personal(system=True):
        assert Resident.objects.get(pk=home.pk).name == "张三"


def test_other_personal_lists_are_scoped(two: tuple[Resident, Resident], territory) -> None:
    superuser = UserFactory(username="root")
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    root = _client(superuser)
    for model in (
        "household",
        "occupancy",
        "followup",
        "landlordcontract",
        "tenancycontract",
        "supplydistribution",
        "starrating",
        "rectification",
        "rentwithdrawal",
    ):
        response = root.get(reverse(f"admin:registry_{model}_changelist"))
        assert response.status_code == 200, model
        _assert_private(response.content.decode(), *two)
    occupancies = root.get(reverse("admin:registry_occupancy_changelist")).content.decode()
    assert "张三" in occupancies and "李四" in occupancies
    worker = _client(
        _staff("staffworker", [(Role.COMMUNITY_WORKER, territory.home.code)], "view_occupancy")
    )
    scoped = worker.get(reverse("admin:registry_occupancy_changelist")).content.decode()
    assert "张三" in scoped and "李四" not in scoped


def test_schedules_and_criteria_are_editable_data() -> None:
    admin = _staff(
        "dataadmin",
        [],
        "view_followupschedule",
        "change_followupschedule",
        "add_starcriterion",
        "view_starcriterion",
    )
    client = _client(admin)
    schedule = FollowUpSchedule.objects.create(code="yearly", name="每年", months=[1])
    changed = client.post(
        reverse("admin:registry_followupschedule_change", args=[schedule.pk]),
        {"code": "yearly", "name": "每年一次", "months": "1,7", "category": ""},
    )
    assert changed.status_code == 302, changed.content.decode()[:2000]
    schedule.refresh_from_db()
    assert (schedule.name, schedule.months) == ("每年一次", [1, 7])
    added = client.post(
        reverse("admin:registry_starcriterion_add"),
        {"code": "fire", "name": "消防", "stars": 2, "position": 1, "active": "on"},
    )
    assert added.status_code == 302
    assert StarCriterion.objects.filter(code="fire", stars=2).exists()


def test_access_log_is_read_only_and_for_auditors(territory: Territory, users) -> None:
    log_access(
        users[Role.COMMUNITY_WORKER],
        "reveal",
        "resident 1",
        reason="核对身份",
        community_code=territory.home.code,
    )
    entry = AccessLog.objects.get()
    worker = _client(
        _staff("staffworker", [(Role.COMMUNITY_WORKER, territory.home.code)], "view_resident")
    )
    assert worker.get(reverse("admin:registry_accesslog_changelist")).status_code == 403
    auditor_user = _staff(
        "auditor",
        [(Role.READ_ONLY, "420606")],
        "audit",
        "add_accesslog",
        "change_accesslog",
        "delete_accesslog",
    )
    auditor = _client(auditor_user)
    listed = auditor.get(reverse("admin:registry_accesslog_changelist"))
    assert listed.status_code == 200 and "核对身份" in listed.content.decode()
    assert (
        auditor.get(reverse("admin:registry_accesslog_change", args=[entry.pk])).status_code == 200
    )
    # Even holding the model permissions, nobody adds, changes or deletes.
    assert auditor.get(reverse("admin:registry_accesslog_add")).status_code == 403
    assert (
        auditor.post(
            reverse("admin:registry_accesslog_change", args=[entry.pk]), {"reason": "x"}
        ).status_code
        == 403
    )
    assert (
        auditor.post(
            reverse("admin:registry_accesslog_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AccessLog.objects.get().reason == "核对身份"
