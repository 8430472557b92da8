"""Export this view: the coverage choropleth the user is looking at as a standalone HTML map and
as a PNG.

Both are pure functions of the choropleth's FeatureCollection (``layers.coverage.choropleth``):
the areas filled with each feature's ``colour``, the classed legend with its counts and the
no-data swatch, a title and a subtitle (the window, the date, who exported it).

- :func:`html_view`: a folium page made with the helpers of ``layers.html_map``, with Leaflet
  written into the page and no base layer, so the file opens with no server and no outside host.
- :func:`png_view`: a picture drawn on the server by matplotlib (Agg) in the metric CRS
  (``gis.crs.metric_srid()``, CGCS2000 Gauss-Krüger), in the Noto Sans CJK face of
  ``settings.SHEET_FONT``: the areas with their names where they fit, the legend and a north
  arrow beside the map, a scale bar and the credit under it. :func:`draw_view` gives the drawing
  itself and where a point lands on it.
"""

from __future__ import annotations

import functools
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import shapely
from branca.element import Element
from django.conf import settings
from django.utils.html import escape, format_html
from django.utils.translation import gettext as _
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontPath, FontProperties
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.patches import Polygon as PolygonPatch
from matplotlib.path import Path as MplPath
from pyproj import Transformer
from shapely.geometry import box

from gis.crs import STORAGE_SRID, metric_srid

from ..html_map import add_layer, legend_box, new_page
from ..sheets.pdf import collection_index

Collection = dict[str, Any]

EDGE_COLOUR = "#ffffff"
INK = "#222222"
MUTED = "#555555"
CREDIT = "plategrid"
DPI = 100
#: Fill opacity of the areas in the HTML map (the PNG fills them fully).
HTML_FILL_OPACITY = 0.85


# ---------------------------------------------------------------------------------------------
# Shared


def percent(share: float | None) -> str:
    """``0.873`` → ``87.3%``; no share (no rooms) → an em dash."""
    return "—" if share is None else f"{share * 100:.1f}%"


def legend_rows(collection: Collection) -> list[tuple[str, str]]:
    """``(colour, label)`` of each class with its count, then the no-data swatch with its
    count."""
    legend = collection["legend"]
    no_data = sum(1 for f in collection["features"] if f["properties"].get("class") is None)
    rows = [(c["colour"], f"{c['label']} ({c['count']})") for c in legend["classes"]]
    rows.append((legend["no_data"]["colour"], f"{legend['no_data']['label']} ({no_data})"))
    return rows


def window_text(window: dict[str, Any]) -> str:
    """The choropleth's window in words: the sweep, or the last days (as of a past day), rented
    rooms only, and the days it spans."""
    if window.get("sweep"):
        parts = [_("sweep %(name)s") % {"name": window["sweep"]["name"]}]
    elif window.get("days"):
        parts = [_("last %(days)s days") % {"days": window["days"]}]
    else:
        parts = [_("all time")]
    if window.get("at"):
        parts.append(_("as of %(day)s") % {"day": window["at"]})
    if window.get("rented"):
        parts.append(_("rented rooms only"))
    since, until = window.get("since"), window.get("until")
    if since and until:
        parts.append(f"{since} – {until}")
    elif until:
        parts.append(str(until))
    return " · ".join(parts)


def file_name(collection: Collection, extension: str) -> str:
    """``覆盖率-<node name>-<last day of the window>.<extension>``, without the characters a
    file system refuses."""
    node = collection["node"]
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", str(node.get("name") or node["code"]))
    day = collection["window"].get("until") or ""
    return "-".join(p for p in (_("Coverage"), name, day) if p) + f".{extension}"


def _geometry_json(feature: dict[str, Any]) -> bytes:
    """A feature's geometry as GeoJSON text: the choropleth hands it over as an
    ``orjson.Fragment`` (already serialised), a hand-made collection as a dict."""
    return orjson.dumps(feature["geometry"])


def _bbox(collection: Collection) -> tuple[float, float, float, float] | None:
    """The node's box (west, south, east, north), else the features' (None: nothing to show)."""
    bbox = collection["node"].get("bbox")
    if bbox:
        return (float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3]))
    if not collection["features"]:
        return None
    bounds = shapely.total_bounds(_shapes(collection))
    return (float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3]))


def _shapes(collection: Collection) -> np.ndarray:
    return shapely.from_geojson([_geometry_json(f) for f in collection["features"]])


# ---------------------------------------------------------------------------------------------
# HTML


def html_view(collection: Collection, *, title: str, subtitle: str) -> str:
    """A standalone HTML page of the choropleth ``collection``: each area filled with its
    colour and a tooltip (name, code, rooms, rooms seen, share), the legend, ``title`` and
    ``subtitle``, fitted to the node's box. Leaflet is written into the page; nothing else is
    loaded and there is no base layer: the areas are the map."""
    bbox = _bbox(collection) or (-180.0, -85.0, 180.0, 85.0)
    figure, page = new_page(title=title, bbox=bbox, assets=None)
    page.options["attribution_control"] = False  # Leaflet's credit links to its site
    data = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": feature.get("id"),
                "geometry": orjson.loads(_geometry_json(feature)),
                "properties": _html_properties(feature["properties"]),
            }
            for feature in collection["features"]
        ],
    }
    add_layer(
        page,
        data,
        collection["legend"]["title"],
        ["name", "code", "rooms", "seen", "share"],
        [_("Name"), _("Code"), _("Rooms"), _("Rooms seen"), _("Coverage")],
        style_function=_html_style,
    )
    figure.html.add_child(Element(_html_heading(title, subtitle)))
    figure.html.add_child(
        Element(legend_box(collection["legend"]["title"], legend_rows(collection)))
    )
    return str(figure.render())


def _html_properties(properties: dict[str, Any]) -> dict[str, Any]:
    """What the tooltip shows, as text (escaped: the tooltips are HTML), and the colour."""
    return {
        "name": escape(properties.get("name") or ""),
        "code": escape(properties.get("code") or ""),
        "rooms": f"{properties.get('rooms') or 0:,}",
        "seen": f"{properties.get('seen') or 0:,}",
        "share": percent(properties.get("share")),
        "colour": properties["colour"],
    }


def _html_style(feature: dict[str, Any]) -> dict[str, Any]:
    return {
        "color": EDGE_COLOUR,
        "weight": 1,
        "fillColor": feature["properties"]["colour"],
        "fillOpacity": HTML_FILL_OPACITY,
    }


def _html_heading(title: str, subtitle: str) -> str:
    return format_html(
        '<div style="position:fixed;top:10px;left:60px;right:60px;z-index:1000;'
        'text-align:center;pointer-events:none;font:14px sans-serif">'
        '<div style="display:inline-block;background:#fff;padding:6px 12px;'
        'border:1px solid #999;border-radius:4px">'
        '<div style="font-size:18px;font-weight:bold">{}</div><div>{}</div>'
        '<div style="color:#777;font-size:11px">{}</div></div></div>',
        title,
        subtitle,
        CREDIT,
    )


# ---------------------------------------------------------------------------------------------
# PNG


@functools.cache
def _font_path(path: str) -> FontPath:
    """The Simplified Chinese face of the font file ``path`` (a collection holds several)."""
    return FontPath(path, collection_index(path))


def _font(size_pt: float, *, bold: bool = False) -> FontProperties:
    path = settings.SHEET_FONT_BOLD if bold else settings.SHEET_FONT
    return FontProperties(fname=_font_path(path), size=size_pt)


@functools.cache
def _to_metric(srid: int) -> Transformer:
    return Transformer.from_crs(STORAGE_SRID, srid, always_xy=True)


@dataclass(frozen=True)
class Layout:
    """Where things go on the picture, as fractions of its width and height."""

    map_box: tuple[float, float, float, float]  # left, bottom, width, height
    side_left: float  # the legend's and the arrow's column
    title_y: float
    subtitle_y: float
    footer_y: float
    scale: float  # text sizes relative to a 1600 × 1200 picture

    @classmethod
    def of(cls, width_px: int, height_px: int) -> Layout:
        scale = max(0.5, min(width_px / 1600, height_px / 1200))
        header = min(0.2, 120 * scale / height_px)
        footer = min(0.12, 70 * scale / height_px)
        side = 0.26 if width_px >= height_px else 0.34
        return cls(
            map_box=(0.02, footer, 1 - side - 0.03, 1 - header - footer),
            side_left=1 - side,
            title_y=1 - 0.38 * header,
            subtitle_y=1 - 0.78 * header,
            footer_y=footer * 0.45,
            scale=scale,
        )


@dataclass
class Picture:
    """The drawn view: the figure, its map axes and the projection of its points."""

    figure: Figure
    map_axes: Axes
    srid: int
    width_px: int
    height_px: int
    labels: list[str]

    def pixel(self, lon: float, lat: float) -> tuple[int, int]:
        """The (column, row) of the PNG's pixel under the point ``lon``, ``lat`` (WGS84)."""
        x, y = _to_metric(self.srid).transform(lon, lat)
        px, py = self.map_axes.transData.transform((x, y))
        return int(px), int(self.height_px - py)

    def png(self) -> bytes:
        out = io.BytesIO()
        self.figure.savefig(out, format="png", dpi=DPI)
        return out.getvalue()


def png_view(
    collection: Collection,
    *,
    title: str,
    subtitle: str,
    width_px: int = 1600,
    height_px: int = 1200,
) -> bytes:
    """The choropleth ``collection`` as a PNG of ``width_px`` × ``height_px`` pixels (see
    :func:`draw_view`)."""
    return draw_view(
        collection, title=title, subtitle=subtitle, width_px=width_px, height_px=height_px
    ).png()


def draw_view(
    collection: Collection,
    *,
    title: str,
    subtitle: str,
    width_px: int = 1600,
    height_px: int = 1200,
) -> Picture:
    """The choropleth drawn on a ``width_px`` × ``height_px`` figure in the metric CRS: the areas
    in their colours with white edges and their names where a name fits inside its area, the
    title and subtitle above, the legend and a north arrow (grid north) beside, a scale bar and
    the credit below."""
    layout = Layout.of(width_px, height_px)
    figure = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_axes(layout.map_box)
    axes.set_axis_off()
    srid = metric_srid()

    features = collection["features"]
    shapes = _shapes(collection) if features else np.array([], dtype=object)
    transformer = _to_metric(srid)
    metric = shapely.orient_polygons(
        shapely.transform(shapes, lambda xy: np.column_stack(transformer.transform(*xy.T)))
    )
    _fit(axes, _metric_bounds(collection, metric, transformer), width_px, height_px)
    if len(metric):
        axes.add_collection(
            PatchCollection(
                [PathPatch(_path(shape)) for shape in metric],
                facecolors=[f["properties"]["colour"] for f in features],
                edgecolors=EDGE_COLOUR,
                linewidths=0.8,
            )
        )
    labels = _draw_labels(
        axes, canvas, metric, [f["properties"].get("name") or "" for f in features], layout
    )

    figure.text(
        0.5, layout.title_y, title, ha="center", va="center",
        fontproperties=_font(24 * layout.scale, bold=True), color=INK,
    )  # fmt: skip
    figure.text(
        0.5, layout.subtitle_y, subtitle, ha="center", va="center",
        fontproperties=_font(13 * layout.scale), color=MUTED,
    )  # fmt: skip
    _draw_north_arrow(figure, layout)
    _draw_legend(figure, collection, layout)
    _draw_scale_bar(figure, axes, layout, width_px)
    figure.text(
        0.98, layout.footer_y, CREDIT, ha="right", va="center",
        fontproperties=_font(11 * layout.scale), color=MUTED,
    )  # fmt: skip
    return Picture(figure, axes, srid, width_px, height_px, labels)


def _metric_bounds(
    collection: Collection, metric: np.ndarray, transformer: Transformer
) -> tuple[float, float, float, float]:
    bbox = _bbox(collection)
    if bbox is None:
        return (0.0, 0.0, 1000.0, 1000.0)
    if len(metric):
        x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(metric))
    else:
        x0, y0, x1, y1 = transformer.transform_bounds(*bbox)
    return (x0, y0, x1, y1)


def _fit(
    axes: Axes, bounds: tuple[float, float, float, float], width_px: int, height_px: int
) -> None:
    """Limits that show ``bounds`` whole, with a margin, at one scale in x and y."""
    x0, y0, x1, y1 = bounds
    _left, _bottom, width, height = axes.get_position().bounds
    box_w, box_h = width * width_px, height * height_px
    m_per_px = max((x1 - x0) / box_w, (y1 - y0) / box_h, 1e-3) * 1.04
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    axes.set_xlim(cx - m_per_px * box_w / 2, cx + m_per_px * box_w / 2)
    axes.set_ylim(cy - m_per_px * box_h / 2, cy + m_per_px * box_h / 2)


def _rings(shape: Any) -> Iterator[np.ndarray]:
    for polygon in shapely.get_parts(shape):
        if shapely.get_type_id(polygon) != 3:  # not a polygon: nothing to fill
            continue
        yield shapely.get_coordinates(polygon.exterior)
        for ring in polygon.interiors:
            yield shapely.get_coordinates(ring)


def _path(shape: Any) -> MplPath:
    """A (multi)polygon as one path: exteriors counter-clockwise, holes clockwise."""
    rings = [MplPath(ring, closed=True) for ring in _rings(shape) if len(ring) >= 4]
    return MplPath.make_compound_path(*rings) if rings else MplPath(np.zeros((1, 2)))


#: Label sizes (pt on a 1600 × 1200 picture), tried largest first.
LABEL_SIZES_PT = (12.0, 9.0)


def _draw_labels(
    axes: Axes, canvas: FigureCanvasAgg, metric: np.ndarray, names: list[str], layout: Layout
) -> list[str]:
    """Each area's name at the centre of the largest circle inside its largest part, at the
    largest size whose box lies inside that part and clear of the names already placed (larger
    areas first); the names drawn."""
    if not len(metric):
        return []
    renderer = canvas.get_renderer()
    to_px = axes.transData
    x_min, x_max = axes.get_xlim()
    px_per_m = axes.get_window_extent(renderer).width / (x_max - x_min)
    placed: list[Any] = []
    drawn = []
    fonts = [
        (_font(size * layout.scale), size * layout.scale * DPI / 72) for size in LABEL_SIZES_PT
    ]
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for index in np.argsort(-shapely.area(metric)):
        shape, name = metric[index], names[index]
        if not name or shapely.is_empty(shape):
            continue
        largest = max(shapely.get_parts(shape), key=lambda part: part.area)
        radius = shapely.maximum_inscribed_circle(largest, max(math.sqrt(largest.area) / 100, 1.0))
        x, y = radius.coords[0]
        area_px = None
        for font, height_px in fonts:
            # A box of this height inside the area holds a circle of this diameter.
            if 2 * radius.length * px_per_m < height_px:
                continue
            text = axes.text(
                x, y, name, ha="center", va="center", fontproperties=font, color=INK,
                path_effects=halo, clip_on=True,
            )  # fmt: skip
            extent = text.get_window_extent(renderer)
            label = box(extent.x0 - 2, extent.y0 - 2, extent.x1 + 2, extent.y1 + 2)
            if area_px is None:
                area_px = shapely.transform(largest, to_px.transform)
            if label.within(area_px) and not any(label.intersects(p) for p in placed):
                placed.append(label)
                drawn.append(name)
                break
            text.remove()
    return drawn


def _draw_legend(figure: Figure, collection: Collection, layout: Layout) -> None:
    handles = [
        Patch(facecolor=colour, edgecolor="#999999", label=label)
        for colour, label in legend_rows(collection)
    ]
    figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(layout.side_left, layout.map_box[1] + layout.map_box[3] * 0.78),
        title=collection["legend"]["title"],
        prop=_font(12 * layout.scale),
        title_fontproperties=_font(13 * layout.scale, bold=True),
        frameon=False,
        alignment="left",
    )


def _draw_north_arrow(figure: Figure, layout: Layout) -> None:
    """An N over an arrow pointing up the map (grid north: within a degree of true north in a
    3-degree Gauss-Krüger zone)."""
    top = layout.map_box[1] + layout.map_box[3]
    x = layout.side_left + 0.03
    figure.text(
        x, top, "N", ha="center", va="top", fontproperties=_font(14 * layout.scale, bold=True),
        color=INK,
    )  # fmt: skip
    tip = top - 0.035
    height = 0.07 * layout.map_box[3]
    half_width = height * 0.3 * figure.get_figheight() / figure.get_figwidth()
    for side, fill in ((1, INK), (-1, "white")):
        figure.add_artist(
            PolygonPatch(
                [(x, tip), (x + side * half_width, tip - height), (x, tip - height * 0.85)],
                closed=True, transform=figure.transFigure, facecolor=fill, edgecolor=INK,
            )
        )  # fmt: skip


def nice_length_m(max_m: float) -> float:
    """The longest 1, 2 or 5 × 10ⁿ metres not over ``max_m``."""
    if max_m <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(max_m))
    return next(step * power for step in (5, 2, 1) if step * power <= max_m)


def _distance_text(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def _draw_scale_bar(figure: Figure, axes: Axes, layout: Layout, width_px: int) -> None:
    """A bar of a round length, at most a fifth of the map's width, under the map's lower left:
    four segments, black and white."""
    x_min, x_max = axes.get_xlim()
    map_width = layout.map_box[2]
    m_per_fraction = (x_max - x_min) / map_width
    length_m = nice_length_m(m_per_fraction * map_width / 5)
    length = length_m / m_per_fraction
    left, y = layout.map_box[0], layout.footer_y
    bar_h = 8 * layout.scale / figure.get_figheight() / DPI
    for i in range(4):
        figure.add_artist(
            Rectangle(
                (left + i * length / 4, y - bar_h / 2), length / 4, bar_h,
                transform=figure.transFigure, facecolor=INK if i % 2 == 0 else "white",
                edgecolor=INK, linewidth=0.8,
            )
        )  # fmt: skip
    font = _font(10 * layout.scale)
    figure.text(left, y + bar_h, "0", ha="center", va="bottom", fontproperties=font, color=INK)
    figure.text(
        left + length, y + bar_h, _distance_text(length_m), ha="center", va="bottom",
        fontproperties=font, color=INK,
    )  # fmt: skip
