"""The people register's pages for community workers (``/register/…``): server-rendered, phone
first, zh-hans with English.

- ``/register/`` (``register``): the user's territory tree down to buildings, with counts as of a
  day (``?as_of=``: residents, floating residents, rented rooms with nobody registered); a
  building (``?building=``) shows its rooms with their households and residents; search by name
  (prefix, ``?q=``) within the node shown; search by identity number (``register-search-id``,
  POST with a reason: logged by ``registry.services.find_by_id_number``; the number is never
  echoed back, in the page or in a URL).
- ``/register/residents/<id>/`` (``register-resident``): the person file (一人一档), masked;
  ``register-reveal`` (POST, permission and reason, logged) answers the clear identity number and
  phone in that response only (``Cache-Control: no-store``; the page hides them after 60 s).
- Forms for writers: register a resident in a room (``register-add``), move
  (``register-move``), move out (``register-move-out``), record a follow-up
  (``register-follow-up``). Errors are shown next to their field in Chinese and in English; a
  form keeps what was typed except the identity number and the phone, which are shown masked and
  asked for again.

Every read and write runs inside ``registry.privacy.personal(request.user)`` (row-level security
for the user's territory), on ``visible_to(user)`` querysets: out of the territory is 404. Pages
are never cached (personal data on shared devices).
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Substr
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gis.exceptions import InvalidInputError, NotFoundError, PlategridError, ScopeError
from gis.models import RENTED_USES, Building, Community, District, DoorPlate, Room, StreetOffice
from gis.querysets import Action, can_write
from layers.coverage.dashboard import own_node
from registry import services
from registry.idnumber import mask as mask_id_number
from registry.models import (
    Category,
    FollowUp,
    Household,
    Occupancy,
    Outcome,
    Relation,
    Resident,
    Sex,
    TenancyContract,
)
from registry.privacy import can_reveal, mask_phone, personal, printable
from registry.querysets import in_node

#: Seconds the clear values stay on the page after a reveal.
REVEAL_SECONDS = 60
#: What looks like (a part of) an identity number rather than a name.
_NUMBERISH = re.compile(r"^[0-9０-９]{4,}[0-9０-９xXＸｘ]*$")
#: Name search: at most this many residents listed.
SEARCH_LIMIT = 50
#: The exports of helper "registers" linked from the pages: route name → formats.
#: (name, label, formats, kind): "day" exports take ``as_of``, "period" ``since``/``until``.
EXPORTS: tuple[tuple[str, Promise, tuple[str, ...], str], ...] = (
    ("register-floating", gettext_lazy("Floating population register"), ("xlsx", "pdf"), "day"),
    (
        "register-supplies",
        gettext_lazy("Supplies distribution register"),
        ("xlsx", "pdf"),
        "period",
    ),
    ("person-cards", gettext_lazy("Person cards"), ("pdf",), "day"),
)
LEVELS: dict[int, Any] = {6: District, 9: StreetOffice, 12: Community}
FIGURES = ("residents", "floating", "households", "rooms", "rented_empty")


def _level_label(code: str) -> str:
    return {6: _("district"), 9: _("street office"), 12: _("community")}.get(len(code), "")


def _both(error: PlategridError) -> dict[str, str]:
    return {"zh": error.render("zh-hans"), "en": error.render("en")}


def _refused(request: HttpRequest, error: PlategridError, status: int) -> HttpResponse:
    """A refusal in Chinese and in English, whatever the request's language."""
    context = {"title": _("People register"), **_both(error)}
    return render(request, "web/register/refused.html", context, status=status)


def _not_found() -> NotFoundError:
    return NotFoundError(gettext_lazy("Not found, or outside your territory."), code="not_found")


def _read_only() -> ScopeError:
    return ScopeError(
        gettext_lazy("Read-only: outside the territory you may edit."), code="permission_denied"
    )


# ---------------------------------------------------------------------------------------------
# Parsing what was typed (each error names its field, in both languages)


def _date(value: str, name: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInputError(
            gettext_lazy("Give a date as YYYY-MM-DD."), code="date", field=name
        ) from None


def _as_of(request: HttpRequest) -> tuple[datetime.date, PlategridError | None]:
    text = request.GET.get("as_of", "").strip()
    if not text:
        return timezone.localdate(), None
    try:
        return _date(text, "as_of"), None
    except InvalidInputError as error:
        return timezone.localdate(), error


@dataclass
class Form:
    """What a form page shows: its fields (name, label, kind, value, choices), their errors in
    both languages, and notes next to fields (the masked number typed before)."""

    values: dict[str, str]
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def fail(self, error: PlategridError) -> None:
        self.errors.setdefault(error.field or "__all__", _both(error))

    def get(self, name: str) -> str:
        return printable(self.values.get(name, ""))

    def date(self, name: str, *, required: bool = True) -> datetime.date | None:
        text = self.get(name)
        if not text:
            if required:
                self.fail(InvalidInputError(gettext_lazy("This field is required."), field=name))
            return None
        try:
            return _date(text, name)
        except InvalidInputError as error:
            self.fail(error)
            return None

    def choice(self, name: str, choices: Iterable[str], *, required: bool = True) -> str:
        text = self.get(name)
        if not text and not required:
            return ""
        if text not in choices:
            self.fail(InvalidInputError(gettext_lazy("Choose one of the options."), field=name))
        return text

    def fields(self, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                **spec,
                "value": self.values.get(spec["name"], spec.get("default", "")),
                "error": self.errors.get(spec["name"]),
                "note": self.notes.get(spec["name"], ""),
            }
            for spec in specs
        ]


@sensitive_variables("typed")
def _forget_identity(form: Form) -> None:
    """After an error the identity number and the phone are not sent back: the field is empty,
    with the masked form of what was typed beside it, to be typed again."""
    for name, masking in (("id_number", mask_id_number), ("phone", mask_phone)):
        typed = form.values.pop(name, "").strip().replace(" ", "")
        if typed:
            form.notes[name] = _("You typed %(masked)s: type it again.") % {
                "masked": masking(typed)
            }


def _choices(enum: Any) -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in enum.choices]


# ---------------------------------------------------------------------------------------------
# Labels


def _room_number(room: Room) -> str:
    """``2-301`` (entrance 2) or ``301``."""
    return f"{room.entrance.number}-{room.number}" if room.entrance else room.number


def _room_label(room: Room) -> str:
    """The room's door plate address, else community, building and room number."""
    if _has_plate(room):
        return room.door_plate.address
    building = room.building
    return f"{building.community.name} {building} {_room_number(room)}"


def _has_plate(room: Room) -> bool:
    try:
        return room.door_plate is not None
    except DoorPlate.DoesNotExist:
        return False


def _rooms_with_labels() -> Any:
    return Room.objects.select_related("building__community", "entrance", "door_plate")


def _building_label(building: Building, plate: str | None = None) -> str:
    return building.name or plate or f"#{building.pk}"


# ---------------------------------------------------------------------------------------------
# The tree and the counts


def _node(user: Any, code: str) -> Any:
    """The territory node ``code`` if the user sees it (their own or an ancestor of it)."""
    model = LEVELS.get(len(code)) if code.isdigit() else None
    node = model.objects.visible_to(user).filter(code=code).first() if model else None
    if node is None:
        raise _not_found()
    return node


def _crumbs(user: Any, code: str) -> list[dict[str, str]]:
    crumbs = []
    for n, model in LEVELS.items():
        if len(code) > n:
            node = model.objects.visible_to(user).filter(code=code[:n]).first()
            if node is not None:
                crumbs.append({"code": node.code, "name": node.name})
    return crumbs


def _occupancies(user: Any, day: datetime.date) -> Any:
    return Occupancy.objects.visible_to(user).as_of(day)


def _counts(user: Any, code: str, day: datetime.date, part: Any) -> dict[Any, dict[str, int]]:
    """Residents, floating residents, households, rooms and rented rooms with nobody registered
    on ``day``, per ``part`` of the node ``code`` (a child's code, or a building)."""
    figures: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    people = (
        _occupancies(user, day)
        .filter(in_node(code))
        .annotate(part=part("community_code", "room__building_id"))
        .values("part")
        .annotate(
            residents=Count("resident_id", distinct=True),
            floating=Count(
                "resident_id", filter=Q(resident__category=Category.FLOATING), distinct=True
            ),
            households=Count("household_id", distinct=True),
        )
    )
    for row in people:
        figures[row["part"]].update({k: row[k] for k in ("residents", "floating", "households")})
    lived_in = _occupancies(user, day).filter(room=OuterRef("pk"))
    rooms = (
        Room.objects.visible_to(user)
        .filter(building__community__code__startswith=code)
        .annotate(part=part("building__community__code", "building_id"), occupied=Exists(lived_in))
        .values("part")
        .annotate(
            rooms=Count("id"),
            rented_empty=Count("id", filter=Q(use__in=RENTED_USES, occupied=False)),
        )
    )
    for row in rooms:
        figures[row["part"]].update({"rooms": row["rooms"], "rented_empty": row["rented_empty"]})
    figures["total"] = {k: sum(f[k] for f in list(figures.values())) for k in FIGURES}
    return figures


def _by_prefix(n: int) -> Callable[[str, str], Any]:
    return lambda code_path, _building: Substr(code_path, 1, n)


def _by_building(_code_path: str, building_path: str) -> Any:
    return F(building_path)


def _children(user: Any, node: Any, day: datetime.date) -> tuple[list[dict], dict[str, int]]:
    code = node.code
    if len(code) == 12:
        plate = DoorPlate.objects.filter(building=OuterRef("pk")).order_by("room_id", "address")
        rows = (
            Building.objects.visible_to(user)
            .filter(community__code=code)
            .annotate(plate=Subquery(plate.values("address")[:1]))
            .order_by("name", "id")
        )
        figures = _counts(user, code, day, _by_building)
        children = [
            {
                "building": b.pk,
                "name": _building_label(b, b.plate),
                "code": "",
                **figures[b.pk],
            }
            for b in rows
        ]
    else:
        model = StreetOffice if len(code) == 6 else Community
        parent = "district__code" if len(code) == 6 else "street_office__code"
        nodes = model.objects.visible_to(user).filter(**{parent: code}).order_by("code")
        figures = _counts(user, code, day, _by_prefix(9 if len(code) == 6 else 12))
        children = [{"code": n.code, "name": n.name, **figures[n.code]} for n in nodes]
    return children, figures["total"]


# ---------------------------------------------------------------------------------------------
# A building: rooms, households, residents


def _building_rooms(user: Any, building: Building, day: datetime.date) -> list[dict[str, Any]]:
    occupancies = (
        _occupancies(user, day)
        .filter(room__building=building)
        .select_related("resident")
        .order_by("household_id", "moved_in", "id")
    )
    per_room: dict[int, dict[int, list[dict[str, Any]]]] = defaultdict(dict)
    for occ in occupancies:
        members = per_room[occ.room_id].setdefault(occ.household_id, [])
        members.append(_person_row(occ.resident, occ))
    rooms = []
    for room in building.rooms.select_related("entrance").order_by(
        "entrance__number", "-floor", "number"
    ):
        households = [
            {"id": hid, "members": sorted(members, key=lambda m: m["relation_code"] != "head")}
            for hid, members in per_room.get(room.pk, {}).items()
        ]
        rooms.append(
            {
                "id": room.pk,
                "label": _room_number(room),
                "floor": room.floor,
                "use": room.get_use_display(),
                "rented_empty": room.use in RENTED_USES and not households,
                "households": households,
                "residents": sum(len(members) for members in per_room.get(room.pk, {}).values()),
            }
        )
    return rooms


def _person_row(resident: Resident, occ: Occupancy | None = None) -> dict[str, Any]:
    return {
        "id": resident.pk,
        "name": resident.name,
        "category": resident.category,
        "category_label": resident.get_category_display(),
        "id_number_masked": resident.id_number_masked,
        "phone_masked": resident.phone_masked,
        "sex": resident.get_sex_display(),
        "birth_date": resident.birth_date,
        "relation_code": occ.relation if occ else "",
        "relation": occ.get_relation_display() if occ else "",
        "moved_in": occ.moved_in if occ else None,
        "url": reverse("register-resident", args=[resident.pk]),
    }


# ---------------------------------------------------------------------------------------------
# Exports: the registers (a URL per format) and the cards (one format, in the route's name)


def export_links() -> list[dict[str, Any]]:
    """The registers and the cards, each with a URL per format."""
    return [
        {
            "name": name,
            "label": label,
            "kind": kind,
            "urls": [
                (
                    fmt.upper(),
                    reverse(name, kwargs={"fmt": fmt}) if len(formats) > 1 else reverse(name),
                )
                for fmt in formats
            ],
        }
        for name, label, formats, kind in EXPORTS
    ]


# ---------------------------------------------------------------------------------------------
# /register/


def _search(user: Any, code: str, text: str) -> list[dict[str, Any]]:
    found = (
        Resident.objects.visible_to(user)
        .filter(in_node(code), name__startswith=text)
        .order_by("name", "id")[:SEARCH_LIMIT]
    )
    people = list(found)
    current = {
        occ.resident_id: occ
        for occ in Occupancy.objects.visible_to(user)
        .current()
        .filter(resident__in=[p.pk for p in people])
        .select_related("room__building__community", "room__entrance", "room__door_plate")
    }
    rows = []
    for person in people:
        occ = current.get(person.pk)
        rows.append({**_person_row(person, occ), "where": _room_label(occ.room) if occ else ""})
    return rows


def _register_context(
    request: HttpRequest, *, id_error: dict[str, str] | None = None, id_missing: bool = False
) -> tuple[dict[str, Any], int]:
    """The register page's context and status (inside ``personal``)."""
    user = request.user
    day, date_error = _as_of(request)
    building = None
    building_id = request.GET.get("building", "").strip()
    if building_id:
        building = (
            Building.objects.visible_to(user)
            .select_related("community")
            .filter(pk=int(building_id) if building_id.isdigit() else 0)
            .first()
        )
        if building is None:
            raise _not_found()
        code = building.community.code
    else:
        code = request.GET.get("code", "").strip() or own_node(user) or ""
        if not code:
            raise NotFoundError(gettext_lazy("Your account has no territory."), code="no_territory")
    node = _node(user, code)
    crumbs = _crumbs(user, code)
    context: dict[str, Any] = {
        "as_of": day,
        "today": timezone.localdate(),
        "date_error": _both(date_error) if date_error else None,
        "node": {"code": node.code, "name": node.name, "level": _level_label(node.code)},
        "crumbs": crumbs,
        "exports": export_links(),
        "can_write": can_write(user, code) if building else False,
        "id_error": id_error,
        "id_missing": id_missing,
    }
    if building is not None:
        rooms = _building_rooms(user, building, day)
        plate = DoorPlate.objects.filter(building=building).order_by("room_id", "address")
        context["building"] = {
            "id": building.pk,
            "name": _building_label(building, plate.values_list("address", flat=True).first()),
        }
        context["rooms"] = rooms
        context["occupied_rooms"] = [r for r in rooms if r["households"]]
        context["empty_rooms"] = [r for r in rooms if not r["households"]]
        context["totals"] = {
            "residents": sum(r["residents"] for r in rooms),
            "floating": sum(
                1
                for r in rooms
                for h in r["households"]
                for m in h["members"]
                if m["category"] == Category.FLOATING
            ),
            "households": sum(len(r["households"]) for r in rooms),
            "rooms": len(rooms),
            "rented_empty": sum(1 for r in rooms if r["rented_empty"]),
        }
        context["crumbs"] = [*crumbs, {"code": node.code, "name": node.name}]
    else:
        children, totals = _children(user, node, day)
        context["children"] = children
        context["totals"] = totals
        context["child_level"] = {6: _("street office"), 9: _("community")}.get(
            len(node.code), _("building")
        )
    query = request.GET.get("q", "").strip()[:50]
    context["q_number"] = "number_typed" in request.GET
    context["q"] = query
    if query:
        context["found"] = _search(user, code, query)
    # The registers' API takes a building as ``code=building=<id>``.
    context["export_scope"] = {
        "code": f"building={building.pk}" if building is not None else node.code
    }
    context["month_start"] = context["today"].replace(day=1)
    context["can_reveal"] = can_reveal(user)
    return context, 400 if date_error else 200


def _without_typed_number(view: Any) -> Any:
    """An identity number typed into the name box is not searched and goes no further — not even
    into the sign-in page's ``next=``: the page comes back without it (the page's script moves
    such a number to the logged search before it is sent at all)."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        if _NUMBERISH.match(request.GET.get("q", "").strip()):
            kept = request.GET.copy()
            kept.pop("q")
            kept["number_typed"] = "1"
            return redirect(f"{request.path}?{kept.urlencode()}")
        return view(request)

    return wrapper


@_without_typed_number
@login_required
@never_cache
@require_GET
def register_page(request: HttpRequest) -> HttpResponse:
    """The register of the user's territory (or ``?code=``, ``?building=``) as of ``?as_of=``."""
    try:
        with personal(request.user):
            context, status = _register_context(request)
            return render(request, "web/register/index.html", context, status=status)
    except NotFoundError as error:
        return _refused(request, error, 404)


@login_required
@never_cache
@sensitive_post_parameters("id_number", "reason")
@sensitive_variables("number", "reason")
@require_POST
def search_id_page(request: HttpRequest) -> HttpResponse:
    """Find a resident by identity number (logged, with the reason): the person's file, or the
    register page saying nobody was found. The number never comes back, in the page or a URL."""
    number = request.POST.get("id_number", "")
    reason = request.POST.get("reason", "")
    error: PlategridError | None = None
    found = None
    try:
        found = services.find_by_id_number(request.user, number, reason=reason, path=request.path)
    except InvalidInputError as exc:
        error = exc
    if found is not None:
        return redirect("register-resident", found.pk)
    if error is not None and "value" in error.params:
        # The message would quote the (masked) number: say what is wrong without it.
        error = InvalidInputError(error.message, code=error.code, field=error.field, value="…")
    try:
        with personal(request.user):
            context, _status = _register_context(
                request,
                id_error=_both(error) if error else None,
                id_missing=error is None,
            )
            context["id_reason"] = reason if error and error.field != "reason" else ""
            return render(request, "web/register/index.html", context, status=400 if error else 404)
    except NotFoundError as exc:
        return _refused(request, exc, 404)


# ---------------------------------------------------------------------------------------------
# /register/residents/<id>/


def _resident(user: Any, pk: int) -> Resident:
    resident = Resident.objects.visible_to(user).select_related("schedule").filter(pk=pk).first()
    if resident is None:
        raise _not_found()
    return resident


def _file_context(user: Any, resident: Resident) -> dict[str, Any]:
    """The person file (inside ``personal``): masked fields only."""
    history = list(
        Occupancy.objects.visible_to(user)
        .filter(resident=resident)
        .select_related("room__building__community", "room__entrance", "room__door_plate")
        .order_by("-moved_in", "-id")
    )
    current = next((o for o in history if o.moved_out is None), None)
    members = []
    if current is not None:
        members = [
            _person_row(o.resident, o)
            for o in Occupancy.objects.visible_to(user)
            .current()
            .filter(household_id=current.household_id)
            .exclude(resident=resident)
            .select_related("resident")
            .order_by("moved_in", "id")
        ]
    follow_ups = [
        {
            "done_on": f.done_on,
            "outcome": f.get_outcome_display(),
            "outcome_code": f.outcome,
            "note": f.note,
            "by": f.recorded_by.get_username() if f.recorded_by else "",
        }
        for f in FollowUp.objects.visible_to(user)
        .filter(resident=resident)
        .select_related("recorded_by")
    ]
    contracts = [
        {
            "signed_on": c.signed_on,
            "expires_on": c.expires_on,
            "room": _room_label(c.room),
            "landlord": c.landlord.name if c.landlord else "",
            "scan": bool(c.scan),
            "valid": c.signed_on <= timezone.localdate()
            and (c.expires_on is None or c.expires_on >= timezone.localdate()),
        }
        for c in TenancyContract.objects.visible_to(user)
        .filter(tenant=resident)
        .select_related(
            "landlord", "room__building__community", "room__entrance", "room__door_plate"
        )
    ]
    schedule = resident.schedule
    crumbs = []
    if current is not None:
        building = current.room.building
        crumbs = [
            {
                "url": f"{reverse('register')}?code={building.community.code}",
                "name": building.community.name,
            },
            {
                "url": f"{reverse('register')}?building={building.pk}",
                "name": _building_label(building),
            },
        ]
    return {
        "crumbs": crumbs,
        "person": _person_row(resident, current),
        "resident": resident,
        "schedule": {"name": schedule.name, "months": ", ".join(map(str, schedule.months))}
        if schedule
        else None,
        "history": [
            {
                "where": _room_label(o.room),
                "building": o.room.building_id,
                "moved_in": o.moved_in,
                "moved_out": o.moved_out,
                "relation": o.get_relation_display(),
                "current": o.moved_out is None,
            }
            for o in history
        ],
        "current": current,
        "members": members,
        "follow_ups": follow_ups,
        "contracts": contracts,
        "can_reveal": can_reveal(user),
        "can_write": can_write(user, resident.community_code),
        "exports": [e for e in export_links() if e["name"] == "person-cards"],
        "card_scope": {"resident": resident.pk},
        "config": {
            "hide_after": REVEAL_SECONDS,
            "words": {
                "shown": _("Shown in clear; hidden again in %(s)s s."),
                "hidden": _("Hidden again."),
                "failed": _("The reveal was refused"),
            },
        },
    }


@login_required
@never_cache
@require_GET
def resident_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        with personal(request.user):
            context = _file_context(request.user, _resident(request.user, pk))
            return render(request, "web/register/resident.html", context)
    except NotFoundError as error:
        return _refused(request, error, 404)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@never_cache
@sensitive_post_parameters("reason")
@sensitive_variables("clear")
@require_POST
def reveal_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The identity number and phone in clear, in this response only (permission and reason;
    logged by ``registry.services.reveal``). JSON for the page's script; without a script, the
    person file with the clear values, which goes back to the masked file after 60 s."""
    try:
        clear = services.reveal(
            request.user, pk, reason=request.POST.get("reason", ""), path=request.path
        )
    except PlategridError as error:
        status = (
            404
            if isinstance(error, NotFoundError)
            else 403
            if isinstance(error, ScopeError)
            else 400
        )
        if _wants_json(request):
            return JsonResponse(error.as_body(), status=status)
        if status == 400:
            try:
                with personal(request.user):
                    context = _file_context(request.user, _resident(request.user, pk))
                    context["reveal_error"] = _both(error)
                    return render(request, "web/register/resident.html", context, status=400)
            except NotFoundError as missing:  # no reason, and nobody of the user's territory
                return _refused(request, missing, 404)
        return _refused(request, error, status)
    if _wants_json(request):
        return JsonResponse({**clear, "hide_after": REVEAL_SECONDS})
    with personal(request.user):
        context = _file_context(request.user, _resident(request.user, pk))
        context["revealed"] = clear
        return render(request, "web/register/resident.html", context)


# ---------------------------------------------------------------------------------------------
# Forms for writers


def _form_page(
    request: HttpRequest,
    *,
    title: str,
    intro: str,
    form: Form,
    specs: list[dict[str, Any]],
    back: str,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    context = {
        "title": title,
        "intro": intro,
        "fields": form.fields(specs),
        "general": form.errors.get("__all__"),
        "back": back,
        "errors": bool(form.errors),
        **(extra or {}),
    }
    return render(request, "web/register/form.html", context, status=status)


def _writable(user: Any, code: str) -> None:
    if not can_write(user, code):
        raise _read_only()


def _households(user: Any, room: Room) -> list[tuple[str, str]]:
    heads = {
        o.household_id: o.resident.name
        for o in Occupancy.objects.visible_to(user)
        .current()
        .filter(room=room)
        .select_related("resident")
        .order_by("relation", "moved_in")
    }
    return [(str(hid), _("household of %(name)s") % {"name": name}) for hid, name in heads.items()]


def _person_specs(user: Any, room: Room) -> list[dict[str, Any]]:
    today = timezone.localdate().isoformat()
    return [
        {"name": "name", "label": _("Full name"), "kind": "text", "required": True, "max": 50},
        {
            "name": "category",
            "label": _("Category"),
            "kind": "select",
            "choices": _choices(Category),
            "required": True,
        },
        {
            "name": "id_number",
            "label": _("Identity number"),
            "kind": "text",
            "max": 18,
            "autocomplete": "off",
            "inputmode": "text",
            "help": _("18 characters; leave empty when the person has none."),
        },
        {"name": "phone", "label": _("Phone"), "kind": "tel", "max": 20, "autocomplete": "off"},
        {
            "name": "birth_date",
            "label": _("Birth date"),
            "kind": "date",
            "max_date": today,
            "help": _("Only without an identity number (read from it otherwise)."),
        },
        {
            "name": "sex",
            "label": _("Sex"),
            "kind": "select",
            "choices": [("", "—"), *_choices(Sex)],
            "help": _("Only without an identity number."),
        },
        {
            "name": "home_registration",
            "label": _("Home registration place"),
            "kind": "text",
            "max": 100,
        },
        {"name": "employer", "label": _("Employer"), "kind": "text", "max": 100},
        {"name": "arrival_date", "label": _("Arrival date"), "kind": "date", "max_date": today},
        {
            "name": "moved_in",
            "label": _("Moved in on"),
            "kind": "date",
            "required": True,
            "default": today,
            "max_date": today,
        },
        {
            "name": "household",
            "label": _("Household"),
            "kind": "select",
            "choices": [("", _("a new household")), *_households(user, room)],
        },
        {
            "name": "relation",
            "label": _("Relation to the head"),
            "kind": "select",
            "choices": _choices(Relation),
            "default": Relation.HEAD,
            "help": _("When joining a household."),
        },
    ]


def _room(user: Any, pk: int) -> Room:
    room = (
        _rooms_with_labels()
        .filter(pk=pk)
        .filter(pk__in=Room.objects.visible_to(user).values("pk"))
        .first()
    )
    if room is None:
        raise _not_found()
    return room


@sensitive_variables("form")
def _register_resident(user: Any, room: Room, form: Form) -> Resident | None:
    category = form.choice("category", Category.values)
    sex = form.choice("sex", Sex.values, required=False)
    relation = form.choice("relation", Relation.values)
    birth = form.date("birth_date", required=False)
    arrival = form.date("arrival_date", required=False)
    moved_in = form.date("moved_in")
    household = None
    if form.get("household"):
        household = (
            Household.objects.visible_to(user)
            .filter(
                room=room, pk=int(form.get("household")) if form.get("household").isdigit() else 0
            )
            .first()
        )
        if household is None:
            form.fail(
                InvalidInputError(gettext_lazy("Choose one of the options."), field="household")
            )
    if not form.get("name"):
        form.fail(InvalidInputError(gettext_lazy("This field is required."), field="name"))
    if form.errors or moved_in is None:
        return None
    data = services.PersonData(
        name=form.get("name"),
        category=category,
        id_number=form.get("id_number"),
        phone=form.get("phone"),
        birth_date=birth,
        sex=sex,
        home_registration=form.get("home_registration"),
        employer=form.get("employer"),
        arrival_date=arrival,
    )
    try:
        return services.register_resident(
            user,
            data,
            room=room,
            moved_in=moved_in,
            relation=relation if household else Relation.HEAD,
            household=household,
        )
    except InvalidInputError as error:
        form.fail(error)
        return None


@login_required
@never_cache
@sensitive_post_parameters("id_number", "phone")
@require_http_methods(["GET", "POST"])
def add_page(request: HttpRequest, room_id: int) -> HttpResponse:
    """Register a person living in a room (a new household, or joining one of the room's)."""
    user = request.user
    try:
        with personal(user):
            room = _room(user, room_id)
            code = room.building.community.code
            _writable(user, code)
            form = Form(request.POST.dict() if request.method == "POST" else {})
            if request.method == "POST":
                resident = _register_resident(user, room, form)
                if resident is not None:
                    messages.success(request, _("Saved."))
                    return redirect("register-resident", resident.pk)
                _forget_identity(form)
            back = f"{reverse('register')}?building={room.building_id}"
            return _form_page(
                request,
                title=_("Register a resident"),
                intro=_room_label(room),
                form=form,
                specs=_person_specs(user, room),
                back=back,
                status=400 if form.errors else 200,
            )
    except NotFoundError as error:
        return _refused(request, error, 404)
    except ScopeError as error:
        return _refused(request, error, 403)


def _resident_form(
    request: HttpRequest,
    pk: int,
    *,
    title: str,
    specs: Callable[[Any, Resident, Form], list[dict[str, Any]]],
    save: Callable[[Any, Resident, Form], bool],
) -> HttpResponse:
    """A form acting on one resident: 404 outside the territory, 403 read-only."""
    user = request.user
    try:
        with personal(user):
            resident = _resident(user, pk)
            _writable(user, resident.community_code)
            form = Form(request.POST.dict() if request.method == "POST" else request.GET.dict())
            if request.method == "POST" and save(user, resident, form):
                messages.success(request, _("Saved."))
                return redirect("register-resident", resident.pk)
            fields = specs(user, resident, form)
            return _form_page(
                request,
                title=title,
                intro=f"{resident.name} · {resident.id_number_masked or '—'}",
                form=form,
                specs=fields,
                back=reverse("register-resident", args=[resident.pk]),
                status=400 if form.errors else 200,
                extra={"refine": any(spec.get("refine") for spec in fields)},
            )
    except NotFoundError as error:
        return _refused(request, error, 404)
    except ScopeError as error:
        return _refused(request, error, 403)


def _move_specs(user: Any, resident: Resident, form: Form) -> list[dict[str, Any]]:
    current = Occupancy.objects.visible_to(user).current().filter(resident=resident).first()
    here = current.room.building if current else None
    community = form.get("community") or (here.community.code if here else resident.community_code)
    # Communities where the user may register people (a territory queryset's WRITE means the
    # territory's own edits, a district administrator's).
    communities = [
        (c, n)
        for c, n in Community.objects.visible_to(user).order_by("code").values_list("code", "name")
        if can_write(user, c)
    ]
    form.values.setdefault("community", community)
    buildings = [
        (str(b.pk), _building_label(b, b.plate))
        for b in Building.objects.visible_to(user, Action.WRITE)
        .filter(community__code=community)
        .annotate(
            plate=Subquery(
                DoorPlate.objects.filter(building=OuterRef("pk"))
                .order_by("room_id", "address")
                .values("address")[:1]
            )
        )
        .order_by("name", "id")
    ]
    building = form.get("building")
    if not building and here and here.community.code == community:
        building = str(here.pk)
    if building not in {b for b, _label in buildings}:
        building = buildings[0][0] if buildings else ""
    form.values["building"] = building
    rooms = [
        (
            str(r.pk),
            " · ".join(
                (_room_number(r), _("floor %(floor)s") % {"floor": r.floor}, r.get_use_display())
            ),
        )
        for r in Room.objects.filter(building_id=int(building) if building else 0)
        .select_related("entrance")
        .order_by("entrance__number", "-floor", "number")
    ]
    households = []
    if building:
        heads = (
            Occupancy.objects.visible_to(user)
            .current()
            .filter(room__building_id=int(building), relation=Relation.HEAD)
            .select_related("resident", "room")
        )
        households = [
            (
                str(o.household_id),
                f"{o.room.number} · " + _("household of %(name)s") % {"name": o.resident.name},
            )
            for o in heads
        ]
    today = timezone.localdate().isoformat()
    return [
        {
            "name": "community",
            "label": _("Community"),
            "kind": "select",
            "choices": communities,
            "refine": True,
        },
        {
            "name": "building",
            "label": _("Building"),
            "kind": "select",
            "choices": buildings,
            "refine": True,
        },
        {"name": "room", "label": _("Room"), "kind": "select", "choices": rooms, "required": True},
        {
            "name": "on",
            "label": _("Moved on"),
            "kind": "date",
            "required": True,
            "default": today,
            "max_date": today,
        },
        {
            "name": "household",
            "label": _("Household"),
            "kind": "select",
            "choices": [("", _("a new household")), *households],
        },
        {
            "name": "relation",
            "label": _("Relation to the head"),
            "kind": "select",
            "choices": _choices(Relation),
            "default": Relation.HEAD,
            "help": _("When joining a household."),
        },
    ]


def _save_move(user: Any, resident: Resident, form: Form) -> bool:
    on = form.date("on")
    relation = form.choice("relation", Relation.values)
    room_id = form.get("room")
    room = (
        Room.objects.visible_to(user)
        .select_related("building__community")
        .filter(pk=int(room_id) if room_id.isdigit() else 0)
        .first()
    )
    if room is None:
        form.fail(InvalidInputError(gettext_lazy("Choose one of the options."), field="room"))
    household = None
    if form.get("household"):
        household = (
            Household.objects.visible_to(user)
            .filter(pk=int(form.get("household")) if form.get("household").isdigit() else 0)
            .first()
        )
        if household is None:
            form.fail(
                InvalidInputError(gettext_lazy("Choose one of the options."), field="household")
            )
    if form.errors or on is None or room is None:
        return False
    try:
        services.move(
            user,
            resident,
            room=room,
            on=on,
            relation=relation if household else Relation.HEAD,
            household=household,
        )
    except (InvalidInputError, ScopeError) as error:
        if isinstance(error, ScopeError):
            error.field = "room"
        form.fail(error)
        return False
    return True


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def move_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _resident_form(
        request, pk, title=_("Move to another room"), specs=_move_specs, save=_save_move
    )


def _move_out_specs(user: Any, resident: Resident, form: Form) -> list[dict[str, Any]]:
    today = timezone.localdate().isoformat()
    return [
        {
            "name": "on",
            "label": _("Moved out on"),
            "kind": "date",
            "required": True,
            "default": today,
        },
        {
            "name": "outflowing",
            "label": _("Keep the file as an out-flowing resident of the community"),
            "kind": "checkbox",
        },
    ]


def _save_move_out(user: Any, resident: Resident, form: Form) -> bool:
    on = form.date("on")
    if on is None:
        return False
    try:
        services.move_out(user, resident, on=on, outflowing=bool(form.get("outflowing")))
    except InvalidInputError as error:
        if error.field == "moved_out":
            error.field = "on"
        form.fail(error)
        return False
    return True


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def move_out_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _resident_form(
        request, pk, title=_("Move out"), specs=_move_out_specs, save=_save_move_out
    )


def _follow_up_specs(user: Any, resident: Resident, form: Form) -> list[dict[str, Any]]:
    today = timezone.localdate().isoformat()
    return [
        {
            "name": "done_on",
            "label": _("Done on"),
            "kind": "date",
            "required": True,
            "default": today,
            "max_date": today,
        },
        {
            "name": "outcome",
            "label": _("Outcome"),
            "kind": "select",
            "choices": _choices(Outcome),
            "required": True,
        },
        {"name": "note", "label": _("Note"), "kind": "textarea", "max": 200},
    ]


def _save_follow_up(user: Any, resident: Resident, form: Form) -> bool:
    done_on = form.date("done_on")
    outcome = form.choice("outcome", Outcome.values)
    if form.errors or done_on is None:
        return False
    try:
        services.record_follow_up(
            user, resident, done_on=done_on, outcome=outcome, note=form.get("note")
        )
    except InvalidInputError as error:
        form.fail(error)
        return False
    return True


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def follow_up_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _resident_form(
        request, pk, title=_("Record a follow-up"), specs=_follow_up_specs, save=_save_follow_up
    )


urlpatterns: list[URLPattern] = [
    path("", register_page, name="register"),
    path("search-id/", search_id_page, name="register-search-id"),
    path("rooms/<int:room_id>/add/", add_page, name="register-add"),
    path("residents/<int:pk>/", resident_page, name="register-resident"),
    path("residents/<int:pk>/reveal/", reveal_page, name="register-reveal"),
    path("residents/<int:pk>/move/", move_page, name="register-move"),
    path("residents/<int:pk>/move-out/", move_out_page, name="register-move-out"),
    path("residents/<int:pk>/follow-up/", follow_up_page, name="register-follow-up"),
]
