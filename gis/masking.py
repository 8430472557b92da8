"""Masking of personal contact data for display: the full value never reaches a page or export."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """``13812345678`` → ``138****5678``; short numbers keep only their last two digits.

    >>> mask_phone("13812345678")
    '138****5678'
    >>> mask_phone("")
    ''
    """
    if not phone:
        return ""
    if len(phone) >= 11:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * max(len(phone) - 2, 2) + phone[-2:]


#: What a spreadsheet program reads as the start of a formula (or of a cell it will evaluate).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: object) -> object:
    """A typed text as a spreadsheet cell: one starting like a formula gets a leading ``'`` so that
    it stays text (names, notes and reasons are typed by users; ``=HYPERLINK(…)`` must not run).
    Other values pass unchanged.

    >>> spreadsheet_text("=1+1")
    "'=1+1"
    >>> spreadsheet_text("张三")
    '张三'
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
