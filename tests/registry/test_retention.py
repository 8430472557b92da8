"""Retention: people who left long ago are deleted with their history and files; others stay."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection

from gis.models import Landlord
from registry import crypto, services
from registry.models import Household, Occupancy, Resident, TenancyContract
from registry.privacy import personal
from registry.retention import purge

from ..conftest import Territory
from ..factories import RoomFactory
from .factories import resident

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)


def _events_naming(person: Resident) -> int:
    with personal(system=True), connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM registry_residentevent WHERE pgh_obj_id = %(id)s)"
            " + (SELECT count(*) FROM registry_occupancyevent WHERE resident_id = %(id)s)"
            " + (SELECT count(*) FROM registry_tenancycontractevent WHERE tenant_id = %(id)s)",
            {"id": person.pk},
        )
        return cursor.fetchone()[0]


def test_people_who_left_long_ago_go_with_history_and_scans(territory: Territory, settings) -> None:
    settings.PLATEGRID_RETENTION = {"resident_days": 365, "history_days": 10_000}
    room = RoomFactory(building=territory.home_building)
    gone = resident(room, moved_in=date(2020, 1, 1), name="早已搬离")
    with personal(system=True):
        gone_household = Household.objects.get(occupancies__resident=gone)
    services.move_out(None, gone, on=date(2024, 6, 1))
    recent = resident(room, moved_in=date(2020, 1, 1), name="刚搬走")
    services.move_out(None, recent, on=date(2026, 6, 1))
    living = resident(room, moved_in=date(2019, 1, 1), name="仍在住")
    with personal(system=True):
        landlord = Landlord.objects.create(name="房东", community=territory.home)
        contract = TenancyContract.objects.create(
            room=room,
            landlord=landlord,
            tenant=gone,
            community_code=territory.home.code,
            signed_on=date(2020, 1, 1),
        )
        contract.scan.save("c.pdf", ContentFile(crypto.encrypt_bytes(b"%PDF-1", context="scan")))
    scan = contract.scan.name
    assert contract.scan.storage.exists(scan)
    assert _events_naming(gone) > 0

    assert purge(TODAY, dry_run=True)["residents"] == 1
    counts = purge(TODAY)

    assert (
        counts["residents"] == 1
        and counts["households"] == 1
        and counts["files"] == 1
        and counts["history"] > 0
    )
    assert _events_naming(gone) == 0
    assert not contract.scan.storage.exists(scan)
    with personal(system=True):
        assert set(Resident.objects.values_list("name", flat=True)) == {"刚搬走", "仍在住"}
        assert Occupancy.objects.filter(resident=living).exists()
        # Its household was dissolved then too; the other two households stay.
        assert not Household.objects.filter(pk=gone_household.pk).exists()
        assert Household.objects.count() == 2


def test_old_history_goes_and_the_command_reports(territory: Territory, settings, capsys) -> None:
    settings.PLATEGRID_RETENTION = {"resident_days": 10_000, "history_days": 0}
    person = resident(RoomFactory(building=territory.home_building))
    call_command("registry_retention", "--today", "2100-01-01")
    assert "residents: 0" in capsys.readouterr().out
    assert _events_naming(person) == 0
    with personal(system=True):
        assert Resident.objects.filter(pk=person.pk).exists()
