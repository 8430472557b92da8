"""Resident identity numbers (居民身份证号码, GB 11643-1999): shape, birth date and check digit.

Pure functions, no Django: the register, the exchange import and the tests share them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

# Weights of the 17 body digits: 2^(17-i) mod 11 (ISO 7064 MOD 11-2).
WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
CHECK_CHARACTERS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


class IdNumberError(ValueError):
    """Why a string is not a valid identity number; ``code`` names the rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class IdNumber:
    value: str = field(repr=False)  # 18 characters, upper-case X; never in a traceback
    region: str  # the six-digit region code of first registration
    birth_date: date
    male: bool  # the 17th digit: odd for men, even for women

    def masked(self) -> str:
        return mask(self.value)


def normalise(raw: str) -> str:
    """Strip spaces, full-width digits and a lower-case x: ``" 42060219900101123x"`` → upper."""
    text = raw.strip().translate(_FULL_WIDTH).replace(" ", "").upper()
    return text


_FULL_WIDTH = str.maketrans("０１２３４５６７８９ＸｘＸ", "0123456789XXX")


def check_character(body: str) -> str:
    """The 18th character for 17 body digits.

    >>> check_character("11010519491231002")
    'X'
    """
    total = sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def parse(raw: str, *, today: date | None = None) -> IdNumber:
    """Validate an identity number and read its parts; raises :class:`IdNumberError`."""
    value = normalise(raw)
    if not _SHAPE.match(value):
        raise IdNumberError("id_shape", "an identity number has 17 digits and a digit or X")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdNumberError(
            "id_birth_date", "the birth date in the number does not exist"
        ) from None
    if birth.year < 1880 or birth > (today or date.today()):
        raise IdNumberError("id_birth_date", "the birth date in the number is not plausible")
    if check_character(value[:17]) != value[17]:
        raise IdNumberError("id_check_digit", "the check digit does not match (GB 11643)")
    return IdNumber(value, value[:6], birth, int(value[16]) % 2 == 1)


def mask(value: str) -> str:
    """``420602199001011234`` → ``4206**********1234``: region prefix and last four only.

    >>> mask("420602199001011234")
    '4206**********1234'
    """
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def make(region: str, birth: date, sequence: int, *, male: bool) -> str:
    """A valid number for a region, a birth date and a sequence (demo data and tests)."""
    order = sequence % 500 * 2 + (1 if male else 0)
    body = f"{region}{birth:%Y%m%d}{order:03d}"
    return body + check_character(body)
