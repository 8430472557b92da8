"""Export rooms as a register table (XLSX) with the headers the register import reads.

Importing the exported file again changes nothing: every row names its building by its source
id (``plategrid:<id>`` for buildings created here) and by the standard address of its door plate,
and the landlord's phone is masked (``138****5678``), which the import uses to recognise the
stored landlord and never stores.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import translation
from openpyxl import Workbook

from gis.masking import mask_phone
from gis.models import DoorPlate, Room

from ..imports.registers import COLUMNS
from ..imports.vector import OWN_ID_PREFIX

logger = logging.getLogger("plategrid.data")

FIELDS = (
    "building_id",
    "address",
    "entrance",
    "floor",
    "room",
    "use",
    "area",
    "landlord",
    "phone",
    "population_plate",
    "plate_on",
)
HEADERS = tuple(COLUMNS[field][0] for field in FIELDS)
WIDTHS = (18, 44, 6, 6, 8, 10, 10, 10, 14, 9, 12)  # characters, for reading on screen
SHEET_TITLE = "出租房屋登记表"


def _building_addresses(rooms: QuerySet[Room]) -> dict[int, str]:
    """Each building's own door plate (not an entrance's or a room's), the first one stored."""
    plates = (
        DoorPlate.objects.filter(building__in=rooms.values("building_id"), entrance=None, room=None)
        .order_by("building_id", "-id")
        .values_list("building_id", "address")
    )
    return dict(plates)  # the last pair per building wins: the lowest id


def _row(room: Room, addresses: dict[int, str]) -> list[Any]:
    building = room.building
    landlord = room.landlord
    plate: DoorPlate | None = getattr(room, "door_plate", None)
    return [
        building.source_id or f"{OWN_ID_PREFIX}{building.pk}",
        addresses.get(building.pk, ""),
        room.entrance.number if room.entrance is not None else None,
        room.floor,
        room.number,
        str(room.get_use_display()),
        float(room.area_m2) if room.area_m2 is not None else None,
        landlord.name if landlord is not None else None,
        mask_phone(landlord.phone) if landlord is not None else None,
        None if plate is None else ("是" if plate.population_plate else "否"),
        plate.population_plate_on if plate is not None else None,
    ]


def export_register(rooms: QuerySet[Room], target: Path | IO[bytes], *, actor: Any = None) -> int:
    """Write ``rooms`` (already scoped to the user by the caller) to ``target`` as XLSX; returns
    the number of rows written. Uses are written with their Chinese labels."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    for letter, width in zip("ABCDEFGHIJK", WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.append(list(HEADERS))
    addresses = _building_addresses(rooms)
    count = 0
    selected = rooms.select_related("building", "entrance", "landlord", "door_plate")
    with translation.override("zh-hans"):
        for room in selected.iterator(chunk_size=2000):
            sheet.append(_row(room, addresses))
            count += 1
    book.save(target)
    logger.info("register export: %s rooms by user %s", count, getattr(actor, "pk", None))
    return count
