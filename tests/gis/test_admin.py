"""The admin saves through the services: same validation, scope and history as the API."""

from __future__ import annotations

import pytest

from gis import history
from gis.models import Role, Room

from ..factories import RoomFactory, UserFactory


@pytest.fixture
def admin_client(client, territory):
    user = UserFactory(username="root", grants=[(Role.DISTRICT_ADMIN, "420606")])
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return client, user


def _room_form(room: Room, **changes: object) -> dict[str, object]:
    data = {
        "building": room.building_id,
        "entrance": "",
        "floor": room.floor,
        "number": room.number,
        "use": room.use,
        "area_m2": "",
        "plan_geom": "POLYGON((0 0, 8 0, 8 10, 0 10, 0 0))",
        "landlord": "",
    }
    return {**data, **changes}


def test_admin_room_change_is_validated_by_the_service(admin_client, territory):
    client, _user = admin_client
    room = RoomFactory(building=territory.home_building, floor=2, number="201")
    response = client.post(f"/admin/geo/room/{room.pk}/change/", _room_form(room, floor=9))
    assert response.status_code == 200
    assert "该楼栋没有第 9 层" in response.content.decode()
    room.refresh_from_db()
    assert room.floor == 2


def test_admin_room_change_is_saved_and_recorded(admin_client, territory):
    client, user = admin_client
    room = RoomFactory(building=territory.home_building, floor=2, number="201")
    response = client.post(f"/admin/geo/room/{room.pk}/change/", _room_form(room, use="vacant"))
    assert response.status_code == 302
    room.refresh_from_db()
    assert room.use == "vacant" and room.plan_geom.area == pytest.approx(80)
    last = history.changes_of(Room, room.pk)[-1]
    assert last.user_id == user.pk and last.diff["use"] == ("owner_occupied", "vacant")


def test_admin_pages_render_for_every_register_model(admin_client, territory):
    client, _user = admin_client
    for model in (
        "district",
        "streetoffice",
        "community",
        "compound",
        "building",
        "entrance",
        "room",
        "doorplate",
        "landlord",
    ):
        assert client.get(f"/admin/geo/{model}/").status_code == 200
        assert client.get(f"/admin/geo/{model}/add/").status_code == 200
