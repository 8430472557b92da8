"""The twelve-star rating: criteria as data, validation, rewards, orders to rectify, corrections
kept in the history, withdrawal and restoring of the right to rent, the monthly summary; the API
in and out of scope."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from rest_framework.test import APIClient

from gis.exceptions import ConflictError, InvalidInputError, NotFoundError, ScopeError
from gis.models import Role
from registry import ratings
from registry.models import Rectification, RentWithdrawal, StarCriterion, StarRating
from registry.privacy import personal

from ..conftest import Territory
from ..factories import BuildingFactory, RoomFactory, box

pytestmark = pytest.mark.django_db

MONTH = date(2025, 6, 1)
ON = date(2025, 7, 3)  # the day June is rated


def full() -> dict[str, int]:
    return {c.code: c.stars for c in StarCriterion.objects.filter(active=True)}


def scored(total: int) -> dict[str, int]:
    """Scores adding up to ``total``: stars taken away from the last criteria first."""
    scores = full()
    missing = 12 - total
    for code in reversed(list(scores)):
        take = min(missing, scores[code])
        scores[code] -= take
        missing -= take
    return scores


@pytest.fixture
def houses(territory: Territory):
    for building in (territory.home_building, territory.away_building):
        RoomFactory(building=building, use="rented_shared")
    return territory


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# -- criteria


def test_seeded_criteria_add_up_to_twelve() -> None:
    criteria = ratings.active_criteria()
    assert sum(c.stars for c in criteria) == 12
    assert {"fire-safety", "security-contract", "family-planning-contract"} <= {
        c.code for c in criteria
    }


def test_criteria_are_data(houses: Territory, users) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    StarCriterion.objects.filter(code="sanitation").update(active=False)
    with pytest.raises(InvalidInputError) as caught:
        ratings.rate(worker, houses.home_building, MONTH, full(), on=ON)
    assert caught.value.code == "criteria_total"
    assert "11" in caught.value.render("zh-hans")
    StarCriterion.objects.create(code="green", name="绿化", stars=1, position=90)
    scores = full()
    assert "green" in scores and "sanitation" not in scores
    with pytest.raises(InvalidInputError) as caught:
        ratings.rate(worker, houses.home_building, MONTH, scores | {"sanitation": 1}, on=ON)
    assert caught.value.code == "unknown_criterion"
    rating = ratings.rate(worker, houses.home_building, MONTH, scores, on=ON)
    assert rating.stars == 12


# -- rating


def test_full_marks_earn_the_model_house_reward(houses: Territory, users) -> None:
    rating = ratings.rate(users[Role.COMMUNITY_WORKER], houses.home_building, MONTH, full(), on=ON)
    assert (rating.stars, rating.reward, rating.community_code) == (
        12,
        "示范出租屋",
        houses.home.code,
    )
    assert rating.month == MONTH
    with personal(users[Role.COMMUNITY_WORKER]):
        assert not Rectification.objects.exists()


@pytest.mark.parametrize(("total", "reward"), [(11, "优秀出租屋"), (10, "优秀出租屋"), (9, "")])
def test_rewards_by_rule(houses: Territory, total: int, reward: str) -> None:
    rating = ratings.rate(None, houses.home_building, MONTH, scored(total), on=ON)
    assert (rating.stars, rating.reward) == (total, reward)


def test_rules_are_settings(houses: Territory, settings) -> None:
    settings.PLATEGRID_STAR_RULES = {"rewards": [(11, "好")], "rectify_below": 10}
    rating = ratings.rate(None, houses.home_building, MONTH, scored(9), on=ON)
    assert rating.reward == ""
    with personal(system=True):
        assert Rectification.objects.get().rating == rating


def test_low_total_orders_a_rectification(houses: Territory, users) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    scores = full() | {"fire-safety": 0, "sanitation": 0, "licences": 1}
    rating = ratings.rate(worker, houses.home_building, MONTH, scores, on=ON)
    assert rating.stars == 8 and rating.reward == ""  # 8 is not below the threshold
    rating = ratings.rate(worker, houses.home_building, date(2025, 5, 1), scored(7), on=ON)
    with personal(worker):
        order = Rectification.objects.get()
    assert (order.rating_id, order.building_id, order.ordered_on, order.deadline) == (
        rating.pk,
        houses.home_building.pk,
        ON,
        ON + timedelta(days=30),
    )
    names = dict(StarCriterion.objects.values_list("code", "name"))
    assert order.issues.splitlines() == [
        f"{names['fire-safety']} 1/2",
        f"{names['security-contract']} 0/1",
        f"{names['family-planning-contract']} 0/1",
        f"{names['sanitation']} 0/1",
        f"{names['population-plate']} 0/1",
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"fire-safety": 3}, "stars_range"),
        ({"fire-safety": -1}, "stars_range"),
        ({"fire-safety": True}, "stars_range"),
        ({"fire-safety": "x"}, "stars_range"),
        ({"nonsense": 1}, "unknown_criterion"),
    ],
)
def test_scores_are_checked(houses: Territory, change, code: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ratings.rate(None, houses.home_building, MONTH, full() | change, on=ON)
    assert caught.value.code == code


def test_every_active_criterion_is_scored(houses: Territory) -> None:
    scores = full()
    del scores["fire-safety"]
    with pytest.raises(InvalidInputError) as caught:
        ratings.rate(None, houses.home_building, MONTH, scores, on=ON)
    assert caught.value.code == "missing_criterion"


def test_only_rental_houses_past_months_once(houses: Territory, users) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    no_rentals = BuildingFactory(footprint=box(112.113, 32.011, 112.114, 32.012))
    RoomFactory(building=no_rentals, use="owner_occupied")
    with pytest.raises(InvalidInputError) as caught:
        ratings.rate(worker, no_rentals, MONTH, full(), on=ON)
    assert caught.value.code == "not_rental"
    with pytest.raises(InvalidInputError) as caught:
        ratings.rate(worker, houses.home_building, date(2025, 8, 1), full(), on=ON)
    assert caught.value.code == "future_month"
    ratings.rate(worker, houses.home_building, date(2025, 7, 1), full(), on=ON)  # under way
    ratings.rate(worker, houses.home_building, MONTH, full(), on=ON)
    with pytest.raises(ConflictError) as caught:
        ratings.rate(worker, houses.home_building, MONTH, scored(5), on=ON)
    assert caught.value.code == "already_rated"


def test_scope_of_rating(houses: Territory, users) -> None:
    with pytest.raises(ScopeError):
        ratings.rate(users[Role.READ_ONLY], houses.home_building, MONTH, full(), on=ON)
    with pytest.raises(ScopeError):
        ratings.rate(users[Role.COMMUNITY_WORKER], houses.away_building, MONTH, full(), on=ON)
    with pytest.raises(NotFoundError):
        ratings.visible_building(users[Role.COMMUNITY_WORKER], houses.away_building.pk)


def test_correction_keeps_history_and_moves_the_order(houses: Territory, users) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    rating = ratings.rate(worker, houses.home_building, MONTH, scored(6), on=ON)
    with personal(worker):
        assert Rectification.objects.filter(done_on__isnull=True).count() == 1
    ratings.correct(worker, rating, full(), on=ON)
    with personal(worker):
        assert not Rectification.objects.exists()  # the order came from a wrong rating
        stored = StarRating.objects.get()
        history = ratings.history(stored)
        assert Rectification.pgh_event_model.objects.filter(pgh_label="delete").count() == 1
    assert (stored.stars, stored.reward) == (12, "示范出租屋")
    assert [(h["event"], h["stars"]) for h in history] == [("insert", 6), ("update", 12)]
    assert history[0]["scores"] == scored(6) and history[1]["rated_by"] == "worker"
    ratings.correct(worker, rating, scored(5), on=ON)
    with personal(worker):
        order = Rectification.objects.get()
    assert order.rating_id == rating.pk and order.done_on is None
    ratings.correct(worker, rating, scored(4), on=ON)
    with personal(worker):
        assert Rectification.objects.get().pk == order.pk  # the same order, its issues updated
        assert Rectification.objects.get().issues != order.issues


# -- orders and withdrawals


def test_close_withdraw_restore(houses: Territory, users) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    building = houses.home_building
    ordered = date(2025, 1, 5)
    ratings.rate(worker, building, date(2024, 12, 1), scored(5), on=ordered)
    with personal(worker):
        order = Rectification.objects.get()
    with pytest.raises(InvalidInputError) as caught:
        ratings.withdraw(worker, building, "逾期未整改", on=date(2025, 2, 1))  # not overdue yet
    assert caught.value.code == "no_overdue_order"
    with pytest.raises(InvalidInputError) as caught:
        ratings.withdraw(worker, building, "", on=date(2025, 3, 1))
    assert caught.value.code == "reason_required"
    withdrawal = ratings.withdraw(
        worker, building, "逾期未整改，经审核取消出租资格", on=date(2025, 3, 1)
    )
    assert (withdrawal.withdrawn_on, withdrawal.community_code) == (
        date(2025, 3, 1),
        houses.home.code,
    )
    with pytest.raises(ConflictError):
        ratings.withdraw(worker, building, "再次取消资格", on=date(2025, 3, 2))
    with pytest.raises(InvalidInputError):
        ratings.close_rectification(worker, order, done_on=date(2025, 1, 1))  # before the order
    ratings.close_rectification(worker, order, done_on=date(2025, 3, 10))
    with pytest.raises(ConflictError):
        ratings.close_rectification(worker, order, done_on=date(2025, 3, 11))
    with pytest.raises(InvalidInputError):
        ratings.restore(worker, withdrawal, on=date(2025, 2, 1))  # before the withdrawal
    ratings.restore(worker, withdrawal, on=date(2025, 3, 15))
    with personal(worker):
        assert RentWithdrawal.objects.get().restored_on == date(2025, 3, 15)
    with pytest.raises(ConflictError):
        ratings.restore(worker, withdrawal, on=date(2025, 3, 16))
    with pytest.raises(ScopeError):
        ratings.restore(users[Role.READ_ONLY], withdrawal, on=date(2025, 3, 16))


# -- the monthly summary


def test_summary_per_community(houses: Territory, users) -> None:
    second = BuildingFactory(footprint=box(112.113, 32.011, 112.114, 32.012))
    RoomFactory(building=second, use="rented_whole")
    ratings.rate(None, houses.home_building, date(2024, 12, 1), full(), on=date(2025, 1, 2))
    ratings.rate(None, second, date(2024, 12, 1), scored(5), on=date(2024, 12, 10))
    ratings.rate(None, houses.away_building, date(2024, 12, 1), scored(10), on=date(2024, 12, 5))
    found = ratings.summary(users[Role.STREET_SUPERVISOR], houses.office.code, date(2024, 12, 1))
    rows = {row.code: row.as_body() for row in found.communities}
    home = rows[houses.home.code]
    assert (home["houses"], home["rated"], home["average_stars"]) == (2, 2, 8.5)
    assert home["rewards"] == {"示范出租屋": 1} and home["below_threshold"] == 1
    # As of 31 December: the order of 10 December is open, due 9 January, not overdue yet.
    assert (home["orders_open"], home["orders_overdue"], home["withdrawn"]) == (1, 0, 0)
    body = found.as_body()
    assert (body["rated"], body["average_stars"], body["as_of"]) == (3, 9.0, "2024-12-31")
    assert body["rewards"] == {"示范出租屋": 1, "优秀出租屋": 1}
    january = ratings.summary(users[Role.STREET_SUPERVISOR], houses.office.code, date(2025, 1, 1))
    assert january.total.orders_overdue == 1 and january.total.rated == 0
    mine = ratings.summary(users[Role.COMMUNITY_WORKER], houses.office.code, date(2024, 12, 1))
    assert [row.code for row in mine.communities] == [houses.home.code]
    with pytest.raises(NotFoundError):
        ratings.summary(users[Role.COMMUNITY_WORKER], houses.away.code, date(2024, 12, 1))


# -- the API


def test_api_criteria(users) -> None:
    body = _client(users[Role.READ_ONLY]).get("/api/registry/star-criteria/").json()
    assert body["active_stars"] == 12 and len(body["results"]) == 8


def test_api_rate_list_correct(houses: Territory, users) -> None:
    client = _client(users[Role.COMMUNITY_WORKER])
    created = client.post(
        "/api/registry/star-ratings/",
        {"building": houses.home_building.pk, "month": "2025-06", "scores": scored(7)},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["stars"] == 7 and created.json()["month"] == "2025-06"
    again = client.post(
        "/api/registry/star-ratings/",
        {"building": houses.home_building.pk, "month": "2025-06", "scores": full()},
        format="json",
    )
    assert again.status_code == 409 and again.json()["code"] == "already_rated"
    listed = client.get(
        "/api/registry/star-ratings/", {"code": houses.home.code, "month": "2025-06"}
    )
    assert [r["id"] for r in listed.json()["results"]] == [pk]
    assert listed["Cache-Control"] == "private, no-store"
    detail = client.get(f"/api/registry/star-ratings/{pk}/").json()
    order = detail["rectifications"][0]
    assert (
        order["deadline"]
        == (date.fromisoformat(order["ordered_on"]) + timedelta(days=30)).isoformat()
    )
    corrected = client.patch(
        f"/api/registry/star-ratings/{pk}/", {"scores": full()}, format="json"
    ).json()
    assert corrected["stars"] == 12 and corrected["rectifications"] == []
    assert [h["stars"] for h in corrected["history"]] == [7, 12]


def test_api_orders_withdrawals_summary(houses: Territory, users) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    client = _client(worker)
    ratings.rate(worker, houses.home_building, date(2024, 12, 1), scored(5), on=date(2025, 1, 5))
    orders = client.get(
        "/api/registry/rectifications/", {"code": houses.home.code, "state": "overdue"}
    )
    assert orders.status_code == 200 and orders.json()["count"] == 1
    order_id = orders.json()["results"][0]["id"]
    withdrawn = client.post(
        "/api/registry/withdrawals/",
        {"building": houses.home_building.pk, "reason": "逾期未整改，取消出租资格"},
        format="json",
    )
    assert withdrawn.status_code == 201, withdrawn.content
    assert client.get("/api/registry/withdrawals/").json()["count"] == 1
    closed = client.post(f"/api/registry/rectifications/{order_id}/close/", {}, format="json")
    assert closed.status_code == 200 and closed.json()["done_on"]
    restored = client.post(
        f"/api/registry/withdrawals/{withdrawn.json()['id']}/restore/", {}, format="json"
    )
    assert restored.status_code == 200 and restored.json()["restored_on"]
    summary = client.get(
        "/api/registry/star-summary/", {"code": houses.home.code, "month": "2024-12"}
    )
    assert summary.status_code == 200 and summary.json()["rated"] == 1


def test_api_away_is_404(houses: Territory, users) -> None:
    away = houses.away_building
    rating = ratings.rate(None, away, date(2024, 12, 1), scored(5), on=date(2025, 1, 5))
    withdrawal = ratings.withdraw(None, away, "逾期未整改", on=date(2025, 3, 1))
    with personal(system=True):
        order = Rectification.objects.get()
    client = _client(users[Role.COMMUNITY_WORKER])
    assert client.get(f"/api/registry/star-ratings/{rating.pk}/").status_code == 404
    patched = client.patch(
        f"/api/registry/star-ratings/{rating.pk}/", {"scores": full()}, format="json"
    )
    assert patched.status_code == 404
    posted = client.post(
        "/api/registry/star-ratings/",
        {"building": away.pk, "month": "2025-01", "scores": full()},
        format="json",
    )
    assert posted.status_code == 404
    assert client.post(f"/api/registry/rectifications/{order.pk}/close/", {}).status_code == 404
    assert client.post(f"/api/registry/withdrawals/{withdrawal.pk}/restore/", {}).status_code == 404
    posted = client.post(
        "/api/registry/withdrawals/", {"building": away.pk, "reason": "逾期未整改"}, format="json"
    )
    assert posted.status_code == 404
    for url in ("star-ratings", "rectifications", "withdrawals"):
        assert client.get(f"/api/registry/{url}/", {"state": "all"}).json()["count"] == 0
        assert client.get(f"/api/registry/{url}/", {"code": houses.away.code}).status_code == 404
    summary = client.get("/api/registry/star-summary/", {"code": houses.away.code})
    assert summary.status_code == 404
    with personal(system=True):
        assert StarRating.objects.get().stars == 5  # nothing changed


def test_api_read_only_cannot_rate(houses: Territory, users) -> None:
    posted = _client(users[Role.READ_ONLY]).post(
        "/api/registry/star-ratings/",
        {"building": houses.home_building.pk, "month": "2025-06", "scores": full()},
        format="json",
    )
    assert posted.status_code == 403


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"month": "2025-13"}, "bad_month"),
        ({"month": "0001-01"}, "bad_month"),
        ({"scores": [1, 2]}, "bad_scores"),
        ({"building": "x"}, "bad_id"),
    ],
)
def test_api_bad_rating_bodies(houses: Territory, users, body, code: str) -> None:
    base = {"building": houses.home_building.pk, "month": "2025-06", "scores": full()}
    response = _client(users[Role.COMMUNITY_WORKER]).post(
        "/api/registry/star-ratings/", base | body, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == code
    listed = _client(users[Role.COMMUNITY_WORKER]).post(
        "/api/registry/star-ratings/", [1, 2], format="json"
    )
    assert listed.status_code == 400


def test_seed_migration_reverses(territory: Territory) -> None:
    from importlib import import_module

    from django.apps import apps

    from registry.models import FollowUpSchedule

    from .factories import resident

    seed = import_module("registry.migrations.0003_seed")
    resident(RoomFactory(building=territory.home_building), category="floating")
    seed.unseed(apps, None)
    assert not StarCriterion.objects.exists()
    # The schedule a resident follows stays; the others go.
    assert list(FollowUpSchedule.objects.values_list("code", flat=True)) == ["floating-quarterly"]
    seed.seed(apps, None)
    assert StarCriterion.objects.count() == 8 and FollowUpSchedule.objects.count() == 4
