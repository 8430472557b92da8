"""The register's privacy core: identity numbers, encryption, row-level security, the guard,
reveal and the append-only access log."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.db import DatabaseError, connection, transaction

from gis.exceptions import InvalidInputError, NotFoundError, ScopeError
from gis.models import Role
from registry import crypto, idnumber, keys, services
from registry.models import AccessLog, Household, Occupancy, Resident
from registry.privacy import OutsideContext, log_access, personal

from ..conftest import Territory
from ..factories import RoomFactory, UserFactory
from .factories import id_number, resident

pytestmark = pytest.mark.django_db


# -- GB 11643


def test_check_character_of_the_standard_example() -> None:
    # The standard's own example: 11010519491231002X.
    assert idnumber.check_character("11010519491231002") == "X"
    parsed = idnumber.parse("11010519491231002x")
    assert (parsed.value, parsed.birth_date, parsed.male) == (
        "11010519491231002X",
        date(1949, 12, 31),
        False,
    )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("11010519491231002", "id_shape"),
        ("1101051949123100AX", "id_shape"),
        ("110105194913310025", "id_birth_date"),
        ("110105194912310021", "id_check_digit"),
    ],
)
def test_bad_numbers_say_which_rule(raw: str, code: str) -> None:
    with pytest.raises(idnumber.IdNumberError) as caught:
        idnumber.parse(raw)
    assert caught.value.code == code


def test_masking() -> None:
    assert idnumber.mask("420602199001011234") == "4206**********1234"


# -- encryption


def test_ciphertext_names_its_key_and_is_bound_to_its_column() -> None:
    token = crypto.encrypt("420602199001011234", context="resident.id_number")
    assert token.startswith(crypto.keyring().current + "$")
    assert "4206" not in token
    assert crypto.decrypt(token, context="resident.id_number") == "420602199001011234"
    with pytest.raises(crypto.KeyringError):
        crypto.decrypt(token, context="resident.phone")
    assert crypto.encrypt("x", context="c") != crypto.encrypt("x", context="c")  # fresh nonce


def test_rotation_reencrypts_every_row(territory: Territory, tmp_path, settings) -> None:
    path = tmp_path / "keys.json"
    crypto.write_keyring(path, crypto.keyring())
    settings.PLATEGRID_KEYRING = str(path)
    person = resident(RoomFactory(building=territory.home_building))
    old = crypto.keyring().current
    new = crypto.add_key(path)
    assert new != old
    assert keys.reencrypt() == {"id_number": 1, "phone": 1}
    with personal(system=True):
        stored = Resident.objects.get(pk=person.pk)
    assert crypto.key_of(stored.id_number) == new == crypto.key_of(stored.phone)
    assert services.reveal_fields(stored)["phone"] == "13812345678"


# -- the register's services


def test_register_encrypts_hashes_and_masks(territory: Territory, users) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    number = id_number(date(1985, 6, 1), male=False)
    person = resident(RoomFactory(building=territory.home_building), actor=worker, id_number=number)
    with personal(worker):
        stored = Resident.objects.get(pk=person.pk)
        assert stored.id_number_masked == idnumber.mask(number)
        assert number not in stored.id_number and "13812345678" not in stored.phone
        assert stored.phone_masked == "138****5678"
        assert (stored.birth_date, stored.sex) == (date(1985, 6, 1), "f")
        assert stored.community_code == territory.home.code
        assert Household.objects.get().occupancies.get().relation == "head"


def test_one_file_per_identity_number_even_across_communities(territory: Territory, users) -> None:
    number = id_number()
    resident(RoomFactory(building=territory.away_building), id_number=number)
    with pytest.raises(InvalidInputError) as caught:
        resident(
            RoomFactory(building=territory.home_building),
            actor=users[Role.COMMUNITY_WORKER],
            id_number=number,
        )
    assert caught.value.code == "duplicate_id_number"
    # It told the worker the number is on file somewhere: logged as a search, masked.
    entry = AccessLog.objects.get()
    assert (entry.action, entry.username, entry.rows) == ("search", "worker", 1)
    assert number not in entry.what and idnumber.mask(number) in entry.what
    # Changing another file to that number is refused the same way (the unique index: the file
    # on record is out of the worker's sight), not a server error.
    other = resident(
        RoomFactory(building=territory.home_building), actor=users[Role.COMMUNITY_WORKER]
    )
    with pytest.raises(InvalidInputError) as caught:
        services.update_resident(users[Role.COMMUNITY_WORKER], other, {"id_number": number})
    assert caught.value.code == "duplicate_id_number"
    assert AccessLog.objects.count() == 2


def test_bad_identity_number_is_refused_masked(territory: Territory) -> None:
    with pytest.raises(InvalidInputError) as caught:
        resident(RoomFactory(building=territory.home_building), id_number="420606199001011230")
    assert caught.value.code == "id_check_digit"
    assert "4206**********1230" in caught.value.render("en")
    assert "420606199001011230" not in caught.value.render("zh-hans")
    with personal(system=True):
        assert not Resident.objects.exists()


def test_moves_keep_occupancy_over_time(territory: Territory, users) -> None:
    worker = users[Role.STREET_SUPERVISOR]
    first = RoomFactory(building=territory.home_building)
    second = RoomFactory(building=territory.away_building)
    person = resident(first, actor=worker, moved_in=date(2023, 1, 1))
    services.record_follow_up(worker, person, done_on=date(2023, 7, 1), outcome="seen")
    services.move(worker, person, room=second, on=date(2024, 3, 1))
    with personal(worker):
        # The file moved with its follow-ups (the new community sees them).
        assert list(person.follow_ups.values_list("community_code", flat=True)) == [
            territory.away.code
        ]
        assert list(Occupancy.objects.as_of(date(2023, 6, 1)).values_list("room", flat=True)) == [
            first.pk
        ]
        assert list(Occupancy.objects.as_of(date(2024, 3, 1)).values_list("room", flat=True)) == [
            second.pk
        ]
        assert Resident.objects.get().community_code == territory.away.code
    services.move_out(worker, person, on=date(2024, 5, 1), outflowing=True)
    with personal(worker):
        assert not Occupancy.objects.as_of(date(2024, 6, 1)).exists()
        assert Resident.objects.get().category == "outflowing"
    with pytest.raises(InvalidInputError):
        services.move(worker, person, room=first, on=date(2024, 4, 1))  # before the move-out


def test_a_birth_date_that_disagrees_with_the_number_is_named(territory: Territory) -> None:
    with pytest.raises(InvalidInputError) as caught:
        resident(
            RoomFactory(building=territory.home_building),
            id_number=id_number(date(1990, 1, 1)),
            birth_date=date(1991, 1, 1),
        )
    assert caught.value.code == "id_mismatch" and caught.value.field == "birth_date"
    assert "birth date" in caught.value.render("en")


def test_leaving_as_out_flowing_takes_its_schedule(territory: Territory) -> None:
    person = resident(RoomFactory(building=territory.home_building), category="floating")
    with personal(system=True):
        assert person.schedule.code == "floating-quarterly"
    services.move_out(None, person, on=date(2025, 1, 1), outflowing=True)
    with personal(system=True):
        assert Resident.objects.get(pk=person.pk).schedule.code == "outflowing-halfyear"


def test_worker_cannot_write_another_community(territory: Territory, users) -> None:
    with pytest.raises(ScopeError):
        resident(RoomFactory(building=territory.away_building), actor=users[Role.COMMUNITY_WORKER])


# -- scope twice: visible_to and row-level security


def _raw_names(user=None, **kwargs) -> list[str]:
    with personal(user, **kwargs), connection.cursor() as cursor:
        cursor.execute("SELECT name FROM registry_resident ORDER BY name")
        return [name for (name,) in cursor.fetchall()]


def test_row_level_security_hides_other_communities_from_raw_sql(
    territory: Territory, users
) -> None:
    resident(RoomFactory(building=territory.home_building), name="甲")
    resident(RoomFactory(building=territory.away_building), name="乙")
    assert _raw_names(users[Role.COMMUNITY_WORKER]) == ["甲"]
    assert _raw_names(users[Role.STREET_SUPERVISOR]) == ["乙", "甲"]
    assert _raw_names(UserFactory(username="nobody")) == []
    # History rows too.
    with personal(users[Role.COMMUNITY_WORKER]), connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT community_code FROM registry_residentevent")
        assert cursor.fetchall() == [(territory.home.code,)]


def test_row_level_security_refuses_writing_outside_the_scope(territory: Territory, users) -> None:
    person = resident(RoomFactory(building=territory.home_building))
    with pytest.raises(DatabaseError), transaction.atomic():
        with personal(users[Role.COMMUNITY_WORKER]), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE registry_resident SET community_code = %s WHERE id = %s",
                [territory.away.code, person.pk],
            )


def test_without_a_scope_the_operator_sees_nothing(territory: Territory) -> None:
    resident(RoomFactory(building=territory.home_building))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE plategrid_operator")
        cursor.execute("SELECT count(*) FROM registry_resident")
        assert cursor.fetchone() == (0,)


def test_the_context_is_per_transaction_and_restored(territory: Territory, users) -> None:
    with personal(users[Role.COMMUNITY_WORKER]), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_setting('plategrid.scope')")
        assert cursor.fetchone() == ("plategrid_operator", territory.home.code)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user = session_user, current_setting('plategrid.scope', true)"
        )
        assert cursor.fetchone() == (True, "")


def test_guard_refuses_personal_reads_outside_the_context(territory: Territory) -> None:
    with pytest.raises(OutsideContext):
        list(Resident.objects.all())


# -- reveal, search and the access log


def _revealer(territory: Territory):
    user = UserFactory(username="revealer", grants=[(Role.COMMUNITY_WORKER, territory.home.code)])
    user.user_permissions.add(Permission.objects.get(codename="reveal_resident"))
    return type(user).objects.get(pk=user.pk)


def test_reveal_needs_the_permission_a_reason_and_the_territory(
    territory: Territory, users
) -> None:
    number = id_number()
    home = resident(RoomFactory(building=territory.home_building), id_number=number)
    away = resident(RoomFactory(building=territory.away_building))
    revealer = _revealer(territory)
    with pytest.raises(InvalidInputError):
        services.reveal(revealer, home.pk, reason="  ")
    with pytest.raises(ScopeError):
        services.reveal(users[Role.COMMUNITY_WORKER], home.pk, reason="核对租户身份")
    with pytest.raises(NotFoundError):
        services.reveal(revealer, away.pk, reason="核对租户身份")
    assert services.reveal(revealer, home.pk, reason="核对租户身份", path="/x") == {
        "id_number": number,
        "phone": "13812345678",
    }
    entry = AccessLog.objects.get()
    assert (entry.username, entry.action, entry.object_id, entry.reason) == (
        "revealer",
        "reveal",
        home.pk,
        "核对租户身份",
    )


def test_search_by_number_is_scoped_and_logged_found_or_not(territory: Territory, users) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    home_number, away_number = id_number(), id_number()
    home = resident(RoomFactory(building=territory.home_building), id_number=home_number)
    resident(RoomFactory(building=territory.away_building), id_number=away_number)
    assert services.find_by_id_number(worker, home_number.lower(), reason="来访登记核对") == home
    assert services.find_by_id_number(worker, away_number, reason="来访登记核对") is None
    logged = list(AccessLog.objects.order_by("id").values_list("action", "rows", "what"))
    assert [row[:2] for row in logged] == [("search", 1), ("search", 0)]
    assert all(home_number not in row[2] and away_number not in row[2] for row in logged)


def test_access_log_cannot_be_changed_or_deleted(users) -> None:
    log_access(users[Role.COMMUNITY_WORKER], "export", "register", reason="月度上报")
    for statement in (
        "UPDATE registry_accesslog SET reason = 'x'",
        "DELETE FROM registry_accesslog",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AccessLog.objects.get().reason == "月度上报"


def test_deploy_check_refuses_a_missing_or_readable_keyring(tmp_path, settings) -> None:
    from registry.checks import keyring_is_private

    settings.PLATEGRID_KEYRING = str(tmp_path / "missing.json")
    assert [e.id for e in keyring_is_private()] == ["registry.E001"]
    path = tmp_path / "keys.json"
    crypto.ensure_keyring(path)
    settings.PLATEGRID_KEYRING = str(path)
    assert keyring_is_private() == []
    path.chmod(0o644)
    assert [e.id for e in keyring_is_private()] == ["registry.E002"]


def test_guard_survives_a_connection_opened_inside_pghistory_context() -> None:
    import pghistory

    from registry.privacy import _guard, install_guard

    with pghistory.context(user=None):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # pghistory pushes its wrapper with the first query
        # As if the connection had opened here: connection_created installs the guard now.
        connection.execute_wrappers.remove(_guard)
        install_guard()
    assert connection.execute_wrappers == [_guard]  # pghistory popped its own, not the guard


def test_a_reason_loses_its_control_characters() -> None:
    from registry.privacy import clean_reason

    assert clean_reason("核对\x00租户\n身份") == "核对 租户 身份"
    with pytest.raises(InvalidInputError):
        clean_reason("\x00\x01\x02\x03\x04")


def test_deleting_a_user_keeps_their_follow_ups_without_them(territory: Territory, users) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    person = resident(RoomFactory(building=territory.home_building))
    services.record_follow_up(worker, person, done_on=date(2025, 1, 5), outcome="seen")
    type(worker).objects.filter(pk=worker.pk).delete()  # outside any user context
    with personal(system=True):
        assert list(person.follow_ups.values_list("recorded_by", flat=True)) == [None]


@pytest.mark.parametrize(
    ("typed", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("张三", "张三"),
        (3, 3),
    ],
)
def test_typed_text_stays_text_in_spreadsheets(typed: object, cell: object) -> None:
    from gis.masking import spreadsheet_text

    assert spreadsheet_text(typed) == cell


def test_auditors_see_exports_of_the_nodes_above_their_territory(territory: Territory) -> None:
    from registry.api.people import access_log_for

    auditor = UserFactory(username="aud", grants=[(Role.READ_ONLY, territory.home.code)])
    admin = UserFactory(username="adm", grants=[(Role.DISTRICT_ADMIN, "420606")])
    log_access(
        admin,
        "export",
        "floating register 420606001",
        reason="月度上报",
        community_code="420606001",
    )
    log_access(
        admin, "export", "floating register 420606", reason="月度上报", community_code="420606"
    )
    log_access(
        admin,
        "export",
        "floating register away",
        reason="月度上报",
        community_code=territory.away.code,
    )
    seen = set(access_log_for(auditor, {}).values_list("community_code", flat=True))
    assert seen == {"420606001", "420606"}  # the office and the district cover home; away does not


def test_rotation_reencrypts_the_exchanges_ciphertexts(
    territory: Territory, users, tmp_path, settings, django_capture_on_commit_callbacks
) -> None:
    """``registry_keys rotate`` leaves no exchange ciphertext (a row's identity numbers, a stored
    file) under the old key: the exchange registers them with ``keys.register_ciphertexts``."""
    import io

    from django.core.management import call_command

    from data import exchange
    from data.models import ExchangeRow

    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "keys.json"
    crypto.write_keyring(path, crypto.keyring())
    settings.PLATEGRID_KEYRING = str(path)
    spouse = id_number()
    resident(RoomFactory(building=territory.home_building), name="王强", id_number=spouse)
    number = idnumber.make("420606", date(1990, 5, 5), 12, male=False)
    data = (
        "事件类型,姓名,出生日期,身份证号,住址,事件日期,配偶姓名,配偶身份证号\n"
        f"婚姻登记,李娜,1990-05-05,{number},,2026-11-05,王强,{spouse}\n"
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        job = exchange.submit_exchange(actor=users[Role.STREET_SUPERVISOR], data=data, name="m.csv")
    old = crypto.keyring().current
    assert keys.rows_per_key()[old] >= 4  # the resident's two, the row's two, the file
    out = io.StringIO()
    call_command("registry_keys", "rotate", stdout=out)
    assert "exchange_files: 1" in out.getvalue()
    new = crypto.keyring().current
    assert new != old
    assert exchange.ciphertexts_per_key() == {new: 3}  # counted in rows_per_key (status)
    assert keys.rows_per_key()[new] >= 3 + 2
    with personal(system=True):
        row = ExchangeRow.objects.get(file=job)
    assert crypto.key_of(row.id_number) == new == crypto.key_of(row.other_id_number)
    assert crypto.decrypt(row.other_id_number, context=exchange.OTHER_ID_CONTEXT) == spouse
    job.refresh_from_db()
    assert exchange.read_file(job) == data
    assert not any(keys.reencrypt().values())  # nothing left under an older key
