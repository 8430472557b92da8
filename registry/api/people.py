"""The people register's API: residents, households, search by identity number, reveal, and the
access log for auditors (``/api/registry/…``).

Every view reads and writes inside :func:`registry.privacy.personal` for the request's user, so
row-level security applies as well as ``visible_to(user)``: a resident outside the user's
territory answers 404 on every route. Writes go through ``registry.services`` (scope checks,
validation, encryption); users holding only read-only grants get 403 on writes before any lookup
(``TerritoryPermission``). Residents are shown with the masked identity number and phone only;
the clear values come only from ``…/reveal/`` (permission + reason, logged, ``no-store``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis.api.pagination import PagePagination
from gis.exceptions import InvalidInputError, NotFoundError
from gis.models import DoorPlate, Room, ScopeGrant
from gis.querysets import ancestor_codes, territory_prefixes

from .. import services
from ..models import (
    Access,
    AccessLog,
    Category,
    FollowUp,
    FollowUpSchedule,
    Household,
    Occupancy,
    Resident,
)
from ..privacy import AUDITOR, personal
from ..querysets import in_node
from . import NO_STORE, NoStore
from . import serializers as s

SECRET_FIELDS = ("id_number", "phone", "reason")
# ---------------------------------------------------------------------------------------------
# Permissions


def _signed_in(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


class SignedIn(BasePermission):
    """Any active signed-in user: search and reveal are reads (POST only to keep the number and
    the reason out of URLs); the services check the territory and the reveal permission."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return _signed_in(request.user)


class Auditor(BasePermission):
    """Holders of ``registry.audit`` (the auditor role), reading only."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return _signed_in(request.user) and request.user.has_perm("registry.audit")


# ---------------------------------------------------------------------------------------------
# Query parameters


def _text(params: Any, key: str, limit: int = 100) -> str:
    value = str(params.get(key, "")).strip()
    if "\x00" in value or len(value) > limit:
        raise InvalidInputError(
            _("%(name)s is not a usable value."), code="bad_parameter", field=key, name=key
        )
    return value


def _day(params: Any, key: str) -> date | None:
    value = _text(params, key, 20)
    if not value:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad_day(key, value)
    except ValueError:
        return _bad_day(key, value)


def _bad_day(key: str, value: str) -> date:
    raise InvalidInputError(
        _("%(name)s %(value)s must be a date as YYYY-MM-DD."),
        code="bad_date",
        field=key,
        name=key,
        value=value[:20],
    )


def _id(params: Any, key: str) -> int | None:
    value = _text(params, key, 20)
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) >= 2**63:
        raise InvalidInputError(
            _("%(name)s %(value)s must be a whole number (an id)."),
            code="bad_id",
            field=key,
            name=key,
            value=value[:20],
        )
    return int(value)


def _code(params: Any, key: str) -> str:
    value = _text(params, key, 12)
    if value and not (value.isascii() and value.isdigit()):
        raise InvalidInputError(
            _("%(name)s %(value)s must be a territory code (digits)."),
            code="bad_code",
            field=key,
            name=key,
            value=value[:12],
        )
    return value


def _choice(params: Any, key: str, choices: list[str]) -> str:
    value = _text(params, key, 20)
    if value and value not in choices:
        raise InvalidInputError(
            _("%(name)s must be one of %(choices)s."),
            code="bad_choice",
            field=key,
            name=key,
            choices=", ".join(choices),
        )
    return value


# ---------------------------------------------------------------------------------------------
# Querysets (evaluated inside personal())


def _plates() -> Prefetch:
    return Prefetch("room__building__door_plates", DoorPlate.objects.order_by("id"))


def _occupancies(user: Any) -> Prefetch:
    return Prefetch(
        "occupancies",
        Occupancy.objects.visible_to(user)
        .select_related("room__building")
        .prefetch_related(_plates())
        .order_by("moved_in", "id"),
    )


def residents(user: Any) -> QuerySet[Resident]:
    return (
        Resident.objects.visible_to(user)
        .select_related("schedule")
        .prefetch_related(_occupancies(user))
        .order_by("id")
    )


def _resident(user: Any, pk: int, *, detail: bool = False) -> Resident:
    queryset = residents(user)
    if detail:
        queryset = queryset.prefetch_related(
            Prefetch("follow_ups", FollowUp.objects.visible_to(user).order_by("-done_on", "-id"))
        )
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFoundError(_("No such resident in your territory."), code="not_found")
    return found


def _room(pk: int, field: str = "room") -> Room:
    # Rooms are property, not personal data: the service answers 403 for one outside the user's
    # write scope (as the property API does).
    room = Room.objects.select_related("building__community").filter(pk=pk).first()
    if room is None:
        raise InvalidInputError(
            _("There is no room %(value)s."), code="no_room", field=field, value=pk
        )
    return room


def _household(user: Any, pk: int | None) -> Household | None:
    if pk is None:
        return None
    found = Household.objects.visible_to(user).filter(pk=pk).first()
    if found is None:
        raise InvalidInputError(
            _("There is no household %(value)s in your territory."),
            code="no_household",
            field="household",
            value=pk,
        )
    return found


def _schedule(code: str | None) -> FollowUpSchedule | None:
    if not code:
        return None
    found = FollowUpSchedule.objects.filter(code=code).first()
    if found is None:
        raise InvalidInputError(
            _("There is no follow-up schedule %(value)s."),
            code="no_schedule",
            field="schedule",
            value=code[:40],
        )
    return found


def _valid(serializer_class: type[Any], request: Request, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _detail(user: Any, pk: int) -> dict[str, Any]:
    return dict(s.ResidentDetailSerializer(_resident(user, pk, detail=True)).data)


# ---------------------------------------------------------------------------------------------
# Residents

AS_OF = OpenApiParameter(
    "as_of", OpenApiTypes.DATE, description="Only residents living somewhere that day"
)
RESIDENT_FILTERS = [
    OpenApiParameter("community", OpenApiTypes.STR, description="Territory code (prefix)"),
    OpenApiParameter("building", OpenApiTypes.INT, description="Living in this building"),
    OpenApiParameter("room", OpenApiTypes.INT, description="Living in this room"),
    OpenApiParameter("category", OpenApiTypes.STR, enum=Category.values),
    OpenApiParameter("name", OpenApiTypes.STR, description="Name starts with"),
    AS_OF,
]


class PersonalAPIView(NoStore, APIView):
    parser_classes = [JSONParser]


class PersonalListView(NoStore, GenericAPIView):
    """A paged list (``{count, next, previous, results}``), read inside ``personal()``."""

    parser_classes = [JSONParser]
    pagination_class = PagePagination


@method_decorator(sensitive_post_parameters(*SECRET_FIELDS), name="dispatch")
class ResidentListView(PersonalListView):
    """Residents of the user's territory (masked), and registering a new one."""

    http_method_names = ["get", "post", "head", "options"]
    serializer_class = s.ResidentSerializer

    def filtered(self, request: Request) -> tuple[QuerySet[Resident], date | None]:
        params = request.query_params
        day = _day(params, "as_of")
        building, room = _id(params, "building"), _id(params, "room")
        queryset = residents(request.user)
        community = _code(params, "community")
        if community:
            queryset = queryset.filter(in_node(community))
        category = _choice(params, "category", list(Category.values))
        if category:
            queryset = queryset.filter(category=category)
        name = _text(params, "name", 50)
        if name:
            queryset = queryset.filter(name__startswith=name)
        if day or building or room:
            living = (
                Occupancy.objects.visible_to(request.user).as_of(day)
                if day
                else Occupancy.objects.visible_to(request.user).current()
            )
            if building:
                living = living.filter(room__building_id=building)
            if room:
                living = living.filter(room_id=room)
            queryset = queryset.filter(pk__in=living.values("resident_id"))
        return queryset, day

    @extend_schema(parameters=RESIDENT_FILTERS, responses=s.ResidentSerializer(many=True))
    def get(self, request: Request) -> Response:
        with personal(request.user):
            queryset, day = self.filtered(request)
            page = self.paginate_queryset(queryset)
            data = s.ResidentSerializer(page, many=True, context={"day": day}).data
        return self.get_paginated_response(data)

    @extend_schema(request=s.ResidentCreateSerializer, responses={201: s.ResidentDetailSerializer})
    @method_decorator(sensitive_variables("body", "data"))
    def post(self, request: Request) -> Response:
        body = _valid(s.ResidentCreateSerializer, request)
        with personal(request.user):
            data = services.PersonData(
                name=body["name"],
                category=body["category"],
                id_number=body.get("id_number") or "",
                phone=body.get("phone") or "",
                birth_date=body.get("birth_date"),
                sex=body.get("sex") or "",
                home_registration=body.get("home_registration") or "",
                employer=body.get("employer") or "",
                arrival_date=body.get("arrival_date"),
                schedule=_schedule(body.get("schedule")),
            )
            resident = services.register_resident(
                request.user,
                data,
                room=_room(body["room"]),
                moved_in=body["moved_in"],
                relation=body["relation"],
                household=_household(request.user, body.get("household")),
            )
            shown = _detail(request.user, resident.pk)
        return Response(shown, status=201)


@method_decorator(sensitive_post_parameters(*SECRET_FIELDS), name="dispatch")
class ResidentDetailView(PersonalAPIView):
    """One resident's file (masked); PATCH changes the fields sent."""

    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(responses=s.ResidentDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        with personal(request.user):
            shown = _detail(request.user, pk)
        return Response(shown)

    @extend_schema(request=s.ResidentUpdateSerializer, responses=s.ResidentDetailSerializer)
    @method_decorator(sensitive_variables("body", "changes"))
    def patch(self, request: Request, pk: int) -> Response:
        body = _valid(s.ResidentUpdateSerializer, request, partial=True)
        with personal(request.user):
            resident = _resident(request.user, pk)
            changes = {k: v for k, v in body.items() if k != "schedule"}
            for key in ("sex", "home_registration", "employer"):
                if key in changes and changes[key] is None:
                    changes[key] = ""
            if "schedule" in body:
                changes["schedule"] = _schedule(body["schedule"])
            services.update_resident(request.user, resident, changes)
            shown = _detail(request.user, pk)
        return Response(shown)


class ResidentMoveView(PersonalAPIView):
    """The resident moves to another room on a day (the file follows to its community)."""

    @extend_schema(request=s.MoveSerializer, responses=s.ResidentDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        body = _valid(s.MoveSerializer, request)
        with personal(request.user):
            resident = _resident(request.user, pk)
            services.move(
                request.user,
                resident,
                room=_room(body["room"]),
                on=body["on"],
                relation=body["relation"],
                household=_household(request.user, body.get("household")),
            )
            shown = _detail(request.user, pk)
        return Response(shown)


class ResidentMoveOutView(PersonalAPIView):
    """The resident leaves on a day (optionally kept as an out-flowing resident)."""

    @extend_schema(request=s.MoveOutSerializer, responses=s.ResidentDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        body = _valid(s.MoveOutSerializer, request)
        with personal(request.user):
            resident = _resident(request.user, pk)
            services.move_out(request.user, resident, on=body["on"], outflowing=body["outflowing"])
            shown = _detail(request.user, resident.pk)
        return Response(shown)


class ResidentFollowUpView(PersonalAPIView):
    """Record one follow-up of the resident with its outcome."""

    @extend_schema(request=s.FollowUpSerializer, responses={201: s.FollowUpSerializer})
    def post(self, request: Request, pk: int) -> Response:
        body = _valid(s.FollowUpSerializer, request)
        with personal(request.user):
            resident = _resident(request.user, pk)
            follow_up = services.record_follow_up(
                request.user,
                resident,
                done_on=body["done_on"],
                outcome=body["outcome"],
                note=body.get("note") or "",
            )
            shown = dict(s.FollowUpSerializer(follow_up).data)
        return Response(shown, status=201)


@method_decorator(sensitive_post_parameters(*SECRET_FIELDS), name="dispatch")
class ResidentSearchIdView(PersonalAPIView):
    """Find a resident of the user's territory by identity number (logged, found or not)."""

    permission_classes = [SignedIn]

    @extend_schema(request=s.SearchIdSerializer, responses=s.ResidentDetailSerializer)
    @method_decorator(sensitive_variables("body", "number"))
    def post(self, request: Request) -> Response:
        body = _valid(s.SearchIdSerializer, request)
        number = body["id_number"]
        shown = None
        with personal(request.user):
            found = services.find_by_id_number(
                request.user, number, reason=body["reason"], path=request.path
            )
            if found is not None:
                shown = _detail(request.user, found.pk)
        # Outside the block: the search's log row is committed with it, found or not.
        if shown is None:
            raise NotFoundError(
                _("No resident with this identity number in your territory."), code="not_found"
            )
        return Response(shown, headers=NO_STORE)


@method_decorator(sensitive_post_parameters(*SECRET_FIELDS), name="dispatch")
class ResidentRevealView(PersonalAPIView):
    """The identity number and phone in clear: reveal permission and a reason; logged."""

    permission_classes = [SignedIn]

    @extend_schema(request=s.ReasonSerializer, responses=s.RevealedSerializer)
    @method_decorator(sensitive_variables("clear"))
    def post(self, request: Request, pk: int) -> Response:
        body = _valid(s.ReasonSerializer, request)
        with personal(request.user):
            clear = services.reveal(request.user, pk, reason=body["reason"], path=request.path)
        return Response(clear, headers=NO_STORE)


# ---------------------------------------------------------------------------------------------
# Households

HOUSEHOLD_FILTERS = [
    OpenApiParameter("community", OpenApiTypes.STR, description="Territory code (prefix)"),
    OpenApiParameter("building", OpenApiTypes.INT),
    OpenApiParameter("room", OpenApiTypes.INT),
    OpenApiParameter("as_of", OpenApiTypes.DATE, description="Households existing that day"),
]


def households(user: Any) -> QuerySet[Household]:
    return (
        Household.objects.visible_to(user)
        .select_related("room__building")
        .prefetch_related(Prefetch("room__building__door_plates", DoorPlate.objects.order_by("id")))
        .order_by("id")
    )


class HouseholdListView(PersonalListView):
    http_method_names = ["get", "head", "options"]
    serializer_class = s.HouseholdSerializer

    @extend_schema(parameters=HOUSEHOLD_FILTERS, responses=s.HouseholdSerializer(many=True))
    def get(self, request: Request) -> Response:
        params = request.query_params
        day = _day(params, "as_of")
        building, room = _id(params, "building"), _id(params, "room")
        community = _code(params, "community")
        with personal(request.user):
            queryset = households(request.user)
            if community:
                queryset = queryset.filter(in_node(community))
            if building:
                queryset = queryset.filter(room__building_id=building)
            if room:
                queryset = queryset.filter(room_id=room)
            if day:
                queryset = queryset.filter(created_on__lte=day).filter(
                    Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=day)
                )
            page = self.paginate_queryset(queryset)
            data = s.HouseholdSerializer(page, many=True).data
        return self.get_paginated_response(data)


class HouseholdDetailView(PersonalAPIView):
    http_method_names = ["get", "head", "options"]

    @extend_schema(
        parameters=[OpenApiParameter("as_of", OpenApiTypes.DATE, description="Members that day")],
        responses=s.HouseholdDetailSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        day = _day(request.query_params, "as_of") or timezone.localdate()
        with personal(request.user):
            found = (
                households(request.user)
                .prefetch_related(
                    Prefetch(
                        "occupancies",
                        Occupancy.objects.visible_to(request.user)
                        .select_related("resident")
                        .order_by("moved_in", "id"),
                    )
                )
                .filter(pk=pk)
                .first()
            )
            if found is None:
                raise NotFoundError(_("No such household in your territory."), code="not_found")
            data = dict(s.HouseholdDetailSerializer(found, context={"day": day}).data)
        return Response(data)


# ---------------------------------------------------------------------------------------------
# The access log (auditors)

ACCESS_FILTERS = [
    OpenApiParameter("user", OpenApiTypes.STR, description="User name (or id)"),
    OpenApiParameter("action", OpenApiTypes.STR, enum=Access.values),
    OpenApiParameter("since", OpenApiTypes.DATE),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Inclusive"),
    OpenApiParameter("community", OpenApiTypes.STR, description="Territory code (prefix)"),
]


def access_log_for(user: Any, params: Any) -> QuerySet[AccessLog]:
    """The access-log rows an auditor may read, filtered by ``params`` (``user``, ``action``,
    ``since``, ``until``, ``community``): rows about communities of the auditor's territory, and
    rows about no community (a search that found nobody) by users working inside it. Bad
    parameters raise ``InvalidInputError``. The user list is read at once (the auditor's
    database role reads the access log and the users only); the rows are lazy."""
    who = _text(params, "user", 150)
    action = _choice(params, "action", list(Access.values))
    since, until = _day(params, "since"), _day(params, "until")
    community = _code(params, "community")
    rows = AccessLog.objects.order_by("-at", "-id")
    prefixes = territory_prefixes(user)
    if prefixes is not None:
        if not prefixes:
            return rows.none()
        in_scope, grants = Q(), Q()
        for prefix in prefixes:
            in_scope |= Q(community_code__startswith=prefix)
            grants |= Q(territory_code__startswith=prefix)
        workers = set(ScopeGrant.objects.filter(grants).values_list("user_id", flat=True))
        # Exports of a node above the territory (a street office's register) cover it too.
        above = Q(community_code__in=ancestor_codes(prefixes))
        rows = rows.filter(in_scope | above | Q(community_code="", user_id__in=[*workers, user.pk]))
    if who:
        by_id = who.isascii() and who.isdigit() and int(who) < 2**63
        rows = rows.filter(Q(username=who) | Q(user_id=int(who)) if by_id else Q(username=who))
    if action:
        rows = rows.filter(action=action)
    if since:
        rows = rows.filter(at__date__gte=since)
    if until:
        rows = rows.filter(at__date__lte=until)
    if community:
        rows = rows.filter(community_code__startswith=community)
    return rows


class AccessLogView(PersonalListView):
    """The access log (who revealed, searched or exported what, when and why): read-only."""

    permission_classes = [Auditor]
    http_method_names = ["get", "head", "options"]
    serializer_class = s.AccessLogSerializer

    @extend_schema(parameters=ACCESS_FILTERS, responses=s.AccessLogSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = access_log_for(request.user, request.query_params)
        with personal(request.user, role=AUDITOR):
            page = self.paginate_queryset(rows)
            data = s.AccessLogSerializer(page, many=True).data
        return self.get_paginated_response(data)


urlpatterns: list[URLPattern] = [
    path("residents/", ResidentListView.as_view(), name="resident-list"),
    path("residents/search-id/", ResidentSearchIdView.as_view(), name="resident-search-id"),
    path("residents/<int:pk>/", ResidentDetailView.as_view(), name="resident-detail"),
    path("residents/<int:pk>/move/", ResidentMoveView.as_view(), name="resident-move"),
    path("residents/<int:pk>/move-out/", ResidentMoveOutView.as_view(), name="resident-move-out"),
    path(
        "residents/<int:pk>/follow-ups/",
        ResidentFollowUpView.as_view(),
        name="resident-follow-ups",
    ),
    path("residents/<int:pk>/reveal/", ResidentRevealView.as_view(), name="resident-reveal"),
    path("households/", HouseholdListView.as_view(), name="household-list"),
    path("households/<int:pk>/", HouseholdDetailView.as_view(), name="household-detail"),
    path("access-log/", AccessLogView.as_view(), name="access-log"),
]
