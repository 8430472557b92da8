"""Every read of the register, and the territory scope that limits it: ``visible_to(user)``.

Territory codes nest by prefix (district 6 digits ⊂ street office 9 ⊂ community 12), so a user's
scope is a set of code prefixes, one per :class:`~gis.models.ScopeGrant`. Objects hang off a
community; each queryset class names the path to that community's code.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Self

from django.contrib.gis.db import models
from django.db.models import F, Q, Subquery
from django.db.models.functions import Length

if TYPE_CHECKING:
    from .address import AddressParts


class Action(StrEnum):
    READ = "read"
    WRITE = "write"


def territory_prefixes(user: Any, roles: Iterable[str] | None = None) -> list[str] | None:
    """The code prefixes where ``user`` holds one of ``roles`` (any role when ``None``).

    ``None`` means everywhere (a superuser); an empty list means nowhere.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return None
    cache = user.__dict__.setdefault("_plategrid_grants", None)
    if cache is None:
        cache = list(user.scope_grants.values_list("territory_code", "role"))
        user.__dict__["_plategrid_grants"] = cache
    wanted = None if roles is None else set(roles)
    return sorted({code for code, role in cache if wanted is None or role in wanted})


def can_write(user: Any, code: str, *, territory: bool = False) -> bool:
    """Whether ``user`` may change objects of the node ``code`` (a community code for property;
    the node's own code for territory edits, which need a district administrator)."""
    prefixes = territory_prefixes(user, write_roles(territory))
    return prefixes is None or any(code.startswith(p) for p in prefixes)


def writes_somewhere(user: Any) -> bool:
    """Whether ``user`` holds a write role anywhere (may submit imports, field packs…)."""
    prefixes = territory_prefixes(user, write_roles(False))
    return prefixes is None or bool(prefixes)


def ancestor_codes(prefixes: Iterable[str]) -> list[str]:
    """The district and street office codes above the territory codes ``prefixes``: shown
    (read-only) to users scoped below them, as the outline their territory sits in."""
    return sorted({p[:n] for p in prefixes for n in (6, 9) if n < len(p)})


def write_roles(territory: bool) -> tuple[str, ...]:
    from .models import WRITE_ROLES, Role

    return (Role.DISTRICT_ADMIN,) if territory else tuple(WRITE_ROLES)


class ScopedQuerySet(models.QuerySet):
    #: Lookup path from the model to the 12-digit community code (or the node's own code).
    scope_path: str = ""
    #: Territory nodes are edited by district administrators only.
    territory: bool = False
    #: Territory nodes are also visible to users scoped below them (a worker sees the outline of
    #: their district), read-only.
    show_ancestors: bool = False

    def visible_to(self, user: Any, action: Action = Action.READ) -> Self:
        roles = write_roles(self.territory) if action is Action.WRITE else None
        prefixes = territory_prefixes(user, roles)
        if prefixes is None:
            return self
        if not prefixes:
            return self.none()
        condition = Q()
        for prefix in prefixes:
            condition |= Q(**{f"{self.scope_path}__startswith": prefix})
        if self.show_ancestors and action is Action.READ:
            condition |= Q(**{f"{self.scope_path}__in": ancestor_codes(prefixes)})
        return self.filter(condition)


class TerritoryQuerySet(ScopedQuerySet):
    scope_path = "code"
    territory = True
    show_ancestors = True


class StreetOfficeQuerySet(TerritoryQuerySet):
    def with_parent(self) -> Self:
        return self.select_related("district")


class CommunityQuerySet(TerritoryQuerySet):
    def containing(self, point: Any) -> Self:
        return self.filter(geom__intersects=point)


class CompoundQuerySet(ScopedQuerySet):
    scope_path = "community__code"


class LandlordQuerySet(ScopedQuerySet):
    scope_path = "community__code"


class BuildingQuerySet(ScopedQuerySet):
    scope_path = "community__code"

    def in_bbox(self, bbox: Any) -> Self:
        return self.filter(footprint__bboverlaps=bbox)


class EntranceQuerySet(ScopedQuerySet):
    scope_path = "building__community__code"


class RoomQuerySet(ScopedQuerySet):
    scope_path = "building__community__code"

    def with_building(self) -> Self:
        return self.select_related("building", "entrance", "landlord")


class StreetQuerySet(ScopedQuerySet):
    """Streets belong to a district: everyone scoped inside it sees them, read-only below the
    district administrator."""

    scope_path = "district__code"
    territory = True
    show_ancestors = True


class DoorPlateQuerySet(ScopedQuerySet):
    scope_path = "building__community__code"

    def matching(self, text: str) -> Self:
        """Partial standard-address search: "人民路12", "人民路12号3栋", "春园小区5栋501".

        Matches the normalised address key as a substring, or, when the text parses into
        address parts, every part it names (so that parts left out, such as the compound between
        the door number and the building, do not prevent a match).
        """
        from .address import parse_address, search_key

        key = search_key(text)
        if not key:
            return self.none()
        condition = Q(search_key__contains=key)
        parsed = parse_address(text)
        if parsed.ok:
            condition |= parts_condition(parsed.parts)
        return self.filter(condition)

    def with_parts(self, parts: AddressParts) -> Self:
        """The plates that have every part ``parts`` names (none: no plate)."""
        return self.filter(parts_condition(parts))

    def building_address(self, building: Any) -> Subquery:
        """The standard address of ``building`` (an ``OuterRef`` to a building id), for
        ``annotate``: its own plate's (no room; one without an entrance first, then the
        shortest), or NULL."""
        own = self.filter(building=building, room__isnull=True).order_by(
            F("entrance_id").asc(nulls_first=True), Length("address"), "pk"
        )
        return Subquery(own.values("address")[:1])


def parts_condition(parts: AddressParts) -> Q:
    """Plates having every address part named in ``parts``: names as substrings (a partial
    community or compound name), numbers exactly; the floor, implied by the room, is not used.
    Empty ``parts`` match nothing."""
    from .address import search_key

    named = {
        "district__contains": parts.district,
        "street_office__contains": parts.street_office,
        "community__contains": parts.community,
        "road": parts.road,
        "number": parts.number,
        "compound__contains": parts.compound,
        "building_number": parts.building,
        "entrance_number": parts.entrance,
        "room_number": parts.room,
    }
    structured = {lookup: value for lookup, value in named.items() if value}
    if not structured:
        return Q(pk__in=[])
    # The names are also in the key: saying so lets the trigram index find the rows (with the
    # numbers' indexes), where an OR with the key's substring would otherwise scan the table.
    names = (parts.district, parts.street_office, parts.community, parts.road, parts.compound)
    in_key = [search_key(name) for name in names if name]
    return Q(*[Q(search_key__contains=k) for k in in_key if k], **structured)
