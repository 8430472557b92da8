"""The coverage choropleth (layers.coverage.choropleth, /api/coverage/map/), the coverage snapshots
behind its replay (grid.snapshots) and the demo's visit history (data.city.visit_history), each
against counts made here by hand or by plain SQL over the visits."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from data.city import visit_history
from gis.exceptions import InvalidInputError, NotFoundError
from gis.models import Role, Room
from grid import snapshots, visits
from grid.models import CoverageSnapshot, CoverageSnapshotDay, RoomVisitState, SweepTeam, Visit
from layers.coverage import choropleth as ch
from layers.models import BuildingCoverage

from ..conftest import Territory
from ..factories import BuildingFactory, RoomFactory
from ..grid.test_coverage import (
    city,  # noqa: F401 - the fixture
    kept_coverage,
    make_sweep,
    plan,
    recounted_coverage,
    slot,
    visit,
)


def _by_code(result: dict[str, Any]) -> dict[str, tuple[int, int, float | None]]:
    return {
        f["properties"]["code"]: (
            f["properties"]["rooms"],
            f["properties"]["seen"],
            f["properties"]["share"],
        )
        for f in result["features"]
    }


@pytest.fixture
def walked(territory: Territory, city: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """The grid tests' city with visits 2, 20 and 60 days ago and failures."""
    rooms, admin = city["rooms"], city["admin"]
    now = timezone.localtime()
    visits.record_visits(
        admin,
        [
            visit(rooms["west"][0], "registered", now - datetime.timedelta(days=2)),
            visit(rooms["west"][1], "registered", now - datetime.timedelta(days=20)),
            visit(rooms["west"][2], "not_at_home", now - datetime.timedelta(days=1)),
            visit(rooms["east"][0], "vacant", now - datetime.timedelta(days=60)),
            visit(rooms["away"][0], "registered", now - datetime.timedelta(days=1)),
        ],
    )
    return city


def test_choropleth_counts_rooms_seen_per_area_and_window(
    territory: Territory, walked: dict[str, Any]
) -> None:
    admin = walked["admin"]
    west, east = walked["zones"]
    home, away = territory.home.code, territory.away.code
    office = ch.choropleth(admin, territory.office.code, days=None)
    assert office["level"] == "community"
    assert _by_code(office) == {home: (7, 3, round(3 / 7, 4)), away: (1, 1, 1.0)}
    assert (office["node"]["rooms"], office["node"]["seen"]) == (8, 4)
    assert [step["code"] for step in office["node"]["path"]] == [
        territory.office.code[:6],
        territory.office.code,
    ]
    assert office["node"]["parent"] == territory.office.code[:6]
    week = ch.choropleth(admin, home, days=7)
    assert week["level"] == "zone"
    # Zones, and the community's part in no zone under the community's code.
    assert _by_code(week) == {
        west.code: (4, 1, 0.25),
        east.code: (2, 0, 0.0),
        home: (1, 0, 0.0),
    }
    names = {f["properties"]["code"]: f["properties"]["name"] for f in week["features"]}
    assert names[west.code] == "西网格" and names[home].startswith(territory.home.name + "（")
    assert ch.choropleth(admin, home, days=30)["node"]["seen"] == 2
    assert _by_code(ch.choropleth(admin, home, days=90, rented=True)) == {
        west.code: (0, 0, None),
        east.code: (2, 1, 0.5),
        home: (0, 0, None),
    }
    # A district drawn by community, and a zone drawing itself.
    district = ch.choropleth(admin, territory.office.code[:6], level="community", days=None)
    assert set(_by_code(district)) == {home, away}
    assert _by_code(ch.choropleth(admin, west.code, days=30)) == {west.code: (4, 2, 0.5)}
    # The window says what was counted.
    assert (
        week["window"]["since"] == (timezone.localdate() - datetime.timedelta(days=6)).isoformat()
    )


def test_classes_follow_the_targets_and_the_natural_breaks() -> None:
    shares = [0.5, 0.849, 0.85, 0.9, 0.9499, 0.95, 1.0, None]
    classes, legend = ch.classify(shares, "targets")
    assert classes == [0, 0, 1, 1, 1, 2, 2, None]
    assert [c["count"] for c in legend] == [2, 3, 2]
    assert [c["label"] for c in legend] == ["< 85%", "85%–95%", "≥ 95%"]
    values = [0.1, 0.12, 0.15, 0.3, 0.32, 0.5, 0.52, 0.55, 0.8, 0.82, 0.97, 0.99, 1.0, None]
    classes, legend = ch.classify(values, "natural")
    assert classes[-1] is None and sum(c["count"] for c in legend) == len(values) - 1
    for share, index in zip(values, classes, strict=True):
        if share is not None:
            assert legend[index]["lower"] <= share <= legend[index]["upper"]
    # Five clear clusters are the five classes.
    assert classes[:-1] == [0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4]
    # One distinct value: one class, not an error.
    classes, legend = ch.classify([0.4, 0.4], "natural")
    assert classes == [0, 0] and len(legend) == 1


def test_a_worker_sees_their_part_and_bad_queries_are_refused(
    territory: Territory, walked: dict[str, Any], users: dict[str, Any]
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    mine = ch.choropleth(worker, territory.office.code, days=None)
    assert _by_code(mine) == {territory.home.code: (7, 3, round(3 / 7, 4))}
    with pytest.raises(NotFoundError):
        ch.choropleth(worker, territory.away.code)
    client = APIClient()
    client.force_login(worker)
    url = reverse("coverage-map")
    assert client.get(url, {"code": territory.away.code}).status_code == 404
    for query, field in (
        ({"code": "42x"}, "code"),
        ({}, "code"),
        ({"code": territory.home.code, "days": "5"}, "days"),
        ({"code": territory.home.code, "level": "street_office"}, "level"),
        ({"code": territory.home.code, "scheme": "quantiles"}, "scheme"),
        ({"code": territory.home.code, "rented": "yes"}, "rented"),
        ({"code": territory.home.code, "at": "2026-13-01"}, "at"),
        ({"code": territory.home.code, "at": "20261101"}, "at"),
        ({"code": territory.home.code, "at": "0001-01-01"}, "at"),
        ({"code": territory.home.code, "at": "2026-11-01"}, "at"),  # no snapshot of it
        ({"code": territory.home.code, "at": timezone.localdate().isoformat()}, "at"),
        ({"code": territory.home.code, "sweep": "x"}, None),
    ):
        response = client.get(url, query, HTTP_ACCEPT_LANGUAGE="zh-hans")
        body = response.json()
        if field is None:
            assert response.status_code == 404
            continue
        assert response.status_code == 400, (query, body)
        assert body["field"] == field and body["detail_en"] and body["detail_zh"]
    body = client.get(url, {"code": territory.office.code, "days": "all"}).json()
    assert [f["id"] for f in body["features"]] == [territory.home.code]
    assert body["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert body["legend"]["classes"][0]["count"] == 1


def test_a_sweep_window_reads_its_sweep_counts(
    territory: Territory, walked: dict[str, Any]
) -> None:
    rooms, admin = walked["rooms"], walked["admin"]
    targets = rooms["west"] + rooms["away"]
    sweep = make_sweep(territory, targets)
    plan(
        sweep,
        1,
        {
            rooms["west"][0].building: SweepTeam.objects.create(
                sweep=sweep, name="一组", start="SRID=4326;POINT(112.1 32.0)"
            )
        },
    )
    now = timezone.localtime()
    visits.record_visits(
        admin,
        [
            visit(rooms["west"][3], "registered", now, sweep=sweep.pk),
            visit(rooms["away"][0], "changed", now, sweep=sweep.pk),
        ],
    )
    result = ch.choropleth(admin, territory.office.code, sweep=sweep)
    assert _by_code(result) == {
        territory.home.code: (4, 1, 0.25),
        territory.away.code: (1, 1, 1.0),
    }
    assert result["window"]["sweep"] == {"id": sweep.pk, "name": sweep.name}
    assert result["window"]["days"] is None
    with pytest.raises(InvalidInputError):
        ch.choropleth(admin, territory.office.code, sweep=sweep, at=datetime.date(2026, 1, 4))
    with pytest.raises(InvalidInputError):
        ch.choropleth(admin, territory.office.code, sweep=sweep, rented=True)


BRUTE_SNAPSHOT = """
    SELECT c.code, count(*),
           count(*) FILTER (WHERE s.last > %(day)s::date - 7),
           count(*) FILTER (WHERE s.last > %(day)s::date - 30),
           count(s.last)
      FROM geo_room r JOIN geo_building b ON b.id = r.building_id
      JOIN geo_community c ON c.id = b.community_id
      LEFT JOIN (SELECT room_id, max((visited_at AT TIME ZONE 'Asia/Shanghai')::date) AS last
                   FROM grid_visit
                  WHERE outcome NOT IN ('not_at_home', 'refused')
                    AND (visited_at AT TIME ZONE 'Asia/Shanghai')::date <= %(day)s
                  GROUP BY room_id) s ON s.room_id = r.id
     GROUP BY c.code
"""


def test_snapshots_are_coverage_as_it_was_that_day(
    territory: Territory, walked: dict[str, Any]
) -> None:
    admin = walked["admin"]
    today = timezone.localdate()
    days = [today - datetime.timedelta(days=n) for n in (1, 5, 25, 45)]
    # Just after local midnight the day after a snapshot day: still the day before in UTC, but
    # not seen by that day's snapshot (days are local).
    after_midnight = datetime.datetime.combine(
        days[1] + datetime.timedelta(days=1), datetime.time(0, 30), timezone.get_current_timezone()
    )
    visits.record_visits(admin, [visit(walked["rooms"]["west"][3], "registered", after_midnight)])
    assert snapshots.take_snapshots(days) == sorted(days)
    assert snapshots.take_snapshots(days) == []  # taken once, never again
    # Again in the same transaction (a job run at once by a request): its tables are made anew.
    assert snapshots.take_snapshots([today - datetime.timedelta(days=2)]) == [
        today - datetime.timedelta(days=2)
    ]
    for day in days:
        with connection.cursor() as cursor:
            cursor.execute(BRUTE_SNAPSHOT, {"day": day})
            brute = {code: (n, s7, s30, ever) for code, n, s7, s30, ever in cursor.fetchall()}
        rows = CoverageSnapshot.objects.filter(day=day)
        got: dict[str, list[int]] = {}
        for row in rows:
            totals = got.setdefault(row.area_code[:12], [0, 0, 0, 0])
            for i, value in enumerate((row.rooms, row.seen_7, row.seen_30, row.seen_ever)):
                totals[i] += value
        assert {k: tuple(v) for k, v in got.items()} == brute, day
    assert CoverageSnapshotDay.objects.count() == len(days) + 1
    # The choropleth "as of" a day reads its snapshot.
    then = ch.choropleth(admin, territory.home.code, days=30, at=days[2])
    assert then["window"]["at"] == days[2].isoformat()
    assert then["node"]["seen"] == sum(
        r.seen_30
        for r in CoverageSnapshot.objects.filter(
            day=days[2], area_code__startswith=territory.home.code
        )
    )
    assert ch.choropleth(admin, territory.home.code, days=7, at=days[0])["node"]["seen"] == 2
    # The visit at 00:30 the next day (16:30 UTC that day) is not in that day's snapshot.
    assert ch.choropleth(admin, territory.home.code, days=7, at=days[1])["node"]["seen"] == 0
    # Only days that have ended, and only days taken.
    with pytest.raises(ValueError):
        snapshots.take_snapshots([today])
    with pytest.raises(InvalidInputError):
        ch.parse_at((today - datetime.timedelta(days=3)).isoformat())
    assert ch.parse_at(days[2].isoformat()) == days[2]


def test_snapshot_days_are_sundays_and_month_ends() -> None:
    days = snapshots.snapshot_days(datetime.date(2026, 1, 26), datetime.date(2026, 3, 2))
    assert days == [
        datetime.date(2026, 1, 31),  # a month's last day (a Saturday)
        datetime.date(2026, 2, 1),  # Sundays
        datetime.date(2026, 2, 8),
        datetime.date(2026, 2, 15),
        datetime.date(2026, 2, 22),
        datetime.date(2026, 2, 28),
        datetime.date(2026, 3, 1),
    ]


def test_the_replay_lists_the_sundays_taken(territory: Territory, walked: dict[str, Any]) -> None:
    today = timezone.localdate()
    sundays = [d for d in snapshots.due_days(today) if d.isoweekday() == 7][-3:]
    snapshots.take_snapshots(sundays)
    result = ch.choropleth(walked["admin"], territory.home.code)
    assert result["replay"] == [d.isoformat() for d in sundays]
    assert snapshots.missing_days(today) and sundays[-1] not in snapshots.missing_days(today)


def test_the_visit_history_follows_the_rules_of_the_services(
    territory: Territory, users: dict[str, Any]
) -> None:
    for n in range(12):
        building = BuildingFactory(footprint=slot(n))
        for floor in (1, 2):
            RoomFactory(building=building, floor=floor, number=f"{floor}01")
    today = timezone.localdate()
    # A room visited through the services already: its state is recomputed with the history.
    first = Room.objects.order_by("pk").first()
    assert first is not None
    visits.record_visits(
        users[Role.DISTRICT_ADMIN],
        [visit(first, "not_at_home", timezone.localtime() - datetime.timedelta(days=1))],
    )
    done = visit_history.load_history(today=today, days=40, seed=3)
    assert done["visits"] == Visit.objects.count() - 1 and done["rooms_visited"] > 0
    assert visit_history.has_history()
    assert max(timezone.localtime(v.visited_at).date() for v in Visit.objects.all()) < today
    # Each room's state is what the services would compute from its visits.
    states = list(RoomVisitState.objects.values_list("room_id", flat=True))
    assert states and visit_history.state_differences(states) == []
    assert RoomVisitState.objects.filter(failed_attempts__gt=0).exists()  # the hardest rules
    # … and the check sees a state that is off.
    flipped = RoomVisitState.objects.get(room_id=states[0])
    RoomVisitState.objects.filter(room_id=states[0]).update(flagged=not flipped.flagged)
    assert visit_history.state_differences(states[:1]) == [
        (states[0], "flagged", not flipped.flagged, flipped.flagged)
    ]
    RoomVisitState.objects.filter(room_id=states[0]).update(flagged=flipped.flagged)
    assert kept_coverage() == recounted_coverage()
    # The buildings' coverage of the tiles: their rooms and the days those were last seen.
    seen: dict[int, list[datetime.date]] = {}
    for room in Room.objects.select_related("visit_state"):
        days = seen.setdefault(room.building_id, [])
        state = getattr(room, "visit_state", None)
        if state is not None and state.last_seen_on is not None:
            days.append(state.last_seen_on)
    kept = {c.building_id: (c.rooms, c.seen) for c in BuildingCoverage.objects.all()}
    assert {b: kept[b] for b in seen} == {
        b: (Room.objects.filter(building_id=b).count(), sorted(days)) for b, days in seen.items()
    }
    assert all(kept[b] == (0, []) for b in set(kept) - set(seen))  # buildings with no rooms
    assert set(snapshots.due_days(today)) <= set(snapshots.taken_days())
    # Rooms nobody visited are in the counts too.
    assert Room.objects.count() >= RoomVisitState.objects.count()
