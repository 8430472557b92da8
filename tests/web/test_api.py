"""The REST API: GeoJSON layers, building detail, errors with one shape, history and undo."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from gis.models import Building, Role, Room

from ..factories import BuildingFactory, EntranceFactory, LandlordFactory, RoomFactory, box


@pytest.fixture
def client_for(users):
    def make(role: str = Role.DISTRICT_ADMIN, language: str = "zh-hans") -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        client.force_authenticate(users[role])
        return client

    return make


def test_building_list_is_a_feature_collection_with_paging(
    territory, client_for, django_assert_max_num_queries
):
    for i in range(5):
        BuildingFactory(footprint=box(112.12 + i * 0.002, 32.02, 112.121 + i * 0.002, 32.021))
    with django_assert_max_num_queries(4):
        body = client_for().get("/api/buildings/", {"page_size": 3}).json()
    assert body["type"] == "FeatureCollection"
    assert body["count"] == 7 and len(body["features"]) == 3 and body["next"]
    feature = body["features"][0]
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Polygon"
    assert set(feature["properties"]) >= {"floors_above", "use", "community", "compound"}


def test_bbox_filter_and_bad_bbox(territory, client_for):
    client = client_for()
    body = client.get("/api/buildings/", {"bbox": "112.11,32.01,112.115,32.015"}).json()
    assert [f["id"] for f in body["features"]] == [territory.home_building.pk]
    response = client.get("/api/buildings/", {"bbox": "112.2,32.0,112.1"})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_bbox"


def test_zoom_simplifies_geometry(territory, client_for):
    # A footprint with many vertices along one edge collapses at a low zoom.
    coords = [(112.120 + i * 0.00001, 32.030 + (i % 2) * 0.000001) for i in range(100)]
    ring = [*coords, (112.121, 32.031), (112.120, 32.031), coords[0]]
    from django.contrib.gis.geos import Polygon

    BuildingFactory(footprint=Polygon(ring, srid=4326))
    client = client_for()
    full = client.get("/api/buildings/", {"bbox": "112.119,32.029,112.122,32.032"}).json()
    simple = client.get(
        "/api/buildings/", {"bbox": "112.119,32.029,112.122,32.032", "zoom": 12}
    ).json()
    assert len(full["features"][0]["geometry"]["coordinates"][0]) == len(ring)
    assert len(simple["features"][0]["geometry"]["coordinates"][0]) < 10
    assert client.get("/api/buildings/", {"zoom": "abc"}).json()["code"] == "bad_zoom"


def test_building_detail_groups_rooms_by_floor(
    territory, client_for, django_assert_max_num_queries
):
    building = territory.home_building
    entrance = EntranceFactory(building=building, number="1")
    for floor in (1, 3, -1):
        RoomFactory(building=building, entrance=entrance, floor=floor, number=f"{floor}01")
    RoomFactory(building=building, entrance=entrance, floor=3, number="302")
    with django_assert_max_num_queries(8):
        body = client_for().get(f"/api/buildings/{building.pk}/").json()
    floors = body["properties"]["floors"]
    assert [f["floor"] for f in floors] == [6, 5, 4, 3, 2, 1, -1]
    assert [r["number"] for r in floors[3]["rooms"]] == ["301", "302"]
    assert floors[2]["rooms"] == []
    assert body["properties"]["entrances"][0]["number"] == "1"


def test_create_building_from_a_feature(territory, client_for):
    feature = {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[112.13, 32.03], [112.131, 32.03], [112.131, 32.031], [112.13, 32.03]]
            ],
        },
        "properties": {"floors_above": 7, "use": "residential", "name": "新楼"},
    }
    response = client_for(Role.COMMUNITY_WORKER).post("/api/buildings/", feature, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["properties"]["community"] == territory.home.pk


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [112.13, 32.03],
                            [112.131, 32.031],
                            [112.13, 32.031],
                            [112.131, 32.03],
                            [112.13, 32.03],
                        ]
                    ],
                },
                "properties": {},
            },
            "invalid_geometry",
        ),
        (
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[113.5, 33.0], [113.51, 33.0], [113.51, 33.01], [113.5, 33.0]]
                    ],
                },
                "properties": {},
            },
            "outside_every_community",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": []},
                "properties": {},
            },
            "empty_geometry",
        ),
        ({"type": "Feature", "geometry": "{oops", "properties": {}}, "malformed_geojson"),
        ({"type": "Feature", "geometry": None, "properties": {"floors_above": 3}}, "null"),
        ({"floors_above": "seven"}, "invalid"),
    ],
)
def test_bad_building_input_is_a_clear_400_and_writes_nothing(territory, client_for, payload, code):
    before = Building.objects.count()
    response = client_for().post("/api/buildings/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and body["detail"]
    assert Building.objects.count() == before


def test_domain_errors_come_in_both_languages(territory, client_for):
    payload = {"building": territory.home_building.pk, "floor": 9, "number": "901"}
    zh = client_for(language="zh-hans").post("/api/rooms/", payload, format="json").json()
    en = client_for(language="en").post("/api/rooms/", payload, format="json").json()
    assert zh["code"] == en["code"] == "floor_out_of_range"
    assert "没有第 9 层" in zh["detail"] and zh["detail_en"] == en["detail"]
    assert "Floor 9 does not exist" in en["detail"] and en["detail_zh"] == zh["detail"]
    assert zh["field"] == "floor"


def test_duplicate_room_is_409(territory, client_for):
    payload = {"building": territory.home_building.pk, "floor": 2, "number": "201"}
    client = client_for()
    assert client.post("/api/rooms/", payload, format="json").status_code == 201
    response = client.post("/api/rooms/", payload, format="json")
    assert response.status_code == 409 and response.json()["code"] == "duplicate"
    assert Room.objects.filter(number="201").count() == 1


@pytest.mark.parametrize(
    "parent", ["420606009", "420606\x00001", "４２０６０６００１", "42060600a"]
)
def test_unknown_parent_code_is_a_400(territory, client_for, parent):
    """Unknown, and not a code at all (a NUL byte, full-width digits): a 400, never a 500."""
    feature = {
        "type": "Feature",
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [[[[112.1, 32.0], [112.11, 32.0], [112.11, 32.01], [112.1, 32.0]]]],
        },
        "properties": {"code": "420606009001", "name": "无", "street_office": parent},
    }
    response = client_for().post("/api/communities/", feature, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "street_office"


def test_landlord_phone_is_masked(territory, client_for):
    landlord = LandlordFactory(community=territory.home, phone="13812345678")
    body = client_for().get(f"/api/landlords/{landlord.pk}/").json()
    assert body["phone_masked"] == "138****5678"
    assert "13812345678" not in str(body)


def test_history_and_undo_over_the_api(territory, client_for):
    client = client_for(Role.COMMUNITY_WORKER)
    room = client.post(
        "/api/rooms/",
        {"building": territory.home_building.pk, "floor": 1, "number": "101"},
        format="json",
    ).json()
    client.patch(f"/api/rooms/{room['id']}/", {"use": "vacant"}, format="json")
    changes = client.get(f"/api/rooms/{room['id']}/history/").json()
    assert [c["label"] for c in changes] == ["insert", "update"]
    assert changes[1]["diff"]["use"] == ["owner_occupied", "vacant"]
    response = client.post(f"/api/rooms/{room['id']}/history/{changes[1]['event_id']}/undo/")
    assert response.status_code == 200 and response.json()["use"] == "owner_occupied"


def test_door_plate_search_and_address_parser(territory, client_for):
    from gis import services

    services.save_door_plate(
        actor=None,
        data={
            "building": territory.home_building,
            "road": "人民路",
            "number": "12",
            "building_number": "3",
        },
    )
    client = client_for()
    found = client.get("/api/door-plates/", {"q": "人民路12"}).json()
    assert [f["properties"]["address"] for f in found["features"]] == [
        "樊城区汉江街道人民路社区人民路12号3栋"
    ]
    parsed = client.get("/api/address/parse/", {"q": "樊城区人民路12号3栋2单元501室"}).json()
    assert parsed["ok"] and parsed["parts"]["room"] == "501" and parsed["parts"]["floor"] == "5"
    assert client.get("/api/address/parse/", {"q": ""}).status_code == 400


def test_schema_and_offline_docs_page(client):
    assert client.get("/api/schema/", {"format": "json"}).json()["info"]["title"] == "plategrid API"
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "https://" not in page.replace("https://swagger.io", "")


def test_unreadable_room_plan_is_a_400(territory, client_for):
    payload = {
        "building": territory.home_building.pk,
        "floor": 1,
        "number": "101",
        "plan_geom": {"type": "", "coordinates": []},
    }
    response = client_for().post("/api/rooms/", payload, format="json")
    assert response.status_code == 400 and response.json()["code"] == "malformed_geojson"
    assert not Room.objects.filter(number="101").exists()


def test_form_bodies_are_refused_with_415(territory, client_for):
    response = client_for().post("/api/buildings/", {"floors_above": "3"}, format="multipart")
    assert response.status_code == 415
    assert (
        set(response.json()) >= {"detail", "code"}
        and response.json()["code"] == "unsupported_media_type"
    )


@pytest.mark.parametrize(
    "body", [[1, 2], "text", 0, {"type": "Feature", "geometry": None, "properties": []}]
)
def test_a_body_that_is_not_a_feature_is_a_400(territory, client_for, body):
    response = client_for().post("/api/buildings/", body, format="json")
    assert response.status_code == 400 and response.json()["detail"]


def test_empty_search_and_users_without_grants_get_empty_layers(territory, client_for):
    assert client_for().get("/api/door-plates/", {"q": ","}).json()["features"] == []
    from ..factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory(username="nobody"))
    body = client.get("/api/buildings/").json()
    assert body["features"] == [] and body["count"] == 0
