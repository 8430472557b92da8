"""API of the visits (docs/visits.md): record and list visits, coverage of a territory node and
of a sweep, and a sweep's gap lists. Thin views over ``grid.visits`` and ``grid.coverage``."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis.api.pagination import PagePagination
from gis.api.renderers import FastJSONRenderer
from gis.exceptions import InvalidInputError, NotFoundError, ScopeError

from .. import coverage, visits
from ..models import Sweep, Visit


def _digits(value: str | None) -> bool:
    return value is not None and value.isascii() and value.isdigit() and 0 < len(value) < 19


def _flag(value: str | None) -> bool | None:
    if value in ("1", "true"):
        return True
    if value in ("0", "false"):
        return False
    return None


def visit_body(visit: Visit) -> dict[str, Any]:
    return {
        "id": str(visit.pk),
        "room": visit.room_id,
        "building": visit.building_id,
        "community": visit.community_code,
        "address": visit.address,
        "sweep": visit.sweep_id,
        "staff": visit.staff_id,
        "staff_name": visit.staff.name if visit.staff else None,
        "visited_at": timezone.localtime(visit.visited_at).isoformat(),
        "received_at": timezone.localtime(visit.received_at).isoformat(),
        "outcome": visit.outcome,
        "location": json.loads(visit.location.json) if visit.location else None,
        "distance_m": None if visit.distance_m is None else round(visit.distance_m, 1),
        "far": visit.far,
        "conflict": visit.conflict,
        "note": visit.note,
        "new_room_number": visit.new_room_number,
    }


class VisitListView(APIView):
    """``POST``: record one visit or ``{"visits": [...]}`` (at most 500), each on its own
    (``grid.visits.record_visits``): 201 when something was stored, else 200, with one result
    per visit. ``GET``: visits in scope, newest first, paginated; ``?sweep=``, ``?room=``,
    ``?staff=`` (ids), ``?conflict=1|0``, ``?far=1|0`` narrow the list."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter(name, OpenApiTypes.STR, required=False)
            for name in ("sweep", "room", "staff", "conflict", "far")
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        queryset: QuerySet[Visit] = Visit.objects.visible_to(request.user).select_related("staff")
        for name in ("sweep", "room", "staff"):
            value = params.get(name)
            if value:
                queryset = (
                    queryset.filter(**{f"{name}_id": int(value)})
                    if _digits(value)
                    else queryset.none()
                )
        for name in ("conflict", "far"):
            flag = _flag(params.get(name))
            if flag is not None:
                queryset = queryset.filter(**{name: flag})
        queryset = queryset.order_by("-visited_at", "-received_at", "pk")
        paginator = PagePagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response([visit_body(v) for v in page or []])

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        data = request.data
        if isinstance(data, dict) and "visits" in data:
            _check_queued_by(request, data.get("user"))
            items = data["visits"]
            if not isinstance(items, list):
                raise InvalidInputError(
                    _("visits is a list of visits."), code="bad_visits", field="visits"
                )
        else:
            items = [data]
        results = visits.record_visits(request.user, items)
        created = any(r.stored for r in results)
        return Response({"results": [r.as_body() for r in results]}, status=201 if created else 200)


def _check_queued_by(request: Request, queued_by: Any) -> None:
    """A batch may name the user whose phone queue it comes from (the field page does): a queue
    of one account must not be stored under another that has signed in on the same phone since."""
    if queued_by is not None and queued_by != request.user.pk:
        raise ScopeError(
            _(
                "These visits were queued on this phone by another account: sign in as that "
                "account to send them."
            ),
            code="other_user",
            field="user",
        )


class TerritoryCoverageView(APIView):
    """Coverage of a district, street office, community or zone (``?code=``): rooms, rooms seen
    in the last ``?days=`` 7/30/90 days (or ever: ``all``, the default) and their share, all
    rooms or ``?rented=1`` only, per child node. Read from the coverage counts."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, required=True),
            OpenApiParameter("days", OpenApiTypes.STR, required=False),
            OpenApiParameter("rented", OpenApiTypes.STR, required=False),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        days = coverage.parse_days(params.get("days"))
        result = coverage.territory_coverage(
            request.user,
            params.get("code", ""),
            days=days,
            rented=_flag(params.get("rented")) is True,
        )
        return Response(result.as_body())


def _sweep(request: Request, pk: Any) -> Sweep:
    sweep = Sweep.objects.visible_to(request.user).filter(pk=pk).first()
    if sweep is None:
        raise NotFoundError(_("No sweep %(value)s in your territory."), value=str(pk))
    return sweep


class SweepCoverageView(APIView):
    """A sweep's figures: totals, per team (with what is left to reach 95% and the days it
    takes at the current rate) and per area, from its sweep counts."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        return Response(coverage.sweep_coverage(request.user, _sweep(request, pk)))


def _gap_row(row: dict[str, Any], now: Any) -> dict[str, Any]:
    """A gap row with flat names (``room__number`` → ``room_number``, the room state's fields
    by their own name), local times, and for revisits whether one is ``due`` now."""
    body = {
        key.replace("room__visit_state__", "").replace("room__", "room_"): value
        for key, value in row.items()
    }
    if "revisit_after" in body:
        after = body["revisit_after"]
        body["due"] = after is not None and after <= now
    for key in ("revisit_after", "last_visited_at"):
        if body.get(key) is not None:
            body[key] = timezone.localtime(body[key]).isoformat()
    return body


class SweepGapsView(APIView):
    """A sweep's gap list (``?kind=unvisited_rooms|unvisited_buildings|revisits|flagged``,
    ``?team=`` id or ``none``), in the user's territory, paginated."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, required=True),
            OpenApiParameter("team", OpenApiTypes.STR, required=False),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, pk: int) -> Response:
        sweep = _sweep(request, pk)
        params = request.query_params
        rows = coverage.sweep_gaps(
            request.user, sweep, params.get("kind", ""), team=params.get("team")
        )
        paginator = PagePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        now = timezone.now()
        response = paginator.get_paginated_response([_gap_row(r, now) for r in page or []])
        response.data["kind"] = params.get("kind")
        return response
