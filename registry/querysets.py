"""Every read of the register: scoped by ``visible_to(user)`` on the stored community code.

Row-level security in PostgreSQL applies the same rule a second time (``registry.privacy``).
"""

from __future__ import annotations

from datetime import date
from typing import Self

from django.db.models import Q

from gis.querysets import ScopedQuerySet


class PersonalQuerySet(ScopedQuerySet):
    scope_path = "community_code"


class HouseholdQuerySet(PersonalQuerySet):
    pass


class ResidentQuerySet(PersonalQuerySet):
    def by_id_number(self, hashed: str) -> Self:
        return self.filter(id_number_hash=hashed)


class OccupancyQuerySet(PersonalQuerySet):
    def as_of(self, day: date) -> Self:
        """Occupancies under way on ``day``: moved in on or before it, not yet moved out."""
        return self.filter(Q(moved_out__isnull=True) | Q(moved_out__gt=day), moved_in__lte=day)

    def current(self) -> Self:
        return self.filter(moved_out__isnull=True)


class ContractQuerySet(PersonalQuerySet):
    def valid_on(self, day: date) -> Self:
        return self.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=day), signed_on__lte=day)
