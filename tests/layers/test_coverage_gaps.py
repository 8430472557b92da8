"""GET /api/coverage/gaps/: each gap layer row by row against the rows themselves, scope, zones,
windows, bbox, pagination, GeoJSON, the workbook, bad parameters."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from gis.models import RENTED_USES, Building, DoorPlate, Role
from grid.models import AssignmentRole, RoomVisitState, Zone
from layers.coverage import gaps
from registry import services as registry_services

from ..conftest import Territory
from ..factories import UserFactory
from ..grid.factories import AssignmentFactory, StaffFactory
from ..registry.factories import id_number, resident
from .coverage_data import CoverageData, building_figures, make_coverage_data, since_of

HOME, AWAY, OFFICE = "420606001001", "420606001002", "420606001"


@pytest.fixture
def data(territory: Territory) -> CoverageData:
    return make_coverage_data(territory)


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def get(user: Any, **params: Any) -> Any:
    return api(user).get(reverse("coverage-gaps"), params)


def rows(user: Any, **params: Any) -> list[dict[str, Any]]:
    response = get(user, page_size=1000, **params)
    assert response.status_code == 200, response.content[:300]
    return response.json()["results"]


def names_of(data: CoverageData, found: list[dict[str, Any]], key: str = "building_id"):
    by_pk = {b.pk: name for name, b in data.buildings.items()}
    return [by_pk[r[key]] for r in found]


def address(building: Building) -> str | None:
    return Building.objects.filter(pk=building.pk).values_list(
        DoorPlate.objects.building_address(building.pk), flat=True
    )[0]


def building_row(data: CoverageData, name: str, **extra: Any) -> dict[str, Any]:
    building = Building.objects.select_related("community").get(pk=data.buildings[name].pk)
    plates = DoorPlate.objects.filter(building=building, room__isnull=True).order_by("pk")
    return {
        "building_id": building.pk,
        "name": building.name,
        "address": plates[0].address if plates else None,
        "community": building.community.code,
        "community_name": building.community.name,
        "rooms": building.rooms.count(),
        **extra,
    }


# ---- the kinds, row by row -----------------------------------------------------------------


def test_never_visited_buildings(data: CoverageData, users: dict[str, Any]) -> None:
    admin = users[Role.DISTRICT_ADMIN]
    found = rows(admin, code=OFFICE, kind="never_visited_buildings")
    # a3: three rooms, one visited (not seen): never seen. Buildings without rooms are no gap.
    yesterday = data.today.toordinal() - 1
    assert found == [
        building_row(data, "a3", last_visited_on=data.today.fromordinal(yesterday).isoformat())
    ]


@pytest.mark.parametrize("days", [7, 30, 90, None])
def test_unseen_buildings(data: CoverageData, users: dict[str, Any], days: int | None) -> None:
    admin = users[Role.DISTRICT_ADMIN]
    found = rows(admin, code=OFFICE, kind="unseen_buildings", days=days or "all")
    since = since_of(data.today, days)
    expected = []
    for name in ("a1", "a2", "a3", "b", "c"):
        figures = building_figures(data.buildings[name], since=since)
        if figures["gaps"]:
            last = figures["last_seen_on"]
            expected.append(
                building_row(
                    data,
                    name,
                    seen=figures["seen"],
                    gaps=figures["gaps"],
                    share=round(figures["seen"] / figures["rooms"], 4),
                    last_seen_on=last.isoformat() if last else None,
                )
            )
    expected.sort(key=lambda r: (r["community"], -r["gaps"], r["building_id"]))
    assert found == expected
    assert get(admin, code=OFFICE, kind="unseen_buildings", days=days or "all").json()["since"] == (
        since.isoformat() if since else None
    )


def test_unseen_buildings_in_a_week(data: CoverageData, users: dict[str, Any]) -> None:
    """a2's rooms were all seen yesterday: no gap this week; the others all have some."""
    found = rows(users[Role.DISTRICT_ADMIN], code=OFFICE, kind="unseen_buildings", days=7)
    assert sorted(names_of(data, found)) == ["a1", "a3", "b", "c"]


def test_no_plate_buildings(data: CoverageData, users: dict[str, Any]) -> None:
    """Buildings with rented rooms and no 人口 plate: a1 (a plain plate), a3 (no plate), c;
    not a2 (its plate is up) nor b (no rented room)."""
    found = rows(users[Role.DISTRICT_ADMIN], code=OFFICE, kind="no_plate_buildings")
    expected = []
    for name, rented in (("a1", 2), ("a3", 1), ("c", 1)):
        last = building_figures(data.buildings[name], since=None)["last_seen_on"]
        expected.append(
            building_row(
                data, name, rented_rooms=rented, last_seen_on=last.isoformat() if last else None
            )
        )
    expected.sort(key=lambda r: (r["community"], r["building_id"]))
    assert found == expected


def test_zones_without_responsible(data: CoverageData, users: dict[str, Any]) -> None:
    admin = users[Role.DISTRICT_ADMIN]
    found = rows(admin, code=HOME, kind="zones_without_responsible")
    west = data.west
    assert found == [
        {
            "zone_id": west.pk,
            "code": west.code,
            "name": "西网格",
            "kind": west.kind,
            "community": HOME,
            "community_name": "人民路社区",
            "rooms": 6 + 4 + 3,  # a1, a2, a3
        }
    ]
    # A responsible person whose assignment ended, or who left, does not count.
    staff = StaffFactory(community=data.territory.home, active=False)
    AssignmentFactory(staff=staff, role=AssignmentRole.RESPONSIBLE, zone=west)
    assert len(rows(admin, code=HOME, kind="zones_without_responsible")) == 1
    AssignmentFactory(
        staff=StaffFactory(community=data.territory.home),
        role=AssignmentRole.RESPONSIBLE,
        zone=west,
    )
    assert rows(admin, code=HOME, kind="zones_without_responsible") == []


def test_zone_layer_geometry_is_the_zone(data: CoverageData, users: dict[str, Any]) -> None:
    body = get(
        users[Role.DISTRICT_ADMIN], code=HOME, kind="zones_without_responsible", format="geojson"
    ).json()
    (feature,) = body["features"]
    zone = Zone.objects.get(pk=data.west.pk)
    assert feature["geometry"]["type"] == "MultiPolygon"
    ring = feature["geometry"]["coordinates"][0][0]
    expected = [v for corner in zone.geom[0][0].coords for v in corner]
    assert [v for corner in ring for v in corner] == pytest.approx(expected)


def test_overdue_rooms(data: CoverageData, users: dict[str, Any]) -> None:
    found = rows(users[Role.DISTRICT_ADMIN], code=OFFICE, kind="overdue_rooms")
    now = timezone.now()
    states = RoomVisitState.objects.filter(
        room__building__community__code__startswith=OFFICE
    ).select_related("room__building__community")
    expected = []
    for state in states:
        overdue = state.revisit_after is not None and state.revisit_after < now
        if not (overdue or state.flagged):
            continue
        room = state.room
        plate = DoorPlate.objects.filter(room=room).first()
        expected.append(
            {
                "room_id": room.pk,
                "building_id": room.building_id,
                "address": address(room.building),
                "door_plate": plate.address if plate else None,
                "floor": room.floor,
                "room_number": room.number,
                "community": room.building.community.code,
                "community_name": room.building.community.name,
                "revisit_after": timezone.localtime(state.revisit_after).isoformat()
                if state.revisit_after
                else None,
                "overdue": overdue,
                "flagged": state.flagged,
                "failed_attempts": state.failed_attempts,
                "last_visited_on": state.last_visited_on.isoformat(),
                "last_seen_on": state.last_seen_on.isoformat() if state.last_seen_on else None,
            }
        )
    expected.sort(
        key=lambda r: (r["revisit_after"] is None, r["revisit_after"] or "", r["room_id"])
    )
    assert found == expected
    assert {r["room_id"] for r in found} == {
        data.rooms["a1"][3].pk,  # overdue
        data.rooms["a3"][0].pk,  # flagged
        data.rooms["c"][1].pk,  # overdue, away
    }


# ---- scope, nodes, box ---------------------------------------------------------------------


def test_worker_gets_own_part_of_a_node_above(data: CoverageData, users: dict[str, Any]):
    worker = users[Role.COMMUNITY_WORKER]
    for kind in gaps.KINDS:
        above = rows(worker, code=OFFICE, kind=kind)
        assert above == rows(worker, code=HOME, kind=kind)
        assert all(r["community"] == HOME for r in above)
    assert "c" not in names_of(data, rows(worker, code=OFFICE, kind="unseen_buildings"))


def test_node_beside_the_territory_is_not_found(data: CoverageData, users: dict[str, Any]):
    response = get(users[Role.COMMUNITY_WORKER], code=AWAY, kind="unseen_buildings")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_unknown_node_is_not_found(data: CoverageData, users: dict[str, Any]) -> None:
    response = get(users[Role.DISTRICT_ADMIN], code="420606001009", kind="unseen_buildings")
    assert response.status_code == 404


def test_zone_node_holds_the_buildings_it_covers(data: CoverageData, users: dict[str, Any]):
    admin = users[Role.DISTRICT_ADMIN]
    west = rows(admin, code=data.west.code, kind="unseen_buildings")
    east = rows(admin, code=data.east.code, kind="unseen_buildings")
    assert sorted(names_of(data, west)) == ["a1", "a3"]  # a2: no gap of all time
    assert names_of(data, east) == ["b"]
    assert rows(admin, code=data.east.code, kind="zones_without_responsible") == []


def test_bbox_keeps_rows_reaching_into_it(data: CoverageData, users: dict[str, Any]) -> None:
    admin = users[Role.DISTRICT_ADMIN]
    found = rows(admin, code=OFFICE, kind="unseen_buildings", bbox="112.13,32.03,112.15,32.05")
    assert names_of(data, found) == ["b"]


def test_user_without_grants_gets_not_found(data: CoverageData) -> None:
    nobody = UserFactory(username="nobody")
    assert get(nobody, code=HOME, kind="unseen_buildings").status_code == 404


# ---- formats -------------------------------------------------------------------------------


def test_pages(data: CoverageData, users: dict[str, Any]) -> None:
    admin = users[Role.DISTRICT_ADMIN]
    body = get(admin, code=OFFICE, kind="unseen_buildings", page_size=2).json()
    assert body["count"] == 4 and len(body["results"]) == 2 and body["next"]  # a1 a3 b c
    assert body["kind"] == "unseen_buildings" and body["code"] == OFFICE
    second = api(admin).get(body["next"]).json()
    assert second["next"] is None and second["previous"]
    everything = rows(admin, code=OFFICE, kind="unseen_buildings")
    assert body["results"] + second["results"] == everything


def test_geojson(data: CoverageData, users: dict[str, Any]) -> None:
    admin = users[Role.DISTRICT_ADMIN]
    response = get(admin, code=OFFICE, kind="no_plate_buildings", format="geojson")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["count"] == 3
    listed = rows(admin, code=OFFICE, kind="no_plate_buildings")
    assert [f["properties"] for f in body["features"]] == listed
    for feature in body["features"]:
        building = Building.objects.get(pk=feature["id"])
        assert feature["geometry"]["type"] == "Point"
        assert feature["geometry"]["coordinates"] == pytest.approx(
            [building.centroid.x, building.centroid.y]
        )


def test_workbook(data: CoverageData, users: dict[str, Any]) -> None:
    admin = users[Role.DISTRICT_ADMIN]
    response = get(admin, code=OFFICE, kind="unseen_buildings", days=30, format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert lines[0][0] == "窗口内有未走访房间的楼栋"
    assert f"（{OFFICE}）" in lines[1][0] and lines[1][1] == "近30天"
    assert lines[2] == [header for _key, header in gaps.COLUMNS["unseen_buildings"]]
    assert lines[2][:3] == ["楼栋编号", "楼栋名称", "标准地址"]
    listed = rows(admin, code=OFFICE, kind="unseen_buildings", days=30)
    assert lines[3:] == [list(r.values()) for r in listed]


def test_workbook_of_rooms_writes_yes_and_no(data: CoverageData, users: dict[str, Any]) -> None:
    admin = users[Role.DISTRICT_ADMIN]
    response = get(admin, code=OFFICE, kind="overdue_rooms", format="xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    lines = list(sheet.iter_rows(values_only=True))
    header = list(lines[2])
    overdue, flagged = header.index("逾期"), header.index("已报责任人")
    assert sorted((line[overdue], line[flagged]) for line in lines[3:]) == [
        ("否", "是"),
        ("是", "否"),
        ("是", "否"),
    ]


# ---- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"code": HOME, "kind": "rented_without_occupant"}, "bad_kind", "kind"),
        ({"code": HOME}, "bad_kind", "kind"),
        ({"code": "4206", "kind": "unseen_buildings"}, "bad_code", "code"),
        ({"kind": "unseen_buildings"}, "bad_code", "code"),
        ({"code": HOME, "kind": "unseen_buildings", "days": 5}, "bad_days", "days"),
        ({"code": HOME, "kind": "unseen_buildings", "format": "csv"}, "bad_format", "format"),
        ({"code": HOME, "kind": "unseen_buildings", "bbox": "1,2,3"}, "bad_bbox", "bbox"),
    ],
)
def test_bad_parameters(
    data: CoverageData, users: dict[str, Any], params: dict[str, Any], code: str, field: str
) -> None:
    response = get(users[Role.DISTRICT_ADMIN], **params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and body["field"] == field
    assert body["detail_zh"] and body["detail_en"]


@pytest.mark.parametrize("fmt", ["xlsx", "geojson"])
def test_refusal_of_a_file_format_is_json(
    data: CoverageData, users: dict[str, Any], fmt: str
) -> None:
    """``?format=`` names the file (gis.api.renderers.FormatIsOurs), not a renderer: a refusal is JSON."""
    response = get(users[Role.DISTRICT_ADMIN], code="4206", kind="unseen_buildings", format=fmt)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "bad_code"


@pytest.mark.parametrize(
    ("page", "status", "code"),
    [
        ("abc", 400, "bad_page"),
        ("-1", 400, "bad_page"),
        ("0", 404, "no_page"),
        ("99", 404, "no_page"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "geojson"])
def test_bad_page(
    data: CoverageData, users: dict[str, Any], page: str, status: int, code: str, fmt: str
) -> None:
    admin = users[Role.DISTRICT_ADMIN]
    response = get(admin, code=OFFICE, kind="unseen_buildings", page=page, format=fmt)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code and body["field"] == "page"
    assert page in body["detail_en"] and page in body["detail_zh"]
    if code == "no_page":  # 4 rows, 100 a page
        assert "last page of this list is 1" in body["detail_en"]
        response = get(admin, code=OFFICE, kind="unseen_buildings", page=page, page_size=3)
        assert "last page of this list is 2" in response.json()["detail_en"]


def test_last_page(data: CoverageData, users: dict[str, Any]) -> None:
    admin = users[Role.DISTRICT_ADMIN]
    body = get(admin, code=OFFICE, kind="unseen_buildings", page="last", page_size=3).json()
    assert len(body["results"]) == 1 and body["next"] is None


def test_anonymous_is_refused(data: CoverageData) -> None:
    response = APIClient().get(reverse("coverage-gaps"), {"code": HOME, "kind": "unseen_buildings"})
    assert response.status_code == 403


def test_only_get(data: CoverageData, users: dict[str, Any]) -> None:
    response = api(users[Role.DISTRICT_ADMIN]).post(reverse("coverage-gaps"), {})
    assert response.status_code == 405


# ---- rented rooms with no registered occupant (the people register) -----------------------


def test_rented_rooms_without_occupant(data: CoverageData, users: dict[str, Any]) -> None:
    """Rented rooms in which nobody is registered as living now: a1 has two, one with a tenant
    (1 left); a2's tenant moved out (1); a3 and c have nobody (1 each); b has no rented room.
    A resident of an owner-occupied room changes nothing."""
    rented = {name: [r for r in data.rooms[name] if r.use in RENTED_USES] for name in data.rooms}
    resident(rented["a1"][0], id_number=id_number(datetime.date(1981, 1, 1)))
    gone = resident(rented["a2"][0], id_number=id_number(datetime.date(1982, 1, 1)))
    registry_services.move_out(None, gone, on=datetime.date(2024, 6, 1))
    owner = next(r for r in data.rooms["b"] if r.use not in RENTED_USES)
    resident(owner, id_number=id_number(datetime.date(1983, 1, 1)))
    expected = []
    for name, n_rented, unoccupied in (("a1", 2, 1), ("a2", 1, 1), ("a3", 1, 1), ("c", 1, 1)):
        last = building_figures(data.buildings[name], since=None)["last_seen_on"]
        expected.append(
            building_row(
                data,
                name,
                rented_rooms=n_rented,
                unoccupied_rooms=unoccupied,
                last_seen_on=last.isoformat() if last else None,
            )
        )
    expected.sort(key=lambda r: (r["community"], -r["unoccupied_rooms"], r["building_id"]))
    kind = "rented_rooms_without_occupant"
    assert rows(users[Role.DISTRICT_ADMIN], code=OFFICE, kind=kind) == expected
    # A worker: the home community's part; the other community's node is not found.
    worker = users[Role.COMMUNITY_WORKER]
    assert rows(worker, code=OFFICE, kind=kind) == [r for r in expected if r["community"] == HOME]
    assert get(worker, code=AWAY, kind=kind).status_code == 404
    # Pages, GeoJSON and the workbook read the rows in the personal context too.
    admin = users[Role.DISTRICT_ADMIN]
    body = get(admin, code=OFFICE, kind=kind, page=2, page_size=3).json()
    assert body["count"] == 4 and [r["building_id"] for r in body["results"]] == [
        expected[3]["building_id"]
    ]
    features = get(admin, code=OFFICE, kind=kind, format="geojson").json()["features"]
    assert [f["id"] for f in features] == [r["building_id"] for r in expected]
    response = get(admin, code=OFFICE, kind=kind, format="xlsx")
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "出租屋无登记住户的楼栋"
    assert "无登记住户的出租屋" in values[2]
    assert len(values) == 3 + 4


def test_rented_rooms_without_occupant_reads_no_personal_row(
    data: CoverageData, users: dict[str, Any]
) -> None:
    """The rows are counts per building: no resident's field is in them."""
    room = next(r for r in data.rooms["a1"] if r.use in RENTED_USES)
    resident(room, name="秘密租户", id_number=id_number(datetime.date(1984, 1, 1)))
    found = rows(users[Role.DISTRICT_ADMIN], code=OFFICE, kind="rented_rooms_without_occupant")
    assert "秘密租户" not in str(found)
    assert set(found[0]) == {key for key, _header in gaps.COLUMNS["rented_rooms_without_occupant"]}
