"""Production refuses unsafe configurations; demo accounts exist only in demo mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pgtrigger
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction

from gis.models import Role, Room, ScopeGrant
from web.accounts import create_demo_accounts
from web.checks import refuse_unsafe_production

from ..factories import RoomFactory

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "x" * 50


def _import_production(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PLATEGRID_")}
    return subprocess.run(
        [sys.executable, "-c", "import web.settings.production"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_the_default_secret():
    result = _import_production(PLATEGRID_ALLOWED_HOSTS="example.org")
    assert result.returncode != 0 and "default secret key" in result.stderr


def test_production_refuses_debug():
    result = _import_production(
        PLATEGRID_SECRET_KEY=GOOD_SECRET, PLATEGRID_ALLOWED_HOSTS="a", PLATEGRID_DEBUG="1"
    )
    assert result.returncode != 0 and "refuse DEBUG" in result.stderr


def test_production_starts_with_a_proper_configuration():
    result = _import_production(
        PLATEGRID_SECRET_KEY=GOOD_SECRET, PLATEGRID_ALLOWED_HOSTS="example.org"
    )
    assert result.returncode == 0, result.stderr


def test_demo_accounts_one_per_role_scoped(territory, settings):
    settings.DEMO_MODE = True
    accounts = create_demo_accounts()
    assert sorted({a.role for a in accounts}) == sorted(Role.values)
    auditor, district = (
        ScopeGrant.objects.get(user__username=f"demo-{name}").user
        for name in ("auditor", "district")
    )
    assert auditor.has_perm("registry.audit") and not auditor.has_perm("registry.reveal_resident")
    assert district.has_perm("registry.reveal_resident") and not district.has_perm("registry.audit")
    worker = ScopeGrant.objects.get(user__username="demo-worker")
    assert (worker.role, worker.territory_code) == (Role.COMMUNITY_WORKER, territory.home.code)
    create_demo_accounts()  # idempotent
    assert ScopeGrant.objects.filter(user__username__startswith="demo-").count() == 5


def test_demo_accounts_refused_outside_demo_mode(territory, settings):
    settings.DEMO_MODE = False
    with pytest.raises(ImproperlyConfigured, match="demo settings"):
        create_demo_accounts()


def test_production_refuses_to_start_while_demo_accounts_exist(territory, settings):
    settings.DEMO_MODE = True
    create_demo_accounts()
    settings.DEMO_MODE, settings.DEBUG = False, False
    with pytest.raises(ImproperlyConfigured, match="demo-district"):
        refuse_unsafe_production()


@pytest.mark.django_db
def test_connections_set_an_empty_trigger_ignore_list_and_ignoring_still_works(territory):
    """pgtrigger's triggers read pgtrigger.ignore; unset, every call raises and catches an error
    (the cost grew row by row in long loads). Set empty, and pgtrigger.ignore() still works."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW pgtrigger.ignore")
        assert cursor.fetchone() == ("{}",)
    room = RoomFactory(building=territory.home_building, floor=1, number="101")
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.filter(pk=room.pk).update(floor=99)  # the floor rule trigger refuses it
    with pgtrigger.ignore("geo.Room:room_floor_in_building"), transaction.atomic():
        Room.objects.filter(pk=room.pk).update(floor=99)
        transaction.set_rollback(True)
