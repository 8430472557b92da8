"""The field-pack page in headless Chromium: a community worker opens it from a building's link
(``/sheets/?building=ID``), sees the building's address, submits, watches the progress bar run
out and downloads the PDF — a real PDF holding the address — with no request for another host.
The test settings run the pack's task at once (``ImmediateBackend``), when the POST commits."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from gis import services
from gis.models import Role
from layers.models import SheetJob

from ..conftest import Territory
from ..factories import RoomFactory
from .test_offline_browser import assert_offline

pytestmark = [pytest.mark.browser]

ADDRESS_ROAD, ADDRESS_NUMBER = "人民路", "88"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def test_a_building_pack_is_made_and_downloaded(
    signed_in: Any, territory: Territory, users: dict[str, Any]
) -> None:
    building = territory.home_building
    plate = services.save_door_plate(
        actor=None, data={"building": building, "road": ADDRESS_ROAD, "number": ADDRESS_NUMBER}
    )
    for number in ("101", "102"):
        RoomFactory(building=building, number=number, floor=1)
    page, guard = signed_in(Role.COMMUNITY_WORKER, f"/sheets/?building={building.pk}")
    assert page.locator("#building-address").inner_text().startswith(plate.address)
    assert page.locator("#new-pack input[name=kind][value=building]").is_checked()
    assert page.input_value("#pack-building") == str(building.pk)
    page.click("#new-pack button[type=submit]")
    row = page.locator("#packs li.pack").first
    row.locator("a[data-format=pdf]").wait_for(timeout=60_000)
    # The bar ran out and stays full, green; the row says what was made.
    assert row.locator("[role=progressbar]").get_attribute("aria-valuenow") == "100"
    assert "status-succeeded" in (row.locator(".progress .bar").get_attribute("class") or "")
    assert "status-succeeded" in (row.get_attribute("class") or "")
    job = SheetJob.objects.get(created_by=users[Role.COMMUNITY_WORKER])
    assert (job.kind, job.building_id, job.status) == ("building", building.pk, "succeeded")
    assert row.locator(".pack-title").inner_text() == plate.address
    with page.expect_download() as download:
        row.locator("a[data-format=pdf]").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    # pypdf reads the subset CJK font's text with a NUL between characters.
    text = "\n".join(p.extract_text() or "" for p in reader.pages).replace("\x00", "")
    assert plate.address in text
    assert len(reader.pages) == job.pages
    assert_offline(guard)
