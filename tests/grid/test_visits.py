"""Recording visits (grid.visits) and their API: every outcome, retries and double taps,
conflicts, the far flag, the revisit rules, out-of-order arrival, bad input and scope."""

from __future__ import annotations

import datetime
import random
import threading
import uuid
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from gis.models import Role, Room
from grid import coverage, visits
from grid.models import (
    PlanReason,
    PlanStop,
    RoomVisitState,
    Sweep,
    SweepCount,
    SweepPlan,
    SweepRoom,
    SweepTeam,
    Visit,
    VisitOutcome,
)

from ..conftest import Territory
from ..factories import RoomFactory, UserFactory, mbox
from .factories import StaffFactory

TZ = datetime.timezone(datetime.timedelta(hours=8))
# The home building is box(112.111, 32.011, 112.112, 32.012); its middle and a point ~1 km east.
NEAR = {"type": "Point", "coordinates": [112.1115, 32.0115]}
FAR = {"type": "Point", "coordinates": [112.1225, 32.0115]}


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, minute, second, tzinfo=TZ)


@pytest.fixture
def worker(users: dict[str, Any]) -> Any:
    return users[Role.COMMUNITY_WORKER]


@pytest.fixture
def staff(territory: Territory, worker: Any) -> Any:
    return StaffFactory(community=territory.home, user=worker, name="李四")


@pytest.fixture
def rooms(territory: Territory) -> list[Room]:
    return [
        RoomFactory(building=territory.home_building, floor=1, number=f"10{i}") for i in range(4)
    ]


def item(room: Room | None, outcome: str, when: datetime.datetime, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(extra.pop("id", uuid.uuid4())),
        "outcome": outcome,
        "visited_at": when.isoformat(),
    }
    if room is not None:
        body["room"] = room.pk
    return {**body, **extra}


def record(user: Any, *items: dict[str, Any]) -> list[visits.VisitResult]:
    return visits.record_visits(user, list(items))


def make_sweep(territory: Territory, rooms: list[Room], **fields: Any) -> Sweep:
    sweep = Sweep.objects.create(
        name="十一月清查",
        territory_code=territory.home.code,
        area=mbox(112.10, 32.00, 112.15, 32.05),
        starts_on=datetime.date(2026, 11, 1),
        ends_on=datetime.date(2026, 11, 30),
        **fields,
    )
    for room in rooms:
        SweepRoom.objects.create(
            sweep=sweep, room=room, building=room.building, area_code=territory.home.code
        )
    coverage.rebuild_sweep_counts(sweep)
    return sweep


# ---------------------------------------------------------------------------------------------
# Outcomes and the room's state


@pytest.mark.parametrize("outcome", VisitOutcome.values)
def test_every_outcome_is_stored_with_its_effect(
    outcome: str, worker: Any, staff: Any, rooms: list[Room]
) -> None:
    extra = {"new_room_number": "101A"} if outcome == VisitOutcome.NEW_ROOM else {}
    [result] = record(worker, item(rooms[0], outcome, at(3, 9), **extra))
    assert result.status == "created", result.as_body()
    visit = Visit.objects.get(pk=result.id)
    assert (visit.room_id, visit.staff_id, visit.outcome) == (rooms[0].pk, staff.pk, outcome)
    assert visit.community_code == rooms[0].building.community.code
    state = RoomVisitState.objects.get(room=rooms[0])
    assert state.last_outcome == outcome
    assert state.last_visited_on == datetime.date(2026, 11, 3)
    if outcome in ("not_at_home", "refused"):
        assert state.last_seen_on is None
        assert state.failed_attempts == 1
        assert state.revisit_part == "afternoon"  # visited in the morning
        assert timezone.localtime(state.revisit_after) == at(4, 12)
        assert result.revisit_after == state.revisit_after
    else:
        assert state.last_seen_on == datetime.date(2026, 11, 3)
        assert (state.failed_attempts, state.revisit_after, state.flagged) == (0, None, False)
        assert result.revisit_after is None


def test_new_room_without_a_room_needs_building_and_number(
    territory: Territory, worker: Any, staff: Any
) -> None:
    found = item(None, "new_room", at(3, 9), building=territory.home_building.pk)
    [missing] = record(worker, found)
    assert (missing.status, missing.error and missing.error.code) == (
        "error",
        "bad_new_room_number",
    )
    [result] = record(worker, {**found, "new_room_number": "B12"})
    assert result.status == "created"
    visit = Visit.objects.get(pk=result.id)
    assert (visit.room_id, visit.building_id, visit.new_room_number) == (
        None,
        territory.home_building.pk,
        "B12",
    )
    [again] = record(worker, {**found, "id": str(uuid.uuid4()), "new_room_number": "B12"})
    assert (again.status, again.duplicate_of) == ("duplicate", result.id)


def test_revisit_moves_through_the_day_and_flags_after_n(
    worker: Any, staff: Any, rooms: list[Room]
) -> None:
    room = rooms[0]
    [first] = record(worker, item(room, "not_at_home", at(3, 9)))
    [second] = record(worker, item(room, "not_at_home", at(4, 14)))
    state = RoomVisitState.objects.get(room=room)
    assert (state.failed_attempts, state.revisit_part, state.flagged) == (2, "evening", False)
    assert timezone.localtime(state.revisit_after) == at(5, 18)
    assert not second.flagged
    [third] = record(worker, item(room, "refused", at(5, 19)))
    state.refresh_from_db()
    assert (state.failed_attempts, state.revisit_part, state.flagged) == (3, "morning", True)
    assert third.flagged
    [seen] = record(worker, item(room, "registered", at(6, 10)))
    state.refresh_from_db()
    assert (state.failed_attempts, state.revisit_after, state.revisit_part, state.flagged) == (
        0,
        None,
        "",
        False,
    )
    assert not seen.flagged and first.status == "created"


def test_sweep_sets_the_number_of_attempts(
    territory: Territory, worker: Any, staff: Any, rooms: list[Room]
) -> None:
    sweep = make_sweep(territory, rooms[:1], revisit_attempts=1)
    [result] = record(worker, item(rooms[0], "not_at_home", at(3, 9), sweep=sweep.pk))
    assert result.flagged


def test_out_of_order_visits_never_overwrite_a_newer_state(
    worker: Any, staff: Any, rooms: list[Room]
) -> None:
    room = rooms[0]
    record(worker, item(room, "registered", at(5, 10)))
    record(worker, item(room, "not_at_home", at(6, 10)))
    # Offline queues arrive late: older visits.
    record(worker, item(room, "not_at_home", at(2, 10)), item(room, "vacant", at(4, 10)))
    state = RoomVisitState.objects.get(room=room)
    assert state.last_outcome == "not_at_home"
    assert timezone.localtime(state.last_visited_at) == at(6, 10)
    assert state.last_seen_on == datetime.date(2026, 11, 5)
    assert state.failed_attempts == 1  # only the failure after the last conclusive visit
    # A late conclusive visit older than the failure leaves the failure standing.
    record(worker, item(room, "registered", at(5, 20)))
    state.refresh_from_db()
    assert (state.failed_attempts, state.last_outcome) == (1, "not_at_home")
    assert state.last_seen_on == datetime.date(2026, 11, 5)
    assert timezone.localtime(state.revisit_after) == at(7, 12)


# ---------------------------------------------------------------------------------------------
# Idempotency, double taps, conflicts


def test_retry_with_the_same_id_stores_nothing_more(
    worker: Any, staff: Any, rooms: list[Room]
) -> None:
    visit = item(rooms[0], "registered", at(3, 9), location=NEAR, note="门口")
    [first] = record(worker, visit)
    [again, third] = record(worker, visit, visit)
    assert first.status == "created"
    assert (again.status, again.duplicate_of, again.id) == ("duplicate", first.id, first.id)
    assert third.status == "duplicate"
    assert Visit.objects.count() == 1


def test_same_id_with_other_content_is_refused(worker: Any, staff: Any, rooms: list[Room]) -> None:
    visit = item(rooms[0], "registered", at(3, 9))
    record(worker, visit)
    for changed in (
        {**visit, "outcome": "vacant"},
        {**visit, "room": rooms[1].pk},
        {**visit, "visited_at": at(3, 10).isoformat()},
        {**visit, "note": "x"},
    ):
        [result] = record(worker, changed)
        assert (result.status, result.error and result.error.code) == ("error", "id_reused")
    assert list(Visit.objects.values_list("outcome", "room")) == [("registered", rooms[0].pk)]


def test_double_tap_is_a_duplicate_of_the_first(worker: Any, staff: Any, rooms: list[Room]) -> None:
    [first] = record(worker, item(rooms[0], "registered", at(3, 9, 0, 10)))
    [tap] = record(worker, item(rooms[0], "registered", at(3, 9, 0, 50)))
    assert (tap.status, tap.duplicate_of) == ("duplicate", first.id)
    # A minute later it is another visit.
    [later] = record(worker, item(rooms[0], "registered", at(3, 9, 1, 30)))
    assert later.status == "created"
    assert Visit.objects.count() == 2


def test_conflict_is_kept_and_both_marked(worker: Any, staff: Any, rooms: list[Room]) -> None:
    [first] = record(worker, item(rooms[0], "registered", at(3, 9, 0, 10)))
    [other] = record(worker, item(rooms[0], "not_at_home", at(3, 9, 0, 40)))
    assert (first.status, other.status) == ("created", "conflict")
    assert set(Visit.objects.values_list("conflict", flat=True)) == {True}
    assert Visit.objects.count() == 2
    # Another room in the same minute is no conflict.
    [elsewhere] = record(worker, item(rooms[1], "not_at_home", at(3, 9, 0, 40)))
    assert elsewhere.status == "created"
    assert not Visit.objects.get(pk=elsewhere.id).conflict


def test_far_visits_are_flagged_not_refused(
    territory: Territory, worker: Any, staff: Any, rooms: list[Room]
) -> None:
    [near, far] = record(
        worker,
        item(rooms[0], "registered", at(3, 9), location=NEAR),
        item(rooms[1], "registered", at(3, 9), location=FAR),
    )
    assert (near.status, near.far, far.status, far.far) == ("created", False, "created", True)
    stored = Visit.objects.get(pk=far.id)
    assert stored.far and 900 < stored.distance_m < 1200
    assert Visit.objects.get(pk=near.id).distance_m == 0
    # A sweep's own limit: 2 km.
    sweep = make_sweep(territory, rooms, far_visit_m=2000)
    [lenient] = record(worker, item(rooms[2], "registered", at(3, 9), location=FAR, sweep=sweep.pk))
    assert not lenient.far


# ---------------------------------------------------------------------------------------------
# Bad input: each field, nothing stored


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"id": "not-a-uuid"}, "bad_id"),
        ({"id": None}, "bad_id"),
        ({"outcome": "eaten"}, "bad_outcome"),
        ({"room": 10**9}, "unknown_room"),
        ({"room": "abc"}, "unknown_room"),
        ({"room": None}, "unknown_room"),
        ({"building": 10**9}, "unknown_building"),
        ({"sweep": 10**9}, "unknown_sweep"),
        ({"staff": 10**9}, "unknown_staff"),
        ({"visited_at": "2026-11-03T09:00:00"}, "bad_time"),
        ({"visited_at": "yesterday"}, "bad_time"),
        ({"visited_at": None}, "bad_time"),
        ({"visited_at": "2099-01-01T09:00:00+08:00"}, "future_time"),
        ({"location": {"type": "Point", "coordinates": [512000.0, 3545000.0]}}, "bad_location"),
        (
            {"location": {"type": "LineString", "coordinates": [[112, 32], [112, 33]]}},
            "bad_location",
        ),
        ({"location": {"type": "Point", "coordinates": ["112", 32]}}, "bad_location"),
        (
            {
                "location": {
                    "type": "Point",
                    "coordinates": [112.1, 32.0],
                    "crs": {"type": "name", "properties": {"name": "EPSG:4546"}},
                }
            },
            "bad_location",
        ),
        ({"note": "x" * 2001}, "bad_note"),
        ({"note": "a\x00b"}, "bad_note"),  # PostgreSQL text holds no NUL (was a 500)
        ({"new_room_number": 12}, "bad_new_room_number"),
        # Too large for a float (was an OverflowError, a 500).
        ({"location": {"type": "Point", "coordinates": [10**400, 1]}}, "bad_location"),
        ({"location": {"type": "Point", "coordinates": [float("nan"), 1]}}, "bad_location"),
    ],
)
def test_bad_input_stores_nothing(
    change: dict[str, Any], code: str, worker: Any, staff: Any, rooms: list[Room]
) -> None:
    good = item(rooms[1], "registered", at(3, 9))
    bad = {**item(rooms[0], "registered", at(3, 9)), **change}
    [error, ok] = record(worker, bad, good)
    assert error.status == "error"
    assert error.error is not None and error.error.code == code
    body = error.as_body()["error"]
    assert body["zh"] and body["en"]  # translated by the lead (locale/)
    assert ok.status == "created"
    assert list(Visit.objects.values_list("room", flat=True)) == [rooms[1].pk]
    assert list(RoomVisitState.objects.values_list("room", flat=True)) == [rooms[1].pk]


def test_room_outside_the_write_scope_is_unknown(
    territory: Territory, users: dict[str, Any], staff: Any
) -> None:
    away = RoomFactory(building=territory.away_building, floor=1, number="201")
    [result] = record(users[Role.COMMUNITY_WORKER], item(away, "registered", at(3, 9)))
    assert result.error is not None and result.error.code == "unknown_room"
    [reader] = record(users[Role.READ_ONLY], item(away, "registered", at(3, 9)))
    assert reader.error is not None and reader.error.code == "unknown_room"
    [admin] = record(users[Role.DISTRICT_ADMIN], item(away, "registered", at(3, 9)))
    assert admin.status == "created"
    assert Visit.objects.get(pk=admin.id).staff is None  # no Staff row of their own


def test_one_id_twice_in_a_batch_keeps_the_first_rooms_address(
    worker: Any, staff: Any, rooms: list[Room]
) -> None:
    visit_id = str(uuid.uuid4())
    first, second = record(
        worker,
        item(rooms[0], "registered", at(3, 9), id=visit_id),
        item(rooms[1], "registered", at(3, 9), id=visit_id),
    )
    assert (first.status, second.status) == ("created", "error")
    assert second.error is not None and second.error.code == "id_reused"
    stored = Visit.objects.get(pk=visit_id)
    assert stored.room_id == rooms[0].pk
    assert stored.address.endswith(rooms[0].number), stored.address


def test_a_queue_of_another_account_is_refused(
    worker: Any, staff: Any, rooms: list[Room], users: dict[str, Any]
) -> None:
    """The field page names the account whose phone queue a batch comes from; another account
    signed in on the same phone since cannot store it as its own."""
    api = APIClient()
    api.force_authenticate(worker)
    batch = [item(rooms[0], "registered", at(3, 9))]
    other = users[Role.STREET_SUPERVISOR].pk
    refused = api.post(reverse("visit-list"), {"visits": batch, "user": other}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "other_user"
    assert not Visit.objects.exists()
    stored = api.post(reverse("visit-list"), {"visits": batch, "user": worker.pk}, format="json")
    assert stored.status_code == 201
    assert Visit.objects.get().recorded_by == worker


def test_too_many_visits_at_once(worker: Any, staff: Any, rooms: list[Room]) -> None:
    with pytest.raises(visits.InvalidInputError):
        visits.record_visits(worker, [item(rooms[0], "registered", at(3, 9))] * 501)


# ---------------------------------------------------------------------------------------------
# The sweep side


def test_sweep_room_and_counts_follow_the_visits(
    territory: Territory, worker: Any, staff: Any, rooms: list[Room]
) -> None:
    sweep = make_sweep(territory, rooms[:3], revisit_attempts=2)
    team = SweepTeam.objects.create(sweep=sweep, name="一组", start="SRID=4326;POINT(112.11 32.01)")
    plan = SweepPlan.objects.create(sweep=sweep, version=1, reason=PlanReason.PLANNED)
    PlanStop.objects.create(
        plan=plan,
        team=team,
        building=territory.home_building,
        day=1,
        seq=1,
        rooms=3,
        walk_m=0,
        work_min=18,
    )
    coverage.rebuild_sweep_counts(sweep)
    record(
        worker,
        item(rooms[0], "not_at_home", at(3, 9), sweep=sweep.pk),
        item(rooms[1], "not_at_home", at(3, 9), sweep=sweep.pk),
        item(rooms[1], "refused", at(4, 15), sweep=sweep.pk),
        item(rooms[2], "registered", at(3, 9), sweep=sweep.pk),
        item(rooms[2], "changed", at(4, 9), sweep=sweep.pk),
        item(rooms[3], "registered", at(3, 9), sweep=sweep.pk),  # not a target
    )
    count = SweepCount.objects.get(sweep=sweep)
    assert (count.team_id, count.targets, count.visited, count.revisits, count.flagged) == (
        team.pk,
        3,
        1,
        1,
        1,
    )
    target = SweepRoom.objects.get(sweep=sweep, room=rooms[2])
    assert (target.attempts, target.last_outcome) == (2, "changed")
    assert timezone.localtime(target.first_visited_at) == at(3, 9)
    # A late visit that saw room 0 before its failure: visited from then on.
    record(worker, item(rooms[0], "registered", at(2, 9), sweep=sweep.pk))
    count.refresh_from_db()
    assert (count.visited, count.revisits, count.flagged) == (2, 0, 1)
    target = SweepRoom.objects.get(sweep=sweep, room=rooms[0])
    assert (target.attempts, target.last_outcome) == (2, "not_at_home")
    before = list(
        SweepCount.objects.values_list("team", "targets", "visited", "revisits", "flagged")
    )
    coverage.rebuild_sweep_counts(sweep)
    after = list(
        SweepCount.objects.values_list("team", "targets", "visited", "revisits", "flagged")
    )
    assert before == after


def test_state_kept_step_by_step_equals_a_recount(
    territory: Territory, worker: Any, staff: Any
) -> None:
    """A visit later than the room's others moves its state and sweep target on in place; an
    earlier one (a late queue) recomputes them from all visits. After every batch both equal a
    recount, and so do the sweep's counts."""
    rooms = [
        RoomFactory(building=territory.home_building, floor=1, number=f"3{i}") for i in range(5)
    ]
    sweep = make_sweep(territory, rooms[:4], revisit_attempts=2)
    chance = random.Random(6)
    outcomes = ["registered", "not_at_home", "refused", "not_at_home", "vacant", "not_at_home"]
    clock = at(1, 7)
    fields = ("last_visited_at", "last_outcome", "last_seen_on", "failed_attempts")
    fields += ("revisit_after", "revisit_part", "flagged")
    for _ in range(12):
        batch = []
        for _ in range(5):
            clock += datetime.timedelta(minutes=chance.randint(1, 400))
            late = chance.random() < 0.2
            when = clock - datetime.timedelta(hours=chance.randint(1, 48)) if late else clock
            sweep_id = {"sweep": sweep.pk} if chance.random() < 0.7 else {}
            batch.append(item(chance.choice(rooms), chance.choice(outcomes), when, **sweep_id))
        assert all(r.status != "error" for r in record(worker, *batch))
        kept = {s.room_id: [getattr(s, f) for f in fields] for s in RoomVisitState.objects.all()}
        targets = {
            t.room_id: (t.attempts, t.first_visited_at, t.last_outcome)
            for t in SweepRoom.objects.filter(sweep=sweep)
        }
        counts = list(SweepCount.objects.values_list("visited", "revisits", "flagged"))
        for room in rooms:
            recount = visits.update_room_state(room.pk)
            assert kept.get(room.pk) == ([getattr(recount, f) for f in fields] if recount else None)
            target = visits.update_sweep_room(sweep, room.pk)
            if target is not None:
                recounted = (target.attempts, target.first_visited_at, target.last_outcome)
                assert targets[room.pk] == recounted
        coverage.rebuild_sweep_counts(sweep)
        assert counts == list(SweepCount.objects.values_list("visited", "revisits", "flagged"))


def test_a_batch_costs_a_fixed_number_of_queries_per_visit(
    territory: Territory,
    worker: Any,
    staff: Any,
    django_assert_max_num_queries: Any,
) -> None:
    """20 visits of different rooms, with a sweep and a location, each its own transaction:
    8 statements a visit (savepoint, lock, id/double-tap/conflict read, insert, room state,
    sweep target, sweep count, release) and 5 for the batch (grants, rooms, sweep, staff, door
    plates) — measured; docs/visits.md. Later visits of the same rooms cost no more."""
    rooms = [
        RoomFactory(building=territory.home_building, floor=1, number=f"4{i}") for i in range(20)
    ]
    sweep = make_sweep(territory, rooms)
    for day in (3, 4):
        batch = [
            item(room, "not_at_home", at(day, 9), sweep=sweep.pk, location=NEAR) for room in rooms
        ]
        with django_assert_max_num_queries(20 * 8 + 5):
            results = record(worker, *batch)
        assert [r.status for r in results] == ["created"] * 20


# ---------------------------------------------------------------------------------------------
# Concurrency: the same id and the same room from two connections at once


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_the_same_visit_store_it_once(territory: Territory) -> None:
    worker = UserFactory(username="w2", grants=[(Role.COMMUNITY_WORKER, territory.home.code)])
    StaffFactory(community=territory.home, user=worker)
    room = RoomFactory(building=territory.home_building, floor=1, number="301")
    same = item(room, "registered", at(3, 9))
    taps = [item(room, "registered", at(3, 9, 0, s)) for s in range(1, 5)]
    results: list[visits.VisitResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def post(body: dict[str, Any]) -> None:
        try:
            barrier.wait()
            results.extend(visits.record_visits(worker, [body]))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(b,)) for b in [same] * 4 + taps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    statuses = sorted(r.status for r in results)
    assert statuses == ["created"] + ["duplicate"] * 7
    assert Visit.objects.count() == 1
    assert RoomVisitState.objects.get(room=room).last_seen_on == datetime.date(2026, 11, 3)


# ---------------------------------------------------------------------------------------------
# API


def test_api_post_one_or_many_and_list(
    territory: Territory, worker: Any, staff: Any, rooms: list[Room]
) -> None:
    client = APIClient()
    client.force_authenticate(worker)
    url = reverse("visit-list")
    one = item(rooms[0], "registered", at(3, 9))
    response = client.post(url, one, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["results"][0]["status"] == "created"
    response = client.post(url, one, format="json")
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "duplicate"
    batch = {
        "visits": [
            item(rooms[1], "not_at_home", at(3, 9), location=FAR),
            {**item(rooms[2], "registered", at(3, 9)), "outcome": "?"},
        ]
    }
    response = client.post(url, batch, format="json")
    assert response.status_code == 201
    first, second = response.json()["results"]
    assert first["status"] == "created" and first["far"] and first["revisit_after"]
    assert second["status"] == "error" and second["error"]["code"] == "bad_outcome"
    assert set(second["error"]) >= {"code", "zh", "en"}
    listed = client.get(url, {"far": "1"}).json()
    assert [v["id"] for v in listed["results"]] == [first["id"]]
    listed = client.get(url, {"room": rooms[0].pk}).json()
    assert listed["count"] == 1 and listed["results"][0]["outcome"] == "registered"
    assert client.get(url).json()["count"] == 2
    assert client.get(url, {"conflict": "1"}).json()["count"] == 0
    assert client.get(url, {"staff": staff.pk}).json()["count"] == 2
    assert client.get(url, {"sweep": "x"}).json()["count"] == 0
    newest = client.get(url).json()["results"]
    assert [v["visited_at"] for v in newest] == sorted(
        (v["visited_at"] for v in newest), reverse=True
    )
    # One bad object alone: 200 with its error, nothing stored.
    response = client.post(url, {**one, "id": str(uuid.uuid4()), "room": 10**9}, format="json")
    assert response.status_code == 200
    assert response.json()["results"][0]["error"]["code"] == "unknown_room"
    assert Visit.objects.count() == 2


def test_api_scope_and_read_only(
    territory: Territory, users: dict[str, Any], staff: Any, rooms: list[Room]
) -> None:
    away = RoomFactory(building=territory.away_building, floor=1, number="201")
    admin = APIClient()
    admin.force_authenticate(users[Role.DISTRICT_ADMIN])
    url = reverse("visit-list")
    assert admin.post(url, item(away, "registered", at(3, 9)), format="json").status_code == 201
    reader = APIClient()
    reader.force_authenticate(users[Role.READ_ONLY])
    assert (
        reader.post(url, item(rooms[0], "registered", at(3, 9)), format="json").status_code == 403
    )
    assert reader.get(url).json()["count"] == 0  # the away visit is outside the reader's scope
    worker = APIClient()
    worker.force_authenticate(users[Role.COMMUNITY_WORKER])
    assert worker.get(url).json()["count"] == 0
    bad = worker.post(url, {"visits": "x"}, format="json")
    assert bad.status_code == 400
