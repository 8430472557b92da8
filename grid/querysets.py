"""Every read of zones, staff and assignments, scoped through the community code
(``gis.querysets.ScopedQuerySet``)."""

from __future__ import annotations

import datetime
from typing import Self

from django.db.models import Q
from django.utils import timezone

from gis.querysets import ScopedQuerySet


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
