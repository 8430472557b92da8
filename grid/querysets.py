"""Every read of zones, staff, assignments, sweeps and visits, scoped through the community code
(``gis.querysets.ScopedQuerySet``)."""

from __future__ import annotations

import datetime
from typing import Any, Self

from django.apps import apps
from django.db.models import Q
from django.utils import timezone

from gis.querysets import Action, ScopedQuerySet, ancestor_codes, territory_prefixes


class ZoneQuerySet(ScopedQuerySet):
    scope_path = "community__code"

    def current(self) -> Self:
        """The zones in force now (older versions have ``valid_to`` set)."""
        return self.filter(valid_to__isnull=True)


class StaffQuerySet(ScopedQuerySet):
    scope_path = "community__code"


class AssignmentQuerySet(ScopedQuerySet):
    scope_path = "staff__community__code"

    def current(self, on: datetime.date | None = None) -> Self:
        """Assignments running on ``on`` (today by default) of active staff."""
        day = on or timezone.localdate()
        return self.filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=day), starts_on__lte=day, staff__active=True
        )


class PartitionJobQuerySet(ScopedQuerySet):
    scope_path = "community__code"


class SweepQuerySet(ScopedQuerySet):
    """Sweeps are scoped by the territory node that holds their area; users scoped below a sweep's
    node (a community worker in a street office's sweep) see it too, read-only, and see only their
    own territory's rooms, stops and visits of it."""

    scope_path = "territory_code"

    def visible_to(self, user: Any, action: Action = Action.READ) -> Self:
        visible = super().visible_to(user, action)
        if action is not Action.READ:
            return visible
        prefixes = territory_prefixes(user)
        if not prefixes:
            return visible
        return visible | self.filter(territory_code__in=ancestor_codes(prefixes))


class _OfSweepQuerySet(ScopedQuerySet):
    """Rows of a sweep (teams, plans, jobs) are visible with their sweep."""

    def visible_to(self, user: Any, action: Action = Action.READ) -> Self:
        sweeps: Any = apps.get_model("grid", "Sweep").objects
        return self.filter(sweep__in=sweeps.visible_to(user, action))


class SweepTeamQuerySet(_OfSweepQuerySet):
    pass


class SweepRoomQuerySet(ScopedQuerySet):
    scope_path = "building__community__code"


class SweepPlanQuerySet(_OfSweepQuerySet):
    def current(self) -> Self:
        """The plan in force of each sweep: its highest version."""
        return self.order_by("sweep_id", "-version").distinct("sweep_id")


class SweepPlanJobQuerySet(_OfSweepQuerySet):
    pass


class VisitQuerySet(ScopedQuerySet):
    scope_path = "community_code"
