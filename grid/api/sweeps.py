"""Thin API views of the sweeps: scoped reads, ``grid.sweeps`` and ``grid.sweep_jobs`` for
writes (docs/sweeps.md)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson
from django.contrib.gis.db.models import PointField
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis.api.renderers import FastJSONRenderer
from gis.crs import STORAGE_SRID
from gis.exceptions import InvalidInputError, NotFoundError
from gis.models import Building, DoorPlate
from gis.querysets import Action

from .. import sweep_jobs, sweeps
from ..exceptions import SweepError
from ..models import PlanStop, Staff, Sweep, SweepPlan, SweepPlanJob, SweepRoom, SweepTeam

DAY_PARAM = OpenApiParameter(
    "day", OpenApiTypes.INT, description="day of the plan (default: the first with rooms left)"
)
VERSION_PARAM = OpenApiParameter(
    "version", OpenApiTypes.INT, description="a plan version (default: the plan in force)"
)


def _body(request: Request) -> dict[str, Any]:
    """The JSON object posted (anything else: an empty one, whose fields are then missing)."""
    return request.data if isinstance(request.data, dict) else {}


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise InvalidInputError(
            _("?%(name)s= must be a whole number of at least 1, not %(value)s."),
            code=f"bad_{name}",
            field=name,
            name=name,
            value=repr(value)[:20],
        )
    return int(value)


# ---------------------------------------------------------------------------------------------
# Bodies


def sweep_head(sweep: Sweep) -> dict[str, Any]:
    return {
        "id": sweep.pk,
        "name": sweep.name,
        "starts_on": sweep.starts_on,
        "ends_on": sweep.ends_on,
    }


def team_body(team: SweepTeam) -> dict[str, Any]:
    return {
        "id": team.pk,
        "name": team.name,
        "start": team.start,
        "start_name": team.start_name,
        "members": [{"id": m.pk, "name": m.name} for m in team.members.all()],
    }


def _members(user: Any) -> Prefetch[Any]:
    """A team's members the user may see: staff of their own territory (a community worker in a
    street office's sweep does not see the names of other communities' staff)."""
    return Prefetch("members", queryset=Staff.objects.visible_to(user).order_by("name", "pk"))


def _teams(sweep: Sweep, user: Any) -> QuerySet[SweepTeam]:
    return sweep.teams.order_by("pk").prefetch_related(_members(user))


def sweep_body(sweep: Sweep, user: Any, *, detail: bool = False) -> dict[str, Any]:
    body = {
        **sweep_head(sweep),
        "territory_code": sweep.territory_code,
        "area_codes": sweep.area_codes,
        "target": sweep.target,
        "not_visited_days": sweep.not_visited_days,
        "minutes_per_room": sweep.minutes_per_room,
        "walking_speed_m_per_min": sweep.walking_speed_m_per_min,
        "day_minutes": sweep.day_minutes,
        "revisit_attempts": sweep.revisit_attempts,
        "far_visit_m": sweep.far_visit_m,
        "created_at": sweep.created_at,
        "closed": sweep.closed_at is not None,
        "closed_at": sweep.closed_at,
    }
    if detail:
        plan = sweep_jobs.current_plan(sweep)
        body["area"] = sweep.area
        body["rooms"] = SweepRoom.objects.visible_to(user).filter(sweep=sweep).count()
        body["teams"] = [team_body(t) for t in _teams(sweep, user)]
        body["plan"] = _version_body(plan) if plan else None
    return body


def _version_body(plan: SweepPlan) -> dict[str, Any]:
    return {
        "version": plan.version,
        "reason": plan.reason,
        "reason_label": str(plan.get_reason_display()),
        "created_at": plan.created_at,
        "created_by": getattr(plan.created_by, "username", None),
        "summary": plan.summary,
    }


def _job_body(job: SweepPlanJob) -> dict[str, Any]:
    english = (translation.get_language() or "").startswith("en")
    error = job.error_en if english else job.error_zh
    plan = job.plan
    return {
        "id": str(job.pk),
        "sweep": job.sweep_id,
        "kind": job.kind,
        **job.status_body(),
        "error": error or None,
        "plan": _version_body(plan) if plan else None,
    }


# ---------------------------------------------------------------------------------------------
# Sweeps


def _create_options(body: dict[str, Any]) -> dict[str, Any]:
    allowed = {
        "name",
        "starts_on",
        "ends_on",
        "target",
        "not_visited_days",
        "area_codes",
        "area",
        "minutes_per_room",
        "walking_speed_m_per_min",
        "day_minutes",
        "revisit_attempts",
        "far_visit_m",
        "teams",
    }
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise SweepError(
            _("Unknown field %(value)s: see the API documentation for a sweep's fields."),
            code="unknown_field",
            field=unknown[0],
            value=", ".join(unknown)[:60],
        )
    required = {"name": None, "starts_on": None, "ends_on": None, "area_codes": None, "area": None}
    return {**required, **body}


class SweepListView(APIView):
    """The sweeps in the user's territory (``?open=1``: not closed); POST creates one
    (``grid.sweeps.create_sweep``)."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(operation_id="sweeps_list", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        queryset = Sweep.objects.visible_to(request.user).order_by("-starts_on", "name", "pk")
        if request.query_params.get("open") in ("1", "true"):
            queryset = queryset.filter(closed_at__isnull=True)
        return Response([sweep_body(s, request.user) for s in queryset[:500]])

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        options = _create_options(_body(request))
        sweep = sweeps.create_sweep(request.user, **options)
        return Response(sweep_body(sweep, request.user, detail=True), status=201)


class SweepMineView(APIView):
    """The open sweeps (today within their window, not closed) where the signed-in user's
    staff row is a team member, with the team and the day to walk."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        today = timezone.localdate()
        teams = (
            SweepTeam.objects.filter(
                members__user=request.user.pk,
                sweep__closed_at__isnull=True,
                sweep__starts_on__lte=today,
                sweep__ends_on__gte=today,
            )
            .distinct()
            .select_related("sweep")
            .prefetch_related(_members(request.user))
            .order_by("sweep__starts_on", "sweep_id", "pk")
        )
        rows = []
        for team in teams:
            plan = sweep_jobs.current_plan(team.sweep)
            day, days = (None, 0) if plan is None else _default_day(plan, team)
            rows.append(
                {
                    "sweep": sweep_head(team.sweep),
                    "team": team_body(team),
                    "day": day,
                    "days": days,
                }
            )
        return Response(rows)


class SweepDetailView(APIView):
    """A sweep with its teams and the summary of its plan in force; PATCH renames it or moves
    its window (``name``, ``starts_on``, ``ends_on``)."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        return Response(sweep_body(sweeps.sweep_for(request.user, pk), request.user, detail=True))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def patch(self, request: Request, pk: int) -> Response:
        sweep = sweeps.sweep_for(request.user, pk, action=Action.WRITE)
        body = _body(request)
        unknown = sorted(set(body) - {"name", "starts_on", "ends_on"})
        if unknown:
            raise SweepError(
                _("Only name, starts_on and ends_on can be changed, not %(value)s."),
                code="unknown_field",
                field=unknown[0],
                value=", ".join(unknown)[:60],
            )
        sweep = sweeps.update_sweep(request.user, sweep, **body)
        return Response(sweep_body(sweep, request.user, detail=True))


class SweepCloseView(APIView):
    """Close the sweep: nothing of it changes any more."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int) -> Response:
        sweep = sweeps.sweep_for(request.user, pk, action=Action.WRITE)
        closed = sweeps.close_sweep(request.user, sweep)
        return Response(sweep_body(closed, request.user, detail=True))


# ---------------------------------------------------------------------------------------------
# Teams


class SweepTeamListView(APIView):
    """The sweep's teams; POST adds one (``name``, ``members``, ``start``, ``start_name``)."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(operation_id="sweeps_teams_list", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        sweep = sweeps.sweep_for(request.user, pk)
        return Response([team_body(t) for t in _teams(sweep, request.user)])

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int) -> Response:
        sweep = sweeps.sweep_for(request.user, pk, action=Action.WRITE)
        fields = sweeps.team_fields(_body(request))
        team = sweeps.add_team(request.user, sweep, **fields)
        return Response(team_body(_teams(sweep, request.user).get(pk=team.pk)), status=201)


class SweepTeamDetailView(APIView):
    """One team; PATCH changes its name, members, start point or start name; DELETE removes a
    team that is in no plan version yet."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int, team_id: int) -> Response:
        sweep = sweeps.sweep_for(request.user, pk)
        team = sweeps.team_for(sweep, team_id)
        return Response(team_body(_teams(sweep, request.user).get(pk=team.pk)))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def patch(self, request: Request, pk: int, team_id: int) -> Response:
        sweep = sweeps.sweep_for(request.user, pk, action=Action.WRITE)
        team = sweeps.update_team(request.user, sweeps.team_for(sweep, team_id), _body(request))
        return Response(team_body(_teams(sweep, request.user).get(pk=team.pk)))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int, team_id: int) -> Response:
        sweep = sweeps.sweep_for(request.user, pk, action=Action.WRITE)
        sweeps.remove_team(request.user, sweeps.team_for(sweep, team_id))
        return Response(status=204)


# ---------------------------------------------------------------------------------------------
# Planning jobs and versions


class SweepPlanJobListView(APIView):
    """Submit a planning job ``{"kind": "plan" | "replan" | "rebalance"}``: 202 with the job's
    URL to poll."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int) -> Response:
        sweep = sweeps.sweep_for(request.user, pk, action=Action.WRITE)
        job = sweep_jobs.submit_plan(request.user, sweep, _body(request).get("kind", "plan"))
        url = reverse("sweep-plan-job-detail", kwargs={"pk": job.pk})
        return Response({"id": str(job.pk), "status": job.status, "url": url}, status=202)


class SweepPlanJobDetailView(APIView):
    """A planning job: status, progress, error, and the plan version it wrote."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: Any) -> Response:
        job = (
            SweepPlanJob.objects.visible_to(request.user)
            .select_related("plan__created_by")
            .filter(pk=pk)
            .first()
        )
        if job is None:
            raise NotFoundError(_("No planning job %(value)s in your territory."), value=str(pk))
        return Response(_job_body(job))


class SweepPlanListView(APIView):
    """Every plan version of the sweep, newest first, with its summary."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        sweep = sweeps.sweep_for(request.user, pk)
        return Response([_version_body(p) for p in sweep_jobs.plan_versions(sweep)])


def _plan(request: Request, sweep: Sweep) -> SweepPlan:
    version = _int_param(request, "version")
    plans = SweepPlan.objects.filter(sweep=sweep).select_related("created_by")
    plan = plans.filter(version=version).first() if version else plans.order_by("-version").first()
    if plan is None:
        raise NotFoundError(
            _("Sweep %(sweep)s has no plan %(value)s yet: submit a planning job."),
            sweep=sweep.pk,
            value=f"v{version}" if version else "",
        )
    return plan


def _fragment(geojson: str | None) -> Any:
    """GeoJSON text made by PostGIS, embedded in the answer as it is (no parsing, no GDAL)."""
    return None if geojson is None else orjson.Fragment(geojson)


def _building_points(building_ids: list[int]) -> dict[int, Any]:
    """Building id → its point (first door plate's location, else its centroid) as GeoJSON
    (EPSG:4326, 7 decimals)."""
    plate = Subquery(
        DoorPlate.objects.filter(building=OuterRef("pk")).order_by("pk").values("location")[:1],
        output_field=PointField(srid=STORAGE_SRID),
    )
    rows = Building.objects.filter(pk__in=building_ids).annotate(
        point=AsGeoJSON(Coalesce(plate, "centroid"), precision=7)
    )
    return {pk: _fragment(point) for pk, point in rows.values_list("pk", "point")}


def _door_plates(building_ids: list[int]) -> dict[int, list[str]]:
    """Building id → the addresses of its door plates (building and entrance plates, not
    room plates), in address order."""
    plates: dict[int, list[str]] = defaultdict(list)
    rows = (
        DoorPlate.objects.filter(building_id__in=building_ids, room__isnull=True)
        .order_by("address")
        .values_list("building_id", "address")
    )
    for building, address in rows:
        plates[building].append(address)
    return plates


def _visible_stops(request: Request, plan: SweepPlan) -> QuerySet[PlanStop]:
    """The plan's stops in buildings the user can see (a community worker in a street
    office's sweep sees their own community's)."""
    return plan.stops.filter(building__in=Building.objects.visible_to(request.user))


class SweepPlanView(APIView):
    """The plan in force (or ``?version=``) as a GeoJSON FeatureCollection: one Point feature
    per stop (team, day, seq, rooms, walk_m, address, door plates) and one LineString per team
    and day (its route), with per team and day the ordered buildings, rooms, walking km and
    hours."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(parameters=[VERSION_PARAM], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        sweep = sweeps.sweep_for(request.user, pk)
        plan = _plan(request, sweep)
        stops = list(
            _visible_stops(request, plan).select_related("building").order_by("team_id", "seq")
        )
        ids = [s.building_id for s in stops]
        points, plates = _building_points(ids), _door_plates(ids)
        features: list[dict[str, Any]] = []
        ordered: dict[tuple[int, int], list[int]] = defaultdict(list)
        for stop in stops:
            ordered[(stop.team_id, stop.day)].append(stop.building_id)
            door_plates = plates.get(stop.building_id, [])
            features.append(
                {
                    "type": "Feature",
                    "geometry": points.get(stop.building_id),
                    "properties": {
                        "kind": "stop",
                        "team": stop.team_id,
                        "day": stop.day,
                        "seq": stop.seq,
                        "building": stop.building_id,
                        "address": _address(stop.building, door_plates),
                        "door_plates": door_plates,
                        "rooms": stop.rooms,
                        "walk_m": round(stop.walk_m, 1),
                        "work_min": round(stop.work_min, 1),
                    },
                }
            )
        teams = {t.pk: t for t in sweep.teams.all()}
        whole = sweeps.whole_sweep(request.user, sweep)
        days = list(
            plan.days.annotate(line=AsGeoJSON("route", precision=7)).order_by("team_id", "day")
        )
        per_team: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for day in days:
            features.append(
                {
                    "type": "Feature",
                    "geometry": _fragment(day.line) if whole else None,
                    "properties": {
                        "kind": "route",
                        "team": day.team_id,
                        "day": day.day,
                        "walk_m": round(day.walk_m, 1),
                    },
                }
            )
            per_team[day.team_id].append(
                {
                    "day": day.day,
                    "stops": day.stops,
                    "rooms": day.rooms,
                    "walk_km": round(day.walk_m / 1000, 3),
                    "hours": round(day.work_min / 60, 3),
                    "buildings": ordered.get((day.team_id, day.day), []),
                }
            )
        return Response(
            {
                "type": "FeatureCollection",
                "features": features,
                "sweep": sweep_head(sweep),
                "plan": _version_body(plan),
                "teams": [
                    {"id": tid, "name": team.name, "days": per_team.get(tid, [])}
                    for tid, team in sorted(teams.items())
                ],
            }
        )


def _address(building: Building, door_plates: list[str]) -> str:
    return door_plates[0] if door_plates else str(building)


class SweepPlanEditView(APIView):
    """Edit the plan in force by hand: ``{"action": "move", "buildings": [ids], "team": id,
    "day": n?}`` or ``{"action": "reorder", "team": id, "buildings": [ids in order]}``; answers
    the new version (201)."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int) -> Response:
        sweep = sweeps.sweep_for(request.user, pk, action=Action.WRITE)
        body = _body(request)
        action = body.get("action")
        if action == "move":
            plan = sweep_jobs.move_buildings(
                request.user,
                sweep,
                buildings=body.get("buildings"),  # type: ignore[arg-type]
                team=body.get("team"),
                day=body.get("day"),
            )
        elif action == "reorder":
            plan = sweep_jobs.reorder(
                request.user,
                sweep,
                team=body.get("team"),
                buildings_in_order=body.get("buildings"),  # type: ignore[arg-type]
            )
        else:
            raise SweepError(
                _("Unknown edit %(value)s: use move or reorder."),
                code="bad_action",
                field="action",
                value=repr(action)[:30],
            )
        return Response(_version_body(plan), status=201)


# ---------------------------------------------------------------------------------------------
# A team's route for a day (the field page)


def _default_day(plan: SweepPlan, team: SweepTeam) -> tuple[int, int]:
    """The first day of ``team`` in ``plan`` that still has unvisited target rooms, else its
    last day; and its number of days (0 and 0 when the team has no stop)."""
    days = sorted(set(plan.stops.filter(team=team).values_list("day", flat=True)))
    if not days:
        return 0, 0
    open_buildings = SweepRoom.objects.filter(
        sweep_id=plan.sweep_id, first_visited_at__isnull=True
    ).values("building_id")
    open_days = plan.stops.filter(team=team, building_id__in=open_buildings).values_list(
        "day", flat=True
    )
    first_open = min(open_days, default=None)
    return (first_open if first_open is not None else days[-1]), len(days)


class SweepTeamRouteView(APIView):
    """A team's walk for one day of the plan in force (``?day=``; by default the first day
    that still has unvisited target rooms, else the last): ordered stops with door plates and
    rooms, the day's walk, work and route line."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(parameters=[DAY_PARAM], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int, team_id: int) -> Response:
        sweep = sweeps.sweep_for(request.user, pk)
        team = sweeps.team_for(sweep, team_id)
        team = _teams(sweep, request.user).get(pk=team.pk)
        plan = sweep_jobs.current_plan(sweep)
        if plan is None:
            raise NotFoundError(
                _("Sweep %(sweep)s has no plan yet: there is no route to walk."), sweep=sweep.pk
            )
        first, days = _default_day(plan, team)
        day = _int_param(request, "day") or first
        if days and day > days:
            raise InvalidInputError(
                _("Team %(team)s walks %(days)s days in this plan: ask for day 1 to %(days)s."),
                code="bad_day",
                field="day",
                team=team.name,
                days=days,
            )
        plan_day = plan.days.filter(team=team, day=day).first()
        stops = list(
            _visible_stops(request, plan)
            .filter(team=team, day=day)
            .select_related("building")
            .order_by("seq")
        )
        ids = [s.building_id for s in stops]
        points, plates = _building_points(ids), _door_plates(ids)
        rooms = _rooms(sweep, ids)
        body_stops = []
        for stop in stops:
            door_plates = plates.get(stop.building_id, [])
            body_stops.append(
                {
                    "seq": stop.seq,
                    "building": stop.building_id,
                    "address": _address(stop.building, door_plates),
                    "door_plates": door_plates,
                    "point": points.get(stop.building_id),
                    "walk_m": round(stop.walk_m, 1),
                    "rooms": rooms.get(stop.building_id, []),
                }
            )
        return Response(
            {
                "sweep": sweep_head(sweep),
                "team": team_body(team),
                "plan_version": plan.version,
                "day": day,
                "days": days,
                "walk_m": round(plan_day.walk_m, 1) if plan_day else 0.0,
                "work_min": round(plan_day.work_min, 1) if plan_day else 0.0,
                "hours": round(plan_day.work_min / 60, 3) if plan_day else 0.0,
                "route": plan_day.route
                if plan_day and sweeps.whole_sweep(request.user, sweep)
                else None,
                "stops": body_stops,
            }
        )


def _rooms(sweep: Sweep, building_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Building id → the sweep's target rooms in it, with what the visits say of them."""
    rows = (
        SweepRoom.objects.filter(sweep=sweep, building_id__in=building_ids)
        .select_related("room__entrance", "room__visit_state")
        .order_by("building_id", "room__entrance__number", "-room__floor", "room__number")
    )
    rooms: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        room = row.room
        state = getattr(room, "visit_state", None)
        rooms[row.building_id].append(
            {
                "id": room.pk,
                "number": room.number,
                "floor": room.floor,
                "entrance": room.entrance.number if room.entrance else None,
                "use": room.use,
                "visited": row.first_visited_at is not None,
                "last_outcome": row.last_outcome,
                "revisit": bool(state and state.revisit_after is not None),
                "revisit_after": state.revisit_after if state else None,
                "flagged": bool(state and state.flagged),
            }
        )
    return rooms
