"""Request-level access: signed in, and no writes from users who hold only read-only roles.

Object-level scope is the querysets' (``visible_to``: out of scope answers 404) and the services'
(``can_write``: a write outside the user's write scope answers 403).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from gis.models import WRITE_ROLES
from gis.querysets import territory_prefixes


class TerritoryPermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in SAFE_METHODS or user.is_superuser:
            return True
        # The user's grants, read once per request and kept for the scope checks that follow.
        return bool(territory_prefixes(user, WRITE_ROLES))
