"""The department exchange: a monthly file matched to the register row by row, decided by a
person through the register's services; bad files, duplicates, scope and encryption at rest."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook
from rest_framework.test import APIClient

from data import exchange
from data.models import ExchangeFile, ExchangeRow
from gis import services as gis_services
from gis.exceptions import ConflictError, InvalidInputError, NotFoundError, ScopeError
from gis.models import Role
from registry import retention
from registry.models import AccessLog, Occupancy, Resident
from registry.privacy import personal

from ..conftest import Territory
from ..factories import RoomFactory, UserFactory
from ..registry.factories import resident
from ..web.conftest import browser, signed_in, site  # noqa: F401 (the browser test's fixtures)

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).parent / "exchange_samples"
MONTHLY = SAMPLES / "monthly.csv"
ZHANG_WEI = "420606198005010239"
LI_NA = "420606198503120246"
WANG_QIANG = "420606198307200273"
SUN_LI = "420606197509090282"
WU_GANG = "420606198804040354"
UPLOADER = "420606001"  # the street supervisor's office

# spreadsheet row → (outcome, reason code, proposed action, community: home/away/uploader)
EXPECTED: dict[int, tuple[str, str, str, str]] = {
    2: ("updated", "", "move_out", "home"),  # 户籍迁出 of 张伟, by identity number
    3: ("updated", "", "join_household", "home"),  # 王强 marries 李娜: she joins his household
    4: ("matched", "", "", "home"),  # 孙丽 moves in where she already lives: nothing to change
    5: ("probable", "", "", "home"),  # 陈静: same name, birth date and room, no number
    6: ("probable", "", "", "home"),  # 赵敏 ~ 赵明 (fuzzy name), same birth date and room
    7: ("conflict", "several_candidates", "", "home"),  # two 周杰 of the same birth date
    8: ("new", "", "register", "home"),  # a newborn: into the father's household
    9: ("unmatched", "household_not_found", "", "home"),  # a newborn of a room of 3 households
    10: ("unmatched", "no_resident", "", "home"),  # 户籍迁出 of nobody on file
    12: ("invalid", "id_check_digit", "", "uploader"),  # garbage: a mistyped number
    13: ("invalid", "bad_date", "", "uploader"),  # garbage: 1990-13-45
    14: ("invalid", "name_missing", "", "uploader"),  # garbage: no name
    15: ("invalid", "unknown_event", "", "uploader"),  # garbage: 离婚登记 is not exchanged
    16: ("updated", "", "move_out", "away"),  # 户籍迁出 of 吴刚 of the other community
    17: ("new", "", "register", "home"),  # 户籍迁入 of a newcomer to a room of the register
}


class World:
    def __init__(self, territory: Territory, users: dict[str, Any]) -> None:
        self.territory = territory
        self.users = users
        self.worker = users[Role.COMMUNITY_WORKER]
        self.supervisor = users[Role.STREET_SUPERVISOR]
        self.reader = users[Role.READ_ONLY]
        home, away = territory.home_building, territory.away_building
        self.r501 = RoomFactory(building=home, floor=5, number="501")
        self.r502 = RoomFactory(building=home, floor=5, number="502")
        self.r301 = RoomFactory(building=away, floor=3, number="301")
        for building, road, number, rooms in (
            (home, "人民路", "12", (self.r501, self.r502)),
            (away, "长虹路", "8", (self.r301,)),
        ):
            plate = {"building": building, "road": road, "number": number, "building_number": "3"}
            gis_services.save_door_plate(actor=None, data=plate)
            for room in rooms:
                gis_services.save_door_plate(actor=None, data=plate | {"room": room})
        person = resident
        self.zhang = person(self.r501, name="张伟", id_number=ZHANG_WEI)
        self.li = person(self.r501, name="李娜", id_number=LI_NA)
        self.wang = person(self.r502, name="王强", id_number=WANG_QIANG)
        self.sun = person(self.r502, name="孙丽", id_number=SUN_LI)
        self.chen = person(
            self.r501, name="陈静", id_number="", birth_date=date(1990, 2, 2), sex="f"
        )
        self.zhao = person(
            self.r501, name="赵明", id_number="", birth_date=date(1991, 6, 15), sex="f"
        )
        self.zhou_home = person(
            self.r502, name="周杰", id_number="", birth_date=date(1992, 8, 8), sex="m"
        )
        self.zhou_away = person(
            self.r301, name="周杰", id_number="", birth_date=date(1992, 8, 8), sex="m"
        )
        self.wu = person(self.r301, name="吴刚", id_number=WU_GANG)
        with personal(system=True):
            self.wang_household = Occupancy.objects.get(resident=self.wang).household


@pytest.fixture
def world(territory: Territory, users: dict[str, Any], media_root: Path) -> World:
    return World(territory, users)


def submit(
    actor: Any, data: bytes, name: str, capture: Any
) -> ExchangeFile:  # the test settings run the job where it is queued
    with capture(execute=True):
        job = exchange.submit_exchange(actor=actor, data=data, name=name)
    job.refresh_from_db()
    return job


@pytest.fixture
def monthly(world: World, django_capture_on_commit_callbacks: Any) -> ExchangeFile:
    return submit(
        world.supervisor, MONTHLY.read_bytes(), "2026-11.csv", django_capture_on_commit_callbacks
    )


def rows_of(job: ExchangeFile, user: Any = None) -> dict[int, ExchangeRow]:
    with personal(user, system=user is None):
        query = ExchangeRow.objects.filter(file=job).select_related("resident")
        if user is not None:
            query = query.visible_to(user)
        return {row.row: row for row in query}


# -- the report, row by row


def test_report_row_by_row(world: World, monthly: ExchangeFile) -> None:
    assert monthly.status == "succeeded", monthly.error_en
    assert monthly.rows_read == len(EXPECTED)  # the blank row 11 is skipped, no row is dropped
    rows = rows_of(monthly)
    codes = {
        "home": world.territory.home.code,
        "away": world.territory.away.code,
        "uploader": UPLOADER,
    }
    got = {
        number: (row.outcome, row.reason_code, row.proposed.get("action", ""), row.community_code)
        for number, row in rows.items()
    }
    assert got == {
        number: (outcome, reason, action, codes[place])
        for number, (outcome, reason, action, place) in EXPECTED.items()
    }
    # Exact matches by identity number: score 1.0, the resident, masked numbers only.
    assert (rows[2].resident, rows[2].score) == (world.zhang, 1.0)
    assert rows[2].id_number_masked == "4206**********0239"
    assert ZHANG_WEI not in rows[2].id_number and rows[2].id_number_hash
    assert rows[2].proposed == {"action": "move_out", "on": "2026-11-02"}
    assert rows[3].proposed["spouse"] == world.li.pk
    assert rows[3].proposed["household"] == world.wang_household.pk
    assert rows[3].other_id_number_masked == "4206**********0246"
    assert rows[4].resident == world.sun and rows[4].proposed == {}
    # Fuzzy matches: the weights of the module's docstring.
    assert (rows[5].resident, rows[5].score) == (world.chen, 1.0)
    assert (rows[6].resident, rows[6].score) == (world.zhao, 0.75)
    assert rows[6].proposed == {"changes": {"name": "赵敏"}}
    # A conflict lists both 周杰 (0.3 + 0.5: the address names no room of the register).
    assert rows[7].resident is None
    assert [(c["id"], c["score"]) for c in rows[7].candidates] == [
        (world.zhou_home.pk, 0.8),
        (world.zhou_away.pk, 0.8),
    ]
    # New: a newborn into the father's household; a newcomer into a room with a new household.
    assert rows[8].proposed["household"] == world.wang_household.pk
    assert rows[8].proposed["relation"] == "child"
    assert rows[17].proposed == {
        "action": "register",
        "room": world.r502.pk,
        "household": None,
        "relation": "head",
        "on": "2026-11-12",
    }
    # Garbage rows keep their reason in both languages and the masked number only.
    assert rows[12].id_number == "" and "4206**********0230" in rows[12].reason_en
    assert "0230" in rows[12].reason_zh and "420606198005010230" not in rows[12].reason_en
    assert rows[16].resident == world.wu


def test_counts_by_outcome_are_the_viewers(world: World, monthly: ExchangeFile) -> None:
    with personal(world.supervisor):
        supervisor = exchange.counts(monthly, world.supervisor)
    with personal(world.worker):
        worker = exchange.counts(monthly, world.worker)
    assert supervisor == {
        "matched": 1,
        "probable": 2,
        "updated": 3,
        "new": 2,
        "conflict": 1,
        "unmatched": 2,
        "invalid": 4,
        "total": 15,
        "undecided": 15,
    }
    # The worker of `home` sees neither `away`'s row nor the rows with no place.
    assert worker == supervisor | {"updated": 2, "invalid": 0, "total": 10, "undecided": 10}


def test_a_worker_of_home_never_sees_aways_rows(world: World, monthly: ExchangeFile) -> None:
    away = UserFactory(username="away", grants=[(Role.COMMUNITY_WORKER, world.territory.away.code)])
    assert set(rows_of(monthly, world.worker)) == {2, 3, 4, 5, 6, 7, 8, 9, 10, 17}
    assert set(rows_of(monthly, away)) == {16}
    # Row-level security applies without the explicit filter too.
    with personal(world.worker):
        assert set(ExchangeRow.objects.values_list("row", flat=True)) == set(
            rows_of(monthly, world.worker)
        )
    with personal(away):
        assert list(ExchangeRow.objects.values_list("row", flat=True)) == [16]
    row16 = rows_of(monthly)[16]
    with pytest.raises(NotFoundError):
        exchange.decide(world.worker, row16.pk, action="accept")
    # The candidate of `away` in row 7 is not shown to the worker, nor counted in the reason.
    with personal(world.worker):
        body = exchange.row_body(rows_of(monthly)[7], world.worker)
    assert [c["id"] for c in body["candidates"]] == [world.zhou_home.pk]
    assert body["candidates"][0]["id_number_masked"] == ""
    assert "2" not in body["reason_en"] and "1 residents match" in body["reason_en"]


# -- decisions, through the register's services


def test_decisions_apply_through_the_services(world: World, monthly: ExchangeFile) -> None:
    rows = rows_of(monthly)
    worker = world.worker
    exchange.decide(worker, rows[2].pk, action="accept")
    with personal(worker):
        assert Occupancy.objects.get(resident=world.zhang).moved_out == date(2026, 11, 2)
    exchange.decide(worker, rows[3].pk, action="accept")
    household = world.wang_household
    with personal(worker):
        joined = Occupancy.objects.current().get(resident=world.li)
        assert (joined.household, joined.relation) == (household, "spouse")
    exchange.decide(worker, rows[6].pk, action="accept")
    with personal(worker):
        assert Resident.objects.get(pk=world.zhao.pk).name == "赵敏"
    newborn = exchange.decide(worker, rows[8].pk, action="register")
    with personal(worker):
        baby = Resident.objects.get(pk=newborn.resident_id)
        assert (baby.name, baby.birth_date, baby.id_number_masked) == (
            "王小宝",
            date(2026, 10, 1),
            "4206**********0316",
        )
        assert Occupancy.objects.get(resident=baby).household == household
        assert Occupancy.objects.get(resident=baby).relation == "child"
    picked = exchange.decide(worker, rows[7].pk, action="pick", candidate=world.zhou_home.pk)
    assert (picked.decision, picked.resident_id) == ("picked", world.zhou_home.pk)
    exchange.decide(worker, rows[10].pk, action="reject", note="not our resident")
    with personal(worker):
        decided = ExchangeRow.objects.get(pk=rows[10].pk)
    assert (decided.decision, decided.decided_by, decided.decision_note) == (
        "rejected",
        worker,
        "not our resident",
    )
    assert decided.decided_at is not None
    # Decided once: the second decision is refused and changes nothing.
    with pytest.raises(ConflictError) as caught:
        exchange.decide(worker, rows[2].pk, action="reject", note="changed my mind")
    assert caught.value.code == "already_decided"


def test_decisions_refused(world: World, monthly: ExchangeFile) -> None:
    rows = rows_of(monthly)
    with pytest.raises(InvalidInputError) as caught:
        exchange.decide(world.worker, rows[10].pk, action="reject", note="")
    assert caught.value.code == "note_required"
    with pytest.raises(NotFoundError):  # a garbage row has no place: the office's supervisors'
        exchange.decide(world.worker, rows[12].pk, action="reject", note="garbage")
    with pytest.raises(InvalidInputError) as caught:  # garbage is only rejected
        exchange.decide(world.supervisor, rows[12].pk, action="accept")
    assert caught.value.code == "decision_not_allowed"
    with pytest.raises(InvalidInputError) as caught:
        exchange.decide(world.worker, rows[7].pk, action="pick", candidate=world.wang.pk)
    assert caught.value.code == "not_a_candidate"
    with pytest.raises(NotFoundError):  # the other 周杰 is out of the worker's territory
        exchange.decide(world.worker, rows[7].pk, action="pick", candidate=world.zhou_away.pk)
    with pytest.raises(ScopeError):
        exchange.decide(world.reader, rows[2].pk, action="accept")
    with personal(system=True):
        assert not ExchangeRow.objects.exclude(decision="").exists()


# -- files: refused, duplicates, encryption at rest, retention


def test_same_file_twice_is_a_duplicate(
    world: World, monthly: ExchangeFile, django_capture_on_commit_callbacks: Any
) -> None:
    with pytest.raises(ConflictError) as caught:
        submit(world.worker, MONTHLY.read_bytes(), "again.csv", django_capture_on_commit_callbacks)
    assert caught.value.code == "duplicate_file"
    assert "2026-11.csv" in caught.value.render("en")
    assert ExchangeFile.objects.count() == 1


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = "事件类型,姓名,出生日期,身份证号,住址,事件日期\n"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("events.txt", b"x", "unsupported_format"),
        ("events.csv", b"", "empty_file"),
        ("events.csv", "姓名,电话\n张三,1\n".encode(), "unknown_headers"),
        (
            "events.csv",
            (HEADER + "户籍迁入,张三,1990-01-01,,,2026-11-01\n").encode("utf-16-le"),
            "unknown_encoding",
        ),
        ("events.csv", HEADER.encode(), "no_rows"),
        ("events.xlsx", b"PK not a workbook", "unreadable_file"),
    ],
)
def test_bad_files_are_refused_by_name(
    world: World, name: str, data: bytes, code: str, django_capture_on_commit_callbacks: Any
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        submit(world.worker, data, name, django_capture_on_commit_callbacks)
    assert caught.value.code == code
    assert name in caught.value.render("en") and name in caught.value.render("zh-hans")
    assert not ExchangeFile.objects.exists()


def test_size_and_row_limits(
    world: World, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setattr(exchange, "MAX_ROWS", 3)
    body = HEADER + "户籍迁入,张三,1990-01-01,,,2026-11-01\n" * 4
    with pytest.raises(InvalidInputError) as caught:
        submit(world.worker, body.encode(), "big.csv", django_capture_on_commit_callbacks)
    assert caught.value.code == "too_many_rows"
    monkeypatch.setattr(exchange, "MAX_BYTES", 10)
    with pytest.raises(InvalidInputError) as caught:
        submit(world.worker, body.encode(), "big.csv", django_capture_on_commit_callbacks)
    assert caught.value.code == "file_too_large"


def test_gbk_and_xlsx_read_like_utf8(world: World, django_capture_on_commit_callbacks: Any) -> None:
    text = MONTHLY.read_text(encoding="utf-8")
    gbk = submit(
        world.supervisor, text.encode("gbk"), "gbk.csv", django_capture_on_commit_callbacks
    )
    lines = [line.split(",") for line in text.splitlines()]
    book = submit(world.supervisor, _xlsx(lines), "book.xlsx", django_capture_on_commit_callbacks)
    for job in (gbk, book):
        assert job.status == "succeeded", job.error_en
        got = {n: (r.outcome, r.reason_code) for n, r in rows_of(job).items()}
        assert got == {n: (e[0], e[1]) for n, e in EXPECTED.items()}


def test_file_is_encrypted_at_rest_and_purged(world: World, monthly: ExchangeFile) -> None:
    stored = Path(monthly.file.path).read_bytes()
    assert ZHANG_WEI.encode() not in stored and "张伟".encode() not in stored
    assert exchange.read_file(monthly) == MONTHLY.read_bytes()
    path = Path(monthly.file.path)
    later = date.today().replace(year=date.today().year + 1)
    assert exchange.purge_files(later, {"files_days": 90, "resident_days": 3 * 365}) == {
        "exchange_files": 1,
        "exchange_rows": 0,
    }
    assert not path.exists()
    monthly.refresh_from_db()
    assert monthly.purged_at is not None and not monthly.file
    assert exchange.purge_files in retention._purgers  # registered when the app is ready


def test_matching_is_in_the_access_log(world: World, monthly: ExchangeFile) -> None:
    with personal(system=True):
        entry = AccessLog.objects.get(action="search")
    assert (entry.username, entry.rows) == ("street", 6)  # rows 2, 3, 4, 8, 10, 16
    assert "2026-11.csv" in entry.what and str(monthly.pk) in entry.reason


def test_read_only_may_not_submit(world: World, django_capture_on_commit_callbacks: Any) -> None:
    with pytest.raises(ScopeError):
        submit(world.reader, MONTHLY.read_bytes(), "m.csv", django_capture_on_commit_callbacks)


# -- the API


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_upload_report_rows_and_decide(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    supervisor = _client(world.supervisor)
    upload = SimpleUploadedFile("2026-11.csv", MONTHLY.read_bytes(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = supervisor.post(
            reverse("exchange-file-list"), {"file": upload}, format="multipart"
        )
    assert response.status_code == 202, response.content
    url = response.json()["url"]
    report = supervisor.get(url).json()
    assert report["status"] == "succeeded" and report["percent"] == 100
    assert report["counts"]["total"] == 15 and report["counts"]["invalid"] == 4

    worker = _client(world.worker)
    listed = worker.get(reverse("exchange-file-list")).json()["results"]
    assert [f["id"] for f in listed] == [report["id"]]
    assert worker.get(url).json()["counts"]["total"] == 10
    answer = worker.get(report["rows_url"], {"outcome": "updated"})
    assert answer["Cache-Control"] == "private, no-store"
    rows = answer.json()["results"]
    assert [r["row"] for r in rows] == [2, 3]
    assert rows[0]["id_number_masked"] == "4206**********0239"
    assert ZHANG_WEI not in str(worker.get(report["rows_url"]).content)
    decide = reverse("exchange-decide", kwargs={"pk": rows[0]["id"]})
    first = worker.post(decide, {"action": "accept"}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["decision"] == "accepted" and first.json()["decided_by"] == "worker"
    again = worker.post(decide, {"action": "accept"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_decided"

    # Out of the worker's territory: `away`'s row answers 404, to read and to decide.
    away_row = rows_of(ExchangeFile.objects.get(), None)[16]
    assert (
        worker.post(
            reverse("exchange-decide", kwargs={"pk": away_row.pk}),
            {"action": "accept"},
            format="json",
        ).status_code
        == 404
    )
    huge = reverse("exchange-decide", kwargs={"pk": 10**20})
    assert worker.post(huge, {"action": "accept"}, format="json").status_code == 404
    # The street supervisor decides `away`'s row (and rejects a garbage row with no place).
    answer = supervisor.post(
        reverse("exchange-decide", kwargs={"pk": away_row.pk}), {"action": "accept"}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["decision"] == "accepted"
    reader = _client(world.reader)
    assert reader.post(decide, {"action": "accept"}, format="json").status_code == 403
    assert worker.get(report["rows_url"], {"outcome": "bogus"}).status_code == 400
    away = UserFactory(username="away", grants=[(Role.COMMUNITY_WORKER, world.territory.away.code)])
    away_rows = _client(away).get(report["rows_url"]).json()["results"]
    assert [r["row"] for r in away_rows] == [16]
    stranger = UserFactory(username="x", grants=[(Role.COMMUNITY_WORKER, "420602001001")])
    assert _client(stranger).get(url).status_code == 404
    assert _client(stranger).get(reverse("exchange-file-list")).json()["results"] == []
    assert APIClient().get(url).status_code == 403


def test_api_refuses_a_bad_upload_in_both_languages(world: World) -> None:
    upload = SimpleUploadedFile("events.txt", b"hello", content_type="text/plain")
    response = _client(world.worker).post(
        reverse("exchange-file-list"), {"file": upload}, format="multipart"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unsupported_format" and "events.txt" in body["detail_en"]
    assert body["detail_zh"]


def test_the_page(world: World, monthly: ExchangeFile, client: Any) -> None:
    client.force_login(world.worker)
    page = client.get(reverse("exchange"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "exchange.js" in text and "http://" not in text.replace("http://testserver", "")
    client.logout()
    assert client.get(reverse("exchange")).status_code == 302


# -- the page in a browser: upload, the report with its progress bar, decisions; phone layout,
# no outside host


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_page_in_a_browser(world: World, request: pytest.FixtureRequest) -> None:
    from ..web.browser import PHONE
    from ..web.test_offline_browser import assert_offline

    page, guard = request.getfixturevalue("signed_in")(Role.STREET_SUPERVISOR, "/exchange/")
    page.set_input_files("#ex-file", str(MONTHLY))
    page.click("#ex-upload button[type=submit]")
    page.wait_for_selector("#ex-rows li.ex-row")
    assert page.locator("#ex-progress").get_attribute("aria-valuenow") == "100"
    assert page.locator("#ex-rows li.ex-row").count() == len(EXPECTED)
    page.click("#ex-counts button.o-updated")
    page.wait_for_function("document.querySelectorAll('#ex-rows li.ex-row').length === 3")
    first = page.locator("#ex-rows li.ex-row").first
    assert "4206**********0239" in first.inner_text()
    first.get_by_role("button", name="接受变更").click()  # the page is in Chinese
    page.wait_for_selector("#ex-rows li.ex-row .decided")
    assert "street" in page.locator("#ex-rows li.ex-row .decided").first.inner_text()
    page.click("#ex-counts button.o-invalid")
    page.wait_for_function("document.querySelectorAll('#ex-rows li.ex-row').length === 4")
    garbage = page.locator("#ex-rows li.ex-row").first
    garbage.locator("input").fill("mistyped number")
    garbage.get_by_role("button", name="驳回").click()
    page.wait_for_selector("#ex-rows li.ex-row .decided")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert_offline(guard)
    # The same file again is refused, in both languages (the 409 is the only failed request).
    page.set_input_files("#ex-file", str(MONTHLY))
    page.click("#ex-upload button[type=submit]")
    page.wait_for_selector("#ex-upload-error:not([hidden])")
    assert "同一文件不会重复导入" in page.locator("#ex-upload-error").inner_text()
    assert [f.rsplit(": ", 1)[-1] for f in guard.failed] == ["HTTP 409"]
    with personal(system=True):
        decided = set(ExchangeRow.objects.exclude(decision="").values_list("row", "decision"))
    assert decided == {(2, "accepted"), (12, "rejected")}


def test_probable_match_gets_the_number_and_moves_when_accepted(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """A resident registered without a number, found by name, birth date and building: the row
    proposes adding its number and the move to the room it names; accepting does both."""
    qian = resident(world.r502, name="钱多", id_number="", birth_date=date(1993, 3, 3), sex="m")
    number = "420606199303030419"
    body = HEADER + f"户籍迁入,钱多,1993-03-03,{number},人民路12号3栋501室,2026-11-20\n"
    job = submit(world.worker, body.encode(), "qian.csv", django_capture_on_commit_callbacks)
    (row,) = rows_of(job).values()
    assert (row.outcome, row.resident, row.score) == ("probable", qian, 0.9)
    assert row.proposed == {
        "changes": {"id_number": "4206**********0419"},
        "action": "move",
        "room": world.r501.pk,
        "on": "2026-11-20",
    }
    exchange.decide(world.worker, row.pk, action="accept")
    with personal(world.worker):
        stored = Resident.objects.get(pk=qian.pk)
        assert stored.id_number_masked == "4206**********0419"
        assert Occupancy.objects.current().get(resident=qian).room == world.r501


def test_a_note_loses_its_control_characters(world: World, monthly: ExchangeFile) -> None:
    row = rows_of(monthly)[10]
    answer = _client(world.worker).post(
        reverse("exchange-decide", kwargs={"pk": row.pk}),
        {"action": "reject", "note": "not\x00 ours\x07\x1b here"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["decision_note"] == "not ours here"
    with pytest.raises(InvalidInputError) as caught:  # control characters alone are no note
        exchange.decide(
            world.worker, rows_of(monthly)[9].pk, action="reject", note="\x00\x01\x02\x03"
        )
    assert caught.value.code == "note_required"


def test_a_failing_access_log_keeps_no_row(
    world: World, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the access log is down")

    monkeypatch.setattr(exchange, "log_access", broken)
    job = submit(
        world.supervisor, MONTHLY.read_bytes(), "2026-11.csv", django_capture_on_commit_callbacks
    )
    assert job.status == "failed" and job.rows_read == 0
    assert rows_of(job) == {}
    # Submitted again once the log works: imported once, no row twice.
    monkeypatch.undo()
    again = submit(
        world.supervisor, MONTHLY.read_bytes(), "2026-11.csv", django_capture_on_commit_callbacks
    )
    assert again.status == "succeeded"
    with personal(system=True):
        assert ExchangeRow.objects.count() == len(EXPECTED)


def test_an_uploader_of_several_districts_is_refused(world: World) -> None:
    both = UserFactory(
        username="both",
        grants=[
            (Role.COMMUNITY_WORKER, world.territory.home.code),
            (Role.COMMUNITY_WORKER, "420602001001"),
        ],
    )
    assert exchange.uploader_code(both) == ""
    upload = SimpleUploadedFile("2026-11.csv", MONTHLY.read_bytes(), content_type="text/csv")
    response = _client(both).post(
        reverse("exchange-file-list"), {"file": upload}, format="multipart"
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "several_districts"
    assert "district administrator" in body["detail_en"] and body["detail_zh"]
    assert not ExchangeFile.objects.exists()
    # Grants within one district: the district's code (a code of the territory, never a part).
    two_offices = UserFactory(
        username="two",
        grants=[
            (Role.COMMUNITY_WORKER, world.territory.home.code),
            (Role.COMMUNITY_WORKER, "420606002001"),
        ],
    )
    assert exchange.uploader_code(two_offices) == "420606"
    assert exchange.uploader_code(world.worker) == world.territory.home.code


MOVE_OUT = (
    "事件类型,姓名,出生日期,身份证号,住址,事件日期\n户籍迁出,{name},{birth},{number},,2026-11-03\n"
)


def _figures(client: APIClient, url: str) -> dict[str, Any]:
    body = client.get(url).json()
    rows = client.get(body["rows_url"]).json()
    shown = [
        {k: v for k, v in r.items() if k not in ("id", "name", "id_number_masked", "birth_date")}
        for r in rows["results"]
    ]
    keep = ("status", "percent", "done", "total", "rows_read", "counts", "finished")
    return {k: body[k] for k in keep} | {"count": rows["count"], "rows": shown}


def test_an_upload_finds_nobody_out_of_the_uploaders_sight(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """A worker of `home` uploading a number registered in `away` learns what a number nobody
    has would tell: one unmatched row of their own community, the same figures."""
    from registry.idnumber import make

    worker = _client(world.worker)
    urls = []
    for name, birth, number in (
        ("吴刚", "1988-04-04", WU_GANG),  # on the register, in `away`
        ("吴刚", "1988-04-04", make("420606", date(1988, 4, 4), 77, male=True)),  # nobody's
    ):
        upload = SimpleUploadedFile(
            f"{number[-4:]}.csv",
            MOVE_OUT.format(name=name, birth=birth, number=number).encode(),
            content_type="text/csv",
        )
        with django_capture_on_commit_callbacks(execute=True):
            answer = worker.post(
                reverse("exchange-file-list"), {"file": upload}, format="multipart"
            )
        assert answer.status_code == 202, answer.content
        assert answer.json()["total"] is None and answer.json()["rows_read"] is None
        urls.append(answer.json()["url"])
    registered, nobody = (_figures(worker, url) for url in urls)
    assert registered == nobody
    assert registered["rows_read"] == registered["total"] == registered["count"] == 1
    assert registered["rows"][0]["outcome"] == "unmatched"
    assert registered["rows"][0]["reason_code"] == "no_resident"
    assert registered["rows"][0]["community_code"] == world.territory.home.code
    with personal(system=True):
        assert not ExchangeRow.objects.filter(resident=world.wu).exists()


def test_file_figures_are_those_of_the_rows_seen(world: World, monthly: ExchangeFile) -> None:
    away = UserFactory(username="away", grants=[(Role.COMMUNITY_WORKER, world.territory.away.code)])
    url = reverse("exchange-file-detail", kwargs={"pk": monthly.pk})
    body = _client(away).get(url).json()
    assert (body["rows_read"], body["done"], body["total"]) == (1, 1, 1)
    assert body["counts"]["total"] == 1 and body["file_size"] is None
    listed = _client(away).get(reverse("exchange-file-list")).json()["results"][0]
    assert (listed["rows_read"], listed["total"], listed["file_size"]) == (1, 1, None)
    home = _client(world.worker).get(url).json()
    assert (home["rows_read"], home["total"]) == (10, 10)
    supervisor = _client(world.supervisor).get(url).json()  # the uploader: the rows it sees
    assert (supervisor["rows_read"], supervisor["total"]) == (15, 15)
    assert supervisor["file_size"] == len(MONTHLY.read_bytes())
    superuser = UserFactory(username="root", is_superuser=True)
    assert _client(superuser).get(url).json()["rows_read"] == len(EXPECTED)


MARRIAGE = (
    "事件类型,姓名,出生日期,身份证号,住址,事件日期,配偶姓名,配偶身份证号\n"
    f"婚姻登记,王强,1983-07-20,{WANG_QIANG},,2026-11-05,吴刚,{WU_GANG}\n"
)


def test_a_spouse_out_of_sight_is_not_in_the_proposal(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    job = submit(
        world.supervisor, MARRIAGE.encode(), "marriage.csv", django_capture_on_commit_callbacks
    )
    (row,) = rows_of(job).values()
    assert row.community_code == world.territory.home.code
    assert row.proposed["spouse"] == world.wu.pk  # kept for the supervisor, who sees both
    with personal(world.supervisor):
        assert exchange.row_body(row, world.supervisor)["proposed"] == row.proposed
    answer = (
        _client(world.worker)
        .get(reverse("exchange-rows", kwargs={"pk": job.pk}))
        .json()["results"][0]
    )
    assert answer["proposed"] == {}
    # (the spouse's masked number the row shows is the file's own: other_id_number_masked)
    assert "spouse" not in str(answer) and answer["candidates"][0]["id"] == world.wang.pk
    # Accepting a change the worker cannot see is not offered, and refused like any other
    # decision the row does not allow (not "no such resident": that would say there is one).
    assert answer["actions"] == ["pick", "reject"]
    with pytest.raises(InvalidInputError) as caught:
        exchange.decide(world.worker, row.pk, action="accept")
    assert caught.value.code == "decision_not_allowed"
    with personal(world.supervisor):
        assert "accept" in exchange.row_body(row, world.supervisor)["actions"]
    # In sight, the spouse is shown (李娜 of `home`).
    with personal(world.worker):
        shown = exchange.visible_proposal(
            {
                "action": "join_household",
                "spouse": world.li.pk,
                "spouse_masked": "x",
                "room": world.r502.pk,
                "household": world.wang_household.pk,
                "on": "2026-11-05",
            },
            world.worker,
        )
        assert shown["spouse"] == world.li.pk and shown["room"] == world.r502.pk
        hidden_room = exchange.visible_proposal(
            {"action": "move", "room": world.r301.pk, "on": "2026-11-05"}, world.worker
        )
        assert hidden_room == {"action": "move", "on": "2026-11-05"}
