"""API of the two registers and the person card (docs: "Registers and person cards").

* ``GET registry/registers/floating.{xlsx|pdf}?code=&as_of=&reason=[&reveal=1]``
  (``register-floating``): the floating-population register of a building (``building=<id>``)
  or a territory node on a day (default today);
* ``GET registry/registers/supplies.{xlsx|pdf}?code=&since=&until=&reason=``
  (``register-supplies``): the supplies distribution register of a period (default: this month
  up to today);
* ``GET registry/cards.pdf?code=|resident=&as_of=&reason=[&reveal=1]`` (``person-cards``);
* ``POST registry/supplies/`` (``supply-list``): record a distribution.

Every export needs a typed reason (400 without), is written to the access log (action "export",
the number of rows) and shows identity numbers and phones masked; ``reveal=1`` writes them in
clear for a user holding the reveal permission (403 otherwise), logged as a reveal too. A building
or node out of the user's territory answers 404.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

from django.http import FileResponse
from django.urls import URLPattern, path, re_path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis.api.renderers import XLSX, FastJSONRenderer, FormatIsOurs
from gis.exceptions import InvalidInputError, NotFoundError, ScopeError
from registry import registers, supplies
from registry.models import Access, Household, Resident
from registry.privacy import can_reveal, clean_reason, log_access, personal

from . import register_documents as exports

PDF = "application/pdf"


def _date(value: str | None, name: str, default: datetime.date) -> datetime.date:
    if value in (None, ""):
        return default
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInputError(
            _("%(name)s is a date (YYYY-MM-DD), not %(value)s."),
            code="bad_date",
            field=name,
            name=name,
            value=repr(value)[:20],
        ) from None


def _reveal_asked(request: Request) -> bool:
    return request.query_params.get("reveal", "") in ("1", "true", "yes")


@sensitive_variables("reason", "why")
def _permission(request: Request) -> tuple[bool, str]:
    """Whether to write identity numbers and phones in clear (``reveal=1`` with the permission;
    403 without it), and the export's reason (400 without one)."""
    reveal = _reveal_asked(request)
    if reveal and not can_reveal(request.user):
        raise ScopeError(
            _("Your role may not reveal identity numbers and phones."), code="reveal_denied"
        )
    reason = request.query_params.get("reason") or ""
    # NUL cannot be stored in the log's text column (a 500): control characters go.
    why = clean_reason("".join(c if c.isprintable() else " " for c in reason))
    return reveal, why


def _file(content: bytes, filename: str, content_type: str) -> FileResponse:
    response = FileResponse(
        io.BytesIO(content), as_attachment=True, filename=filename, content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _log(
    request: Request,
    what: str,
    *,
    why: str,
    rows: int,
    revealed: bool,
    community_code: str = "",
    object_id: int | None = None,
) -> None:
    """The export in the access log, and the reveal when the file holds clear values."""
    for action in (Access.EXPORT, *([Access.REVEAL] if revealed else [])):
        log_access(
            request.user,
            action,
            what if action == Access.EXPORT else f"{what}: identity numbers and phones in clear",
            reason=why,
            object_id=object_id,
            community_code=community_code,
            rows=rows,
            path=request.path,
        )


def _register_response(
    request: Request, register: registers.Register, fmt: str, why: str, what: str
) -> FileResponse:
    today = timezone.localdate()
    if fmt == "xlsx":
        content, media = exports.register_xlsx(register), XLSX
    else:
        content, media = exports.register_pdf(register, made_on=today), PDF
    _log(
        request,
        what,
        why=why,
        rows=len(register.rows),
        revealed=register.revealed,
        community_code=register.target.community_code,
    )
    name = f"{register.title}-{register.target.slug}-{today:%Y%m%d}.{fmt}"
    return _file(content, name, media)


_CODE = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    description="building=<id>, or a district, street office or community code",
)
_REASON = OpenApiParameter("reason", OpenApiTypes.STR, required=True)
_REVEAL = OpenApiParameter("reveal", OpenApiTypes.STR, enum=["1"])
_FILES = {(200, XLSX): OpenApiTypes.BINARY, (200, PDF): OpenApiTypes.BINARY}
_FMT = OpenApiParameter("fmt", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["xlsx", "pdf"])


class _ExportView(APIView):
    renderer_classes = [FastJSONRenderer]
    content_negotiation_class = FormatIsOurs


class FloatingRegisterView(_ExportView):
    """流动人口登记表: the floating residents living in the building or node on ``as_of``."""

    @extend_schema(
        operation_id="registry_register_floating",
        parameters=[
            _FMT,
            _CODE,
            OpenApiParameter("as_of", OpenApiTypes.DATE),
            _REASON,
            _REVEAL,
        ],
        responses=_FILES,
    )
    def get(self, request: Request, fmt: str) -> FileResponse:
        params = request.query_params
        target = registers.resolve_target(request.user, params.get("code", ""))
        day = _date(params.get("as_of"), "as_of", timezone.localdate())
        reveal, why = _permission(request)
        register = registers.floating_register(request.user, target, day, reveal=reveal)
        what = f"register-floating {target.slug} as of {day.isoformat()}"
        return _register_response(request, register, fmt, why, what)


class SuppliesRegisterView(_ExportView):
    """物资发放登记表: what the households of the building or node received in the period."""

    @extend_schema(
        operation_id="registry_register_supplies",
        parameters=[
            _FMT,
            _CODE,
            OpenApiParameter("since", OpenApiTypes.DATE),
            OpenApiParameter("until", OpenApiTypes.DATE),
            _REASON,
        ],
        responses=_FILES,
    )
    def get(self, request: Request, fmt: str) -> FileResponse:
        params = request.query_params
        target = registers.resolve_target(request.user, params.get("code", ""))
        today = timezone.localdate()
        since = _date(params.get("since"), "since", today.replace(day=1))
        until = _date(params.get("until"), "until", today)
        if since > until:
            raise InvalidInputError(
                _("since (%(since)s) comes after until (%(until)s)."),
                code="bad_period",
                field="since",
                since=since.isoformat(),
                until=until.isoformat(),
            )
        _reveal, why = _permission(request)  # nothing to reveal: no identity number or phone
        register = registers.supplies_register(request.user, target, since, until)
        what = f"register-supplies {target.slug} {since.isoformat()}..{until.isoformat()}"
        return _register_response(request, register, fmt, why, what)


class PersonCardsView(_ExportView):
    """人员信息卡: the cards of the residents living in the building or node on ``as_of``, or
    the card of one resident."""

    @extend_schema(
        operation_id="registry_person_cards",
        parameters=[
            _CODE,
            OpenApiParameter("resident", OpenApiTypes.INT),
            OpenApiParameter("as_of", OpenApiTypes.DATE),
            _REASON,
            _REVEAL,
        ],
        responses={(200, PDF): OpenApiTypes.BINARY},
    )
    def get(self, request: Request) -> FileResponse:
        params = request.query_params
        code, resident = params.get("code", ""), params.get("resident", "")
        if bool(code) == bool(resident):
            raise InvalidInputError(
                _("Give either code (a building or a territory node) or resident."),
                code="target_required",
                field="code",
            )
        day = _date(params.get("as_of"), "as_of", timezone.localdate())
        target, resident_id = None, None
        if code:
            target = registers.resolve_target(request.user, code)
        elif not (resident.isascii() and resident.isdigit()) or len(resident) > 18:
            raise NotFoundError(_("No such resident in your territory."), code="not_found")
        else:
            resident_id = int(resident)
            with personal(request.user):
                seen = Resident.objects.visible_to(request.user).filter(pk=resident_id).exists()
            if not seen:
                raise NotFoundError(_("No such resident in your territory."), code="not_found")
        reveal, why = _permission(request)
        cards = registers.person_cards(
            request.user, day, target=target, resident_id=resident_id, reveal=reveal
        )
        if target is not None:
            heading = f"{target.label}（{target.slug}）  {day.isoformat()}"
            what = f"person-cards {target.slug} as of {day.isoformat()}"
            community_code = target.community_code
        else:
            heading = f"{cards[0].name}  {day.isoformat()}"
            what = f"person-card resident {resident_id}"
            community_code = cards[0].community_code
        content = exports.cards_pdf(cards, heading, revealed=reveal, made_on=timezone.localdate())
        _log(
            request,
            what,
            why=why,
            rows=len(cards),
            revealed=reveal,
            community_code=community_code,
            object_id=resident_id,
        )
        slug = target.slug if target is not None else f"resident-{resident_id}"
        return _file(content, f"人员信息卡-{slug}-{timezone.localdate():%Y%m%d}.pdf", PDF)


def _id(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not str(value).isdigit() or len(str(value)) > 18:
        raise InvalidInputError(
            _("%(name)s is the id of a record, not %(value)s."),
            code="bad_id",
            field=name,
            name=name,
            value=repr(value)[:20],
        )
    return int(value)


class SupplyListView(APIView):
    """Record a distribution of supplies to a household (``registry.supplies``):
    ``{household, item, quantity, unit, given_on, received_by?, note?}`` → 201 and the line."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        operation_id="registry_supply_create",
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        household_id = _id(body.get("household"), "household")
        receiver_id = _id(body.get("received_by"), "received_by")
        user = request.user
        with personal(user):
            household = (
                Household.objects.visible_to(user).filter(pk=household_id).first()
                if household_id is not None
                else None
            )
            receiver = (
                Resident.objects.visible_to(user).filter(pk=receiver_id).first()
                if receiver_id is not None
                else None
            )
        if household is None:
            raise NotFoundError(_("No such household in your territory."), code="not_found")
        if receiver_id is not None and receiver is None:
            raise InvalidInputError(
                _("The person receiving was not a member of the household on %(day)s."),
                code="not_a_member",
                field="received_by",
                day=str(body.get("given_on", ""))[:10],
            )
        line = supplies.record_distribution(
            user,
            household,
            body.get("item", ""),
            body.get("quantity", ""),
            body.get("unit", ""),
            body.get("given_on", ""),
            received_by=receiver,
            note=body.get("note", ""),
        )
        return Response(
            {
                "id": line.pk,
                "household": line.household_id,
                "community_code": line.community_code,
                "item": line.item,
                "quantity": format(line.quantity, "f"),
                "unit": line.unit,
                "given_on": line.given_on.isoformat(),
                "received_by": line.received_by_id,
                "given_by": getattr(user, "username", ""),
                "note": line.note,
            },
            status=201,
        )


urlpatterns: list[URLPattern] = [
    re_path(
        r"^registers/floating\.(?P<fmt>xlsx|pdf)$",
        FloatingRegisterView.as_view(),
        name="register-floating",
    ),
    re_path(
        r"^registers/supplies\.(?P<fmt>xlsx|pdf)$",
        SuppliesRegisterView.as_view(),
        name="register-supplies",
    ),
    path("cards.pdf", PersonCardsView.as_view(), name="person-cards"),
    path("supplies/", SupplyListView.as_view(), name="supply-list"),
]
