"""Shared fixtures: a small territory on the real PostGIS, and one user per role.

Territory (codes nest):
  district 420606 樊城区 ─ office 420606001 汉江街道 ─ community 420606001001 人民路社区 (``home``)
                                                    └ community 420606001002 长虹社区 (``away``)
  The two communities split the office's west half north/south; a building stands in each.

``territory`` and ``users`` are made afresh for every test. A module with many tests that only
read them (or change them through the database) can share one copy instead: it overrides both
with ``shared_territory``/``shared_users`` (see ``tests/web/test_permission_matrix.py``). The
shared rows are made once per module inside a transaction that is rolled back at the module's
end; every test still runs in its own rolled-back savepoint inside it, and gets its own
instances, read again from the database, so no change made by one test reaches the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from gis.models import Building, Community, Role, StreetOffice

from .factories import (
    BuildingFactory,
    CommunityFactory,
    DistrictFactory,
    StreetOfficeFactory,
    UserFactory,
    box,
    mbox,
)


@dataclass
class Territory:
    office: StreetOffice
    home: Community
    away: Community
    home_building: Building
    away_building: Building


def make_territory() -> Territory:
    district = DistrictFactory()
    office = StreetOfficeFactory(district=district)
    home = CommunityFactory(
        street_office=office,
        code="420606001001",
        name="人民路社区",
        geom=mbox(112.10, 32.00, 112.15, 32.05),
    )
    away = CommunityFactory(
        street_office=office,
        code="420606001002",
        name="长虹社区",
        geom=mbox(112.10, 32.05, 112.15, 32.10),
    )
    home_building = BuildingFactory(footprint=box(112.111, 32.011, 112.112, 32.012))
    away_building = BuildingFactory(footprint=box(112.111, 32.061, 112.112, 32.062))
    return Territory(office, home, away, home_building, away_building)


def make_users(territory: Territory) -> dict[str, object]:
    """One user per role, each scoped to the ``home`` community (district admin: the district)."""
    return {
        Role.DISTRICT_ADMIN: UserFactory(
            username="admin420606", grants=[(Role.DISTRICT_ADMIN, "420606")]
        ),
        Role.STREET_SUPERVISOR: UserFactory(
            username="street", grants=[(Role.STREET_SUPERVISOR, "420606001")]
        ),
        Role.COMMUNITY_WORKER: UserFactory(
            username="worker", grants=[(Role.COMMUNITY_WORKER, territory.home.code)]
        ),
        Role.READ_ONLY: UserFactory(
            username="reader", grants=[(Role.READ_ONLY, territory.home.code)]
        ),
    }


@pytest.fixture
def territory(db: None) -> Territory:
    return make_territory()


@pytest.fixture
def users(territory: Territory) -> dict[str, object]:
    """One user per role, each scoped to the ``home`` community (district admin: the district)."""
    return make_users(territory)


# ---------------------------------------------------------------------------------------------
# The same data shared by the tests of one module


@dataclass
class SharedData:
    """What a module's tests share (made once, in ``module_transaction``)."""

    territory: Territory
    users: dict[str, object]


@pytest.fixture(scope="module")
def module_transaction(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """A transaction around the whole module, rolled back at its end: rows made in it (by other
    module-scoped fixtures) are seen by every test of the module, whose own changes are rolled
    back to a savepoint after each test by pytest-django as usual. Not for modules with
    ``transaction=True`` tests or a live server (those flush the tables instead)."""
    with django_db_blocker.unblock():
        block = transaction.atomic()
        # Like a test case's own block: ``atomic(durable=True)`` may still be opened inside it.
        block._from_testcase = True  # type: ignore[attr-defined]
        block.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            block.__exit__(None, None, None)


@pytest.fixture(scope="module")
def shared_data(module_transaction: None, django_db_blocker: Any) -> SharedData:
    """``territory`` and ``users`` made once for the module (in ``module_transaction``)."""
    with django_db_blocker.unblock():
        territory = make_territory()
        return SharedData(territory, make_users(territory))


def _fresh(obj: Any) -> Any:
    return type(obj)._default_manager.get(pk=obj.pk)


@pytest.fixture
def shared_territory(db: None, shared_data: SharedData) -> Territory:
    """The module's shared territory, as new instances read from the database for this test."""
    t = shared_data.territory
    return Territory(
        _fresh(t.office),
        _fresh(t.home),
        _fresh(t.away),
        _fresh(t.home_building),
        _fresh(t.away_building),
    )


@pytest.fixture
def shared_users(db: None, shared_data: SharedData) -> dict[str, object]:
    """The module's shared users, as new instances read from the database for this test."""
    manager = get_user_model()._default_manager
    return {role: manager.get(pk=user.pk) for role, user in shared_data.users.items()}  # type: ignore[attr-defined]


def pytest_configure(config: pytest.Config) -> None:
    """The registry's test keyring (web.settings.test names it), made once when missing."""
    from pathlib import Path

    from django.conf import settings

    from registry.crypto import ensure_keyring

    ensure_keyring(Path(settings.PLATEGRID_KEYRING))
