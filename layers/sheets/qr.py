"""QR codes drawn as vectors: segno's module matrix as filled rectangles on an fpdf2 page.

Each horizontal run of dark modules is one rectangle (a 33-module code is ~300 rectangles rather
than ~600 squares), drawn slightly wider than its modules so that no hairline gaps show between
neighbouring rows when the page is rasterised. The quiet zone is part of ``size_mm``: it is left
blank (white paper), never drawn over.
"""

from __future__ import annotations

import functools

import segno
from fpdf import FPDF

#: Quiet zone in modules, as the QR standard asks.
QUIET_ZONE = 4
#: Overdraw of each rectangle in module widths (hides anti-aliasing seams between runs).
BLEED = 0.02


@functools.lru_cache(maxsize=512)
def qr_matrix(text: str) -> tuple[bytes, ...]:
    """The module matrix of ``text`` (error correction M, no quiet zone): rows of 0/1. Cached:
    a building's code is drawn on its register and again on its plan; segno spends ~8 ms a code
    choosing the mask (as the standard asks)."""
    return tuple(
        bytes(row) for row in segno.make(text, error="m", micro=False, boost_error=False).matrix
    )


def dark_runs(matrix: tuple[bytes, ...]) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules as (row, first column, length)."""
    runs = []
    for row, modules in enumerate(matrix):
        start = -1
        for col, dark in enumerate(modules):
            if dark and start < 0:
                start = col
            elif not dark and start >= 0:
                runs.append((row, start, col - start))
                start = -1
        if start >= 0:
            runs.append((row, start, len(modules) - start))
    return runs


def draw_qr(
    pdf: FPDF, text: str, x: float, y: float, size_mm: float, *, border: int = QUIET_ZONE
) -> float:
    """Draw the QR code of ``text`` in the square of side ``size_mm`` whose top-left corner is
    (x, y) mm, ``border`` modules of it being the quiet zone. Returns the module size in mm."""
    matrix = qr_matrix(text)
    modules = len(matrix) + 2 * border
    module_mm = size_mm / modules
    left, top = x + border * module_mm, y + border * module_mm
    bleed = BLEED * module_mm
    pdf.set_fill_color(0, 0, 0)
    for row, col, length in dark_runs(matrix):
        pdf.rect(
            left + col * module_mm - bleed,
            top + row * module_mm - bleed,
            length * module_mm + 2 * bleed,
            module_mm + 2 * bleed,
            style="F",
        )
    return module_mm
