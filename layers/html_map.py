"""A standalone HTML map of a box, made with folium: "export this view as an HTML map".

Community boundaries, compounds, buildings coloured by use (with a legend) and door plates, each
with a tooltip (the standard address for buildings and plates), all read through
``visible_to(user)``. There is no base layer: the data is the map.

Folium points its pages at CDNs (Leaflet, jQuery, Bootstrap, Font Awesome). Here the map's only
script and stylesheet are Leaflet's, at the URLs the caller passes (the project's own static
files), and nothing else is linked, so the file opens without any outside host. Room plates are
not drawn: they stand where their building's plate stands. ``new_page``, ``add_layer`` and
``legend_box`` also make the coverage export (``layers.coverage.export``), which writes Leaflet
into the page itself.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, Figure
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.db.models import OuterRef
from django.utils.functional import Promise
from django.utils.html import escape, format_html, format_html_join
from django.utils.translation import gettext as _

from gis.exceptions import InvalidInputError
from gis.functions import MakeEnvelope
from gis.models import Building, BuildingUse, Community, Compound, CompoundKind, DoorPlate

from .styles import BUILDING_USE_COLOURS

Bbox = tuple[float, float, float, float]

COMMUNITY_STYLE = {"color": "#d62728", "weight": 2, "dashArray": "6 4", "fill": False}
COMPOUND_STYLE = {"color": "#8c6d31", "weight": 1, "fillColor": "#e7cb94", "fillOpacity": 0.35}
PLATE_COLOUR = "#222222"
GEOJSON_PRECISION = 7
LEAFLET_STATIC = "vendor/leaflet/"  # Leaflet's dist folder among the static files


@dataclass(frozen=True)
class Assets:
    """Absolute URLs of Leaflet's script and stylesheet, served by the project."""

    leaflet_js: str
    leaflet_css: str


@dataclass(frozen=True)
class HtmlMap:
    html: str
    communities: int
    compounds: int
    buildings: int
    door_plates: int


def _features(rows: Any, properties: list[str]) -> dict[str, Any]:
    """A FeatureCollection of ``(id, *properties, geojson)`` rows; text is HTML-escaped (the
    tooltips are HTML)."""
    features = [
        {
            "type": "Feature",
            "id": row[0],
            "properties": {
                name: escape(value) if isinstance(value, str) else value
                for name, value in zip(properties, row[1:-1], strict=True)
            },
            "geometry": json.loads(row[-1]),
        }
        for row in rows
    ]
    return {"type": "FeatureCollection", "features": features}


def _geojson(field: str) -> AsGeoJSON:
    return AsGeoJSON(field, precision=GEOJSON_PRECISION)


def check_building_count(user: Any, bbox: Bbox, *, max_buildings: int) -> None:
    """Refuse a box holding more than ``max_buildings`` buildings ``user`` may see."""
    found = Building.objects.visible_to(user).filter(footprint__bboverlaps=MakeEnvelope(*bbox))
    if found[: max_buildings + 1].count() > max_buildings:
        raise InvalidInputError(
            _(
                "This view holds more than %(max)s buildings, too many for one HTML map: zoom in "
                "or export a smaller area."
            ),
            code="too_many_buildings",
            field="bbox",
            max=f"{max_buildings:,}",
        )


def html_map(*, user: Any, bbox: Bbox, assets: Assets, max_buildings: int) -> HtmlMap:
    """The HTML page of the map of ``bbox`` (minLon, minLat, maxLon, maxLat) as ``user`` sees it.

    Raises ``InvalidInputError`` (code ``too_many_buildings``) for a box with more than
    ``max_buildings`` buildings.
    """
    check_building_count(user, bbox, max_buildings=max_buildings)
    box = MakeEnvelope(*bbox)
    communities = _features(
        Community.objects.visible_to(user)
        .filter(geom__bboverlaps=box)
        .order_by("code")
        .values_list("pk", "name", "code", _geojson("geom")),
        ["name", "code"],
    )
    kinds = dict(CompoundKind.choices)
    compound_rows = [
        (pk, name, str(kinds.get(kind, kind)), geom)
        for pk, name, kind, geom in Compound.objects.visible_to(user)
        .filter(geom__bboverlaps=box)
        .order_by("pk")
        .values_list("pk", "name", "kind", _geojson("geom"))
    ]
    compounds = _features(compound_rows, ["name", "kind"])
    # A building's tooltip shows its own plate's address (no room; one without entrance first).
    uses = dict(BuildingUse.choices)
    building_rows = [
        (pk, address or name or f"#{pk}", str(uses.get(use, use)), use, floors, geom)
        for pk, address, name, use, floors, geom in Building.objects.visible_to(user)
        .filter(footprint__bboverlaps=box)
        .annotate(_address=DoorPlate.objects.building_address(OuterRef("pk")))
        .order_by("pk")
        .values_list("pk", "_address", "name", "use", "floors_above", _geojson("footprint"))
    ]
    buildings = _features(building_rows, ["address", "use", "use_code", "floors"])
    plates = _features(
        DoorPlate.objects.visible_to(user)
        .filter(location__bboverlaps=box, room__isnull=True)
        .order_by("pk")
        .values_list("pk", "address", _geojson("location")),
        ["address"],
    )

    figure, page = new_page(title=_("plategrid map"), bbox=bbox, assets=assets)
    add_layer(
        page,
        communities,
        _("Community boundaries"),
        ["name", "code"],
        [_("Community"), _("Code")],
        style=COMMUNITY_STYLE,
    )
    add_layer(
        page,
        compounds,
        _("Compounds"),
        ["name", "kind"],
        [_("Compound"), _("Kind")],
        style=COMPOUND_STYLE,
    )
    add_layer(
        page,
        buildings,
        _("Buildings"),
        ["address", "use", "floors"],
        [_("Standard address"), _("Use"), _("Floors")],
        style_function=_building_style,
    )
    add_layer(
        page,
        plates,
        _("Door plates"),
        ["address"],
        [_("Standard address")],
        marker=folium.CircleMarker(
            radius=2, color=PLATE_COLOUR, weight=1, fill=True, fill_color="#ffffff", fill_opacity=1
        ),
    )
    folium.LayerControl(collapsed=False).add_to(page)
    figure.html.add_child(Element(_legend()))
    return HtmlMap(
        html=figure.render(),
        communities=len(communities["features"]),
        compounds=len(compounds["features"]),
        buildings=len(buildings["features"]),
        door_plates=len(plates["features"]),
    )


def new_page(*, title: str, bbox: Bbox, assets: Assets | None) -> tuple[Figure, folium.Map]:
    """An empty folium page titled ``title`` (escaped by branca) and fitted to ``bbox``, with no
    base layer and Leaflet as its only script and stylesheet: linked from ``assets``, or, with
    ``None``, written into the page (:func:`inline_leaflet`) so that the file opens on a machine
    that reaches no server at all."""
    x0, y0, x1, y1 = bbox
    figure = Figure(title=title)
    page = folium.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2],
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
        zoom_start=16,
    )
    figure.add_child(page)
    # Our own Leaflet only: folium's other assets (jQuery, Bootstrap, Font Awesome, markers)
    # serve features these maps do not use.
    if assets is None:
        page.default_js = []
        page.default_css = []
        figure.header.add_child(Element(inline_leaflet()), name="leaflet")
    else:
        page.default_js = [("leaflet", assets.leaflet_js)]
        page.default_css = [("leaflet_css", assets.leaflet_css)]
    page.fit_bounds([[y0, x0], [y1, x1]])
    return figure, page


@functools.cache
def inline_leaflet() -> str:
    """Leaflet's stylesheet and script from the project's static files as ``<style>`` and
    ``<script>`` elements; the stylesheet's images as data URIs, its comments and the script's
    source-map comment out."""
    css_path = finders.find(f"{LEAFLET_STATIC}leaflet.css")
    js_path = finders.find(f"{LEAFLET_STATIC}leaflet.js")
    if not isinstance(css_path, str) or not isinstance(js_path, str):
        raise ImproperlyConfigured(f"Leaflet is not among the static files ({LEAFLET_STATIC})")
    folder = Path(css_path).parent

    def data_uri(match: re.Match[str]) -> str:
        image = (folder / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(image).decode()})"

    css = re.sub(r"/\*.*?\*/", "", Path(css_path).read_text(), flags=re.S)  # comments
    css = re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)
    script = re.sub(r"^//# sourceMappingURL=.*$", "", Path(js_path).read_text(), flags=re.M)
    if "</style" in css.lower() or "</script" in script.lower():
        raise ImproperlyConfigured("Leaflet's files cannot be written into a page as they are")
    return f"<style>{css}</style>\n<script>{script}</script>"


def _building_style(feature: dict[str, Any]) -> dict[str, Any]:
    colour = BUILDING_USE_COLOURS.get(
        feature["properties"]["use_code"], BUILDING_USE_COLOURS[BuildingUse.OTHER]
    )
    return {"color": "#333333", "weight": 0.5, "fillColor": colour, "fillOpacity": 0.8}


def add_layer(
    page: folium.Map,
    data: dict[str, Any],
    name: str,
    fields: list[str],
    aliases: list[str],
    *,
    style: dict[str, Any] | None = None,
    style_function: Any = None,
    marker: Any = None,
) -> None:
    """One overlay in the layer switcher; an empty one is listed but draws nothing."""
    group = folium.FeatureGroup(name=name).add_to(page)
    if not data["features"]:
        return
    folium.GeoJson(
        data,
        style_function=style_function or (None if style is None else lambda _feature: style),
        marker=marker,
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
    ).add_to(group)


def _legend() -> str:
    return legend_box(
        _("Building use"),
        ((BUILDING_USE_COLOURS[use], label) for use, label in BuildingUse.choices),
    )


def legend_box(title: str, rows: Iterable[tuple[str, str | Promise]]) -> str:
    """A legend fixed at the map's lower left: ``title`` over a swatch and label per
    ``(colour, label)`` row (all escaped)."""
    items = format_html_join(
        "",
        '<div><span style="display:inline-block;width:12px;height:12px;margin-right:6px;'
        'background:{}"></span>{}</div>',
        rows,
    )
    return format_html(
        '<div style="position:fixed;bottom:56px;left:10px;z-index:1000;background:#fff;'
        'padding:8px 10px;border:1px solid #999;border-radius:4px;font:13px sans-serif">'
        "<strong>{}</strong>{}</div>",
        title,
        items,
    )
