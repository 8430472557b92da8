"""The commands' shared edges (``gis.commands``): an unknown ``--user``, a refused submission and
a failed job all end as a ``CommandError`` that says why in English and Chinese, writing nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from data.models import ImportJob
from grid.models import PartitionJob

from ..conftest import Territory


@pytest.mark.parametrize(
    "args",
    [
        ["export_data", "buildings", "--format", "geojson"],
        ["partition_community", "420606001001", "--zones", "1"],
    ],
)
def test_an_unknown_user_is_refused(territory: Territory, args: list[str]) -> None:
    with pytest.raises(CommandError, match="Unknown user nobody / 无此用户"):
        call_command(*args, "--user", "nobody", stdout=io.StringIO())
    assert not PartitionJob.objects.exists()


def test_a_refused_submission_says_why_in_both_languages(territory: Territory) -> None:
    with pytest.raises(CommandError) as raised:
        call_command("partition_community", "420606999999", "--zones", "2", stdout=io.StringIO())
    english, chinese = str(raised.value).split("\n")
    assert "420606999999" in english and "No community" in english
    assert "420606999999" in chinese and "社区" in chinese
    assert not PartitionJob.objects.exists()


def test_a_failed_job_is_an_error_with_its_message(
    territory: Territory, tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"  # the job keeps its file there
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        call_command("import_data", "buildings", str(broken), "-v", "0", stdout=io.StringIO())
    job = ImportJob.objects.get()
    assert job.status == "failed"
    assert str(raised.value) == f"{job.error_en}\n{job.error_zh}"
