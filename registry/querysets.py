"""Every read of the register: scoped by ``visible_to(user)`` on the stored community code.

Row-level security in PostgreSQL applies the same rule a second time (``registry.privacy``).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Self

from django.db.models import Q

from gis.querysets import Action, ScopedQuerySet, territory_prefixes, write_roles


def in_node(code: str, column: str = "community_code") -> Q:
    """Rows whose 12-digit ``column`` lies in the territory node ``code`` (6, 9, 12 or 15
    digits), as an equality or a range: unlike LIKE (``__startswith``), both are leakproof, so
    PostgreSQL can use the column's index under row-level security."""
    if len(code) >= 12:
        return Q(**{column: code[:12]})
    upper = str(int(code) + 1).zfill(len(code))
    if len(upper) > len(code):  # 999999: every code from it on
        return Q(**{f"{column}__gte": code})
    return Q(**{f"{column}__gte": code, f"{column}__lt": upper})


class PersonalQuerySet(ScopedQuerySet):
    scope_path = "community_code"

    def visible_to(self, user: Any, action: Action = Action.READ) -> Self:
        """The user's rows by ranges of the community code (see :func:`in_node`): the base class's
        ``__startswith`` is LIKE, which row-level security evaluates only after its policy, row
        by row over the whole index (7 s for one community of a city of a million residents)."""
        roles = write_roles(False) if action is Action.WRITE else None
        prefixes = territory_prefixes(user, roles)
        if prefixes is None:
            return self
        condition = Q(pk__in=[])
        for prefix in prefixes:
            condition |= in_node(prefix, self.scope_path)
        return self.filter(condition)


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
