"""Residents for tests, registered through the services (so encrypted, hashed and masked)."""

from __future__ import annotations

from datetime import date
from typing import Any

from gis.models import Room
from registry import services
from registry.idnumber import make
from registry.models import Category, Resident

_sequence = iter(range(1, 10**6))


def id_number(birth: date = date(1990, 1, 1), *, male: bool = True, region: str = "420606") -> str:
    return make(region, birth, next(_sequence), male=male)


def resident(
    room: Room, *, actor: Any = None, moved_in: date = date(2024, 1, 1), **data: Any
) -> Resident:
    values: dict[str, Any] = {
        "name": "张三",
        "category": Category.COMMUNITY,
        "id_number": id_number(),
        "phone": "13812345678",
    } | data
    return services.register_resident(
        actor, services.PersonData(**values), room=room, moved_in=moved_in
    )
