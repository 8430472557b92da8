"""API views for the map page: search and the territory tree.

Thin like the register's views: scoped reads from ``gis.search`` and ``gis.territory_tree``.
Splitting a room is an action of the rooms' viewset (``RoomViewSet.split``).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..exceptions import InvalidInputError, NotFoundError
from ..search import MAX_LIMIT, Query, search
from ..territory_tree import CODE_LENGTHS, territory_tree
from .renderers import FastJSONRenderer

_TERRITORY_CODE_RE = re.compile("|".join(f"[0-9]{{{n}}}" for n in CODE_LENGTHS))
MAX_QUERY_CHARS = 100


class SearchView(APIView):
    """Door plates, buildings, rooms and territory nodes matching ``q``, best first."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                required=True,
                description="what was typed: 人民路12, 12号3栋, 3栋501, a name, a code or its start",
            ),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"1 to {MAX_LIMIT}, 20"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("q", "")
        if not Query.of(text).searchable or len(text) > MAX_QUERY_CHARS:
            raise InvalidInputError(
                _(
                    "Type what to search for in ?q= (1 to %(max)s characters): part of an "
                    "address such as 人民路12, a building, a room such as 3栋501, a community, or "
                    "a territory code."
                ),
                code="bad_query",
                field="q",
                max=MAX_QUERY_CHARS,
            )
        limit_text = request.query_params.get("limit", "20")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
            raise InvalidInputError(
                _("limit %(value)s must be a whole number from 1 to %(max)s."),
                code="bad_limit",
                field="limit",
                value=limit_text[:20],
                max=MAX_LIMIT,
            )
        hits = search(request.user, text, limit=int(limit_text))
        return Response({"results": [hit.as_dict() for hit in hits]})


class TerritoryView(APIView):
    """The territory tree the user sees; ``?code=`` one node (with what lies below it)."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "code", OpenApiTypes.STR, description="a district, street office or community code"
            )
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        code = request.query_params.get("code")
        if code is None:
            return Response({"nodes": [n.as_dict() for n in territory_tree(request.user)]})
        if not _TERRITORY_CODE_RE.fullmatch(code):
            raise InvalidInputError(
                _(
                    "The code %(value)s must have 6, 9 or 12 digits (district, street office, "
                    "community)."
                ),
                code="bad_code",
                field="code",
                value=code[:20],
            )
        nodes = territory_tree(request.user, under=code)
        if not nodes:
            raise NotFoundError(
                _("There is no district, street office or community %(value)s in your territory."),
                value=code,
            )
        return Response(nodes[0].as_dict())
