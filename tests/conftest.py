"""Shared fixtures: a small territory on the real PostGIS, and one user per role.

Territory (codes nest):
  district 420606 樊城区 ─ office 420606001 汉江街道 ─ community 420606001001 人民路社区 (``home``)
                                                    └ community 420606001002 长虹社区 (``away``)
  The two communities split the office's west half north/south; a building stands in each.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

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


@pytest.fixture
def territory(db: None) -> Territory:
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


@pytest.fixture
def users(territory: Territory) -> dict[str, object]:
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
