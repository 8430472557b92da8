"""The map's search box: one ranked list of door plates, buildings, rooms and territory nodes.

:func:`search` takes what the user typed — part of a standard address ("人民路12", "12号3栋"), a
building or a room ("3栋501", "501"), a building, community, street office or district name, or a
territory code or its first digits — and returns :class:`Hit` objects, each read through
``visible_to(user)``.

How hits are ranked, best first:

1. by the match: ``exact`` — the text is the whole name, code or standard address (the address
   with or without its district, street office and community), or the room number when the text
   is a bare room number; ``prefix`` — the text begins one of them; ``contains`` — the text is
   inside the name or address; ``parts`` — the hit has every address part the text parses into,
   but not as one piece ("12号3栋" finds 人民路12号春园小区3栋);
2. then by kind: district, street office, community, building, door plate, room;
3. then the shorter label first, then the label, then the id.

A door plate that stands for a whole building (no entrance, no room) hides the same building's
building hit, and a room's own plate hides the room hit. Of the door plates that match, the first
:data:`CANDIDATES` found are ranked: a broad text ("路") ranks a sample, and typing more narrows it.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

from django.contrib.gis.db.models.functions import Envelope, PointOnSurface
from django.contrib.gis.geos import Point
from django.db.models import Case, F, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import Concat, Length, StrIndex
from django.utils.translation import gettext as _

from .address import AddressParts, format_address, parse_address, search_key
from .models import Building, Community, District, DoorPlate, Room, StreetOffice
from .services import address_parts
from .territory_tree import Bbox, bbox_of

#: Most hits one search returns.
MAX_LIMIT = 50
#: Door plates ranked per search (see the module notes).
CANDIDATES = 2000

_CODE_RE = re.compile(r"[0-9]{1,12}")
# A room number typed alone: "501", "1502", "A301", "B1-02".
_BARE_ROOM_RE = re.compile(r"(?=.*[0-9])[0-9A-Z][0-9A-Z-]{0,19}")
_SEPARATOR = " · "


class Kind(StrEnum):
    DISTRICT = "district"
    STREET_OFFICE = "street_office"
    COMMUNITY = "community"
    BUILDING = "building"
    DOOR_PLATE = "door_plate"
    ROOM = "room"


KIND_ORDER = {kind: n for n, kind in enumerate(Kind)}


class Match(IntEnum):
    EXACT = 0
    PREFIX = 1
    CONTAINS = 2
    PARTS = 3


@dataclass(frozen=True)
class Hit:
    kind: Kind
    id: int
    label: str  # the standard address or the name, as stored
    detail: str
    building: int | None
    room: int | None
    code: str | None
    lon: float
    lat: float
    bbox: Bbox | None
    match: Match

    def sort_key(self) -> tuple[int, int, int, str, int]:
        return (self.match, KIND_ORDER[self.kind], len(self.label), self.label, self.id)

    def as_dict(self) -> dict[str, Any]:
        """The hit as the API sends it (``match`` as its name: "exact", "prefix", …)."""
        data = dataclasses.asdict(self)
        data["kind"] = self.kind.value
        data["match"] = self.match.name.lower()
        data["bbox"] = list(self.bbox) if self.bbox else None
        return data


@dataclass(frozen=True)
class Query:
    """What the text says, in the forms each kind is compared with."""

    text: str  # as typed
    name: str  # NFKC, without whitespace: compared with names
    key: str  # gis.address.search_key: compared with address keys
    code: str | None  # only digits (at most 12): a territory code or its beginning
    parts: AddressParts | None  # the parsed address, when the whole text parses
    room: str | None  # the room number the text names

    @classmethod
    def of(cls, text: str) -> Query:
        name = "".join(unicodedata.normalize("NFKC", text).split())
        parsed = parse_address(text)
        parts = parsed.parts if parsed.ok else None
        room = parts.room if parts is not None else None
        if parts is None and _BARE_ROOM_RE.fullmatch(name.upper()):
            room = name.upper()
        code = name if _CODE_RE.fullmatch(name) else None
        return cls(text=text, name=name, key=search_key(text), code=code, parts=parts, room=room)

    @property
    def searchable(self) -> bool:
        return bool(self.key and self.name)


def search(user: Any, text: str, *, limit: int = 20) -> list[Hit]:
    """The best ``limit`` hits for ``text`` among what ``user`` may see (ranking: module notes).

    A text with nothing to search for (blank, punctuation only) finds nothing.
    """
    query = Query.of(text)
    if not query.searchable:
        return []
    plates = _door_plates(user, query, limit)
    whole_buildings = {hit.building for hit, whole in plates if whole}
    plated_rooms = {hit.room for hit, _whole in plates if hit.room is not None}
    hits = [
        *_territory(user, query, limit),
        *(hit for hit, _whole in plates),
        *(h for h in _buildings(user, query, limit) if h.id not in whole_buildings),
        *(h for h in _rooms(user, query, limit) if h.id not in plated_rooms),
    ]
    return sorted(hits, key=Hit.sort_key)[:limit]


# ---------------------------------------------------------------------------------------------
# Matching in Python (labels built from several rows)


def address_match(key: str, address: str, territory: str) -> Match | None:
    """How ``key`` matches a standard ``address`` whose district, street office and community
    names are ``territory`` (their concatenation, as the address begins)."""
    full = search_key(address)
    head = search_key(territory)
    local = full[len(head) :] if head and full.startswith(head) else full
    if key in (full, local):
        return Match.EXACT
    if full.startswith(key) or local.startswith(key):
        return Match.PREFIX
    if key in full:
        return Match.CONTAINS
    return None


def _point(geom: Point) -> tuple[float, float]:
    return round(geom.x, 7), round(geom.y, 7)


# ---------------------------------------------------------------------------------------------
# Territory nodes: by name or by code


_TERRITORY: tuple[tuple[Kind, Any, int, tuple[str, ...]], ...] = (
    (Kind.DISTRICT, District, 6, ()),
    (Kind.STREET_OFFICE, StreetOffice, 9, ("district__name",)),
    (Kind.COMMUNITY, Community, 12, ("street_office__district__name", "street_office__name")),
)


def _territory(user: Any, query: Query, limit: int) -> list[Hit]:
    hits = []
    for kind, model, digits, parents in _TERRITORY:
        code = query.code if query.code and len(query.code) <= digits else None
        condition = Q(name__contains=query.name)
        ranks = [When(name=query.name, then=Value(Match.EXACT))]
        if code:
            condition |= Q(code__startswith=code)
            ranks = [
                When(code=code, then=Value(Match.EXACT)),
                *ranks,
                When(code__startswith=code, then=Value(Match.PREFIX)),
            ]
        ranks.append(When(name__startswith=query.name, then=Value(Match.PREFIX)))
        rows = (
            model.objects.visible_to(user)
            .filter(condition)
            .annotate(
                _match=Case(*ranks, default=Value(Match.CONTAINS), output_field=IntegerField()),
                _point=PointOnSurface("geom"),
                _box=Envelope("geom"),
            )
            .order_by("_match", Length("name"), "code")
            .values_list("pk", "code", "name", "_point", "_box", "_match", *parents)[:limit]
        )
        for pk, node_code, name, point, box, match, *parent_names in rows:
            lon, lat = _point(point)
            hits.append(
                Hit(
                    kind=kind,
                    id=pk,
                    label=name,
                    detail=_SEPARATOR.join(parent_names),
                    building=None,
                    room=None,
                    code=node_code,
                    lon=lon,
                    lat=lat,
                    bbox=bbox_of(box),
                    match=Match(match),
                )
            )
    return hits


# ---------------------------------------------------------------------------------------------
# Door plates: DoorPlate.objects.matching, ranked in SQL


def _door_plates(user: Any, query: Query, limit: int) -> list[tuple[Hit, bool]]:
    """The plates' hits, each with whether the plate stands for its whole building."""
    found = DoorPlate.objects.visible_to(user).matching(query.text)
    candidates = found.order_by().values("pk")[:CANDIDATES]
    key = query.key
    rows = (
        DoorPlate.objects.filter(pk__in=candidates)
        .annotate(
            _at=StrIndex("search_key", Value(key)),
            _local=Length(Concat("district", "street_office", "community")) + 1,
            _length=Length("search_key"),
        )
        .annotate(
            _match=Case(
                When(search_key=key, then=Value(Match.EXACT)),
                When(_at=F("_local"), _length=F("_local") - 1 + len(key), then=Value(Match.EXACT)),
                When(Q(_at=1) | Q(_at=F("_local")), then=Value(Match.PREFIX)),
                When(_at__gt=0, then=Value(Match.CONTAINS)),
                default=Value(Match.PARTS),
                output_field=IntegerField(),
            ),
            _box=Envelope("building__footprint"),
        )
        .order_by("_match", "_length", "address", "pk")
        .values_list(
            "pk",
            "address",
            "community",
            "building_id",
            "entrance_id",
            "room_id",
            "location",
            "_box",
            "_match",
        )[:limit]
    )
    hits = []
    for pk, address, community, building, entrance, room, location, box, match in rows:
        lon, lat = _point(location)
        hit = Hit(
            kind=Kind.DOOR_PLATE,
            id=pk,
            label=address,
            detail=community,
            building=building,
            room=room,
            code=None,
            lon=lon,
            lat=lat,
            bbox=bbox_of(box),
            match=Match(match),
        )
        hits.append((hit, entrance is None and room is None))
    return hits


# ---------------------------------------------------------------------------------------------
# Buildings: by name, or by the building number (and the other parts) on their plates


def _buildings(user: Any, query: Query, limit: int) -> list[Hit]:
    visible = Building.objects.visible_to(user)
    ranks: dict[int, Match] = {}
    # Ranked among the first found, as plates are (a name of one or two characters has no
    # trigram to look up, and the scan then stops at the cap instead of running on).
    candidates = visible.filter(name__contains=query.name).order_by().values("pk")[:CANDIDATES]
    named = (
        Building.objects.filter(pk__in=candidates)
        .annotate(
            _match=Case(
                When(name=query.name, then=Value(Match.EXACT)),
                When(name__startswith=query.name, then=Value(Match.PREFIX)),
                default=Value(Match.CONTAINS),
                output_field=IntegerField(),
            )
        )
        .order_by("_match", Length("name"), "pk")
        .values_list("pk", "_match")[:limit]
    )
    ranks.update((pk, Match(match)) for pk, match in named)
    parts = query.parts
    if parts is not None and parts.building and not parts.room:
        # Unordered, so that the scan stops at the cap (an ORDER BY building_id made PostgreSQL
        # walk the building index through the whole table: 1.5 s at 3 million plates).
        numbered = (
            DoorPlate.objects.visible_to(user)
            .with_parts(parts)
            .order_by()
            .values_list("building_id", flat=True)[:CANDIDATES]
        )
        for pk in sorted(set(numbered))[:limit]:
            ranks.setdefault(pk, Match.PARTS)
    if not ranks:
        return []
    # The building's own plate (no room; one without an entrance first) names it.
    buildings = (
        Building.objects.filter(pk__in=ranks)
        .select_related("compound", "community__street_office__district")
        .annotate(_address=DoorPlate.objects.building_address(OuterRef("pk")))
    )
    hits = []
    for building in buildings:
        label = building._address or building.name or f"#{building.pk}"
        match = ranks[building.pk]
        if building._address:
            by_address = address_match(query.key, label, _territory_names(building.community))
            match = min(match, by_address) if by_address is not None else match
        lon, lat = _point(building.centroid)
        # Its name when it has one (what a name search matched), else its compound's.
        name = building.name or (building.compound.name if building.compound else "")
        hits.append(
            Hit(
                kind=Kind.BUILDING,
                id=building.pk,
                label=label,
                detail=_SEPARATOR.join(x for x in (str(building.get_use_display()), name) if x),
                building=building.pk,
                room=None,
                code=None,
                lon=lon,
                lat=lat,
                bbox=bbox_of(building.footprint),
                match=match,
            )
        )
    return hits


def _territory_names(community: Community) -> str:
    office = community.street_office
    return f"{office.district.name}{office.name}{community.name}"


# ---------------------------------------------------------------------------------------------
# Rooms: by number, within the buildings the rest of the text names


def _rooms(user: Any, query: Query, limit: int) -> list[Hit]:
    if query.room is None:
        return []
    rooms = Room.objects.visible_to(user).filter(number=query.room)
    parts = query.parts
    if parts is not None:
        around = dataclasses.replace(parts, entrance=None, floor=None, room=None)
        if not around.is_empty():
            buildings = DoorPlate.objects.with_parts(around).values("building_id")
            rooms = rooms.filter(building__in=buildings)
        if parts.entrance:
            rooms = rooms.filter(entrance__number=parts.entrance)
    found = list(
        rooms.select_related("entrance", "building__community__street_office__district").order_by(
            "building_id", "pk"
        )[:limit]
    )
    if not found:
        return []
    plates = _plates_for_rooms(found)
    hits = []
    for room in found:
        building = room.building
        label = _room_label(room, plates)
        match = Match.EXACT if parts is None else Match.PARTS
        if parts is not None:
            by_address = address_match(query.key, label, _territory_names(building.community))
            match = by_address if by_address is not None else match
        lon, lat = _point(building.centroid)
        detail = _("floor %(number)s") % {"number": room.floor}
        hits.append(
            Hit(
                kind=Kind.ROOM,
                id=room.pk,
                label=label,
                detail=_SEPARATOR.join((str(room.get_use_display()), detail)),
                building=building.pk,
                room=room.pk,
                code=None,
                lon=lon,
                lat=lat,
                bbox=bbox_of(building.footprint),
                match=match,
            )
        )
    return hits


def _plates_for_rooms(rooms: list[Room]) -> dict[tuple[str, int | None], DoorPlate]:
    """Each room's own plate (key ``("room", room id)``) and each building's plate for an
    entrance (``("entrance", entrance id)``) or for the whole building (``("building", id)``)."""
    plates = DoorPlate.objects.filter(
        Q(room__in=[r.pk for r in rooms])
        | Q(building__in={r.building_id for r in rooms}, room__isnull=True)
    ).order_by(Length("address").desc(), "-pk")  # so the shortest plate of a kind is kept
    found: dict[tuple[str, int | None], DoorPlate] = {}
    for plate in plates:
        if plate.room_id is not None:
            found[("room", plate.room_id)] = plate
        elif plate.entrance_id is not None:
            found[("entrance", plate.entrance_id)] = plate
        else:
            found[("building", plate.building_id)] = plate
    return found


def _room_label(room: Room, plates: dict[tuple[str, int | None], DoorPlate]) -> str:
    """The room's standard address: its own plate's, else its building's plate with the
    entrance and room added, else the building's name with them."""
    own = plates.get(("room", room.pk))
    if own is not None:
        return own.address
    entrance = room.entrance.number if room.entrance else None
    tail = AddressParts(entrance=entrance, room=room.number)
    plate = plates.get(("entrance", room.entrance_id)) or plates.get(("building", room.building_id))
    if plate is None:
        return (room.building.name or f"#{room.building_id}") + format_address(tail)
    # The building's (or entrance's) plate, with this room's entrance and number.
    parts = dataclasses.replace(
        address_parts(plate), entrance=tail.entrance, floor=None, room=tail.room
    )
    return format_address(parts)
