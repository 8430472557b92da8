"""Exports of buildings, streets and boundaries round-trip through the importers without loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.gis.geos import GEOSGeometry

from data.exports.vector import FORMATS, export_layer
from data.models import JobStatus
from gis import services
from gis.models import Building, Community, Role, Street

from ..conftest import Territory
from ..factories import UserFactory, box
from .conftest import RunImport

# Coordinates with all their digits: a lossy writer (rounding to 6 or 7 decimals) would show.
ODD = 0.000123456789012345


@pytest.fixture
def register(territory: Territory) -> dict[str, Any]:
    for i in range(4):
        x, y = 112.101 + i * 0.003 + ODD, 32.021 + ODD * i
        services.save_building(
            actor=None,
            data={
                "footprint": box(x, y, x + 0.0004, y + 0.0003),
                "name": f"{i + 1}号楼",
                "floors_above": 3 + i,
                "floors_below": i % 2,
                "use": "mixed",
                "source_id": f"survey:{i}",
            },
        )
    line = GEOSGeometry(
        f"SRID=4326;LINESTRING({112.10 + ODD} 32.02, 112.14 {32.02 + ODD}, 112.145 32.03)"
    )
    services.save_street(
        actor=None,
        data={
            "name": "人民路",
            "kind": "arterial",
            "centerline": line,
            "source_id": "survey:road-1",
        },
    )
    admin = UserFactory(username="district", grants=[(Role.DISTRICT_ADMIN, "420606")])
    return {"admin": admin}


def _rows(model: Any, *fields: str, geometry: str) -> list[tuple[Any, ...]]:
    return sorted(
        (
            (*values[:-1], bytes(values[-1].wkb))
            for values in model.objects.values_list(*fields, geometry)
        ),
        key=repr,
    )


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_buildings_and_streets_round_trip(
    fmt: str, run_import: RunImport, register: dict[str, Any], tmp_path: Path
) -> None:
    admin = register["admin"]
    fields = ("source_id", "name", "floors_above", "floors_below", "use")
    for layer, model, geometry in (
        ("buildings", Building, "footprint"),
        ("streets", Street, "centerline"),
    ):
        before = _rows(
            model, *fields[:2], *(fields[2:] if model is Building else ("kind",)), geometry=geometry
        )
        data, name = export_layer(layer, fmt, admin)  # type: ignore[arg-type]
        path = tmp_path / name
        path.write_bytes(data)
        again = run_import(layer, path, actor=admin)
        assert again.status == JobStatus.SUCCEEDED, again.error_en
        assert (again.rows_created, again.rows_updated, again.rows_rejected) == (0, 0, 0)
        assert again.rows_unchanged == model.objects.count()
        # Into an empty register: rows from outside sources come back bit for bit.
        model.objects.filter(source_id__startswith="survey:").delete()
        fresh = run_import(layer, path, actor=admin)
        assert fresh.rows_created == len([r for r in before if r[0] and r[0].startswith("survey:")])
        after = _rows(
            model, *fields[:2], *(fields[2:] if model is Building else ("kind",)), geometry=geometry
        )
        assert after == before


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_boundaries_round_trip(
    fmt: str, run_import: RunImport, register: dict[str, Any], tmp_path: Path
) -> None:
    data, name = export_layer("boundaries", fmt, register["admin"])  # type: ignore[arg-type]
    path = tmp_path / name
    path.write_bytes(data)
    job = run_import("boundaries", path, actor=register["admin"])
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    assert (job.rows_read, job.rows_unchanged) == (4, 4)  # district, office, two communities


def test_exports_hold_only_the_users_territory(
    register: dict[str, Any], territory: Territory
) -> None:
    worker = UserFactory(username="w", grants=[(Role.COMMUNITY_WORKER, territory.home.code)])
    data, _name = export_layer("buildings", "geojson", worker)
    import orjson

    communities = {f["properties"]["community_code"] for f in orjson.loads(data)["features"]}
    assert communities == {territory.home.code}
    data, _name = export_layer("boundaries", "geojson", worker)
    codes = {f["id"] for f in orjson.loads(data)["features"]}
    assert territory.away.code not in codes and territory.home.code in codes
    assert Community.objects.count() == 2
