"""A pack as one PDF: cover, map sheets, register pages, building plans — in that order."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from . import layout, mappage, pages, plans, registers
from .layout import Sheet
from .pack import Pack
from .pdf import new_document

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    sheets: list[Sheet]
    refs: dict[int, str]  # building id → grid reference ("2-B3")
    # Pages and seconds of each part: "cover", "maps", "registers", "plans".
    parts: dict[str, tuple[int, float]]


def render_pack(pack: Pack, *, progress: Progress | None = None) -> Rendered:
    """The PDF of ``pack``. ``progress(done, total)`` is told after every page group (the
    cover, each map sheet, each building's register and plan)."""
    sheets = layout.plan_sheets(pack)
    refs = layout.references(sheets, pack.buildings)
    planned = [b for b in pack.buildings if b.plan]
    total = 1 + len(sheets) + len(pack.buildings) + len(planned)
    done = 0

    def step(n: int = 1) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    pdf = new_document(pack.title, made_on=pack.made_on)
    parts: dict[str, tuple[int, float]] = {}

    def part(name: str, draw: Callable[[], None]) -> None:
        first, started = pdf.page_no(), time.perf_counter()
        draw()
        parts[name] = (pdf.page_no() - first, time.perf_counter() - started)

    def maps() -> None:
        for sheet in sheets:
            mappage.draw_sheet(pdf, pack, sheet, sheets)
            step()

    def cover() -> None:
        pages.draw_cover(pdf, pack, sheets)
        step()

    part("cover", cover)
    part("maps", maps)
    part("registers", lambda: registers.draw_registers(pdf, pack, refs, step=step))
    part("plans", lambda: plans.draw_plans(pdf, pack, refs, step=step))
    return Rendered(bytes(pdf.output()), pdf.page_no(), sheets, refs, parts)
