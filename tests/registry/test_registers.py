"""The two registers and the person card (registry.registers, layers.register_documents, the API of
layers.register_api): row by row against residents made here, masked in XLSX cells and in the
PDFs' text, the access log, the reason, the territory (404), reveal (403 without the permission),
and recording a distribution of supplies."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.test import APIClient

from gis import services as gis_services
from gis.exceptions import InvalidInputError, ScopeError
from gis.models import Role, Room
from registry import services, supplies
from registry.models import AccessLog, Household, Resident, SupplyDistribution
from registry.privacy import personal

from ..conftest import Territory
from ..factories import RoomFactory, UserFactory
from .factories import id_number, resident

pytestmark = pytest.mark.django_db

REASON = "月度流动人口核查"
DAY = date(2025, 6, 30)


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def revealer(territory: Territory) -> Any:
    user = UserFactory(username="revealer", grants=[(Role.COMMUNITY_WORKER, territory.home.code)])
    user.user_permissions.add(Permission.objects.get(codename="reveal_resident"))
    return type(user).objects.get(pk=user.pk)


def plate(room: Room, number: str) -> str:
    data = {"building": room.building, "room": room, "road": "人民路", "number": number}
    return gis_services.save_door_plate(actor=None, data=data).address


@dataclass
class People:
    rooms: dict[str, Room]
    plates: dict[str, str]
    ids: dict[str, str]
    phones: dict[str, str]
    residents: dict[str, Resident]


@pytest.fixture
def people(territory: Territory) -> People:
    """Floating residents 甲 (room a, with a door plate and a follow-up) and 乙 (room b, no plate)
    living in the home building on DAY; 丙 (community resident, room a), 丁 (floating, away),
    戊 (floating, moved out before DAY), 己 (floating, moved in after DAY) are not on its
    register."""
    home, away = territory.home_building, territory.away_building
    rooms = {
        "a": RoomFactory(building=home, floor=3, number="301"),
        "b": RoomFactory(building=home, floor=2, number="201"),
        "c": RoomFactory(building=away, floor=3, number="302"),
    }
    plates = {"a": plate(rooms["a"], "12")}
    ids = {name: id_number(date(1990 + i, 3, 1 + i)) for i, name in enumerate("甲乙丙丁戊己")}
    phones = {name: f"1391234{5670 + i:04d}" for i, name in enumerate("甲乙丙丁戊己")}

    def make(name: str, room: str, category: str = "floating", **extra: Any) -> Resident:
        fields: dict[str, Any] = {
            "name": name,
            "category": category,
            "id_number": ids[name],
            "phone": phones[name],
            "home_registration": "湖北省随州市",
            "employer": "汉江机械厂",
            "arrival_date": date(2024, 12, 1),
        } | extra
        moved_in = fields.pop("moved_in", date(2025, 1, 1))
        return resident(rooms[room], moved_in=moved_in, **fields)

    residents = {
        "甲": make("甲", "a"),
        "乙": make("乙", "b", home_registration="河南省南阳市", employer=""),
        "丙": make("丙", "a", category="community"),
        "丁": make("丁", "c"),
        "戊": make("戊", "a"),
        "己": make("己", "b", moved_in=DAY + timedelta(days=1)),
    }
    services.move_out(None, residents["戊"], on=date(2025, 5, 1))
    services.record_follow_up(None, residents["甲"], done_on=date(2025, 4, 10), outcome="seen")
    services.record_follow_up(None, residents["甲"], done_on=date(2025, 1, 10), outcome="changed")
    return People(rooms, plates, ids, phones, residents)


def mask_id(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:]


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


def workbook_rows(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.content[:300]
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def pdf_pages(content: bytes) -> list[str]:
    """Each page's text (pypdf puts a NUL before every character of fpdf2's CJK text)."""
    reader = PdfReader(io.BytesIO(content))
    return [page.extract_text().replace("\x00", "") for page in reader.pages]


def registered_on(person: Resident) -> date:
    with personal(system=True):
        created = Resident.objects.get(pk=person.pk).created_at
    return timezone.localtime(created).date()


def floating(user: Any, fmt: str = "xlsx", **params: Any) -> Any:
    query = {"reason": REASON, "as_of": DAY.isoformat()} | params
    return api(user).get(reverse("register-floating", kwargs={"fmt": fmt}), query)


def expected_floating(people: People, territory: Territory, *, clear: bool = False) -> list[list]:
    building = territory.home_building
    rows = []
    for number, (name, address, registration, employer, follow_up) in enumerate(
        [
            # The third floor first (rooms top down), then the second.
            ("甲", people.plates["a"], "湖北省随州市", "汉江机械厂", "2025-04-10 已见面核实"),
            ("乙", f"{building.name or f'#{building.pk}'} 201", "河南省南阳市", None, None),
        ],
        start=1,
    ):
        person = people.residents[name]
        rows.append(
            [
                number,
                name,
                "男",
                person.birth_date.isoformat(),
                people.ids[name] if clear else mask_id(people.ids[name]),
                registration,
                address,
                employer,
                "2024-12-01",
                people.phones[name] if clear else mask_phone(people.phones[name]),
                registered_on(person).isoformat(),
                follow_up,
            ]
        )
    return rows


def as_text(rows: list[list[Any]]) -> list[list[Any]]:
    """Dates as ISO text, empty cells as None."""
    return [
        [v.date().isoformat() if hasattr(v, "date") else (None if v == "" else v) for v in row]
        for row in rows
    ]


HEADERS = [
    "序号",
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "户籍地",
    "现住址",
    "工作单位",
    "来本地日期",
    "联系电话",
    "登记日期",
    "最近走访",
]


# -- the floating-population register


def test_floating_register_xlsx_row_by_row(territory: Territory, users, people: People) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    rows = workbook_rows(floating(worker, code=territory.home.code))
    assert rows[0][0] == "流动人口登记表"
    assert territory.home.name in rows[1][0] and DAY.isoformat() in rows[1][0]
    assert rows[2] == HEADERS
    assert as_text(rows[3:]) == expected_floating(people, territory)
    # No clear identity number or phone anywhere in the workbook.
    flat = " ".join(str(v) for row in rows for v in row)
    assert not any(number in flat for number in people.ids.values())
    assert not any(phone in flat for phone in people.phones.values())


def test_floating_register_workbook_layout(territory: Territory, users, people: People) -> None:
    response = floating(users[Role.COMMUNITY_WORKER], code=territory.home.code)
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    assert sheet.freeze_panes == "A4"
    assert sheet["A3"].font.bold
    assert sheet.column_dimensions["G"].width == 34
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Cache-Control"] == "private, no-store"


def test_floating_register_of_a_building_and_of_a_day(
    territory: Territory, users, people: People
) -> None:
    supervisor = users[Role.STREET_SUPERVISOR]
    by_building = workbook_rows(floating(supervisor, code=f"building={territory.home_building.pk}"))
    assert [row[1] for row in by_building[3:]] == ["甲", "乙"]
    # The street office: 丁 of the away community too.
    office = workbook_rows(floating(supervisor, code=territory.office.code))
    assert [row[1] for row in office[3:]] == ["甲", "乙", "丁"]
    # Before 戊 moved out (1 May) 戊 was there; after 己 moved in, 己 is.
    april = workbook_rows(floating(supervisor, code=territory.home.code, as_of="2025-04-30"))
    assert [row[1] for row in april[3:]] == ["甲", "戊", "乙"]
    july = workbook_rows(floating(supervisor, code=territory.home.code, as_of="2025-07-02"))
    assert [row[1] for row in july[3:]] == ["甲", "乙", "己"]


def test_worker_above_the_territory_gets_own_part(
    territory: Territory, users, people: People
) -> None:
    rows = workbook_rows(floating(users[Role.COMMUNITY_WORKER], code=territory.office.code))
    assert [row[1] for row in rows[3:]] == ["甲", "乙"]


def test_floating_register_pdf_is_masked(territory: Territory, users, people: People) -> None:
    response = floating(users[Role.COMMUNITY_WORKER], "pdf", code=territory.home.code)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pages = pdf_pages(response.getvalue())
    assert len(pages) == 1
    text = pages[0]
    for header in HEADERS:
        assert header in text
    for name in ("甲", "乙"):
        assert mask_id(people.ids[name]) in text
        assert mask_phone(people.phones[name]) in text
    assert "第 1 页 / 共 1 页" in text
    assert not any(number in text for number in people.ids.values())
    assert not any(phone in text for phone in people.phones.values())
    assert "丙" not in text and "丁" not in text


def test_register_pdf_repeats_its_header_on_every_page(territory: Territory, users) -> None:
    room = RoomFactory(building=territory.home_building, floor=1, number="101")
    for i in range(60):
        resident(
            room,
            name=f"流{i:02d}",
            category="floating",
            id_number=id_number(date(1980, 1, 1) + timedelta(days=i)),
            home_registration="湖北省随州市曾都区南郊街道办事处很长很长的一个地址" * 2,
        )
    response = floating(users[Role.COMMUNITY_WORKER], "pdf", code=territory.home.code)
    pages = pdf_pages(response.getvalue())
    assert len(pages) > 1
    for n, text in enumerate(pages, start=1):
        assert "流动人口登记表" in text and "身份证号" in text
        assert f"第 {n} 页 / 共 {len(pages)} 页" in text
    assert all(f"流{i:02d}" in "".join(pages) for i in range(60))


# -- the reason, the log, reveal, the territory


def test_export_needs_a_reason_and_is_logged(territory: Territory, users, people: People) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    refused = floating(worker, code=territory.home.code, reason=" ab ")
    assert refused.status_code == 400
    assert refused.json()["code"] == "reason_required"
    assert refused.json()["detail_zh"] and refused.json()["detail_en"]
    assert not AccessLog.objects.exists()
    floating(worker, "pdf", code=territory.home.code)
    entry = AccessLog.objects.get()
    assert (entry.user_id, entry.action, entry.rows, entry.reason) == (
        worker.pk,
        "export",
        2,
        REASON,
    )
    assert entry.community_code == territory.home.code
    assert entry.what == f"register-floating {territory.home.code} as of {DAY.isoformat()}"
    assert entry.path == reverse("register-floating", kwargs={"fmt": "pdf"})
    assert not any(number[-8:] in entry.what for number in people.ids.values())


def test_out_of_scope_is_not_found_on_every_route(
    territory: Territory, users, people: People
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    client = api(worker)
    away_building = f"building={territory.away_building.pk}"
    for code in (territory.away.code, away_building, "420699", "420606001009"):
        for name, fmt in (("register-floating", "xlsx"), ("register-supplies", "pdf")):
            url = reverse(name, kwargs={"fmt": fmt})
            response = client.get(url, {"code": code, "reason": REASON})
            assert response.status_code == 404, (name, code)
        response = client.get(reverse("person-cards"), {"code": code, "reason": REASON})
        assert response.status_code == 404, code
    away = people.residents["丁"]
    response = client.get(reverse("person-cards"), {"resident": away.pk, "reason": REASON})
    assert response.status_code == 404
    with personal(system=True):
        household = Household.objects.get(occupancies__resident=away)
    body = {"household": household.pk, "item": "大米", "quantity": "10", "given_on": "2025-06-01"}
    response = client.post(reverse("supply-list"), body, format="json")
    assert response.status_code == 404
    assert not AccessLog.objects.exists()
    with personal(system=True):
        assert not SupplyDistribution.objects.exists()


def test_bad_codes_are_refused(territory: Territory, users) -> None:
    client = api(users[Role.COMMUNITY_WORKER])
    url = reverse("register-floating", kwargs={"fmt": "xlsx"})
    for code in ("", "abc", "4206060010", "building=x"):
        response = client.get(url, {"code": code, "reason": REASON})
        assert response.status_code == 400, code
        assert response.json()["code"] == "bad_code"
    response = client.get(url, {"code": territory.home.code, "reason": REASON, "as_of": "6月"})
    assert response.json()["code"] == "bad_date"


def test_reveal_needs_the_permission(territory: Territory, users, people: People) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    for response in (
        floating(worker, code=territory.home.code, reveal="1"),
        api(worker).get(
            reverse("person-cards"),
            {"code": territory.home.code, "reason": REASON, "reveal": "1"},
        ),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "reveal_denied"
    assert not AccessLog.objects.exists()


def test_reveal_writes_clear_values_and_logs_it(
    territory: Territory, users, people: People
) -> None:
    user = revealer(territory)
    rows = workbook_rows(floating(user, code=territory.home.code, reveal="1"))
    assert as_text(rows[3:]) == expected_floating(people, territory, clear=True)
    actions = sorted(AccessLog.objects.values_list("action", "rows"))
    assert actions == [("export", 2), ("reveal", 2)]
    # Without reveal=1 the same user gets masked values.
    masked = workbook_rows(floating(user, code=territory.home.code))
    assert as_text(masked[3:]) == expected_floating(people, territory)


# -- the person card


def test_person_cards_of_a_building(territory: Territory, users, people: People) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    query = {"code": f"building={territory.home_building.pk}", "reason": REASON}
    response = api(worker).get(reverse("person-cards"), query | {"as_of": DAY.isoformat()})
    assert response.status_code == 200, response.content[:300]
    pages = pdf_pages(response.getvalue())
    text = "".join(pages)
    # Everyone living there: the community resident 丙 too.
    for name in ("甲", "乙", "丙"):
        assert name in text
        assert mask_id(people.ids[name]) in text
        assert mask_phone(people.phones[name]) in text
    assert not any(number in text for number in people.ids.values())
    assert "戊" not in text and "丁" not in text
    assert "2025-04-10 已见面核实" in text and "2025-01-10 已见面，信息有变" in text
    assert people.plates["a"] in text.replace("\n", "")
    assert "第 1 页 / 共 1 页" in pages[0]
    entry = AccessLog.objects.get()
    assert (entry.action, entry.rows) == ("export", 3)


def test_person_card_shows_the_household(territory: Territory, users) -> None:
    room = RoomFactory(building=territory.home_building, floor=4, number="401")
    head = resident(room, name="赵大", category="floating", id_number=id_number())
    with personal(system=True):
        household = Household.objects.get(occupancies__resident=head)
    spouse = services.register_resident(
        None,
        services.PersonData(name="钱二", category="floating", id_number=id_number(male=False)),
        room=room,
        moved_in=date(2024, 2, 1),
        relation="spouse",
        household=household,
    )
    response = api(users[Role.COMMUNITY_WORKER]).get(
        reverse("person-cards"), {"resident": head.pk, "reason": REASON}
    )
    assert response.status_code == 200, response.content[:300]
    (text,) = pdf_pages(response.getvalue())
    assert "赵大" in text and "钱二（配偶）" in text
    entry = AccessLog.objects.get()
    assert (entry.object_id, entry.rows, entry.community_code) == (head.pk, 1, territory.home.code)
    assert spouse.pk


def test_person_cards_run_over_pages(territory: Territory, users) -> None:
    room = RoomFactory(building=territory.home_building, floor=1, number="102")
    for i in range(5):
        resident(room, name=f"卡{i}", id_number=id_number(date(1970, 1, 1 + i)))
    response = api(users[Role.COMMUNITY_WORKER]).get(
        reverse("person-cards"), {"code": territory.home.code, "reason": REASON}
    )
    pages = pdf_pages(response.getvalue())
    assert len(pages) == 2  # four cards to a page
    assert all("人员信息卡" in page for page in pages)
    assert "第 2 页 / 共 2 页" in pages[1]


def test_person_cards_need_one_target(territory: Territory, users) -> None:
    client = api(users[Role.COMMUNITY_WORKER])
    for query in ({}, {"code": territory.home.code, "resident": "1"}):
        response = client.get(reverse("person-cards"), query | {"reason": REASON})
        assert response.status_code == 400
        assert response.json()["code"] == "target_required"


# -- supplies


def household_of(person: Resident) -> Household:
    with personal(system=True):
        return Household.objects.get(occupancies__resident=person)


def test_supplies_register_row_by_row(territory: Territory, users, people: People) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    a, b = household_of(people.residents["甲"]), household_of(people.residents["乙"])
    away = household_of(people.residents["丁"])
    supplies.record_distribution(
        worker, a, "大米", "10", "斤", date(2025, 6, 2), received_by=people.residents["甲"]
    )
    supplies.record_distribution(worker, b, "食用油", Decimal("2.5"), "升", date(2025, 6, 1))
    supplies.record_distribution(worker, a, "口罩", 50, "个", date(2025, 5, 31), note="防疫")
    supplies.record_distribution(None, away, "大米", 5, "斤", date(2025, 6, 3))
    response = api(worker).get(
        reverse("register-supplies", kwargs={"fmt": "xlsx"}),
        {
            "code": territory.home.code,
            "since": "2025-06-01",
            "until": "2025-06-30",
            "reason": REASON,
        },
    )
    rows = workbook_rows(response)
    assert rows[0][0] == "物资发放登记表"
    assert "2025-06-01 至 2025-06-30" in rows[1][0]
    assert rows[2] == [
        "序号",
        "户主",
        "地址",
        "物品",
        "数量",
        "单位",
        "发放日期",
        "领取人",
        "经办人",
        "备注",
    ]
    b_address = f"{territory.home_building.name or f'#{territory.home_building.pk}'} 201"
    assert as_text(rows[3:]) == [
        [1, "乙", b_address, "食用油", 2.5, "升", "2025-06-01", None, "worker", None],
        [2, "甲", people.plates["a"], "大米", 10, "斤", "2025-06-02", "甲", "worker", None],
    ]
    entry = AccessLog.objects.get()
    assert (entry.action, entry.rows) == ("export", 2)
    pdf = api(worker).get(
        reverse("register-supplies", kwargs={"fmt": "pdf"}),
        {
            "code": territory.home.code,
            "since": "2025-05-01",
            "until": "2025-06-30",
            "reason": REASON,
        },
    )
    (text,) = pdf_pages(pdf.getvalue())
    assert "口罩" in text and "防疫" in text and "食用油" in text


def test_supplies_period_must_be_in_order(territory: Territory, users) -> None:
    response = api(users[Role.COMMUNITY_WORKER]).get(
        reverse("register-supplies", kwargs={"fmt": "xlsx"}),
        {
            "code": territory.home.code,
            "since": "2025-07-01",
            "until": "2025-06-30",
            "reason": REASON,
        },
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_period"


def test_recording_a_distribution_through_the_api(
    territory: Territory, users, people: People
) -> None:
    household = household_of(people.residents["甲"])
    body = {
        "household": household.pk,
        "item": " 大米 ",
        "quantity": "10.50",
        "unit": "斤",
        "given_on": "2025-06-02",
        "received_by": people.residents["甲"].pk,
    }
    url = reverse("supply-list")
    assert api(users[Role.READ_ONLY]).post(url, body, format="json").status_code == 403
    response = api(users[Role.COMMUNITY_WORKER]).post(url, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json() | {"id": 0} == {
        "id": 0,
        "household": household.pk,
        "community_code": territory.home.code,
        "item": "大米",
        "quantity": "10.50",
        "unit": "斤",
        "given_on": "2025-06-02",
        "received_by": people.residents["甲"].pk,
        "given_by": "worker",
        "note": "",
    }
    with personal(system=True):
        line = SupplyDistribution.objects.get()
        assert line.given_by_id == users[Role.COMMUNITY_WORKER].pk
        assert line.events.count() == 1  # pghistory tracks it
    # Someone of another household (or of another community) cannot be the one receiving.
    other = body | {"received_by": people.residents["乙"].pk}
    response = api(users[Role.COMMUNITY_WORKER]).post(url, other, format="json")
    assert response.status_code == 400 and response.json()["code"] == "not_a_member"
    away = body | {"received_by": people.residents["丁"].pk}
    response = api(users[Role.COMMUNITY_WORKER]).post(url, away, format="json")
    assert response.status_code == 400 and response.json()["code"] == "not_a_member"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"quantity": "0"}, "bad_quantity"),
        ({"quantity": "-1"}, "bad_quantity"),
        ({"quantity": "1.005"}, "bad_quantity"),
        ({"quantity": "很多"}, "bad_quantity"),
        ({"quantity": "1000000"}, "bad_quantity"),
        ({"item": "  "}, "required"),
        ({"item": "米" * 101}, "too_long"),
        ({"unit": "一二三四五六七八九十一"}, "too_long"),
        ({"given_on": "2025-13-01"}, "bad_date"),
        ({"given_on": "2099-01-01"}, "future"),
        ({"given_on": "2024-12-31"}, "household_not_living"),
    ],
)
def test_distribution_is_validated(
    territory: Territory, users, change: dict[str, str], code: str
) -> None:
    person = resident(RoomFactory(building=territory.home_building), moved_in=date(2025, 1, 1))
    household = household_of(person)
    values = {"item": "大米", "quantity": "1", "unit": "斤", "given_on": "2025-06-01"} | change
    with pytest.raises(InvalidInputError) as caught:
        supplies.record_distribution(users[Role.COMMUNITY_WORKER], household, **values)
    assert caught.value.code == code
    assert caught.value.render("zh-hans") and caught.value.render("en")
    with personal(system=True):
        assert not SupplyDistribution.objects.exists()


def test_distribution_outside_the_write_scope_is_refused(territory: Territory, users) -> None:
    person = resident(RoomFactory(building=territory.away_building))
    with pytest.raises(ScopeError):
        supplies.record_distribution(
            users[Role.COMMUNITY_WORKER], household_of(person), "大米", 1, "斤", date(2025, 6, 1)
        )


def test_a_dissolved_household_gets_nothing_after(territory: Territory, users) -> None:
    person = resident(RoomFactory(building=territory.home_building), moved_in=date(2025, 1, 1))
    services.move_out(None, person, on=date(2025, 3, 1))
    household = household_of(person)
    worker = users[Role.COMMUNITY_WORKER]
    with pytest.raises(InvalidInputError):
        supplies.record_distribution(worker, household, "大米", 1, "斤", date(2025, 3, 1))
    line = supplies.record_distribution(worker, household, "大米", 1, "斤", date(2025, 2, 28))
    assert line.quantity == 1


def test_control_characters_never_reach_the_database(
    territory: Territory, users, people: People
) -> None:
    """A NUL cannot be stored in a text column: in a reason or an item it goes (no 500)."""
    worker = users[Role.COMMUNITY_WORKER]
    response = floating(worker, code=territory.home.code, reason="核查\x00流动人口")
    assert response.status_code == 200
    assert AccessLog.objects.get().reason == "核查 流动人口"
    line = supplies.record_distribution(
        worker, household_of(people.residents["甲"]), "大\x00米", 1, "斤", date(2025, 6, 1)
    )
    assert line.item == "大 米"


def test_anonymous_is_refused_and_a_reader_may_export(
    territory: Territory, users, people: People
) -> None:
    anonymous = APIClient()
    query = {"code": territory.home.code, "reason": REASON}
    for url in (
        reverse("register-floating", kwargs={"fmt": "xlsx"}),
        reverse("register-supplies", kwargs={"fmt": "pdf"}),
        reverse("person-cards"),
    ):
        assert anonymous.get(url, query).status_code == 403
    assert anonymous.post(reverse("supply-list"), {}, format="json").status_code == 403
    # Reading is exporting: a read-only account exports its community's register (logged).
    rows = workbook_rows(floating(users[Role.READ_ONLY], code=territory.home.code))
    assert [row[1] for row in rows[3:]] == ["甲", "乙"]
    assert AccessLog.objects.get().username == "reader"


def test_a_too_large_export_is_refused(
    territory: Territory, users, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More rows than a file holds (a whole district's register): 400, naming what to narrow,
    nothing logged."""
    from registry import registers

    monkeypatch.setattr(registers, "MAX_ROWS", 1)
    monkeypatch.setattr(registers, "MAX_CARDS", 2)
    admin = users[Role.DISTRICT_ADMIN]
    response = floating(admin, code=territory.office.code[:6])
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_rows"
    assert "3" in response.json()["detail_en"]
    cards = api(admin).get(reverse("person-cards"), {"code": territory.home.code, "reason": REASON})
    assert cards.status_code == 400 and cards.json()["code"] == "too_many_rows"
    assert not AccessLog.objects.exists()
    # A building with one floating resident still goes.
    alone = floating(admin, code=f"building={territory.away_building.pk}")
    assert [row[1] for row in workbook_rows(alone)[3:]] == ["丁"]
