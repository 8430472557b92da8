"""The network map (工作网络图) of one community: a standalone vector SVG for print.

Current zones are filled with colours from :data:`layers.styles.ZONE_COLOURS`, neighbours never
sharing one (greedy colouring of the touching graph); zone and community boundaries, light
building footprints and named streets lie on top. Each zone carries a label with its code, name
and chain (责任人 / 协管员 / 信息员, names and masked phones) as of a day; a zone without a
responsible person is hatched and says so. A title block, legend, north arrow and scale bar sit in
a panel on the right. The sheet is A4 landscape, A3 for a community of more than
:data:`A3_ZONES` zones.

Everything is read through ``visible_to(user)`` and projected to ``settings.METRIC_SRID`` by the
database (``Transform``); the drawing itself is shapely in millimetres of paper. Phones are masked
before they leave this module, and every text is XML-escaped (names are user input).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.contrib.gis.db.models.functions import Intersection, Transform
from django.db.models import OuterRef
from django.utils import formats, timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from shapely import affinity
from shapely.geometry import LineString, Point, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge, nearest_points, polylabel

from gis.crs import metric_srid
from gis.exceptions import NotFoundError
from gis.geometry import to_shapely
from gis.masking import mask_phone
from gis.models import Building, Community, DoorPlate, Street
from grid.models import ZONE_ROLES, Assignment, AssignmentRole, Zone

from .styles import ZONE_COLOURS

#: Paper sizes (landscape, mm) and the number of zones above which the sheet is A3.
A4 = (297.0, 210.0)
A3 = (420.0, 297.0)
A3_ZONES = 12
MARGIN_MM = 8.0
PANEL_MM = 68.0
FONT = "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', sans-serif"
#: Label font sizes in mm (2.1 mm ≈ 6 pt) and the scales tried, largest first, to fit a zone.
TITLE_MM = 2.6
LINE_MM = 2.1
SHRINK = (1.4, 1.2, 1.0, 0.85, 0.7)
NO_RESPONSIBLE_COLOUR = "#c0392b"


@dataclass(frozen=True)
class Person:
    """One current assignment, with the phone already masked."""

    role: str
    role_label: str
    name: str
    phone: str
    since: datetime.date


@dataclass
class ZoneChain:
    id: int
    code: str
    name: str
    kind: str
    people: list[Person] = field(default_factory=list)

    @property
    def has_responsible(self) -> bool:
        return any(p.role == AssignmentRole.RESPONSIBLE for p in self.people)


@dataclass(frozen=True)
class BuildingHead:
    building_id: int
    building: str
    name: str
    phone: str
    since: datetime.date


@dataclass
class Network:
    """What the map shows of the chain, also listed under it on the page."""

    community: Community
    on: datetime.date
    zones: list[ZoneChain]
    building_heads: list[BuildingHead]


def _community(community: Community, user: Any) -> Community:
    found = Community.objects.visible_to(user).filter(pk=community.pk).first()
    if found is None:
        raise NotFoundError(
            _("No community with the code %(value)s in your territory."),
            value=community.code,
        )
    return found


def network_chains(community: Community, *, user: Any, on: datetime.date | None = None) -> Network:
    """The current zones of ``community`` with their chains, and its building heads, as of ``on``
    (today by default). Three queries; phones masked."""
    community = _community(community, user)
    day = on or timezone.localdate()
    zones = {
        pk: ZoneChain(pk, code, name, kind)
        for pk, code, name, kind in Zone.objects.visible_to(user)
        .current()
        .filter(community=community)
        .order_by("code")
        .values_list("pk", "code", "name", "kind")
    }
    labels = dict(AssignmentRole.choices)
    order: dict[str, int] = {str(role): i for i, role in enumerate(ZONE_ROLES)}
    chain = (
        Assignment.objects.visible_to(user)
        .current(day)
        .filter(zone_id__in=list(zones), role__in=ZONE_ROLES)
        .order_by("zone_id", "starts_on", "pk")
        .values_list("zone_id", "role", "staff__name", "staff__phone", "starts_on")
    )
    for zone_id, role, name, phone, since in chain:
        zones[zone_id].people.append(
            Person(role, str(labels[role]), name, mask_phone(phone), since)
        )
    for zone in zones.values():
        zone.people.sort(key=lambda p: order[p.role])
    heads = [
        BuildingHead(pk, address or name or f"#{pk}", staff, mask_phone(phone), since)
        for pk, address, name, staff, phone, since in Assignment.objects.visible_to(user)
        .current(day)
        .filter(role=AssignmentRole.BUILDING_HEAD, building__community=community)
        .annotate(_address=DoorPlate.objects.building_address(OuterRef("building_id")))
        .order_by("building_id", "starts_on", "pk")
        .values_list(
            "building_id", "_address", "building__name", "staff__name", "staff__phone", "starts_on"
        )
    ]
    return Network(community, day, list(zones.values()), heads)


# ---------------------------------------------------------------------------------------------
# Geometry: read in metres, drawn in millimetres of paper.


def zone_colours(shapes: Sequence[BaseGeometry], *, gap_m: float = 0.5) -> list[str]:
    """A colour of :data:`ZONE_COLOURS` for each shape, shapes within ``gap_m`` of each other
    (neighbours) taking different colours where the palette allows (greedy, most neighbours
    first)."""
    tree = shapely.STRtree(list(shapes))
    left, right = tree.query(list(shapes), predicate="dwithin", distance=gap_m)
    neighbours: list[set[int]] = [set() for _ in shapes]
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a != b:
            neighbours[a].add(b)
    chosen: dict[int, int] = {}
    for i in sorted(range(len(shapes)), key=lambda i: (-len(neighbours[i]), i)):
        taken = {chosen[n] for n in neighbours[i] if n in chosen}
        free = [c for c in range(len(ZONE_COLOURS)) if c not in taken]
        chosen[i] = free[0] if free else i % len(ZONE_COLOURS)
    return [ZONE_COLOURS[chosen[i]] for i in range(len(shapes))]


def _path(geom: BaseGeometry) -> str:
    """SVG path data of polygons or lines (paper coordinates)."""
    parts: list[str] = []

    def ring(coords: Iterable[Any], close: bool) -> None:
        points = [f"{x:.2f} {y:.2f}" for x, y, *_ in coords]
        if points:
            parts.append("M" + " L".join(points) + (" Z" if close else ""))

    for part in getattr(geom, "geoms", [geom]):
        if part.is_empty:
            continue
        if isinstance(part, shapely.Polygon):
            ring(part.exterior.coords, True)
            for hole in part.interiors:
                ring(hole.coords, True)
        elif isinstance(part, LineString):
            ring(part.coords, False)
        elif hasattr(part, "geoms"):
            parts.append(_path(part))
    return " ".join(p for p in parts if p)


def text_width_mm(text: str, size_mm: float) -> float:
    """An estimate of the printed width: CJK characters one em, others about half."""
    return size_mm * sum(1.0 if ord(ch) >= 0x2E80 else 0.58 for ch in text)


@dataclass
class _Label:
    lines: list[tuple[str, bool, bool]]  # text, bold, red
    anchor: Point
    zone: BaseGeometry
    code: str

    def size(self, k: float) -> tuple[float, float]:
        sizes = [TITLE_MM * k] + [LINE_MM * k] * (len(self.lines) - 1)
        width = max(text_width_mm(t, s) for (t, _b, _r), s in zip(self.lines, sizes, strict=True))
        return width + 1.6 * k, sum(sizes) * 1.2 + 1.2 * k


def _label_lines(zone: ZoneChain) -> list[tuple[str, bool, bool]]:
    lines = [(f"{zone.code[-3:]} {zone.name}", True, False)]
    for person in zone.people:
        lines.append((f"{person.role_label} {person.name} {person.phone}".strip(), False, False))
    if not zone.has_responsible:
        lines.insert(1, (_("no responsible person"), True, True))
    return lines


def _place(labels: list[_Label], frame: BaseGeometry) -> list[tuple[_Label, float, Any, bool]]:
    """Where each label goes: ``(label, scale, box, leader)``. Inside its zone at full size or
    shrunk; otherwise beside it with a leader line, at the first free spot around it."""
    placed: list[tuple[_Label, float, Any, bool]] = []
    boxes: list[Any] = []
    outside: list[_Label] = []

    def free(candidate: Any) -> bool:
        return frame.contains(candidate) and not any(candidate.intersects(b) for b in boxes)

    for label in labels:
        for k in SHRINK:
            w, h = label.size(k)
            x, y = label.anchor.x, label.anchor.y
            candidate = box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if label.zone.buffer(0.3).contains(candidate) and free(candidate):
                placed.append((label, k, candidate, False))
                boxes.append(candidate)
                break
        else:
            outside.append(label)
    anchors = [lb.anchor.buffer(1.5) for lb in labels]
    for label in outside:
        k = SHRINK[-1]
        w, h = label.size(k)
        best = None
        for step in range(1, 8):
            distance = step * 6.0 + max(w, h) / 2
            for angle in range(0, 360, 30):
                dx = math.cos(math.radians(angle)) * distance
                dy = -math.sin(math.radians(angle)) * distance
                x, y = label.anchor.x + dx, label.anchor.y + dy
                candidate = box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
                if free(candidate) and not any(candidate.intersects(a) for a in anchors):
                    best = candidate
                    break
            if best is not None:
                break
        if best is None:  # nowhere free: beside the anchor, over whatever is there
            x, y = label.anchor.x + w / 2 + 3, label.anchor.y
            best = box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        placed.append((label, k, best, True))
        boxes.append(best)
    return placed


def sheet(zones: int) -> str:
    """The paper of a network map of ``zones`` zones: "A4", or "A3" above :data:`A3_ZONES`."""
    return "A3" if zones > A3_ZONES else "A4"


def _nice_length(max_m: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ metres not above ``max_m``."""
    power = 10 ** math.floor(math.log10(max_m))
    return max(n * power for n in (1, 2, 5) if n * power <= max_m)


def network_svg(
    community: Community,
    *,
    user: Any,
    on: datetime.date | None = None,
    chains: Network | None = None,
) -> str:
    """The network map of ``community`` as ``user`` sees it, as of ``on`` (today by default), as
    an SVG document (no XML declaration, so it can also be placed inline in a page).

    ``chains`` is :func:`network_chains`'s result when the caller already has it (the page lists
    it under the map). Raises ``NotFoundError`` for a community outside the user's territory.
    """
    network = chains or network_chains(community, user=user, on=on)
    community = network.community
    srid = metric_srid()
    outline = to_shapely(
        Community.objects.visible_to(user)
        .filter(pk=community.pk)
        .annotate(metric=Transform("geom", srid))
        .values_list("metric", flat=True)
        .get()
    )
    zone_rows = dict(
        Zone.objects.visible_to(user)
        .filter(pk__in=[z.id for z in network.zones])
        .annotate(metric=Transform("geom", srid))
        .values_list("pk", "metric")
    )
    zone_shapes = [to_shapely(zone_rows[z.id]) for z in network.zones]
    footprints = [
        to_shapely(g)
        for g in Building.objects.visible_to(user)
        .filter(community=community)
        .annotate(metric=Transform("footprint", srid))
        .values_list("metric", flat=True)
    ]
    envelope = community.geom.envelope
    streets = [
        (name, to_shapely(g))
        for name, g in Street.objects.visible_to(user)
        .filter(centerline__intersects=envelope)
        .annotate(metric=Transform(Intersection("centerline", envelope), srid))
        .order_by("name", "pk")
        .values_list("name", "metric")
    ]

    paper_w, paper_h = A3 if sheet(len(network.zones)) == "A3" else A4
    frame = box(MARGIN_MM, MARGIN_MM, paper_w - MARGIN_MM - PANEL_MM - 4, paper_h - MARGIN_MM)
    minx, miny, maxx, maxy = outline.bounds
    inner_w, inner_h = frame.bounds[2] - frame.bounds[0] - 8, frame.bounds[3] - frame.bounds[1] - 8
    scale = min(inner_w / max(maxx - minx, 1.0), inner_h / max(maxy - miny, 1.0))  # mm per m
    xoff = frame.bounds[0] + 4 + (inner_w - (maxx - minx) * scale) / 2 - minx * scale
    yoff = frame.bounds[1] + 4 + (inner_h - (maxy - miny) * scale) / 2 + maxy * scale

    def paper(geom: BaseGeometry) -> BaseGeometry:
        return affinity.affine_transform(geom, [scale, 0, 0, -scale, xoff, yoff])

    colours = zone_colours(zone_shapes) if zone_shapes else []
    zones_mm = [paper(s) for s in zone_shapes]
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{paper_w:g}mm" height="{paper_h:g}mm" '
        f'viewBox="0 0 {paper_w:g} {paper_h:g}" font-family="{FONT}" class="network-map" '
        f'role="img" aria-label="{escape(_("Network map"))} {escape(community.name)}">',
        "<defs>",
        f'<clipPath id="frame"><rect x="{frame.bounds[0]}" y="{frame.bounds[1]}" '
        f'width="{frame.bounds[2] - frame.bounds[0]:.2f}" '
        f'height="{frame.bounds[3] - frame.bounds[1]:.2f}"/></clipPath>',
        '<pattern id="no-responsible" patternUnits="userSpaceOnUse" width="2.5" height="2.5" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="2.5" '
        f'stroke="{NO_RESPONSIBLE_COLOUR}" stroke-width="0.35"/></pattern>',
        "</defs>",
        f'<rect width="{paper_w:g}" height="{paper_h:g}" fill="#fff"/>',
        '<g clip-path="url(#frame)">',
    ]
    for zone, shape, colour in zip(network.zones, zones_mm, colours, strict=True):
        out.append(
            f'<path class="zone" data-code="{escape(zone.code)}" d="{_path(shape)}" '
            f'fill="{colour}" fill-rule="evenodd" stroke="none"/>'
        )
        if not zone.has_responsible:
            out.append(
                f'<path class="no-responsible" d="{_path(shape)}" fill="url(#no-responsible)" '
                'fill-rule="evenodd" stroke="none"/>'
            )
    if footprints:
        buildings = paper(shapely.GeometryCollection(footprints))
        out.append(
            f'<path class="buildings" d="{_path(buildings)}" fill="#ffffff" fill-opacity="0.55" '
            'stroke="#8a8a8a" stroke-width="0.12"/>'
        )
    street_lines = [(name, paper(g)) for name, g in streets if not g.is_empty]
    for _name, line in street_lines:
        out.append(
            f'<path class="street" d="{_path(line)}" fill="none" stroke="#ffffff" '
            'stroke-width="1.6" stroke-linecap="round"/>'
            f'<path d="{_path(line)}" fill="none" stroke="#9aa5b1" stroke-width="0.25"/>'
        )
    for shape in zones_mm:
        out.append(f'<path d="{_path(shape)}" fill="none" stroke="#34495e" stroke-width="0.4"/>')
    out.append(
        f'<path class="community" d="{_path(paper(outline))}" fill="none" stroke="#c0392b" '
        'stroke-width="0.9" stroke-dasharray="3 1.2"/>'
    )
    out.append("</g>")

    labels = [
        _Label(_label_lines(zone), polylabel(_largest(shape), 0.5), shape, zone.code)
        for zone, shape in zip(network.zones, zones_mm, strict=True)
        if not shape.is_empty
    ]
    placed = _place(labels, frame)
    boxes = [b for _l, _k, b, _leader in placed]
    out.extend(_street_names(street_lines, boxes, frame))
    for label, k, where, leader in placed:
        out.append(_label_svg(label, k, where, leader))
    out.append(
        f'<rect x="{frame.bounds[0]}" y="{frame.bounds[1]}" '
        f'width="{frame.bounds[2] - frame.bounds[0]:.2f}" '
        f'height="{frame.bounds[3] - frame.bounds[1]:.2f}" fill="none" stroke="#1d2733" '
        'stroke-width="0.5"/>'
    )
    panel_x = paper_w - MARGIN_MM - PANEL_MM
    out.extend(_panel(network, panel_x, paper_h, scale))
    out.append("</svg>")
    return "\n".join(out)


def _largest(geom: BaseGeometry) -> Any:
    parts = [p for p in getattr(geom, "geoms", [geom]) if isinstance(p, shapely.Polygon)]
    return max(parts, key=lambda p: p.area)


def _street_names(
    lines: list[tuple[str, BaseGeometry]], boxes: list[Any], frame: BaseGeometry
) -> list[str]:
    """One name per street, along its longest stretch, upright, where it has room and covers no
    zone label."""
    merged: dict[str, list[LineString]] = {}
    for name, geom in lines:
        parts = [p for p in getattr(geom, "geoms", [geom]) if isinstance(p, LineString)]
        merged.setdefault(name, []).extend(parts)
    out = []
    size = 2.0
    for name, parts in merged.items():
        if not name or not parts:
            continue
        joined = linemerge(parts) if len(parts) > 1 else parts[0]
        longest = max(getattr(joined, "geoms", [joined]), key=lambda p: p.length)
        longest = longest.intersection(frame)
        if longest.is_empty or not isinstance(longest, LineString):
            continue
        width = text_width_mm(name, size)
        if longest.length < width + 4:
            continue
        mid = longest.interpolate(0.5, normalized=True)
        a = longest.interpolate(max(longest.length / 2 - width / 2, 0))
        b = longest.interpolate(min(longest.length / 2 + width / 2, longest.length))
        angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
        if angle > 90:
            angle -= 180
        elif angle <= -90:
            angle += 180
        footprint = affinity.rotate(
            box(mid.x - width / 2, mid.y - size / 2, mid.x + width / 2, mid.y + size / 2),
            angle,
            origin=mid,
        )
        if any(footprint.intersects(b) for b in boxes):
            continue
        boxes.append(footprint)
        out.append(
            f'<text class="street-name" x="{mid.x:.2f}" y="{mid.y:.2f}" font-size="{size}" '
            f'fill="#52606d" text-anchor="middle" dominant-baseline="central" '
            f'transform="rotate({angle:.1f} {mid.x:.2f} {mid.y:.2f})" stroke="#fff" '
            f'stroke-width="0.5" paint-order="stroke">{escape(name)}</text>'
        )
    return out


def _label_svg(label: _Label, k: float, where: Any, leader: bool) -> str:
    x0, y0, x1, y1 = where.bounds
    parts = [f'<g class="zone-label" data-code="{escape(label.code)}">']
    if leader:
        near = nearest_points(where.exterior, label.anchor)[0]
        parts.append(
            f'<line x1="{label.anchor.x:.2f}" y1="{label.anchor.y:.2f}" x2="{near.x:.2f}" '
            f'y2="{near.y:.2f}" stroke="#34495e" stroke-width="0.25"/>'
            f'<circle cx="{label.anchor.x:.2f}" cy="{label.anchor.y:.2f}" r="0.6" '
            'fill="#34495e"/>'
        )
    parts.append(
        f'<rect x="{x0:.2f}" y="{y0:.2f}" width="{x1 - x0:.2f}" height="{y1 - y0:.2f}" rx="0.6" '
        'fill="#ffffff" fill-opacity="0.82" stroke="#34495e" stroke-width="0.15"/>'
    )
    y = y0 + 0.6 * k
    for i, (text, bold, red) in enumerate(label.lines):
        size = (TITLE_MM if i == 0 else LINE_MM) * k
        y += size * 1.2
        weight = ' font-weight="bold"' if bold else ""
        colour = NO_RESPONSIBLE_COLOUR if red else "#1d2733"
        parts.append(
            f'<text x="{(x0 + x1) / 2:.2f}" y="{y - size * 0.25:.2f}" font-size="{size:.2f}" '
            f'text-anchor="middle" fill="{colour}"{weight}>{escape(text)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _panel(network: Network, x: float, paper_h: float, scale: float) -> list[str]:
    """Title block, legend, north arrow and scale bar, in the panel at ``x``."""
    community = network.community
    w = PANEL_MM
    y = MARGIN_MM
    date = formats.date_format(network.on, "Y-m-d")
    out = [
        f'<g class="panel"><rect x="{x}" y="{y}" width="{w}" height="{paper_h - 2 * y}" '
        'fill="#fff" stroke="#1d2733" stroke-width="0.5"/>',
        f'<text x="{x + w / 2}" y="{y + 11}" font-size="6.5" font-weight="bold" '
        f'text-anchor="middle">{escape(_("Network map"))}</text>',
        f'<text x="{x + w / 2}" y="{y + 19}" font-size="4.2" text-anchor="middle">'
        f"{escape(community.name)}</text>",
        f'<text x="{x + w / 2}" y="{y + 25}" font-size="3" text-anchor="middle">'
        f"{escape(_('Code'))} {escape(community.code)}</text>",
        f'<text x="{x + w / 2}" y="{y + 30.5}" font-size="3" text-anchor="middle">'
        f"{escape(_('As of %(date)s') % {'date': date})}</text>",
        f'<line x1="{x}" y1="{y + 34}" x2="{x + w}" y2="{y + 34}" stroke="#1d2733" '
        'stroke-width="0.3"/>',
    ]
    staffed = sum(1 for z in network.zones if z.has_responsible)
    summary = _("%(zones)s zones, %(missing)s without a responsible person") % {
        "zones": len(network.zones),
        "missing": len(network.zones) - staffed,
    }
    out.append(f'<text x="{x + 4}" y="{y + 40}" font-size="2.8">{escape(summary)}</text>')
    # Legend
    ly = y + 47
    out.append(
        f'<text x="{x + 4}" y="{ly}" font-size="3.2" font-weight="bold">'
        f"{escape(_('Legend'))}</text>"
    )
    items = [
        (
            f'<rect width="8" height="4.5" fill="{ZONE_COLOURS[0]}" stroke="#34495e" '
            'stroke-width="0.4"/>',
            _("Responsibility zone"),
        ),
        (
            f'<rect width="8" height="4.5" fill="{ZONE_COLOURS[1]}"/><rect width="8" height="4.5" '
            'fill="url(#no-responsible)" stroke="#34495e" stroke-width="0.4"/>',
            _("Zone with no responsible person"),
        ),
        (
            '<line x1="0" y1="2.25" x2="8" y2="2.25" stroke="#c0392b" stroke-width="0.9" '
            'stroke-dasharray="3 1.2"/>',
            _("Community boundary"),
        ),
        (
            '<rect x="1.5" y="0.5" width="5" height="3.5" fill="#fff" stroke="#8a8a8a" '
            'stroke-width="0.15"/>',
            _("Building"),
        ),
        (
            '<line x1="0" y1="2.25" x2="8" y2="2.25" stroke="#9aa5b1" stroke-width="1.6"/>'
            '<line x1="0" y1="2.25" x2="8" y2="2.25" stroke="#fff" stroke-width="1.1"/>',
            _("Street"),
        ),
    ]
    for i, (symbol, text) in enumerate(items):
        iy = ly + 3 + i * 6.5
        out.append(
            f'<g transform="translate({x + 4} {iy})">{symbol}</g>'
            f'<text x="{x + 15}" y="{iy + 3.3}" font-size="2.8">{escape(text)}</text>'
        )
    ry = ly + 3 + len(items) * 6.5 + 3
    chain = " / ".join(str(label) for role, label in AssignmentRole.choices if role in ZONE_ROLES)
    out.append(
        f'<text x="{x + 4}" y="{ry}" font-size="2.6">{escape(_("Label"))}: '
        f"{escape(_('zone number and name'))}</text>"
        f'<text x="{x + 4}" y="{ry + 4}" font-size="2.6">{escape(chain)}</text>'
        f'<text x="{x + 4}" y="{ry + 8}" font-size="2.6">{escape(_("Phones are masked."))}</text>'
    )
    # North arrow
    ny = paper_h - MARGIN_MM - 44
    cx = x + w / 2
    out.append(
        f'<g class="north"><path d="M{cx} {ny} L{cx + 4} {ny + 12} L{cx} {ny + 9} Z" '
        f'fill="#1d2733"/><path d="M{cx} {ny} L{cx - 4} {ny + 12} L{cx} {ny + 9} Z" '
        f'fill="#fff" stroke="#1d2733" stroke-width="0.3"/>'
        f'<text x="{cx}" y="{ny - 1.5}" font-size="4" font-weight="bold" '
        f'text-anchor="middle">N</text></g>'
    )
    # Scale bar: a round length of at most 40 mm on paper, in two halves.
    length_m = _nice_length(40 / scale)
    bar = length_m * scale
    sy = paper_h - MARGIN_MM - 18
    sx = x + (w - bar) / 2
    out.append(
        f'<g class="scale-bar"><rect x="{sx:.2f}" y="{sy}" width="{bar / 2:.2f}" height="1.5" '
        f'fill="#1d2733"/><rect x="{sx + bar / 2:.2f}" y="{sy}" width="{bar / 2:.2f}" '
        'height="1.5" fill="#fff" stroke="#1d2733" stroke-width="0.3"/>'
        f'<text x="{sx:.2f}" y="{sy - 1.2}" font-size="2.5" text-anchor="middle">0</text>'
        f'<text x="{sx + bar:.2f}" y="{sy - 1.2}" font-size="2.5" text-anchor="middle">'
        f"{length_m:g} m</text>"
        f'<text x="{x + w / 2}" y="{sy + 6}" font-size="2.8" text-anchor="middle">'
        f"1:{_round_scale(1000 / scale):,}</text></g>"
    )
    out.append(
        f'<text x="{x + w / 2}" y="{paper_h - MARGIN_MM - 3}" font-size="2.2" fill="#52606d" '
        f'text-anchor="middle">plategrid · {escape(_("CGCS2000, Gauss-Krüger"))} '
        f"EPSG:{metric_srid()}</text></g>"
    )
    return out


def _round_scale(denominator: float) -> int:
    """The scale's denominator to two significant digits (1:4,837 → 1:4,800)."""
    digits = max(int(math.log10(denominator)) - 1, 0)
    return int(round(denominator, -digits))
