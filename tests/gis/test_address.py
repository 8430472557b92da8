"""Tests for gis.address: GB/T 35639 standard addresses (pure Python, no database)."""

from __future__ import annotations

import dataclasses
import doctest
import random

import pytest

from gis import address
from gis.address import (
    AddressParts,
    ParsedAddress,
    chinese_numeral_to_int,
    format_address,
    normalise_digits,
    parse_address,
    search_key,
)

FULL = {
    "road": "人民路",
    "number": "12",
    "building": "3",
    "entrance": "2",
    "floor": "5",
    "room": "501",
}


def parts(**kwargs: str) -> AddressParts:
    return AddressParts(**kwargs)


# ---------------------------------------------------------------------------
# parse_address: written forms
# ---------------------------------------------------------------------------

PARSE_CASES = [
    # The reference example, with the floor derived from the room.
    ("樊城区人民路12号3栋2单元501室", {"district": "樊城区", **FULL}),
    # Province / city prefixes are kept.
    (
        "湖北省襄阳市樊城区人民路12号",
        {
            "province": "湖北省",
            "city": "襄阳市",
            "district": "樊城区",
            "road": "人民路",
            "number": "12",
        },
    ),
    (
        "襄樊市樊城区人民路12号",
        {"city": "襄樊市", "district": "樊城区", "road": "人民路", "number": "12"},
    ),
    ("广西壮族自治区南宁市", {"province": "广西壮族自治区", "city": "南宁市"}),
    ("襄阳市老河口市", {"city": "襄阳市", "district": "老河口市"}),
    ("三门峡市湖滨区", {"city": "三门峡市", "district": "湖滨区"}),
    ("门头沟区", {"district": "门头沟区"}),
    # Street offices and communities.
    ("樊城区清河口街道", {"district": "樊城区", "street_office": "清河口街道"}),
    (
        "清河口街道办事处人民路社区居委会",
        {"street_office": "清河口街道办事处", "community": "人民路社区居委会"},
    ),
    ("太平店镇团山村", {"street_office": "太平店镇", "community": "团山村"}),
    ("某某乡李家村委会", {"street_office": "某某乡", "community": "李家村委会"}),
    ("人民路社区人民路12号", {"community": "人民路社区", "road": "人民路", "number": "12"}),
    # Roads: the whole name up to the suffix.
    ("人民东路12号", {"road": "人民东路", "number": "12"}),
    ("建设一路12号", {"road": "建设一路", "number": "12"}),
    ("中山大道12号", {"road": "中山大道", "number": "12"}),
    ("长虹北街8号", {"road": "长虹北街", "number": "8"}),
    ("南锣鼓巷3号", {"road": "南锣鼓巷", "number": "3"}),
    ("东四十条胡同7号", {"road": "东四十条胡同", "number": "7"}),
    ("户部巷12号", {"road": "户部巷", "number": "12"}),
    ("幸福里3栋", {"road": "幸福里", "building": "3"}),
    # Door numbers.
    ("人民路12-1号", {"road": "人民路", "number": "12-1"}),
    ("人民路12之1号", {"road": "人民路", "number": "12-1"}),
    ("人民路12附3号", {"road": "人民路", "number": "12附3"}),
    ("人民路12号附3号", {"road": "人民路", "number": "12附3"}),
    ("人民路附3号", {"road": "人民路", "number": "附3"}),
    ("人民路12a号", {"road": "人民路", "number": "12A"}),
    ("人民路一百零五号", {"road": "人民路", "number": "105"}),
    # Compounds come after the number.
    (
        "人民路12号春园小区3栋",
        {"road": "人民路", "number": "12", "compound": "春园小区", "building": "3"},
    ),
    ("幸福新村3栋", {"compound": "幸福新村", "building": "3"}),
    ("农贸市场5栋", {"compound": "农贸市场", "building": "5"}),
    ("锦绣苑2幢", {"compound": "锦绣苑", "building": "2"}),
    ("万达广场A座", {"compound": "万达广场", "building": "A"}),
    # Building variants; 号楼 is a building, never a door number.
    ("人民路12号3幢", {"road": "人民路", "number": "12", "building": "3"}),
    ("人民路12号3座", {"road": "人民路", "number": "12", "building": "3"}),
    ("人民路12号3号楼", {"road": "人民路", "number": "12", "building": "3"}),
    ("人民路3号楼", {"road": "人民路", "building": "3"}),
    ("3#楼2单元", {"building": "3", "entrance": "2"}),
    # Entrance and room variants.
    ("人民路12号3栋2门501房", FULL),
    ("人民路12号3栋2梯501户", FULL),
    # 楼 after a building or entrance is a floor.
    ("3号楼5楼501", {"building": "3", "floor": "5", "room": "501"}),
    ("3栋2单元6楼", {"building": "3", "entrance": "2", "floor": "6"}),
    ("人民路12号5楼", {"road": "人民路", "number": "12", "floor": "5"}),
    ("5栋2单元5层501", {"building": "5", "entrance": "2", "floor": "5", "room": "501"}),
    ("负1层", {"floor": "-1"}),
    # Floor derived from 3-4 digit rooms only.
    ("3栋2单元1203室", {"building": "3", "entrance": "2", "floor": "12", "room": "1203"}),
    ("3栋12室", {"building": "3", "room": "12"}),
    ("3栋501A室", {"building": "3", "room": "501A"}),
    # Whitespace, punctuation, full width.
    ("人民路 12 号 3幢", {"road": "人民路", "number": "12", "building": "3"}),
    ("人民路12号，3栋、2单元 501室", FULL),
    ("樊城区 人民路,12号", {"district": "樊城区", "road": "人民路", "number": "12"}),
    ("人民路１２号３栋２单元５０１室", FULL),
    ("人民路12号Ａ栋", {"road": "人民路", "number": "12", "building": "A"}),
    # Chinese numerals.
    ("人民路十二号三栋二单元五零一室", FULL),
    ("二号楼三单元", {"building": "2", "entrance": "3"}),
    ("人民路12号二十三栋", {"road": "人民路", "number": "12", "building": "23"}),
    # Staff shorthand building-entrance-room.
    ("人民路12号3-2-501", FULL),
    ("人民路12号 3-2-501室", FULL),
    ("3 - 2 - 501", {"building": "3", "entrance": "2", "floor": "5", "room": "501"}),
    # Partial input for search.
    ("人民路12", {"road": "人民路", "number": "12"}),
    ("人民路12-1", {"road": "人民路", "number": "12-1"}),
    ("3栋501", {"building": "3", "floor": "5", "room": "501"}),
    ("春园小区5栋", {"compound": "春园小区", "building": "5"}),
    ("人民路12号3栋2单元501", FULL),
    ("人民路12号501", {"road": "人民路", "number": "12", "floor": "5", "room": "501"}),
    ("人民路", {"road": "人民路"}),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_written_forms(text: str, expected: dict[str, str]) -> None:
    result = parse_address(text)
    assert result.parts == AddressParts(**expected)
    assert result.unparsed == ()
    assert result.ok


# ---------------------------------------------------------------------------
# Unparsed pieces
# ---------------------------------------------------------------------------

UNPARSED_CASES = [
    ("人民路12号xyz", {"road": "人民路", "number": "12"}, ("xyz",)),
    ("人民路12号xyz3栋", {"road": "人民路", "number": "12", "building": "3"}, ("xyz",)),
    ("樊城区xyz人民路12号", {"district": "樊城区", "road": "人民路", "number": "12"}, ("xyz",)),
    ("人民路12号 ab cd", {"road": "人民路", "number": "12"}, ("ab", "cd")),
    ("人民路12号某某某", {"road": "人民路", "number": "12"}, ("某某某",)),
    ("春园小区12号", {"compound": "春园小区"}, ("12号",)),
    ("人民路12号院3栋", {"road": "人民路", "number": "12", "building": "3"}, ("院",)),
    ("人民路12号3栋2", {"road": "人民路", "number": "12", "building": "3"}, ("2",)),
    ("12", {}, ("12",)),
    ("xyz", {}, ("xyz",)),
]


@pytest.mark.parametrize(("text", "expected", "unparsed"), UNPARSED_CASES)
def test_unparsed_pieces_are_reported(
    text: str, expected: dict[str, str], unparsed: tuple[str, ...]
) -> None:
    result = parse_address(text)
    assert result.parts == AddressParts(**expected)
    assert result.unparsed == unparsed
    assert not result.ok


@pytest.mark.parametrize("text", ["", "   ", "，、,"])
def test_empty_input_parses_to_nothing(text: str) -> None:
    result = parse_address(text)
    assert result == ParsedAddress(AddressParts(), ())
    assert result.parts.is_empty()
    assert not result.ok


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="expected str"):
        parse_address(12)  # type: ignore[arg-type]


def test_parsed_address_is_frozen() -> None:
    result = parse_address("人民路12号")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.parts.road = "解放路"  # type: ignore[misc]


# ---------------------------------------------------------------------------
# format_address and the round trip
# ---------------------------------------------------------------------------

FORMAT_CASES = [
    (parts(district="樊城区", **FULL), "樊城区人民路12号3栋2单元501室"),
    (parts(road="人民路", number="12", floor="5"), "人民路12号5层"),
    (parts(compound="春园小区", building="5", floor="3"), "春园小区5栋3层"),
    # A room implies the floor: the floor is not printed, even a wrong one.
    (parts(building="3", floor="9", room="501"), "3栋501室"),
    (parts(floor="-1"), "负1层"),
    (parts(province="湖北省", city="襄阳市"), "湖北省襄阳市"),
    (parts(number="12附3"), "12附3号"),
    # Values that already carry the suffix are not suffixed twice.
    (parts(number="12号", building="3栋"), "12号3栋"),
    (AddressParts(), ""),
]


@pytest.mark.parametrize(("value", "expected"), FORMAT_CASES)
def test_format_address(value: AddressParts, expected: str) -> None:
    assert format_address(value) == expected


CANONICAL = [
    "樊城区人民路12号3栋2单元501室",
    "湖北省襄阳市樊城区清河口街道人民路社区人民路12号春园小区3栋2单元501室",
    "襄阳市樊城区人民路12-1号",
    "樊城区长虹北路12附3号",
    "中山大道7A号幸福家园A栋1单元1203室",
    "太平店镇团山村",
    "人民路12号5层",
    "春园小区5栋",
    "3栋501室",
    "人民路附3号",
    "锦绣苑12栋2单元负1层",
    "人民路12号春园小区",
    "樊城区人民路社区",
]


@pytest.mark.parametrize("text", CANONICAL)
def test_round_trip_of_canonical_addresses(text: str) -> None:
    result = parse_address(text)
    assert result.ok
    assert format_address(result.parts) == text
    assert search_key(text) == text


POOLS: dict[str, list[str | None]] = {
    "province": [None, "湖北省", "广西壮族自治区"],
    "city": [None, "襄阳市", "襄樊市"],
    "district": [None, "樊城区", "襄州区", "老河口市", "谷城县"],
    "street_office": [None, "清河口街道", "太平店镇", "茨河乡", "米公街道办事处"],
    "community": [None, "人民路社区", "团山村", "米公社区居委会"],
    "road": [None, "人民路", "长虹北路", "中山大道", "建设一路", "南锣鼓巷", "前进街"],
    "number": [None, "12", "12-1", "12附3", "7A", "105", "附3"],
    "compound": [None, "春园小区", "幸福家园", "锦绣苑", "万达广场", "幸福新村", "御景湾"],
    "building": [None, "3", "12", "A", "2B"],
    "entrance": [None, "1", "2", "10"],
    "room": [None, "501", "1203", "12", "0302", "501A"],
    "floor": [None, "5", "18", "-1"],
}


def random_parts(rng: random.Random) -> AddressParts:
    values = {name: rng.choice(pool) for name, pool in POOLS.items()}
    if values["city"] is None and (values["district"] or "").endswith("市"):
        # A lone county-level city (老河口市...) reads as the city: documented ambiguity.
        values["city"] = "襄阳市"
    if values["room"] is not None:
        values["floor"] = address._floor_from_room(values["room"])
    return AddressParts(**values)


def test_parse_inverts_format_on_generated_parts() -> None:
    rng = random.Random(35639)
    seen = 0
    for _ in range(1500):
        value = random_parts(rng)
        if value.is_empty():
            continue
        text = format_address(value)
        result = parse_address(text)
        assert result.parts == value, text
        assert result.unparsed == (), text
        assert format_address(result.parts) == text
        seen += 1
    assert seen > 1450


# ---------------------------------------------------------------------------
# Numerals
# ---------------------------------------------------------------------------

NUMERALS = [
    ("十", 10),
    ("十二", 12),
    ("二十", 20),
    ("二十三", 23),
    ("一百零五", 105),
    ("一百一十", 110),
    ("一百五", 150),
    ("两千", 2000),
    ("三千零五十", 3050),
    ("一千二百三十四", 1234),
    ("三万五", 35000),
    ("十二万零三", 120003),
    ("五零一", 501),
    ("二〇二三", 2023),
    ("零", 0),
    ("12", 12),
    ("１２", 12),
    (" 十二 ", 12),
]


@pytest.mark.parametrize(("text", "value"), NUMERALS)
def test_chinese_numeral_to_int(text: str, value: int) -> None:
    assert chinese_numeral_to_int(text) == value


BAD_NUMERALS = [
    ("", "empty"),
    ("十十", "out of order"),
    ("百", "without a digit"),
    ("二三十", "two digits in a row"),
    ("一百零十", "without a digit"),
    ("十二号", "unexpected character '号'"),
    ("1二", "unexpected character '1'"),
    ("万", "'万' without a digit"),
    ("一万二万", "more than one"),
]


@pytest.mark.parametrize(("text", "why"), BAD_NUMERALS)
def test_bad_numerals_raise_value_error_naming_the_text(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=f"invalid Chinese numeral '{text}'.*{why}"):
        chinese_numeral_to_int(text)


NORMALISED_DIGITS = [
    ("人民路１２号", "人民路12号"),
    ("十二号三栋二单元五零一室", "12号3栋2单元501室"),
    ("三号楼", "3号楼"),
    ("二门", "2门"),
    ("二门五零一", "2门五零一"),
    ("五楼", "5楼"),
    ("12附三", "12附3"),
    ("建设一路", "建设一路"),
    ("三元里", "三元里"),
    ("三门峡市", "三门峡市"),
    ("十十号", "十十号"),
]


@pytest.mark.parametrize(("text", "expected"), NORMALISED_DIGITS)
def test_normalise_digits(text: str, expected: str) -> None:
    assert normalise_digits(text) == expected


# ---------------------------------------------------------------------------
# Search keys
# ---------------------------------------------------------------------------

SAME_KEY = [
    ("人民路 12 号 3幢", "人民路12号3栋"),
    ("人民路12号3号楼", "人民路12号3栋"),
    ("人民路12号3座", "人民路12号3栋"),
    ("人民路12号3#", "人民路12号3栋"),
    ("人民路12号3栋2门501房", "人民路12号3栋2单元501室"),
    ("人民路12号3栋2梯501户", "人民路12号3栋2单元501室"),
    ("人民路十二号三栋二单元五零一室", "人民路12号3栋2单元501室"),
    ("人民路１２号，３栋", "人民路12号3栋"),
    ("人民路12之1号", "人民路12-1号"),
    ("人民路12号附3号", "人民路12附3号"),
    ("万达广场a座", "万达广场A栋"),
]


@pytest.mark.parametrize(("variant", "canonical"), SAME_KEY)
def test_search_key_equivalences(variant: str, canonical: str) -> None:
    assert search_key(variant) == search_key(canonical) == canonical


def test_search_key_of_a_prefix_is_a_prefix() -> None:
    full = search_key("人民路123号3栋")
    for typed in ["人民路", "人民路1", "人民路 12", "人民路12"]:
        assert full.startswith(search_key(typed))


def test_search_key_leaves_names_alone() -> None:
    assert search_key("三门峡市建设一路") == "三门峡市建设一路"


# ---------------------------------------------------------------------------
# Module docs
# ---------------------------------------------------------------------------


def test_docstring_examples() -> None:
    result = doctest.testmod(address, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10
    assert result.failed == 0
