"""``GET /api/territory/``: the territory tree a user sees, and one node by ``?code=``."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from gis.models import Role

from ..conftest import Territory
from ..factories import CommunityFactory, DistrictFactory, StreetOfficeFactory, UserFactory, mbox


def _client(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def _shape(nodes: list[dict[str, Any]]) -> list[tuple[str, str, list[Any]]]:
    """(level, code, children) all the way down, to compare trees at a glance."""
    return [(n["level"], n["code"], _shape(n["children"])) for n in nodes]


@pytest.fixture
def second_district(territory: Territory) -> None:
    """襄城区 420602 with one office and two communities, created out of code order."""
    district = DistrictFactory(code="420602", name="襄城区", geom=mbox(112.2, 32.0, 112.3, 32.1))
    office = StreetOfficeFactory(
        district=district, code="420602001", name="古城街道", geom=mbox(112.2, 32.0, 112.3, 32.1)
    )
    for code, name, south in (
        ("420602001002", "南街社区", 32.0),
        ("420602001001", "北街社区", 32.05),
    ):
        CommunityFactory(
            street_office=office, code=code, name=name, geom=mbox(112.2, south, 112.3, south + 0.05)
        )


def test_a_worker_sees_their_community_inside_its_office_and_district(
    territory, users, django_assert_num_queries
):
    client = _client(users[Role.COMMUNITY_WORKER])
    with django_assert_num_queries(4):  # the user's grants, then one query per level
        response = client.get("/api/territory/")
    assert response.status_code == 200
    nodes = response.json()["nodes"]
    assert _shape(nodes) == [
        (
            "district",
            "420606",
            [("street_office", "420606001", [("community", "420606001001", [])])],
        )
    ]
    district = nodes[0]
    assert district["name"] == "樊城区"
    assert district["bbox"] == pytest.approx([112.10, 32.00, 112.20, 32.10])
    community = district["children"][0]["children"][0]
    assert (community["name"], community["level"]) == ("人民路社区", "community")
    assert community["bbox"] == pytest.approx([112.10, 32.00, 112.15, 32.05])


def test_a_supervisor_sees_every_community_of_their_office(territory, users):
    nodes = _client(users[Role.STREET_SUPERVISOR]).get("/api/territory/").json()["nodes"]
    office = nodes[0]["children"][0]
    assert [c["code"] for c in office["children"]] == ["420606001001", "420606001002"]


def test_a_superuser_sees_every_district_in_code_order(
    territory, second_district, django_assert_num_queries
):
    root = UserFactory(username="root", is_superuser=True)
    with django_assert_num_queries(3):
        nodes = _client(root).get("/api/territory/").json()["nodes"]
    assert _shape(nodes) == [
        (
            "district",
            "420602",
            [
                (
                    "street_office",
                    "420602001",
                    [("community", "420602001001", []), ("community", "420602001002", [])],
                )
            ],
        ),
        (
            "district",
            "420606",
            [
                (
                    "street_office",
                    "420606001",
                    [("community", "420606001001", []), ("community", "420606001002", [])],
                )
            ],
        ),
    ]


def test_grants_in_two_districts(territory, second_district):
    user = UserFactory(
        username="two",
        grants=[(Role.READ_ONLY, "420606001002"), (Role.COMMUNITY_WORKER, "420602001")],
    )
    nodes = _client(user).get("/api/territory/").json()["nodes"]
    assert _shape(nodes) == [
        (
            "district",
            "420602",
            [
                (
                    "street_office",
                    "420602001",
                    [("community", "420602001001", []), ("community", "420602001002", [])],
                )
            ],
        ),
        (
            "district",
            "420606",
            [("street_office", "420606001", [("community", "420606001002", [])])],
        ),
    ]


def test_a_user_without_grants_sees_no_node(territory):
    response = _client(UserFactory(username="nobody")).get("/api/territory/")
    assert response.json() == {"nodes": []}


def test_anonymous_is_refused(territory):
    assert APIClient().get("/api/territory/").status_code == 403


# ---------------------------------------------------------------------------------------------
# ?code=


def test_one_community_by_code(territory, users):
    response = _client(users[Role.COMMUNITY_WORKER]).get(
        "/api/territory/", {"code": "420606001001"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["level"] == "community" and body["name"] == "人民路社区"
    assert body["bbox"] == pytest.approx([112.10, 32.00, 112.15, 32.05])
    assert body["children"] == []


def test_one_office_by_code_holds_what_the_user_sees_below_it(territory, users):
    worker, supervisor = users[Role.COMMUNITY_WORKER], users[Role.STREET_SUPERVISOR]
    body = _client(worker).get("/api/territory/", {"code": "420606001"}).json()
    assert _shape([body]) == [("street_office", "420606001", [("community", "420606001001", [])])]
    body = _client(supervisor).get("/api/territory/", {"code": "420606001"}).json()
    assert [c["code"] for c in body["children"]] == ["420606001001", "420606001002"]


@pytest.mark.parametrize("code", ["420606001002", "420606001009", "420602", "420699"])
def test_a_code_out_of_sight_or_unknown_is_404(territory, second_district, users, code):
    response = _client(users[Role.COMMUNITY_WORKER]).get("/api/territory/", {"code": code})
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found" and code in body["detail_en"] and body["detail_zh"]


@pytest.mark.parametrize("code", ["", "4206", "4206060011", "42060600100a", "４２０６０６"])
def test_a_malformed_code_is_400(territory, users, code):
    response = _client(users[Role.COMMUNITY_WORKER]).get("/api/territory/", {"code": code})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "bad_code" and "6, 9 or 12 digits" in body["detail_en"]
