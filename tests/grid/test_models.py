"""Database rules of zones and assignments: they hold even when the services are bypassed."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from grid.models import AssignmentRole, Zone

from ..conftest import Territory
from .factories import AssignmentFactory, StaffFactory, ZoneFactory


def _refused(constraint: str, make: object) -> None:
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        make()  # type: ignore[operator]


def test_zone_code_must_extend_its_community(territory: Territory) -> None:
    _refused(
        "zone_code_extends_community",
        lambda: ZoneFactory(community=territory.home, code="420606001002001"),
    )


def test_zone_code_has_15_digits(territory: Territory) -> None:
    _refused("zone_code_15_digits", lambda: ZoneFactory(community=territory.home, code="12"))


def test_current_codes_are_unique_but_a_retired_code_can_return(territory: Territory) -> None:
    old = ZoneFactory(community=territory.home, code="001")
    _refused("zone_code_current_unique", lambda: ZoneFactory(community=territory.home, code="001"))
    Zone.objects.filter(pk=old.pk).update(valid_to=timezone.now())
    again = ZoneFactory(community=territory.home, code="001", version=2)
    assert again.code == old.code


def test_zone_valid_to_after_valid_from(territory: Territory) -> None:
    now = timezone.now()
    _refused(
        "zone_valid_to_after_valid_from",
        lambda: ZoneFactory(community=territory.home, valid_from=now, valid_to=now),
    )


def test_zone_geometry_must_be_valid(territory: Territory) -> None:
    from django.contrib.gis.geos import GEOSGeometry, MultiPolygon

    bowtie = GEOSGeometry(
        "SRID=4326;POLYGON((112.1 32.0,112.11 32.01,112.11 32.0,112.1 32.01,112.1 32.0))"
    )
    _refused(
        "zone_geom_valid",
        lambda: ZoneFactory(community=territory.home, geom=MultiPolygon(bowtie, srid=4326)),
    )


def test_building_head_needs_a_building(territory: Territory) -> None:
    staff = StaffFactory(community=territory.home)
    _refused(
        "assignment_building_head_has_building",
        lambda: AssignmentFactory(staff=staff, role=AssignmentRole.BUILDING_HEAD),
    )
    AssignmentFactory(
        staff=staff, role=AssignmentRole.BUILDING_HEAD, building=territory.home_building
    )


def test_zone_roles_need_a_zone(territory: Territory) -> None:
    staff = StaffFactory(community=territory.home)
    for role in (AssignmentRole.RESPONSIBLE, AssignmentRole.COORDINATOR):
        _refused(
            "assignment_zone_role_has_zone", lambda r=role: AssignmentFactory(staff=staff, role=r)
        )


def test_assignment_ends_after_it_starts(territory: Territory) -> None:
    staff = StaffFactory(community=territory.home)
    _refused(
        "assignment_ends_after_start",
        lambda: AssignmentFactory(
            staff=staff, starts_on=datetime.date(2026, 5, 1), ends_on=datetime.date(2026, 4, 1)
        ),
    )


def test_zone_geometry_has_a_spatial_index(db: None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'grid_zone'")
        definitions = [row[0] for row in cursor.fetchall()]
    assert any("gist (geom)" in d for d in definitions), definitions
