"""Reading and undoing changes recorded by the database triggers (django-pghistory).

Every register model has an event table (``<Model>Event``) holding a snapshot per insert, update
and delete, with the acting user in its context. An undo goes back through the services, so the
restored state is validated and scoped like any other edit, and is itself recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import GEOSGeometry
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from . import services
from .exceptions import InvalidInputError, NotFoundError
from .models import (
    Building,
    Community,
    Compound,
    District,
    DoorPlate,
    Entrance,
    Landlord,
    Room,
    StreetOffice,
)

SAVERS: dict[type[models.Model], Any] = {
    District: services.save_district,
    StreetOffice: services.save_street_office,
    Community: services.save_community,
    Compound: services.save_compound,
    Landlord: services.save_landlord,
    Building: services.save_building,
    Entrance: services.save_entrance,
    Room: services.save_room,
    DoorPlate: services.save_door_plate,
}
# Derived by the database or by the services: never restored from a snapshot.
_DERIVED = {"id", "centroid", "community_id", "search_key", "address", "qr_token"}
_DERIVED_BY_MODEL: dict[type[models.Model], set[str]] = {
    DoorPlate: {
        "district",
        "street_office",
        "community",
        "compound",
        "entrance_number",
        "floor",
        "room_number",
    },
}


@dataclass(frozen=True)
class Change:
    event_id: int
    label: str  # insert | update | delete
    created_at: datetime
    user_id: int | None
    username: str | None  # None: a change made without a signed-in user (a command, a load)
    diff: dict[str, tuple[Any, Any]]  # field → (before, after)


def event_model(model: type[models.Model]) -> type[Any]:
    return apps.get_model(model._meta.app_label, f"{model.__name__}Event")


def _snapshot_fields(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if not getattr(f, "generated", False)]


def _comparable(value: Any) -> Any:
    return value.ewkt if isinstance(value, GEOSGeometry) else value


def _diff(fields: list[str], before: Any, after: Any) -> dict[str, tuple[Any, Any]]:
    changed = {}
    for name in fields:
        old = getattr(before, name) if before is not None else None
        new = getattr(after, name) if after is not None else None
        if _comparable(old) != _comparable(new):
            changed[name] = (old, new)
    return changed


def _event_user(event: Any) -> int | None:
    return (event.pgh_context.metadata if event.pgh_context_id else {}).get("user")


def changes_of(model: type[models.Model], pk: int) -> list[Change]:
    """The history of one object, oldest first, each event with its before → after values."""
    events = list(
        event_model(model)
        ._default_manager.filter(pgh_obj_id=pk)
        .select_related("pgh_context")
        .order_by("pgh_id")
    )
    fields = _snapshot_fields(model)
    user_ids = [_event_user(event) for event in events]
    names = dict(
        get_user_model()
        ._default_manager.filter(pk__in={u for u in user_ids if u is not None})
        .values_list("pk", "username")
    )
    result, previous = [], None
    for event, user_id in zip(events, user_ids, strict=True):
        after = None if event.pgh_label == "delete" else event
        before = event if event.pgh_label == "delete" else previous
        result.append(
            Change(
                event_id=event.pgh_id,
                label=event.pgh_label,
                created_at=event.pgh_created_at,
                user_id=user_id,
                username=None if user_id is None else names.get(user_id),
                diff=_diff(fields, before, after),
            )
        )
        previous = event if event.pgh_label != "delete" else None
    return result


@transaction.atomic
def undo_change(
    *, actor: Any, model: type[models.Model], pk: int, event_id: int
) -> models.Model | None:
    """Undo one recorded change: an insert is deleted, an update's fields are put back, a
    deleted object is restored. Returns the object as it now is (``None`` after undoing an insert).
    """
    events = event_model(model)._default_manager
    # Only a change of this very object: an event id of another object is "not found".
    event = events.filter(pgh_id=event_id, pgh_obj_id=pk).first()
    if event is None:
        raise NotFoundError(_("There is no change %(value)s to undo."), value=event_id)
    current = model._default_manager.filter(pk=pk).first()
    saver = SAVERS[model]
    restorable = [
        f
        for f in _snapshot_fields(model)
        if f not in _DERIVED | _DERIVED_BY_MODEL.get(model, set())
    ]
    if event.pgh_label == "insert":
        if current is None:
            raise InvalidInputError(_("This object was already deleted."), code="already_undone")
        services.delete_object(actor=actor, instance=current)
        return None
    if event.pgh_label == "delete":
        if current is not None:
            raise InvalidInputError(_("This object exists again already."), code="already_undone")
        data = {f: getattr(event, f) for f in restorable}
        return saver(actor=actor, data={**data, "id": pk}, instance=None)
    if current is None:
        raise InvalidInputError(
            _("The object was deleted after this change: undo the deletion first."), code="deleted"
        )
    previous = events.filter(pgh_obj_id=pk, pgh_id__lt=event.pgh_id).order_by("-pgh_id").first()
    changed = _diff(restorable, previous, event)
    data = {name: before for name, (before, _after) in changed.items()}
    return saver(actor=actor, data=data, instance=current)
