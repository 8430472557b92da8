"""Automatic partition jobs (``grid.jobs``, ``/api/partitions/``, ``partition_community``).

The ``home`` community is the box 112.10–112.15 E × 32.00–32.05 N. The ``blocks`` fixture adds
twelve buildings on a 4 × 3 grid (two rooms each, one of them lived in) to its own building.
The test settings run tasks where they are queued (ImmediateBackend), once the transaction
commits.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from gis.exceptions import NotFoundError, ScopeError
from gis.models import Building, Role, RoomUse
from gis.progress import JobStatus, ProgressWriter
from grid import jobs, services
from grid.exceptions import PartitionAppliedError, PartitionJobError
from grid.models import PartitionJob, Zone

from ..conftest import Territory
from ..factories import (
    BuildingFactory,
    CommunityFactory,
    CompoundFactory,
    RoomFactory,
    UserFactory,
    box,
    mbox,
)
from .factories import draw_zone


@pytest.fixture
def blocks(territory: Territory) -> list[Building]:
    buildings = [territory.home_building]
    for i in range(4):
        for j in range(3):
            x, y = 112.105 + i * 0.012, 32.005 + j * 0.015
            buildings.append(BuildingFactory(footprint=box(x, y, x + 0.001, y + 0.001)))
    for building in buildings:
        RoomFactory(building=building, number="301", use=RoomUse.OWNER_OCCUPIED)
        RoomFactory(building=building, number="302", use=RoomUse.VACANT)
    return buildings


def _client(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _submit(api: APIClient, capture: Any, **body: Any) -> Any:
    with capture(execute=True):
        return api.post(reverse("partition-list"), body, format="json")


def test_a_job_runs_and_its_proposal_tiles_the_community_when_applied(
    users: dict[str, Any],
    territory: Territory,
    blocks: list[Building],
    django_capture_on_commit_callbacks: Any,
) -> None:
    old = draw_zone(territory.home, box(112.10, 32.0, 112.15, 32.05), "旧")
    worker = _client(users[Role.COMMUNITY_WORKER])
    home = territory.home.code
    submitted = _submit(worker, django_capture_on_commit_callbacks, community=home, zones=3)
    assert submitted.status_code == 202, submitted.content
    body = submitted.json()
    assert body["status"] == "queued"
    assert body["url"] == f"/api/partitions/{body['id']}/"

    job = worker.get(body["url"]).json()
    assert (job["status"], job["percent"], job["finished"], job["error"]) == (
        "succeeded",
        100,
        True,
        None,
    )
    assert (job["done"], job["total"], job["applied"]) == (100, 100, False)
    assert job["parameters"] == {
        "zones": 3,
        "target_workload": None,
        "workload": "rooms",
        "compound": None,
    }
    report = job["report"]
    assert (report["zones"], report["buildings_cut"], report["buildings"]) == (3, 0, 13)
    assert sum(report["workloads"]) == 26  # two rooms in each of 13 buildings
    assert report["area_error_m2"] < 0.01
    features = job["zones"]["features"]
    assert [f["properties"]["index"] for f in features] == [0, 1, 2]
    assert sum(f["properties"]["buildings"] for f in features) == 13
    assert [f["properties"]["workload"] for f in features] == report["workloads"]
    assert Zone.objects.current().get() == old  # nothing applied yet

    applied = worker.post(reverse("partition-apply", args=[body["id"]]))
    assert applied.status_code == 200, applied.content
    new_zones = applied.json()["zones"]["features"]
    codes = [f["properties"]["code"] for f in new_zones]
    assert codes == [f"{home}00{n}" for n in (1, 2, 3)]
    current = list(Zone.objects.current().order_by("code"))
    assert [z.code for z in current] == codes
    for feature, zone in zip(new_zones, current, strict=True):
        assert feature["id"] == feature["properties"]["id"] == zone.pk
        assert feature["properties"]["name"] == zone.name
        assert feature["properties"]["version"] == zone.version
        assert GEOSGeometry(json.dumps(feature["geometry"])).equals_exact(zone.geom, 1e-6)
    old.refresh_from_db()
    assert old.valid_to is not None
    coverage = services.coverage_check(home).communities[0]
    assert (coverage.zones, coverage.uncovered_geometry, coverage.overlaps) == (3, None, [])
    assert (coverage.buildings_cut, coverage.buildings_in_no_zone) == ([], [])
    assert worker.get(body["url"]).json()["applied"] is True

    again = worker.post(reverse("partition-apply", args=[body["id"]]))
    assert (again.status_code, again.json()["code"]) == (409, "partition_applied")


def test_a_target_workload_of_households(
    territory: Territory, blocks: list[Building], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.submit_partition(
            actor=None, community=territory.home.code, target_workload=6.5, workload="households"
        )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    report = job.result["report"]
    assert (report["zones"], sum(report["workloads"])) == (2, 13)  # round(13 / 6.5)


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "zones_or_target", "zones"),
        ({"zones": 2, "target_workload": 100}, "zones_or_target", "zones"),
        ({"zones": 0}, "bad_zones", "zones"),
        ({"zones": "3"}, "bad_zones", "zones"),
        ({"zones": 14}, "too_many_zones", "zones"),
        ({"target_workload": -1}, "bad_target", "target_workload"),
        ({"zones": 2, "workload": "people"}, "bad_workload", "workload"),
    ],
)
def test_bad_parameters_are_refused_with_the_reason(
    users: dict[str, Any],
    territory: Territory,
    blocks: list[Building],
    django_capture_on_commit_callbacks: Any,
    body: dict[str, Any],
    code: str,
    field: str,
) -> None:
    worker = _client(users[Role.COMMUNITY_WORKER])
    response = _submit(
        worker, django_capture_on_commit_callbacks, community=territory.home.code, **body
    )
    assert response.status_code == 400, response.content
    answer = response.json()
    assert (answer["code"], answer["field"]) == (code, field)
    assert answer["detail_zh"] and answer["detail_en"]
    assert PartitionJob.objects.count() == 0


def test_too_many_zones_names_the_buildings(territory: Territory, blocks: list[Building]) -> None:
    with pytest.raises(PartitionJobError, match=r"14 zones asked for but .* has only 13 buildings"):
        jobs.submit_partition(actor=None, community=territory.home, zones=14)


def test_an_area_without_buildings_is_refused(territory: Territory) -> None:
    empty = CompoundFactory(community=territory.home, geom=mbox(112.14, 32.04, 112.145, 32.045))
    with pytest.raises(PartitionJobError, match="has no buildings"):
        jobs.submit_partition(actor=None, community=territory.home, zones=1, compound=empty.pk)


def test_scope(
    users: dict[str, Any],
    territory: Territory,
    blocks: list[Building],
    django_capture_on_commit_callbacks: Any,
) -> None:
    worker = _client(users[Role.COMMUNITY_WORKER])
    away = _submit(
        worker, django_capture_on_commit_callbacks, community=territory.away.code, zones=1
    )
    assert away.status_code == 404
    reader = _client(users[Role.READ_ONLY])
    read_only = _submit(
        reader, django_capture_on_commit_callbacks, community=territory.home.code, zones=1
    )
    assert read_only.status_code == 403
    with pytest.raises(ScopeError):
        jobs.submit_partition(actor=users[Role.READ_ONLY], community=territory.home, zones=1)
    admin = _client(users[Role.DISTRICT_ADMIN])
    theirs = _submit(
        admin, django_capture_on_commit_callbacks, community=territory.away.code, zones=1
    )
    assert theirs.status_code == 202
    url = theirs.json()["url"]
    seen = admin.get(url)
    assert seen.status_code == 200
    assert (seen.json()["id"], seen.json()["community"]) == (
        theirs.json()["id"],
        territory.away.code,
    )
    assert worker.get(url).status_code == 404
    assert worker.post(f"{url}apply/").status_code == 404
    assert reader.get(url).status_code == 404
    with pytest.raises(NotFoundError):
        jobs.submit_partition(actor=users[Role.COMMUNITY_WORKER], community="420606001002", zones=1)


def test_a_job_of_a_deleted_user_does_not_run(territory: Territory, blocks: list[Building]) -> None:
    user = UserFactory(username="gone", grants=[(Role.COMMUNITY_WORKER, territory.home.code)])
    job = jobs.submit_partition(actor=user, community=territory.home, zones=2, queue=False)
    user.delete()
    job = jobs.run_partition(str(job.pk))
    assert job.status == JobStatus.FAILED and "deleted" in job.error_en
    assert job.result is None
    assert jobs.run_partition(str(job.pk)).status == JobStatus.FAILED  # not claimed again


def test_apply_of_an_unfinished_job_is_refused(
    territory: Territory, blocks: list[Building]
) -> None:
    job = jobs.submit_partition(actor=None, community=territory.home, zones=2, queue=False)
    with pytest.raises(PartitionJobError, match="has not finished"):
        jobs.apply_partition(actor=None, job=job)
    seen: list[tuple[int, int]] = []
    jobs.run_partition(str(job.pk), progress=lambda done, total: seen.append((done, total)))
    # Loaded, the partition's own steps, partitioned, stored; never backwards.
    assert (seen[0], seen[-2], seen[-1]) == ((5, 100), (95, 100), (100, 100))
    assert len(seen) > 4 and seen == sorted(seen)
    jobs.apply_partition(actor=None, job=job)
    with pytest.raises(PartitionAppliedError):
        jobs.apply_partition(actor=None, job=job)


def test_a_compound_is_partitioned_alone_and_a_crossing_zone_is_refused(
    territory: Territory, blocks: list[Building]
) -> None:
    # The compound holds the two western columns of the grid (6 buildings) and the home building.
    compound = CompoundFactory(community=territory.home, geom=mbox(112.10, 32.0, 112.125, 32.05))
    east = draw_zone(territory.home, box(112.125, 32.0, 112.15, 32.05), "东")
    west = draw_zone(territory.home, box(112.10, 32.0, 112.125, 32.05), "西")
    job = jobs.submit_partition(
        actor=None, community=territory.home, zones=2, compound=compound, queue=False
    )
    job = jobs.run_partition(str(job.pk))
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    assert job.result["report"]["buildings"] == 7
    zones = jobs.apply_partition(actor=None, job=job)
    assert len(zones) == 2
    current = set(Zone.objects.current().values_list("name", flat=True))
    assert current == {"东", "第1网格", "第2网格"}
    west.refresh_from_db()
    east.refresh_from_db()
    assert west.valid_to is not None and east.valid_to is None
    assert services.coverage_check(territory.home.code).communities[0].ok

    # A zone across the compound's outline: the proposal cannot replace it.
    other = jobs.run_partition(
        str(
            jobs.submit_partition(
                actor=None, community=territory.home, zones=2, compound=compound, queue=False
            ).pk
        )
    )
    for zone in Zone.objects.current():
        services.retire_zone(actor=None, zone=zone)
    draw_zone(territory.home, box(112.10, 32.0, 112.15, 32.05), "跨")
    with pytest.raises(PartitionJobError, match="cross the outline"):
        jobs.apply_partition(actor=None, job=other)


def test_command_line_partitions_and_applies(territory: Territory, blocks: list[Building]) -> None:
    out = io.StringIO()
    call_command(
        "partition_community",
        territory.home.code,
        "--zones",
        "2",
        "--apply",
        "-v",
        "0",
        stdout=out,
    )
    text = out.getvalue()
    assert ": 2 zones, max/mean " in text and "buildings cut 0" in text
    assert f"applied: 2 zones, {territory.home.code}001–{territory.home.code}002" in text
    assert Zone.objects.current().count() == 2


def test_a_multi_part_community_shares_the_zones_by_workload(territory: Territory) -> None:
    """Three parts: the west one with four buildings (8 rooms), the middle one with two
    (4 rooms), the east one with none. Three zones: two west, one in the middle; the empty part
    joins the nearest zone."""
    parts = [box(112.15, 32.0, 112.16, 32.01), box(112.17, 32.0, 112.18, 32.01)]
    parts.append(box(112.19, 32.0, 112.195, 32.01))
    islands = CommunityFactory(
        street_office=territory.office,
        code="420606001003",
        name="三岛社区",
        geom=MultiPolygon(*parts, srid=4326),
    )
    for x, y in [(112.151, 32.001), (112.151, 32.008), (112.158, 32.001), (112.158, 32.008)]:
        building = BuildingFactory(footprint=box(x, y, x + 0.0005, y + 0.0005))
        RoomFactory.create_batch(2, building=building)
    for y in (32.001, 32.008):
        building = BuildingFactory(footprint=box(112.175, y, 112.1755, y + 0.0005))
        RoomFactory.create_batch(2, building=building)
    job = jobs.submit_partition(actor=None, community=islands, zones=3, queue=False)
    job = jobs.run_partition(str(job.pk))
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    report = job.result["report"]
    assert (report["zones"], report["parts"], report["buildings"]) == (3, 3, 6)
    assert sorted(report["workloads"]) == [4.0, 4.0, 4.0]
    kinds = sorted(f["geometry"]["type"] for f in job.result["zones"]["features"])
    assert kinds == ["MultiPolygon", "Polygon", "Polygon"]
    jobs.apply_partition(actor=None, job=job)
    coverage = services.coverage_check(islands.code).communities[0]
    assert coverage.ok, coverage
    assert coverage.zones == 3


@pytest.mark.django_db(transaction=True)
def test_progress_is_written_outside_the_jobs_transaction(
    territory: Territory, caplog: pytest.LogCaptureFixture
) -> None:
    """What the polling page relies on: ``ProgressWriter`` commits through its own connection,
    so the progress survives the job's transaction rolling back, and a row that transaction
    locks makes the write give up (logged) instead of failing or blocking the job."""
    job = jobs.submit_partition(actor=None, community=territory.home, zones=1, queue=False)
    writer = ProgressWriter(PartitionJob, job.pk, interval=0)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            writer(3, 10)
            raise RuntimeError("the job's transaction rolls back")
        with transaction.atomic():
            PartitionJob.objects.select_for_update().get(pk=job.pk)
            writer(4, 10)
    finally:
        writer.close()
    job.refresh_from_db()
    assert (job.progress_done, job.progress_total) == (3, 10)
    assert "progress not written" in caplog.text
