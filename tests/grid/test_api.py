"""The grid API: zones as GeoJSON with bbox, creation through save_zone with its refusals in the
project's error shape, the coverage report, staff phones, assignments and staffing gaps."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from gis.models import Role
from grid import services
from grid.models import Staff, Zone

from ..conftest import Territory
from ..factories import box, mbox
from .factories import AssignmentFactory, StaffFactory, ZoneFactory


def _feature(properties: dict[str, Any], geom: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": json.loads(geom.json)}


@pytest.fixture
def worker_api(users: dict[str, Any]) -> APIClient:
    api = APIClient()
    api.force_authenticate(users[Role.COMMUNITY_WORKER])
    return api


def test_list_is_a_feature_collection_of_current_zones_in_scope(
    worker_api: APIClient, territory: Territory, django_assert_num_queries: Any
) -> None:
    home = ZoneFactory(community=territory.home, code="001")
    ZoneFactory(community=territory.home, code="002", geom=mbox(112.12, 32.0, 112.13, 32.05))
    away = ZoneFactory(community=territory.away, code="001", geom=mbox(112.1, 32.06, 112.11, 32.07))
    Zone.objects.filter(code__endswith="002").update(valid_to="2030-01-01T00:00:00Z")
    with django_assert_num_queries(2):  # the user's grants, the rows
        body = worker_api.get(reverse("zone-list")).json()
    assert body["type"] == "FeatureCollection"
    assert [f["id"] for f in body["features"]] == [home.pk]
    assert body["features"][0]["properties"]["code"] == home.code
    assert body["features"][0]["properties"]["community"] == territory.home.code
    assert worker_api.get(reverse("zone-detail", args=[away.pk])).status_code == 404
    far = worker_api.get(reverse("zone-list"), {"bbox": "112.13,32.0,112.14,32.01"}).json()
    assert far["features"] == []
    own = worker_api.get(reverse("zone-list"), {"community": territory.home.code}).json()
    assert [f["id"] for f in own["features"]] == [home.pk]
    bad = worker_api.get(reverse("zone-list"), {"community": "420606\x00001001"})
    assert bad.status_code == 200 and bad.json()["features"] == []


def test_create_numbers_the_zone_and_refusals_use_the_error_shape(
    worker_api: APIClient, territory: Territory
) -> None:
    def create(name: str, community: str, geom: Any) -> Any:
        feature = _feature({"name": name, "community": community}, geom)
        return worker_api.post(reverse("zone-list"), feature, format="json")

    created = create("一组", territory.home.code, box(112.10, 32.0, 112.12, 32.05))
    assert created.status_code == 201, created.content
    assert created.json()["properties"]["code"] == "420606001001001"

    overlap = create("二组", territory.home.code, box(112.11, 32.0, 112.13, 32.05))
    assert overlap.status_code == 400
    body = overlap.json()
    assert body["code"] == "zone_overlap"
    assert "420606001001001" in body["detail_en"]
    assert body["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert Zone.objects.count() == 1

    elsewhere = create("三组", territory.away.code, box(112.1, 32.06, 112.11, 32.07))
    assert elsewhere.status_code == 403


def test_coverage_report(worker_api: APIClient, territory: Territory) -> None:
    ZoneFactory(community=territory.home, code="001")
    response = worker_api.get(reverse("zone-coverage"), {"code": territory.home.code})
    assert response.status_code == 200, response.content
    body = response.json()
    (community,) = body["communities"]
    assert body["ok"] is False and community["ok"] is False
    assert community["uncovered_m2"] > 0
    assert community["uncovered_geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert worker_api.get(reverse("zone-coverage")).status_code == 400
    assert (
        worker_api.get(reverse("zone-coverage"), {"code": territory.away.code}).status_code == 404
    )


def test_staff_phone_is_write_only_and_masked(worker_api: APIClient, territory: Territory) -> None:
    response = worker_api.post(
        reverse("staff-list"),
        {"name": "李华", "phone": "13912345678", "community": territory.home.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert "phone" not in body and body["phone_masked"] == "139****5678"
    assert Staff.objects.get().phone == "13912345678"


def test_assignments_and_staffing_gaps(worker_api: APIClient, territory: Territory) -> None:
    zone = ZoneFactory(community=territory.home, code="001")
    staff = StaffFactory(community=territory.home)
    missing_zone = worker_api.post(
        reverse("assignment-list"), {"staff": staff.pk, "role": "responsible"}, format="json"
    )
    assert missing_zone.status_code == 400
    assert missing_zone.json()["code"] == "zone_required"
    ok = worker_api.post(
        reverse("assignment-list"),
        {"staff": staff.pk, "role": "responsible", "zone": zone.pk},
        format="json",
    )
    assert ok.status_code == 201, ok.content
    gaps = worker_api.get(reverse("staffing-gaps"), {"code": "420606"}).json()
    (community,) = gaps["communities"]
    assert community["code"] == territory.home.code
    assert community["zones_without_responsible"] == []
    officers = [s for s in community["shortages"] if s["role"] == "information_officer"]
    assert officers == [{"role": "information_officer", "needed": 2, "present": 0, "missing": 2}]
    # Two information officers short: the community and the report are not ok.
    assert community["ok"] is False and gaps["ok"] is False


def test_staff_and_assignment_filters(
    worker_api: APIClient, users: dict[str, Any], territory: Territory
) -> None:
    """What the zone editor asks for: a community's active staff, a zone's current chain."""
    zone = ZoneFactory(community=territory.home, code="001")
    other = ZoneFactory(
        community=territory.home, code="002", geom=mbox(112.13, 32.0, 112.15, 32.02)
    )
    active = StaffFactory(community=territory.home, name="甲")
    gone = StaffFactory(community=territory.home, name="乙", active=False)
    StaffFactory(community=territory.away, name="丙")
    now = AssignmentFactory(staff=active, zone=zone, role="responsible")
    AssignmentFactory(
        staff=active, zone=zone, role="coordinator", ends_on=datetime.date(2026, 1, 31)
    )
    AssignmentFactory(staff=gone, zone=zone, role="information_officer")
    AssignmentFactory(staff=active, zone=other, role="responsible")

    def names(params: dict[str, str]) -> list[str]:
        response = worker_api.get(reverse("staff-list"), params)
        assert response.status_code == 200, response.content
        return [s["name"] for s in response.json()["results"]]

    assert names({"community": territory.home.code}) == ["乙", "甲"]
    assert names({"community": territory.home.code, "active": "1"}) == ["甲"]
    assert names({"community": territory.away.code}) == []  # outside the worker's scope
    assert names({"community": "42\x00"}) == []

    def ids(params: dict[str, str]) -> list[int]:
        response = worker_api.get(reverse("assignment-list"), params)
        assert response.status_code == 200, response.content
        return [a["id"] for a in response.json()["results"]]

    assert len(ids({"zone": str(zone.pk)})) == 3
    assert ids({"zone": str(zone.pk), "current": "1"}) == [now.pk]
    assert ids({"zone": "x"}) == []


def test_undoing_a_zone_creation_deletes_it(worker_api: APIClient, territory: Territory) -> None:
    """Undo goes through the register's delete (``gis.services.delete_object``), which must know
    a zone's scope like the register's own objects'."""
    created = worker_api.post(
        reverse("zone-list"),
        _feature(
            {"name": "一组", "community": territory.home.code}, box(112.10, 32.0, 112.12, 32.05)
        ),
        format="json",
    )
    assert created.status_code == 201, created.content
    url = reverse("zone-detail", args=[created.json()["id"]])
    (insert,) = worker_api.get(f"{url}history/").json()
    undone = worker_api.post(f"{url}history/{insert['event_id']}/undo/")
    assert undone.status_code == 204, undone.content
    assert not Zone.objects.exists()


def test_staffing_is_ok_when_nothing_is_short(territory: Territory) -> None:
    """A community without households needs no building head, propagandist or central head;
    with its one zone's responsible person and two information officers nothing is missing."""
    zone = ZoneFactory(community=territory.home, code="001")
    for role in ("responsible", "information_officer", "information_officer"):
        AssignmentFactory(staff=StaffFactory(community=territory.home), zone=zone, role=role)
    report = services.staffing_gaps(territory.home.code)
    (community,) = report.communities
    assert [s.missing for s in community.shortages] == [0] * len(community.shortages)
    assert community.ok and report.ok
