"""API of follow-ups due, contracts and the twelve-star rating (``/api/registry/…``).

Every read runs inside ``personal(request.user)`` and through ``visible_to``: an object of another
community answers 404, whatever the route. Writes go through the services of
``registry.followups``, ``registry.contracts`` and ``registry.ratings`` (403 for a read-only
role). Exports (the overdue workbook, a contract's scan) need a reason (``?reason=``) and are
written to the access log; a scan shows identity numbers in clear, so it needs the reveal
permission too.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.http import FileResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis.api.pagination import CheckedPagination
from gis.api.renderers import MAX_XLSX_ROWS, XLSX, FastJSONRenderer, FormatIsOurs
from gis.exceptions import InvalidInputError, NotFoundError, ScopeError
from grid.coverage import scope_condition

from .. import contracts, followups, ratings
from ..models import (
    Access,
    LandlordContract,
    Rectification,
    RentWithdrawal,
    Resident,
    StarCriterion,
    StarRating,
    TenancyContract,
)
from ..privacy import can_reveal, clean_reason, log_access, personal
from ..querysets import in_node
from . import NoStore

FIRST_DAY = date(1900, 1, 1)
CODE = OpenApiParameter("code", OpenApiTypes.STR, description="district/office/community code")
MONTH = OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM")
REASON = OpenApiParameter("reason", OpenApiTypes.STR, description="why (logged)")


# ---------------------------------------------------------------------------------------------
# Input


def _body(request: Request) -> Any:
    data = request.data
    if not hasattr(data, "get"):
        raise InvalidInputError(_("The request body is an object of fields."), code="bad_body")
    return data


def _id(value: Any, field: str) -> int:
    text = str(value if value is not None else "")
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**62:
        raise InvalidInputError(
            _("%(name)s is a number (an id), not %(value)s."),
            code="bad_id",
            field=field,
            name=field,
            value=repr(value)[:30],
        )
    return int(text)


def _date(value: Any, field: str, *, past: bool = False) -> date:
    try:
        day = date.fromisoformat(str(value))
    except (TypeError, ValueError):
        day = None
    if day is None or day < FIRST_DAY or day.year > 2999:
        raise InvalidInputError(
            _("%(name)s is a day written YYYY-MM-DD, not %(value)s."),
            code="bad_date",
            field=field,
            name=field,
            value=repr(value)[:30],
        )
    if past and day > timezone.localdate():
        raise InvalidInputError(
            _("%(name)s cannot be a day still to come (%(value)s)."),
            code="future",
            field=field,
            name=field,
            value=day.isoformat(),
        )
    return day


def _optional_date(data: Any, field: str, **kwargs: Any) -> date | None:
    value = data.get(field)
    return None if value in (None, "") else _date(value, field, **kwargs)


def _month(value: Any) -> date:
    month = ratings.parse_month(value)
    if month < FIRST_DAY or month.year > 2999:
        raise InvalidInputError(
            _("%(name)s is a month written YYYY-MM, not %(value)s."),
            code="bad_month",
            field="month",
            name="month",
            value=repr(value)[:30],
        )
    return month


def _scoped(queryset: Any, user: Any, code: Any) -> Any:
    """The rows of the node ``code`` (optional) the user may read; outside: 404."""
    queryset = queryset.visible_to(user)
    if code in (None, ""):
        return queryset
    contracts.check_node(code)
    return queryset.filter(scope_condition(user, code, column="community_code"), in_node(code))


def _page(request: Request, view: APIView, rows: QuerySet[Any], body: Any) -> Response:
    paginator = CheckedPagination()
    page = paginator.paginate_queryset(rows, request, view=view) or []
    return paginator.get_paginated_response([body(row) for row in page])


class PrivateView(NoStore, APIView):
    """Every answer of these routes names people or their houses."""


# ---------------------------------------------------------------------------------------------
# Follow-ups overdue


class FollowUpOverdueView(PrivateView):
    """Residents overdue for a follow-up on a day (``on``, today), per community and zone."""

    renderer_classes = [FastJSONRenderer]
    content_negotiation_class = FormatIsOurs

    @extend_schema(
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, required=True),
            OpenApiParameter("on", OpenApiTypes.DATE),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "xlsx"]),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
            REASON,
        ],
        responses={200: OpenApiTypes.OBJECT, (200, XLSX): OpenApiTypes.BINARY},
    )
    @method_decorator(sensitive_variables("why"))
    def get(self, request: Request) -> Response | FileResponse:
        params = request.query_params
        fmt = params.get("format") or "json"
        if fmt not in ("json", "xlsx"):
            raise InvalidInputError(
                _("format is json or xlsx, not %(value)s."),
                code="bad_format",
                field="format",
                value=repr(fmt)[:20],
            )
        day = timezone.localdate() if not params.get("on") else _date(params["on"], "on", past=True)
        why = clean_reason(params.get("reason")) if fmt == "xlsx" else ""
        code = params.get("code", "")
        found = followups.overdue(request.user, code, on=day, rows=fmt == "xlsx")
        if fmt == "xlsx":
            if len(found.rows) > MAX_XLSX_ROWS:
                raise InvalidInputError(
                    _(
                        "The list holds more than %(max)s rows: choose a smaller territory node "
                        "for the workbook."
                    ),
                    code="too_many_rows",
                    field="code",
                    max=MAX_XLSX_ROWS,
                )
            content = followups.workbook(found)
            log_access(
                request.user,
                Access.EXPORT,
                f"follow-ups overdue {code} on {day.isoformat()}",
                reason=why,
                community_code=code[:12] if len(code) >= 12 else "",
                rows=len(found.rows),
                path=request.path,
            )
            return FileResponse(
                io.BytesIO(content),
                as_attachment=True,
                filename=f"follow-ups-overdue-{code}-{day:%Y%m%d}.xlsx",
                content_type=XLSX,
            )
        paginator = CheckedPagination()
        with personal(request.user):
            rows = followups.overdue_rows(request.user, code, day)
            page = followups.row_bodies(paginator.paginate_queryset(rows, request, view=self) or [])
        response = paginator.get_paginated_response(page)
        response.data.update(found.as_body())
        return response


# ---------------------------------------------------------------------------------------------
# Contracts


def _contract_body(contract: Any, scan_route: str) -> dict[str, Any]:
    today = timezone.localdate()
    landlord = contract.landlord
    return {
        "id": contract.pk,
        "community_code": contract.community_code,
        "landlord": {"id": landlord.pk, "name": landlord.name} if landlord else None,
        "signed_on": contract.signed_on.isoformat(),
        "expires_on": contract.expires_on.isoformat() if contract.expires_on else None,
        "valid_today": contract.signed_on <= today
        and (contract.expires_on is None or contract.expires_on >= today),
        "scan": bool(contract.scan),
        "scan_type": contract.scan_type or None,
        "scan_url": reverse(scan_route, args=[contract.pk]) if contract.scan else None,
    }


def landlord_contract_body(contract: LandlordContract) -> dict[str, Any]:
    return _contract_body(contract, "landlord-contract-scan")


def tenancy_contract_body(contract: TenancyContract) -> dict[str, Any]:
    room = contract.room
    # Read on its own, not joined: a tenant who moved to a community outside the user's territory
    # is hidden by row-level security, and an inner join would hide the room's contract with it.
    tenant = Resident.objects.filter(pk=contract.tenant_id).first()
    return _contract_body(contract, "tenancy-contract-scan") | {
        "room": {
            "id": room.pk,
            "building": room.building_id,
            "floor": room.floor,
            "number": room.number,
        },
        "tenant": {
            "id": contract.tenant_id,
            "name": tenant.name if tenant else None,
            "id_number_masked": tenant.id_number_masked if tenant else None,
            "in_territory": tenant is not None,
        },
    }


class _ContractViews:
    model: Any = LandlordContract
    related: tuple[str, ...] = ("landlord",)

    def body(self, contract: Any) -> dict[str, Any]:
        return landlord_contract_body(contract)

    def rows(self, user: Any) -> QuerySet[Any]:
        return self.model.objects.visible_to(user).select_related(*self.related)

    def get_object(self, user: Any, pk: int) -> Any:
        found = self.rows(user).filter(pk=pk).first()
        if found is None:
            raise NotFoundError(_("No such contract in your territory."), code="not_found")
        return found


class ListSchema(AutoSchema):
    """Operation ids ``…_list`` for a list answered by an APIView's ``get`` (drf-spectacular
    names it ``…_retrieve``, the same as the detail's, and warns of the collision)."""

    def get_operation_id(self) -> str:
        return super().get_operation_id().removesuffix("_retrieve") + "_list"


class LandlordContractListView(_ContractViews, PrivateView):
    """Landlords' responsibility contracts (治安责任书) of the user's territory."""

    renderer_classes = [FastJSONRenderer]
    schema = ListSchema()

    @extend_schema(
        parameters=[
            CODE,
            OpenApiParameter("landlord", OpenApiTypes.INT),
            OpenApiParameter("valid_on", OpenApiTypes.DATE),
            OpenApiParameter("page", OpenApiTypes.INT),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        with personal(request.user):
            rows = _scoped(self.rows(request.user), request.user, params.get("code"))
            rows = self.filter(rows, params)
            if params.get("valid_on"):
                rows = rows.valid_on(_date(params["valid_on"], "valid_on"))
            return _page(request, self, rows.order_by("-signed_on", "pk"), self.body)

    def filter(self, rows: Any, params: Any) -> Any:
        if params.get("landlord"):
            rows = rows.filter(landlord_id=_id(params["landlord"], "landlord"))
        return rows

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = _body(request)
        landlord = contracts.visible_landlord(request.user, _id(data.get("landlord"), "landlord"))
        contract = contracts.create_landlord_contract(
            request.user,
            landlord,
            signed_on=_date(data.get("signed_on"), "signed_on"),
            expires_on=_optional_date(data, "expires_on"),
            scan=request.FILES.get("scan"),
        )
        with personal(request.user):
            return Response(self.body(self.get_object(request.user, contract.pk)), status=201)


class _ContractDetail(_ContractViews, PrivateView):
    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        with personal(request.user):
            return Response(self.body(self.get_object(request.user, pk)))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def patch(self, request: Request, pk: int) -> Response:
        data = _body(request)
        with personal(request.user):
            contract = self.get_object(request.user, pk)
        if data.get("end_on") not in (None, ""):
            contracts.end_contract(request.user, contract, on=_date(data["end_on"], "end_on"))
        else:
            changes: dict[str, Any] = {}
            if data.get("signed_on") not in (None, ""):
                changes["signed_on"] = _date(data["signed_on"], "signed_on")
            if "expires_on" in data:
                changes["expires_on"] = _optional_date(data, "expires_on")
            contracts.update_contract(
                request.user, contract, scan=request.FILES.get("scan"), **changes
            )
        with personal(request.user):
            return Response(self.body(self.get_object(request.user, pk)))


class LandlordContractDetailView(_ContractDetail):
    """One responsibility contract: read; correct its dates, replace its scan, or end it
    (``end_on``)."""


class _ScanView(_ContractViews, PrivateView):
    renderer_classes = [FastJSONRenderer]
    content_negotiation_class = FormatIsOurs

    @extend_schema(
        parameters=[REASON],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    @method_decorator(sensitive_variables("why", "data"))
    def get(self, request: Request, pk: int) -> Response | FileResponse:
        with personal(request.user):
            self.get_object(request.user, pk)  # out of scope: 404 before anything else
        if not can_reveal(request.user):
            raise ScopeError(
                _(
                    "A scanned contract shows identity numbers in clear: your role may not "
                    "reveal them."
                ),
                code="reveal_denied",
            )
        why = clean_reason(request.query_params.get("reason"))
        data, media, name = contracts.scan_file(
            request.user, self.model, pk, reason=why, path=request.path
        )
        response = FileResponse(
            io.BytesIO(data), as_attachment=True, filename=name, content_type=media
        )
        return response


class LandlordContractScanView(_ScanView):
    """The contract's scanned copy, decrypted; logged as an export (``?reason=``)."""


class _Tenancy(_ContractViews):
    model = TenancyContract
    related = ("landlord", "room")

    def body(self, contract: Any) -> dict[str, Any]:
        return tenancy_contract_body(contract)


class TenancyContractListView(_Tenancy, LandlordContractListView):
    """Tenancy contracts (租赁合同) of the user's territory."""

    def filter(self, rows: Any, params: Any) -> Any:
        rows = super().filter(rows, params)
        for name in ("room", "tenant"):
            if params.get(name):
                rows = rows.filter(**{f"{name}_id": _id(params[name], name)})
        return rows

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = _body(request)
        user = request.user
        room = contracts.visible_room(user, _id(data.get("room"), "room"))
        tenant = contracts.visible_tenant(user, _id(data.get("tenant"), "tenant"))
        landlord = None
        if data.get("landlord") not in (None, ""):
            landlord = contracts.visible_landlord(user, _id(data.get("landlord"), "landlord"))
        contract = contracts.create_tenancy_contract(
            user,
            room,
            tenant,
            landlord=landlord,
            signed_on=_date(data.get("signed_on"), "signed_on"),
            expires_on=_optional_date(data, "expires_on"),
            scan=request.FILES.get("scan"),
        )
        with personal(user):
            return Response(self.body(self.get_object(user, contract.pk)), status=201)


class TenancyContractDetailView(_Tenancy, _ContractDetail):
    """One tenancy contract: read; correct, replace its scan, or end it (``end_on``)."""


class TenancyContractScanView(_Tenancy, _ScanView):
    """The tenancy contract's scanned copy, decrypted; logged as an export (``?reason=``)."""


class ContractRateView(PrivateView):
    """Landlord and tenancy contract rates per community of ``code`` (valid on ``on``)."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, required=True),
            OpenApiParameter("on", OpenApiTypes.DATE),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        day = _date(params["on"], "on") if params.get("on") else None
        found = contracts.contract_rate(request.user, params.get("code", ""), on=day)
        return Response(found.as_body())


# ---------------------------------------------------------------------------------------------
# The star rating


def criterion_body(criterion: StarCriterion) -> dict[str, Any]:
    return {
        "code": criterion.code,
        "name": criterion.name,
        "stars": criterion.stars,
        "position": criterion.position,
        "active": criterion.active,
    }


def rating_body(rating: StarRating) -> dict[str, Any]:
    return {
        "id": rating.pk,
        "building": {"id": rating.building_id, "name": rating.building.name},
        "community_code": rating.community_code,
        "month": f"{rating.month:%Y-%m}",
        "scores": rating.scores,
        "stars": rating.stars,
        "reward": rating.reward,
        "rated_by": rating.rated_by.get_username() if rating.rated_by else "",
        "rated_at": rating.rated_at.isoformat(),
    }


def order_body(order: Rectification) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "id": order.pk,
        "building": {"id": order.building_id, "name": order.building.name},
        "community_code": order.community_code,
        "rating": order.rating_id,
        "issues": order.issues.splitlines(),
        "ordered_on": order.ordered_on.isoformat(),
        "deadline": order.deadline.isoformat(),
        "done_on": order.done_on.isoformat() if order.done_on else None,
        "overdue": order.done_on is None and order.deadline < today,
    }


def withdrawal_body(withdrawal: RentWithdrawal) -> dict[str, Any]:
    return {
        "id": withdrawal.pk,
        "building": {"id": withdrawal.building_id, "name": withdrawal.building.name},
        "community_code": withdrawal.community_code,
        "reason": withdrawal.reason,
        "withdrawn_on": withdrawal.withdrawn_on.isoformat(),
        "restored_on": withdrawal.restored_on.isoformat() if withdrawal.restored_on else None,
    }


def _get(user: Any, model: Any, pk: int, *related: str) -> Any:
    """Call inside ``personal(user)``."""
    found = model.objects.visible_to(user).select_related(*related).filter(pk=pk).first()
    if found is None:
        raise NotFoundError(_("Nothing with the id %(value)s in your territory."), value=pk)
    return found


class StarCriterionListView(PrivateView):
    """The criteria of the rating (active and retired) and their stars."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        criteria = list(StarCriterion.objects.order_by("-active", "position", "code"))
        return Response(
            {
                "active_stars": sum(c.stars for c in criteria if c.active),
                "results": [criterion_body(c) for c in criteria],
            }
        )


class StarRatingListView(PrivateView):
    """Ratings of a territory node and month; POST rates a building for a month."""

    renderer_classes = [FastJSONRenderer]
    schema = ListSchema()

    @extend_schema(
        parameters=[CODE, MONTH, OpenApiParameter("page", OpenApiTypes.INT)],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        with personal(request.user):
            rows = _scoped(
                StarRating.objects.select_related("building", "rated_by"),
                request.user,
                params.get("code"),
            )
            if params.get("month"):
                rows = rows.filter(month=_month(params["month"]))
            if params.get("building"):
                rows = rows.filter(building_id=_id(params["building"], "building"))
            return _page(request, self, rows.order_by("-month", "building_id"), rating_body)

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = _body(request)
        building = ratings.visible_building(request.user, _id(data.get("building"), "building"))
        rating = ratings.rate(request.user, building, _month(data.get("month")), data.get("scores"))
        with personal(request.user):
            found = _get(request.user, StarRating, rating.pk, "building", "rated_by")
            return Response(rating_body(found), status=201)


class StarRatingDetailView(PrivateView):
    """One rating with its history of corrections and its orders; PATCH ``scores`` corrects."""

    renderer_classes = [FastJSONRenderer]

    def _body(self, user: Any, pk: int) -> dict[str, Any]:
        with personal(user):
            rating = _get(user, StarRating, pk, "building", "rated_by")
            orders = rating.rectifications.select_related("building").order_by("id")
            return rating_body(rating) | {
                "history": ratings.history(rating),
                "rectifications": [order_body(o) for o in orders],
            }

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        return Response(self._body(request.user, pk))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def patch(self, request: Request, pk: int) -> Response:
        data = _body(request)
        with personal(request.user):
            rating = _get(request.user, StarRating, pk, "building")
        ratings.correct(request.user, rating, data.get("scores"))
        return Response(self._body(request.user, pk))


class RectificationListView(PrivateView):
    """Orders to rectify of a territory node: ``state`` open (default), overdue, closed, all."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        parameters=[
            CODE,
            OpenApiParameter("state", OpenApiTypes.STR, enum=["open", "overdue", "closed", "all"]),
            OpenApiParameter("page", OpenApiTypes.INT),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        state = params.get("state") or "open"
        conditions = {
            "open": Q(done_on__isnull=True),
            "overdue": Q(done_on__isnull=True, deadline__lt=timezone.localdate()),
            "closed": Q(done_on__isnull=False),
            "all": Q(),
        }
        if state not in conditions:
            raise InvalidInputError(
                _("state is open, overdue, closed or all, not %(value)s."),
                code="bad_state",
                field="state",
                value=repr(state)[:20],
            )
        with personal(request.user):
            rows = _scoped(
                Rectification.objects.select_related("building"),
                request.user,
                params.get("code"),
            ).filter(conditions[state])
            return _page(request, self, rows.order_by("deadline", "pk"), order_body)


class RectificationCloseView(PrivateView):
    """The house was rectified (``done_on``, today)."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int) -> Response:
        data = _body(request)
        with personal(request.user):
            order = _get(request.user, Rectification, pk, "building")
        done = _optional_date(data, "done_on", past=True)
        ratings.close_rectification(request.user, order, done_on=done)
        with personal(request.user):
            return Response(order_body(_get(request.user, Rectification, pk, "building")))


class WithdrawalListView(PrivateView):
    """Withdrawals of the right to rent (``state`` open (default) or all); POST withdraws."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        parameters=[
            CODE,
            OpenApiParameter("state", OpenApiTypes.STR, enum=["open", "all"]),
            OpenApiParameter("page", OpenApiTypes.INT),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        state = params.get("state") or "open"
        if state not in ("open", "all"):
            raise InvalidInputError(
                _("state is open or all, not %(value)s."),
                code="bad_state",
                field="state",
                value=repr(state)[:20],
            )
        with personal(request.user):
            rows = _scoped(
                RentWithdrawal.objects.select_related("building"),
                request.user,
                params.get("code"),
            )
            if state == "open":
                rows = rows.filter(restored_on__isnull=True)
            return _page(request, self, rows.order_by("-withdrawn_on", "pk"), withdrawal_body)

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = _body(request)
        building = ratings.visible_building(request.user, _id(data.get("building"), "building"))
        withdrawal = ratings.withdraw(
            request.user,
            building,
            str(data.get("reason") or ""),
            on=_optional_date(data, "on", past=True),
        )
        with personal(request.user):
            found = _get(request.user, RentWithdrawal, withdrawal.pk, "building")
            return Response(withdrawal_body(found), status=201)


class WithdrawalRestoreView(PrivateView):
    """The right to rent given back (``on``, today)."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int) -> Response:
        data = _body(request)
        with personal(request.user):
            withdrawal = _get(request.user, RentWithdrawal, pk, "building")
        ratings.restore(request.user, withdrawal, on=_optional_date(data, "on", past=True))
        with personal(request.user):
            return Response(withdrawal_body(_get(request.user, RentWithdrawal, pk, "building")))


class StarSummaryView(PrivateView):
    """A month's rating figures per community of ``code``."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        parameters=[OpenApiParameter("code", OpenApiTypes.STR, required=True), MONTH],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        month = _month(params["month"]) if params.get("month") else timezone.localdate()
        found = ratings.summary(request.user, params.get("code", ""), month)
        return Response(found.as_body())


urlpatterns: list[URLPattern] = [
    path("follow-ups/overdue/", FollowUpOverdueView.as_view(), name="follow-up-overdue"),
    path(
        "landlord-contracts/",
        LandlordContractListView.as_view(),
        name="landlord-contract-list",
    ),
    path(
        "landlord-contracts/<int:pk>/",
        LandlordContractDetailView.as_view(),
        name="landlord-contract-detail",
    ),
    path(
        "landlord-contracts/<int:pk>/scan/",
        LandlordContractScanView.as_view(),
        name="landlord-contract-scan",
    ),
    path("tenancy-contracts/", TenancyContractListView.as_view(), name="tenancy-contract-list"),
    path(
        "tenancy-contracts/<int:pk>/",
        TenancyContractDetailView.as_view(),
        name="tenancy-contract-detail",
    ),
    path(
        "tenancy-contracts/<int:pk>/scan/",
        TenancyContractScanView.as_view(),
        name="tenancy-contract-scan",
    ),
    path("contract-rate/", ContractRateView.as_view(), name="contract-rate"),
    path("star-criteria/", StarCriterionListView.as_view(), name="star-criterion-list"),
    path("star-ratings/", StarRatingListView.as_view(), name="star-rating-list"),
    path("star-ratings/<int:pk>/", StarRatingDetailView.as_view(), name="star-rating-detail"),
    path("rectifications/", RectificationListView.as_view(), name="rectification-list"),
    path(
        "rectifications/<int:pk>/close/",
        RectificationCloseView.as_view(),
        name="rectification-close",
    ),
    path("withdrawals/", WithdrawalListView.as_view(), name="withdrawal-list"),
    path(
        "withdrawals/<int:pk>/restore/",
        WithdrawalRestoreView.as_view(),
        name="withdrawal-restore",
    ),
    path("star-summary/", StarSummaryView.as_view(), name="star-summary"),
]
