"""The demo sweep of ``make run`` (data/city/demo_sweep.py), on the shared test territory."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from data.city.demo_sweep import DAYS_WALKED, create_demo_sweep
from grid.models import PlanStop, Staff, Sweep, SweepRoom, Visit
from web.accounts import create_demo_accounts

from ..conftest import Territory
from ..grid.test_sweeps import make_street

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def demo(settings: Any) -> None:
    settings.DEMO_MODE = True
    settings.SWEEP_PLAN_TIME_LIMIT_S = 0.3
    settings.SWEEP_ORDER_TIME_S = 0.05


def test_the_demo_sweep_is_planned_and_its_first_days_walked(territory: Territory) -> None:
    make_street(territory)
    assert create_demo_sweep() is None  # no demo worker yet
    create_demo_accounts()
    today = datetime.date(2026, 12, 3)
    sweep = create_demo_sweep(today=today)
    assert sweep is not None
    assert sweep.starts_on == today - datetime.timedelta(days=DAYS_WALKED)
    assert sweep.area_codes == [territory.home.code]
    # The demo worker is a member of the first team: the field page has a route for them.
    worker_staff = Staff.objects.get(user__username="demo-worker")
    assert sweep.teams.order_by("pk")[0].members.filter(pk=worker_staff.pk).exists()
    walked = set(
        PlanStop.objects.filter(plan__sweep=sweep, day__lte=DAYS_WALKED).values_list(
            "building_id", flat=True
        )
    )
    assert walked, "the plan has no stop in its first days"
    # Every target room of the walked buildings was visited once, within the sweep.
    targets = SweepRoom.objects.filter(sweep=sweep, building_id__in=walked)
    visited = Visit.objects.filter(sweep=sweep)
    assert visited.count() == targets.count()
    assert set(visited.values_list("room_id", flat=True)) == set(
        targets.values_list("room_id", flat=True)
    )
    assert sum(c.visited for c in sweep.counts.all()) > 0
    assert create_demo_sweep(today=today) is None  # once only
    assert Sweep.objects.count() == 1
