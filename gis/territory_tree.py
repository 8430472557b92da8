"""The territory tree a user sees: districts → street offices → communities, with their boxes.

The nodes are those of the territory querysets' ``visible_to(user)``: the nodes of the user's
grants, everything below them, and the nodes above them on the way up (so that a community worker
sees their community inside its street office and district). One query per level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.db.models.functions import Envelope
from django.contrib.gis.geos import GEOSGeometry

from .models import Community, District, StreetOffice

Bbox = tuple[float, float, float, float]

#: (level, model, digits of its code, field holding the parent's code)
LEVELS: tuple[tuple[str, Any, int, str | None], ...] = (
    ("district", District, 6, None),
    ("street_office", StreetOffice, 9, "district_id"),
    ("community", Community, 12, "street_office_id"),
)
CODE_LENGTHS = tuple(digits for _level, _model, digits, _parent in LEVELS)


@dataclass
class TerritoryNode:
    level: str
    code: str
    name: str
    bbox: Bbox | None
    children: list[TerritoryNode] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "code": self.code,
            "name": self.name,
            "bbox": list(self.bbox) if self.bbox else None,
            "children": [child.as_dict() for child in self.children],
        }


def bbox_of(geom: GEOSGeometry | None) -> Bbox | None:
    """``geom``'s extent (west, south, east, north) to 7 decimals (1 cm), as the API sends it."""
    if geom is None:
        return None
    x0, y0, x1, y1 = geom.extent
    return round(x0, 7), round(y0, 7), round(x1, 7), round(y1, 7)


def territory_tree(user: Any, *, under: str | None = None) -> list[TerritoryNode]:
    """The visible nodes as trees, in code order.

    ``under`` (a 6, 9 or 12-digit code) keeps that node and its visible descendants only: the
    list then holds that one node, or nothing when it does not exist or is out of ``user``'s
    sight.
    """
    nodes: dict[str, TerritoryNode] = {}
    roots: list[TerritoryNode] = []
    for level, model, digits, parent_field in LEVELS:
        queryset = model.objects.visible_to(user)
        if under is not None:
            if digits < len(under):
                continue
            if digits == len(under):
                queryset = queryset.filter(code=under)
            elif not roots:  # the node itself is not there: nothing below it to show
                break
            else:
                queryset = queryset.filter(code__startswith=under)
        columns = ["code", "name", "_box", *([parent_field] if parent_field else [])]
        rows = queryset.annotate(_box=Envelope("geom")).order_by("code").values_list(*columns)
        for code, name, box, *parent in rows:
            node = TerritoryNode(level=level, code=code, name=name, bbox=bbox_of(box))
            nodes[code] = node
            mother = nodes.get(parent[0]) if parent else None
            (mother.children if mother is not None else roots).append(node)
    return roots
