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
