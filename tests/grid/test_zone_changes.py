"""Several zone changes in one request (``POST /api/zones/changes/``) and the cut and merge tools.

The ``home`` community is the box 112.10–112.15 E × 32.00–32.05 N; its building stands at
112.111–112.112 E × 32.011–32.012 N.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from gis.models import Role
from grid.models import Zone

from ..conftest import Territory
from ..factories import box
from .factories import draw_zone


def _gj(geom: Any) -> dict[str, Any]:
    return json.loads(geom.json)


@pytest.fixture
def worker(users: dict[str, Any]) -> APIClient:
    api = APIClient()
    api.force_authenticate(users[Role.COMMUNITY_WORKER])
    return api


@pytest.fixture
def halves(territory: Territory) -> tuple[Zone, Zone]:
    """The ``home`` community split into a west (001) and an east (002) zone."""
    west = draw_zone(territory.home, box(112.10, 32.00, 112.125, 32.05), "西")
    east = draw_zone(territory.home, box(112.125, 32.00, 112.15, 32.05), "东")
    return west, east


def _post(api: APIClient, community: str, changes: Any, dry_run: bool = False) -> Any:
    body = {"community": community, "dry_run": dry_run, "changes": changes}
    return api.post(reverse("zone-changes"), body, format="json")


def test_dry_run_validates_without_writing_then_the_save_writes(
    worker: APIClient, territory: Territory
) -> None:
    changes = [
        {"geom": _gj(box(112.10, 32.00, 112.125, 32.05)), "name": "西"},
        {"geom": _gj(box(112.125, 32.00, 112.15, 32.05)), "name": "东", "kind": "employer"},
    ]
    dry = _post(worker, territory.home.code, changes, dry_run=True)
    assert dry.status_code == 200, dry.content
    body = dry.json()
    assert (body["ok"], body["saved"], body["errors"]) == (True, False, [])
    assert body["coverage"]["code"] == territory.home.code
    assert (body["coverage"]["zones"], body["coverage"]["uncovered_m2"]) == (2, 0.0)
    assert body["coverage"]["ok"] is True
    props = [f["properties"] for f in body["zones"]["features"]]
    assert [(p["id"], p["code"], p["name"], p["kind"]) for p in props] == [
        (None, "", "西", "resident_group"),
        (None, "", "东", "employer"),
    ]
    assert Zone.objects.count() == 0

    saved = _post(worker, territory.home.code, changes)
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert (body["ok"], body["saved"]) == (True, True)
    codes = sorted(Zone.objects.current().values_list("code", flat=True))
    assert codes == ["420606001001001", "420606001001002"]
    assert sorted(f["properties"]["code"] for f in body["zones"]["features"]) == codes
    assert all(f["properties"]["id"] for f in body["zones"]["features"])


def test_every_problem_is_reported_and_nothing_is_written(
    worker: APIClient, territory: Territory, halves: tuple[Zone, Zone]
) -> None:
    west, east = halves
    changes = [
        # West reaches 0.01° south of the community: outside; and new-1 overlaps it.
        {"id": west.pk, "geom": _gj(box(112.10, 31.99, 112.125, 32.05)), "name": "西改"},
        {"geom": _gj(box(112.115, 32.03, 112.12, 32.04)), "name": "新一"},
        {"geom": _gj(box(112.13, 32.03, 112.135, 32.04)), "name": "新二"},
    ]
    response = _post(worker, territory.home.code, changes)
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["ok"], body["saved"]) == (False, False)
    found = [(e["code"], e["zones"], e["change"]) for e in body["errors"]]
    assert found == [
        ("zone_outside_community", [west.code], 0),
        ("zone_overlap", [west.code, "new-1"], 0),
        ("zone_overlap", ["new-2", east.code], 2),
    ]
    overlap = body["errors"][2]
    assert overlap["detail_en"].startswith(f"Zone new-2 overlaps zones {east.code} by ")
    assert overlap["detail_zh"] and overlap["field"] == "geom"
    assert overlap["geometry"]["type"] == "Polygon"
    assert "420606001001003" not in json.dumps(body["errors"])  # a temporary code
    # The zones as they would be: the first error's zone changed, two new zones without codes.
    names = sorted(f["properties"]["name"] for f in body["zones"]["features"])
    assert names == ["东", "新一", "新二", "西改"]
    # Nothing written: the zones are as they were, no zone was added, no history recorded.
    assert Zone.objects.count() == 2
    west.refresh_from_db()
    assert (west.name, west.geom.extent) == ("西", (112.10, 32.00, 112.125, 32.05))


def test_a_dry_run_with_problems_answers_200(
    worker: APIClient, territory: Territory, halves: tuple[Zone, Zone]
) -> None:
    same = {"geom": _gj(box(112.13, 32.03, 112.135, 32.04)), "name": "重复"}
    changes = [{"id": halves[1].pk, "retire": True}, same, same]
    response = _post(worker, territory.home.code, changes, dry_run=True)
    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["saved"]) == (False, False)
    # The same zone submitted twice overlaps itself; the east half is retired, so only that.
    assert [(e["code"], e["zones"], e["change"]) for e in body["errors"]] == [
        ("zone_overlap", ["new-1", "new-2"], 1)
    ]
    assert Zone.objects.current().count() == 2


def test_retire_and_create_in_one_request(
    worker: APIClient, territory: Territory, halves: tuple[Zone, Zone]
) -> None:
    west, east = halves
    changes = [
        {"id": west.pk, "retire": True},
        {"id": east.pk, "retire": True},
        {"geom": _gj(box(112.10, 32.00, 112.15, 32.05)), "name": "全"},
    ]
    response = _post(worker, territory.home.code, changes)
    assert response.status_code == 200, response.content
    current = list(Zone.objects.current().values_list("code", "name"))
    assert current == [("420606001001003", "全")]
    assert Zone.objects.filter(valid_to__isnull=False).count() == 2
    assert response.json()["coverage"]["ok"] is True


def test_scope_and_malformed_requests(
    worker: APIClient, users: dict[str, Any], territory: Territory, halves: tuple[Zone, Zone]
) -> None:
    away = draw_zone(territory.away, box(112.10, 32.05, 112.15, 32.10), "外")
    renamed = [{"id": away.pk, "name": "改"}]
    assert _post(worker, territory.home.code, renamed).status_code == 404
    assert _post(worker, territory.away.code, renamed).status_code == 404
    reader = APIClient()
    reader.force_authenticate(users[Role.READ_ONLY])
    own = [{"id": halves[0].pk, "name": "改"}]
    assert _post(reader, territory.home.code, own).status_code == 403
    bad = _post(worker, territory.home.code, "nothing")
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (
        400,
        "bad_change",
        "changes",
    )
    geom = _post(worker, territory.home.code, [{"geom": {"type": "Polygon"}, "name": "x"}])
    assert geom.status_code == 400 and geom.json()["field"] == "changes.0.geom"
    twice = _post(worker, territory.home.code, [*own, *own])
    assert twice.status_code == 400 and "again" in twice.json()["detail_en"]
    code = _post(worker, "4206", own)
    assert code.status_code == 400 and code.json()["field"] == "community"
    assert Zone.objects.filter(name="改").count() == 0


def test_cut_returns_the_pieces_largest_first(worker: APIClient) -> None:
    zone = _gj(box(112.10, 32.00, 112.15, 32.05))
    line = {"type": "LineString", "coordinates": [[112.12, 31.99], [112.12, 32.06]]}
    response = worker.post(reverse("zone-cut"), {"geom": zone, "line": line}, format="json")
    assert response.status_code == 200, response.content
    pieces = response.json()["pieces"]
    assert [p["type"] for p in pieces] == ["Polygon", "Polygon"]
    xs = [sorted({c[0] for c in p["coordinates"][0]}) for p in pieces]
    assert xs == [[112.12, 112.15], [112.1, 112.12]]


def test_a_line_that_does_not_cross_is_refused(worker: APIClient, users: dict[str, Any]) -> None:
    zone = _gj(box(112.10, 32.00, 112.15, 32.05))
    inside = {"type": "LineString", "coordinates": [[112.12, 31.99], [112.12, 32.02]]}
    response = worker.post(reverse("zone-cut"), {"geom": zone, "line": inside}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "line_does_not_cut")
    bad = worker.post(reverse("zone-cut"), {"geom": zone, "line": [1, 2]}, format="json")
    assert (bad.status_code, bad.json()["field"]) == (400, "line")
    reader = APIClient()  # writes nothing: a read-only user may use it
    reader.force_authenticate(users[Role.READ_ONLY])
    line = {"type": "LineString", "coordinates": [[112.12, 31.99], [112.12, 32.06]]}
    cut = reader.post(reverse("zone-cut"), {"geom": zone, "line": line}, format="json")
    assert cut.status_code == 200, cut.content
    assert len(cut.json()["pieces"]) == 2


def test_merge_neighbours_and_refuse_separate_zones(worker: APIClient) -> None:
    west, east = _gj(box(112.10, 32.00, 112.12, 32.05)), _gj(box(112.12, 32.00, 112.15, 32.05))
    merged = worker.post(reverse("zone-merge"), {"geoms": [west, east]}, format="json")
    assert merged.status_code == 200, merged.content
    geom = merged.json()["geom"]
    assert geom["type"] == "Polygon"
    # The shared edge's end points stay (where other neighbours' vertices may be).
    assert sorted({tuple(c) for c in geom["coordinates"][0]}) == [
        (112.1, 32.0),
        (112.1, 32.05),
        (112.12, 32.0),
        (112.12, 32.05),
        (112.15, 32.0),
        (112.15, 32.05),
    ]
    far = _gj(box(112.13, 32.00, 112.15, 32.05))
    apart = worker.post(reverse("zone-merge"), {"geoms": [west, far]}, format="json")
    assert (apart.status_code, apart.json()["code"]) == (400, "not_neighbours")
    assert apart.json()["geometry"]["type"] == "MultiPolygon"
    one = worker.post(reverse("zone-merge"), {"geoms": [west]}, format="json")
    assert (one.status_code, one.json()["code"]) == (400, "too_few_zones")
    broken = worker.post(reverse("zone-merge"), {"geoms": [west, "east"]}, format="json")
    assert (broken.status_code, broken.json()["field"]) == (400, "geoms.1")


def test_renumber_numbers_the_saved_zones_west_to_east(
    worker: APIClient, territory: Territory
) -> None:
    """Drawn east first, the east zone holds 001; renumbering gives the west zone 001."""
    east = draw_zone(territory.home, box(112.125, 32.00, 112.15, 32.05), "东")
    west = draw_zone(territory.home, box(112.10, 32.00, 112.125, 32.05), "西")
    assert (east.code[-3:], west.code[-3:]) == ("001", "002")
    response = worker.post(
        reverse("zone-renumber"), {"community": territory.home.code}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["codes"] == {east.code: west.code, west.code: east.code}
    assert [
        (f["properties"]["name"], f["properties"]["code"][-3:]) for f in body["zones"]["features"]
    ] == [
        ("西", "001"),
        ("东", "002"),
    ]
    west.refresh_from_db()
    assert (west.code[-3:], west.version) == ("001", 1)  # same row, same version
    # Nothing left to move: a second call changes no code.
    again = worker.post(reverse("zone-renumber"), {"community": territory.home.code}, format="json")
    assert again.json()["codes"] == {}
    # Not a community of the worker's: 404, nothing renumbered.
    away = worker.post(reverse("zone-renumber"), {"community": territory.away.code}, format="json")
    assert away.status_code == 404
