"""The demo sweep: what ``make run`` shows on the sweep pages and the field page.

The demo community worker's community gets six grid staff (the demo worker's own Staff row
among them), a sweep that started three days ago with three teams starting from the community's
service station, its first plan, and the visits of the days already walked — outcomes drawn from
the seeds' proportions, a few of them "not at home" so the revisit lists are not empty. Written
through the services (``grid.sweeps``, ``grid.sweep_jobs``, ``grid.visits``) like any user's work.
"""

from __future__ import annotations

import datetime
import random
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from gis.models import Community, Role
from grid import sweep_jobs, visits
from grid.models import PlanStop, Staff, Sweep, SweepRoom, VisitOutcome
from grid.sweeps import create_sweep
from web.accounts import demo_accounts

STAFF_NAMES = ("王芳", "李强", "张伟", "刘洋", "陈静")
TEAMS = ("一组", "二组", "三组")
#: Outcomes of the visits already made, with their weights.
OUTCOMES = (
    (VisitOutcome.REGISTERED, 74),
    (VisitOutcome.CHANGED, 9),
    (VisitOutcome.NOT_AT_HOME, 8),
    (VisitOutcome.VACANT, 4),
    (VisitOutcome.MOVED_OUT, 3),
    (VisitOutcome.REFUSED, 2),
)
DAYS_WALKED = 3


def create_demo_sweep(*, today: datetime.date | None = None, seed: int = 7) -> Sweep | None:
    """Create the demo sweep once (``None`` when a sweep exists or no demo worker does)."""
    if Sweep.objects.exists():
        return None
    worker_account = next((a for a in demo_accounts() if a.role == Role.COMMUNITY_WORKER), None)
    user = get_user_model().objects.filter(username=getattr(worker_account, "username", "")).first()
    if worker_account is None or user is None:
        return None
    today = today or timezone.localdate()
    community = Community.objects.get(code=worker_account.territory_code)
    with transaction.atomic():
        staff = _staff(community, user)
        station = community.geom.point_on_surface
        sweep = create_sweep(
            user,
            name=f"{community.name}冬季清查",
            starts_on=today - datetime.timedelta(days=DAYS_WALKED),
            ends_on=today + datetime.timedelta(days=27),
            area_codes=[community.code],
            teams=[
                {
                    "name": name,
                    "members": [s.pk for s in staff[2 * i : 2 * i + 2]],
                    "start": station,
                    "start_name": f"{community.name}服务站",
                }
                for i, name in enumerate(TEAMS)
            ],
        )
    job = sweep_jobs.submit_plan(user, sweep, "plan", queue=False)
    sweep_jobs.run_plan(str(job.pk))
    _walk_first_days(user, sweep, random.Random(seed))  # noqa: S311 - demo data
    return sweep


def _staff(community: Community, user: Any) -> list[Staff]:
    """The demo worker's own Staff row first, then five colleagues."""
    own, _ = Staff.objects.get_or_create(
        user=user, defaults={"name": "演示网格员", "community": community}
    )
    others = [
        Staff.objects.get_or_create(community=community, name=name)[0] for name in STAFF_NAMES
    ]
    return [own, *others]


def _walk_first_days(user: Any, sweep: Sweep, rng: random.Random) -> None:
    """Visit every target room of the plan's first days, a team member at a time, from 9:00."""
    outcomes, weights = zip(*OUTCOMES, strict=True)
    stops = (
        PlanStop.objects.filter(plan__sweep=sweep, day__lte=DAYS_WALKED)
        .select_related("team")
        .order_by("team_id", "seq")
    )
    members = {t.pk: list(t.members.order_by("pk")) for t in sweep.teams.all()}
    clock: dict[tuple[int, int], datetime.datetime] = {}
    items = []
    for stop in stops:
        day = sweep.starts_on + datetime.timedelta(days=stop.day - 1)
        start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
        when = clock.get((stop.team_id, stop.day), start)
        rooms = SweepRoom.objects.filter(sweep=sweep, building_id=stop.building_id).order_by(
            "room_id"
        )
        for target in rooms:
            when += datetime.timedelta(minutes=rng.uniform(3, 9))
            items.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "room": target.room_id,
                    "sweep": sweep.pk,
                    "staff": rng.choice(members[stop.team_id]).pk,
                    "outcome": rng.choices(outcomes, weights)[0],
                    "visited_at": when.isoformat(),
                }
            )
        clock[(stop.team_id, stop.day)] = when
    for first in range(0, len(items), visits.MAX_BATCH):
        visits.record_visits(user, items[first : first + visits.MAX_BATCH])
