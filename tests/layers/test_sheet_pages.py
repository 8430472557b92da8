"""The pack's cover, register pages and building plans, and the vector QR codes (no database).

PDFs are read back with pypdf (text must be text) and rasterised with pdftoppm. The map sheets
are not drawn here; a stand-in ``Sheet`` with the fields the cover reads takes their place.
"""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import segno
from django.utils import translation
from PIL import Image
from pypdf import PdfReader
from shapely.geometry import box

from layers.sheets import layout, pages, plans, registers
from layers.sheets.pack import BuildingItem, Pack, PackKind, PlanFloor, PlanRoom
from layers.sheets.pdf import add_page, new_document, team_colours
from layers.sheets.qr import dark_runs, draw_qr, qr_matrix

from .sheet_data import plan_for, synthetic_pack

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Sheet:
    """Stand-in for ``layout.Sheet``: the fields the cover reads."""

    number: int
    core: Box


@dataclass
class Rendered:
    pack: Pack
    refs: dict[int, str]
    reader: PdfReader
    register_pages: range  # 0-based page indexes
    plan_pages: range
    steps: int
    pdf_bytes: bytes
    texts: dict[int, str] = dataclasses.field(default_factory=dict)

    def text(self, indexes: range) -> str:
        return "\n".join(self.page(i) for i in indexes)

    def page(self, index: int) -> str:
        if index not in self.texts:
            self.texts[index] = page_text(self.reader, index)
        return self.texts[index]


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def page_text(reader: PdfReader, index: int) -> str:
    """The text of a page. pypdf decodes fpdf2's embedded CID encoding CMap one byte at a time
    and puts a NUL before every character (poppler's pdftotext reads it right); the NULs go."""
    return reader.pages[index].extract_text().replace("\x00", "")


def text_runs(reader: PdfReader, index: int) -> list[str]:
    """Every string a page shows, one per text operation (a lone "1" is a label of its own, not a
    digit of a date)."""
    found: list[str] = []
    reader.pages[index].extract_text(visitor_text=lambda text, *_args: found.append(text))
    return [text.replace("\x00", "").strip() for text in found]


def sheets_and_refs(pack: Pack) -> tuple[list[Sheet], dict[int, str]]:
    """Two sheets side by side over the pack's buildings, and a reference for each building."""
    bounds = [b.footprint.bounds for b in pack.buildings]
    minx, miny = min(b[0] for b in bounds) - 20, min(b[1] for b in bounds) - 20
    maxx, maxy = max(b[2] for b in bounds) + 20, max(b[3] for b in bounds) + 20
    mid = (minx + maxx) / 2
    sheets = [Sheet(1, (minx, miny, mid, maxy)), Sheet(2, (mid, miny, maxx, maxy))]
    refs = {}
    for b in pack.buildings:
        sheet = 1 if b.footprint.centroid.x < mid else 2
        refs[b.id] = f"{sheet}-{'ABCD'[b.id % 4]}{b.id % 3 + 1}"
    return sheets, refs


def render(pack: Pack) -> Rendered:
    sheets, refs = sheets_and_refs(pack)
    steps = 0

    def step(n: int = 1) -> None:
        nonlocal steps
        steps += n

    pdf = new_document(pack.title, made_on=pack.made_on)
    pages.draw_cover(pdf, pack, sheets)
    first = pdf.page_no()
    registers.draw_registers(pdf, pack, refs, step=step)
    register_pages = range(first, pdf.page_no())
    plans.draw_plans(pdf, pack, refs, step=step)
    plan_pages = range(register_pages.stop, pdf.page_no())
    data = bytes(pdf.output())
    reader = PdfReader(io.BytesIO(data))
    return Rendered(pack, refs, reader, register_pages, plan_pages, steps, data)


@pytest.fixture(scope="module")
def small() -> Rendered:
    with translation.override("en"):
        return render(synthetic_pack(with_plans=2))


@pytest.fixture(scope="module")
def large() -> Rendered:
    with translation.override("en"):
        return render(synthetic_pack(blocks_x=6, blocks_y=5, floors=6, with_plans=3))


def rasterise(data: bytes, page: int, tmp_path: Path, dpi: int = 110) -> Image.Image:
    pdf_path = tmp_path / "pack.pdf"
    pdf_path.write_bytes(data)
    out = tmp_path / f"page-{page}"
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", "-gray",
         str(pdf_path), str(out)],
        check=True,
    )  # fmt: skip
    return Image.open(out.with_suffix(".pgm"))


# ---------------------------------------------------------------------------------------------
# QR codes


def test_dark_runs_cover_exactly_the_dark_modules() -> None:
    matrix = qr_matrix("http://127.0.0.1:8000/map/#b=12")
    cells = {(row, col + k) for row, col, length in dark_runs(matrix) for k in range(length)}
    dark = {(r, c) for r, modules in enumerate(matrix) for c, bit in enumerate(modules) if bit}
    assert cells == dark
    # One rectangle per run: far fewer than one per module.
    assert len(dark_runs(matrix)) < len(dark) * 0.7


def test_qr_raster_equals_segno_matrix(tmp_path: Path) -> None:
    url = "http://127.0.0.1:8000/map/#b=4321"
    pdf = new_document("qr")
    add_page(pdf, "a4")
    x, y, size = 20.0, 30.0, 60.0
    module_mm = draw_qr(pdf, url, x, y, size)
    image = rasterise(bytes(pdf.output()), 1, tmp_path, dpi=150)
    expected = segno.make(url, error="m", micro=False, boost_error=False)
    assert expected.error == "M"
    matrix = [list(row) for row in expected.matrix_iter(border=4)]  # with the quiet zone
    assert module_mm == pytest.approx(size / len(matrix))
    px_per_mm = 150 / 25.4
    pixels = np.asarray(image)  # grey, rows × columns

    def dark(row: int, col: int) -> int:
        px = round((x + (col + 0.5) * module_mm) * px_per_mm)
        py = round((y + (row + 0.5) * module_mm) * px_per_mm)
        return int(pixels[py, px] < 128)

    sampled = [[dark(row, col) for col in range(len(matrix))] for row in range(len(matrix))]
    assert sampled == matrix


# ---------------------------------------------------------------------------------------------
# Register pages


@pytest.mark.parametrize("name", ["small", "large"])
def test_register_lists_every_room_in_route_order(
    name: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(name)
    text = rendered.text(rendered.register_pages)
    position = 0
    for building in rendered.pack.buildings:
        position = text.find(building.address, position)
        assert position >= 0, f"{building.address} missing or out of route order"
        for room in building.rooms:
            position = text.find(room.number, position)
            assert position >= 0, f"room {room.number} of {building.address}"
            position = text.find(room.plate, position)
            assert position >= 0, f"door plate {room.plate} of {building.address}"


@pytest.mark.parametrize("name", ["small", "large"])
def test_register_prints_each_reference_next_to_its_address(
    name: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(name)
    text = rendered.text(rendered.register_pages)
    for building in rendered.pack.buildings:
        ref = rendered.refs[building.id]
        assert re.search(re.escape(building.address) + r"\s*Sheet " + re.escape(ref), text), (
            building.address,
            ref,
        )


def test_register_shows_stops_facts_and_qr_per_building(small: Rendered) -> None:
    text = small.text(small.register_pages)
    for building in small.pack.buildings:
        assert building.community in text
        assert building.zone in text
    assert "友谊社区" in text and "1单元101室" in text  # Chinese is extractable as such
    # A building per heading: one QR code (hundreds of small filled rectangles) each is drawn;
    # the steps count buildings for the registers and planned buildings for the plans.
    planned = sum(1 for b in small.pack.buildings if b.plan)
    assert small.steps == len(small.pack.buildings) + planned


def register_page_count(pack: Pack) -> int:
    pdf = new_document(pack.title)
    registers.draw_registers(pdf, pack, sheets_and_refs(pack)[1], step=lambda n=1: None)
    return pdf.page_no()


def test_register_pages_grow_with_rooms() -> None:
    counts = [register_page_count(synthetic_pack(floors=f, with_plans=0)) for f in (2, 6, 12)]
    assert counts[0] < counts[1] < counts[2]


def test_small_buildings_share_a_page() -> None:
    pack = synthetic_pack(floors=1, with_plans=0)  # 4 rooms a building
    assert register_page_count(pack) < len(pack.buildings) / 2


def test_long_building_goes_on_with_its_heading_and_header(tmp_path: Path) -> None:
    pack = synthetic_pack(blocks_x=1, blocks_y=1, per_block=2, floors=20, with_plans=0)
    rendered = render(pack)  # 80 rooms a building: several pages each
    assert len(rendered.register_pages) >= 6
    first = pack.buildings[0]
    for index in rendered.register_pages:
        page = rendered.page(index)
        assert "Last visit" in page and "Notes" in page  # the table header
        if "(continued)" in page or "（continued）" in page:
            assert any(b.address in page for b in pack.buildings)
    continued = [
        i
        for i in rendered.register_pages
        if "continued" in rendered.page(i) and first.address in rendered.page(i)
    ]
    assert continued, "the first building's continuation pages say so"


def test_building_without_rooms_is_listed() -> None:
    pack = synthetic_pack(with_plans=0)
    empty = dataclasses.replace(pack.buildings[2], rooms=())
    pack.buildings[2] = empty
    rendered = render(pack)
    text = rendered.text(rendered.register_pages)
    assert empty.address in text
    assert "No rooms on record" in text
    start = text.find(empty.address)
    assert text.find(pack.buildings[3].address) > start  # and the route goes on after it


def test_register_page_footer_numbers_pages(small: Rendered) -> None:
    for index in small.register_pages:
        page = small.page(index)
        assert f"Page {index + 1}" in page
        assert small.pack.title in page and "2026-12-03" in page


# ---------------------------------------------------------------------------------------------
# Cover


def test_cover_lists_title_facts_totals_and_sheet_numbers(large: Rendered) -> None:
    cover = large.reader.pages[0]
    assert cover.mediabox.width < cover.mediabox.height  # portrait
    text = large.page(0)
    assert large.pack.title in text
    for label, value in large.pack.facts + large.pack.totals:
        assert label in text and value in text
    # The sheet index on the overview: each sheet's number as a label of its own.
    assert {"1", "2"} <= set(text_runs(large.reader, 0))
    assert "友谊社区服务站" in text  # the start's name by its marker


def test_cover_colours_teams_of_a_sweep_atlas() -> None:
    pack = synthetic_pack(with_plans=0)
    pack.kind = PackKind.SWEEP
    half = len(pack.buildings) // 2
    pack.buildings = [
        dataclasses.replace(b, team="一组" if k < half else "二组")
        for k, b in enumerate(pack.buildings)
    ]
    # Teams in the order they come (the sweep's order of teams), as on the maps.
    assert list(team_colours(pack)) == ["一组", "二组"]
    rendered = render(pack)
    text = rendered.page(0)
    assert "一组" in text and "二组" in text  # the legend names the teams


# ---------------------------------------------------------------------------------------------
# Building plans


def test_plans_list_every_room_number(large: Rendered) -> None:
    planned = [b for b in large.pack.buildings if b.plan]
    assert len(planned) == 3
    text = large.text(large.plan_pages)
    position = 0
    for building in planned:
        position = text.find(building.address, position)
        assert position >= 0
        assert large.refs[building.id] in text
        for floor in building.plan:
            for room in floor.rooms:
                assert room.number in text
    assert "1:" in text  # the scale is stated


def test_plan_layout_keeps_one_scale_and_splits_tall_buildings() -> None:
    low = plans.plan_layout(plan_for(3))
    assert low.landscape  # 24 m × 10 m
    assert low.per_page >= 3
    assert low.scale <= plans.PLAN_MAX_SCALE
    tower = plans.plan_layout(plan_for(40))
    assert tower.scale <= plans.PLAN_MAX_SCALE
    assert 1 < -(-40 // tower.per_page) < 40  # several pages, several floors a page


def test_tall_building_plans_run_over_several_pages() -> None:
    pack = synthetic_pack(blocks_x=1, blocks_y=1, per_block=1, floors=30, with_plans=1)
    rendered = render(pack)
    layout = plans.plan_layout(pack.buildings[0].plan)
    assert len(rendered.plan_pages) == -(-30 // layout.per_page) > 1
    text = rendered.text(rendered.plan_pages)
    for floor in range(1, 31):
        assert f"Floor {floor}" in text
        assert f"{floor}04" in text
    assert f"all floors at 1:{layout.scale}" in text


def test_tiny_and_odd_rooms_still_get_their_numbers() -> None:
    ell = box(0, 0, 12, 4).union(box(0, 0, 4, 12))
    floors = (
        PlanFloor(-1, (PlanRoom("B01", box(0, 0, 30, 12)),)),
        PlanFloor(1, (PlanRoom("101", ell), PlanRoom("102", box(12, 0, 12.6, 0.6)))),
    )
    pack = synthetic_pack(blocks_x=1, blocks_y=1, per_block=1, with_plans=0)
    building: BuildingItem = dataclasses.replace(pack.buildings[0], plan=floors)
    pack.buildings = [building]
    rendered = render(pack)
    text = rendered.text(rendered.plan_pages)
    assert "B01" in text and "101" in text and "102" in text
    assert "Basement 1" in text


def test_rasterised_pages_are_not_blank(small: Rendered, tmp_path: Path) -> None:
    for page in (1, small.register_pages.start + 1, small.plan_pages.start + 1):
        image = rasterise(small.pdf_bytes, page, tmp_path)
        assert int((np.asarray(image) < 128).sum()) > 2000, page


def test_registers_print_the_references_of_the_real_layout() -> None:
    pack = synthetic_pack(blocks_x=4, blocks_y=3, floors=2, with_plans=0)
    sheets = layout.plan_sheets(pack)
    refs = layout.references(sheets, pack.buildings)
    pdf = new_document(pack.title, made_on=pack.made_on)
    pages.draw_cover(pdf, pack, sheets)
    registers.draw_registers(pdf, pack, refs, step=lambda n=1: None)
    reader = PdfReader(io.BytesIO(bytes(pdf.output())))
    text = "\n".join(page_text(reader, i) for i in range(1, len(reader.pages)))
    for building in pack.buildings:
        ref = re.escape(refs[building.id])
        assert re.search(re.escape(building.address) + r"\s*Sheet " + ref, text)
    assert {str(sheet.number) for sheet in sheets} <= set(text_runs(reader, 0))


def test_empty_pack_and_building_without_stop_or_reference() -> None:
    pack = synthetic_pack(blocks_x=1, blocks_y=1, per_block=1, with_plans=1)
    loose = dataclasses.replace(pack.buildings[0], stop=None, team="")
    empty = Pack(kind=PackKind.ZONE, title="空", made_on=pack.made_on)
    pdf = new_document("t")
    pages.draw_cover(pdf, empty, [])
    registers.draw_registers(pdf, empty, {}, step=lambda n=1: None)
    assert pdf.page_no() == 1
    pack.buildings = [loose]
    registers.draw_registers(pdf, pack, {}, step=lambda n=1: None)
    plans.draw_plans(pdf, pack, {}, step=lambda n=1: None)
    reader = PdfReader(io.BytesIO(bytes(pdf.output())))
    assert "Nothing to show" in page_text(reader, 0)
    for index in (1, 2):
        text = page_text(reader, index)
        assert loose.address in text and "Not on a sheet" in text
