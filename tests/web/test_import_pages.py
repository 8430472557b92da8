"""Import and export pages: upload → job → report, in Chinese and English, scoped to the user."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from data.models import ImportJob, JobStatus
from gis.models import Building, Role

from ..conftest import Territory


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _geojson(*features: tuple[str, tuple[float, float]]) -> bytes:
    return orjson.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": fid,
                    "properties": {"name": f"楼 {fid}", "层数": 6},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [
                                [x, y],
                                [x + 0.0003, y],
                                [x + 0.0003, y + 0.0002],
                                [x, y + 0.0002],
                                [x, y],
                            ]
                        ],
                    },
                }
                for fid, (x, y) in features
            ],
        }
    )


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _upload(client: Client, content: bytes, name: str = "楼栋.geojson", **fields: str) -> Any:
    data = {"kind": "buildings", "convention": "wgs84", "file": SimpleUploadedFile(name, content)}
    return client.post(reverse("import-list"), {**data, **fields})


def test_upload_runs_a_job_and_shows_its_report(
    users: dict[str, Any], territory: Territory, django_capture_on_commit_callbacks: Any
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    client = _client(worker)
    content = _geojson(("a", (112.120, 32.020)), ("b", (112.120, 32.070)), ("c", (113.9, 30.0)))
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, content)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    job.refresh_from_db()
    assert (job.status, job.created_by, job.rows_created, job.rows_rejected) == (
        JobStatus.SUCCEEDED,
        worker,
        1,
        2,
    )
    assert Building.objects.filter(source_id="楼栋:a").exists()

    page = client.get(response["Location"]).content.decode()
    assert "导入报告" in page and "楼栋.geojson" in page
    assert "不在您的管辖范围内" in page  # row 2: the other community, in Chinese
    assert "progressbar" in page and 'aria-valuenow="100"' in page
    english = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    english = client.get(response["Location"]).content.decode()
    assert "Import report" in english and "outside every community" in english

    status = client.get(reverse("import-status", args=[job.pk])).json()
    assert status == {
        "status": "succeeded",
        "status_label": "finished",
        "percent": 100,
        "done": 3,
        "total": 3,
        "finished": True,
    }
    report = client.get(reverse("import-issues-csv", args=[job.pk]))
    text = report.content.decode("utf-8")
    assert text.startswith("\ufeff") and text.count("\r\n") == 3  # header and two rows
    assert client.get(reverse("import-file", args=[job.pk])).getvalue() == content

    # The same file again: nothing changes, and the page says it was imported before.
    with django_capture_on_commit_callbacks(execute=True):
        again = _upload(client, content)
    second = ImportJob.objects.exclude(pk=job.pk).get()
    assert (second.rows_created, second.rows_unchanged) == (0, 1)
    assert str(job.pk) in client.get(again["Location"]).content.decode()


def test_bad_uploads_say_what_is_wrong_in_both_languages(
    users: dict[str, Any], territory: Territory
) -> None:
    client = _client(users[Role.COMMUNITY_WORKER])
    response = _upload(client, b"hello", name="notes.txt")
    assert response.status_code == 400
    page = response.content.decode()
    assert "notes.txt" in page and "use .geojson" in page and "不是此类导入可读的文件" in page
    response = _upload(client, b"", name="empty.geojson")
    assert response.status_code == 400
    response = _upload(client, _geojson(("a", (112.12, 32.02))), source_crs="EPSG:x")
    assert response.status_code == 400 and "EPSG" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_jobs_are_private_and_read_only_users_cannot_import(
    users: dict[str, Any], territory: Territory, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _upload(_client(users[Role.COMMUNITY_WORKER]), _geojson(("a", (112.12, 32.02))))
    job = ImportJob.objects.get()
    other = _client(users[Role.STREET_SUPERVISOR])
    for name in ("import-detail", "import-status", "import-issues-csv", "import-file"):
        assert other.get(reverse(name, args=[job.pk])).status_code == 404
    assert "楼栋" not in other.get(reverse("import-list")).content.decode().split("<h3>")[1]
    reader = _client(users[Role.READ_ONLY])
    page = reader.get(reverse("import-list")).content.decode()
    assert 'type="file"' not in page
    assert _upload(reader, _geojson(("r", (112.12, 32.03)))).status_code == 404
    assert Client().get(reverse("import-list")).status_code == 302  # sign in first


def test_export_downloads_hold_only_the_users_territory(
    users: dict[str, Any], territory: Territory
) -> None:
    client = _client(users[Role.COMMUNITY_WORKER])
    assert "GeoPackage" in client.get(reverse("export-page")).content.decode()
    response = client.get(reverse("export-download", args=["buildings", "geojson"]))
    assert response["Content-Type"] == "application/geo+json"
    features = orjson.loads(response.content)["features"]
    assert {f["properties"]["community_code"] for f in features} == {territory.home.code}
    response = client.get(reverse("export-download", args=["buildings", "gpkg"]))
    assert response.content[:16] == b"SQLite format 3\x00"
    assert client.get("/exports/buildings.shp").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_runs_a_queued_job(users: dict[str, Any], territory: Territory) -> None:
    """The real path: the upload queues a task row; ``db_worker`` picks it up and runs it."""
    backend = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with override_settings(TASKS=backend):
        response = _upload(_client(users[Role.COMMUNITY_WORKER]), _geojson(("w", (112.12, 32.02))))
        job = ImportJob.objects.get()
        assert response.status_code == 302 and job.status == JobStatus.QUEUED
        call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())
    job.refresh_from_db()
    assert (job.status, job.rows_created, job.progress_done, job.progress_total) == (
        JobStatus.SUCCEEDED,
        1,
        1,
        1,
    )
    assert Building.objects.filter(source_id="楼栋:w").exists()


def test_rooms_register_download_is_scoped_and_masked(
    users: dict[str, Any], territory: Territory
) -> None:
    import openpyxl

    from ..factories import LandlordFactory, RoomFactory

    landlord = LandlordFactory(community=territory.home, phone="13812345678")
    RoomFactory(building=territory.home_building, floor=1, number="101", landlord=landlord)
    RoomFactory(building=territory.away_building, floor=1, number="102")
    response = _client(users[Role.COMMUNITY_WORKER]).get(
        reverse("export-download", args=["rooms", "xlsx"])
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and "101" in rows[1] and "138****5678" in rows[1]


def test_jobs_are_read_only_in_the_admin(
    users: dict[str, Any], territory: Territory, django_capture_on_commit_callbacks: Any
) -> None:
    from ..factories import UserFactory

    with django_capture_on_commit_callbacks(execute=True):
        _upload(
            _client(users[Role.COMMUNITY_WORKER]),
            _geojson(("a", (112.12, 32.02)), ("z", (113.9, 30.0))),
        )
    job = ImportJob.objects.get()
    admin = _client(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert "楼栋.geojson" in admin.get("/admin/data/importjob/").content.decode()
    page = admin.get(f"/admin/data/importjob/{job.pk}/change/").content.decode()
    assert "outside_every_community" in page and 'name="_save"' not in page
    assert admin.get("/admin/data/importjob/add/").status_code == 403
