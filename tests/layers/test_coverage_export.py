"""Export of a coverage view (layers.coverage.export, /coverage/export.html|png): the standalone
HTML map and the PNG drawn from a hand-made choropleth, and the views over the real one."""

from __future__ import annotations

import io
import json
import logging
import re
import warnings
from collections import Counter
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import numpy as np
import orjson
import pytest
import shapely
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from gis.models import Role
from layers.coverage import export
from layers.html_map import inline_leaflet
from layers.sheets.pdf import collection_index

from ..conftest import Territory
from ..web.browser import DESKTOP, OfflineGuard, chromium

RED, AMBER, GREEN, GREY = "#d7301f", "#fdae61", "#1a9850", "#bdbdbd"
TITLE = "人民路街道 覆盖率"
SUBTITLE = "最近 30 天 · 2026-11-04 – 2026-12-03 · 导出：张三"


def _square(x0: float, y0: float, size: float, hole: float = 0.0) -> dict[str, Any]:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    rings = [ring]
    if hole:
        c, h = size / 2, hole / 2
        rings.append(
            [
                [x0 + c - h, y0 + c - h],
                [x0 + c - h, y0 + c + h],
                [x0 + c + h, y0 + c + h],
                [x0 + c + h, y0 + c - h],
                [x0 + c - h, y0 + c - h],
            ]
        )
    return {"type": "MultiPolygon", "coordinates": [rings]}


def _feature(code: str, name: str, geometry: Any, share: float | None, cls: int | None) -> dict:
    colour = GREY if cls is None else (RED, AMBER, GREEN)[cls]
    rooms = 0 if share is None else 200
    return {
        "type": "Feature",
        "id": code,
        "geometry": geometry,
        "properties": {
            "code": code,
            "name": name,
            "level": "community",
            "rooms": rooms,
            "seen": round(rooms * (share or 0)),
            "share": share,
            "class": cls,
            "colour": colour,
        },
    }


@pytest.fixture
def collection() -> dict[str, Any]:
    """Four communities of a street office as the choropleth gives them: three large squares
    (one with a hole, one geometry already serialised as the service hands it over) and a small
    one with no rooms, whose long name cannot fit."""
    return {
        "type": "FeatureCollection",
        "features": [
            _feature(
                "420602001001",
                "人民路社区",
                orjson.Fragment(orjson.dumps(_square(112.10, 32.00, 0.02))),
                0.5,
                0,
            ),
            _feature("420602001002", "长虹社区", _square(112.12, 32.00, 0.02), 0.9, 1),
            _feature(
                "420602001003", "春园<b>社区</b>", _square(112.10, 32.02, 0.02, 0.006), 0.97, 2
            ),
            _feature(
                "420602001004", "东风路很长很长的社区名", _square(112.12, 32.02, 0.002), None, None
            ),
        ],
        "legend": {
            "scheme": "targets",
            "title": "已走访房屋",
            "classes": [
                {"label": "< 85%", "lower": 0.0, "upper": 0.85, "colour": RED, "count": 1},
                {"label": "85%–95%", "lower": 0.85, "upper": 0.95, "colour": AMBER, "count": 1},
                {"label": "≥ 95%", "lower": 0.95, "upper": 1.0, "colour": GREEN, "count": 1},
            ],
            "no_data": {"label": "无房屋", "colour": GREY},
        },
        "node": {
            "code": "420602001",
            "name": "人民路街道",
            "level": "street_office",
            "parent": "420602",
            "rooms": 600,
            "seen": 474,
            "share": 0.79,
            "bbox": [112.10, 32.00, 112.14, 32.04],
        },
        "window": {
            "days": 30,
            "sweep": None,
            "rented": False,
            "at": None,
            "since": "2026-11-04",
            "until": "2026-12-03",
        },
    }


def _shape(feature: dict[str, Any]) -> Any:
    return shapely.from_geojson(orjson.dumps(feature["geometry"]))


# ---------------------------------------------------------------------------------------------
# HTML


class Tags(HTMLParser):
    """The page's tags, and every URL a tag would load or link (src, href)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [value or "" for name, value in attrs if name in ("src", "href")]


def _unescaped(html: str) -> str:
    """The page with JSON's \\uXXXX escapes written out."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def test_html_has_every_feature_the_legend_and_the_titles(collection):
    html = export.html_view(collection, title=TITLE, subtitle=SUBTITLE)
    parser = Tags()
    parser.feed(html)
    parser.close()
    assert parser.tags.count("html") == 1 and "body" in parser.tags
    assert f"<title>{TITLE}</title>" in html
    text = _unescaped(html)
    assert TITLE in text and SUBTITLE in text
    for feature in collection["features"]:
        p = feature["properties"]
        assert p["code"] in text
        assert p["colour"] in text
    assert "人民路社区" in text and "50.0%" in text and "97.0%" in text
    # Names reach the tooltips escaped.
    assert "春园&lt;b&gt;社区&lt;/b&gt;" in text and "春园<b>" not in text
    # The legend: each class with its count, and the areas with no rooms.
    for label in ("&lt; 85% (1)", "85%–95% (1)", "≥ 95% (1)", "无房屋 (1)"):
        assert label in text
    # Fitted to the node's box.
    assert re.search(r"fitBounds\(\s*\[\[32\.0, 112\.1\], \[32\.04, 112\.14\]\]", html)


def test_html_loads_nothing_from_any_host(collection):
    html = export.html_view(collection, title=TITLE, subtitle=SUBTITLE)
    parser = Tags()
    parser.feed(html)
    assert parser.urls == []  # no <script src>, no <link href>: everything is in the file
    # Leaflet is the project's own copy, written into the page.
    library = inline_leaflet()
    assert library in html and "sourceMappingURL" not in library
    assert "url(images/" not in library and "url(data:image/png;base64," in library
    # Outside the library, no URL at all, absolute or protocol-relative.
    rest = html.replace(library, "")
    assert re.findall(r"https?:|(?<![:\w\\])//[\w-]+\.[\w.-]+", rest) == []
    # In it, only the SVG namespace and leafletjs.com (its licence comment and its attribution
    # link, which the page switches off).
    assert set(re.findall(r"https?://[\w.-]+", library)) == {
        "http://www.w3.org",
        "https://leafletjs.com",
    }
    assert '"attributionControl": false' in html


def test_html_of_an_empty_view(collection):
    collection["features"] = []
    collection["node"]["bbox"] = None
    for c in collection["legend"]["classes"]:
        c["count"] = 0
    html = export.html_view(collection, title=TITLE, subtitle=SUBTITLE)
    assert "无房屋 (0)" in _unescaped(html) and "L.map(" in html


@pytest.mark.browser
def test_the_html_file_opens_offline_with_its_tooltips(collection, tmp_path):
    path = tmp_path / "覆盖率.html"
    path.write_text(export.html_view(collection, title=TITLE, subtitle=SUBTITLE))
    with chromium() as browser:
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        guard = OfflineGuard("file:///")
        guard.attach(context)
        page = context.new_page()
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-container canvas", state="attached")
        # Over the middle of 人民路社区 (112.10–112.12 E, 32.00–32.02 N); asked again while the
        # map may still be settling (fitting its bounds) on a loaded machine.
        tooltip = None
        for _attempt in range(6):
            x, y = page.evaluate(
                """() => {
                    const map = window[Object.keys(window).find((k) => k.startsWith("map_"))];
                    const p = map.latLngToContainerPoint([32.01, 112.11]);
                    return [p.x, p.y];
                }"""
            )
            page.mouse.move(x - 5, y - 5)
            page.mouse.move(x, y, steps=3)
            try:
                tooltip = page.wait_for_selector(".leaflet-tooltip", timeout=5_000)
                break
            except PlaywrightTimeout:
                continue
        assert tooltip is not None
        text = tooltip.inner_text()
        assert "人民路社区" in text and "420602001001" in text and "50.0%" in text
        assert TITLE in page.inner_text("body") and "无房屋 (1)" in page.inner_text("body")
        context.close()
    assert guard.requests == [path.as_uri()]
    assert (guard.outside, guard.console_errors, guard.page_errors) == ([], [], [])


# ---------------------------------------------------------------------------------------------
# PNG


def _decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.convert("RGB")


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def _patch_mode(image: Image.Image, x: int, y: int, radius: int = 6) -> tuple[int, int, int]:
    """The most common colour around (x, y): the fill, even under a label's strokes."""
    colours = Counter(
        image.getpixel((i, j))
        for i in range(x - radius, x + radius + 1)
        for j in range(y - radius, y + radius + 1)
    )
    return colours.most_common(1)[0][0]  # type: ignore[return-value]


def test_png_decodes_at_the_size_asked(collection):
    image = _decoded(export.png_view(collection, title=TITLE, subtitle=SUBTITLE))
    assert image.size == (1600, 1200)
    small = Image.open(
        io.BytesIO(
            export.png_view(collection, title=TITLE, subtitle=SUBTITLE, width_px=640, height_px=900)
        )
    )
    assert small.format == "PNG" and small.size == (640, 900)


def test_png_fills_each_area_with_its_class_colour(collection):
    picture = export.draw_view(
        collection, title=TITLE, subtitle=SUBTITLE, width_px=800, height_px=600
    )
    image = _decoded(picture.png())
    assert image.size == (800, 600)
    for feature in collection["features"]:
        shape = _shape(feature)
        point = shape.point_on_surface()
        x, y = picture.pixel(point.x, point.y)
        colour = _rgb(feature["properties"]["colour"])
        if feature["properties"]["name"] in picture.labels:
            assert _patch_mode(image, x, y) == colour, feature["id"]
        else:
            assert image.getpixel((x, y)) == colour, feature["id"]
    # The hole is not filled.
    holed = _shape(collection["features"][2]).geoms[0].interiors[0]
    centre = shapely.Polygon(holed).centroid
    assert image.getpixel(picture.pixel(centre.x, centre.y)) == (255, 255, 255)
    # Outside every area: the background.
    assert image.getpixel(picture.pixel(112.135, 32.035)) == (255, 255, 255)


def test_png_labels_the_areas_where_the_names_fit(collection):
    picture = export.draw_view(
        collection, title=TITLE, subtitle=SUBTITLE, width_px=800, height_px=600
    )
    assert sorted(picture.labels) == sorted(["人民路社区", "长虹社区", "春园<b>社区</b>"])


def _glyph_warnings(draw: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_png_draws_the_chinese_title_in_noto_sans_cjk(collection):
    # Matplotlib's own font has no Chinese: drawing it warns (the check below can fail).
    figure = Figure(figsize=(2, 1))
    FigureCanvasAgg(figure)
    figure.text(0.1, 0.5, "覆盖率")
    assert _glyph_warnings(lambda: figure.savefig(io.BytesIO(), format="png"))

    pictures = []
    assert (
        _glyph_warnings(
            lambda: pictures.append(
                export.draw_view(
                    collection, title=TITLE, subtitle=SUBTITLE, width_px=800, height_px=600
                ).png()
            )
        )
        == []
    )
    picture = export.draw_view(
        collection, title=TITLE, subtitle=SUBTITLE, width_px=800, height_px=600
    )
    title = next(t for t in picture.figure.texts if t.get_text() == TITLE)
    face = title.get_fontproperties().get_file()
    assert face == settings.SHEET_FONT_BOLD
    assert face.face_index == collection_index(settings.SHEET_FONT_BOLD)  # the SC face
    # Ink in the title's band.
    image = _decoded(pictures[0])
    band = image.crop((200, 0, 600, 50))
    assert (np.asarray(band).sum(axis=2) < 200).sum() > 100
    texts = {t.get_text() for t in picture.figure.texts}
    assert {SUBTITLE, "plategrid", "N", "0", "1 km"} <= texts


def test_png_of_an_empty_view(collection):
    collection["features"] = []
    collection["node"]["bbox"] = None
    image = _decoded(
        export.png_view(collection, title=TITLE, subtitle=SUBTITLE, width_px=400, height_px=300)
    )
    assert image.size == (400, 300)


def test_nice_scale_bar_lengths():
    assert [export.nice_length_m(m) for m in (0.7, 1, 3, 740, 1999, 2000, 12_000)] == [
        0.5,
        1,
        2,
        500,
        1000,
        2000,
        10_000,
    ]


def test_window_text_and_file_name(collection):
    with translation.override("en"):
        _window_text_and_file_name(collection)
    with translation.override("zh-hans"):
        assert export.window_text(collection["window"]) == "最近 30 天 · 2026-11-04 – 2026-12-03"
        assert export.file_name(collection, "png") == "覆盖率-人民路街道-2026-12-03.png"


def _window_text_and_file_name(collection):
    assert export.window_text(collection["window"]) == "last 30 days · 2026-11-04 – 2026-12-03"
    window = {
        "days": None,
        "sweep": {"id": 3, "name": "冬季大走访"},
        "rented": True,
        "at": None,
        "since": None,
        "until": "2026-12-03",
    }
    assert export.window_text(window) == "sweep 冬季大走访 · rented rooms only · 2026-12-03"
    window = {**window, "sweep": None, "at": "2026-10-31", "since": None, "until": "2026-10-31"}
    assert (
        export.window_text(window) == "all time · as of 2026-10-31 · rented rooms only · 2026-10-31"
    )
    assert export.file_name(collection, "png") == "Coverage-人民路街道-2026-12-03.png"
    odd = {**collection, "node": {**collection["node"], "name": 'a/b:c*"d"'}}
    assert export.file_name(odd, "html") == "Coverage-a_b_c_d_-2026-12-03.html"


# ---------------------------------------------------------------------------------------------
# Views


def _client(user: Any = None, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def _attachment_name(response: Any) -> str:
    match = re.fullmatch(r"attachment; filename\*=utf-8''(\S+)", response["Content-Disposition"])
    assert match, response["Content-Disposition"]
    return unquote(match.group(1))


def test_html_view_answers_an_attachment(territory: Territory, users):
    office = territory.office
    response = _client(users[Role.COMMUNITY_WORKER], "zh-hans").get(
        "/coverage/export.html", {"code": office.code, "days": "7"}
    )
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/html; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert _attachment_name(response) == f"覆盖率-{office.name}-{today}.html"
    html = _unescaped(response.content.decode())
    assert "人民路社区" in html and "长虹社区" not in html  # the worker's part only
    assert "worker" in html  # who exported it
    assert "https:" not in html.replace(inline_leaflet(), "")


def test_png_view_answers_an_attachment(territory: Territory, users):
    response = _client(users[Role.STREET_SUPERVISOR]).get(
        "/coverage/export.png", {"code": territory.office.code, "scheme": "natural"}
    )
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/png"
    today = timezone.localdate().isoformat()
    assert _attachment_name(response) == f"Coverage-{territory.office.name}-{today}.png"
    assert Image.open(io.BytesIO(response.content)).size == (1600, 1200)


@pytest.mark.parametrize("route", ["/coverage/export.html", "/coverage/export.png"])
def test_views_refuse_a_node_outside_the_scope(territory: Territory, users, route):
    response = _client(users[Role.COMMUNITY_WORKER]).get(route, {"code": territory.away.code})
    assert response.status_code == 404
    assert "Content-Disposition" not in response
    assert territory.away.code in response.content.decode()


@pytest.mark.parametrize(
    ("query", "english"),
    [
        ({"days": "5"}, "days is one of 7, 30, 90 or all, not &#x27;5&#x27;."),
        ({"scheme": "pie"}, "scheme is one of targets, natural"),
        ({"rented": "maybe"}, "rented is 0 (all rooms) or 1"),
        ({"at": "yesterday"}, "at is a date as YYYY-MM-DD"),
        ({"level": "district"}, "level is one of"),
    ],
)
def test_views_answer_bad_parameters_with_a_bilingual_page(
    territory: Territory, users, query, english
):
    query = {"code": territory.office.code, **query}
    response = _client(users[Role.STREET_SUPERVISOR]).get("/coverage/export.png", query)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "Content-Disposition" not in response
    page = response.content.decode()
    english_part = re.search(r'<p class="error" lang="en">(.+?)</p>', page)
    chinese_part = re.search(r'<p class="error" role="alert" lang="zh-Hans">(.+?)</p>', page)
    assert english_part and english in english_part.group(1)
    assert chinese_part and chinese_part.group(1)


def test_the_bad_parameter_page_speaks_chinese(territory: Territory, users):
    response = _client(users[Role.STREET_SUPERVISOR], "zh-hans").get(
        "/coverage/export.html", {"code": territory.office.code, "days": "5"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "days 只能是 7、30、90 或 all" in page
    assert "days is one of 7, 30, 90 or all" in page


def test_exports_and_refusals_are_logged(territory: Territory, users, caplog):
    client = _client(users[Role.STREET_SUPERVISOR])
    with caplog.at_level(logging.INFO, logger="plategrid.exports"):
        client.get("/coverage/export.html", {"code": territory.office.code, "days": "90"})
        client.get("/coverage/export.png", {"code": territory.office.code, "days": "5"})
    done, refused = (r.getMessage() for r in caplog.records if r.name == "plategrid.exports")
    user = users[Role.STREET_SUPERVISOR].pk
    assert done.startswith(
        f"coverage html export: user={user} query=code={territory.office.code}&days=90 "
        "features=2 bytes="
    )
    assert refused == (
        f"coverage png export refused: user={user} "
        f"query=code={territory.office.code}&days=5 code=bad_days"
    )


def test_views_require_a_sign_in(territory: Territory):
    for route in ("/coverage/export.html", "/coverage/export.png"):
        response = _client().get(route, {"code": territory.office.code})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_views_answer_get_only(territory: Territory, users):
    response = _client(users[Role.STREET_SUPERVISOR]).post(
        "/coverage/export.html", {"code": territory.office.code}
    )
    assert response.status_code == 405


def test_html_page_reads_the_json_it_embeds(collection):
    """The GeoJSON in the page is valid JSON with one feature per area."""
    html = export.html_view(collection, title=TITLE, subtitle=SUBTITLE)
    data = re.search(r"_add\((\{.*\})\);$", html, flags=re.M)
    assert data, "no data added to the layer"
    parsed = json.loads(data.group(1))
    assert [f["properties"]["code"] for f in parsed["features"]] == [
        f["properties"]["code"] for f in collection["features"]
    ]
