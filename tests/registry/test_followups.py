"""Follow-ups due and overdue: the periods of a schedule, the overdue lists per community and
zone, and their API (scoped; the workbook is a logged export)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from gis.exceptions import NotFoundError
from gis.models import Role
from registry import followups, querysets, services
from registry.followups import DuePeriod, first_due_month, last_ended_due_month, periods
from registry.models import AccessLog, Category, FollowUpSchedule
from registry.privacy import personal

from ..conftest import Territory
from ..factories import RoomFactory
from ..grid.factories import ZoneFactory
from .factories import resident

pytestmark = pytest.mark.django_db

QUARTERLY = [1, 4, 7, 10]
ON = date(2025, 5, 10)  # April's period has ended; July's has not begun
URL = "/api/registry/follow-ups/overdue/"


# -- the periods of a schedule


def test_first_due_month_is_the_first_listed_month_after_arrival() -> None:
    assert first_due_month(QUARTERLY, date(2025, 3, 15)) == date(2025, 4, 1)
    # Arriving in a listed month: the registration was that month's check.
    assert first_due_month(QUARTERLY, date(2025, 4, 10)) == date(2025, 7, 1)
    assert first_due_month(QUARTERLY, date(2025, 11, 2)) == date(2026, 1, 1)
    assert first_due_month([1], date(2025, 1, 31)) == date(2026, 1, 1)


def test_last_ended_due_month() -> None:
    assert last_ended_due_month(QUARTERLY, ON) == date(2025, 4, 1)
    assert last_ended_due_month(QUARTERLY, date(2025, 5, 1)) == date(2025, 4, 1)
    assert last_ended_due_month(QUARTERLY, date(2025, 4, 30)) == date(2025, 1, 1)
    assert last_ended_due_month([7], date(2025, 3, 1)) == date(2024, 7, 1)


def test_periods_with_the_follow_ups_that_did_them() -> None:
    found = periods(
        QUARTERLY, date(2025, 2, 20), date(2025, 11, 10), [date(2025, 4, 20), date(2025, 8, 2)]
    )
    assert found == [
        DuePeriod(date(2025, 4, 1), date(2025, 4, 20)),
        DuePeriod(date(2025, 7, 1), date(2025, 8, 2)),  # late, but done
        DuePeriod(date(2025, 10, 1), None),
    ]
    on = date(2025, 11, 10)
    assert [p.state(on) for p in found] == ["done", "done", "overdue"]
    assert found[2].as_body(on) == {
        "month": "2025-10",
        "deadline": "2025-10-31",
        "done_on": None,
        "state": "overdue",
    }
    # A follow-up before the due month does not do it.
    assert periods(QUARTERLY, date(2025, 2, 1), ON, [date(2025, 3, 20)])[0].done_on is None
    # The month under way is due, not overdue.
    assert periods(QUARTERLY, date(2025, 2, 1), date(2025, 4, 10), [])[0].state(
        date(2025, 4, 10)
    ) == ("due")


def test_seeded_schedules_are_data() -> None:
    rows = {s.code: (list(s.months), s.category) for s in FollowUpSchedule.objects.all()}
    assert rows["floating-quarterly"] == (QUARTERLY, "floating")
    assert rows["employer-yearly"] == ([1], "employer")
    assert rows["outflowing-halfyear"] == ([1, 7], "outflowing")
    assert rows["community-yearly"] == ([1], "community")


# -- overdue lists


def _follow(person, day: date) -> None:
    services.record_follow_up(None, person, done_on=day, outcome="seen")


@pytest.fixture
def register(territory: Territory):
    """Residents of both communities on the floating schedule (unless said), as of ``ON``."""
    zone = ZoneFactory(community=territory.home, code="001", name="第一网格")
    home_room = RoomFactory(building=territory.home_building, use="rented_shared")
    away_room = RoomFactory(building=territory.away_building, use="rented_shared")

    def person(room, name: str, **fields):
        values = {"category": Category.FLOATING, "arrival_date": date(2025, 2, 1)} | fields
        return resident(room, name=name, moved_in=values["arrival_date"], **values)

    people = {
        "never": person(home_room, "甲"),
        "done_after": person(home_room, "乙"),
        "arrived_in_april": person(home_room, "丙", arrival_date=date(2025, 4, 15)),
        "done_before": person(home_room, "丁"),
        "yearly": person(
            home_room, "戊", category=Category.COMMUNITY, arrival_date=date(2024, 6, 1)
        ),
        "away": person(away_room, "己"),
        "left": person(home_room, "庚"),
        "outflowing": person(home_room, "辛"),
    }
    _follow(people["done_after"], date(2025, 5, 3))
    _follow(people["done_before"], date(2025, 3, 20))
    services.move_out(None, people["left"], on=date(2025, 3, 1))
    services.move_out(None, people["outflowing"], on=date(2025, 3, 1), outflowing=True)
    # No schedule of their own: the out-flowing category's default (half-yearly).
    services.update_resident(None, people["outflowing"], {"schedule": None})
    return people, zone


def test_overdue_per_community_and_zone(territory: Territory, users, register) -> None:
    _people, zone = register
    worker = users[Role.COMMUNITY_WORKER]
    found = followups.overdue(worker, territory.home.code, on=ON)
    names = {row["name"] for row in found.rows}
    # Never followed up; followed up before April only; the yearly resident missed January.
    # Not: followed up in May, arrived in April (first due July), moved away, out-flowing
    # (half-yearly: first due July).
    assert names == {"甲", "丁", "戊"}
    assert found.total == 3
    assert found.communities == [{"code": territory.home.code, "name": "人民路社区", "overdue": 3}]
    assert found.zones == [
        {"code": zone.code, "name": "第一网格", "community_code": territory.home.code, "overdue": 3}
    ]
    row = next(r for r in found.rows if r["name"] == "甲")
    assert row["due_month"] == "2025-04" and row["deadline"] == "2025-04-30"
    assert row["schedule"] == "floating-quarterly" and row["zone_code"] == zone.code
    assert row["last_follow_up"] is None and row["id_number_masked"].startswith("4206")
    assert "*" in row["id_number_masked"] and "*" in row["phone_masked"]
    assert next(r for r in found.rows if r["name"] == "丁")["last_follow_up"] == "2025-03-20"
    assert next(r for r in found.rows if r["name"] == "戊")["due_month"] == "2025-01"


def test_outflowing_residents_count_in_no_zone(territory: Territory, users, register) -> None:
    # On the half-year schedule (January, July): by August, July is overdue.
    found = followups.overdue(
        users[Role.COMMUNITY_WORKER], territory.home.code, on=date(2025, 8, 5)
    )
    row = next(r for r in found.rows if r["name"] == "辛")
    assert (row["schedule"], row["due_month"], row["zone_code"]) == (
        "outflowing-halfyear",
        "2025-07",
        None,
    )
    assert "庚" not in {r["name"] for r in found.rows}  # moved away, not out-flowing
    no_zone = next(z for z in found.zones if z["code"] == territory.home.code)
    assert no_zone["overdue"] == 1


def test_a_worker_sees_only_their_community(territory: Territory, users, register) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    with pytest.raises(NotFoundError):
        followups.overdue(worker, territory.away.code, on=ON)
    office = followups.overdue(worker, territory.office.code, on=ON)
    assert "己" not in {r["name"] for r in office.rows}
    supervisor = followups.overdue(users[Role.STREET_SUPERVISOR], territory.office.code, on=ON)
    assert {c["code"]: c["overdue"] for c in supervisor.communities} == {
        territory.home.code: 3,
        territory.away.code: 1,
    }


def test_overdue_of_a_zone(territory: Territory, users, register) -> None:
    _people, zone = register
    found = followups.overdue(users[Role.COMMUNITY_WORKER], zone.code, on=ON, rows=False)
    assert found.total == 3 and found.rows == []


def test_due_periods_of_a_resident(territory: Territory, users, register) -> None:
    people, _zone = register
    with personal(users[Role.COMMUNITY_WORKER]):
        found = followups.due_periods(people["done_after"], until=date(2025, 11, 10))
    assert [(p.month.month, p.done_on) for p in found] == [
        (4, date(2025, 5, 3)),
        (7, None),
        (10, None),
    ]


# -- the API


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_lists_and_counts(territory: Territory, users, register) -> None:
    worker = _client(users[Role.COMMUNITY_WORKER])
    response = worker.get(URL, {"code": territory.home.code, "on": ON.isoformat()})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == body["total"] == 3
    assert {r["name"] for r in body["results"]} == {"甲", "丁", "戊"}
    assert body["zones"][0]["overdue"] == 3


def test_api_out_of_scope_is_404(territory: Territory, users, register) -> None:
    for fmt in ("json", "xlsx"):
        response = _client(users[Role.COMMUNITY_WORKER]).get(
            URL, {"code": territory.away.code, "format": fmt, "reason": "月度核查"}
        )
        assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_api_workbook_needs_a_reason_and_is_logged(territory: Territory, users, register) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    client = _client(worker)
    query = {"code": territory.home.code, "on": ON.isoformat(), "format": "xlsx"}
    refused = client.get(URL, query)
    assert refused.status_code == 400 and refused.json()["code"] == "reason_required"
    assert refused.json()["detail_en"] and refused.json()["detail_zh"]
    response = client.get(URL, query | {"reason": "季度随访督办"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[2][:2] == ("档案号", "姓名")
    assert {r[1] for r in rows[3:]} == {"甲", "丁", "戊"}
    assert all("*" in (r[2] or "*") for r in rows[3:])  # masked identity numbers only
    log = AccessLog.objects.get()
    assert (log.action, log.rows, log.reason, log.user_id) == (
        "export",
        3,
        "季度随访督办",
        worker.pk,
    )


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"on": "2025-13-01"}, "bad_date"),
        ({"on": "2999-01-01"}, "future"),
        ({"format": "pdf"}, "bad_format"),
        ({"code": "12"}, "bad_code"),
    ],
)
def test_api_bad_queries(territory: Territory, users, query, code) -> None:
    response = _client(users[Role.COMMUNITY_WORKER]).get(URL, {"code": territory.home.code} | query)
    assert response.status_code == 400 and response.json()["code"] == code


def test_in_node_is_an_equality_or_a_range() -> None:
    from django.db.models import Q

    assert querysets.in_node("420606001001") == Q(community_code="420606001001")
    assert querysets.in_node("420606001001003") == Q(community_code="420606001001")
    assert querysets.in_node("420606") == Q(
        community_code__gte="420606", community_code__lt="420607"
    )
    assert querysets.in_node("420606009") == Q(
        community_code__gte="420606009", community_code__lt="420606010"
    )
    assert querysets.in_node("999999") == Q(community_code__gte="999999")
