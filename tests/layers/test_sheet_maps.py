"""Map pages: rendered with fpdf2, read back with pypdf and rasterised with pdftoppm (no DB)."""

from __future__ import annotations

import dataclasses
import io
import math
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from django.utils import translation
from shapely import affinity
from shapely.geometry import LineString, Point, box

from layers.sheets.layout import Sheet, plan_sheets, references
from layers.sheets.mappage import (
    LabelIndex,
    draw_sheet,
    rect_quad,
    rotated_quad,
    scale_bar_metres,
)
from layers.sheets.pack import BuildingItem, NamedLine, Pack, PackKind, Paper, RouteLeg
from layers.sheets.pdf import PAPER_MM, TEAM_PALETTE, new_document, team_colours

from .sheet_data import ORIGIN, synthetic_pack

TEAMS = ("一组", "二组", "三组")


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def dense_pack(
    *,
    blocks_x: int = 6,
    blocks_y: int = 5,
    per_block: int = 4,
    paper: Paper = Paper.A4,
    kind: PackKind = PackKind.SWEEP,
) -> Pack:
    """The synthetic grid made busier: context buildings filling the blocks, a diagonal main
    road and a bent street, three teams by block row, each with its own route leg."""
    pack = synthetic_pack(
        blocks_x=blocks_x, blocks_y=blocks_y, per_block=per_block, paper=paper, kind=kind
    )
    x0, y0 = ORIGIN
    step = 140.0
    context = [
        box(x0 + bx * step + 6 + i * 27, y0 + by * step + 40 + j * 24,
            x0 + bx * step + 27 + i * 27, y0 + by * step + 56 + j * 24)
        for bx in range(blocks_x) for by in range(blocks_y) for i in range(4) for j in range(3)
    ]  # fmt: skip
    buildings = [
        dataclasses.replace(b, team=TEAMS[(int(b.footprint.bounds[1] - y0) // 140) % 3])
        for b in pack.buildings
    ]
    legs = []
    for team in TEAMS:
        stops = [b.footprint.centroid for b in buildings if b.team == team]
        if len(stops) > 1:
            legs.append(RouteLeg(team, 1, LineString([(p.x, p.y - 12) for p in stops])))
    width, height = blocks_x * step, blocks_y * step
    streets = [
        *pack.streets,
        NamedLine("汉江大道", LineString([(x0 - 20, y0 + 30), (x0 + width, y0 + height - 40)]), "main"),
        NamedLine(
            "环城路",
            LineString([(x0 + 50, y0 + height), (x0 + width / 2, y0 + height - 70),
                        (x0 + width, y0 + height - 75)]),
            "secondary",
        ),
    ]  # fmt: skip
    return dataclasses.replace(
        pack, buildings=buildings, context=context, streets=streets, routes=legs
    )


def estate_pack() -> Pack:
    """Slab blocks turned 25°, 48 × 12 m, in rows 32 m apart, with long door plates ("12号3栋")
    and a route through them: labels must go along the slabs."""
    x0, y0 = ORIGIN
    base = synthetic_pack(blocks_x=1, blocks_y=1, per_block=1, kind=PackKind.ZONE, paper=Paper.A4)
    buildings = []
    for group in range(4):
        for row in range(6):
            for k in range(3):
                slab = affinity.translate(
                    box(0, 0, 48, 12), x0 + group * 190 + k * 55, y0 + row * 32
                )
                slab = affinity.rotate(slab, 25, origin=(x0 + group * 190 + 80, y0 + row * 32 + 6))
                buildings.append(
                    dataclasses.replace(
                        base.buildings[0],
                        id=len(buildings) + 1,
                        footprint=slab,
                        label=f"{row * 3 + k + 1}号{group + 1}栋",
                        stop=len(buildings) + 1,
                    )
                )
    route = LineString([b.footprint.centroid.coords[0] for b in buildings])
    return dataclasses.replace(
        base, buildings=buildings, routes=[RouteLeg("一组", 1, route)], start=None
    )


def render(pack: Pack, numbers: list[int] | None = None):
    """The PDF bytes, the sheets, the references, the drawn sheets and their label counts."""
    sheets = plan_sheets(pack)
    refs = references(sheets, pack.buildings)
    pdf = new_document(pack.title, made_on=pack.made_on)
    drawn = [s for s in sheets if numbers is None or s.number in numbers]
    stats = [draw_sheet(pdf, pack, sheet, sheets) for sheet in drawn]
    return bytes(pdf.output()), sheets, refs, drawn, stats


def page_text(reader: pypdf.PdfReader, index: int) -> str:
    # pypdf reads fpdf2's two-byte CIDs with a NUL before each character.
    return reader.pages[index].extract_text().replace("\x00", "")


def strings(reader: pypdf.PdfReader, index: int) -> set[str]:
    """Every string the page shows, one per text operation (adjacent labels stay apart)."""
    found: list[str] = []
    reader.pages[index].extract_text(visitor_text=lambda text, *_args: found.append(text))
    return {text.replace("\x00", "").strip() for text in found} - {""}


def shown(sheet: Sheet, building: BuildingItem) -> bool:
    point = building.footprint.representative_point()
    minx, miny, maxx, maxy = sheet.frame
    return minx <= point.x <= maxx and miny <= point.y <= maxy


@pytest.fixture(scope="module")
def one_sheet():
    with translation.override("en"):
        return render(synthetic_pack())


@pytest.fixture(scope="module")
def atlas():
    with translation.override("en"):
        return render(dense_pack(), numbers=[1, 2, 4])


def test_one_sheet_prints_plates_stops_streets_scale_and_grid(one_sheet) -> None:
    data, sheets, _refs, drawn, stats = one_sheet
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1 == len(sheets) == len(drawn)
    pack = synthetic_pack()
    text = page_text(reader, 0)
    words = strings(reader, 0)
    for building in pack.buildings:
        assert building.label in words
        assert str(building.stop) in words
    for street in pack.streets:
        assert street.name in words
    sheet = sheets[0]
    assert f"1:{sheet.scale}" in words
    assert {chr(ord("A") + c) for c in range(sheet.cols)} <= words
    # Row numbers stand left and right of the frame (a stop's number, once, cannot pass for both).
    runs: list[str] = []
    reader.pages[0].extract_text(visitor_text=lambda text, *_args: runs.append(text))
    counted = Counter(text.replace("\x00", "").strip() for text in runs)
    assert all(counted[str(r)] >= 2 for r in range(1, sheet.rows + 1))
    assert pack.title in text
    assert "Sheet 1 of 1" in text
    assert pack.start_name in text
    assert "一网格" in text and "友谊社区" in text
    assert stats[0]["dropped"] == 0
    assert stats[0]["plates"] == len(pack.buildings) == stats[0]["stops"]


def test_fonts_are_embedded_and_the_map_is_vectors(one_sheet) -> None:
    data, *_rest = one_sheet
    reader = pypdf.PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    fonts = page["/Resources"]["/Font"]
    assert fonts
    for font in fonts.values():
        font = font.get_object()
        assert "NotoSansCJK" in str(font["/BaseFont"])
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile3" in descriptor or "/FontFile2" in descriptor
    assert "/XObject" not in page["/Resources"]  # no images: everything is drawn
    content = page.get_contents().get_data()
    lines = len(re.findall(rb" l\b", content))
    assert lines > 24 * 4  # at least the outlines of the buildings


def test_page_rasterises(one_sheet, tmp_path: Path) -> None:
    data, sheets, *_rest = one_sheet
    source = tmp_path / "sheet.pdf"
    source.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "60", "-gray", "-f", "1", "-l", "1", str(source), str(tmp_path / "p")],
        check=True,
    )
    (image,) = tmp_path.glob("p*.pgm")
    raw = image.read_bytes()
    magic, width, height, _maxval, pixels = raw.split(maxsplit=4)
    assert magic == b"P5"
    paper_w, paper_h = PAPER_MM[sheets[0].paper]
    if sheets[0].landscape:
        paper_w, paper_h = paper_h, paper_w
    assert int(width) == pytest.approx(paper_w / 25.4 * 60, abs=1)
    assert int(height) == pytest.approx(paper_h / 25.4 * 60, abs=1)
    ink = sum(1 for value in pixels if value < 200) / len(pixels)
    assert 0.02 < ink < 0.5


def test_atlas_sheets_label_every_building_they_show(atlas) -> None:
    data, sheets, refs, drawn, stats = atlas
    pack = dense_pack()
    assert len(sheets) >= 4
    reader = pypdf.PdfReader(io.BytesIO(data))
    for index, (sheet, counts) in enumerate(zip(drawn, stats, strict=True)):
        text = page_text(reader, index)
        words = strings(reader, index)
        assert f"Sheet {sheet.number} of {len(sheets)}" in text
        assert f"1:{sheet.scale}" in words
        visible = [b for b in pack.buildings if shown(sheet, b)]
        assert visible
        for building in visible:
            assert building.label in words, building.label
            assert str(building.stop) in words
        assert counts["plates_dropped"] == 0 and counts["stops_dropped"] == 0
        assert counts["dropped"] == 0
        assert counts["streets"] >= 2
        for number in sheet.neighbours.values():
            assert f"Continues on sheet {number}" in text
        # The grid reference of a building on this sheet names a printed column and row.
        for building in visible:
            number, cell = refs[building.id].split("-")
            if int(number) == sheet.number:
                assert cell[0] in words and cell[1:] in words
        # A sweep atlas: the legend names the teams.
        assert set(TEAMS) <= words


def test_street_names_are_placed_along_the_diagonal_and_the_bend(atlas) -> None:
    data, *_rest = atlas
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "".join(page_text(reader, i) for i in range(len(reader.pages)))
    assert "汉江大道" in text


def test_team_colours_follow_the_order_of_the_teams() -> None:
    pack = dense_pack()
    colours = team_colours(pack)
    assert list(colours) == list(dict.fromkeys(b.team for b in pack.buildings if b.team))
    assert list(colours.values()) == list(TEAM_PALETTE[: len(TEAMS)])


@pytest.mark.parametrize(
    ("scale", "max_mm", "metres"), [(500, 45, 20), (1000, 45, 25), (2000, 45, 50), (2500, 45, 100)]
)
def test_scale_bar_is_a_round_length(scale: int, max_mm: float, metres: int) -> None:
    assert scale_bar_metres(scale, max_mm) == metres


def test_a_building_pack_renders_with_no_route_or_context() -> None:
    pack = synthetic_pack(blocks_x=1, blocks_y=1, per_block=1, kind=PackKind.BUILDING)
    building = dataclasses.replace(pack.buildings[0], stop=None)
    pack = dataclasses.replace(
        pack, buildings=[building], routes=[], context=[], start=Point(ORIGIN), zones=[]
    )
    data, sheets, _refs, _drawn, stats = render(pack)
    assert len(sheets) == 1
    assert stats[0]["stops"] == 0 and stats[0]["dropped"] == 0
    assert building.label in strings(pypdf.PdfReader(io.BytesIO(data)), 0)


def test_slabs_carry_their_plates_along_them() -> None:
    pack = estate_pack()
    data, _sheets, _refs, drawn, stats = render(pack)
    reader = pypdf.PdfReader(io.BytesIO(data))
    for index, (sheet, counts) in enumerate(zip(drawn, stats, strict=True)):
        assert counts["dropped"] == 0
        words = strings(reader, index)
        for building in pack.buildings:
            if shown(sheet, building):
                assert building.label in words and str(building.stop) in words
    # Rotated text: the page's text matrices turn some labels by the slabs' 25°.
    content = b"".join(page.get_contents().get_data() for page in reader.pages)
    assert b"0.9063 0.4226 -0.4226 0.9063" in content


def test_placed_labels_block_overlapping_boxes_upright_and_turned() -> None:
    placed = LabelIndex()
    placed.add(rect_quad(10.0, 10.0, 8.0, 3.0), upright=True)
    assert not placed.free(rect_quad(14.0, 11.0, 8.0, 3.0), upright=True)
    assert placed.free(rect_quad(10.0, 14.0, 8.0, 3.0), upright=True)
    # A label turned 45° whose box misses the corner of the upright one, and one that hits it.
    diagonal = (math.sqrt(0.5), -math.sqrt(0.5))
    assert placed.free(rotated_quad(17.5, 5.0, 6.0, 2.0, *diagonal))
    assert not placed.free(rotated_quad(15.0, 8.0, 6.0, 2.0, *diagonal))
    # Boxes in other cells of the index do not see each other.
    placed.add(rotated_quad(50.0, 50.0, 30.0, 3.0, *diagonal))
    assert not placed.free(rect_quad(50.0, 50.0, 2.0, 2.0), upright=True)
    assert placed.free(rect_quad(40.0, 40.0, 2.0, 2.0), upright=True)


def test_streets_in_short_pieces_and_bends_are_named() -> None:
    pack = synthetic_pack()
    x0, y0 = ORIGIN
    pieces = [
        NamedLine("光华路", LineString([(x0 + k * 12, y0 + 70), (x0 + (k + 1) * 12, y0 + 70)]))
        for k in range(35)
    ]
    bend = LineString(
        [
            (x0 + 200 + 150 * math.cos(math.radians(a)), y0 + 100 + 150 * math.sin(math.radians(a)))
            for a in range(0, 181, 5)
        ]
    )
    pack = dataclasses.replace(
        pack, streets=[*pack.streets, *pieces, NamedLine("环湖路", bend, "secondary")]
    )
    data, _sheets, _refs, _drawn, stats = render(pack)
    words = strings(pypdf.PdfReader(io.BytesIO(data)), 0)
    assert {"光华路", "环湖路"} <= words
    assert stats[0]["dropped"] == 0
