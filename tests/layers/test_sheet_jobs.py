"""Field packs end to end: submitted through the API, run as the background job, downloaded as
PDF (text read back with pypdf: door plates, addresses, grid references match the data) and as
GeoPackage (read back with pyogrio), a failed job, the retention of old packs, the command line.
"""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from gis.models import Building, Role
from gis.progress import JobStatus
from grid.models import Sweep
from layers.models import SheetJob
from layers.sheets import jobs


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _client(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _text(pdf: bytes) -> str:
    """The PDF's text as pypdf reads it (it puts a NUL before each character of fpdf2's CID
    fonts, which poppler's pdftotext reads right: the NULs go)."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "\n".join(page.extract_text() or "" for page in pages).replace("\x00", "")


def _download(api: APIClient, url: str) -> bytes:
    response = api.get(url)
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content)


def test_a_team_pack_through_the_api(
    sweep: Sweep, users: dict[str, Any], django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    worker = _client(users[Role.COMMUNITY_WORKER])
    first = sweep.teams.order_by("pk").first()
    assert first is not None
    with django_capture_on_commit_callbacks(execute=True):
        submitted = worker.post(
            reverse("sheet-list"),
            {"kind": "team_day", "sweep": sweep.pk, "team": first.pk},
            format="json",
        )
    assert submitted.status_code == 202, submitted.content
    body = worker.get(submitted.json()["url"]).json()
    assert (body["status"], body["percent"], body["error"]) == ("succeeded", 100, None), body
    assert body["pages"] >= 3 and body["sheets"] >= 1
    pdf = _download(worker, body["pdf"])
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    plan_stops = list(
        sweep.plans.get().stops.filter(team=first).order_by("seq").select_related("building")
    )
    job = SheetJob.objects.get(pk=body["id"])
    gpkg = Path(job.gpkg.path)
    buildings = pyogrio.read_dataframe(gpkg, layer="buildings")
    stops = pyogrio.read_dataframe(gpkg, layer="stops")
    rooms = pyogrio.read_dataframe(gpkg, layer="rooms", read_geometry=False)
    assert list(stops["building_id"]) == [s.building_id for s in plan_stops]
    assert sorted(buildings["building_id"]) == sorted(s.building_id for s in plan_stops)
    assert len(rooms) == 3 * len(plan_stops)
    for stop in plan_stops:
        match = buildings[buildings["building_id"] == stop.building_id].iloc[0]
        # The door plate and full address are printed, and the grid reference the PDF prints
        # next to the building is the one of the GeoPackage.
        assert match["door_plate"] in text
        assert match["address"] in text
        assert match["grid_ref"] and match["grid_ref"] in text
    # The downloads are the submitter's alone.
    other = _client(users[Role.STREET_SUPERVISOR])
    assert other.get(body["url"]).status_code == 404
    assert other.get(body["pdf"]).status_code == 404
    listed = worker.get(reverse("sheet-list")).json()
    assert [row["id"] for row in listed] == [body["id"]]
    assert other.get(reverse("sheet-list")).json() == []


def test_a_building_gone_before_its_pack_runs_fails_cleanly(
    sweep: Sweep, users: dict[str, Any], territory: Any
) -> None:
    job, _created = jobs.submit_pack(
        users[Role.COMMUNITY_WORKER],
        {"kind": "building", "building": territory.home_building.pk},
        queue=False,
    )
    Building.objects.filter(pk=territory.home_building.pk).delete()
    # The job went with its building (CASCADE): nothing is left to run.
    assert not SheetJob.objects.filter(pk=job.pk).exists()

    job, _created = jobs.submit_pack(
        users[Role.COMMUNITY_WORKER], {"kind": "sweep", "sweep": sweep.pk}, queue=False
    )
    sweep.plans.all().delete()  # re-planned away meanwhile
    job = jobs.run_pack(str(job.pk))
    assert job.status == JobStatus.FAILED
    assert "plan" in job.error_en and job.error_zh and job.error_zh != job.error_en
    assert not job.pdf and not job.gpkg


def test_old_packs_are_deleted_with_their_files(
    territory: Any, users: dict[str, Any], media: Path
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    options = {"kind": "building", "building": territory.home_building.pk}
    old, _created = jobs.submit_pack(worker, options, queue=False)
    old = jobs.run_pack(str(old.pk))
    assert old.status == JobStatus.SUCCEEDED, old.error_en
    files = [Path(old.pdf.path), Path(old.gpkg.path)]
    assert all(f.exists() for f in files)
    SheetJob.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=31)
    )
    _fresh, created = jobs.submit_pack(worker, options, queue=False)
    assert created
    assert not SheetJob.objects.filter(pk=old.pk).exists()
    assert not any(f.exists() for f in files)


def test_the_command_line_writes_both_files(
    sweep: Sweep, users: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "pack.pdf"
    stdout = io.StringIO()
    call_command("map_sheets", "--sweep", str(sweep.pk), "--output", str(out), stdout=stdout)
    assert out.read_bytes().startswith(b"%PDF")
    assert {name for name, _kind in pyogrio.list_layers(out.with_suffix(".gpkg"))} >= {
        "buildings",
        "stops",
        "route",
        "sheets",
        "rooms",
    }
    assert "pages" in stdout.getvalue()
