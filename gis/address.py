"""Standard addresses after GB/T 35639-2017 (地名 地址编码规则).

A standard address is composed, from the largest unit to the smallest, of::

    省 province / 市 city / 区县 district / 街道 street office / 社区 community
    / 路街巷 road / 门牌号 door-plate number / 小区 compound / 栋 building
    / 单元 entrance / 层 floor / 室 room

This module turns such addresses into :class:`AddressParts` and back, and makes
normalised keys for searching.  It is pure Python (standard library only) so it
can be used from importers, management commands and tests without Django.

Decisions
---------
* Numbers (door plate, building, entrance, floor, room) are kept as ASCII
  strings, never ints: ``"12-1"``, ``"12附3"``, ``"7A"`` and ``"0501"`` must
  survive.  Full-width digits are normalised (NFKC) and Chinese numerals that
  are used as numbers (``十二号``, ``三栋``, ``五零一室``) are converted.  ASCII
  letters inside numbers are upper-cased (``12a号`` → ``"12A"``).  ``12之1号``
  is stored as ``"12-1"`` and ``12号附3号`` as ``"12附3"``.
* Named parts (district, road, compound, ...) keep their own suffix and are
  stored exactly as written (``"樊城区"``, ``"人民路"``, ``"人民路社区居委会"``).
* The floor is implied by a room number of three or four digits: room ``501``
  is on floor 5 and room ``1203`` on floor 12 (the floor is the room number
  without its last two digits).  :func:`parse_address` fills ``floor`` in this
  way when the text names a room but no floor, and :func:`format_address`
  does not print the floor when a room is given.  Rooms of other shapes
  (``"12"``, ``"501A"``, ``"10203"``) imply no floor.
* Round trip: for a canonical address ``x`` (one written the way
  :func:`format_address` writes it), ``format_address(parse_address(x).parts)
  == x``; and for parts whose floor is the one implied by their room (or which
  have no room), ``parse_address(format_address(parts)).parts == parts``.

Parsing is a small dynamic programme over the normalised text: at every
position every reading of the following characters as an address part is
tried (a name ending in one of the part's suffixes, a number followed by one of
the part's suffixes, ...), the parts must come in GB/T 35639 order, and the
reading that leaves the fewest characters unplaced wins.  Among equally good
readings the one with the fewest "bare" numbers (numbers without a suffix, see
:func:`parse_address`) wins, then the one with the most parts, then the one
that reads a name as the higher-level part (``幸福里`` is a road rather than a
compound, a lone ``老河口市`` is a city rather than a county-level city).

Limitations
-----------
* Names are runs of CJK characters ending in a known suffix: ``建设1路``,
  ``G316国道``, compounds without a suffix (``东方明珠``) and prefixes without
  one (``湖北襄阳``) are not recognised; on the other hand a name absorbs any
  unknown CJK text in front of it (``湖北襄阳樊城区`` is one district).
* ``12号院``, ``春园小区12号`` (building 12?) and ``3-501`` are left unparsed
  rather than guessed.
* Basement floors are written ``负1层`` (stored ``"-1"``); ``地下1层`` and
  ``B1`` are not understood.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, fields

__all__ = [
    "AddressParts",
    "ParsedAddress",
    "chinese_numeral_to_int",
    "format_address",
    "normalise_digits",
    "parse_address",
    "search_key",
]


# ---------------------------------------------------------------------------
# Data classes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressParts:
    """The parts of a standard address, in GB/T 35639 order.

    Every field is optional and ``None`` when absent.  Named parts keep their
    suffix (``district="樊城区"``); numbered parts are ASCII strings without
    their suffix (``building="3"`` for 3栋).

    Attributes
    ----------
    province : str or None
        Province-level division, e.g. ``"湖北省"``.
    city : str or None
        Prefecture-level city, e.g. ``"襄阳市"``.
    district : str or None
        District, county or county-level city, e.g. ``"樊城区"``.
    street_office : str or None
        Sub-district (街道), town (镇) or township (乡), e.g. ``"清河口街道"``.
    community : str or None
        Community or village committee, e.g. ``"人民路社区"``.
    road : str or None
        Road, street, lane, e.g. ``"人民路"``.
    number : str or None
        Door-plate number along the road, e.g. ``"12"``, ``"12-1"``, ``"12附3"``.
    compound : str or None
        Residential compound or named building group, e.g. ``"春园小区"``.
    building : str or None
        Building number, e.g. ``"3"`` or ``"A"``.
    entrance : str or None
        Unit / entrance / stairway number, e.g. ``"2"``.
    floor : str or None
        Floor number, e.g. ``"5"`` (``"-1"`` for the first basement level).
    room : str or None
        Room number, e.g. ``"501"``.

    Examples
    --------
    >>> AddressParts(road="人民路", number="12").is_empty()
    False
    >>> AddressParts().is_empty()
    True
    """

    province: str | None = None
    city: str | None = None
    district: str | None = None
    street_office: str | None = None
    community: str | None = None
    road: str | None = None
    number: str | None = None
    compound: str | None = None
    building: str | None = None
    entrance: str | None = None
    floor: str | None = None
    room: str | None = None

    def is_empty(self) -> bool:
        """Return True when no part is set.

        Returns
        -------
        bool
            ``True`` if every field is ``None`` (or the empty string).

        Examples
        --------
        >>> AddressParts(room="501").is_empty()
        False
        """
        return not any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class ParsedAddress:
    """The result of :func:`parse_address`.

    Attributes
    ----------
    parts : AddressParts
        What could be placed.
    unparsed : tuple of str
        The pieces of the (NFKC-normalised) input that could not be placed, in
        input order, so that the caller can report ``could not parse 'xyz'``.
        Separators (spaces, commas, ...) split pieces and are never reported.

    Examples
    --------
    >>> result = parse_address("人民路12号xyz")
    >>> result.parts.number, result.unparsed, result.ok
    ('12', ('xyz',), False)
    """

    parts: AddressParts
    unparsed: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when something was parsed and nothing was left over."""
        return not self.unparsed and not self.parts.is_empty()


# ---------------------------------------------------------------------------
# Numerals
# ---------------------------------------------------------------------------

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_WAN = "万"
# Characters that may form a number inside an address (no 万: no address
# number is that large, and 万 is common in names such as 万达广场).
_CN_NUM_CHARS = "零〇一二两三四五六七八九十百千"


def _bad_numeral(text: str, why: str) -> ValueError:
    return ValueError(f"invalid Chinese numeral {text!r}: {why}")


def _ascii_digits(text: str) -> str:
    """Replace every Unicode decimal digit (full-width, ...) by its ASCII digit."""
    out = []
    for ch in text:
        if not ch.isascii() and ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        else:
            out.append(ch)
    return "".join(out)


def _numeral_section(section: str, text: str, implied: int | None) -> int:
    """Value of a numeral below 10000 written with 十/百/千 (e.g. 一千零五十)."""
    value = 0
    digit: int | None = None
    last_unit: int | None = None
    zero = False
    for index, ch in enumerate(section):
        if ch in _CN_DIGITS:
            d = _CN_DIGITS[ch]
            if digit is not None:
                raise _bad_numeral(text, "two digits in a row")
            if d == 0:
                zero = True
            else:
                digit = d
            continue
        unit = _CN_UNITS[ch]
        if last_unit is not None and unit >= last_unit:
            raise _bad_numeral(text, f"{ch!r} out of order")
        if digit is None:
            if unit == 10 and index == 0:
                digit = 1  # 十二 = 12
            else:
                raise _bad_numeral(text, f"{ch!r} without a digit")
        value += digit * unit
        last_unit = unit
        digit = None
        zero = False
    if digit is not None:
        if zero:
            value += digit  # 一百零五 = 105
        elif last_unit is not None:
            value += digit * (last_unit // 10)  # 一百五 = 150, 十二 = 12
        elif implied is not None:
            value += digit * implied  # 三万五 = 35000
        else:
            value += digit
    return value


def chinese_numeral_to_int(text: str) -> int:
    """Convert a Chinese numeral (or a string of digits) to an int.

    Two ways of writing are accepted:

    * with units 十/百/千/万: ``十二`` = 12, ``二十三`` = 23, ``一百零五`` = 105,
      the colloquial ``一百五`` = 150 and ``三千二`` = 3200;
    * digit by digit, as room and door numbers are read aloud:
      ``五零一`` = 501, ``二〇二三`` = 2023.

    ASCII and full-width decimal digits are accepted too (``"１２"`` = 12).
    ``两`` counts as 2, ``〇`` as 0.

    Parameters
    ----------
    text : str
        The numeral, without surrounding text.

    Returns
    -------
    int
        Its value.

    Raises
    ------
    ValueError
        If ``text`` is empty or not a well-formed numeral; the message names
        ``text``.

    Examples
    --------
    >>> chinese_numeral_to_int("十二")
    12
    >>> chinese_numeral_to_int("一百零五")
    105
    >>> chinese_numeral_to_int("五零一")
    501
    >>> chinese_numeral_to_int("十十")
    Traceback (most recent call last):
    ...
    ValueError: invalid Chinese numeral '十十': '十' out of order
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    s = _ascii_digits(unicodedata.normalize("NFKC", text)).strip()
    if not s:
        raise _bad_numeral(text, "empty")
    if s.isascii() and s.isdigit():
        return int(s)
    if all(ch in _CN_DIGITS for ch in s):
        return int("".join(str(_CN_DIGITS[ch]) for ch in s))
    for ch in s:
        if ch not in _CN_DIGITS and ch not in _CN_UNITS and ch != _CN_WAN:
            raise _bad_numeral(text, f"unexpected character {ch!r}")
    if s.count(_CN_WAN) > 1:
        raise _bad_numeral(text, "more than one '万'")
    if _CN_WAN in s:
        high, low = s.split(_CN_WAN)
        if not high:
            raise _bad_numeral(text, "'万' without a digit")
        value = _numeral_section(high, text, None) * 10_000
        if low:
            value += _numeral_section(low, text, 1000)
        return value
    return _numeral_section(s, text, None)


def _number_token(token: str) -> str:
    """Normalise one number token to ASCII digits, keeping leading zeros.

    Raises ValueError for an invalid Chinese numeral.
    """
    if token.isascii() and token.isdigit():
        return token
    if all(ch in _CN_DIGITS for ch in token):
        return "".join(str(_CN_DIGITS[ch]) for ch in token)
    return str(chinese_numeral_to_int(token))


_CN_RUN = f"[{_CN_NUM_CHARS}]+"
# Suffixes after which a Chinese numeral is a number.  A strong suffix is
# (almost) never part of a place name; a weak one is (三门峡, 五座山), so a
# numeral before it is only converted when the suffix is followed by the end,
# a non-CJK character or another numeral.
_STRONG_NUMBER_SUFFIXES = ("号楼", "号", "栋", "幢", "单元", "层", "室")
_WEAK_NUMBER_SUFFIXES = ("座", "楼", "门", "梯", "房", "户")
_NUMERAL_IN_ADDRESS_RE = re.compile(
    rf"(?<=附){_CN_RUN}|{_CN_RUN}(?=(?:"
    + "|".join(_STRONG_NUMBER_SUFFIXES + _WEAK_NUMBER_SUFFIXES)
    + "))"
)


def normalise_digits(text: str) -> str:
    """Write the digits of an address in ASCII.

    Every Unicode decimal digit (full-width ``１２``, ...) becomes its ASCII
    digit, and every Chinese numeral used as a number -- directly followed by a
    number suffix (号, 号楼, 栋, 幢, 座, 单元, 门, 梯, 层, 楼, 室, 房, 户) or
    following 附 -- becomes ASCII digits.  Numerals inside names (``建设一路``,
    ``三元里``, ``三门峡市``) are left alone, as is anything that is not a
    valid numeral.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        ``text`` with its digits normalised; nothing else is changed.

    Examples
    --------
    >>> normalise_digits("人民路１２号三栋二单元五零一室")
    '人民路12号3栋2单元501室'
    >>> normalise_digits("建设一路十二号")
    '建设一路12号'
    >>> normalise_digits("三门峡市")
    '三门峡市'
    """
    s = _ascii_digits(text)

    def convert(match: re.Match[str]) -> str:
        token = match.group()
        rest = s[match.end() :]
        for suffix in _WEAK_NUMBER_SUFFIXES:
            if rest.startswith(suffix):
                after = rest[len(suffix) : len(suffix) + 1]
                if after and _is_cjk(after) and after not in _CN_NUM_CHARS:
                    return token
                break
        try:
            return _number_token(token)
        except ValueError:
            return token

    return _NUMERAL_IN_ADDRESS_RE.sub(convert, s)


# ---------------------------------------------------------------------------
# Character classes and text preparation
# ---------------------------------------------------------------------------


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def _is_sep(ch: str) -> bool:
    """Separators: whitespace and punctuation, but not ``-`` and ``#``."""
    if ch.isspace():
        return True
    if ch in "-#":
        return False
    return unicodedata.category(ch)[0] in "PZ" or ch in "|~"


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _is_digitlike(ch: str) -> bool:
    return _is_ascii_alnum(ch) or ch in _CN_NUM_CHARS


_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58", "-"))
_SPACE_RE = re.compile(r"\s+")
_HYPHEN_RE = re.compile(r"-+")


def _prepare(text: str) -> str:
    """NFKC-normalise and tidy spaces and hyphens for parsing.

    A run of whitespace is dropped when it sits between a digit-like character
    (ASCII letter or digit, Chinese numeral) and another kind of character, as
    in ``12 号`` or ``人民路 12``; otherwise it is kept as one space, a
    separator (``樊城区 人民路``, ``12 3栋``).  A hyphen is kept only between
    two digit-like characters (``12-1``, ``3-2-501``); elsewhere it becomes a
    separator.
    """
    s = _ascii_digits(unicodedata.normalize("NFKC", text).translate(_DASHES)).strip()

    def space(match: re.Match[str]) -> str:
        before, after = s[match.start() - 1], s[match.end()]
        if _is_sep(before) or _is_sep(after):
            return " "
        return "" if _is_digitlike(before) != _is_digitlike(after) else " "

    s = _SPACE_RE.sub(space, s)

    def hyphen(match: re.Match[str]) -> str:
        start, end = match.start(), match.end()
        if (
            len(match.group()) == 1
            and start > 0
            and end < len(s)
            and _is_digitlike(s[start - 1])
            and _is_digitlike(s[end])
        ):
            return "-"
        return " "

    return _HYPHEN_RE.sub(hyphen, s)


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

_FIELDS = tuple(f.name for f in fields(AddressParts))
(
    _PROVINCE,
    _CITY,
    _DISTRICT,
    _STREET_OFFICE,
    _COMMUNITY,
    _ROAD,
    _NUMBER,
    _COMPOUND,
    _BUILDING,
    _ENTRANCE,
    _FLOOR,
    _ROOM,
) = range(len(_FIELDS))

# Named parts: (level, suffixes).  Longer suffixes first.
_NAMED_SUFFIXES: tuple[tuple[int, tuple[str, ...]], ...] = (
    (_PROVINCE, ("特别行政区", "自治区", "省")),
    (_CITY, ("自治州", "地区", "市", "盟")),
    (_DISTRICT, ("自治县", "自治旗", "区", "县", "旗", "市")),
    (_STREET_OFFICE, ("街道办事处", "街道办", "街道", "办事处", "镇", "乡")),
    (
        _COMMUNITY,
        (
            "社区居民委员会",
            "社区居委会",
            "居民委员会",
            "村民委员会",
            "社区",
            "居委会",
            "村委会",
            "村",
        ),
    ),
    (_ROAD, ("大道", "胡同", "路", "街", "巷", "道", "里", "弄")),
    (
        _COMPOUND,
        (
            "小区",
            "花园",
            "公寓",
            "大厦",
            "广场",
            "市场",
            "新村",
            "家园",
            "苑",
            "园",
            "城",
            "府",
            "庭",
            "湾",
            "里",
        ),
    ),
)
# A name never starts with these: they belong to a number (12号春园 is not a
# compound "号春园").
_NAME_BAD_STARTS = ("号", "栋", "幢", "单元", "层", "室", "附", "之")

_NUM = rf"(?:[0-9]+|{_CN_RUN})"
_NUMBER_RES = (
    re.compile(
        rf"(?P<a>{_NUM})(?:(?:-|之)(?P<b>{_NUM})|(?P<l>[A-Za-z]))?号(?:附(?P<c>{_NUM})号?)?"
    ),
    re.compile(rf"(?P<a>{_NUM})?附(?P<c>{_NUM})号?"),
)
_BARE_NUMBER_RE = re.compile(
    r"(?P<a>[0-9]+)(?:(?:-|之)(?P<b>[0-9]+)|附(?P<c>[0-9]+)|(?P<l>[A-Za-z]))?"
)
_SHORTHAND_RE = re.compile(
    r"(?P<b>[0-9]+[A-Za-z]?)-(?P<e>[0-9]+[A-Za-z]?)-(?P<r>[0-9]+[A-Za-z]?)(?P<s>室|房|户)?"
)
_BUILDING_RE = re.compile(rf"(?P<v>{_NUM}[A-Za-z]?|[A-Za-z])(?P<s>栋|幢|号楼|座|#楼|#|楼)")
_ENTRANCE_RE = re.compile(rf"(?P<v>{_NUM}[A-Za-z]?|[A-Za-z])(?:单元|门|梯)")
_FLOOR_RE = re.compile(rf"(?P<neg>负)?(?P<v>{_NUM})(?P<s>层|楼)")
_ROOM_RE = re.compile(rf"(?P<v>{_NUM}[A-Za-z]?)(?:室|房|户)")
_BARE_ROOM_RE = re.compile(r"[0-9]{3,5}[A-Za-z]?")

# Conditions on the part read before a candidate.
_AFTER_ROAD = "after_road"  # bare door number: 人民路12
_BARE_ROOM = "bare_room"  # bare room: 3栋501
_BUILDING_LOU = "building_lou"  # N楼 as a building: no door number yet
_FLOOR_LOU = "floor_lou"  # N楼 as a floor: after building/entrance or door number


@dataclass(frozen=True)
class _Candidate:
    end: int
    first: int  # lowest level assigned
    last: int  # highest level assigned
    values: tuple[tuple[int, str], ...]
    condition: str | None = None
    bare: int = 0


def _allowed(cand: _Candidate, level: int, has_number: bool) -> bool:
    if cand.first <= level:
        return False
    if cand.condition is None:
        return True
    if cand.condition == _AFTER_ROAD:
        return level == _ROAD
    if cand.condition == _BARE_ROOM:
        return level in (_NUMBER, _BUILDING, _ENTRANCE, _FLOOR)
    if cand.condition == _BUILDING_LOU:
        return not has_number
    if cand.condition == _FLOOR_LOU:
        return has_number or level in (_BUILDING, _ENTRANCE)
    raise AssertionError(cand.condition)  # pragma: no cover


def _value(token: str, letter: str | None = None) -> str:
    """ASCII form of a number token with an optional trailing letter."""
    if token and token[-1].isascii() and token[-1].isalpha():
        token, letter = token[:-1], token[-1]
    value = _number_token(token) if token else ""
    return value + (letter.upper() if letter else "")


def _door_number(match: re.Match[str]) -> str:
    groups = match.groupdict()
    value = _value(groups["a"]) if groups.get("a") else ""
    if groups.get("b"):
        value += "-" + _value(groups["b"])
    if groups.get("l"):
        value += groups["l"].upper()
    if groups.get("c"):
        value += "附" + _value(groups["c"])
    return value


def _suffix_ends(s: str) -> dict[int, list[tuple[int, int]]]:
    """Map each end position of a named-part suffix in ``s`` to (level, length).

    The length is that of the shortest suffix of that level ending there.
    """
    ends: dict[int, list[tuple[int, int]]] = {}
    for level, suffixes in _NAMED_SUFFIXES:
        found: dict[int, int] = {}
        for suffix in suffixes:
            start = s.find(suffix)
            while start != -1:
                end = start + len(suffix)
                found[end] = min(found.get(end, len(suffix)), len(suffix))
                start = s.find(suffix, start + 1)
        for end, length in found.items():
            ends.setdefault(end, []).append((level, length))
    return ends


def _named_candidates(
    s: str, i: int, run_end: int, ends: dict[int, list[tuple[int, int]]]
) -> list[_Candidate]:
    """Names starting at ``i`` and ending in a suffix within the CJK run."""
    if any(s.startswith(bad, i) for bad in _NAME_BAD_STARTS):
        return []
    out = []
    for end in range(run_end, i + 1, -1):  # longest first
        for level, length in ends.get(end, ()):
            name = s[i:end]
            if len(name) <= length:
                continue  # a bare suffix is no name
            if name.endswith("市") and s.startswith("场", end):
                continue  # 农贸市场 is no city
            if level == _DISTRICT and name.endswith(("小区", "社区")):
                continue
            if level == _COMMUNITY and name.endswith("新村"):
                continue  # a compound
            out.append(_Candidate(end, level, level, ((level, name),)))
    out.sort(key=lambda cand: cand.first)  # stable: by level, then longest first
    return out


def _numeric_candidates(s: str, i: int) -> list[_Candidate]:
    if i > 0:
        before, here = s[i - 1], s[i]
        if (
            (before.isascii() and before.isdigit())
            or (before.isascii() and before.isalpha() and here.isascii() and here.isalpha())
            or (before in _CN_NUM_CHARS and here in _CN_NUM_CHARS)
        ):
            return []  # never start inside a number or a word
    out: list[_Candidate] = []

    def ends_cleanly(end: int) -> bool:
        return end >= len(s) or not _is_ascii_alnum(s[end])

    def add(
        regex: re.Pattern[str],
        build: Callable[[re.Match[str]], _Candidate | None],
        bare: bool = False,
    ) -> None:
        match = regex.match(s, i)
        if match is None or (bare and not ends_cleanly(match.end())):
            return
        try:
            cand = build(match)
        except ValueError:
            return  # not a valid numeral
        if cand is not None:
            out.append(cand)

    for regex in _NUMBER_RES:
        add(
            regex,
            lambda m: _Candidate(m.end(), _NUMBER, _NUMBER, ((_NUMBER, _door_number(m)),)),
        )
    add(
        _SHORTHAND_RE,
        lambda m: (
            _Candidate(
                m.end(),
                _BUILDING,
                _ROOM,
                (
                    (_BUILDING, _value(m["b"])),
                    (_ENTRANCE, _value(m["e"])),
                    (_ROOM, _value(m["r"])),
                ),
            )
            if m["s"] or ends_cleanly(m.end())
            else None
        ),
    )
    add(
        _BUILDING_RE,
        lambda m: _Candidate(
            m.end(),
            _BUILDING,
            _BUILDING,
            ((_BUILDING, _value(m["v"])),),
            _BUILDING_LOU if m["s"] == "楼" else None,
        ),
    )
    add(
        _ENTRANCE_RE,
        lambda m: _Candidate(m.end(), _ENTRANCE, _ENTRANCE, ((_ENTRANCE, _value(m["v"])),)),
    )
    add(
        _FLOOR_RE,
        lambda m: _Candidate(
            m.end(),
            _FLOOR,
            _FLOOR,
            ((_FLOOR, ("-" if m["neg"] else "") + _value(m["v"])),),
            _FLOOR_LOU if m["s"] == "楼" else None,
        ),
    )
    add(_ROOM_RE, lambda m: _Candidate(m.end(), _ROOM, _ROOM, ((_ROOM, _value(m["v"])),)))
    add(
        _BARE_NUMBER_RE,
        lambda m: _Candidate(
            m.end(), _NUMBER, _NUMBER, ((_NUMBER, _door_number(m)),), _AFTER_ROAD, 1
        ),
        bare=True,
    )
    add(
        _BARE_ROOM_RE,
        lambda m: _Candidate(m.end(), _ROOM, _ROOM, ((_ROOM, _value(m.group())),), _BARE_ROOM, 1),
        bare=True,
    )
    return out


def _all_candidates(s: str) -> list[list[_Candidate]]:
    """Every reading of ``s[i:]``'s start as one or more parts, for each i.

    Ordered by level and, for names, longest first: among equally good readings
    the first one wins.
    """
    ends = _suffix_ends(s)
    out: list[list[_Candidate]] = []
    run_end = 0
    for i, ch in enumerate(s):
        cands: list[_Candidate] = []
        if _is_cjk(ch):
            if run_end <= i:
                run_end = i
                while run_end < len(s) and _is_cjk(s[run_end]):
                    run_end += 1
            cands = _named_candidates(s, i, run_end, ends)
        cands.extend(_numeric_candidates(s, i))
        out.append(cands)
    return out


def _floor_from_room(room: str | None) -> str | None:
    """Floor implied by a room number of 3 or 4 digits (501 → 5, 1203 → 12)."""
    if room is None or not re.fullmatch(r"[0-9]{3,4}", room):
        return None
    floor = int(room[:-2])
    return str(floor) if floor > 0 else None


_Cost = tuple[int, int, int]  # (unparsed characters, bare numbers, -parts)


def parse_address(text: str) -> ParsedAddress:
    """Parse a written address into its GB/T 35639 parts.

    The text is NFKC-normalised first (full-width digits, letters and
    punctuation become ASCII).  Spaces, commas, ``，``, ``、`` and other
    punctuation separate pieces and are otherwise ignored.  Parts must come in
    the standard order (province ... room); each part may be missing.

    Recognised forms:

    * province ``省/自治区``, city ``市/自治州/地区/盟``, district
      ``区/县/旗/市`` (a second ``市`` after a city is a county-level city);
    * street office ``街道/街道办事处/街道办/镇/乡``;
    * community ``社区/居委会/村委会/村`` (``X新村`` is a compound);
    * road ``路/街/大道/巷/道/胡同/里/弄`` -- the whole name up to the suffix,
      so ``人民东路``, ``建设一路`` and ``中山大道`` are roads;
    * door number ``12号``, ``12-1号``, ``12之1号`` (→ ``"12-1"``),
      ``12A号``, ``12附3号`` / ``12号附3号`` (→ ``"12附3"``), ``附3号``, and a
      bare ``12`` right after a road (``人民路12``);
    * compound ``小区/花园/苑/园/公寓/大厦/广场/市场/新村/家园/城/府/庭/湾/里``
      (``里`` is read as a road when either reading fits);
    * building ``3栋/3幢/3号楼/3座/3#/A座``; ``5楼`` is a building only
      when no door number, building or entrance precedes it, else a floor;
    * entrance ``2单元/2门/2梯``; floor ``5层`` (``负1层`` → ``"-1"``);
    * room ``501室/501房/501户`` and a bare ``501`` (3 to 5 digits) after a
      door number, building, entrance or floor;
    * the staff shorthand ``3-2-501`` for building 3, entrance 2, room 501;
    * Chinese numerals in numbers: ``十二号``, ``三栋``, ``二单元``,
      ``五零一室``.

    When the text names a room of three or four digits but no floor, the floor
    is derived from the room (``501`` → ``"5"``, ``1203`` → ``"12"``).

    Parameters
    ----------
    text : str
        The address as written.

    Returns
    -------
    ParsedAddress
        The parts found, and the pieces that could not be placed.

    Examples
    --------
    >>> p = parse_address("樊城区人民路12号3栋2单元501室").parts
    >>> p.district, p.road, p.number, p.building, p.entrance, p.floor, p.room
    ('樊城区', '人民路', '12', '3', '2', '5', '501')
    >>> parse_address("人民路12号3-2-501").parts.entrance
    '2'
    >>> parse_address("人民路12号xyz").unparsed
    ('xyz',)

    Round trip for a canonical address:

    >>> x = "湖北省襄阳市樊城区人民路12号春园小区3栋2单元501室"
    >>> format_address(parse_address(x).parts) == x
    True
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    s = _prepare(text)
    n = len(s)
    all_candidates = [
        [(cand, any(lv == _NUMBER for lv, _ in cand.values), len(cand.values)) for cand in cands]
        for cands in _all_candidates(s)
    ]
    separators = [_is_sep(ch) for ch in s]

    # Forward: the states (last level read, door number read?) reachable at each i.
    reachable: list[set[tuple[int, bool]]] = [set() for _ in range(n + 1)]
    reachable[0].add((-1, False))
    for i in range(n):
        for level, has_number in reachable[i]:
            reachable[i + 1].add((level, has_number))  # separator or skipped
            if separators[i]:
                continue
            for cand, sets_number, _ in all_candidates[i]:
                if _allowed(cand, level, has_number):
                    reachable[cand.end].add((cand.last, has_number or sets_number))

    # Backward: best[i][state] = (cost of reading s[i:] from state, choice at i).
    best: list[dict[tuple[int, bool], tuple[_Cost, object]]] = [{} for _ in range(n + 1)]
    best[n] = dict.fromkeys(reachable[n], ((0, 0, 0), None))
    for i in range(n - 1, -1, -1):
        following = best[i + 1]
        row = best[i]
        for key in reachable[i]:
            rest = following[key][0]
            if separators[i]:
                row[key] = (rest, "sep")
                continue
            level, has_number = key
            chosen: tuple[_Cost, object] = ((rest[0] + 1, rest[1], rest[2]), "skip")
            for cand, sets_number, count in all_candidates[i]:
                if not _allowed(cand, level, has_number):
                    continue
                rest = best[cand.end][(cand.last, has_number or sets_number)][0]
                cost = (rest[0], rest[1] + cand.bare, rest[2] - count)
                # A part beats skipping at equal cost; the first of equal parts wins.
                if cost < chosen[0] or (cost == chosen[0] and chosen[1] == "skip"):
                    chosen = (cost, cand)
            row[key] = chosen

    values: dict[int, str] = {}
    unparsed: list[str] = []
    pending: list[str] = []
    i, level, has_number = 0, -1, False
    while i < n:
        choice = best[i][(level, has_number)][1]
        if choice == "skip":
            pending.append(s[i])
            i += 1
            continue
        if pending:
            unparsed.append("".join(pending))
            pending = []
        if choice == "sep":
            i += 1
            continue
        if not isinstance(choice, _Candidate):  # pragma: no cover
            raise RuntimeError(f"parse table corrupt at {i}")
        values.update(choice.values)
        has_number = has_number or _NUMBER in values
        level, i = choice.last, choice.end
    if pending:
        unparsed.append("".join(pending))

    if _FLOOR not in values:
        floor = _floor_from_room(values.get(_ROOM))
        if floor is not None:
            values[_FLOOR] = floor
    parts = AddressParts(**{_FIELDS[lv]: value for lv, value in values.items()})
    return ParsedAddress(parts, tuple(unparsed))


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------


def _floor_text(floor: str) -> str:
    """Basement floors are written 负1层, not -1层 (a hyphen is a separator)."""
    return "负" + floor[1:] if floor.startswith("-") else floor


def _suffixed(value: str, suffix: str) -> str:
    return value if value.endswith(suffix) else value + suffix


def format_address(parts: AddressParts) -> str:
    """Write parts as the canonical GB/T 35639 address string.

    The layout is::

        {province}{city}{district}{street_office}{community}{road}
        {number}号{compound}{building}栋{entrance}单元{floor}层{room}室

    with every absent part (and its suffix) left out.

    * Named parts (province, city, district, street office, community, road,
      compound) carry their own suffix and are printed as they are.
    * Numbered parts are printed as the value plus the canonical suffix: 号 for
      the door number, 栋 for the building, 单元 for the entrance, 层 for the
      floor and 室 for the room (a value that already ends with that suffix
      is not suffixed twice).
    * The floor is printed only when there is no room: a room number implies
      its floor (see the module notes), so ``floor`` is dropped when ``room``
      is given, even if it disagrees with the room.

    Parameters
    ----------
    parts : AddressParts
        The parts to write.

    Returns
    -------
    str
        The canonical string; ``""`` for empty parts.

    Examples
    --------
    >>> format_address(AddressParts(district="樊城区", road="人民路", number="12",
    ...                             building="3", entrance="2", floor="5", room="501"))
    '樊城区人民路12号3栋2单元501室'
    >>> format_address(AddressParts(compound="春园小区", building="5", floor="3"))
    '春园小区5栋3层'
    """
    out = [
        parts.province,
        parts.city,
        parts.district,
        parts.street_office,
        parts.community,
        parts.road,
        parts.number and _suffixed(parts.number, "号"),
        parts.compound,
        parts.building and _suffixed(parts.building, "栋"),
        parts.entrance and _suffixed(parts.entrance, "单元"),
        None if parts.room else parts.floor and _suffixed(_floor_text(parts.floor), "层"),
        parts.room and _suffixed(parts.room, "室"),
    ]
    return "".join(x for x in out if x)


# ---------------------------------------------------------------------------
# Search keys
# ---------------------------------------------------------------------------

_KEY_MAPS = (
    (re.compile(r"(?<=[0-9A-Z])(?:号楼|#楼|#|幢|座)"), "栋"),
    (re.compile(r"(?<=[0-9A-Z])(?:门|梯)"), "单元"),
    (re.compile(r"(?<=[0-9A-Z])(?:房|户)"), "室"),
    (re.compile(r"(?<=[0-9])之(?=[0-9])"), "-"),
    (re.compile(r"(?<=[0-9])号附(?=[0-9])"), "附"),
)
_LOWER_RE = re.compile(r"[a-z]")
_LONE_HYPHEN_RE = re.compile(r"(?<![0-9A-Za-z])-+|-+(?![0-9A-Za-z])|-{2,}")


def search_key(text: str) -> str:
    """Make a compact key of an address for prefix and contains search.

    The key is the NFKC form of ``text`` with all whitespace and punctuation
    removed (hyphens are kept between digits or letters), digits normalised by
    :func:`normalise_digits`, ASCII letters upper-cased, and the suffix
    variants after a number mapped to the canonical suffix used by
    :func:`format_address`: ``幢/号楼/座/#`` → ``栋``, ``门/梯`` → ``单元``,
    ``房/户`` → ``室``; also ``12之1`` → ``12-1`` and ``12号附3`` → ``12附3``.

    It is a lexical normalisation, not a parse: it keeps a prefix of an
    address a prefix of the full address's key (``search_key("人民路1")`` is a
    prefix of ``search_key("人民路12号")``).  So it does not add missing
    suffixes, derive floors, expand the ``3-2-501`` shorthand or map ``5楼``
    (floor or building?) to anything.  The key of a canonical address is the
    address itself.

    Parameters
    ----------
    text : str
        An address or part of one, as typed.

    Returns
    -------
    str
        The key.

    Examples
    --------
    >>> search_key("人民路 12 号 3幢")
    '人民路12号3栋'
    >>> search_key("人民路十二号三号楼二门501房") == search_key("人民路12号3栋2单元501室")
    True
    """
    s = unicodedata.normalize("NFKC", text).translate(_DASHES)
    s = "".join(ch for ch in s if not _is_sep(ch))
    s = normalise_digits(s)
    s = _LOWER_RE.sub(lambda m: m.group().upper(), s)
    s = _LONE_HYPHEN_RE.sub("", s)
    for regex, replacement in _KEY_MAPS:
        s = regex.sub(replacement, s)
    return s
