"""The sweep pages in headless Chromium: start a sweep from the form and see its first plan
drawn, then move a building to another team on the sweep's map — with no request for another
host. The territory is the shared fixture's; nine buildings stand in a row along 人民路 in
``home`` (tests/grid/test_sweeps.py ``make_street``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.gis.geos import LineString

from gis.models import Role, Street, StreetKind
from grid import sweep_jobs
from grid.models import PlanStop, Sweep, SweepPlan

from ..conftest import Territory
from ..grid.test_sweeps import make_street, new_sweep, team
from .browser import PHONE, horizontal_overflow
from .test_offline_browser import assert_offline

pytestmark = [pytest.mark.browser]


@pytest.fixture(autouse=True)
def quick_solver(settings: Any) -> None:
    settings.SWEEP_PLAN_TIME_LIMIT_S = 0.3
    settings.SWEEP_ORDER_TIME_S = 0.05


@pytest.fixture
def row(territory: Territory) -> Any:
    street = make_street(territory)
    Street.objects.create(
        name="人民路",
        kind=StreetKind.LOCAL,
        district=territory.office.district,
        centerline=LineString((112.10, 32.0195), (112.145, 32.0195), srid=4326),
    )
    return street


def wait_for_plan(page: Any) -> None:
    page.wait_for_selector("#map .ol-viewport canvas", state="attached")
    page.wait_for_selector("#teams tbody tr")
    page.wait_for_selector("#days details.team-days")
    page.wait_for_load_state("networkidle")


def test_a_sweep_started_from_the_form_is_planned_and_drawn(
    signed_in: Any, row: Any, territory: Territory
) -> None:
    page, guard = signed_in(Role.COMMUNITY_WORKER, "/sweeps/")
    page.fill("#new-sweep input[name=name]", "人民路冬季清查")
    page.check(f"#community-list input[value='{territory.home.code}']")
    page.fill("#new-sweep input[name=teams]", "2")
    page.select_option("#team-rows select >> nth=0", label="队员0")
    with page.expect_navigation():
        page.click("#new-sweep button[type=submit]")
    wait_for_plan(page)
    sweep = Sweep.objects.get(name="人民路冬季清查")
    assert page.url.rstrip("/").endswith(f"/sweeps/{sweep.pk}")
    assert list(sweep.teams.order_by("pk").values_list("name", flat=True)) == ["第1组", "第2组"]
    assert [m.name for m in sweep.teams.order_by("pk")[0].members.all()] == ["队员0"]
    plan = SweepPlan.objects.get(sweep=sweep)
    assert plan.version == 1 and plan.stops.count() == 9
    # Both teams in the table, each with its share of the nine buildings.
    cells = [int(c) for c in page.locator("#teams tbody tr td:nth-child(3)").all_inner_texts()]
    assert len(cells) == 2 and all(cells) and sum(cells) == 9
    assert_offline(guard)


def test_moving_a_building_to_another_team_saves_a_new_version(
    signed_in: Any, row: Any, users: dict[str, Any]
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    sweep = new_sweep(worker, teams=[team("一队"), team("二队")])
    job = sweep_jobs.submit_plan(worker, sweep, "plan", queue=False)
    sweep_jobs.run_plan(str(job.pk))
    first = PlanStop.objects.filter(plan__sweep=sweep).order_by("team_id", "seq").first()
    assert first is not None
    page, guard = signed_in(Role.COMMUNITY_WORKER, f"/sweeps/{sweep.pk}/", viewport=PHONE)
    wait_for_plan(page)
    assert horizontal_overflow(page) == 0
    page.click(f"#days details.team-days[data-team='{first.team_id}'] > summary")
    page.click(f"#days details.day[data-team='{first.team_id}'][data-day='{first.day}'] > summary")
    page.click(f"#days details.day[data-team='{first.team_id}'] ol.stops button >> nth=0")
    other = sweep.teams.exclude(pk=first.team_id).get()
    page.select_option("#selected select", str(other.pk))
    page.click("#move")
    page.wait_for_function("() => document.querySelector('#summary h2').textContent.includes('2')")
    latest = SweepPlan.objects.filter(sweep=sweep).order_by("-version").first()
    assert latest is not None and latest.version == 2 and latest.reason == "edited"
    assert latest.stops.get(building_id=first.building_id).team_id == other.pk
    # Version 1 is unchanged.
    kept = PlanStop.objects.get(plan__version=1, plan__sweep=sweep, building_id=first.building_id)
    assert kept.team_id == first.team_id
    assert_offline(guard)
