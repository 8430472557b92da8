"""Sheet layout: paper, scale, tiling, neighbours and grid references, on synthetic packs (no DB)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import string

import pytest
from shapely.geometry import box

from layers.sheets.layout import (
    EXTENT_BUFFER_M,
    OVERLAP_MM,
    SCALES,
    Sheet,
    column_letter,
    locate,
    page_layout,
    plan_sheets,
    references,
)
from layers.sheets.pack import Pack, Paper

from .sheet_data import synthetic_pack

OPPOSITE = {"N": "S", "NE": "SW", "E": "W", "SE": "NW", "S": "N", "SW": "NE", "W": "E", "NW": "SE"}


def expected_cell(sheet: Sheet, x: float, y: float) -> str:
    """The cell computed from the frame and the grid size, independently of the layout code."""
    minx, miny, maxx, maxy = sheet.frame
    col = math.floor((x - minx) / ((maxx - minx) / sheet.cols))
    row = math.floor((maxy - y) / ((maxy - miny) / sheet.rows))
    return f"{string.ascii_uppercase[col]}{row + 1}"


def fits(pack: Pack, paper: str, landscape: bool, scale: int) -> bool:
    points = [b.footprint for b in pack.buildings] + [leg.line for leg in pack.routes]
    minx = min(g.bounds[0] for g in points) - EXTENT_BUFFER_M
    miny = min(g.bounds[1] for g in points) - EXTENT_BUFFER_M
    maxx = max(g.bounds[2] for g in points) + EXTENT_BUFFER_M
    maxy = max(g.bounds[3] for g in points) + EXTENT_BUFFER_M
    frame = page_layout(paper, landscape).frame
    return (maxx - minx) * 1000 / scale <= frame[2] and (maxy - miny) * 1000 / scale <= frame[3]


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 1, 25, 26, 27)] == ["A", "B", "Z", "AA", "AB"]


@pytest.mark.parametrize("paper", ["a4", "a3"])
@pytest.mark.parametrize("landscape", [False, True])
def test_page_layout_keeps_frame_and_strip_on_the_page(paper: str, landscape: bool) -> None:
    layout = page_layout(paper, landscape)
    width, height = layout.page
    assert (width > height) == landscape
    for left, top, w, h in (layout.frame, layout.strip):
        assert left >= 8.0 and top >= 8.0
        assert left + w <= width - 8.0 + 1e-9 and top + h <= height - 8.0 + 1e-9
    # The frame and the strip do not overlap.
    assert not box(*_ltrb(layout.frame)).intersects(box(*_ltrb(layout.strip)))


def _ltrb(area: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    return (area[0], area[1], area[0] + area[2], area[1] + area[3])


def test_one_building_is_one_sheet_at_the_finest_scale_that_fits() -> None:
    pack = synthetic_pack(blocks_x=1, blocks_y=1, per_block=1)
    pack.buildings = pack.buildings[:1]
    sheets = plan_sheets(pack)
    assert len(sheets) == 1
    sheet = sheets[0]
    assert sheet.number == 1 and sheet.neighbours == {}
    assert sheet.core == sheet.frame
    assert fits(pack, sheet.paper, sheet.landscape, sheet.scale)
    finer = [s for s in SCALES if s < sheet.scale]
    for scale, paper, landscape in itertools.product(finer, ["a4", "a3"], [False, True]):
        assert not fits(pack, paper, landscape, scale)
    refs = references(sheets, pack.buildings)
    point = pack.buildings[0].footprint.representative_point()
    assert refs == {1: f"1-{expected_cell(sheet, point.x, point.y)}"}
    # The frame is the map frame of the page at that scale, centred on the building.
    frame = page_layout(sheet.paper, sheet.landscape).frame
    minx, miny, maxx, maxy = sheet.frame
    assert (maxx - minx) * 1000 / sheet.scale == pytest.approx(frame[2])
    assert (maxy - miny) * 1000 / sheet.scale == pytest.approx(frame[3])
    assert box(*sheet.frame).contains(pack.buildings[0].footprint)


def test_a_small_pack_prefers_one_sheet_and_the_finer_scale() -> None:
    pack = synthetic_pack()
    sheets = plan_sheets(pack)
    assert len(sheets) == 1
    assert all(
        not fits(pack, paper, landscape, scale)
        for scale in SCALES
        if scale < sheets[0].scale
        for paper in ("a4", "a3")
        for landscape in (False, True)
    )
    # Among the options at that scale, A4 wins over A3.
    if fits(pack, "a4", False, sheets[0].scale) or fits(pack, "a4", True, sheets[0].scale):
        assert sheets[0].paper == "a4"


@pytest.fixture(scope="module")
def large() -> tuple[Pack, list[Sheet], dict[int, str]]:
    pack = synthetic_pack(blocks_x=12, blocks_y=10, paper=Paper.A4)
    sheets = plan_sheets(pack)
    return pack, sheets, references(sheets, pack.buildings)


def test_a_large_pack_is_tiled_at_the_coarsest_scale(
    large: tuple[Pack, list[Sheet], dict[int, str]],
) -> None:
    _pack, sheets, _refs = large
    assert len(sheets) > 1
    assert {s.scale for s in sheets} == {SCALES[-1]}
    assert {(s.paper, s.landscape, s.cols, s.rows) for s in sheets} == {
        (sheets[0].paper, sheets[0].landscape, sheets[0].cols, sheets[0].rows)
    }
    assert [s.number for s in sheets] == list(range(1, len(sheets) + 1))
    # Reading order: rows from the north, then west to east.
    order = sorted(sheets, key=lambda s: (-round(s.core[3], 3), round(s.core[0], 3)))
    assert [s.number for s in order] == [s.number for s in sheets]
    # Cores do not overlap; each lies in its frame.
    for a, b in itertools.combinations(sheets, 2):
        assert box(*a.core).intersection(box(*b.core)).area == pytest.approx(0.0, abs=1e-6)
    for s in sheets:
        assert box(*s.frame).contains(box(*s.core))


def test_every_building_has_exactly_one_reference_that_the_map_prints(
    large: tuple[Pack, list[Sheet], dict[int, str]],
) -> None:
    pack, sheets, refs = large
    by_number = {s.number: s for s in sheets}
    assert set(refs) == {b.id for b in pack.buildings}
    for building in pack.buildings:
        point = building.footprint.representative_point()
        number, cell = refs[building.id].split("-")
        sheet = by_number[int(number)]
        minx, miny, maxx, maxy = sheet.core
        assert minx <= point.x <= maxx and miny <= point.y <= maxy
        assert cell == expected_cell(sheet, point.x, point.y)
        assert cell[0] in string.ascii_uppercase[: sheet.cols]
        assert 1 <= int(cell[1:]) <= sheet.rows
        # The reference names the only sheet whose core (half-open) holds the point.
        holders = [
            s.number
            for s in sheets
            if s.core[0] <= point.x < s.core[2] and s.core[1] <= point.y < s.core[3]
        ]
        assert holders == [sheet.number]


def test_neighbours_are_symmetric_and_frames_overlap(
    large: tuple[Pack, list[Sheet], dict[int, str]],
) -> None:
    _pack, sheets, _refs = large
    by_number = {s.number: s for s in sheets}
    assert any(s.neighbours for s in sheets)
    overlap_m = OVERLAP_MM * sheets[0].scale / 1000
    for sheet in sheets:
        for direction, number in sheet.neighbours.items():
            other = by_number[number]
            assert other.neighbours[OPPOSITE[direction]] == sheet.number
            if direction == "E":
                assert sheet.frame[2] - other.frame[0] == pytest.approx(overlap_m)
                assert sheet.core[2] == pytest.approx(other.core[0])
            if direction == "S":
                assert other.frame[3] - sheet.frame[1] == pytest.approx(overlap_m)
                assert other.core[3] == pytest.approx(sheet.core[1])


@pytest.mark.parametrize("paper", [Paper.A4, Paper.A3])
def test_paper_follows_the_pack(paper: Paper) -> None:
    for pack in (synthetic_pack(paper=paper), synthetic_pack(blocks_x=8, blocks_y=6, paper=paper)):
        assert {s.paper for s in plan_sheets(pack)} == {paper.value}


def test_auto_paper_takes_the_fewest_sheets() -> None:
    pack = synthetic_pack(blocks_x=12, blocks_y=10)
    auto = len(plan_sheets(pack))
    a4 = len(plan_sheets(dataclasses.replace(pack, paper=Paper.A4)))
    a3 = len(plan_sheets(dataclasses.replace(pack, paper=Paper.A3)))
    assert auto == min(a4, a3)


def test_empty_parts_of_the_extent_get_no_sheet() -> None:
    pack = synthetic_pack(blocks_x=12, blocks_y=10, paper=Paper.A4)
    corners = [pack.buildings[0], pack.buildings[-1]]  # south-west and north-east
    sparse = dataclasses.replace(pack, buildings=corners, routes=[], start=None)
    sheets = plan_sheets(sparse)
    full = plan_sheets(dataclasses.replace(pack, routes=[], start=None))
    assert len(sheets) == 2 < len(full)
    refs = references(sheets, corners)
    assert sorted(refs[b.id].split("-")[0] for b in corners) == ["1", "2"]
    # The two sheets are far apart: no neighbours.
    assert all(s.neighbours == {} for s in sheets)


def test_locate_outside_every_core_is_none(large: tuple[Pack, list[Sheet], dict[int, str]]) -> None:
    _pack, sheets, _refs = large
    minx = min(s.core[0] for s in sheets)
    assert locate(sheets, minx - 1000.0, sheets[0].core[1]) is None
    sheet = sheets[0]
    x, y = (sheet.core[0] + sheet.core[2]) / 2, (sheet.core[1] + sheet.core[3]) / 2
    assert locate(sheets, x, y) == (sheet.number, expected_cell(sheet, x, y))
