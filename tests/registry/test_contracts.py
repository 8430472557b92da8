"""Landlord and tenancy contracts: scans checked by their bytes and stored encrypted, served
scoped, with the reveal permission and a reason, logged; the contract rate; the API in and out
of scope."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from gis.exceptions import InvalidInputError, NotFoundError, ScopeError
from gis.models import Role
from registry import contracts, crypto
from registry.models import AccessLog, LandlordContract, TenancyContract
from registry.privacy import personal

from ..conftest import Territory
from ..factories import LandlordFactory, RoomFactory
from .factories import resident

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a scanned contract\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 32


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _upload(data: bytes = PDF, name: str = "张三合同.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


@pytest.fixture
def world(territory: Territory):
    """A landlord with a rented room and a tenant in each community."""
    out = {}
    for side, community, building in (
        ("home", territory.home, territory.home_building),
        ("away", territory.away, territory.away_building),
    ):
        landlord = LandlordFactory(community=community, name=f"{side}房东")
        room = RoomFactory(building=building, use="rented_whole", landlord=landlord)
        out[side] = {
            "landlord": landlord,
            "room": room,
            "tenant": resident(room, name=f"{side}租户", category="floating"),
        }
    return out


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# -- scans


@pytest.mark.parametrize(
    ("data", "media"), [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")]
)
def test_scan_types_by_their_bytes(data: bytes, media: str) -> None:
    assert contracts.check_scan(_upload(data, "whatever.txt")) == (data, media)


def test_other_files_and_large_ones_are_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        contracts.check_scan(_upload(b"<html>%PDF-", "contract.pdf"))  # the name does not count
    assert caught.value.code == "scan_type"
    with pytest.raises(InvalidInputError) as caught:
        contracts.check_scan(_upload(PDF + b"\0" * contracts.MAX_SCAN_BYTES))
    assert caught.value.code == "scan_too_large"
    assert "10 MB" in caught.value.render("en") and "10" in caught.value.render("zh-hans")


def test_scan_is_stored_encrypted_under_a_random_name(
    territory: Territory, users, world, media: Path
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    contract = contracts.create_landlord_contract(
        worker, world["home"]["landlord"], signed_on=date(2025, 1, 10), scan=_upload()
    )
    stored = media / contract.scan.name
    sealed = stored.read_bytes()
    assert b"%PDF" not in sealed and "张三" not in contract.scan.name
    assert contract.scan.name.startswith(f"registry/scans/landlordcontract/{territory.home.code}/")
    assert crypto.decrypt_bytes(sealed, context="landlordcontract.scan") == PDF
    with pytest.raises(crypto.KeyringError):  # bound to its kind of contract
        crypto.decrypt_bytes(sealed, context="tenancycontract.scan")
    assert contract.scan_type == "application/pdf"


def test_scan_file_needs_scope_and_a_reason_and_is_logged(
    territory: Territory, users, world
) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    home = contracts.create_landlord_contract(
        None, world["home"]["landlord"], signed_on=date(2025, 1, 10), scan=_upload()
    )
    away = contracts.create_landlord_contract(
        None, world["away"]["landlord"], signed_on=date(2025, 1, 10), scan=_upload(PNG)
    )
    with pytest.raises(InvalidInputError):
        contracts.scan_file(worker, LandlordContract, home.pk, reason="")
    with pytest.raises(NotFoundError):
        contracts.scan_file(worker, LandlordContract, away.pk, reason="核对合同原件")
    assert not AccessLog.objects.exists()
    data, media, name = contracts.scan_file(
        worker, LandlordContract, home.pk, reason="核对合同原件", path="/x"
    )
    assert (data, media, name) == (PDF, "application/pdf", f"landlordcontract-{home.pk}.pdf")
    log = AccessLog.objects.get()
    assert (log.action, log.object_id, log.community_code, log.rows) == (
        "export",
        home.pk,
        territory.home.code,
        1,
    )


def test_replacing_a_scan_deletes_the_old_file(territory: Territory, users, world, media) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    contract = contracts.create_landlord_contract(
        worker, world["home"]["landlord"], signed_on=date(2025, 1, 10), scan=_upload()
    )
    old = media / contract.scan.name
    contracts.update_contract(worker, contract, scan=_upload(PNG))
    assert not old.exists() and (media / contract.scan.name).exists()
    assert contract.scan_type == "image/png"


# -- writes


def test_dates_and_ending(territory: Territory, users, world) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    landlord = world["home"]["landlord"]
    with pytest.raises(InvalidInputError) as caught:
        contracts.create_landlord_contract(
            worker, landlord, signed_on=date(2025, 1, 10), expires_on=date(2025, 1, 10)
        )
    assert caught.value.code == "expires_before_signing"
    with pytest.raises(InvalidInputError) as caught:
        contracts.create_landlord_contract(worker, landlord, signed_on=date(2999, 1, 1))
    assert caught.value.code == "future"
    contract = contracts.create_landlord_contract(worker, landlord, signed_on=date(2025, 1, 10))
    contracts.end_contract(worker, contract, on=date(2025, 6, 30))
    with personal(worker):
        assert LandlordContract.objects.valid_on(date(2025, 6, 30)).filter(pk=contract.pk)
        assert not LandlordContract.objects.valid_on(date(2025, 7, 1)).filter(pk=contract.pk)
        assert [e.pgh_label for e in contract.events.order_by("pgh_id")] == ["insert", "update"]
    with pytest.raises(InvalidInputError) as caught:
        contracts.end_contract(worker, contract, on=date(2025, 8, 1))
    assert caught.value.code == "ends_after_expiry"


def test_writes_are_scoped(territory: Territory, users, world) -> None:
    with pytest.raises(ScopeError):
        contracts.create_landlord_contract(
            users[Role.READ_ONLY], world["home"]["landlord"], signed_on=date(2025, 1, 10)
        )
    with pytest.raises(ScopeError):
        contracts.create_landlord_contract(
            users[Role.COMMUNITY_WORKER], world["away"]["landlord"], signed_on=date(2025, 1, 10)
        )
    with pytest.raises(NotFoundError):
        contracts.visible_landlord(users[Role.COMMUNITY_WORKER], world["away"]["landlord"].pk)
    with pytest.raises(NotFoundError):
        contracts.visible_tenant(users[Role.COMMUNITY_WORKER], world["away"]["tenant"].pk)


def test_tenancy_contract_is_for_a_rented_room(territory: Territory, users, world) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    home = world["home"]
    contract = contracts.create_tenancy_contract(
        worker, home["room"], home["tenant"], signed_on=date(2025, 2, 1)
    )
    assert (contract.landlord, contract.community_code) == (home["landlord"], territory.home.code)
    own_room = RoomFactory(building=territory.home_building, use="owner_occupied")
    with pytest.raises(InvalidInputError) as caught:
        contracts.create_tenancy_contract(
            worker, own_room, home["tenant"], signed_on=date(2025, 2, 1)
        )
    assert caught.value.code == "room_not_rented"
    with pytest.raises(InvalidInputError) as caught:
        contracts.create_tenancy_contract(
            worker,
            home["room"],
            home["tenant"],
            signed_on=date(2025, 2, 1),
            landlord=world["away"]["landlord"],
        )
    assert caught.value.code == "landlord_elsewhere"
    with pytest.raises(InvalidInputError) as caught:  # a tenant on file in another community
        contracts.create_tenancy_contract(
            users[Role.STREET_SUPERVISOR],
            home["room"],
            world["away"]["tenant"],
            signed_on=date(2025, 2, 1),
        )
    assert caught.value.code == "tenant_elsewhere"


# -- the contract rate


def test_contract_rate_per_community(territory: Territory, users, world) -> None:
    home = world["home"]
    day = date(2025, 6, 1)
    unsigned = LandlordFactory(community=territory.home, name="未签房东")
    RoomFactory(building=territory.home_building, use="rented_shared", landlord=unsigned)
    LandlordFactory(community=territory.home, name="自住房东")  # no rented room: not counted
    RoomFactory(building=territory.home_building, use="owner_occupied")
    expired_room = RoomFactory(building=territory.home_building, use="rented_whole")
    contracts.create_landlord_contract(None, home["landlord"], signed_on=date(2025, 1, 1))
    contracts.create_tenancy_contract(
        None, home["room"], home["tenant"], signed_on=date(2025, 1, 1)
    )
    contracts.create_tenancy_contract(
        None,
        expired_room,
        home["tenant"],
        signed_on=date(2024, 1, 1),
        expires_on=date(2024, 12, 31),
    )
    contracts.create_landlord_contract(None, world["away"]["landlord"], signed_on=date(2025, 1, 1))

    found = contracts.contract_rate(users[Role.STREET_SUPERVISOR], territory.office.code, on=day)
    rows = {row.code: row.as_body() for row in found.communities}
    assert rows[territory.home.code] | {"name": ""} == {
        "code": territory.home.code,
        "name": "",
        "landlords": 2,
        "landlords_signed": 1,
        "landlord_rate": 0.5,
        "rented_rooms": 3,
        "rooms_with_contract": 1,
        "tenancy_rate": 0.3333,
    }
    assert rows[territory.away.code]["landlord_rate"] == 1.0
    assert rows[territory.away.code]["tenancy_rate"] == 0.0
    body = found.as_body()
    assert (body["landlords"], body["landlords_signed"], body["rented_rooms"]) == (3, 2, 4)

    worker = users[Role.COMMUNITY_WORKER]
    mine = contracts.contract_rate(worker, territory.office.code, on=day)
    assert [row.code for row in mine.communities] == [territory.home.code]
    with pytest.raises(NotFoundError):
        contracts.contract_rate(worker, territory.away.code, on=day)


# -- the API


def test_api_landlord_contract_round_trip(territory: Territory, users, world) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    client = _client(worker)
    created = client.post(
        "/api/registry/landlord-contracts/",
        {
            "landlord": world["home"]["landlord"].pk,
            "signed_on": "2025-01-10",
            "expires_on": "2027-01-09",
            "scan": _upload(),
        },
        format="multipart",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["scan"] and body["scan_type"] == "application/pdf"
    assert body["landlord"]["id"] == world["home"]["landlord"].pk
    pk = body["id"]
    listed = client.get("/api/registry/landlord-contracts/", {"code": territory.home.code})
    assert [c["id"] for c in listed.json()["results"]] == [pk]
    ended = client.patch(
        f"/api/registry/landlord-contracts/{pk}/", {"end_on": "2025-12-31"}, format="json"
    )
    assert ended.status_code == 200 and ended.json()["expires_on"] == "2025-12-31"

    scan_url = body["scan_url"]
    assert client.get(scan_url, {"reason": "核对合同原件"}).status_code == 403  # no reveal right
    worker.user_permissions.add(Permission.objects.get(codename="reveal_resident"))
    client = _client(type(worker).objects.get(pk=worker.pk))
    no_reason = client.get(scan_url)
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "reason_required"
    response = client.get(scan_url, {"reason": "核对合同原件"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    assert response["Cache-Control"] == "private, no-store"
    assert AccessLog.objects.get().reason == "核对合同原件"


def test_api_out_of_scope_is_404(territory: Territory, users, world) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    worker.user_permissions.add(Permission.objects.get(codename="reveal_resident"))
    away = world["away"]
    landlord_contract = contracts.create_landlord_contract(
        None, away["landlord"], signed_on=date(2025, 1, 10), scan=_upload()
    )
    tenancy = contracts.create_tenancy_contract(
        None, away["room"], away["tenant"], signed_on=date(2025, 1, 10), scan=_upload(PNG)
    )
    client = _client(worker)
    for kind, pk in (
        ("landlord-contracts", landlord_contract.pk),
        ("tenancy-contracts", tenancy.pk),
    ):
        assert client.get(f"/api/registry/{kind}/{pk}/").status_code == 404
        assert (
            client.get(f"/api/registry/{kind}/{pk}/scan/", {"reason": "核对合同原件"}).status_code
            == 404
        )
        patched = client.patch(f"/api/registry/{kind}/{pk}/", {"end_on": "2025-12-31"})
        assert patched.status_code == 404
        assert client.get(f"/api/registry/{kind}/").json()["count"] == 0
        assert (
            client.get(f"/api/registry/{kind}/", {"code": territory.away.code}).status_code == 404
        )
    assert not AccessLog.objects.exists()
    posted = client.post(
        "/api/registry/tenancy-contracts/",
        {"room": world["home"]["room"].pk, "tenant": away["tenant"].pk, "signed_on": "2025-01-10"},
        format="json",
    )
    assert posted.status_code == 404
    posted = client.post(
        "/api/registry/landlord-contracts/",
        {"landlord": away["landlord"].pk, "signed_on": "2025-01-10"},
        format="json",
    )
    assert posted.status_code == 404
    rate = client.get("/api/registry/contract-rate/", {"code": territory.away.code})
    assert rate.status_code == 404
    # The supervisor of the office sees both.
    supervisor = _client(users[Role.STREET_SUPERVISOR])
    assert supervisor.get(f"/api/registry/tenancy-contracts/{tenancy.pk}/").status_code == 200


def test_api_tenancy_contract_masks_the_tenant(territory: Territory, users, world) -> None:
    client = _client(users[Role.COMMUNITY_WORKER])
    home = world["home"]
    created = client.post(
        "/api/registry/tenancy-contracts/",
        {"room": home["room"].pk, "tenant": home["tenant"].pk, "signed_on": "2025-01-10"},
        format="json",
    )
    assert created.status_code == 201, created.content
    tenant = created.json()["tenant"]
    assert "*" in tenant["id_number_masked"] and set(tenant) == {
        "id",
        "name",
        "id_number_masked",
        "in_territory",
    }
    assert created.json()["scan_url"] is None
    with personal(users[Role.COMMUNITY_WORKER]):
        assert TenancyContract.objects.get().tenant_id == home["tenant"].pk


def test_api_read_only_cannot_write(territory: Territory, users, world) -> None:
    client = _client(users[Role.READ_ONLY])
    posted = client.post(
        "/api/registry/landlord-contracts/",
        {"landlord": world["home"]["landlord"].pk, "signed_on": "2025-01-10"},
        format="json",
    )
    assert posted.status_code == 403


@pytest.mark.parametrize(
    ("landlord", "signed_on", "code"),
    [
        (None, "2025-01-10", "bad_id"),
        ("x", "2025-01-10", "bad_id"),
        (10**30, "2025-01-10", "bad_id"),
        ("home", "2025-02-30", "bad_date"),
    ],
)
def test_api_bad_bodies(territory: Territory, users, world, landlord, signed_on, code) -> None:
    body = {"signed_on": signed_on}
    if landlord is not None:
        body["landlord"] = world["home"]["landlord"].pk if landlord == "home" else landlord
    response = _client(users[Role.COMMUNITY_WORKER]).post(
        "/api/registry/landlord-contracts/", body, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == code
    assert response.json()["detail_zh"] and response.json()["detail_en"]
