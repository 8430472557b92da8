"""Every write of the people register, and the reads that are logged (search by identity
number, reveal). Each runs inside :func:`registry.privacy.personal` for its actor, so row-level
security applies to it as well as the explicit scope checks.

Identity numbers and phones go in through :func:`identity_fields`: validated (GB 11643),
encrypted, hashed for search and masked for display. They come out in clear only through
:func:`reveal`, which needs the permission and a reason and is logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from gis.exceptions import InvalidInputError, NotFoundError, ScopeError
from gis.models import Room
from gis.services import acting, require_write

from . import crypto
from .idnumber import IdNumberError, parse
from .idnumber import mask as mask_id
from .models import (
    Access,
    Category,
    FollowUp,
    FollowUpSchedule,
    Household,
    Occupancy,
    Outcome,
    Relation,
    Resident,
)
from .privacy import can_reveal, clean_reason, log_access, mask_phone, personal, printable

ID_CONTEXT = "resident.id_number"
PHONE_CONTEXT = "resident.phone"
_PHONE = re.compile(r"^\+?[0-9][0-9-]{5,18}[0-9]$")

ID_ERRORS = {
    "id_shape": _("An identity number has 17 digits and a final digit or X: %(value)s."),
    "id_birth_date": _("The birth date inside the identity number %(value)s is not a real date."),
    "id_check_digit": _(
        "The identity number %(value)s fails its check digit (GB 11643): a digit is mistyped."
    ),
}


def id_number_hash(raw: str) -> str:
    """The search hash of an identity number as typed (normalised first); refuses invalid ones."""
    return crypto.search_hash(check_id_number(raw).value, kind="id")


def check_id_number(raw: str, *, field: str = "id_number") -> Any:
    try:
        return parse(raw)
    except IdNumberError as exc:
        raise InvalidInputError(
            ID_ERRORS[exc.code], code=exc.code, field=field, value=mask_id(raw.strip()) or "—"
        ) from None


def identity_fields(*, id_number: str | None = None, phone: str | None = None) -> dict[str, Any]:
    """The stored columns for an identity number and/or a phone (``None``: leave as is; ``""``:
    clear)."""
    fields: dict[str, Any] = {}
    if id_number is not None:
        if id_number.strip():
            number = check_id_number(id_number)
            fields |= {
                "id_number": crypto.encrypt(number.value, context=ID_CONTEXT),
                "id_number_hash": crypto.search_hash(number.value, kind="id"),
                "id_number_masked": number.masked(),
                "birth_date": number.birth_date,
                "sex": "m" if number.male else "f",
            }
        else:
            fields |= {"id_number": "", "id_number_hash": None, "id_number_masked": ""}
    if phone is not None:
        text = phone.strip().replace(" ", "")
        if text and not _PHONE.match(text):
            raise InvalidInputError(
                _("A phone number has 7 to 20 digits (a leading + and dashes allowed)."),
                code="phone_shape",
                field="phone",
            )
        fields |= {
            "phone": crypto.encrypt(text, context=PHONE_CONTEXT),
            "phone_masked": mask_phone(text),
        }
    return fields


@dataclass(frozen=True)
class PersonData:
    """What a person is registered with; ``birth_date`` and ``sex`` are read from the identity
    number when there is one (and must agree with it when given too)."""

    name: str
    category: str
    # Never in a repr (tracebacks, error reports): the clear number and phone.
    id_number: str = field(default="", repr=False)
    phone: str = field(default="", repr=False)
    birth_date: date | None = None
    sex: str = ""
    home_registration: str = ""
    employer: str = ""
    arrival_date: date | None = None
    schedule: FollowUpSchedule | None = None


def _person_fields(data: PersonData) -> dict[str, Any]:
    name = printable(data.name)
    if not name or len(name) > 50:
        raise InvalidInputError(
            _("A resident needs a name of at most 50 characters."), code="name", field="name"
        )
    if data.category not in Category.values:
        raise InvalidInputError(
            _("Unknown resident category %(value)s."),
            code="category",
            field="category",
            value=data.category,
        )
    fields = identity_fields(id_number=data.id_number, phone=data.phone)
    for key, given in (("birth_date", data.birth_date), ("sex", data.sex)):
        if given and key in fields and fields[key] != given:
            raise InvalidInputError(
                _("The %(name)s given does not match the identity number."),
                code="id_mismatch",
                field=key,
                name=_("birth date") if key == "birth_date" else _("sex"),
            )
        fields.setdefault(key, given)
    if not fields.get("birth_date") or fields.get("sex") not in ("m", "f"):
        raise InvalidInputError(
            _("Without an identity number, give the birth date and the sex."),
            code="birth_date_sex",
            field="birth_date",
        )
    schedule = data.schedule or FollowUpSchedule.objects.filter(category=data.category).first()
    return fields | {
        "name": name,
        "category": data.category,
        "home_registration": printable(data.home_registration)[:100],
        "employer": printable(data.employer)[:100],
        "arrival_date": data.arrival_date,
        "schedule": schedule,
    }


def _already_registered(fields: dict[str, Any]) -> InvalidInputError:
    return InvalidInputError(
        _("A resident with the identity number %(value)s is already registered."),
        code="duplicate_id_number",
        field="id_number",
        value=fields.get("id_number_masked", ""),
    )


def _save_file(resident: Resident, fields: dict[str, Any], exclude: int = 0) -> None:
    """Save a resident's file, one file per identity number. The file already on record may lie
    outside the user's territory (row-level security hides it from the query): then the
    database's unique index refuses the save."""
    hashed = fields.get("id_number_hash")
    if hashed and Resident.objects.filter(id_number_hash=hashed).exclude(pk=exclude).exists():
        raise _already_registered(fields)
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError as exc:
        raise _already_registered(fields) from exc


@contextmanager
def _logging_refused_numbers(actor: Any, fields: dict[str, Any]) -> Iterator[None]:
    """A number refused as already registered tells the user it is on file somewhere: that is a
    search by identity number, and is logged as one (after the refused transaction)."""
    try:
        yield
    except InvalidInputError as error:
        if error.code == "duplicate_id_number":
            log_access(
                actor,
                Access.SEARCH,
                f"id_number {fields.get('id_number_masked', '')} (registration refused: on file)",
                reason="registering a number already on file",
                rows=1,
            )
        raise


def _room_code(room: Room) -> str:
    return room.building.community.code


def register_resident(
    actor: Any,
    data: PersonData,
    *,
    room: Room,
    moved_in: date,
    relation: str = Relation.HEAD,
    household: Household | None = None,
) -> Resident:
    """Register a person living in ``room`` from ``moved_in`` (a new household unless one is
    given; the first person of a new household is its head)."""
    code = _room_code(room)
    require_write(actor, code)
    fields = _person_fields(data)
    with (
        _logging_refused_numbers(actor, fields),
        acting(actor),
        personal(actor, system=actor is None),
    ):
        resident = Resident(community_code=code, **fields)
        _save_file(resident, fields)
        _occupy(resident, room, household=household, relation=relation, on=moved_in)
    return resident


def update_resident(actor: Any, resident: Resident, changes: dict[str, Any]) -> Resident:
    """Change a resident's fields; ``id_number`` and ``phone`` in clear are encrypted here."""
    require_write(actor, resident.community_code)
    current = PersonData(
        name=resident.name,
        category=resident.category,
        birth_date=resident.birth_date,
        sex=resident.sex,
        home_registration=resident.home_registration,
        employer=resident.employer,
        arrival_date=resident.arrival_date,
        schedule=resident.schedule,
    )
    merged = {k: v for k, v in changes.items() if k not in ("id_number", "phone")}
    data = PersonData(**{**current.__dict__, **merged})
    if "id_number" in changes:
        data = PersonData(**{**data.__dict__, "id_number": changes["id_number"] or ""})
        if changes["id_number"]:  # the number decides birth date and sex
            data = PersonData(**{**data.__dict__, "birth_date": None, "sex": ""})
    fields = _person_fields(data)
    if "id_number" not in changes:
        for key in ("id_number", "id_number_hash", "id_number_masked"):
            fields.pop(key, None)
    if "phone" in changes:
        fields |= identity_fields(phone=changes["phone"] or "")
    else:
        fields.pop("phone", None)
        fields.pop("phone_masked", None)
    with (
        _logging_refused_numbers(actor, fields),
        acting(actor),
        personal(actor, system=actor is None),
    ):
        for key, value in fields.items():
            setattr(resident, key, value)
        _save_file(resident, fields, exclude=resident.pk)
    return resident


def _occupy(
    resident: Resident, room: Room, *, household: Household | None, relation: str, on: date
) -> Occupancy:
    code = _room_code(room)
    if relation not in Relation.values:
        raise InvalidInputError(
            _("Unknown relation %(value)s."), code="relation", field="relation", value=relation
        )
    if household is None:
        household = Household.objects.create(room=room, community_code=code, created_on=on)
        relation = Relation.HEAD
    elif household.room_id != room.pk:
        raise InvalidInputError(
            _("The household lives in another room."), code="household_room", field="household"
        )
    elif relation == Relation.HEAD and household.occupancies.current().filter(relation="head"):
        raise InvalidInputError(
            _("The household already has a head."), code="household_head", field="relation"
        )
    if (
        resident.occupancies.filter(moved_in__gt=on).exists()
        or resident.occupancies.filter(moved_out__gt=on).exists()
    ):
        raise InvalidInputError(
            _("The resident has a later move on record: moves are entered in date order."),
            code="move_order",
            field="moved_in",
        )
    return Occupancy.objects.create(
        resident=resident,
        household=household,
        room=room,
        community_code=code,
        relation=relation,
        moved_in=on,
    )


def move(
    actor: Any,
    resident: Resident,
    *,
    room: Room,
    on: date,
    relation: str = Relation.HEAD,
    household: Household | None = None,
) -> Occupancy:
    """The resident moves to ``room`` on ``on``: the current occupancy ends that day, a new one
    begins, and the file follows to the room's community (the writer needs both)."""
    code = _room_code(room)
    require_write(actor, resident.community_code)
    require_write(actor, code)
    with acting(actor), personal(actor, system=actor is None):
        _end_occupancy(resident, on)
        occupancy = _occupy(resident, room, household=household, relation=relation, on=on)
        if resident.community_code != code:
            # The file follows the person, with its follow-ups; occupancies stay with their rooms.
            Resident.objects.filter(pk=resident.pk).update(community_code=code)
            FollowUp.objects.filter(resident=resident).update(community_code=code)
            resident.community_code = code
    return occupancy


def move_out(actor: Any, resident: Resident, *, on: date, outflowing: bool = False) -> None:
    """The resident leaves on ``on`` (the day is no longer theirs); ``outflowing`` keeps the file
    as an out-flowing resident of the community (流出人口)."""
    require_write(actor, resident.community_code)
    with acting(actor), personal(actor, system=actor is None):
        if not _end_occupancy(resident, on):
            raise InvalidInputError(
                _("The resident lives nowhere on record on that day."),
                code="not_living_here",
                field="moved_out",
            )
        if outflowing:
            default = FollowUpSchedule.objects.filter(category=resident.category).first()
            resident.category = Category.OUTFLOWING
            if resident.schedule is None or resident.schedule == default:
                # The old category's schedule followed from the category: so does the new one.
                resident.schedule = FollowUpSchedule.objects.filter(
                    category=Category.OUTFLOWING
                ).first()
            resident.save(update_fields=["category", "schedule", "updated_at"])


def _end_occupancy(resident: Resident, on: date) -> bool:
    current = resident.occupancies.current().first()
    if current is None:
        return False
    if on <= current.moved_in:
        raise InvalidInputError(
            _("A move-out must come after the move-in (%(moved_in)s)."),
            code="move_order",
            field="moved_out",
            moved_in=current.moved_in.isoformat(),
        )
    current.moved_out = on
    current.save(update_fields=["moved_out"])
    household = current.household
    if not household.occupancies.current().exists():
        household.dissolved_on = on
        household.save(update_fields=["dissolved_on"])
    return True


def record_follow_up(
    actor: Any, resident: Resident, *, done_on: date, outcome: str, note: str = ""
) -> FollowUp:
    require_write(actor, resident.community_code)
    if outcome not in Outcome.values:
        raise InvalidInputError(
            _("Unknown follow-up outcome %(value)s."),
            code="outcome",
            field="outcome",
            value=outcome,
        )
    if done_on > date.today():
        raise InvalidInputError(
            _("A follow-up cannot be recorded for a day still to come."),
            code="future",
            field="done_on",
        )
    with acting(actor), personal(actor, system=actor is None):
        return FollowUp.objects.create(
            resident=resident,
            community_code=resident.community_code,
            done_on=done_on,
            outcome=outcome,
            note=printable(note)[:200],
            recorded_by=actor,
        )


# ---------------------------------------------------------------------------------------------
# The logged reads


def find_by_id_number(actor: Any, raw: str, *, reason: str, path: str = "") -> Resident | None:
    """The resident with this identity number in the actor's territory, or ``None``; the search
    itself is logged (the masked number, the reason) whether it finds anyone or not."""
    why = clean_reason(reason)
    hashed = id_number_hash(raw)
    with personal(actor):
        found = Resident.objects.visible_to(actor).filter(id_number_hash=hashed).first()
    log_access(
        actor,
        Access.SEARCH,
        f"id_number {mask_id(check_id_number(raw).value)}",
        reason=why,
        object_id=found.pk if found else None,
        community_code=found.community_code if found else "",
        rows=1 if found else 0,
        path=path,
    )
    return found


def reveal_fields(resident: Resident) -> dict[str, str]:
    """The decrypted identity number and phone; callers log (only :func:`reveal` and exports)."""
    return {
        "id_number": crypto.decrypt(resident.id_number, context=ID_CONTEXT),
        "phone": crypto.decrypt(resident.phone, context=PHONE_CONTEXT),
    }


def reveal(actor: Any, resident_id: int, *, reason: str, path: str = "") -> dict[str, str]:
    """The identity number and phone of a resident in clear, for a user holding the reveal
    permission who gives a reason; logged. Outside the territory: not found."""
    why = clean_reason(reason)
    with personal(actor):
        resident = Resident.objects.visible_to(actor).filter(pk=resident_id).first()
    if resident is None:
        raise NotFoundError(_("No such resident in your territory."), code="not_found")
    if not can_reveal(actor):
        raise ScopeError(
            _("Your role may not reveal identity numbers and phones."), code="reveal_denied"
        )
    clear = reveal_fields(resident)
    log_access(
        actor,
        Access.REVEAL,
        f"resident {resident.pk} identity number and phone",
        reason=why,
        object_id=resident.pk,
        community_code=resident.community_code,
        path=path,
    )
    return clear
